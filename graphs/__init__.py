"""The LangGraph question graph (state, context, nodes, builder); no I/O of its own.

``build_question_graph`` is imported on first use: LangGraph's import costs most of a second,
which a server that must answer its client's handshake at once (``coderag mcp``) should not pay
before it has to.
"""

from typing import TYPE_CHECKING, Any

from graphs.context import QuestionContext
from graphs.deps import Deps

if TYPE_CHECKING:
    from graphs.builder import build_question_graph

__all__ = ["Deps", "QuestionContext", "build_question_graph"]


def __getattr__(name: str) -> Any:
    if name == "build_question_graph":
        from graphs.builder import build_question_graph

        return build_question_graph
    raise AttributeError(f"module 'graphs' has no attribute {name!r}")
