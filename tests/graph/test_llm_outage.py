"""A chat model that stays down past its retries: a one-line error naming the thread, the
thread saved up to the failed step, and the same question later finishing the turn."""

from __future__ import annotations

import socket

import httpx
import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from app.assistant import Assistant
from app.index.stores.vectors import VectorStoreUnavailableError
from app.llm import LLMUnavailableError, make_chat_model
from app.settings import Settings

STRONG = "how is a message signed with a secret key?"


def dead_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def assistant(searcher, llm) -> Assistant:
    return Assistant(searcher.services, llm=llm, checkpointer=InMemorySaver(), searcher=searcher)


def _config(thread: str) -> dict:
    return {"configurable": {"thread_id": thread}}


@pytest.mark.usefixtures("fast_retry")
def test_a_dead_model_fails_the_turn_in_one_line_and_keeps_the_thread(assistant, llm):
    llm.queue("answer", *[httpx.ConnectError("connection refused")] * 3)
    with pytest.raises(LLMUnavailableError) as info:
        assistant.ask(STRONG, thread_id="down", explain_outages=True)
    message = str(info.value)
    assert "\n" not in message
    assert "did not answer after retries (ConnectError: connection refused)" in message
    assert "--thread down" in message
    assert len(llm.calls("answer")) == 3  # bounded: the node's RetryPolicy, then give up
    snap = assistant.graph.get_state(_config("down"))
    assert snap.next == ("answer",)  # saved right before the failed step
    assert snap.values["hits"][0]["symbol"] == "auth.tokens.sign"
    assert [type(m) for m in snap.values["messages"]] == [HumanMessage]


@pytest.mark.usefixtures("fast_retry")
def test_asking_again_when_the_model_is_back_resumes_the_failed_turn(assistant, llm):
    llm.queue("answer", *[ConnectionError("refused")] * 3)
    with pytest.raises(ConnectionError):  # the client's own error without explain_outages
        assistant.ask(STRONG, thread_id="t")
    res = assistant.ask(STRONG, thread_id="t")  # the server is back: the queue is empty
    assert res.status == "answered" and res.citations[0]["path"] == "auth/tokens.py"
    assert len(llm.calls("answer")) == 4
    assert res.trace[0] == "condense" and res.trace[-1] == "finish"
    assert res.trace.count("retrieve") == 1  # resumed at answer, search not run again
    values = assistant.graph.get_state(_config("t")).values
    assert values["trace"].count("retrieve") == 1  # in the whole thread
    assert [type(m) for m in values["messages"]] == [HumanMessage, AIMessage]
    follow = assistant.ask("who calls sign?", thread_id="t")
    assert follow.status == "answered" and follow.trace[0] == "condense"


@pytest.mark.usefixtures("fast_retry")
def test_a_new_question_after_a_failed_turn_starts_a_new_turn(assistant, llm):
    llm.queue("answer", *[ConnectionError("refused")] * 3)
    with pytest.raises(ConnectionError):
        assistant.ask(STRONG, thread_id="t")
    res = assistant.ask("where is check_email defined?", thread_id="t")
    assert res.status == "answered" and res.trace[0] == "condense"
    assert "`check_email` is defined at store/users.py:25-28." in res.answer


def _failing_retrieve(error: Exception):
    def retrieve(*args, **kwargs):
        raise error

    return retrieve


def test_other_errors_are_not_dressed_as_model_outages(assistant, monkeypatch):
    monkeypatch.setattr(assistant.searcher, "retrieve", _failing_retrieve(KeyError("a bug")))
    with pytest.raises(KeyError):
        assistant.ask(STRONG, thread_id="bug")


def test_a_vector_store_outage_keeps_its_own_message(assistant, monkeypatch):
    try:
        raise httpx.ConnectError("refused")
    except httpx.ConnectError as cause:
        error = VectorStoreUnavailableError("the Chroma server at http://x does not answer")
        error.__cause__ = cause
    monkeypatch.setattr(assistant.searcher, "retrieve", _failing_retrieve(error))
    with pytest.raises(VectorStoreUnavailableError, match="Chroma server"):
        assistant.ask(STRONG, thread_id="chroma")


@pytest.mark.usefixtures("fast_retry")
def test_real_ollama_client_at_a_dead_port(searcher):
    """``CODERAG_LLM=ollama:x`` with nothing listening: retried, then one line with the URL."""
    port = dead_port()
    settings = Settings(llm="ollama:x", ollama_host=f"127.0.0.1:{port}")
    model = make_chat_model(settings)
    assistant = Assistant(
        searcher.services, llm=model, checkpointer=InMemorySaver(), searcher=searcher
    )
    with pytest.raises(LLMUnavailableError) as info:
        assistant.ask(STRONG, thread_id="ollama", explain_outages=True)
    message = str(info.value)
    assert "\n" not in message
    assert f"is `ollama serve` running at http://127.0.0.1:{port}?" in message
    assert "ConnectError" in message and "--thread ollama" in message
    snap = assistant.graph.get_state(_config("ollama"))
    assert snap.next == ("answer",) and snap.values["hits"]
