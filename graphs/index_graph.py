"""A two-node graph that brings a repository's index up to date: index -> summarise.

The indexing function is injected (the composition root passes ``Searcher.update_index``), so
the graph itself does no I/O; phase starts and ends stream as ``custom`` events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict  # pydantic (the server's JSON schemas) needs it on 3.11

if TYPE_CHECKING:
    from app.index.progress import Progress
    from app.index.report import IndexReport

IndexFn = Callable[["Progress"], "IndexReport"]


class IndexInput(TypedDict, total=False):
    """A run takes no input: the repository and the settings are the server's."""


class IndexState(IndexInput, total=False):
    """The indexing run's result."""

    report: dict[str, Any]
    """The ``IndexReport`` as JSON: files, chunks, symbols, edges, seconds per phase..."""
    summary: str
    """One line for people: what changed and how big the index is."""


class StreamProgress:
    """Progress sink that streams each phase's start and end to the run's ``custom`` stream."""

    def __init__(self, write: Callable[[Any], None]) -> None:
        """Send events through ``write`` (LangGraph's stream writer)."""
        self._write = write

    def start(self, phase: str, total: int | None) -> None:
        """Report that ``phase`` began with ``total`` units."""
        self._write({"phase": phase, "event": "start", "total": total})

    def advance(self, phase: str, n: int = 1) -> None:
        """Ignore unit progress (too chatty for a stream)."""

    def end(self, phase: str) -> None:
        """Report that ``phase`` finished."""
        self._write({"phase": phase, "event": "end"})


def summarise(state: IndexState) -> dict[str, Any]:
    """Condense the report to one line."""
    r = state.get("report", {})
    changes = ", ".join(f"{r.get(k, 0)} {k}" for k in ("added", "changed", "deleted"))
    dense = f"{r.get('vectors', 0)} vectors" if r.get("dense", True) else "no vectors"
    took = r.get("seconds", {}).get("total", 0.0)
    return {
        "summary": f"{r.get('files', 0)} files ({changes}), {r.get('chunks', 0)} chunks, "
        f"{r.get('symbols', 0)} symbols, {dense}; {took:.1f}s"
    }


def build_index_graph(index: IndexFn, *, name: str = "coderag-index") -> Any:
    """Compile index -> summarise around ``index`` (called with a progress sink)."""

    def run_index(state: IndexState) -> dict[str, Any]:
        """Index incrementally and keep the report as plain JSON."""
        return {"report": index(StreamProgress(get_stream_writer())).to_json()}

    g = StateGraph(IndexState, input_schema=IndexInput)
    g.add_node("index", run_index)
    g.add_node("summarise", summarise)
    g.add_edge(START, "index")
    g.add_edge("index", "summarise")
    g.add_edge("summarise", END)
    return g.compile(name=name)
