"""The ladder of ``coderag eval``: scoring a search function, sampling, capping, baselines."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from app.eval import ladder
from app.eval.metrics import METRICS
from app.eval.queryset import cap
from app.retrieval.models import SearchOptions

SPAN_A = {"path": "a.py", "start_line": 10, "end_line": 20}
RECORDS: list[dict[str, Any]] = [
    {"id": "r:nl:1", "corpus": "r", "type": "nl", "query": "q1", "targets": [SPAN_A]},
    {"id": "r:symbol:2", "corpus": "r", "type": "symbol", "query": "q2", "targets": [
        {"path": "a.py", "start_line": 1, "end_line": 5},
        {"path": "b.py", "start_line": 1, "end_line": 5},
    ]},
    {"id": "r:file:3", "corpus": "r", "type": "file", "query": "q3", "targets": [{"path": "z.py"}]},
    {"id": "r:commit:4", "corpus": "r", "type": "commit", "query": "q4",
     "targets": [{"path": "a.py"}, {"path": "c.py"}]},
    {"id": "r:nl:5", "corpus": "r", "type": "nl", "query": "q5", "targets": [SPAN_A]},
]  # fmt: skip
HITS: dict[str, list[tuple[str, int, int]]] = {
    "q1": [("x.py", 1, 5), ("a.py", 12, 14)],
    "q2": [("b.py", 2, 3), ("c.py", 1, 1), ("a.py", 4, 4)],
    "q3": [],
    "q4": [("x.py", 1, 1)] * 4 + [("c.py", 1, 2)] + [("y.py", 1, 1)] * 5 + [("a.py", 1, 1)] * 5,
    "q5": [("a.py", 1, 9), ("a.py", 20, 30)],
}
MS = {"q1": 10.0, "q2": 20.0, "q3": 30.0, "q4": 40.0, "q5": 100.0}
"""What each query costs on the fake clock."""
L2, L3 = 1 / math.log2(3), 1 / math.log2(4)
EXPECTED = {  # hand-computed: ndcg@10, r@1, r@5, r@10, mrr@10
    "q1": (L2, 0.0, 1.0, 1.0, 0.5),
    "q2": ((1 + L3) / (1 + L2), 0.5, 1.0, 1.0, 1.0),
    "q3": (0.0, 0.0, 0.0, 0.0, 0.0),
    "q4": ((1 / math.log2(6)) / (1 + L2), 0.0, 0.5, 0.5, 0.2),  # a.py only past rank 10
    "q5": (L2, 1.0, 1.0, 1.0, 1.0),  # right file at rank 1, the span only at rank 2
}


class FakeClock:
    """``time.perf_counter`` that the fake search advances by each query's cost."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(ladder.time, "perf_counter", fake)
    return fake


def fake_search(clock: FakeClock, hits: dict[str, list[tuple[str, int, int]]] = HITS):
    def search(text: str) -> list[tuple[str, int, int]]:
        clock.now += MS[text] / 1000
        return hits[text]

    return search


def test_evaluate_gives_the_hand_computed_metrics(clock):
    ticks: list[int] = []
    result = ladder.evaluate(fake_search(clock), RECORDS, on_query=lambda: ticks.append(1))
    assert len(ticks) == len(RECORDS)
    rows = {r["id"].rsplit(":", 1)[1]: r for r in result["queries"]}
    for rec in RECORDS:
        row = rows[rec["id"].rsplit(":", 1)[1]]
        want = dict(zip(METRICS, EXPECTED[rec["query"]], strict=True))
        for metric, value in want.items():
            assert row[metric] == pytest.approx(value, abs=1e-4), (rec["query"], metric)
        assert row["type"] == rec["type"] and row["corpus"] == "r"
        assert row["ms"] == MS[rec["query"]]
    q4 = rows["4"]
    assert len(q4["hits"]) == ladder.K and q4["hits"][4] == "c.py:1-2"  # top 10 only
    assert rows["1"]["hits"] == ["x.py:1-5", "a.py:12-14"]
    mean = result["summary"]["mean"]
    assert mean["n"] == 5
    assert mean["ndcg@10"] == pytest.approx(sum(e[0] for e in EXPECTED.values()) / 5, abs=1e-4)
    assert mean["mrr@10"] == pytest.approx((0.5 + 1 + 0 + 0.2 + 1) / 5, abs=1e-4)
    assert result["by_type"]["nl"]["mean"]["ndcg@10"] == pytest.approx(L2, abs=1e-4)
    assert result["by_type"]["nl"]["mean"]["n"] == 2
    assert set(result["by_type"]) == {"nl", "symbol", "file", "commit"}
    # latency: mean 40 ms; p50 and p95 by nearest rank over 10, 20, 30, 40, 100
    assert (result["latency_ms"], result["p50_ms"], result["p95_ms"]) == (40.0, 30.0, 100.0)


