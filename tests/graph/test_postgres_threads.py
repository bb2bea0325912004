"""Conversation threads in PostgreSQL (``CODERAG_POSTGRES_URL``): persisted, resumed by a new
Assistant, surviving a dropped connection, and left resumable when the database goes away."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from app.assistant import Assistant
from app.services import Services
from app.thread_store import ThreadStoreUnavailableError, one_line

PG_URL = os.environ.get("CODERAG_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
"""The test server (CI runs one); CODERAG_TEST_POSTGRES_URL points elsewhere."""
STRONG = "how is a message signed with a secret key?"


@pytest.fixture(scope="module")
def pg_url() -> str:
    try:
        psycopg.connect(PG_URL, connect_timeout=3).close()
    except psycopg.Error as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {one_line(exc)}")
    return PG_URL


@pytest.fixture
def thread_id(pg_url: str) -> Iterator[str]:
    """A thread id no other run uses; its rows are deleted afterwards."""
    tid = f"test-{uuid.uuid4().hex}"
    yield tid
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for table in ("checkpoints", "checkpoint_blobs", "checkpoint_writes"):
            conn.execute(f"DELETE FROM {table} WHERE thread_id = %s", (tid,))


@pytest.fixture
def make_assistant(searcher, llm, pg_url: str, tmp_path) -> Iterator[Callable[[], Assistant]]:
    """Assistants on the shared searcher whose threads live in PostgreSQL (closed at the end).

    Their home is the test's own folder, so a ``threads.sqlite`` there can only be theirs.
    """
    made: list[Assistant] = []

    def make() -> Assistant:
        update = {"postgres_url": pg_url, "home": tmp_path}
        settings = searcher.services.settings.model_copy(update=update)
        a = Assistant(Services(searcher.services.root, settings), llm=llm, searcher=searcher)
        made.append(a)
        return a

    yield make
    for a in made:
        a.close()


def rows(pg_url: str, thread_id: str) -> int:
    with psycopg.connect(pg_url) as conn:
        got = conn.execute("SELECT count(*) FROM checkpoints WHERE thread_id = %s", (thread_id,))
        row = got.fetchone()
    return int(row[0]) if row else 0


def test_a_thread_persists_and_a_new_assistant_resumes_it(make_assistant, llm, pg_url, thread_id):
    from langgraph.checkpoint.postgres import PostgresSaver

    one = make_assistant()
    first = one.ask("where is check_email defined?", thread_id=thread_id)
    assert isinstance(one.checkpointer, PostgresSaver)
    assert first.status == "answered" and rows(pg_url, thread_id) > 0
    one.close()
    two = make_assistant()  # another process, as far as the thread store knows
    res = two.ask("who calls it?", thread_id=thread_id)
    assert res.trace == ["condense", "route", "graph_answer", "check_answer", "finish"]
    assert "`check_email` is defined at store/users.py:25-28." in res.answer
    assert len(llm.calls("condense")) == 1  # condensed against the first turn, read from PG
    messages = two.graph.get_state({"configurable": {"thread_id": thread_id}}).values["messages"]
    assert len(messages) == 4
    assert not (two.services.settings.home / "threads.sqlite").exists()


def test_a_dropped_connection_costs_one_reconnect(make_assistant, pg_url, thread_id):
    assistant = make_assistant()
    assistant.ask("where is check_email defined?", thread_id=thread_id)
    pool = assistant.checkpointer.conn
    with pool.connection() as conn:
        pid = conn.info.backend_pid
    with psycopg.connect(pg_url, autocommit=True) as admin:  # as a server restart would
        row = admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()
        assert row == (True,)
    res = assistant.ask("who calls it?", thread_id=thread_id)
    assert res.status == "answered" and res.trace[0] == "condense"
    assert pool.get_stats().get("connections_lost", 0) >= 1  # noticed and replaced


def test_the_database_going_away_mid_turn_leaves_the_thread_resumable(
    make_assistant, pg_url, thread_id
):
    assistant = make_assistant()

    def outage(node: str, update: dict[str, Any]) -> None:
        if node == "retrieve":
            assistant.checkpointer.conn.close()  # every later save fails

    with pytest.raises(ThreadStoreUnavailableError) as info:
        assistant.ask(STRONG, thread_id=thread_id, on_update=outage)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"PostgreSQL at {pg_url} stopped")
    assert f"--thread {thread_id}" in message
    later = make_assistant()  # the server is back
    saved = later.graph.get_state({"configurable": {"thread_id": thread_id}})
    # the checkpoints written before the outage: how many depends on the background saves (on a
    # busy machine only the turn's input, or nothing, reached the server before the close)
    assert saved.values.get("question", STRONG) == STRONG
    assert "answer" not in saved.values.get("trace", [])
    res = later.ask(STRONG, thread_id=thread_id)
    assert res.status == "answered" and res.citations[0]["path"] == "auth/tokens.py"
    values = later.graph.get_state({"configurable": {"thread_id": thread_id}}).values
    assert values["trace"].count("condense") == 1  # the broken turn went on, not again
    assert values["question"] == STRONG and len(values["messages"]) == 2
