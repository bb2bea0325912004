"""decompose (sub-questions), review_plan (human interrupt) and hyde (hypothetical code)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import BaseModel, Field

from graphs.context import QuestionContext, context_of
from graphs.deps import Deps
from graphs.llm_calls import ask_structured, ask_text
from graphs.state import QuestionState, ReviewPlanReply, ReviewPlanRequest
from prompts import render


class Plan(BaseModel):
    """The LLM's split of a question into search questions (bounded: small models ramble)."""

    # Bounds go to the JSON schema (the grammar enforces them) but are not validated, so a
    # provider that ignores them still yields usable items, truncated below.
    sub_questions: list[Annotated[str, Field(json_schema_extra={"maxLength": 120})]] = Field(
        default_factory=list, json_schema_extra={"maxItems": 3}
    )


def decompose(
    state: QuestionState, runtime: Runtime[QuestionContext], *, deps: Deps
) -> dict[str, Any]:
    """Split a broad question into at most ``max_sub_questions`` searches (or keep it whole)."""
    question = state.get("standalone", "")
    ctx = context_of(runtime)
    if not ctx.decompose:
        return {"plan": [question], "trace": ["decompose:off"]}
    prompt = render("decompose", question=question, max_parts=ctx.max_sub_questions)
    plan = ask_structured(deps, prompt, Plan)
    subs = [s.strip() for s in (plan.sub_questions if plan else []) if len(s.strip()) > 3]
    # The original question always stays first: a tiny model's split only adds searches.
    merged = [question, *[s for s in subs if s != question]][: ctx.max_sub_questions + 1]
    return {"plan": merged, "llm_calls": 1, "trace": ["decompose"]}


def review_plan(
    state: QuestionState, runtime: Runtime[QuestionContext]
) -> Command[Literal["hyde", "finish"]]:
    """Let the human approve, edit or abort the plan (only in interactive runs)."""
    if not context_of(runtime).interactive:
        return Command(goto="hyde", update={"trace": ["review_plan:off"]})
    request: ReviewPlanRequest = {"type": "review_plan", "plan": state.get("plan", [])}
    reply: ReviewPlanReply = interrupt(request)
    action = reply.get("action", "approve") if isinstance(reply, dict) else "approve"
    if action == "abort":
        return Command(
            goto="finish",
            update={"status": "aborted", "answer": "Stopped at plan review.", "trace": ["abort"]},
        )
    update: dict[str, Any] = {"trace": ["review_plan"]}
    if action == "edit":
        edited = [s.strip() for s in reply.get("plan", []) if str(s).strip()]
        if edited:
            update["plan"] = edited
    return Command(goto="hyde", update=update)


def hyde(state: QuestionState, runtime: Runtime[QuestionContext], *, deps: Deps) -> dict[str, Any]:
    """Add a hypothetical code snippet per sub-question to the searches (HyDE)."""
    plan = state.get("plan") or [state.get("standalone", "")]
    if not context_of(runtime).hyde:
        return {"queries": list(plan), "trace": ["hyde:off"]}
    snippets = []
    for sub in plan:
        code = ask_text(deps, render("hyde", question=sub, language=deps.language), max_chars=800)
        if code:
            snippets.append(code)
    return {"queries": [*plan, *snippets], "llm_calls": len(plan), "trace": ["hyde"]}
