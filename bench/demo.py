"""`make demo`: index a real code base nobody here wrote, search it and ask it questions, offline.

The code base is the `requests` library as installed in .venv (copied to bench/.cache/demo so
the package folder sits under the indexed root, exactly like a checkout of its repository).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def run(*args: str) -> None:
    print(f"\n$ coderag {' '.join(shlex.quote(a) for a in args)}", flush=True)
    subprocess.run([str(BIN / "coderag"), *args], check=True)


def main() -> None:
    import requests

    src = Path(requests.__file__).parent
    root = HERE / ".cache" / "demo"
    target = root / "requests"
    if not target.exists():
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__"))
    os.environ.setdefault("CODERAG_HOME", str(HERE / ".cache" / "home"))
    print(f"Demo code base: requests {requests.__version__} ({target})")
    run("index", str(root))
    run("search", "how are redirects followed", "--repo", str(root), "-k", "5", "--no-index")
    # Answers come from the embedded Qwen2.5-Coder-0.5B (llama.cpp in process; assembled from its
    # packages on first use); every citation is re-checked against the files.
    run("ask", "how does a session handle redirects?", "--repo", str(root), "--no-index")
    run("ask", "who calls get_netrc_auth?", "--repo", str(root), "--no-index")
    run("callees", "requests.api.get", "--repo", str(root), "--no-refresh")
    run("status", str(root))


if __name__ == "__main__":
    main()
