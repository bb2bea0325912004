"""Chroma server and PostgreSQL unreachable: bounded retries, one-line errors that name the
service and what to do, and an index left consistent for the next run."""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

import httpx
import pytest

from app.assistant import Assistant
from app.cli.main import main
from app.index.indexer import VECTORS_SYNCED, Indexer
from app.index.stores import vectors
from app.index.stores.db import IndexDB
from app.index.stores.vectors import (
    VectorStore,
    VectorStoreUnavailableError,
    collection_name,
    server_collection_name,
)
from app.services import Services
from app.settings import Settings
from app.thread_store import ThreadStoreUnavailableError, redact
from tests.conftest import FakeEmbedder, write_tree

REPO = {
    "pkg/__init__.py": "",
    "pkg/a.py": "def alpha(x):\n    return beta(x) + 1\n\n\ndef beta(y):\n    return y * 2\n",
}
CHROMA_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{1,61}[a-zA-Z0-9]$")


def dead_url(scheme: str = "http") -> str:
    """A loopback URL nothing listens on (the port was bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"{scheme}://127.0.0.1:{port}"


@pytest.fixture
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the number of retries, drop the waits between them."""
    monkeypatch.setattr(VectorStore, "retry_delays", (0.0, 0.0))


def test_server_collections_are_per_index_directory(tmp_path: Path) -> None:
    a = server_collection_name(tmp_path / "one" / "idx" / "chroma", "minilm")
    b = server_collection_name(tmp_path / "two" / "idx" / "chroma", "minilm")
    assert a != b and a.startswith("idx-")
    assert a == server_collection_name(tmp_path / "one" / "idx" / "chroma", "minilm")
    long = server_collection_name(tmp_path / ("x" * 200) / "chroma", "/m/" + "y" * 200 + "_")
    for name in (a, b, long, server_collection_name(tmp_path / "_.-" / "chroma", "...")):
        assert CHROMA_NAME.match(name) and ".." not in name, name
    assert collection_name("minilm") == "chunks-minilm"  # embedded stores keep their name


@pytest.mark.usefixtures("no_wait")
def test_a_dead_server_is_tried_three_times_then_named(tmp_path, monkeypatch) -> None:
    attempts: list[str] = []
    real = vectors._http_client

    def counting(url: str):
        attempts.append(url)
        return real(url)

    monkeypatch.setattr(vectors, "_http_client", counting)
    url = dead_url()
    with pytest.raises(VectorStoreUnavailableError) as info:
        VectorStore(tmp_path / "chroma", "fake", url=url)
    message = str(info.value)
    assert len(attempts) == 3
    assert "\n" not in message
    assert message.startswith(f"the Chroma server at {url} does not answer (could not connect")
    assert "unset CODERAG_CHROMA_URL" in message and "run the command again" in message
    assert not (tmp_path / "chroma").exists()  # nothing embedded was created instead


def test_transient_connection_errors_are_retried_then_succeed() -> None:
    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise httpx.RemoteProtocolError("server disconnected")
        return "ok"

    assert vectors._retrying((0.0, 0.0), "http://x", flaky, "store vectors") == "ok"
    assert len(calls) == 3


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("bad embedding dimension")

    with pytest.raises(ValueError, match="dimension"):
        vectors._retrying((0.0, 0.0), "http://x", broken, "store vectors")
    assert len(calls) == 1


@pytest.mark.usefixtures("no_wait")
def test_indexing_against_a_dead_server_leaves_sqlite_consistent(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "repo", REPO)
    settings = Settings(index_dir=tmp_path / "idx", chroma_url=dead_url())
    with pytest.raises(VectorStoreUnavailableError):
        Indexer(root, settings, embedder=FakeEmbedder()).run()  # type: ignore[arg-type]
    db = IndexDB(tmp_path / "idx" / "index.db")
    try:
        assert set(db.file_rows()) == {"pkg/a.py"}
        assert db.count("chunks") > 0
        assert db.get_meta(VECTORS_SYNCED) == "0"  # the next run reconciles the vectors
    finally:
        db.close()
    # the server stays down: the user can still index without it (embedded vectors)
    report = Indexer(root, Settings(index_dir=tmp_path / "idx"), embedder=FakeEmbedder()).run()  # type: ignore[arg-type]
    assert report.vectors == report.chunks > 0


@pytest.mark.usefixtures("no_wait")
def test_cli_index_with_a_dead_server_exits_2_in_one_line(tmp_path, monkeypatch, capsys):
    root = write_tree(tmp_path / "repo", REPO)
    embedder = FakeEmbedder()
    monkeypatch.setattr(Services, "embedder", property(lambda self: embedder))
    monkeypatch.setenv("CODERAG_CHROMA_URL", dead_url())
    monkeypatch.setattr(sys, "argv", ["coderag", "index", str(root), "-q"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("error: the Chroma server at http://127.0.0.1:") and err.count("\n") == 1


def test_postgres_unreachable_fails_at_first_use_in_one_line(tmp_path: Path) -> None:
    url = dead_url("postgresql").replace("://", "://postgres:s3cret@") + "/test"
    settings = Settings(postgres_url=url, threads_db=tmp_path / "threads.sqlite")
    assistant = Assistant(Services(tmp_path, settings))
    with pytest.raises(ThreadStoreUnavailableError) as info:
        assistant.checkpointer  # noqa: B018 - opening the store is the point
    message = str(info.value)
    assert "\n" not in message and "s3cret" not in message
    assert message.startswith(f"PostgreSQL at {redact(url)} is not reachable (OperationalError")
    assert "CODERAG_POSTGRES_URL" in message
    assert not (tmp_path / "threads.sqlite").exists()  # no silent fallback to SQLite
    with pytest.raises(ThreadStoreUnavailableError):
        assistant.ask("hello")


def test_redact_hides_only_the_password() -> None:
    assert redact("postgresql://u:pw@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert redact("postgresql://u@h/db") == "postgresql://u@h/db"
