"""``coderag search``: JSON contract, indexing on demand, --explain, option errors, --help."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from app.services import Services
from tests.conftest import write_tree
from tests.unit.retrieval.test_retrieval_lanes import REPO, QueryEmbedder

runner = CliRunner()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``REPO`` on disk; every Services built by the CLI gets the fake embedder."""
    embedder = QueryEmbedder()
    monkeypatch.setattr(Services, "embedder", property(lambda self: embedder))
    return write_tree(tmp_path / "repo", REPO)


def search(*args: str) -> list[dict]:
    res = runner.invoke(app, ["search", *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_search_json_follows_the_contract_and_indexes_first(repo, tmp_path):
    idx = tmp_path / "idx"
    records = search("save_user", "--repo", str(repo), "--json", "-k", "3", "--index-dir", str(idx))
    assert (idx / "index.db").exists()  # indexed on demand
    assert isinstance(records, list) and len(records) == 3
    for rec in records:
        assert set(rec) == {"path", "start_line", "end_line", "symbol", "score", "lanes"}
        assert isinstance(rec["path"], str) and not Path(rec["path"]).is_absolute()
        assert (repo / rec["path"]).is_file()  # relative to --repo
        assert isinstance(rec["start_line"], int) and isinstance(rec["end_line"], int)
        assert 1 <= rec["start_line"] <= rec["end_line"]
        assert rec["symbol"] is None or isinstance(rec["symbol"], str)
        assert isinstance(rec["score"], float)
        assert rec["lanes"] and all(isinstance(x, str) for x in rec["lanes"])
    assert records[0]["path"] == "store/users.py"
    assert records[0]["symbol"] == "store.users.save_user"
    scores = [r["score"] for r in records]
    assert scores == sorted(scores, reverse=True)


def test_search_default_index_location_and_no_index(repo):
    assert search("check_email", "--repo", str(repo), "--json", "-k", "1")[0]["symbol"] == (
        "store.users.check_email"
    )
    # the index now exists under CODERAG_HOME: --no-index searches it as it is
    (repo / "store/extra.py").write_text("def fresh_function():\n    return 1\n")
    stale = search("fresh_function", "--repo", str(repo), "--json", "--no-index")
    assert all(r["path"] != "store/extra.py" for r in stale)
    fresh = search("fresh_function", "--repo", str(repo), "--json")
    assert fresh[0]["path"] == "store/extra.py"


def test_search_no_index_on_unindexed_repo_fails(repo):
    res = runner.invoke(app, ["search", "x", "--repo", str(repo), "--no-index"])
    assert res.exit_code != 0
    assert "coderag index" in str(res.exception)


def test_search_explain_shows_lanes_and_features(repo):
    res = runner.invoke(app, ["search", "save_user", "--repo", str(repo), "--explain", "-k", "2"])
    assert res.exit_code == 0, res.output
    assert "store/users.py:" in res.stdout and "store.users.save_user" in res.stdout
    assert "lanes: " in res.stdout and "symbol #1" in res.stdout
    assert "features: " in res.stdout and "def_exact_sym=1" in res.stdout
    records = search("save_user", "--repo", str(repo), "--json", "--explain", "-k", "2")
    explain = records[0]["explain"]
    assert set(explain) == {"lanes", "expanded", "features"}
    assert explain["lanes"]["symbol"] == 1 and explain["expanded"] is False
    assert sorted(explain["lanes"]) == records[0]["lanes"]


def test_search_plain_output_and_no_results(repo):
    res = runner.invoke(app, ["search", "hexdigest", "--repo", str(repo), "-k", "1"])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith(" 1. auth/tokens.py:4-6  auth.tokens.sign")
    res = runner.invoke(app, ["search", "   ", "--repo", str(repo)])
    assert res.exit_code == 0 and "no results" in res.stdout


def test_search_options_reach_the_engine(repo):
    args = ("save_user", "--repo", str(repo), "--json", "-k", "20")
    lexical = search(*args, "--lanes", "lexical", "--no-graph")
    assert lexical and all(r["lanes"] == ["lexical"] for r in lexical)
    chunks = search(*args, "--group-by", "chunk", "--rerank", "none", "--lanes", "lexical,symbol")
    assert chunks and all(set(r["lanes"]) <= {"lexical", "symbol", "graph"} for r in chunks)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--lanes", "foo", "unknown lane(s) foo; choose from lexical, dense, symbol, path"),
        ("--lanes", ",", "unknown lane(s) (none)"),
        ("--group-by", "module", "--group-by must be 'file', 'chunk' or 'auto'"),
        ("--rerank", "magic", "--rerank must be features, none or cross-encoder"),
        ("-k", "0", "Invalid value"),
    ],
)
def test_search_rejects_bad_options(repo, option, value, message):
    res = runner.invoke(app, ["search", "x", "--repo", str(repo), option, value])
    assert res.exit_code != 0
    assert message in res.output
    assert "Traceback" not in res.output


def test_search_of_missing_repo_fails_cleanly(tmp_path):
    res = runner.invoke(app, ["search", "x", "--repo", str(tmp_path / "nope")])
    assert res.exit_code != 0
    assert "is not a directory" in res.output


def test_search_help_explains():
    res = runner.invoke(app, ["search", "--help"])
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    for needle in ("QUERY", "--json", "--explain", "--lanes", "--group-by", "--rerank", "-k"):
        assert needle in text
    assert "indexed incrementally first" in text
    assert '{"path", "start_line", "end_line", "symbol", "score", "lanes"}' in text
    assert "search" in runner.invoke(app, ["--help"]).output


def test_search_mmr_flag_reorders_within_the_same_hits(repo, tmp_path):
    idx = tmp_path / "idx"
    base = search("user", "--repo", str(repo), "--json", "-k", "5", "--index-dir", str(idx))
    diverse = search(
        "user", "--repo", str(repo), "--json", "-k", "5", "--index-dir", str(idx), "--mmr", "0.3"
    )
    assert len(diverse) == len(base)
    assert diverse[0] == base[0]  # the best hit stays first: MMR picks it before any redundancy
    res = runner.invoke(app, ["search", "user", "--repo", str(repo), "--mmr", "1.5"])
    assert res.exit_code != 0  # lambda outside [0, 1] is refused
