"""condense (follow-up -> standalone question) and route (which path a question takes)."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.runtime import Runtime

from app.retrieval.query import analyse
from graphs.context import QuestionContext, context_of
from graphs.deps import Deps
from graphs.llm_calls import ask_text
from graphs.state import QuestionState
from prompts import render

_NAME = r"`?([A-Za-z_$][\w$]*(?:(?:\.|::|#)[A-Za-z_$][\w$]*)*)`?(?:\(\))?"
_CALLGRAPH = [
    (re.compile(rf"\b(?:who|what|which \w+)\s+(?:calls|uses|invokes)\s+{_NAME}", re.I), "callers"),
    (re.compile(rf"\b(?:callers|call sites|usages|uses) of\s+{_NAME}", re.I), "callers"),
    (re.compile(rf"\bwhere is\s+{_NAME}\s+(?:called|used|invoked)", re.I), "callers"),
    (re.compile(rf"\bwhat does\s+{_NAME}\s+call\b", re.I), "callees"),
    (re.compile(rf"\b(?:callees of|calls made by)\s+{_NAME}", re.I), "callees"),
    (re.compile(rf"\bwhere is\s+{_NAME}\s+(?:defined|declared|implemented)", re.I), "definition"),
    (re.compile(rf"\b(?:definition of|find the definition of)\s+{_NAME}", re.I), "definition"),
]
_CHITCHAT = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank you|thx|good (morning|afternoon|evening)|bye|ok|okay|"
    r"cool|great|who are you|what can you do|help)\b[\s!.?]*$",
    re.I,
)
# Fields a new turn starts from scratch (the thread keeps messages and memory_symbols).
_FRESH_TURN: dict[str, Any] = {
    "plan": [],
    "queries": [],
    "target": "",
    "relation": "definition",
    "hint": "",
    "tried": [],
    "pool": {},
    "hits": [],
    "context": [],
    "confidence": 0.0,
    "context_attempts": 0,
    "answer_attempts": 0,
    "feedback": "",
    "kept_answer": "",
    "echoed": False,
    "answer": "",
    "citations": [],
    "rejected": [],
}


def _history(messages: list[Any], turns: int = 3) -> str:
    lines = []
    for m in messages[-2 * turns :]:
        who = "User" if isinstance(m, HumanMessage) else "Assistant"
        text = str(m.content)
        lines.append(f"{who}: {text[:400]}")
    return "\n".join(lines)


def condense(
    state: QuestionState, runtime: Runtime[QuestionContext], *, deps: Deps
) -> dict[str, Any]:
    """Rewrite a follow-up so it stands alone; a first question is kept as it is."""
    question = state.get("question", "").strip()
    earlier = [m for m in state.get("messages", []) if isinstance(m, HumanMessage | AIMessage)]
    update: dict[str, Any] = {
        **_FRESH_TURN,
        "messages": [HumanMessage(question)],
        "standalone": question,
        "trace": ["condense"],
    }
    if not earlier or not context_of(runtime).condense or not _refers_back(question):
        return update
    rewritten = ask_text(
        deps, render("condense", history=_history(earlier), question=question), max_chars=400
    )
    update["llm_calls"] = 1
    if rewritten and _keeps_names(question, rewritten):
        update["standalone"] = rewritten.splitlines()[0].strip()
    return update


_REFERS_BACK = re.compile(
    r"\b(it|its|it's|this|that|these|those|they|them|their|there|the same|also|too|"
    r"what about|how about|and the|instead|else|above|previous|earlier)\b",
    re.I,
)


def _refers_back(question: str) -> bool:
    """Only a question that points back at the conversation needs rewriting."""
    return bool(_REFERS_BACK.search(question)) or len(question.split()) <= 3


def _keeps_names(question: str, rewritten: str) -> bool:
    """A rewrite must not lose the code names the user typed (tiny models do)."""
    return all(name in rewritten for name in analyse(question).identifiers)


def classify(question: str) -> dict[str, Any]:
    """Route by rules: call-graph phrasings, chit-chat, bare identifiers, else conceptual."""
    for pattern, relation in _CALLGRAPH:
        m = pattern.search(question)
        if m:
            return {"route": "callgraph", "relation": relation, "target": m.group(1)}
    if _CHITCHAT.match(question):
        return {"route": "chitchat"}
    q = analyse(question)
    if q.is_symbol and q.identifiers:
        return {"route": "symbol", "target": q.identifiers[0]}
    return {"route": "conceptual"}


PRONOUNS = frozenset({"it", "this", "that", "them", "these", "those"})


def route(state: QuestionState) -> dict[str, Any]:
    """Decide the path: code graph, symbol lookup, conceptual search or chit-chat."""
    raw = classify(state.get("question", ""))
    decision = classify(state.get("standalone") or state.get("question", ""))
    resolved = decision["route"] == "callgraph" and decision["target"].lower() not in PRONOUNS
    if not resolved and raw["route"] in ("callgraph", "chitchat"):
        decision = raw  # the user's own phrasing wins when a rewrite lost it
    memory = state.get("memory_symbols", [])
    if decision.get("target", "").lower() in PRONOUNS:
        if not memory:  # nothing earlier to point at: ask which symbol is meant
            return {"route": "chitchat", "target": decision["target"], "trace": ["route"]}
        decision["target"] = memory[0]  # "who calls it?" after a question about one symbol
    return {**decision, "trace": ["route"]}
