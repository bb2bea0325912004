"""The CLI over hostile repositories: exit 0 with a clear summary, non-zero only for a bad root."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from app.index.walker import MAX_DEPTH
from app.services import Services
from tests.unit.index.test_bad_input import (
    BAD_REPO_FILES,
    BAD_REPO_SKIPS,
    DEEP,
    build_bad_repo,
    remove_deep,
)
from tests.unit.retrieval.test_retrieval_lanes import QueryEmbedder

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    res = runner.invoke(app, list(args))
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    assert "Traceback" not in res.output
    return res.exit_code, res.output


@pytest.fixture
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = QueryEmbedder()
    monkeypatch.setattr(Services, "embedder", property(lambda self: embedder))


@pytest.fixture
def bad_repo(tmp_path: Path) -> Iterator[Path]:
    """Every bad input, nested a little past the depth limit (10,000 is the slow test's)."""
    root = tmp_path / "repo"
    build_bad_repo(root, tmp_path / "outside", depth=MAX_DEPTH + 5)
    yield root
    remove_deep(root / "deep")


def assert_hits_stay_inside(hits: list[dict]) -> None:
    for hit in hits:
        assert not hit["path"].startswith(("/", "..")), hit
    assert not {"passwd.py", "secret.txt", "huge.py"} & {h["path"] for h in hits}


def test_index_status_and_search_of_a_repository_of_bad_inputs(bad_repo, fake_embedder):
    code, out = invoke("index", str(bad_repo), "--json", "--quiet")
    assert code == 0
    report = json.loads(out)
    assert (report["files"], report["skipped"]) == (BAD_REPO_FILES, BAD_REPO_SKIPS)
    assert report["syntax_errors"] == 4 and report["lossy_utf8"] == 4
    assert report["skipped_examples"]["symlink_outside"] == ["outdir", "passwd.py", "secret.txt"]

    code, out = invoke("index", str(bad_repo))
    assert code == 0
    assert f"files {BAD_REPO_FILES} (+0 added, 0 changed, 0 deleted" in out
    assert "skipped: binary 3, symlink_loop 2, symlink_outside 3, too_large 1" in out

    code, out = invoke("status", str(bad_repo))
    assert code == 0 and "index fresh" in out and f"({BAD_REPO_FILES} files" in out

    code, out = invoke("search", "odd", "--repo", str(bad_repo), "--json", "-k", "30")
    assert code == 0
    hits = json.loads(out)
    assert {"odd/-rf.py", "odd/--help.py", "odd/new\nline.py", "odd/日本語.go"} <= {
        h["path"] for h in hits
    }
    assert_hits_stay_inside(hits)
    code, out = invoke("search", "odd", "--repo", str(bad_repo), "--no-index")
    assert code == 0 and "odd/-rf.py:1-2" in out


def test_an_empty_repository_is_indexed_to_zero_files(tmp_path, fake_embedder):
    empty = tmp_path / "empty"
    (empty / ".git").mkdir(parents=True)

    code, out = invoke("index", str(empty))
    assert code == 0
    assert "files 0 (+0 added" in out and "skipped: none" in out and "chunks 0" in out
    code, out = invoke("index", str(empty), "--json")
    assert code == 0 and json.loads(out)["files"] == 0
    code, out = invoke("status", str(empty))
    assert code == 0 and "index fresh (0 files, 0 chunks" in out
    code, out = invoke("search", "anything at all", "--repo", str(empty))
    assert code == 0 and "no results" in out
    code, out = invoke("search", "anything", "--repo", str(empty), "--json")
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize(
    "command",
    [
        ("index", "{path}"),
        ("index", "{path}", "--json"),
        ("status", "{path}"),
        ("status", "{path}", "--json"),
        ("search", "x", "--repo", "{path}"),
        ("callers", "x", "--repo", "{path}"),
    ],
)
def test_a_missing_root_fails_with_one_clear_line(tmp_path, command):
    missing = tmp_path / "no" / "such" / "repo"
    res = runner.invoke(app, [a.format(path=missing) for a in command])
    assert res.exit_code == 1
    assert res.output == f"error: {missing} is not a directory: nothing exists at that path\n"


@pytest.mark.parametrize(
    "command",
    [
        ("index", "{path}"),
        ("status", "{path}"),
        ("search", "x", "--repo", "{path}"),
        ("ask", "x", "--repo", "{path}"),
    ],
)
def test_a_file_given_as_the_root_is_a_usage_error(tmp_path, command):
    file_root = tmp_path / "main.py"
    file_root.write_text("x = 1\n")
    res = runner.invoke(app, [a.format(path=file_root) for a in command])
    assert res.exit_code == 2
    words = " ".join(res.output.replace("│", " ").split())  # click's boxed, wrapped message
    assert "Invalid value for" in words and "is a file." in words
    assert "Traceback" not in res.output


@pytest.mark.slow
def test_the_real_pipeline_over_every_bad_input_at_once(tmp_path):
    """MiniLM, Chroma, tree-sitter and the graph over 10,000 nested folders and the rest."""
    root = tmp_path / "repo"
    build_bad_repo(root, tmp_path / "outside", depth=DEEP)
    try:
        code, out = invoke("search", "odd function", "--repo", str(root), "--json", "-k", "30")
        assert code == 0
        hits = json.loads(out)
        code, out = invoke("index", str(root), "--json")
        assert code == 0
        report = json.loads(out)
        code, status = invoke("status", str(root))
    finally:
        remove_deep(root / "deep")
    assert "odd/-rf.py" in {h["path"] for h in hits}
    assert_hits_stay_inside(hits)
    assert (report["files"], report["skipped"]) == (BAD_REPO_FILES, BAD_REPO_SKIPS)
    assert report["unchanged"] == BAD_REPO_FILES and report["embedded"] == 0
    assert report["vectors"] == report["chunks"] > 0
    assert code == 0 and "index fresh" in status
