"""The code tools other agents call: search, symbols, call graph, source spans, questions.

:class:`CodeTools` holds the six operations over one :class:`~app.assistant.Assistant`; each
returns text (JSON for structured results) and reports failures as a line starting with
``error:`` instead of raising, so a calling agent reads why and can try again.
:func:`make_tools` wraps them as LangChain tools; ``tools.mcp_server`` serves the same tools
over MCP.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from langchain_core.tools import BaseTool, StructuredTool
from pydantic import BaseModel, ValidationError

from app.llm.errors import LLMUnavailableError
from app.services import IndexMissingError
from graphs import QuestionContext
from tools.schemas import (
    MAX_SPAN,
    AskCodebaseArgs,
    CallGraphArgs,
    FindSymbolArgs,
    ReadSpanArgs,
    SearchCodeArgs,
)
from tools.span import SpanError, read_span

if TYPE_CHECKING:
    from app.assistant import Assistant

log = logging.getLogger(__name__)

ERROR_PREFIX = "error: "
"""Every failure a tool reports starts with this."""
MAX_DEFINITIONS = 50
MAX_SITES = 200


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _as_text(fn: Callable[..., str]) -> Callable[..., str]:
    """Turn any exception of ``fn`` into an ``error:`` line (unexpected ones are logged)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        try:
            return fn(*args, **kwargs)
        except (SpanError, IndexMissingError, LLMUnavailableError) as exc:
            return f"{ERROR_PREFIX}{exc}"
        except Exception as exc:
            log.exception("tool %s failed", fn.__name__)
            return f"{ERROR_PREFIX}{type(exc).__name__}: {exc}"

    return wrapper


class CodeTools:
    """The operations behind the tools, over one repository's assistant."""

    def __init__(self, assistant: Assistant, *, context: QuestionContext | None = None) -> None:
        """Serve ``assistant``; ``context`` tunes ``ask_codebase`` (made non-interactive)."""
        self.assistant = assistant
        self.context = replace(context or QuestionContext(), interactive=False)

    @_as_text
    def search_code(self, query: str, k: int = 10) -> str:
        """Hybrid search; JSON list of hits as ``coderag search --json`` prints them."""
        searcher = self.assistant.searcher
        hits = searcher.search(query, searcher.default_options(k=k))
        partial = {"degraded": True} if searcher.degraded() else {}
        return _dumps([{**h.to_json(), **partial} for h in hits])

    @_as_text
    def find_symbol(self, name: str) -> str:
        """JSON list of the definitions of ``name``, best match first."""
        graph = self.assistant.searcher.code_graph()
        records = []
        for qualname in graph.definitions(name)[:MAX_DEFINITIONS]:
            node = graph.symbol(qualname) or {}
            records.append(
                {
                    "qualname": qualname,
                    "kind": node.get("kind"),
                    "path": node.get("path"),
                    "start_line": node.get("start_line"),
                    "end_line": node.get("end_line"),
                    "signature": node.get("signature"),
                }
            )
        return _dumps(records)

    @_as_text
    def callers(self, symbol: str) -> str:
        """JSON call sites that call ``symbol``."""
        return self._call_sites(symbol, "callers")

    @_as_text
    def callees(self, symbol: str) -> str:
        """JSON call sites inside ``symbol``."""
        return self._call_sites(symbol, "callees")

    def _call_sites(self, symbol: str, direction: str) -> str:
        graph = self.assistant.searcher.code_graph()
        defs, sites = graph.call_sites(symbol, direction)
        if not defs:
            return (
                f"{ERROR_PREFIX}no definition of {symbol!r} in the code graph; "
                "try find_symbol or search_code to find its name"
            )
        return _dumps(
            {
                "symbol": defs[0],
                "other_definitions": defs[1:10],
                direction: [asdict(s) for s in sites[:MAX_SITES]],
                "total": len(sites),
            }
        )

    @_as_text
    def read_span(self, path: str, start_line: int, end_line: int) -> str:
        """Numbered lines of an indexed file."""
        return read_span(
            self.assistant.services.root,
            path,
            start_line,
            end_line,
            indexed=self.assistant.searcher.indexed_paths(),
        )

    @_as_text
    def ask_codebase(self, question: str, thread_id: str | None = None) -> str:
        """Run the question graph without interrupts; JSON answer with its citations."""
        result = self.assistant.ask(question, thread_id=thread_id, context=self.context)
        return _dumps(
            {
                "answer": result.answer,
                "status": result.status,
                "citations": result.citations,
                "thread_id": result.thread_id,
                **({"degraded": result.degraded} if result.degraded else {}),
            }
        )


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """One tool: its name (a :class:`CodeTools` method), arguments and description."""

    name: str
    args: type[BaseModel]
    description: str


