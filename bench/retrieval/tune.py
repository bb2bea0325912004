"""Tune the feature reranker's weights on the dev half of the benchmark (never the test half).

Usage: ``.venv/bin/python bench/retrieval/tune.py [--corpora a,b] [--passes 3]``

Each dev query is searched once; its candidates' features are kept as matrices, and coordinate
ascent then tries, weight by weight, a few multiples of the current value, keeping a change only
when the mean NDCG@10 over corpora rises. Prints the weights (to paste into
``app/retrieval/rank.py`` ``DEFAULT_WEIGHTS``) and writes ``bench/results/tuning.json``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import corpora  # noqa: E402
import queries as query_sets  # noqa: E402
import run as ladder  # noqa: E402

from app.eval import metrics  # noqa: E402
from app.retrieval.models import SearchOptions  # noqa: E402
from app.retrieval.rank import DEFAULT_WEIGHTS, FEATURES, PENALTIES  # noqa: E402
from app.retrieval.search import Searcher  # noqa: E402

PARAMS = (*FEATURES, *PENALTIES)
START_WEIGHTS: dict[str, float] = {
    **{name: 0.3 for name in FEATURES},
    "rrf": 1.0,
    "def_exact_sym": 2.0,
    "def_exact_nl": 0.4,
    "def_norm": 0.5,
    "member": 0.5,
    "expanded": 0.0,
    "test": 1.0,
    "example": 0.7,
    "reexport": 0.5,
    "stub": 0.5,
    "compat": 0.3,
    "prose": 0.7,
}
"""Where tuning starts: the design's priors (definitions up, tests and shims down)."""
MIN_GAIN = 0.002
"""A change must lift mean dev NDCG@10 by this much (about one query moving up in one corpus),
so weights of features the benchmark barely exercises keep their designed values."""
SIGNED = frozenset({"expanded", "prior", "coherence", "code", "path"})
"""Features that may also count against a candidate."""


class Query:
    """One dev query's candidates as matrices."""

    def __init__(self, record: dict[str, Any], cands: list[Any]) -> None:
        self.record = record
        self.corpus = record["corpus"]
        self.hits = [(c.meta.path, c.meta.start_line, c.meta.end_line) for c in cands]
        self.files = [c.meta.path for c in cands]
        self.lin = np.array([[c.features.get(f, 0.0) for f in FEATURES] for c in cands])
        self.pen = np.array([[c.features.get(f, 0.0) for f in PENALTIES] for c in cands])

    def ndcg(self, w_lin: np.ndarray, w_pen: np.ndarray, decay: float) -> float:
        if not self.hits:
            return 0.0
        score = np.exp(self.lin @ w_lin - self.pen @ w_pen)
        order = np.argsort(-score, kind="stable")
        if decay < 1.0:
            seen: dict[str, int] = defaultdict(int)
            adj = score.copy()
            for i in order:
                adj[i] *= decay ** seen[self.files[i]]
                seen[self.files[i]] += 1
            order = np.argsort(-adj, kind="stable")
        top = [self.hits[i] for i in order[:10]]
        return metrics.ndcg_at_k(top, self.record["targets"], 10)


def objective(qs: list[Query], weights: dict[str, float], decay: float) -> float:
    w_lin = np.array([weights[f] for f in FEATURES])
    w_pen = np.array([weights[f] for f in PENALTIES])
    per: dict[str, list[float]] = defaultdict(list)
    for q in qs:
        per[q.corpus].append(q.ndcg(w_lin, w_pen, decay))
    return float(np.mean([np.mean(v) for v in per.values()]))


def collect(selected: list[corpora.Corpus], split: str) -> list[Query]:
    out: list[Query] = []
    for corpus in selected:
        services, _ = ladder._index(corpus)
        searcher = Searcher(services)
        for record in query_sets.load([corpus.name], split):
            cands = searcher.candidates(record["query"], SearchOptions(group_by="chunk"))
            out.append(Query(record, cands))
    return out


def tune(
    qs: list[Query], passes: int, start: dict[str, float]
) -> tuple[dict[str, float], float, float]:
    weights = dict(start)
    decay = 1.0
    best = objective(qs, weights, decay)
    print(f"start ndcg@10 {best:.4f}")
    for p in range(passes):
        improved = False
        for name in (*PARAMS, "decay"):
            cur = decay if name == "decay" else weights[name]
            if name == "decay":
                trials = [0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0]
            else:
                trials = sorted({0.0, cur * 0.5, cur * 0.75, cur * 1.5, cur * 2.0, cur + 0.2})
                if name in SIGNED:
                    trials = sorted({*trials, cur - 0.2, -0.1, -0.3})
            for v in trials:
                if name == "decay":
                    got = objective(qs, weights, v)
                else:
                    got = objective(qs, {**weights, name: v}, decay)
                if got > best + MIN_GAIN:
                    best, improved = got, True
                    if name == "decay":
                        decay = v
                    else:
                        weights[name] = round(v, 3)
        print(f"pass {p + 1}: ndcg@10 {best:.4f}")
        if not improved:
            break
    return weights, decay, best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default=None)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument(
        "--from-priors", action="store_true", help="start from the design priors, not the defaults"
    )
    ap.add_argument(
        "--cache", type=Path, help="pickle of the collected candidates (reused if it exists)"
    )
    args = ap.parse_args()
    selected = corpora.select(args.corpora)
    if args.cache and args.cache.exists():
        dev, test = pickle.loads(args.cache.read_bytes())
    else:
        dev, test = collect(selected, "dev"), collect(selected, "test")
        if args.cache:
            args.cache.write_bytes(pickle.dumps((dev, test)))
    base_dev = objective(dev, dict(DEFAULT_WEIGHTS), 1.0)
    base_test = objective(test, dict(DEFAULT_WEIGHTS), 1.0)
    start = START_WEIGHTS if args.from_priors else DEFAULT_WEIGHTS
    weights, decay, best = tune(dev, args.passes, {**START_WEIGHTS, **start})
    doc = {
        "dev_queries": len(dev),
        "before": {"dev": round(base_dev, 4), "test": round(base_test, 4)},
        "after": {"dev": round(best, 4), "test": round(objective(test, weights, decay), 4)},
        "weights": weights,
        "file_decay": decay,
    }
    print(json.dumps(doc, indent=2))
    (ladder.RESULTS / "tuning.json").write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
