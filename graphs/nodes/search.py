"""retrieve -> expand -> rerank, then check_context decides: answer, rewrite or ask."""

from __future__ import annotations

from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from app.retrieval.query import analyse
from graphs.context import QuestionContext, context_of
from graphs.deps import Deps
from graphs.llm_calls import ask_text
from graphs.state import LowConfidenceReply, LowConfidenceRequest, QuestionState
from prompts import render

_CONTEXT_LINES = 60
"""Longest evidence excerpt shown to the model (lines)."""
EVIDENCE_ORDER = "chunk"
"""The answer's evidence is gathered in plain chunk order, though search results default to
file order: on the answer benchmark (qwen-0.5b, one run each) file order gave 12/42 correct
against 14/42, with the same 27/42 citing a gold file
(``bench/results/answer_variants_rejected.md``)."""


def _queries(state: QuestionState) -> list[str]:
    if state.get("route") == "symbol" and state.get("target"):
        return [state["target"]]
    queries = list(state.get("queries") or [state.get("standalone", "")])
    memory = state.get("memory_symbols", [])
    if memory and state.get("standalone") != state.get("question"):
        queries.append(" ".join(memory[:3]))  # a follow-up reuses what the last answer found
    return [q for q in queries if q.strip()]


def retrieve(state: QuestionState, *, deps: Deps) -> dict[str, Any]:
    """Search every query with all lanes and fuse them into one candidate pool."""
    queries = _queries(state)
    pool = deps.searcher.retrieve(queries, deps.searcher.default_options())
    return {
        "pool": pool.to_state(),
        "tried": list(dict.fromkeys([*state.get("tried", []), *queries])),
        "context_attempts": state.get("context_attempts", 0) + 1,
        "trace": ["retrieve"],
    }


def expand(
    state: QuestionState, runtime: Runtime[QuestionContext], *, deps: Deps
) -> dict[str, Any]:
    """Add callers, callees and owners of the best candidates from the code graph."""
    if not context_of(runtime).expand:
        return {"trace": ["expand:off"]}
    pool = deps.searcher.pool_from_state(state.get("pool", {}))
    deps.searcher.expand(pool)
    return {"pool": pool.to_state(), "trace": ["expand"]}


def rerank(
    state: QuestionState, runtime: Runtime[QuestionContext], *, deps: Deps
) -> dict[str, Any]:
    """Rank the pool for the question and keep the best ``k`` chunks as numbered evidence."""
    pool = deps.searcher.pool_from_state(state.get("pool", {}))
    question = state.get("target") if state.get("route") == "symbol" else state.get("standalone")
    if state.get("hint"):
        question = state["hint"]  # the human's words are the better query: rank and judge by them
    options = deps.searcher.default_options(group_by=EVIDENCE_ORDER)
    ranked = deps.searcher.rank(question or "", pool, options)
    hits = deps.searcher.hits(ranked, context_of(runtime).k)
    texts = deps.texts([h.chunk_id for h in hits])
    records, context = [], []
    for n, h in enumerate(hits, start=1):
        rec = {**h.to_json(), "chunk_id": h.chunk_id, "features": dict(h.features)}
        records.append(rec)
        lines = texts.get(h.chunk_id, "").splitlines()[:_CONTEXT_LINES]
        context.append({**rec, "n": n, "text": "\n".join(lines)})
    return {"hits": records, "context": context, "trace": ["rerank"]}


def confidence(state: QuestionState) -> float:
    """How well the evidence covers the question: 0 (nothing) .. 1 (a definition or all words)."""
    top = state.get("hits", [])[:3]
    if not top:
        return 0.0
    if state.get("route") == "symbol":
        if any(h["features"].get("def_exact_sym") or h["features"].get("def_norm") for h in top):
            return 1.0
    return max(float(h["features"].get("coverage", 0.0)) for h in top)


def check_context(
    state: QuestionState, runtime: Runtime[QuestionContext]
) -> Command[Literal["answer", "rewrite", "low_confidence"]]:
    """Answer when the evidence is good; else rewrite the query (bounded), then ask or go on."""
    ctx = context_of(runtime)
    score = confidence(state)
    update: dict[str, Any] = {"confidence": round(score, 3), "trace": ["check_context"]}
    if score >= ctx.min_confidence:
        return Command(goto="answer", update=update)
    if state.get("context_attempts", 0) <= ctx.max_context_retries:
        return Command(goto="rewrite", update=update)
    if ctx.interactive and state.get("context_attempts", 0) <= ctx.max_context_retries + 2:
        return Command(goto="low_confidence", update=update)  # at most two hints
    return Command(goto="answer", update=update)


def _keywords(state: QuestionState) -> str:
    q = analyse(state.get("standalone", ""))
    return " ".join([*q.identifiers, *q.words])


def rewrite(
    state: QuestionState, runtime: Runtime[QuestionContext], *, deps: Deps
) -> dict[str, Any]:
    """Write a new search query (LLM, else the question's keywords) not tried before."""
    tried = state.get("tried", [])
    new = None
    calls = 0
    if context_of(runtime).rewrite:
        prompt = render("rewrite", question=state.get("standalone", ""), tried="\n".join(tried))
        new = ask_text(deps, prompt, max_chars=300)
        calls = 1
    if not new or new in tried:
        new = _keywords(state)
    # Search the new query beside the old ones: replacing them loses what they found (measured:
    # NDCG@10 0.60 -> 0.42 on the dev half when the rewrite replaced the question).
    previous = state.get("queries") or [state.get("standalone", "")]
    return {
        "queries": [*previous, new],
        "route": "conceptual",
        "llm_calls": calls,
        "trace": ["rewrite"],
    }


def low_confidence(
    state: QuestionState, runtime: Runtime[QuestionContext]
) -> Command[Literal["retrieve", "answer", "finish"]]:
    """Ask the human: give a hint (search again), answer anyway, or abort."""
    request: LowConfidenceRequest = {
        "type": "low_confidence",
        "question": state.get("standalone", ""),
        "confidence": state.get("confidence", 0.0),
        "hits": [
            {k: h[k] for k in ("path", "start_line", "end_line", "symbol")}
            for h in state.get("hits", [])[:5]
        ],
    }
    reply: LowConfidenceReply = interrupt(request)
    action = reply.get("action", "answer") if isinstance(reply, dict) else "answer"
    if action == "abort":
        return Command(
            goto="finish", update={"status": "aborted", "answer": "Stopped.", "trace": ["abort"]}
        )
    if action == "hint" and str(reply.get("hint", "")).strip():
        hint = str(reply["hint"]).strip()
        return Command(
            goto="retrieve",
            update={
                "queries": [hint, state.get("standalone", "")],
                "hint": hint,
                "route": "conceptual",
                "trace": ["hint"],
            },
        )
    return Command(goto="answer", update={"trace": ["answer_anyway"]})
