"""CLI commands that need no model: call-graph export, status, errors that say what to do."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from app.cli.main import app
from tests.conftest import write_tree

runner = CliRunner()


def test_callgraph_pycg_export(tmp_path):
    root = write_tree(
        tmp_path / "case",
        {
            "main.py": "from helpers import greet as g\n\n\ndef run():\n    g()\n\n\nrun()\n",
            "helpers.py": "def greet():\n    print('hi')\n",
        },
    )
    res = runner.invoke(app, ["callgraph", str(root), "--format", "pycg"])
    assert res.exit_code == 0, res.output
    cg = json.loads(res.output)
    assert cg["main"] == ["main.run"]
    assert cg["main.run"] == ["helpers.greet"]
    assert cg["helpers.greet"] == ["<builtin>.print"]


def test_callgraph_rejects_unknown_format(tmp_path):
    res = runner.invoke(app, ["callgraph", str(tmp_path), "--format", "dot"])
    assert res.exit_code != 0 and "unknown format" in res.output


def test_status_of_unindexed_repo_says_what_to_do(tmp_path):
    res = runner.invoke(app, ["status", str(tmp_path)])
    assert res.exit_code == 1
    assert "coderag index" in res.output
    res = runner.invoke(app, ["status", str(tmp_path), "--json"])
    data = json.loads(res.output)
    assert data["exists"] is False and data["fresh"] is False


def test_index_of_missing_directory_fails_cleanly(tmp_path):
    res = runner.invoke(app, ["index", str(tmp_path / "nope")])
    assert res.exit_code != 0
    assert "Traceback" not in res.output
