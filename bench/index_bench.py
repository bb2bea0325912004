"""Indexing speed on real code nobody here wrote: cold throughput vs the bare embedder,
no-op and one-file-changed re-index, peak memory. Results: bench/results/index.json (+ .md).

Usage: python bench/index_bench.py [--packages rich] [--reindex-packages langchain_community |
    --reindex-from-cold] [--bare-sample 0.25] [--keep DIR] [--results DIR]
The code bases are installed libraries' sources, copied to a temp dir (``--keep DIR``: copied
to DIR/root with the index in DIR/index, kept for bench/search_speed.py).
``--bare-sample F`` times the bare embedder on a seeded fraction F of the same chunk texts.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def copy_packages(names: list[str], dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        mod = importlib.import_module(name)
        src = Path(mod.__file__).parent
        shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    return dest


def index_once(root: Path, index_dir: Path) -> dict:
    """Index in a child process; return its report, wall time and peak RSS."""
    code = (
        "import json,sys,time,resource;"
        "from pathlib import Path;"
        "from app.services import Services;from app.settings import Settings;"
        "s=Services(Path(sys.argv[1]),Settings(index_dir=Path(sys.argv[2]),progress=False));"
        "e=s.embedder;e.model;e.tokenizer;"
        "t=time.perf_counter();r=s.index();dt=time.perf_counter()-t;"
        "print(json.dumps({'seconds':dt,'report':r.to_json(),"
        "'peak_rss_mb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(root), str(index_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def bare_embed_seconds(index_dir: Path, sample: float = 1.0) -> tuple[float, int]:
    """Time SentenceTransformer.encode alone on the chunk texts the index embedded.

    ``sample`` < 1 times a seeded random share of those texts (chunks/s is what is compared).
    """
    from app.index.stores.db import IndexDB
    from app.models.embedder import resolve_model_path

    db = IndexDB(index_dir / "index.db")
    texts = list({c.content_hash: c.embed_text for c in db.all_chunks()}.values())
    db.close()
    if sample < 1.0:
        import random

        texts = random.Random(20261123).sample(texts, max(32, round(len(texts) * sample)))
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(resolve_model_path("minilm")))
    model.encode(texts[:32])
    t = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True)
    return time.perf_counter() - t, len(texts)


def reindex_times(root: Path, index_dir: Path) -> dict:
    """No-op and one-file-changed re-index, timed in-process with models loaded."""
    from app.services import Services
    from app.settings import Settings

    s = Services(root, Settings(index_dir=index_dir, progress=False))
    _ = s.embedder.model
    s.index()  # warm
    t = time.perf_counter()
    noop = s.index()
    t_noop = time.perf_counter() - t
    target = sorted(root.rglob("*.py"))[len(list(root.rglob("*.py"))) // 2]
    with open(target, "a") as fh:
        fh.write("\n\ndef _bench_added(x):\n    return x + 1\n")
    t = time.perf_counter()
    one = s.index()
    t_one = time.perf_counter() - t
    return {
        "files": noop.files,
        "chunks": noop.chunks,
        "noop_seconds": round(t_noop, 3),
        "noop_phases": noop.seconds,
        "one_changed_seconds": round(t_one, 3),
        "one_changed_phases": one.seconds,
        "one_changed_embedded": one.embedded,
    }


def cold_figures(packages: str, work: Path, sample: float = 1.0) -> dict:
    root = copy_packages(packages.split(","), work / "root")
    cold = index_once(root, work / "index")
    bare_s, n = bare_embed_seconds(work / "index", sample)
    rep = cold["report"]
    return {
        "packages": packages,
        "files": rep["files"],
        "chunks": rep["chunks"],
        "embedded": rep["embedded"],
        "index_seconds": round(cold["seconds"], 2),
        "phases": rep["seconds"],
        "peak_rss_mb": round(cold["peak_rss_mb"]),
        "bare_embed_seconds": round(bare_s, 2),
        "bare_chunks": n,
        "bare_sample": sample,
        "index_chunks_per_s": round(rep["chunks"] / cold["seconds"], 2),
        "index_embedded_per_s": round(rep["embedded"] / cold["seconds"], 2),
        "bare_chunks_per_s": round(n / bare_s, 2),
        "throughput_ratio": round((rep["chunks"] / cold["seconds"]) / (n / bare_s), 3),
        "throughput_ratio_embedded_only": round(
            (rep["embedded"] / cold["seconds"]) / (n / bare_s), 3
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--packages", default="rich")
    ap.add_argument("--reindex-packages", default="langchain_community")
    ap.add_argument("--skip-reindex", action="store_true")
    ap.add_argument("--skip-cold", action="store_true", help="keep the cold figures on file")
    ap.add_argument(
        "--reindex-from-cold", action="store_true",
        help="time the re-index runs on the cold index (no second corpus)",
    )
    ap.add_argument("--bare-sample", type=float, default=1.0, help="share of texts for bare")
    ap.add_argument("--keep", type=Path, help="keep the corpus copy and its index here")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    results = args.results
    results.mkdir(parents=True, exist_ok=True)
    if args.keep:
        shutil.rmtree(args.keep, ignore_errors=True)
    work = args.keep or Path(tempfile.mkdtemp(prefix="coderag-bench-"))
    old = json.loads((results / "index.json").read_text()) if args.skip_cold else {}
    res: dict = {
        **old,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "cpus": __import__("os").cpu_count(),
        },
    }
    try:
        if not args.skip_cold:
            res["cold"] = cold_figures(args.packages, work, args.bare_sample)
            print(json.dumps(res["cold"], indent=2), flush=True)
        if args.reindex_from_cold and "cold" in res:
            scratch = work / "reindex"
            shutil.copytree(work / "root", scratch / "root")
            shutil.copytree(work / "index", scratch / "index")
            res["reindex"] = reindex_times(scratch / "root", scratch / "index")
            res["reindex"]["cold_index_seconds"] = res["cold"]["index_seconds"]
            res["reindex"]["cold_peak_rss_mb"] = res["cold"]["peak_rss_mb"]
            res["reindex"]["packages"] = args.packages
            shutil.rmtree(scratch, ignore_errors=True)
            print(json.dumps(res["reindex"], indent=2), flush=True)
        elif not args.skip_reindex:
            big = copy_packages(args.reindex_packages.split(","), work / "big")
            first = index_once(big, work / "idx-big")
            res["reindex"] = reindex_times(big, work / "idx-big")
            res["reindex"]["cold_index_seconds"] = round(first["seconds"], 1)
            res["reindex"]["cold_peak_rss_mb"] = round(first["peak_rss_mb"])
            res["reindex"]["packages"] = args.reindex_packages
            print(json.dumps(res["reindex"], indent=2), flush=True)
        res["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    (results / "index.json").write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {results / 'index.json'}")


if __name__ == "__main__":
    main()
