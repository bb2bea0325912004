"""An index run in a background thread: progress while it runs, "searchable" as a moment."""

from __future__ import annotations

import threading

import pytest

from app.index.background import BackgroundIndex
from app.index.indexer import IndexBusyError
from app.index.report import IndexReport
from tests.unit.index.test_searchable_early import HookEmbedder, searcher_for


def test_state_follows_the_phases_and_searchable_is_a_moment():
    gates = {name: threading.Event() for name in ("parse", "embed", "end")}
    reached = {name: threading.Event() for name in gates}
    ended: list[BackgroundIndex] = []

    def update(progress):
        progress.start("scan", None)
        progress.advance("scan", 3)
        progress.end("scan")
        progress.start("parse", 3)
        progress.advance("parse")
        reached["parse"].set()
        gates["parse"].wait(10)
        progress.advance("parse", 2)
        progress.end("parse")
        progress.start("searchable", 40)
        progress.end("searchable")
        progress.start("embed", 40)
        reached["embed"].set()
        gates["embed"].wait(10)
        progress.advance("embed", 40)
        progress.end("embed")
        return IndexReport(root="r", index_dir="i", files=3, chunks=40, vectors=40, added=3)

    run = BackgroundIndex(update, on_done=ended.append)
    assert run.state() == "not_started" and run.wait_searchable(0)  # nothing to wait for
    run.start()
    assert reached["parse"].wait(10)
    assert run.state() == "indexing" and run.running
    assert not run.wait_searchable(0.05)
    assert "parse 1/3" in run.describe()
    gates["parse"].set()
    assert reached["embed"].wait(10)
    assert run.wait_searchable(0) and run.state() == "embedding"
    status = run.to_json()
    assert status["searchable"] and status["phases"]["embed"] == {
        "done": 0, "total": 40, "ended": False}  # fmt: skip
    gates["embed"].set()
    assert run.wait(10)
    assert run.state() == "ready" and not run.running and ended == [run]
    assert run.to_json()["report"]["chunks"] == 40


@pytest.mark.parametrize(
    ("error", "state", "says"),
    [
        (IndexBusyError("another coderag process is indexing"), "failed", "not indexed here"),
        (OSError("disk full"), "failed", "indexing failed: OSError: disk full"),
    ],
)
def test_a_failed_run_unblocks_waiters_and_says_why(error, state, says):
    def update(progress):
        progress.start("parse", 5)
        raise error

    run = BackgroundIndex(update).start()
    assert run.wait(10)
    assert run.wait_searchable(0)
    assert run.state() == state
    assert says in run.to_json()["error"]
    assert run.to_json()["searchable"] is False


def test_a_real_index_run_in_the_background(tmp_path):
    from tests.conftest import write_tree
    from tests.unit.retrieval.test_retrieval_lanes import REPO

    repo = write_tree(tmp_path / "repo", REPO)
    searcher = searcher_for(repo, tmp_path / "idx")
    searcher.services.embedder = HookEmbedder()  # type: ignore[assignment]
    run = BackgroundIndex(searcher.update_index).start()
    assert run.wait(60) and run.state() == "ready", run.to_json()
    assert run.report is not None and run.report.added == len(REPO)
    phases = run.to_json()["phases"]
    assert phases["parse"]["done"] == phases["parse"]["total"] == len(REPO)
    assert searcher.search("save_user")[0].symbol == "store.users.save_user"
    assert searcher.degraded() is None
