"""Wire the question graph: condense -> route -> ... -> answer -> check_answer -> finish.

step_back and expand_query sit between hyde and retrieve, reached only when switched on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.types import RetryPolicy

from graphs.context import QuestionContext
from graphs.deps import Deps
from graphs.nodes import plan, respond, search, understand, variants, verify
from graphs.state import InputState, QuestionState


def _transient(exc: Exception) -> bool:
    from app.llm import is_transient

    return is_transient(exc)


SERVICE_RETRY = RetryPolicy(max_attempts=3, initial_interval=0.5, retry_on=_transient)
"""Nodes that call the chat model retry transient failures (server starting, timeouts)."""


def after_route(
    state: QuestionState,
) -> Literal["graph_answer", "chitchat", "retrieve", "decompose"]:
    """Send call-graph questions to the code graph and lookups straight to search."""
    route = state.get("route", "conceptual")
    if route == "callgraph":
        return "graph_answer"
    if route == "chitchat":
        return "chitchat"
    return "retrieve" if route == "symbol" else "decompose"


def build_question_graph(deps: Deps, *, checkpointer: Any = None, name: str = "coderag") -> Any:
    """Compile the graph with ``deps`` injected into the nodes that need services."""
    g = StateGraph(QuestionState, input_schema=InputState, context_schema=QuestionContext)
    llm_nodes: dict[str, Callable[..., Any]] = {
        "condense": understand.condense,
        "decompose": plan.decompose,
        "hyde": plan.hyde,
        "step_back": variants.step_back,
        "expand_query": variants.expand_query,
        "rewrite": search.rewrite,
        "answer": respond.answer,
    }
    for node_name, fn in llm_nodes.items():
        g.add_node(node_name, partial(fn, deps=deps), retry_policy=SERVICE_RETRY)
    g.add_node("route", understand.route)
    g.add_node("review_plan", plan.review_plan)
    g.add_node("retrieve", partial(search.retrieve, deps=deps))
    g.add_node("expand", partial(search.expand, deps=deps))
    g.add_node("rerank", partial(search.rerank, deps=deps))
    g.add_node("check_context", search.check_context)
    g.add_node("low_confidence", search.low_confidence)
    g.add_node("graph_answer", partial(respond.graph_answer, deps=deps))
    g.add_node("chitchat", partial(respond.chitchat, deps=deps))
    g.add_node("check_answer", partial(verify.check_answer, deps=deps))
    g.add_node("finish", respond.finish)

    g.add_edge(START, "condense")
    g.add_edge("condense", "route")
    g.add_conditional_edges("route", after_route)
    g.add_edge("decompose", "review_plan")
    g.add_conditional_edges("hyde", variants.after_hyde)
    g.add_conditional_edges("step_back", variants.after_step_back)
    g.add_edge("expand_query", "retrieve")
    g.add_edge("retrieve", "expand")
    g.add_edge("expand", "rerank")
    g.add_edge("rerank", "check_context")
    g.add_edge("rewrite", "retrieve")
    g.add_edge("answer", "check_answer")
    g.add_edge("graph_answer", "check_answer")
    g.add_edge("chitchat", "finish")
    g.add_edge("finish", END)
    return g.compile(checkpointer=checkpointer, name=name)