TOOL_SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "search_code",
        SearchCodeArgs,
        "Search the repository's code and docs (keyword, semantic, symbol-name and path "
        "matching, fused and reranked). Returns a JSON list, best first, of "
        '{"path", "start_line", "end_line", "symbol", "score", "lanes"}; paths are relative '
        "to the repository root; each also has \"degraded\": true while the index is still "
        "being built (some lanes missing). Use read_span to see the code of a hit.",
    ),
    ToolSpec(
        "find_symbol",
        FindSymbolArgs,
        "Find where a function, method, class or other symbol is defined. Returns a JSON list, "
        'best match first, of {"qualname", "kind", "path", "start_line", "end_line", '
        '"signature"}; an empty list when nothing of that name is defined.',
    ),
    ToolSpec(
        "callers",
        CallGraphArgs,
        "List the call sites that call a symbol, from the static code graph (not text "
        'matching). Returns JSON {"symbol", "other_definitions", "callers": [{"qualname" '
        '(the calling function), "path", "line", "resolved"}], "total"}; resolved=false marks '
        "a call whose target could not be proven (a possible caller).",
    ),
    ToolSpec(
        "callees",
        CallGraphArgs,
        "List what a function or method calls, from the static code graph. Returns JSON "
        '{"symbol", "other_definitions", "callees": [{"qualname" (the called symbol), "path", '
        '"line", "resolved"}], "total"}.',
    ),
    ToolSpec(
        "read_span",
        ReadSpanArgs,
        f"Read lines start_line..end_line (at most {MAX_SPAN}) of an indexed file, each line "
        "prefixed with its number; the first line is 'path:start-end', usable as a citation. "
        "Paths must be relative to the repository root; absolute paths, '..', links leading "
        "outside the repository and unindexed files are refused.",
    ),
    ToolSpec(
        "ask_codebase",
        AskCodebaseArgs,
        "Ask a question about the code base and get a short answer whose citations "
        "(path:start-end) were checked against the files. Call-graph questions ('who calls "
        "X?', 'what does X call?', 'where is X defined?') are answered from the code graph. "
        'Returns JSON {"answer", "status", "citations", "thread_id"} (plus "degraded", the '
        "reason, while the index is still being built); pass thread_id back to ask a "
        "follow-up in the same conversation.",
    ),
)
"""The tools, in the order agents and MCP clients list them."""


def _invalid_arguments(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
    )
    return f"{ERROR_PREFIX}invalid arguments: {problems}"


def make_tools(assistant: Assistant, *, context: QuestionContext | None = None) -> list[BaseTool]:
    """Return the six code tools over ``assistant`` as LangChain tools.

    ``context`` tunes ``ask_codebase``'s question graph (default: the standard, non-interactive
    one). The tools return text; failures, bad arguments included, come back as ``error:``
    lines rather than exceptions.
    """
    ops = CodeTools(assistant, context=context)
    return [
        StructuredTool.from_function(
            func=getattr(ops, spec.name),
            name=spec.name,
            description=spec.description,
            args_schema=spec.args,
            handle_validation_error=_invalid_arguments,
        )
        for spec in TOOL_SPECS
    ]
