"""``coderag ask`` with the chat model down past its retries: one line that names the thread,
then the same command with ``--thread`` finishes the turn once the model is back."""

from __future__ import annotations

import json
import re
import socket
import sys

import pytest

from app.cli.main import main
from app.settings import Settings
from graphs import builder
from tests.cli.test_chat_repl import messages

STRONG = "how is a message signed with a secret key?"


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["coderag", *args])
    try:
        main()
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_ask_after_an_outage_resumes_the_thread(repo, llm, tmp_path, monkeypatch, capsys):
    fast = builder.SERVICE_RETRY._replace(initial_interval=0.001, jitter=False)
    monkeypatch.setattr(builder, "SERVICE_RETRY", fast)
    llm.queue("answer", *[ConnectionRefusedError("llm down")] * 3)
    code = run_main(monkeypatch, "ask", STRONG, "--repo", str(repo), "-q")
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("error: the chat model did not answer after retries ")
    assert "(ConnectionRefusedError: llm down)" in err
    match = re.search(r"--thread (\w+) to resume", err)
    assert match, err
    thread = match.group(1)
    code = run_main(monkeypatch, "ask", STRONG, "--repo", str(repo), "--thread", thread, "--json")
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["status"] == "answered" and out["thread_id"] == thread
    assert out["citations"][0]["path"] == "auth/tokens.py"
    assert out["trace"].count("retrieve") == 1 and len(llm.calls("answer")) == 4
    assert messages(tmp_path, thread).count(STRONG) == 1  # went on with the turn, not again


def test_ask_with_postgres_down_fails_before_indexing(repo, llm, monkeypatch, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CODERAG_POSTGRES_URL", f"postgresql://postgres@127.0.0.1:{port}/test")
    code = run_main(monkeypatch, "ask", STRONG, "--repo", str(repo), "-q")
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert err.startswith(f"error: PostgreSQL at postgresql://postgres@127.0.0.1:{port}/test is")
    assert not Settings().index_dir_for(repo).exists()  # nothing was indexed first
    assert llm.calls() == []


def test_chat_with_the_thread_database_down_fails_before_indexing(
    repo, llm, tmp_path, monkeypatch, capsys
):
    from tests.unit.test_services_down import dead_url

    monkeypatch.setenv("CODERAG_POSTGRES_URL", dead_url("postgresql") + "/test")
    index_dir = tmp_path / "idx"
    code = run_main(monkeypatch, "chat", "--repo", str(repo), "--index-dir", str(index_dir))
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "PostgreSQL" in err, err
    assert not (index_dir / "index.db").exists()  # it failed before any indexing work
