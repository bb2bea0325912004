"""``coderag ask`` end to end: real MiniLM + Chroma index, the embedded SmolLM2, the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.answer import check_answer
from tests.conftest import write_tree
from tests.e2e.test_search_e2e import REPO

pytestmark = pytest.mark.slow


def coderag_ask(question: str, root: Path, tmp: Path, *extra: str) -> dict[str, Any]:
    env = {**os.environ, "CODERAG_THREADS_DB": str(tmp / "threads.sqlite")}
    cmd = [sys.executable, "-m", "app.cli.main", "ask", question, "--repo", str(root), "--json"]
    cmd += ["--index-dir", str(tmp / "idx"), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(json.loads(done.stdout))


def test_questions_are_answered_with_citations_that_verify(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    indexed = {p for p in REPO if not p.endswith("__init__.py")}

    res = coderag_ask("how are failed calls retried with exponential backoff?", root, tmp_path)
    assert res["status"] == "answered" and "check_answer" in res["trace"]
    assert res["citations"], res["answer"]
    assert any(c["path"] == "shop/retry.py" for c in res["citations"])
    assert check_answer(res["answer"], root, indexed=indexed).invalid == []
    assert res["llm_calls"] >= 1

    # a call-graph question is answered from the code graph, in the same thread
    follow = coderag_ask(
        "who calls apply_discount?", root, tmp_path, "--thread", res["thread_id"]
    )
    assert follow["trace"][:3] == ["condense", "route", "graph_answer"]
    assert "shop/cart.py" in {c["path"] for c in follow["citations"]}  # Cart.total calls it
    assert check_answer(follow["answer"], root, indexed=indexed).ok
