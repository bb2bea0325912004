"""``Assistant.ask``: per-turn results, progress, interrupts, and threads that persist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from app.assistant import AskResult, Assistant
from app.services import Services
from graphs import QuestionContext

STRONG = "how is a message signed with a secret key?"
WEAK = "how does the kubernetes operator reconcile pods?"


@pytest.fixture
def assistant(searcher, llm) -> Assistant:
    return Assistant(searcher.services, llm=llm, checkpointer=InMemorySaver(), searcher=searcher)


def test_ask_answers_with_verified_citations(assistant):
    res = assistant.ask(STRONG, thread_id="t1")
    assert isinstance(res, AskResult) and res.thread_id == "t1"
    assert res.status == "answered" and res.pending is None
    assert res.question == STRONG
    assert res.citations[0] == {"path": "auth/tokens.py", "start_line": 4, "end_line": 6}
    assert res.hits[0]["symbol"] == "auth.tokens.sign"
    assert set(res.hits[0]) == {"path", "start_line", "end_line", "symbol", "score", "lanes"}
    assert res.trace[0] == "condense" and res.trace[-1] == "finish"
    assert res.llm_calls == 1 and res.rejected == []
    assert json.loads(json.dumps(res.to_json()))["answer"] == res.answer


def test_trace_and_llm_calls_are_per_turn(assistant, llm):
    first = assistant.ask(STRONG, thread_id="t")
    llm.queue("condense", "who calls sign?")
    second = assistant.ask("who calls that function?", thread_id="t")
    assert first.llm_calls == 1 and second.llm_calls == 1  # condense only, not 2
    assert second.trace == ["condense", "route", "graph_answer", "check_answer", "finish"]
    assert second.answer.startswith("`sign` is defined at auth/tokens.py:4-6.")


def test_a_new_thread_id_is_made_when_none_is_given(assistant):
    a, b = assistant.ask("hello"), assistant.ask("hello")
    assert a.thread_id and b.thread_id and a.thread_id != b.thread_id
    assert a.status == "chitchat" and a.citations == []


def test_progress_reaches_on_update_in_order(assistant):
    seen: list[str] = []
    res = assistant.ask(STRONG, on_update=lambda node, update: seen.append(node))
    assert seen == [
        "condense",
        "route",
        "decompose",
        "review_plan",
        "hyde",
        "retrieve",
        "expand",
        "rerank",
        "check_context",
        "answer",
        "check_answer",
        "finish",
    ]
    assert [t.split(":")[0] for t in res.trace] == seen


def test_on_interrupt_answers_every_question(assistant):
    requests: list[dict] = []

    def human(request: dict) -> dict:
        requests.append(request)
        return {"action": "approve"} if request["type"] == "review_plan" else {"action": "answer"}

    res = assistant.ask(WEAK, context=QuestionContext(interactive=True), on_interrupt=human)
    assert [r["type"] for r in requests] == ["review_plan", "low_confidence"]
    assert res.status == "answered" and res.pending is None and res.answer
    assert "answer_anyway" in res.trace and res.trace[-1] == "finish"


def test_without_on_interrupt_the_request_is_returned(assistant):
    res = assistant.ask(STRONG, context=QuestionContext(interactive=True))
    assert res.status == "interrupted" and res.answer == ""
    assert res.pending == {"type": "review_plan", "plan": [STRONG]}


def test_a_model_without_structured_output_falls_back(assistant, llm):
    # ScriptedChatModel has no tool calling: app.llm.structured cannot bind a schema
    res = assistant.ask(STRONG, context=QuestionContext(decompose=True, hyde=True))
    assert res.status == "answered" and "decompose" in res.trace
    state = assistant.graph.get_state({"configurable": {"thread_id": res.thread_id}}).values
    assert state["plan"] == [STRONG]
    assert llm.calls("hyde")[0].startswith("Write a short Python code snippet")


def test_sqlite_threads_survive_a_new_assistant(searcher, llm, tmp_path: Path):
    db = tmp_path / "threads" / "threads.sqlite"

    def fresh() -> Assistant:
        settings = searcher.services.settings.model_copy(update={"threads_db": db})
        return Assistant(Services(searcher.services.root, settings), llm=llm, searcher=searcher)

    one = fresh()
    one.ask("where is check_email defined?", thread_id="persist")
    one.checkpointer.conn.close()
    assert db.is_file()
    two = fresh()
    res = two.ask("who calls it?", thread_id="persist")
    two.checkpointer.conn.close()
    assert res.trace == ["condense", "route", "graph_answer", "check_answer", "finish"]
    assert "`check_email` is defined at store/users.py:25-28." in res.answer
    assert res.citations[1] == {"path": "store/users.py", "start_line": 19, "end_line": 21}
    assert len(llm.calls("condense")) == 1  # the second process saw the first turn


def test_reply_tokens_reach_on_token_with_their_node(assistant, llm):
    tokens: list[tuple[str, str]] = []
    res = assistant.ask(STRONG, on_token=lambda node, text: tokens.append((node, text)))
    drafted = "".join(text for node, text in tokens if node == "answer")
    assert drafted.startswith(llm.defaults["answer"].split("[")[0].strip()[:20])
    assert {node for node, _ in tokens} == {"answer"}  # only nodes that call the model
    assert res.status == "answered" and "[1]" not in res.answer  # the final text is resolved
