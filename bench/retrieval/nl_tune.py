"""Tune file-aware ranking on the DEV half of the natural-language set (never on test).

Loads the eight indexed corpora once (run ``bench/retrieval/nl.py`` first: it builds them),
then scores a grid of grouping settings on the dev questions: NDCG@10 (file credit), mean over
corpora, overall and per category. Prints the grid best first; writes nothing.

Usage: python bench/retrieval/nl_tune.py [--split dev] [--grid support=0,0.5,1 decay=0,0.3]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import nl  # noqa: E402

from app.retrieval.models import SearchOptions  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="dev")
    ap.add_argument("--full", action="store_true", help="whole trees (see nl.py --full)")
    ap.add_argument("--group", default="chunk,file,auto")
    ap.add_argument("--grid", nargs="*", default=["file_support=0,0.25,0.5,1",
                                                  "file_decay=0,0.3"])  # fmt: skip
    args = ap.parse_args()
    names = sorted(p.stem for p in nl.SETS.glob("*.jsonl"))
    loaded: dict[str, tuple[Any, list[dict[str, Any]]]] = {}
    for name in names:
        searcher, _ = nl.searcher_for(name, args.full)
        rows = [r for r in nl.load(name, args.full)
                if args.split == "all" or r["split"] == args.split]  # fmt: skip
        loaded[name] = (searcher, rows)
    keys = [g.split("=")[0] for g in args.grid]
    values = [[float(v) for v in g.split("=")[1].split(",")] for g in args.grid]
    results = []
    for group in args.group.split(","):
        for combo in itertools.product(*values):
            update = dict(zip(keys, combo, strict=True))
            per_corpus = {}
            for name, (searcher, rows) in loaded.items():
                base = searcher.services.settings
                searcher.settings = base.model_copy(update=update)
                options = SearchOptions(group_by=group)  # type: ignore[arg-type]

                def search(q: str, s: Any = searcher, o: SearchOptions = options) -> list[str]:
                    return [h.path for h in s.search(q, o)]

                per_corpus[name] = nl.score(search, rows)["queries"]
                searcher.settings = base
            res = nl.summarise(per_corpus, "all")
            results.append((res["ndcg@10"], group, update, res))
    for ndcg, group, update, res in sorted(results, key=lambda r: -r[0]):
        cats = " ".join(f"{c[:4]} {res[c]}" for c in nl.CATEGORIES)
        print(f"{ndcg:.3f} {group:5} {update} {cats} R@10 {res['file_r@10']}")


if __name__ == "__main__":
    main()
