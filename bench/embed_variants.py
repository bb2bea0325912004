"""Embedding variants judged by retrieval, not by cosine: chunks/s and NDCG@10, one run.

Each variant (``embed_model[:embed_precision]``: ``minilm:float32``, ``minilm:bfloat16`` (the
``auto`` default on a CPU with AVX512-BF16 or AMX), ``minilm-int8`` the same weights with int8
dynamic quantization per output channel) indexes the doc-stripped retrieval corpora
from nothing, in its own index home, and answers the test queries of ``bench/retrieval`` through
the dense, hybrid and default (rerank) stages; queries are embedded by the NumPy float32 path
in every variant, as ``coderag search`` does. Speed is the cold index time (embedding included)
and, beside it in the same run, the bare ``SentenceTransformer.encode`` (float32, torch) over a
sample of the same chunk texts: the reference the issue measures against.

Usage: python bench/embed_variants.py [--corpora requests,axios] [--variants minilm:float32,...]
Results: ``embed_variants.json`` and ``.md`` (per-variant ladders ``embed_variants_<v>.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "retrieval"))
sys.path.insert(0, str(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import corpora  # noqa: E402
import embedders  # noqa: E402
import run as ladder  # noqa: E402
from embed_bench import bare, load_texts  # noqa: E402


def bare_rate(index_dirs: list[Path], sample: int) -> dict[str, Any]:
    """Chunks/s of the bare float32 ``SentenceTransformer.encode`` over sampled chunk texts."""
    from app.models.embedder import Embedder

    texts: list[str] = []
    for d in index_dirs:
        texts += load_texts(d, sample)[0]
    model = Embedder("minilm", device="cpu", precision="float32").model
    bare(model, texts[:32])  # warm up
    t0 = time.perf_counter()
    bare(model, texts)
    seconds = time.perf_counter() - t0
    return {"texts": len(texts), "seconds": round(seconds, 2),
            "chunks_per_s": round(len(texts) / seconds, 2)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default="", help="comma list (default: all six)")
    ap.add_argument(
        "--variants",
        default="minilm:float32,minilm:bfloat16,minilm-int8",
        help="embed_model[:precision] list (precision: float32, bfloat16, auto)",
    )
    ap.add_argument("--split", default="test")
    ap.add_argument("--bare-sample", type=int, default=150, help="texts per corpus")
    ap.add_argument("--results", type=Path, default=HERE / "results")
    args = ap.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)
    selected = corpora.select(args.corpora)
    ladder.prepare(selected, make_queries=False)
    figures: dict[str, Any] = {}
    homes: dict[str, Path] = {}
    for variant in args.variants.split(","):
        model, _, precision = variant.partition(":")
        os.environ["CODERAG_EMBED_PRECISION"] = precision or "float32"
        tag = variant.replace(":", "-")
        out = args.results / f"embed_variants_{tag}.json"
        figures[variant] = embedders.measure(model, selected, args.split, out, tag=tag)
        homes[variant] = ladder.home()
        f = figures[variant]
        f["chunks_per_s"] = round(f["chunks"] / f["index_s"], 2) if f["index_s"] else None
        print(variant, json.dumps(f), flush=True)
    first = next(iter(homes.values()))
    dirs = sorted(p.parent for p in (first / "indexes").glob("*/index.db"))
    reference = bare_rate(dirs, args.bare_sample)
    print("bare", reference, flush=True)
    for f in figures.values():
        f["x_bare"] = round(f["chunks_per_s"] / reference["chunks_per_s"], 2)
    doc = {
        "meta": {"date": datetime.now(UTC).isoformat(timespec="seconds"), "corpora": args.corpora,
                 "split": args.split, "cpus": os.cpu_count()},
        "bare_encode": reference,
        "variants": figures,
    }  # fmt: skip
    (args.results / "embed_variants.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = markdown(doc)
    (args.results / "embed_variants.md").write_text(md)
    print(md)


def markdown(doc: dict[str, Any]) -> str:
    """The table of ``embed_variants.json`` (also used by bench/summarize.py)."""
    meta, ref = doc["meta"], doc["bare_encode"]
    lines = [
        f"# Embedding variants on {meta['corpora'] or 'all corpora'} ({meta['split']} queries, "
        f"cold index, one run, {meta['cpus']} CPUs)",
        "",
        f"Bare float32 `SentenceTransformer.encode`, same run: {ref['chunks_per_s']} chunks/s "
        f"({ref['texts']} sampled chunk texts).",
        "",
        "| variant | chunks | cold index s | chunks/s | x bare | dense NDCG@10 | hybrid NDCG@10 "
        "| rerank NDCG@10 | rerank file R@10 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, f in doc["variants"].items():
        n = f["ndcg@10"]
        cells = [name, f["chunks"], f["index_s"], f["chunks_per_s"], f["x_bare"], n["dense"],
                 n["hybrid"], n["rerank"], f["file_r@10"]["rerank"]]  # fmt: skip
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
