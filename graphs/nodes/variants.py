"""step_back and expand_query: extra searches beside the question (each off by default).

step_back asks the LLM for a more general question; expand_query asks it for likely identifiers
and searches them as one keyword query. Both only add queries: retrieve fuses every query's
lanes (reciprocal rank fusion), so the original question's results always stay in the pool, and
a failed or empty LLM reply leaves the queries as they were.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from langgraph.runtime import Runtime

from graphs.context import QuestionContext, context_of
from graphs.deps import Deps
from graphs.llm_calls import ask_text
from graphs.state import QuestionState
from prompts import render

MAX_TERMS = 5
"""Most expansion terms searched (small models list many)."""
_TERM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_LABEL = re.compile(r"^\s*(?:general question|question|q)\s*[:\-]\s*", re.IGNORECASE)
_STOP = frozenset(
    "a an and are as by class classes code def file files for from function functions how"
    " identifier identifiers import in is it keyword keywords likely list method methods module"
    " modules name names of on or question return self the this to what which with words".split()
)


def _queries(state: QuestionState) -> list[str]:
    return list(state.get("queries") or [state.get("standalone", "")])


def general_question(reply: str | None, question: str) -> str | None:
    """Return the first line of ``reply`` as a question, or None when it adds nothing."""
    for line in (reply or "").splitlines():
        text = _LABEL.sub("", line.strip().strip("\"'`")).strip().strip("\"'`").strip()
        if len(text) > 3:
            return None if text.casefold() == question.strip().casefold() else text
    return None


def expansion_terms(reply: str | None, question: str) -> list[str]:
    """Return up to ``MAX_TERMS`` identifiers of ``reply`` that are not already in ``question``."""
    have = {t.casefold() for t in _TERM.findall(question)}
    out: list[str] = []
    for term in _TERM.findall(reply or ""):
        key = term.casefold()
        if len(term) < 3 or key in have or key in _STOP:
            continue
        have.add(key)
        out.append(term)
        if len(out) == MAX_TERMS:
            break
    return out


def after_hyde(
    state: QuestionState, runtime: Runtime[QuestionContext]
) -> Literal["step_back", "expand_query", "retrieve"]:
    """Go through the query-variant nodes that are switched on, then search."""
    ctx = context_of(runtime)
    if ctx.step_back:
        return "step_back"
    return "expand_query" if ctx.expand_query else "retrieve"


def after_step_back(
    state: QuestionState, runtime: Runtime[QuestionContext]
) -> Literal["expand_query", "retrieve"]:
    """Expand the query next when that is on too, else search."""
    return "expand_query" if context_of(runtime).expand_query else "retrieve"


def step_back(state: QuestionState, *, deps: Deps) -> dict[str, Any]:
    """Search a more general question beside the question (step-back prompting)."""
    question = state.get("standalone", "")
    reply = ask_text(deps, render("step_back", question=question), max_chars=300)
    general = general_question(reply, question)
    if general is None:
        return {"llm_calls": 1, "trace": ["step_back:fallback"]}
    return {
        "queries": [*_queries(state), general],
        "step_back_question": general,
        "llm_calls": 1,
        "trace": ["step_back"],
    }


def expand_query(state: QuestionState, *, deps: Deps) -> dict[str, Any]:
    """Search the LLM's likely identifiers for the question as one more keyword query."""
    question = state.get("standalone", "")
    prompt = render("expand_query", question=question, language=deps.language)
    terms = expansion_terms(ask_text(deps, prompt, max_chars=300), question)
    if not terms:
        return {"llm_calls": 1, "trace": ["expand_query:fallback"]}
    return {
        "queries": [*_queries(state), " ".join(terms)],
        "expansion_terms": terms,
        "llm_calls": 1,
        "trace": ["expand_query"],
    }
