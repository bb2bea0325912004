"""check_answer: re-open every cited span; retry the draft or strip what does not hold."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from app.answer import (
    Citation,
    SourceReader,
    key_sentence,
    lead_sentence,
    parse_citations,
    render_no_evidence,
    split_claims,
    strip_invalid,
    verify_citation,
)
from app.answer import check_answer as check_citations
from app.answer.keyline import Passage
from app.codegraph.resolve.modules import CLASS_KINDS
from graphs.context import QuestionContext, context_of
from graphs.deps import Deps
from graphs.nodes.respond import POINTERS_HEADING, cite, definition_span
from graphs.state import QuestionState


def _spans(citations: list[Any]) -> list[dict[str, Any]]:
    return [{"path": c.path, "start_line": c.start_line, "end_line": c.end_line} for c in citations]


def _exists(hit: dict[str, Any], deps: Deps, indexed: Any) -> bool:
    c = Citation(hit["path"], hit["start_line"], hit["end_line"], "")
    return verify_citation(c, deps.root, indexed=indexed).ok


def _cited_prose(text: str) -> int:
    """How many claims of the answer's prose (before its pointer list) carry a citation."""
    prose = text.split(POINTERS_HEADING, 1)[0]
    return sum(1 for claim in split_claims(prose) if claim.citations)


def _better(now: str, kept: str) -> str:
    """The checked draft to keep: the later one unless the earlier kept more cited prose."""
    return kept if kept and _cited_prose(kept) > _cited_prose(now) else now


def _reader(source: SourceReader) -> Callable[[str], list[str]]:
    def read(path: str) -> list[str]:
        try:
            return source.lines(path)
        except OSError:
            return []

    return read


def _calls(deps: Deps) -> Callable[[Passage], list[str]]:
    """What a quoted line calls, by the code graph: functions and methods, where defined."""

    def calls(p: Passage) -> list[str]:
        if not p.symbol:
            return []
        graph = deps.code_graph()
        out: list[str] = []
        for site in graph.callees(p.symbol):
            node = graph.symbol(site.qualname) or {}
            name = site.qualname.rsplit(".", 1)[-1]
            here = (site.path, site.line) == (p.path, p.start_line) and site.resolved
            if here and node.get("kind") not in CLASS_KINDS and f"{name}(" in p.text:
                shown = graph.short_name(site.qualname)  # ``Store.save``, not a bare ``save``
                out.append(f"`{shown}` ({definition_span(graph, site.qualname)})")
        return list(dict.fromkeys(out))

    return calls


def _with_lead(
    text: str, question: str, context: list[dict[str, Any]], deps: Deps, reader: SourceReader
) -> str:
    """``text`` with the evidence's lead and key line after its prose, before the pointer list."""
    prose, heading, pointers = text.partition(POINTERS_HEADING)
    lead = cite(lead_sentence(context, prose), context)
    said = f"{prose}\n{lead}"
    key = key_sentence(question, context, _reader(reader), said, _calls(deps))
    added = " ".join(part for part in (lead, key) if part)
    if not added:
        return text
    body = "\n\n".join(part for part in (prose.strip(), added) if part)
    return f"{body}\n\n{heading}{pointers}" if heading else body


def check_answer(
    state: QuestionState, runtime: Runtime[QuestionContext], *, deps: Deps
) -> Command[Literal["answer", "finish"]]:
    """Keep only citations that exist in the indexed repository and support their sentence."""
    ctx = context_of(runtime)
    text = state.get("answer", "")
    if state.get("status") in ("no_evidence", "chitchat", "aborted"):
        return Command(goto="finish", update={"trace": ["check_answer"]})
    if not ctx.verify:
        unchecked = {"citations": _spans(parse_citations(text)), "trace": ["check_answer:off"]}
        return Command(goto="finish", update=unchecked)
    indexed = deps.indexed()
    reader = SourceReader(deps.root)  # every check of this node, and the key line, share reads
    check = check_citations(text, deps.root, indexed=indexed, reader=reader)
    rejected = [
        {"path": c.path, "start_line": c.start_line, "end_line": c.end_line, "reason": why}
        for c, why in check.invalid
    ]
    retry = state.get("route") != "callgraph" and state.get("answer_attempts", 0) <= (
        ctx.max_answer_retries
    )
    cleaned = strip_invalid(text, check) if not check.ok else text
    kept = _better(cleaned, state.get("kept_answer", ""))
    no_prose = bool(state.get("echoed"))  # the model replied with a copy of the code
    if (not check.ok or no_prose) and retry:
        bad = ", ".join(f"{r['path']}:{r['start_line']}-{r['end_line']}" for r in rejected)
        feedback = "Cite only the numbered code, as [n]." + (f" Not valid: {bad}." if bad else "")
        if no_prose:
            feedback = "Do not copy the code: answer in your own sentences, each citing [n]."
        return Command(
            goto="answer",
            update={
                "feedback": feedback,
                "rejected": rejected,
                "kept_answer": kept,
                "trace": ["check_answer"],
            },
        )
    cleaned = kept
    if state.get("route") != "callgraph":  # name the code the evidence holds, checked like prose
        question = state.get("standalone") or state.get("question", "")
        cleaned = _with_lead(cleaned, question, state.get("context", []), deps, reader)
    final = check_citations(cleaned, deps.root, indexed=indexed, reader=reader)
    if not final.ok:
        cleaned = strip_invalid(cleaned, final)
        final = check_citations(cleaned, deps.root, indexed=indexed, reader=reader)
    update: dict[str, Any] = {"rejected": rejected, "trace": ["check_answer"]}
    if not final.valid:
        hits = state.get("hits", []) or [
            h.to_json() for h in deps.searcher.search(state.get("standalone", ""))[:5]
        ]
        hits = [h for h in hits if _exists(h, deps, indexed)]  # never point at broken spans
        update |= {
            "answer": render_no_evidence(state.get("standalone", ""), hits),
            "status": "no_evidence",
            "citations": [],
        }
    else:
        update |= {"answer": cleaned, "citations": _spans(final.valid)}
    return Command(goto="finish", update=update)
