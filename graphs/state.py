"""The question graph's state: plain values only, so any checkpointer can store it."""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from typing_extensions import TypedDict

Route = Literal["symbol", "callgraph", "conceptual", "chitchat"]
Relation = Literal["callers", "callees", "definition"]
Status = Literal["answered", "no_evidence", "aborted", "chitchat"]


class InputState(TypedDict, total=False):
    """What a caller passes in: the new question (the thread keeps the rest)."""

    question: str
    """The user's latest question, as typed."""


class QuestionState(InputState, total=False):
    """Everything the nodes read and write."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation so far (questions and final answers), kept across turns."""
    standalone: str
    """The question rewritten to stand alone (condense)."""
    route: Route
    """Which path the question takes."""
    target: str
    """The symbol a call-graph or symbol question is about."""
    relation: Relation
    """For call-graph questions: what is asked about ``target``."""
    plan: list[str]
    """Sub-questions to search for (decompose; the human may edit them)."""
    hint: str
    """The human's hint at the low-confidence interrupt (searched and ranked with the question)."""
    step_back_question: str
    """The more general question searched beside this one (step_back)."""
    expansion_terms: list[str]
    """Identifiers the LLM suggested, searched as one keyword query (expand_query)."""
    queries: list[str]
    """Search queries of this attempt: sub-questions, hypothetical code, rewrites, hints."""
    tried: list[str]
    """Every query already searched in this turn (so rewrites try something new)."""
    pool: dict[str, Any]
    """Fused candidates between retrieve, expand and rerank (``Pool.to_state``)."""
    hits: list[dict[str, Any]]
    """The reranked best chunks: path, start_line, end_line, symbol, score, lanes."""
    context: list[dict[str, Any]]
    """Numbered evidence given to the answer: hit fields plus ``n`` and ``text``."""
    confidence: float
    """How well the context covers the question, 0..1 (check_context)."""
    context_attempts: int
    """Retrieval rounds run for this question (bounded by ``max_context_retries``)."""
    answer: str
    """The answer text, citations as ``path:start-end``."""
    answer_attempts: int
    """Answers drafted for this question (bounded by ``max_answer_retries``)."""
    feedback: str
    """What check_answer found wrong with the last draft (fed to the next one)."""
    echoed: bool
    """The model replied, but nothing of its reply was prose (it copied the evidence)."""
    kept_answer: str
    """The best checked draft so far, stripped to what verifies: a redraft that verifies less
    does not replace it."""
    citations: list[dict[str, Any]]
    """Verified citations of the final answer: path, start_line, end_line."""
    rejected: list[dict[str, Any]]
    """Citations check_answer dropped, with the reason."""
    status: Status
    """How the turn ended."""
    memory_symbols: list[str]
    """Symbols of earlier answers, reused to search follow-ups."""
    trace: Annotated[list[str], operator.add]
    """Nodes visited, in order (for the CLI and benchmarks)."""
    llm_calls: Annotated[int, operator.add]
    """Chat-model calls made in this thread."""


class ReviewPlanRequest(TypedDict):
    """Interrupt payload of review_plan: the sub-questions about to be searched."""

    type: Literal["review_plan"]
    plan: list[str]


class ReviewPlanReply(TypedDict, total=False):
    """Resume value for review_plan."""

    action: Literal["approve", "edit", "abort"]
    plan: list[str]
    """The edited sub-questions (with ``action="edit"``)."""


class LowConfidenceRequest(TypedDict):
    """Interrupt payload of low_confidence: the weak evidence found so far."""

    type: Literal["low_confidence"]
    question: str
    confidence: float
    hits: list[dict[str, Any]]


class LowConfidenceReply(TypedDict, total=False):
    """Resume value for low_confidence."""

    action: Literal["hint", "answer", "abort"]
    hint: str
    """Words, names or files to search for (with ``action="hint"``)."""


def turn_start(trace: list[str]) -> int:
    """Return where the last turn begins in ``trace`` (its condense step)."""
    for i in range(len(trace) - 1, -1, -1):
        if trace[i].split(":")[0] == "condense":
            return i
    return 0
