"""The LangGraph question graph (state, context, nodes, builder); no I/O of its own."""

from graphs.builder import build_question_graph
from graphs.context import QuestionContext
from graphs.deps import Deps

__all__ = ["Deps", "QuestionContext", "build_question_graph"]
