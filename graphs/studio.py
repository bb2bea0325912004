"""The graphs ``langgraph dev`` serves to LangGraph Studio (see langgraph.json).

The repository is ``CODERAG_REPO`` (default: the directory the server starts in); every other
``CODERAG_*`` setting applies as in the CLI. Both graphs are compiled once, at import (before
the server checks for blocking calls), without a checkpointer: the server persists threads
itself. Nothing heavy happens here: the searcher reads the index on the first search (or here,
when the index already exists, to learn its main language) and the chat model starts on the
first LLM call, so runs that need no LLM never start llama.cpp.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel, Field, PrivateAttr

from app.retrieval.search import Searcher
from app.services import Services
from app.settings import Settings
from graphs.builder import build_question_graph
from graphs.deps import Deps
from graphs.index_graph import build_index_graph


class StudioSettings(Settings):
    """The application settings plus the repository the server answers about."""

    repo: Path = Field(default_factory=Path.cwd)
    """``CODERAG_REPO``: the repository to index and question."""


class LazyChatModel(BaseChatModel):
    """Stands in for a chat model and creates it on first use (thread-safe, once)."""

    factory: Callable[[], BaseChatModel]
    _model: BaseChatModel | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "coderag-lazy"

    @property
    def model(self) -> BaseChatModel:
        """The real chat model, created by ``factory`` on first access."""
        with self._lock:
            if self._model is None:
                self._model = self.factory()
            return self._model

    def invoke(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AIMessage:
        """Call the real model (its own callbacks and token streaming apply)."""
        return self.model.invoke(input, config, stop=stop, **kwargs)

    def with_structured_output(
        self, schema: dict[str, Any] | type, *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Return the real model's structured runnable (constrained decoding stays on)."""
        return self.model.with_structured_output(schema, include_raw=include_raw, **kwargs)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self.model._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


def question_deps(services: Services, searcher: Searcher) -> Deps:
    """Wire the question graph's services as the CLI does, with a chat model made on first use."""
    from app.assistant import Assistant

    lazy = LazyChatModel(factory=lambda: services.llm)
    return Assistant(services, llm=lazy, searcher=searcher).deps()


_settings = StudioSettings()
_services = Services(_settings.repo, _settings)
_searcher = Searcher(_services)

question_graph = build_question_graph(question_deps(_services, _searcher), name="coderag")
"""Ask about the repository: input ``{"question": ...}``, run context ``QuestionContext``."""
index_graph = build_index_graph(_searcher.update_index)
"""Bring the repository's index up to date (the question graph sees the result at once)."""
