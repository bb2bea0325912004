"""Write the pyflow call graph of one PyCG micro-benchmark case (the scorer's --run contract).

Usage: python bench/pycg_run.py --root CASE_DIR --entry CASE_DIR/main.py --json OUT
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.codegraph.pyflow import export_pycg  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", required=True, help="folder holding the case's modules")
    ap.add_argument("--entry", help="entry file (unused: every module is analysed)")
    ap.add_argument("--json", required=True, help="where to write the PyCG-format JSON")
    args = ap.parse_args(argv)
    cg = export_pycg(Path(args.root))
    Path(args.json).write_text(json.dumps(cg, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
