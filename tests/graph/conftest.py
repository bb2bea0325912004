"""Shared fixtures: one indexed fixture repository, a scripted chat model, a graph harness."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from app.answer import AnswerCheck, check_answer
from app.assistant import Assistant
from app.retrieval.search import Searcher
from graphs import Deps, QuestionContext, build_question_graph
from graphs import builder as graph_builder
from tests.graph.fakes import ScriptedChatModel, json_structured
from tests.unit.retrieval.test_retrieval_lanes import REPO, STORE_SPLIT, module_searcher

LOOPS_ON: dict[str, Any] = {"rewrite": True, "max_context_retries": 1}
"""The harness runs with the context-retry loop on (off by default, by measurement) so that
its bounds, fallbacks and interrupts are exercised; a test can still override both."""
GOOD_ANSWER = "It signs the message with the secret key [1]."
"""A draft whose only claim is backed by evidence block [1]."""


@pytest.fixture(scope="session")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    """``REPO`` indexed once with the fake embedder (the graph only reads it)."""
    yield from module_searcher(tmp_path_factory, REPO, chunk_max_tokens=STORE_SPLIT)


@pytest.fixture
def llm() -> ScriptedChatModel:
    """A scripted chat model; answers cite block [1] unless a test queues other replies."""
    return ScriptedChatModel(defaults={"answer": GOOD_ANSWER})


@dataclass
class Harness:
    """A compiled graph over ``searcher`` with its fakes, run turn by turn on threads."""

    graph: Any = field(repr=False)
    llm: ScriptedChatModel = field(repr=False)
    searcher: Searcher = field(repr=False)

    def ask(self, question: str, thread: str = "t", **context: Any) -> dict[str, Any]:
        """Run one turn; the output holds ``__interrupt__`` when the graph stopped to ask."""
        return self._invoke({"question": question}, thread, context)

    def resume(self, reply: Any, thread: str = "t", **context: Any) -> dict[str, Any]:
        """Answer the pending interrupt of ``thread`` with ``reply``."""
        return self._invoke(Command(resume=reply), thread, context)

    def check(self, answer: str) -> AnswerCheck:
        """Verify ``answer``'s citations and claims as check_answer does, independently."""
        return check_answer(
            answer, self.searcher.services.root, indexed=self.searcher.indexed_paths()
        )

    def state(self, thread: str = "t") -> dict[str, Any]:
        """The checkpointed state of ``thread``."""
        return dict(self.graph.get_state(self._config(thread)).values)

    def _invoke(self, payload: Any, thread: str, context: dict[str, Any]) -> dict[str, Any]:
        ctx = QuestionContext(**{**LOOPS_ON, **context})
        return dict(self.graph.invoke(payload, self._config(thread), context=ctx))

    @staticmethod
    def _config(thread: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread}}


def make_deps(searcher: Searcher, llm: Any, structured: Callable[[Any, type], Any]) -> Deps:
    """Deps as the composition root builds them, with the fakes plugged in."""
    deps = Assistant(searcher.services, llm=llm, searcher=searcher).deps()
    return replace(deps, structured=structured)


@pytest.fixture
def make_harness(searcher: Searcher, llm: ScriptedChatModel) -> Callable[..., Harness]:
    """Build a harness; ``structured`` defaults to parsing the scripted model's JSON replies."""

    def make(
        structured: Callable[[Any, type], Any] = json_structured,
        model: ScriptedChatModel | None = None,
    ) -> Harness:
        chat = model or llm
        deps = make_deps(searcher, chat, structured)
        graph = build_question_graph(deps, checkpointer=InMemorySaver())
        return Harness(graph, chat, searcher)

    return make


@pytest.fixture
def qa(make_harness: Callable[..., Harness]) -> Harness:
    """The default harness."""
    return make_harness()


@pytest.fixture
def fast_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real RetryPolicy (attempts, retry_on) without its back-off sleeps."""
    fast = graph_builder.SERVICE_RETRY._replace(initial_interval=0.001, jitter=False)
    monkeypatch.setattr(graph_builder, "SERVICE_RETRY", fast)
