"""The project's benchmark suite in one command: quality, speed and memory.

Usage: python bench/suite.py [--quick] [--only STEP,...] [--skip STEP,...]
(``make bench`` runs the full suite, ``make bench-quick`` or ``make bench QUICK=1`` the quick
one.)

Steps, each a child process writing its own JSON (+ Markdown) into the results folder:

* pycg: the call graph against ../shared/benchmarks/pycg-micro, raw and internal-only
  (skipped with a note where that folder is absent).
* retrieval: the ladder on the test half of 6 real libraries (Python, JS, TS, Go, Rust);
  quick: requests, axios, cobra (Python, JS, Go).
* retrieval-nl: 160 natural-language questions written from the code of 8 repositories (docs
  left in), scored by file credit, dev and test halves, chunk vs file order (quick: 3 corpora).
* index: cold index of ``rich`` (2.3k chunks; quick: ``pathspec``, 300) against the bare
  embedder on a seeded 25% (quick: 50%) sample of the same texts, then no-op and
  one-file-changed re-index; the indexing process's peak RSS.
* search: warm p50/p95 per pipeline stage and cold ``coderag search`` processes on that index.
* first-search: seconds from launching ``coderag index`` on rich + click (51k lines) to a
  warm searcher's first answer, parsing on every core vs in one process (quick: 1 round).
* answers: the embedded SmolLM2: answer p50/p95 and verified citations (quick: 2 answers);
  full runs add evidence NDCG with vs without HyDE / decompose / rewrite.
* chat: peak RSS of a ``coderag chat`` session (3 questions; quick: 2).

Not in the suite (each over an hour on 2 cores, or an optional install): ``make bench-scale``
(bench/scale_bench.py, the 1k/10k/100k-chunk scale curve) and ``make mpnet`` then
``python bench/embedders.py`` (MiniLM vs mpnet); both write into bench/results/ and the summary
picks them up.

Results: ``bench/results/`` (full) or ``bench/results/quick/``; ``suite.json`` records the
machine, package versions, date and each step's wall time, exit status and peak RSS;
``summary.md`` is regenerated from the JSON files; a full run also regenerates the README's
"How good is it?" section.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from app.eval.runner import machine  # noqa: E402

RESULTS = HERE / "results"
WORK = HERE / ".cache" / "suite"
PY = sys.executable


def steps(quick: bool, results: Path) -> dict[str, list[str]]:
    """Return the command of every step for the chosen profile."""
    keep = WORK / ("quick" if quick else "full")
    package = "pathspec" if quick else "rich"
    corpora = "requests,axios,cobra" if quick else "click,requests,axios,rxjs,cobra,serde_json"
    res = ["--results", str(results)]
    answers = (
        ["--answers", "2", "--answer-corpora", "requests", "--skip-retrieval"]
        if quick
        else ["--answers", "4", "--answer-corpora", "requests,click", "--retrieval-limit", "12"]
    )
    return {
        "pycg": [PY, str(HERE / "pycg_bench.py"), *res],
        "retrieval": [
            PY, str(HERE / "retrieval" / "run.py"), "--fetch", "--split", "test",
            "--corpora", corpora, "--out", str(results / "retrieval.json"),
        ],
        "retrieval-nl": [
            PY, str(HERE / "retrieval" / "nl.py"), "--out", str(results / "retrieval_nl.json"),
            *(["--corpora", "requests,axios,cobra"] if quick else []),
        ],
        "index": [
            PY, str(HERE / "index_bench.py"), "--packages", package, "--reindex-from-cold",
            "--bare-sample", "0.5" if quick else "0.25", "--keep", str(keep), *res,
        ],
        "search": [
            PY, str(HERE / "search_speed.py"), "--root", str(keep / "root"),
            "--index-dir", str(keep / "index"), "--name", package,
            "--rounds", "1" if quick else "2",
            "--cold-runs", "1" if quick else "3", *res,
        ],
        "first-search": [
            PY, str(HERE / "first_search.py"), "--rounds", "1" if quick else "3", *res,
        ],
        "answers": [PY, str(HERE / "answer_bench.py"), *answers, *res],
        "chat": [
            PY, str(HERE / "chat_memory.py"), "--repo", str(keep / "root"),
            "--index-dir", str(keep / "index"), "--questions", "2" if quick else "3", *res,
        ],
    }  # fmt: skip


def run_step(name: str, cmd: list[str], log: Path) -> dict:
    """Run one step; return its wall time, exit status and peak RSS (from ``wait4``)."""
    print(f"\n=== {name}: {' '.join(cmd[1:])}", flush=True)
    started = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            fh.write(line)
            print(f"  {line.rstrip()}"[:160], flush=True)
        _, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    row = {
        "seconds": round(time.perf_counter() - started, 1),
        "exit": code,
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "log": str(log.relative_to(ROOT)) if log.is_relative_to(ROOT) else str(log),
    }
    print(f"=== {name}: exit {code} in {row['seconds']} s", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the chosen steps, then regenerate the summary (and, full runs, the README)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="the 5-minute profile")
    ap.add_argument("--only", help="comma list of steps to run")
    ap.add_argument("--skip", default="", help="comma list of steps to leave out")
    args = ap.parse_args(argv)
    results = RESULTS / "quick" if args.quick else RESULTS
    results.mkdir(parents=True, exist_ok=True)
    logs = WORK / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    plan = steps(args.quick, results)
    chosen = args.only.split(",") if args.only else list(plan)
    unknown = [s for s in chosen + [s for s in args.skip.split(",") if s] if s not in plan]
    if unknown:
        ap.error(f"unknown steps {unknown}; choose from {list(plan)}")
    chosen = [s for s in chosen if s not in args.skip.split(",")]
    suite_file = results / "suite.json"
    previous = json.loads(suite_file.read_text()) if suite_file.exists() else {}
    doc = {
        "mode": "quick" if args.quick else "full",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "steps": dict(previous.get("steps", {})),
    }
    started = time.perf_counter()
    for name in chosen:
        doc["steps"][name] = {
            **run_step(name, plan[name], logs / f"{doc['mode']}-{name}.log"),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        suite_file.write_text(json.dumps(doc, indent=1) + "\n")
    doc["seconds"] = round(time.perf_counter() - started, 1)
    suite_file.write_text(json.dumps(doc, indent=1) + "\n")

    import summarize

    summarize.write_summary(results)
    if not args.quick and not args.only:
        summarize.update_readme(results, ROOT / "README.md")
    failed = [n for n in chosen if doc["steps"][n]["exit"] != 0]
    print(f"\nsuite ({doc['mode']}): {len(chosen)} steps in {doc['seconds']} s; "
          f"failed: {failed or 'none'}; results in {results}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
