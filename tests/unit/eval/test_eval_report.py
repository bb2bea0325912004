"""Rendering ``coderag eval`` results: the Markdown table, the JSON document, the PNG plots."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.eval import ladder, report

PNG = b"\x89PNG\r\n\x1a\n"
RECORDS = [
    {"id": "shop:nl:Cart.add", "corpus": "shop", "type": "nl", "language": "python",
     "query": "Append one product to the café cart",
     "targets": [{"path": "shop/cart.py", "start_line": 10, "end_line": 12}]},
    {"id": "shop:symbol:Cart", "corpus": "shop", "type": "symbol", "language": "python",
     "query": "Cart", "targets": [{"path": "shop/cart.py", "start_line": 4, "end_line": 16}]},
    {"id": "shop:commit:0123456789ab", "corpus": "shop", "type": "commit",
     "query": "hash passwords before storing accounts", "targets": [{"path": "shop/users.py"}]},
]  # fmt: skip


def rung(ndcg: list[float], ms: list[float]) -> dict[str, Any]:
    """A rung result as ``ladder.evaluate`` makes it, one row per record."""
    rows = [
        {"id": r["id"], "corpus": "shop", "type": r["type"], "ms": t, "ndcg@10": v,
         "r@1": v, "r@5": 1.0, "r@10": 1.0, "mrr@10": v, "hits": [f"shop/cart.py:1-{i + 1}"]}
        for i, (r, v, t) in enumerate(zip(RECORDS, ndcg, ms, strict=False))
    ]  # fmt: skip
    return ladder.summarise(rows)


def make_doc(*, llm: bool = True) -> dict[str, Any]:
    rungs = {
        "bm25": rung([1.0, 0.5, 0.0], [0.3, 0.4, 0.5]),
        "dense": rung([0.5, 0.5, 0.5], [1.0, 2.0, 3.0]),
        "+rerank": rung([1.0, 1.0, 0.5], [8.0, 9.0, 30.0]),
    }
    doc: dict[str, Any] = {
        "meta": {"repo": "/somewhere/shop", "date": "2026-11-23T12:00:00+00:00", "k": 10,
                 "machine": {"cpus": 2}, "options": {"llm": llm}, "seconds": 3.5,
                 "timings": {"index_s": 1.0}},
        "corpus": {"files": 2, "chunks": 4, "stripped_files": 2, "blanked_lines": 9,
                   "unstripped": [["bad.py", "bad.py: no longer compiles"]]},
        "queries": {"total": 3, "by_type": {"nl": 1, "symbol": 1, "commit": 1},
                    "notes": ["go: no queries mined (ValueError: odd)"]},
        "rungs": rungs,
        "llm": None,
        "records": RECORDS,
    }  # fmt: skip
    if llm:
        sample = ["shop:nl:Cart.add", "shop:commit:0123456789ab"]
        rungs[ladder.LLM_RUNG] = ladder.same_subset(
            rung([0.25, 0.0, 1.0], [900.0, 0.0, 1200.0])["queries"], sample
        )
        base = ladder.same_subset(rungs["+rerank"]["queries"], sample)
        doc["llm"] = {
            "queries": 2, "llm": "embedded", "baseline_rung": "+rerank",
            "baseline": {k: v for k, v in base.items() if k != "queries"},
        }  # fmt: skip
    return doc


def table_rows(text: str) -> list[list[str]]:
    """The cells of the first Markdown table's body."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| rung | queries |"))
    body = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        body.append([c.strip() for c in line.strip("|").split("|")])
    return body


def test_markdown_has_a_row_per_rung_and_the_same_sample_baseline():
    text = report.markdown(make_doc())
    body = table_rows(text)
    assert [r[0] for r in body] == ["bm25", "dense", "+rerank", "+llm steps", "+rerank (same 2)"]
    by_name = {r[0]: r for r in body}
    assert by_name["bm25"][1:3] == ["3", "0.500"]  # queries, NDCG@10
    assert by_name["+llm steps"][1:3] == ["2", "0.625"]  # mean of 0.25 and 1.0
    assert by_name["+rerank (same 2)"][1:3] == ["2", "0.750"]  # mean of 1.0 and 0.5
    assert by_name["+rerank"][-2:] == ["9.0", "30.0"]  # p50, p95 ms
    assert "Retrieval on `shop` (2 files, 4 chunks; docs stripped from 2 files)" in text
    assert "3 queries (1 commit, 1 nl, 1 symbol)" in text
    assert "- note: go: no queries mined (ValueError: odd)" in text
    # NDCG by type: a type a rung did not run shows as "-"
    by_type = text.split("NDCG@10 by query type:")[1]
    assert "| rung | commit | nl | symbol |" in by_type
    assert "| +llm steps | 1.000 | 0.250 | - |" in by_type


def test_markdown_without_the_llm_rung_has_no_baseline_row():
    doc = make_doc(llm=False)
    assert [r[0] for r in table_rows(report.markdown(doc))] == ["bm25", "dense", "+rerank"]
    doc["llm"] = {"queries": 0, "skipped": "no natural-language queries to run the LLM steps on"}
    text = report.markdown(doc)
    assert [r[0] for r in table_rows(text)] == ["bm25", "dense", "+rerank"]
    assert "LLM rung skipped: no natural-language queries" in text


def test_rows_carry_every_metric():
    rows = report.rows(make_doc())
    assert [r["rung"] for r in rows][-1] == "+rerank (same 2)"
    for row in rows:
        assert set(row) == {"rung", "n", *report.COLUMNS, "p50_ms", "p95_ms"}
        assert all(0.0 <= row[m] <= 1.0 for m in report.COLUMNS)


def test_to_json_round_trips_with_one_line_per_query_row():
    doc = make_doc()
    doc["rungs"]["empty"] = ladder.summarise([])
    text = report.to_json(doc)
    back = json.loads(text)
    assert back["rungs"] == doc["rungs"]
    assert list(back["rungs"]) == list(doc["rungs"])  # rung order kept
    assert back["records"] == doc["records"]
    assert {k: back[k] for k in ("meta", "corpus", "queries", "llm")} == {
        k: doc[k] for k in ("meta", "corpus", "queries", "llm")
    }
    assert "Append one product to the café cart" in text  # not \u-escaped
    lines = text.splitlines()
    for row in doc["rungs"]["bm25"]["queries"]:
        assert sum(json.dumps(row["id"]) in line for line in lines) >= 1
    query_lines = [line for line in lines if line.startswith('    {"id":')]
    assert len(query_lines) == 3 * 3 + 2  # one line per row of each rung
    assert len([line for line in lines if line.startswith('  {"id":')]) == len(RECORDS)
    assert json.loads(report.to_json({**make_doc(llm=False), "records": []}))["records"] == []


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """``report.write`` run once (the plots take seconds)."""
    out = tmp_path_factory.mktemp("eval") / "results"
    return out, report.write(make_doc(), out)


def test_plot_writes_two_pngs(written):
    out, paths = written
    assert [paths["plot"], paths["latency_plot"]] == [out / "eval.png", out / "eval_latency.png"]
    for path in (paths["plot"], paths["latency_plot"]):
        data = path.read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000


def test_write_puts_json_and_markdown_in_the_folder(written):
    out, paths = written
    doc = make_doc()
    assert set(paths) == {"json", "markdown", "plot", "latency_plot"}
    assert paths["json"] == out / "eval.json" and paths["markdown"] == out / "eval.md"
    assert json.loads(paths["json"].read_text())["rungs"] == doc["rungs"]
    md = paths["markdown"].read_text()
    assert md == "# coderag eval\n\n" + report.markdown(doc)
