"""First search while indexing: how soon after ``coderag index`` starts does a search answer?

A warm searcher process waits with its models loaded (as in ``coderag chat`` or the MCP server).
``coderag index ROOT`` then starts on a ~50k-line copy of rich + click with an empty index; the
moment the indexer prints its "searchable now" line (lexical, symbol and path lanes and the code
graph committed; dense vectors still to embed), the searcher answers a question from the index
as it is, degraded to the ready lanes. The indexer is then stopped (the next run would resume).

Recorded per run: seconds from launching ``coderag index`` to the searchable line and to the
first answer, the indexer's own ``seconds_to_searchable`` (from its start, imports excluded) and
its phase times. Parsing on every core (``CODERAG_INDEX_WORKERS=0``, the default) and in one
process (``=1``, before) alternate in the same run, so load on the machine hits both alike.

Usage: python bench/first_search.py [--rounds 3] [--packages rich,click] [--results DIR]
Results: ``first_search.json`` and ``first_search.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
RESULTS = HERE / "results"
ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}
MARK = "searchable now"

SEARCHER = """
import json, sys, time
from pathlib import Path
from app.retrieval.search import Searcher
from app.services import Services
from app.settings import Settings

# warm up on a throwaway index: imports, embedder and cross-encoder loaded once
warm_root, warm_idx = Path(sys.argv[1]), Path(sys.argv[2])
warm = Services(warm_root, Settings(index_dir=warm_idx, progress=False))
warm.index()
warm_searcher = Searcher(warm)
warm_searcher.search("greeting function")
print("ready", flush=True)
for line in sys.stdin:
    root, idx, query = json.loads(line)
    t = time.perf_counter()
    services = Services(Path(root), Settings(index_dir=Path(idx), progress=False))
    services.embedder = warm.embedder
    searcher = Searcher(services, reranker=warm_searcher.reranker)
    hits = searcher.search(query)
    print(json.dumps({
        "search_s": round(time.perf_counter() - t, 3),
        "hits": len(hits),
        "top": f"{hits[0].path}:{hits[0].start_line}" if hits else None,
        "degraded": searcher.degraded(),
        "lanes": list(searcher.ready_lanes()),
    }), flush=True)
