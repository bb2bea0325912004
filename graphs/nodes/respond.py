"""answer (LLM over numbered evidence), graph_answer (from the code graph), chitchat, finish."""

from __future__ import annotations

import re
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from app.answer import attach_markers, render_no_evidence
from graphs.context import QuestionContext, context_of
from graphs.deps import Deps
from graphs.llm_calls import ask_text
from graphs.nodes.understand import PRONOUNS
from graphs.state import QuestionState, turn_start
from prompts import load, render

_MARKER = re.compile(r"\[(\d{1,2})\]")
_MARKER_RUN = re.compile(r"\[\d{1,2}\](?:[ \t]*\[\d{1,2}\])*")
POINTERS_HEADING = "Where to look:"
"""Heads the deterministic list of evidence locations after the drafted prose."""
_MAX_SITES = 15
_CALLER_SPAN = 80
"""A caller is cited from its definition line to its last call when that is this short."""
_ANSWER_BLOCKS = 4
"""Evidence blocks shown to the model (a small model loses the thread in long prompts)."""
_BLOCK_LINES = 20
_ECHO_LINES = 10
"""After a draft that copied the code, the redraft sees two blocks of this many lines."""
_HEADER_LINES = 30
"""A definition is cited by its first lines: whole classes can exceed a citation's span."""


def _where(c: dict[str, Any]) -> str:
    return f"{c['path']}:{c['start_line']}-{c['end_line']}"


def _header(c: dict[str, Any]) -> str:
    name = (c.get("symbol") or "").rsplit(".", 1)[-1]
    return f"[{c['n']}] {c['path']} lines {c['start_line']}-{c['end_line']}" + (
        f", `{name}`" if name else ""
    )


_ECHOED_HEADER = re.compile(
    r"^\s*(?P<marker>\[\d{1,2}\])\s+\S+?(?: lines |:)\d+-\d+(?:,? `?(?P<name>[\w.$]+)`?)?\s*"
)
"""A block header the model copied at the start of a line (this format or the old one)."""


_CODE_LINE = re.compile(
    r"^(?:function|def|func|class|const|let|var|return|import|from)\b.*[({:;=]|[{;]$"
)
"""A line of code the model wrote itself (``function set(headerValue) {``), not a sentence."""


def _blocks(context: list[dict[str, Any]], lines: int = _BLOCK_LINES) -> str:
    return "\n\n".join(
        f"{_header(c)}\n```\n" + "\n".join(c["text"].splitlines()[:lines]) + "\n```"
        for c in context
    )


def _messages(question: str, blocks: str, feedback: str) -> list[BaseMessage]:
    """The answer prompt: system rules, one worked example, then the evidence and the question.

    The variable parts come last, so a redraft reuses the prefix llama.cpp has cached.
    """
    example, reply = load("answer_example").split("=== answer ===", 1)
    return [
        SystemMessage(render("answer_system", max_sentences=4)),
        HumanMessage(example.strip()),
        AIMessage(reply.strip()),
        HumanMessage(
            render(
                "answer",
                question=question,
                context=blocks,
                feedback=f"\n\n{feedback}" if feedback else "",
            )
        ),
    ]


def cite(text: str, context: list[dict[str, Any]]) -> str:
    """Turn the model's ``[n]`` markers into ``(path:start-end; ...)``; drop made-up numbers."""
    by_n = {c["n"]: c for c in context}

    def sub(m: re.Match[str]) -> str:
        spans = [_where(by_n[n]) for n in map(int, _MARKER.findall(m.group(0))) if n in by_n]
        return f"({'; '.join(dict.fromkeys(spans))})" if spans else ""

    return _MARKER_RUN.sub(sub, text)


