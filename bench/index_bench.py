"""Indexing speed on real code nobody here wrote: cold throughput vs the bare embedder,
no-op and one-file-changed re-index, peak memory. Results: bench/results/index.json (+ .md).

Usage: python bench/index_bench.py [--packages rich,requests] [--reindex-packages ...]
The code bases are installed libraries' sources, copied to a temp dir.
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


def bare_embed_seconds(index_dir: Path) -> tuple[float, int]:
    """Time SentenceTransformer.encode alone on exactly the chunk texts the index embedded."""
    from app.index.embedder import resolve_model_path
    from app.index.stores.db import IndexDB

    db = IndexDB(index_dir / "index.db")
    texts = list({c.content_hash: c.embed_text for c in db.all_chunks()}.values())
    db.close()
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


def cold_figures(packages: str, work: Path) -> dict:
    root = copy_packages(packages.split(","), work / "cold")
    cold = index_once(root, work / "idx-cold")
    bare_s, n = bare_embed_seconds(work / "idx-cold")
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
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="coderag-bench-"))
    old = json.loads((RESULTS / "index.json").read_text()) if args.skip_cold else {}
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
            res["cold"] = cold_figures(args.packages, work)
            print(json.dumps(res["cold"], indent=2), flush=True)
        if not args.skip_reindex:
            big = copy_packages(args.reindex_packages.split(","), work / "big")
            first = index_once(big, work / "idx-big")
            res["reindex"] = reindex_times(big, work / "idx-big")
            res["reindex"]["cold_index_seconds"] = round(first["seconds"], 1)
            res["reindex"]["cold_peak_rss_mb"] = round(first["peak_rss_mb"])
            res["reindex"]["packages"] = args.reindex_packages
            print(json.dumps(res["reindex"], indent=2), flush=True)
        res["bench_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (RESULTS / "index.json").write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {RESULTS / 'index.json'}")


if __name__ == "__main__":
    main()
