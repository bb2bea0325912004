"""Score pyflow on the PyCG micro-benchmark (raw and internal-only) and save the results.

Reads ../shared/benchmarks relative to the repository root; when that folder is absent
(users of the project do not have it) it says so and exits 0.
Writes bench/results/pycg.json and prints both summary lines.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "benchmarks"
SCORER = BENCH / "pycg_score.py"
CASES = BENCH / "pycg-micro"
OUT = ROOT / "bench" / "results" / "pycg.json"


def score(internal_only: bool) -> dict[str, object]:
    """Run the scorer once; return its JSON numbers, table text and summary line."""
    run = (f"{sys.executable} {ROOT / 'bench' / 'pycg_run.py'} "
           "--root {case_dir} --entry {main} --json {out}")
    with tempfile.TemporaryDirectory() as tmp:
        out_json = Path(tmp) / "score.json"
        cmd = [sys.executable, str(SCORER), "--run", run, "--json", str(out_json)]
        if internal_only:
            cmd.append("--internal-only")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        data = json.loads(out_json.read_text())
    lines = proc.stdout.strip().splitlines()
    table = "\n".join(ln for ln in lines if not ln.startswith("SUMMARY"))
    data.pop("per_case", None)
    return {"summary": lines[-1], "table": table, "scores": data}


def main() -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=OUT.parent)
    args = ap.parse_args()
    out = args.results / OUT.name
    if not SCORER.is_file() or not CASES.is_dir():
        print(f"PyCG micro-benchmark not found at {CASES}; skipping (nothing to score).")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps({
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "skipped": f"the PyCG micro-benchmark is not at {CASES} (it ships in ../shared)",
        }, indent=1))  # fmt: skip
        return 0
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:  # two scorer processes: one per core on 2 cores
        raw_f, internal_f = pool.submit(score, False), pool.submit(score, True)
        raw, internal = raw_f.result(), internal_f.result()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tool": "app.codegraph.pyflow (bench/pycg_run.py)",
        "reference": "PyCG 0.0.8: raw P=0.9762 R=0.9318; internal-only P=0.9786 R=0.9424",
        "raw": raw,
        "internal_only": internal,
    }, indent=1))
    print("raw:          ", raw["summary"])
    print("internal-only:", internal["summary"])
    print(internal["table"])
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