def _prose(text: str, context: list[dict[str, Any]]) -> str:
    """Drop lines the model copied from the evidence (small models echo code)."""
    corpus = "\n".join(c["text"] for c in context)
    headers = [f"{_where(c)} {c.get('symbol') or ''}".strip() for c in context]
    kept = []
    for line in text.splitlines():
        echoed = _ECHOED_HEADER.match(line)
        if echoed:  # "[1] path lines 3-9, `name` checks ...": keep what it says, as a sentence
            name = (echoed["name"] or "").rsplit(".", 1)[-1]
            rest, marker = line[echoed.end() :].strip(), echoed["marker"]
            stop = "." if rest.endswith(".") else ""
            rest = f"`{name}` {rest}" if name and rest else rest
            line = rest and f"{rest.removesuffix('.')} {marker}{stop}"
        bare = line.strip()
        copied = len(bare) > 8 and (bare in corpus or any(h in bare for h in headers))
        copied = copied or bool(_CODE_LINE.search(bare))
        if copied or len(re.findall(r"[A-Za-z]{2,}", bare)) < 3 or bare.startswith("```"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _pointers(context: list[dict[str, Any]]) -> str:
    """A deterministic list of where the evidence is, each line citing its own span."""
    lines = []
    for c in context:
        name = (c.get("symbol") or "").rsplit(".", 1)[-1]
        if name and re.search(rf"\b{re.escape(name)}\b", c["text"]):
            lines.append(f"- `{name}`: {_where(c)}")
        else:
            lines.append(f"- {_where(c)}")
    return "\n".join(lines)


def answer(
    state: QuestionState, runtime: Runtime[QuestionContext], *, deps: Deps
) -> dict[str, Any]:
    """Draft an answer from the numbered evidence; say so plainly when there is none."""
    context = state.get("context", [])
    attempts = state.get("answer_attempts", 0) + 1
    question = state.get("standalone", "")
    if not context:
        return {
            "answer": render_no_evidence(question, state.get("hits", [])),
            "status": "no_evidence",
            "answer_attempts": attempts,
            "trace": ["answer"],
        }
    trace = state.get("trace", [])
    turn = trace[turn_start(trace) :]
    human = bool(state.get("hint")) or "answer_anyway" in turn
    check = context_of(runtime).check_subject and not human  # a person chose to go on
    missing = deps.searcher.unmentioned(question) if check else []
    if missing:  # the nearest code is not about what was asked: say so, show what is closest
        return {
            "answer": render_no_evidence(question, state.get("hits", []), unmentioned=missing),
            "status": "no_evidence",
            "answer_attempts": attempts,
            "trace": ["answer:off-subject"],
        }
    feedback = state.get("feedback", "")
    echoed = bool(state.get("echoed"))  # the last draft copied the code: show less of it
    shown = context[: 2 if echoed else _ANSWER_BLOCKS]
    blocks = _blocks(shown, lines=_ECHO_LINES if echoed else _BLOCK_LINES)
    raw = ask_text(deps, _messages(question, blocks, feedback)) or ""
    draft = attach_markers(_prose(raw, context), shown)
    text = cite(draft, context).strip()
    body = f"{text}\n\n" if text else ""
    return {
        "answer": f"{body}{POINTERS_HEADING}\n{_pointers(context[:3])}",
        "echoed": bool(raw.strip()) and not draft,
        "status": "answered",
        "answer_attempts": attempts,
        "llm_calls": 1,
        "trace": ["answer"],
    }


def graph_answer(state: QuestionState, *, deps: Deps) -> dict[str, Any]:
    """Answer who-calls / what-calls / where-defined from the code graph, citing each site."""
    graph = deps.code_graph()
    target = state.get("target", "")
    defs = graph.definitions(target)
    if not defs:
        hits = [h.to_json() for h in deps.searcher.search(target)[:5]]
        return {
            "answer": render_no_evidence(state.get("standalone", ""), hits),
            "status": "no_evidence",
            "hits": hits,
            "trace": ["graph_answer"],
        }
    qual = defs[0]
    name = qual.rsplit(".", 1)[-1]
    where = definition_span(graph, qual)
    lines = [f"`{name}` is defined at {where}."]
    relation = state.get("relation", "definition")
    if relation == "definition":
        lines += [f"- also defined: {definition_span(graph, q)}" for q in defs[1:5]]
    elif relation == "callers":
        sites = graph.callers(qual)
        groups = _by_caller(sites)
        lines.append(_callers_lead(len(groups), len(sites)) if sites else "No call sites found.")
        lines += [_caller_item(graph, caller, group) for caller, group in groups[:_MAX_SITES]]
    else:
        sites = _unique_sites(graph.callees(qual))
        lines.append(f"It makes {len(sites)} call(s):" if sites else "It calls nothing we resolve.")
        lines += [
            f"- line {s.line} calls `{s.qualname.rsplit('.', 1)[-1]}`: {s.path}:{s.line}-{s.line}"
            for s in sites[:_MAX_SITES]
        ]
    shown = 0 if relation == "definition" else len(groups if relation == "callers" else sites)
    if shown > _MAX_SITES:
        lines.append(f"... and {shown - _MAX_SITES} more.")
    return {
        "answer": "\n".join(lines),
        "status": "answered",
        "memory_symbols": [qual],
        "trace": ["graph_answer"],
    }


def _by_caller(sites: list[Any]) -> list[tuple[str, list[Any]]]:
    """Call sites grouped by the calling function, in file and line order."""
    groups: dict[str, list[Any]] = {}
    for s in sorted(sites, key=lambda s: (s.path, s.line)):
        groups.setdefault(s.qualname, []).append(s)
    return list(groups.items())


def _callers_lead(callers: int, sites: int) -> str:
    where = f"{sites} call sites" if sites != 1 else "1 call site"
    who = f"{callers} functions" if callers != 1 else "1 function"
    return f"It is called from {where} in {who}:"


def _caller_item(graph: Any, caller: str, sites: list[Any]) -> str:
    """``- `Session.send` calls it on lines 3 and 9: <def line to last call>``."""
    lines = sorted({s.line for s in sites})
    said = f"line {lines[0]}" if len(lines) == 1 else (
        "lines " + ", ".join(map(str, lines[:-1])) + f" and {lines[-1]}"
    )  # fmt: skip
    node = graph.symbol(caller)
    path = sites[0].path
    if not node or node.get("path") != path:  # module-level code calls it
        spans = "; ".join(f"{path}:{n}-{n}" for n in lines[:3])
        return f"- module-level code of `{caller}` calls it on {said}: {spans}"
    start = int(node.get("start_line", lines[0]))
    if lines[-1] - start < _CALLER_SPAN:
        span = f"{path}:{start}-{max(lines[-1], start)}"
    else:  # a long function: its header, then the calls
        span = f"{path}:{start}-{start}; " + "; ".join(f"{path}:{n}-{n}" for n in lines[:3])
    return f"- `{graph.short_name(caller)}` calls it on {said}: {span}"


def _unique_sites(sites: list[Any]) -> list[Any]:
    """One entry per (line, called name): an unresolved call has several candidates."""
    seen: set[tuple[str, int, str]] = set()
    out = []
    for s in sites:
        key = (s.path, s.line, s.qualname.rsplit(".", 1)[-1])
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def definition_span(graph: Any, qual: str) -> str:
    """``path:start-end`` of ``qual``'s definition, cut to its first ``_HEADER_LINES`` lines."""
    n = graph.symbol(qual) or {}
    start, end = int(n.get("start_line", 1)), int(n.get("end_line", 1))
    return f"{n.get('path')}:{start}-{min(end, start + _HEADER_LINES - 1)}"


def chitchat(state: QuestionState, *, deps: Deps) -> dict[str, Any]:
    """Say what coderag can do, or ask what "it" means (no LLM: a fixed, honest reply)."""
    target = state.get("target", "")
    if target.lower() in PRONOUNS:
        text = render("clarify", word=target)
    else:
        text = render("chitchat", repo=deps.root.name)
    return {
        "answer": text,
        "status": "chitchat",
        "trace": ["chitchat"],
    }


def finish(state: QuestionState) -> dict[str, Any]:
    """Record the answer in the conversation and remember its symbols for follow-ups."""
    symbols = [h["symbol"] for h in state.get("hits", []) if h.get("symbol")]
    keep = state.get("route") in ("callgraph", "chitchat")  # small talk keeps what was found
    memory = state.get("memory_symbols", []) if keep else symbols[:5]
    return {
        "messages": [AIMessage(state.get("answer", ""))],
        "memory_symbols": memory,
        "trace": ["finish"],
    }
