"""Peak memory of a chat session: ``coderag chat`` answering questions with the embedded LLM.

Usage: python bench/chat_memory.py --repo DIR [--index-dir DIR] [--questions 3] [--results DIR]
The session is a child process fed its questions on stdin (then ``/quit``); its peak RSS comes
from ``wait4`` (the child's own maximum resident set, models and index included). The questions
are doc sentences mined from the repository's code. Results: ``memory.json`` (key ``chat``).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
RESULTS = HERE / "results"


def questions(repo: Path, count: int) -> list[str]:
    """Return ``count`` questions mined from ``repo`` (doc sentences), with a fallback."""
    from search_speed import mined_queries

    nl, symbols = mined_queries(repo, count)
    picked = nl[:count] + [f"who calls {s}?" for s in symbols][: max(0, count - len(nl))]
    return picked or ["where is the main entry point?"]


def chat_session(repo: Path, index_dir: Path | None, asked: list[str]) -> dict:
    """Run one chat session over ``asked``; return its wall time, peak RSS and output size."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "CODERAG_THREADS_DB": str(Path(tmp) / "threads.sqlite")}
        if index_dir is not None:
            env["CODERAG_INDEX_DIR"] = str(index_dir)
        cmd = [sys.executable, "-m", "app.cli.main", "chat", "--repo", str(repo)]
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write("\n".join([*asked, "/quit"]) + "\n")
        proc.stdin.close()
        output = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"chat exited {proc.returncode}:\n{output[-2000:]}")
    return {
        "questions": len(asked),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "output_chars": len(output),
    }


def main() -> None:
    """Measure and merge into ``memory.json``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path, required=True)
    ap.add_argument("--index-dir", type=Path)
    ap.add_argument("--questions", type=int, default=3)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    asked = questions(args.repo, args.questions)
    result = chat_session(args.repo.resolve(), args.index_dir, asked)
    result["asked"] = asked
    out = args.results / "memory.json"
    doc = json.loads(out.read_text()) if out.exists() else {}
    doc["chat"] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), **result}
    index = args.results / "index.json"
    if index.exists():
        cold = json.loads(index.read_text()).get("cold", {})
        if cold:
            doc["index"] = {"packages": cold["packages"], "chunks": cold["chunks"],
                            "peak_rss_mb": cold["peak_rss_mb"]}  # fmt: skip
    args.results.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print(json.dumps(doc, indent=1))


if __name__ == "__main__":
    main()