def test_evaluate_averages_per_corpus_then_over_corpora(clock):
    other = {**RECORDS[0], "id": "s:nl:1", "corpus": "s", "query": "q3"}
    searches = {"r": fake_search(clock), "s": fake_search(clock, {"q3": [("a.py", 15, 15)]})}
    result = ladder.evaluate(searches, [RECORDS[0], RECORDS[2], other])
    per = result["summary"]["per_corpus"]
    assert per["r"]["ndcg@10"] == pytest.approx(L2 / 2, abs=1e-4) and per["r"]["n"] == 2
    assert per["s"]["ndcg@10"] == 1.0 and per["s"]["n"] == 1
    assert result["summary"]["mean"]["ndcg@10"] == pytest.approx((L2 / 2 + 1) / 2, abs=1e-4)
    assert result["summary"]["mean"]["n"] == 3


def test_percentile_by_nearest_rank():
    assert ladder.percentile([], 0.5) == 0.0
    assert ladder.percentile([7.0], 0.95) == 7.0
    values = [float(v) for v in range(101, 0, -1)]  # order does not matter
    assert ladder.percentile(values, 0.5) == 51.0  # the median
    assert ladder.percentile(values, 0.95) == 96.0
    assert ladder.percentile(values, 0.0) == 1.0 and ladder.percentile(values, 1.0) == 101.0


def test_same_subset_scores_another_rung_on_the_llm_sample(clock):
    full = ladder.evaluate(fake_search(clock), RECORDS)
    base = ladder.same_subset(full["queries"], ["r:nl:1", "r:file:3", "not-there"])
    assert base["summary"]["mean"]["n"] == 2
    assert base["summary"]["mean"]["ndcg@10"] == pytest.approx(L2 / 2, abs=1e-4)
    assert [r["id"] for r in base["queries"]] == ["r:nl:1", "r:file:3"]
    assert base["p95_ms"] == 30.0 and set(base["by_type"]) == {"nl", "file"}
    assert base["summary"]["mean"]["mrr@10"] == pytest.approx(0.25)
    assert sorted(r["ms"] for r in base["queries"]) == [10.0, 30.0]  # their own timings


def records(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"id": f"c:{kind}:{i:03d}", "corpus": "c", "type": kind, "query": f"{kind} {i}",
         "targets": [{"path": "a.py"}]}
        for kind, n in counts.items() for i in range(n)
    ]  # fmt: skip


def test_cap_keeps_type_shares_and_is_deterministic():
    pool = records({"nl": 40, "symbol": 20, "file": 10, "mixed": 10})
    kept = cap(pool, 40, seed=1)
    assert Counter(r["type"] for r in kept) == {"nl": 20, "symbol": 10, "file": 5, "mixed": 5}
    assert len({r["id"] for r in kept}) == 40
    shuffled = list(pool)
    random.Random(3).shuffle(shuffled)
    assert cap(shuffled, 40, seed=1) == kept  # input order does not matter
    assert cap(pool, 40, seed=2) != kept  # the seed picks
    assert cap(pool, 80, seed=1) == pool and cap(pool, 500, seed=1) is not pool
    # a rare type keeps at least one query
    rare = cap(records({"nl": 98, "commit": 2}), 10, seed=1)
    assert Counter(r["type"] for r in rare)["commit"] == 1 and len(rare) == 10


def test_llm_subset_picks_only_the_types_the_llm_steps_serve():
    pool = records({"nl": 5, "symbol": 30, "mixed": 2, "file": 2, "commit": 2})
    picked = ladder.llm_subset(pool, 8, seed=7)
    assert len(picked) == 8
    assert {r["type"] for r in picked} <= {"nl", "mixed", "file", "commit"}
    assert len({r["id"] for r in picked}) == 8
    assert ladder.llm_subset(list(reversed(pool)), 8, seed=7) == picked
    every = ladder.llm_subset(pool, 100, seed=7)
    assert Counter(r["type"] for r in every) == {"nl": 5, "mixed": 2, "file": 2, "commit": 2}
    assert ladder.llm_subset(records({"symbol": 5}), 3, seed=7) == []


@dataclass
class FakeHit:
    path: str
    start_line: int
    end_line: int


def test_search_fn_runs_the_searcher_with_the_rung_options():
    calls: list[tuple[str, SearchOptions]] = []

    class Searcher:
        def search(self, text: str, options: SearchOptions) -> list[FakeHit]:
            calls.append((text, options))
            return [FakeHit("a.py", 1, 3), FakeHit("b.py", 4, 9)]

    fn = ladder.search_fn(Searcher(), ladder.RUNGS["bm25"])
    assert fn("retry uploads") == [("a.py", 1, 3), ("b.py", 4, 9)]
    ((text, opts),) = calls
    assert text == "retry uploads" and opts.k == ladder.K
    assert opts.lanes == ("lexical",) and not opts.expand and opts.rerank == "none"
    assert ladder.RUNGS["+rerank"] == SearchOptions(group_by="chunk")  # the default pipeline
    assert list(ladder.RUNGS) == ["bm25", "dense", "hybrid", "+graph", "+rerank"]