"""


def one_run(
    root: Path, index_dir: Path, workers: int, query: str, searcher: subprocess.Popen[str]
) -> dict[str, Any]:
    """Index ``root`` from nothing; ask the warm searcher once it is searchable; stop."""
    assert searcher.stdin is not None and searcher.stdout is not None
    shutil.rmtree(index_dir, ignore_errors=True)
    env = {**os.environ, **ENV, "CODERAG_INDEX_DIR": str(index_dir),
           "CODERAG_INDEX_WORKERS": str(workers)}  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "index", str(root)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:
        seen.append(line)
        if MARK in line:
            break
    else:
        raise SystemExit("the indexer ended without a searchable line:\n" + "".join(seen[-20:]))
    at_mark = time.perf_counter() - started
    searcher.stdin.write(json.dumps([str(root), str(index_dir), query]) + "\n")
    searcher.stdin.flush()
    answer = json.loads(searcher.stdout.readline())
    at_answer = time.perf_counter() - started
    proc.send_signal(signal.SIGINT)  # stop embedding: this run only measures the first search
    try:
        proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
    return {
        "workers": workers,
        "launch_to_searchable_s": round(at_mark, 2),
        "launch_to_first_answer_s": round(at_answer, 2),
        "answer": answer,
    }


def indexer_times(root: Path, index_dir: Path, workers: int) -> dict[str, Any]:
    """One ``coderag index --json --no-embed`` run: its own searchable time and phases."""
    shutil.rmtree(index_dir, ignore_errors=True)
    env = {**os.environ, **ENV, "CODERAG_INDEX_DIR": str(index_dir),
           "CODERAG_INDEX_WORKERS": str(workers), "CODERAG_NO_EMBED": "1"}  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "index", str(root), "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    report = json.loads(out.stdout)
    return {"seconds_to_searchable": report["seconds_to_searchable"], "phases": report["seconds"]}


def summarise(runs: list[dict[str, Any]], key: str) -> dict[str, float]:
    values = [r[key] for r in runs]
    return {"median": round(statistics.median(values), 2), "min": min(values), "max": max(values)}


def markdown(doc: dict[str, Any]) -> str:
    meta = doc["meta"]
    lines = [
        f"# First search while indexing ({meta['date']}, {meta['cores']} cores, "
        f"{meta['lines']} lines / {meta['files']} files of {', '.join(meta['packages'])}, "
        f"{meta['rounds']} rounds)",
        "",
        "| parse workers | launch -> searchable s | launch -> first answer s "
        "| indexer seconds_to_searchable | parse s | graph s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, res in doc["variants"].items():
        lines.append(
            f"| {label} | {res['launch_to_searchable_s']['median']} "
            f"| {res['launch_to_first_answer_s']['median']} "
            f"| {res['indexer']['seconds_to_searchable']['median']} "
            f"| {res['indexer']['parse_s']['median']} | {res['indexer']['graph_s']['median']} |"
        )
    lines += ["", f"Ratio (in-process / all cores, first answer): {doc['ratio']}", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--packages", default="rich,click")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    packages = args.packages.split(",")
    with tempfile.TemporaryDirectory(prefix="coderag-first-") as tmp:
        work = Path(tmp)
        from index_bench import copy_packages

        root = copy_packages(packages, work / "root")
        files = list(root.rglob("*.py"))
        lines = sum(len(f.read_bytes().splitlines()) for f in files)
        warm_root = work / "warm"
        warm_root.mkdir()
        (warm_root / "hello.py").write_text('def greet(name):\n    return f"hello {name}"\n')
        searcher = subprocess.Popen(
            [sys.executable, "-c", SEARCHER, str(warm_root), str(work / "warm_idx")],
            cwd=ROOT, env={**os.environ, **ENV}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert searcher.stdout is not None
        if searcher.stdout.readline().strip() != "ready":
            raise SystemExit("the warm searcher did not start")
        query = "render a table with rows and columns to the console"
        variants: dict[int, dict[str, list[Any]]] = {w: {"runs": [], "ix": []} for w in (0, 1)}
        for _ in range(args.rounds):
            for workers in (1, 0):
                run = one_run(root, work / "index", workers, query, searcher)
                print(json.dumps(run), flush=True)
                variants[workers]["runs"].append(run)
                variants[workers]["ix"].append(indexer_times(root, work / "index", workers))
        searcher.terminate()
    doc: dict[str, Any] = {
        "meta": {
            "date": datetime.now(UTC).strftime("%Y-%m-%d"),
            "cores": os.cpu_count(),
            "cpu": platform.processor() or platform.machine(),
            "packages": packages,
            "files": len(files),
            "lines": lines,
            "rounds": args.rounds,
            "query": query,
        },
        "variants": {},
    }
    for workers, label in ((1, "1 (parse in-process)"), (0, "all cores (default)")):
        runs, ix = variants[workers]["runs"], variants[workers]["ix"]
        doc["variants"][label] = {
            "launch_to_searchable_s": summarise(runs, "launch_to_searchable_s"),
            "launch_to_first_answer_s": summarise(runs, "launch_to_first_answer_s"),
            "indexer": {
                "seconds_to_searchable": summarise(ix, "seconds_to_searchable"),
                "parse_s": summarise([i["phases"] for i in ix], "parse"),
                "graph_s": summarise([i["phases"] for i in ix], "graph"),
            },
            "runs": runs,
        }
    labels = list(doc["variants"])
    a, b = (doc["variants"][k]["launch_to_first_answer_s"]["median"] for k in labels)
    doc["ratio"] = round(a / b, 2)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "first_search.json").write_text(json.dumps(doc, indent=2) + "\n")
    (args.results / "first_search.md").write_text(markdown(doc))
    print(markdown(doc))


if __name__ == "__main__":
    main()
