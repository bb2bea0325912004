"""Other graphs using coderag: an agent calling the code tools, the question graph as a subgraph."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypedDict

import pytest
from langchain.agents import create_agent
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph import END, START, StateGraph
from pydantic import Field

from app.assistant import Assistant
from graphs import build_question_graph
from tests.graph.conftest import make_deps
from tests.graph.fakes import json_structured
from tools import TOOL_SPECS, make_tools

STRONG = "how is a message signed with a secret key?"


class ToolCallingFake(GenericFakeChatModel):
    """Replays scripted AI messages (tool calls included) and records what it was shown."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)
    bound: list[str] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ToolCallingFake:
        self.bound = [getattr(t, "name", str(t)) for t in tools]
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


def tool_call(name: str, args: dict[str, Any], call_id: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": call_id}])


@pytest.fixture
def assistant(searcher, llm) -> Assistant:
    return Assistant(searcher.services, llm=llm, checkpointer=InMemorySaver(), searcher=searcher)


def test_an_agent_searches_then_asks_then_answers(assistant, llm):
    model = ToolCallingFake(
        messages=iter(
            [
                tool_call("search_code", {"query": "sign message secret key", "k": 3}, "c1"),
                tool_call("ask_codebase", {"question": STRONG}, "c2"),
                AIMessage("Messages are signed by auth.tokens.sign (auth/tokens.py:4-6)."),
            ]
        )
    )
    agent = create_agent(model, tools=make_tools(assistant))
    out = agent.invoke({"messages": [HumanMessage("How are messages signed here?")]})

    assert model.bound == [spec.name for spec in TOOL_SPECS]  # the six, in order
    results = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert [(m.name, m.tool_call_id, m.status) for m in results] == [
        ("search_code", "c1", "success"),
        ("ask_codebase", "c2", "success"),
    ]
    hits = json.loads(str(results[0].content))
    assert hits[0]["path"] == "auth/tokens.py" and hits[0]["symbol"] == "auth.tokens.sign"
    assert len(hits) == 3
    answer = json.loads(str(results[1].content))
    assert answer["status"] == "answered"
    assert answer["citations"][0] == {"path": "auth/tokens.py", "start_line": 4, "end_line": 6}
    assert llm.calls("answer")  # the question graph's own LLM wrote the cited answer
    # the agent's model saw each tool result before its next turn, and the final answer ends it
    assert len(model.seen) == 3
    assert isinstance(model.seen[1][-1], ToolMessage) and model.seen[1][-1].tool_call_id == "c1"
    assert isinstance(model.seen[2][-1], ToolMessage) and model.seen[2][-1].tool_call_id == "c2"
    assert out["messages"][-1].content.startswith("Messages are signed by auth.tokens.sign")


def test_an_agent_recovers_from_a_refused_read(assistant):
    model = ToolCallingFake(
        messages=iter(
            [
                tool_call(
                    "read_span", {"path": "../etc/passwd", "start_line": 1, "end_line": 5}, "r1"
                ),
                tool_call(
                    "read_span", {"path": "auth/tokens.py", "start_line": 4, "end_line": 6}, "r2"
                ),
                AIMessage("done"),
            ]
        )
    )
    out = create_agent(model, tools=make_tools(assistant)).invoke(
        {"messages": [HumanMessage("show me the signing code")]}
    )
    refused, read = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert refused.content == "error: ../etc/passwd: path escapes the repository root"
    assert str(read.content).splitlines()[:2] == [
        "auth/tokens.py:4-6",
        "4  def sign(secret, message):",
    ]
    assert out["messages"][-1].content == "done"


class ParentState(TypedDict, total=False):
    """A parent workflow: a task comes in, a report goes out; the subgraph fills the middle."""

    task: str
    question: str
    answer: str
    citations: list[dict[str, Any]]
    status: str
    report: str


def test_the_question_graph_runs_as_a_subgraph(searcher, llm):
    qa = build_question_graph(make_deps(searcher, llm, json_structured))  # parent checkpoints

    def to_question(state: ParentState) -> dict[str, Any]:
        return {"question": state["task"].removeprefix("Investigate: ")}

    def write_report(state: ParentState) -> dict[str, Any]:
        cited = ", ".join(
            f"{c['path']}:{c['start_line']}-{c['end_line']}" for c in state["citations"]
        )
        return {"report": f"[{state['status']}] {cited}"}

    parent = StateGraph(ParentState)
    parent.add_node("to_question", to_question)
    parent.add_node("coderag", qa)
    parent.add_node("write_report", write_report)
    parent.add_edge(START, "to_question")
    parent.add_edge("to_question", "coderag")
    parent.add_edge("coderag", "write_report")
    parent.add_edge("write_report", END)
    app = parent.compile(checkpointer=InMemorySaver())

    config = {"configurable": {"thread_id": "parent-1"}}
    out = app.invoke({"task": f"Investigate: {STRONG}"}, config)
    assert out["question"] == STRONG
    assert out["status"] == "answered"
    assert out["citations"][0] == {"path": "auth/tokens.py", "start_line": 4, "end_line": 6}
    assert out["report"].startswith("[answered] auth/tokens.py:4-6")
    assert "(auth/tokens.py:4-6)" in out["answer"]
    assert "messages" not in out and "trace" not in out  # only shared keys reach the parent

    # a second task on the same parent thread is a new turn of the subgraph
    again = app.invoke({"task": "Investigate: who calls save_user?"}, config)
    assert again["answer"].startswith("`save_user` is defined at store/users.py:19-22.")
    assert again["report"] == (
        "[answered] store/users.py:19-22, api/handlers.py:4-6, api/handlers.py:9-11"
    )


def test_the_question_graph_invoked_inside_a_node(searcher, llm):
    """A node maps its own state to the subgraph's input and back (no shared keys needed)."""
    qa = build_question_graph(make_deps(searcher, llm, json_structured))

    class Review(TypedDict, total=False):
        symbol: str
        findings: list[str]

    def investigate(state: Review) -> dict[str, Any]:
        result = qa.invoke({"question": f"who calls {state['symbol']}?"})
        return {"findings": [f"{c['path']}:{c['start_line']}" for c in result["citations"]]}

    g = StateGraph(Review)
    g.add_node("investigate", investigate)
    g.add_edge(START, "investigate")
    g.add_edge("investigate", END)
    out = g.compile(checkpointer=InMemorySaver()).invoke(
        {"symbol": "check_email"}, {"configurable": {"thread_id": "review-1"}}
    )
    assert out["findings"] == ["store/users.py:25", "store/users.py:19"]
