"""The services the question graph's nodes use, built once at the composition root."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from app.codegraph.queries import CodeGraph
    from app.retrieval.search import Searcher


@dataclass(slots=True)
class Deps:
    """Heavy services injected into the nodes (tests pass fakes)."""

    llm: BaseChatModel
    searcher: Searcher
    root: Path
    """Repository root: citations are re-opened under it."""
    code_graph: Callable[[], CodeGraph]
    indexed: Callable[[], Collection[str]]
    """Relative paths of the indexed files (a citation must name one)."""
    texts: Callable[[Sequence[str]], Mapping[str, str]]
    """Chunk ids -> chunk text."""
    structured: Callable[[Any, type], Any]
    """``structured(llm, PydanticModel)`` -> a runnable returning that model (JSON-schema
    constrained where the provider supports it)."""
    language: str = "Python"
    """The repository's main language, for hypothetical code."""
