"""The code tools other agents call: search, symbols, call graph, source spans, questions.

:class:`CodeTools` holds the seven operations over one :class:`~app.assistant.Assistant`; each
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
    IndexStatusArgs,
    ReadSpanArgs,
    SearchCodeArgs,
)
from tools.span import SpanError, read_span

if TYPE_CHECKING:
    from app.assistant import Assistant
    from app.index.background import BackgroundIndex

log = logging.getLogger(__name__)

ERROR_PREFIX = "error: "
"""Every failure a tool reports starts with this."""
MAX_DEFINITIONS = 50
MAX_SITES = 200
WAIT_SEARCHABLE_S = 20.0
"""How long a tool call waits for a background index run to make every file searchable."""


class IndexNotReadyError(RuntimeError):
    """The first index run has not committed the files yet; the message says where it is."""


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _as_text(fn: Callable[..., str]) -> Callable[..., str]:
    """Turn any exception of ``fn`` into an ``error:`` line (unexpected ones are logged)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        try:
            return fn(*args, **kwargs)
        except (SpanError, IndexMissingError, IndexNotReadyError, LLMUnavailableError) as exc:
            return f"{ERROR_PREFIX}{exc}"
        except Exception as exc:
            log.exception("tool %s failed", fn.__name__)
            return f"{ERROR_PREFIX}{type(exc).__name__}: {exc}"

    return wrapper


class CodeTools:
    """The operations behind the tools, over one repository's assistant."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        context: QuestionContext | None = None,
        indexing: BackgroundIndex | None = None,
        wait_s: float = WAIT_SEARCHABLE_S,
    ) -> None:
        """Serve ``assistant``; ``context`` tunes ``ask_codebase`` (made non-interactive).

        ``indexing`` is an index run in the background (``coderag mcp``): a call waits up to
        ``wait_s`` for it to make every file searchable, then answers from the lanes that are
        ready (``"degraded"`` says which are not), or says where the run is.
        """
        self.assistant = assistant
        self.context = replace(context or QuestionContext(), interactive=False)
        self.indexing = indexing
        self.wait_s = wait_s

    def _ready(self) -> None:
        """Wait for a background run's searchable point; raise if it is not there in time."""
        run = self.indexing
        if run is not None and not run.wait_searchable(self.wait_s):
            raise IndexNotReadyError(
                f"{run.describe()}; try again in a few seconds (index_status shows progress)"
            )
        if run is not None and run.error and not self.assistant.services.layout.db.exists():
            raise IndexNotReadyError(run.error)

    @_as_text
    def index_status(self) -> str:
        """JSON: is the index ready, how far a background run got, what lags behind."""
        from app.index.status import index_status

        services = self.assistant.services
        run = self.indexing
        running = run is not None and run.running
        out: dict[str, Any] = {"root": str(services.root), "exists": services.layout.db.exists()}
        if run is not None:
            out["run"] = run.to_json()
            out["state"] = run.state()
        if run is not None and not run.wait_searchable(0):
            return _dumps(out)  # the first files are not committed yet: nothing to count
        status = index_status(services.root, services.settings, compare=not running)
        if status.exists:
            out |= {"files": status.files, "chunks": status.chunks, "vectors": status.vectors,
                    "embed_model": status.embed_model,
                    "degraded": self.assistant.searcher.degraded()}  # fmt: skip
        if not running:
            out["fresh"] = status.fresh
            out["stale_files"] = len(status.added) + len(status.changed) + len(status.deleted)
            if status.problem:
                out["problem"] = status.problem
            out.setdefault("state", "ready" if status.fresh else "stale")
        return _dumps(out)

    @_as_text
    def search_code(self, query: str, k: int = 10) -> str:
        """Hybrid search; JSON list of hits as ``coderag search --json`` prints them."""
        self._ready()
        searcher = self.assistant.searcher
        hits = searcher.search(query, searcher.default_options(k=k))
        partial = {"degraded": True} if searcher.degraded() else {}
        return _dumps([{**h.to_json(), **partial} for h in hits])

    @_as_text
    def find_symbol(self, name: str) -> str:
        """JSON list of the definitions of ``name``, best match first."""
        self._ready()
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
        self._ready()
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
        self._ready()
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
        self._ready()
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
    ToolSpec(
        "index_status",
        IndexStatusArgs,
        "Say whether the repository's index is ready: JSON {\"state\" (indexing, embedding, "
        "ready, stale or failed), \"files\", \"chunks\", \"vectors\" (chunks with dense "
        "vectors so far), \"degraded\" (why search runs without some lanes, or null), "
        "\"run\" (a background index run's phases with done/total counts)}. Call it when "
        "another tool says the index is being built.",
    ),
)
"""The tools, in the order agents and MCP clients list them."""


def _invalid_arguments(exc: ValidationError) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
    )
    return f"{ERROR_PREFIX}invalid arguments: {problems}"


def make_tools(
    assistant: Assistant,
    *,
    context: QuestionContext | None = None,
    indexing: BackgroundIndex | None = None,
    wait_s: float = WAIT_SEARCHABLE_S,
) -> list[BaseTool]:
    """Return the code tools over ``assistant`` as LangChain tools.

    ``context`` tunes ``ask_codebase``'s question graph (default: the standard, non-interactive
    one); ``indexing`` is an index run going on in the background, which a call waits up to
    ``wait_s`` for (see :class:`CodeTools`).
    The tools return text; failures, bad arguments included, come back as ``error:`` lines
    rather than exceptions.
    """
    ops = CodeTools(assistant, context=context, indexing=indexing, wait_s=wait_s)
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
