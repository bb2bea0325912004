"""``coderag ask`` end to end: real MiniLM + Chroma index, a real embedded LLM, the real CLI.

SmolLM2-135M (fast) drives most questions; one asks the default, Qwen2.5-Coder-0.5B.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.answer import check_answer
from tests.conftest import write_tree
from tests.e2e.test_search_e2e import REPO

pytestmark = pytest.mark.slow


def coderag_ask(
    question: str, root: Path, tmp: Path, *extra: str, llm: str = "smollm2"
) -> dict[str, Any]:
    env = {**os.environ, "CODERAG_THREADS_DB": str(tmp / "threads.sqlite"), "CODERAG_LLM": llm}
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


SHOP = Path(__file__).resolve().parents[1] / "fixtures" / "shop"


def test_the_default_model_answers_in_cited_prose(tmp_path):
    """Qwen2.5-Coder-0.5B (the default) on the shop: prose that names the code, each cited."""
    from app.answer import split_claims

    root = tmp_path / "repo"
    shutil.copytree(SHOP, root)
    res = coderag_ask("How is VAT added to an order total?", root, tmp_path, llm="embedded")
    assert res["status"] == "answered" and res["llm_calls"] >= 1
    prose = res["answer"].split("Where to look:")[0]
    cited = [c for c in split_claims(prose) if c.citations]
    assert any(
        "shop/pricing.py" in {x.path for x in c.citations}
        and any(name in c.text for name in ("order_total", "VAT_RATES", "VAT"))
        for c in cited
    ), res["answer"]
    assert check_answer(res["answer"], root).ok
