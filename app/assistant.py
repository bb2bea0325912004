"""Composition root of the question graph.

One repository's searcher, chat model, compiled graph and thread store, and a small driver
that streams progress and answers interrupts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from graphs import Deps, QuestionContext

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
    degraded: str | None = None
    """Why the index this answer read was partial (still embedding, Python calls still
    resolving), else None; None too for a turn that read no index (chitchat)."""

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
        self._owns = checkpointer is None
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
        """Thread store shared by every repository (threads survive restarts).

        PostgreSQL when ``postgres_url`` is set, else SQLite under the coderag home.

        Raises:
            ThreadStoreUnavailableError: when PostgreSQL does not accept a connection.
        """
        if self._checkpointer is None:
            from app.thread_store import open_checkpointer

            self._checkpointer = open_checkpointer(self.services.settings)
        return self._checkpointer

    def close(self) -> None:
        """Release the thread store's connections (the default store only, not a given one)."""
        if self._owns and self._checkpointer is not None:
            from app.thread_store import close_checkpointer

            close_checkpointer(self._checkpointer)

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
        saver = self.checkpointer  # a thread store that is down fails before a model loads
        from graphs.builder import build_question_graph

        return build_question_graph(self.deps(), checkpointer=saver)

    def ask(
        self,
        question: str,
        *,
        thread_id: str | None = None,
        context: QuestionContext | None = None,
        on_update: UpdateFn | None = None,
        on_interrupt: InterruptFn | None = None,
        on_token: TokenFn | None = None,
        explain_outages: bool = False,
    ) -> AskResult:
        """Run one turn of the conversation ``thread_id``.

        Node updates stream to ``on_update``; ``on_interrupt`` answers the graph's questions
        (without it, the turn stops at the first interrupt and ``pending`` holds it);
        ``on_token`` receives the chat model's reply tokens as they come (a draft: the final
        answer has its citations resolved and checked).

        A turn that breaks midway stays saved up to the step that broke; asking the same
        question again on the thread goes on from there. PostgreSQL failing during the turn
        raises :class:`~app.thread_store.ThreadStoreUnavailableError`; with
        ``explain_outages``, a chat model still down after its retries raises
        :class:`~app.llm.LLMUnavailableError` saying what to do and how to resume (else the
        client's own error).
        """
        tid = thread_id or uuid.uuid4().hex[:12]
        try:
            return self._ask(question, tid, context, on_update, on_interrupt, on_token)
        except Exception as exc:
            error = self._outage(exc, tid, llm=explain_outages)
            if error is None:
                raise
            raise error from exc

    def _outage(self, exc: Exception, thread_id: str, *, llm: bool) -> Exception | None:
        """Return a one-line error for a service that went away during a turn, else None."""
        from app.index.stores.vectors import VectorStoreUnavailableError
        from app.llm import LLMUnavailableError, is_transient, outage_error
        from app.thread_store import ThreadStoreUnavailableError

        clear = (LLMUnavailableError, VectorStoreUnavailableError, ThreadStoreUnavailableError)
        if isinstance(exc, clear):
            return None  # already says which service and what to do
        url = self.services.settings.postgres_url
        if url:
            from app.thread_store import is_database_error
            from app.thread_store import outage_error as thread_store_down

            if is_database_error(exc):
                return thread_store_down(url, exc, thread_id)
        if llm and is_transient(exc):
            model = self._llm if self._llm is not None else self.services.llm
            return outage_error(model, exc, thread_id)
        return None

    def _ask(
        self,
        question: str,
        tid: str,
        context: QuestionContext | None,
        on_update: UpdateFn | None,
        on_interrupt: InterruptFn | None,
        on_token: TokenFn | None,
    ) -> AskResult:
        from langgraph.types import Command

        config = {"configurable": {"thread_id": tid}}
        ctx = context or QuestionContext()
        snapshot = self.graph.get_state(config)
        before = snapshot.values
        trace0, calls0 = len(before.get("trace", [])), before.get("llm_calls", 0)
        payload: Any = {"question": question}
        if _broken_turn(snapshot, question):
            # the same question again after a failure: go on from the step that broke
            from graphs.state import turn_start

            payload, trace0 = None, turn_start(before.get("trace", []))
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
        trace = list(v.get("trace", []))[trace0:]
        read_index = any(step in trace for step in ("retrieve", "graph_answer"))
        return AskResult(
            question=question,
            answer=v.get("answer", "") if pending is None else "",
            status=v.get("status", "answered") if pending is None else "interrupted",
            citations=list(v.get("citations", [])),
            hits=[
                {k: h[k] for k in ("path", "start_line", "end_line", "symbol", "score", "lanes")}
                for h in v.get("hits", [])
            ],
            trace=trace,
            thread_id=tid,
            llm_calls=int(v.get("llm_calls", 0)) - int(calls0),
            rejected=list(v.get("rejected", [])),
            pending=pending,
            degraded=self.searcher.degraded() if read_index else None,
        )


def _broken_turn(snapshot: Any, question: str) -> bool:
    """Return True when the thread's last turn asked ``question`` and stopped midway.

    Midway and not at an interrupt: a step failed (a server went away) or the process died.
    """
    broken = bool(snapshot.next) and not snapshot.interrupts
    return broken and snapshot.values.get("question") == question
