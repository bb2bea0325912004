"""``coderag eval`` end to end: real MiniLM vectors and the embedded SmolLM2, the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_eval_cli import RUNGS, make_shop
from tests.unit.eval.test_eval_history import needs_git

pytestmark = [pytest.mark.slow, needs_git]


def test_eval_ladder_with_the_real_models(tmp_path: Path):
    repo = make_shop(tmp_path / "shop")
    out = tmp_path / "results"
    cmd = [
        sys.executable, "-m", "app.cli.main", "eval", "--repo", str(repo), "--out", str(out),
        "--llm-queries", "2", "--max-queries", "20", "--commits", "5", "--json",
    ]  # fmt: skip
    # SmolLM2, short HyDE drafts: a bounded run
    env = {**os.environ, "CODERAG_LLM": "smollm2", "CODERAG_LLM_MAX_TOKENS": "96"}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    rows = {r["rung"]: r for r in summary["rungs"]}
    assert list(rows) == [*RUNGS, "+llm steps", "+rerank (same 2)"]
    assert "skipped" not in summary["llm"] and summary["llm"]["queries"] == 2
    assert rows["+llm steps"]["n"] == 2 and rows["+rerank (same 2)"]["n"] == 2
    total = summary["queries"]["total"]
    assert 10 <= total <= 20 + 5 and summary["queries"]["by_type"]["commit"] == 3
    assert summary["queries"]["by_type"]["symbol"] >= 5
    for row in rows.values():
        assert all(0.0 <= row[m] <= 1.0 for m in ("ndcg@10", "r@1", "r@5", "r@10", "mrr@10"))
    assert all(rows[r]["n"] == total for r in RUNGS)
    assert summary["corpus"]["embedded"] > 0  # MiniLM really embedded the stripped copy

    doc = json.loads((out / "eval.json").read_text())
    assert doc["rungs"]["bm25"]["by_type"]["symbol"]["mean"]["ndcg@10"] > 0.5
    assert doc["rungs"]["+rerank"]["summary"]["mean"]["ndcg@10"] > 0.5
    llm_rows = doc["rungs"]["+llm steps"]["queries"]
    assert len(llm_rows) == 2 and all(r["hits"] for r in llm_rows)  # evidence was gathered
    for name in ("eval.md", "eval.png", "eval_latency.png"):
        assert (out / name).stat().st_size > 0
