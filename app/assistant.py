"""Composition root of the question graph.

One repository's searcher, chat model, compiled graph and thread store, and a small driver
that streams progress and answers interrupts.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from graphs import Deps, QuestionContext, build_question_graph

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from app.retrieval.search import Searcher
    from app.services import Services

UpdateFn = Callable[[str, dict[str, Any]], None]
TokenFn = Callable[[str, str], None]
"""``(node, text)``: a piece of a chat-model reply as it is generated."""
InterruptFn = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass(slots=True)
class AskResult:
    """One answered turn."""

    question: str
    answer: str
    status: str
    citations: list[dict[str, Any]]
    hits: list[dict[str, Any]]
    trace: list[str]
    thread_id: str
    llm_calls: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    pending: dict[str, Any] | None = None
    """An unanswered interrupt (when no ``on_interrupt`` handler was given)."""

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``coderag ask --json``)."""
        return asdict(self)


class Assistant:
    """Answers questions about one repository through the compiled question graph."""

    def __init__(
        self,
        services: Services,
        *,
        llm: BaseChatModel | None = None,
        checkpointer: Any = None,
        searcher: Searcher | None = None,
    ) -> None:
        """Serve ``services``; the keyword arguments override the defaults.

        Defaults: the configured chat model, SQLite threads under the coderag home, and a new
        Searcher.
        """
        self.services = services
        self._llm = llm
        self._checkpointer = checkpointer
        self._searcher = searcher

    @cached_property
    def searcher(self) -> Searcher:
        """The repository's searcher (models load on first search)."""
        if self._searcher is None:
            from app.retrieval.search import Searcher

            self._searcher = Searcher(self.services)
        return self._searcher

    @cached_property
    def checkpointer(self) -> Any:
        """SQLite thread store shared by every repository (threads survive restarts)."""
        if self._checkpointer is None:
            from langgraph.checkpoint.sqlite import SqliteSaver

            path = self.services.settings.threads_db or (
                self.services.settings.home / "threads.sqlite"
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            self._checkpointer = SqliteSaver(sqlite3.connect(str(path), check_same_thread=False))
        return self._checkpointer

    def deps(self) -> Deps:
        """Return the services the question graph's nodes use."""
        from app.llm import structured

        llm = self._llm if self._llm is not None else self.services.llm
        s = self.searcher
        language = s.main_language() if self.services.layout.db.exists() else "python"
        return Deps(
            llm=llm,
            searcher=s,
            root=self.services.root,
            code_graph=s.code_graph,
            indexed=s.indexed_paths,
            texts=s.texts,
            structured=structured,
            language=language.capitalize(),
        )

    @cached_property
    def graph(self) -> Any:
        """The compiled question graph with this repository's services injected."""
        return build_question_graph(self.deps(), checkpointer=self.checkpointer)

    def ask(
        self,
        question: str,
        *,
        thread_id: str | None = None,
        context: QuestionContext | None = None,
        on_update: UpdateFn | None = None,
        on_interrupt: InterruptFn | None = None,
        on_token: TokenFn | None = None,
    ) -> AskResult:
        """Run one turn of the conversation ``thread_id``.

        Node updates stream to ``on_update``; ``on_interrupt`` answers the graph's questions
        (without it, the turn stops at the first interrupt and ``pending`` holds it);
        ``on_token`` receives the chat model's reply tokens as they come (a draft: the final
        answer has its citations resolved and checked).
        """
        from langgraph.types import Command

        tid = thread_id or uuid.uuid4().hex[:12]
        config = {"configurable": {"thread_id": tid}}
        ctx = context or QuestionContext()
        before = self.graph.get_state(config).values
        trace0, calls0 = len(before.get("trace", [])), before.get("llm_calls", 0)
        payload: Any = {"question": question}
        pending: dict[str, Any] | None = None
        while True:
            pending = None
            modes = ["updates", "messages"] if on_token is not None else ["updates"]
            for mode, chunk in self.graph.stream(payload, config, context=ctx, stream_mode=modes):
                if mode == "messages":
                    message, meta = chunk
                    text = message.content if isinstance(message.content, str) else ""
                    from_model = "ls_model_type" in meta  # not a message written to the state
                    if text and from_model and on_token is not None:
                        on_token(str(meta.get("langgraph_node", "")), text)
                    continue
                for node, update in chunk.items():
                    if node == "__interrupt__":
                        pending = dict(update[0].value)
                    elif on_update is not None:
                        on_update(node, update or {})
            if pending is None or on_interrupt is None:
                break
            payload = Command(resume=on_interrupt(pending))
        v = self.graph.get_state(config).values
        return AskResult(
            question=question,
            answer=v.get("answer", "") if pending is None else "",
            status=v.get("status", "answered") if pending is None else "interrupted",
            citations=list(v.get("citations", [])),
            hits=[
                {k: h[k] for k in ("path", "start_line", "end_line", "symbol", "score", "lanes")}
                for h in v.get("hits", [])
            ],
            trace=list(v.get("trace", []))[trace0:],
            thread_id=tid,
            llm_calls=int(v.get("llm_calls", 0)) - int(calls0),
            rejected=list(v.get("rejected", [])),
            pending=pending,
        )
