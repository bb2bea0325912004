"""The ``coderag`` command line: index a repository, ask the code graph, export call graphs."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli_options import IndexDirOpt, InteractiveOpt, JsonOpt, LlmOpt, NoIndexOpt, RepoOpt
from app.settings import Settings

app = typer.Typer(
    name="coderag",
    help=(
        "coderag: a local, private assistant for questions about a code base.\n\n"
        "Index a repository (tree-sitter symbols, code graph, BM25 and MiniLM vectors, all on "
        "this machine), then search it, ask it questions (answers cite path:start-end, checked "
        "against the files), chat, or serve it to other agents over MCP. Indexes live under "
        "~/.cache/coderag/indexes (CODERAG_HOME or --index-dir to move them)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _settings(**overrides: Any) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _no_repo(path: Path) -> str:
    """Say why ``path`` cannot be a repository root (it is missing, or not a folder)."""
    if not path.exists():
        return f"{path} is not a directory: nothing exists at that path"
    return f"{path} is not a directory: it is a file; give the repository's folder"


def _services(repo: Path, index_dir: Path | None) -> Any:
    from app.services import Services

    if not repo.is_dir():
        _fail(_no_repo(repo))
    return Services(repo, _settings(index_dir=index_dir))


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


@app.command()
def index(
    path: Annotated[Path, typer.Argument(help="Repository root.", file_okay=False)] = Path("."),
    as_json: JsonOpt = False,
    index_dir: IndexDirOpt = None,
    no_embed: Annotated[
        bool, typer.Option("--no-embed", help="Skip dense vectors (fast; lexical + graph only).")
    ] = False,
    max_file_bytes: Annotated[
        int | None, typer.Option(help="Skip files larger than this (default 1 MB).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Index PATH incrementally: only changed files are parsed and embedded again."""
    from app.cli_render import RichProgress, print_report
    from app.services import Services

    if not path.is_dir():
        _fail(_no_repo(path))
    settings = _settings(
        index_dir=index_dir, no_embed=no_embed or None, max_file_bytes=max_file_bytes
    )
    services = Services(path, settings)
    show = settings.progress and not quiet and not as_json
    with RichProgress(enabled=show, notes=not quiet and not as_json) as progress:
        report = services.index(progress)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        print_report(report)


@app.command()
def status(
    path: Annotated[Path, typer.Argument(help="Repository root.", file_okay=False)] = Path("."),
    as_json: JsonOpt = False,
    index_dir: IndexDirOpt = None,
) -> None:
    """Say whether the index of PATH is fresh and which files changed since."""
    from app.index.status import index_status

    if not path.is_dir():
        _fail(_no_repo(path))
    st = index_status(path, _settings(index_dir=index_dir))
    if as_json:
        typer.echo(json.dumps(st.to_json(), indent=2))
        return
    if st.problem:
        typer.echo(st.problem)
        raise typer.Exit(1)
    state = "fresh" if st.fresh else "stale"
    typer.echo(
        f"{st.root}: index {state} ({st.files} files, {st.chunks} chunks, "
        f"embedder {st.embed_model or 'none yet'})  [{st.index_dir}]"
    )
    for label, items in (("added", st.added), ("changed", st.changed), ("deleted", st.deleted)):
        for p in items[:50]:
            typer.echo(f"  {label:<8} {p}")
        if len(items) > 50:
            typer.echo(f"  ... and {len(items) - 50} more {label}")
    if not st.fresh:
        typer.echo(f"run `coderag index {st.root}` to update")


def _call_query(
    symbol: str, repo: Path, index_dir: Path | None, as_json: bool, direction: str, refresh: bool
) -> None:
    services = _services(repo, index_dir)
    if refresh:
        services.index(embed=False)
    graph = services.graph()
    defs, sites = graph.call_sites(symbol, direction)
    if not defs:
        _fail(
            f"no definition of {symbol!r} in {services.root}; try a qualified name "
            "(pkg.module.Class.method) or `coderag index` first"
        )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "symbol": defs[0],
                    "definitions": defs,
                    direction: [asdict(s) for s in sites],
                },
                indent=2,
            )
        )
        return
    node = graph.graph.nodes.get(f"sym:{defs[0]}", {})
    where = f"{node.get('path')}:{node.get('start_line')}-{node.get('end_line')}" if node else "?"
    typer.echo(f"{direction} of {defs[0]}  ({where})")
    if len(defs) > 1:
        typer.echo(f"  (also defined: {', '.join(defs[1:6])})")
    if not sites:
        typer.echo("  none found")
    for s in sites:
        mark = "" if s.resolved else "  [unresolved]"
        typer.echo(f"  {s.qualname}  {s.path}:{s.line}{mark}")


def _call_command(direction: str, doc: str) -> Any:
    def command(
        symbol: Annotated[
            str, typer.Argument(help="Symbol: qualified (pkg.mod.Class.meth) or short.")
        ],
        repo: RepoOpt = Path("."),
        as_json: JsonOpt = False,
        index_dir: IndexDirOpt = None,
        no_refresh: Annotated[
            bool, typer.Option("--no-refresh", help="Do not re-index first.")
        ] = False,
    ) -> None:
        _call_query(symbol, repo, index_dir, as_json, direction, not no_refresh)

    command.__doc__ = doc
    return command


app.command(name="callers")(
    _call_command(
        "callers",
        "List the functions that call SYMBOL, from the code graph (not from text similarity).",
    )
)
app.command(name="callees")(
    _call_command(
        "callees",
        "List what SYMBOL calls, resolved through scopes, imports, self/cls and inheritance.",
    )
)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="A question, a phrase or an identifier.")],
    repo: RepoOpt = Path("."),
    k: Annotated[int, typer.Option("-k", "--top", help="How many hits.", min=1)] = 10,
    as_json: JsonOpt = False,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show which lanes found each hit and its features.")
    ] = False,
    group_by: Annotated[
        str | None,
        typer.Option(
            "--group-by", help="'file': one hit per file first (default); 'chunk': plain chunks."
        ),
    ] = None,
    rerank: Annotated[
        str | None,
        typer.Option("--rerank", help="features (default) | none | cross-encoder."),
    ] = None,
    lanes: Annotated[
        str | None,
        typer.Option(
            "--lanes", help="Comma list of lanes: lexical,dense,symbol,path (default all)."
        ),
    ] = None,
    no_graph: Annotated[bool, typer.Option("--no-graph", help="No call-graph expansion.")] = False,
    mmr: Annotated[
        float | None,
        typer.Option(
            "--mmr", min=0.0, max=1.0,
            help="Diversify the top hits by maximal marginal relevance (lambda: 1 = relevance "
            "only). Off by default: it lowered NDCG@10 on the benchmark.",
        ),
    ] = None,
    no_index: Annotated[
        bool, typer.Option("--no-index", help="Search the index as it is; do not update it first.")
    ] = False,
    index_dir: IndexDirOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Search REPO for QUERY; REPO is indexed incrementally first.

    Hybrid retrieval: lexical (BM25), dense (MiniLM), symbol and path lanes fused by reciprocal
    rank, call-graph expansion, then reranking.

    JSON output (--json) is a list, best first, of
    {"path", "start_line", "end_line", "symbol", "score", "lanes"}; paths are relative to REPO.
    While `coderag index` is still embedding (or another process is indexing REPO), search runs
    the lanes that are ready: each record then also has "degraded": true, and stderr says why.
    """
    from app.cli_render import RichProgress, print_degraded, print_hits
    from app.retrieval.models import LANES
    from app.retrieval.search import Searcher

    services = _services(repo, index_dir)
    chosen = tuple(x.strip() for x in lanes.split(",") if x.strip()) if lanes else LANES
    bad = [x for x in chosen if x not in LANES]
    if bad or not chosen:
        _fail(f"unknown lane(s) {', '.join(bad) or '(none)'}; choose from {', '.join(LANES)}")
    if group_by not in (None, "file", "chunk"):
        _fail(f"--group-by must be 'file' or 'chunk', not {group_by!r}")
    if rerank not in (None, "features", "none", "cross-encoder"):
        _fail(f"--rerank must be features, none or cross-encoder, not {rerank!r}")
    searcher = Searcher(services)
    if not no_index:
        enabled = services.settings.progress and not quiet and not as_json
        _update_or_read_as_is(searcher, RichProgress(enabled=enabled))
    options = searcher.default_options(
        k=k,
        lanes=chosen,
        expand=False if no_graph else None,
        group_by=group_by,
        rerank=rerank,
        mmr=mmr,
    )
    hits = searcher.search(query, options)
    degraded = searcher.degraded()
    if degraded:
        print_degraded(degraded, chosen, searcher.ready_lanes())
    if as_json:
        records = []
        for h in hits:
            rec = h.to_json()
            if degraded:
                rec["degraded"] = True
            if explain:
                rec["explain"] = {"lanes": h.lanes, "expanded": h.expanded, "features": h.features}
            records.append(rec)
        typer.echo(json.dumps(records, indent=2))
    else:
        print_hits(hits, explain=explain)


def _update_or_read_as_is(searcher: Any, progress: Any) -> None:
    """Index incrementally first; while another process indexes, search the index as it is."""
    from app.index.indexer import IndexBusyError

    try:
        with progress:
            searcher.update_index(progress)
    except IndexBusyError:
        typer.echo(
            "note: another coderag process is indexing this repository; searching the index as "
            "it is",
            err=True,
        )


def _answer_interrupt(request: dict[str, Any]) -> dict[str, Any]:
    """Ask the human at the terminal (``--interactive``)."""
    if request.get("type") == "review_plan":
        typer.echo("Plan:", err=True)
        for i, step in enumerate(request.get("plan", []), start=1):
            typer.echo(f"  {i}. {step}", err=True)
        choice = typer.prompt("approve / edit / abort", default="approve", err=True)
        if choice.startswith("ab"):
            return {"action": "abort"}
        if choice.startswith("ed"):
            raw = typer.prompt("sub-questions, separated by ';'", err=True)
            return {"action": "edit", "plan": [p.strip() for p in raw.split(";")]}
        return {"action": "approve"}
    typer.echo(
        f"Low confidence ({request.get('confidence', 0):.2f}) for: {request.get('question')}",
        err=True,
    )
    for h in request.get("hits", []):
        typer.echo(
            f"  {h['path']}:{h['start_line']}-{h['end_line']}  {h.get('symbol') or ''}", err=True
        )
    choice = typer.prompt("hint / answer / abort", default="answer", err=True)
    if choice.startswith("ab"):
        return {"action": "abort"}
    if choice.startswith("h"):
        return {"action": "hint", "hint": typer.prompt("hint (names, files, words)", err=True)}
    return {"action": "answer"}


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question about the code base.")],
    repo: RepoOpt = Path("."),
    as_json: JsonOpt = False,
    thread: Annotated[
        str | None,
        typer.Option("--thread", help="Continue this conversation (printed after each answer)."),
    ] = None,
    interactive: InteractiveOpt = False,
    llm: LlmOpt = None,
    hyde: Annotated[
        bool | None, typer.Option("--hyde/--no-hyde", help="Search with hypothetical code.")
    ] = None,
    decompose: Annotated[
        bool | None, typer.Option("--decompose/--no-decompose", help="Split into sub-questions.")
    ] = None,
    no_index: NoIndexOpt = False,
    index_dir: IndexDirOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
) -> None:
    """Answer QUESTION about REPO with cited code (path:start-end), checked against the files.

    Runs the question graph: condense, route (call-graph questions are answered from the code
    graph), search, check the evidence, answer with the local LLM, verify every citation.
    """
    from dataclasses import replace

    from app.assistant import Assistant
    from app.cli_render import RichProgress, print_answer, print_degraded
    from app.services import Services
    from graphs import QuestionContext

    if not repo.is_dir():
        _fail(_no_repo(repo))
    services = Services(repo, _settings(index_dir=index_dir, llm=llm))
    assistant = Assistant(services)
    _ = assistant.checkpointer  # a thread database that is down fails now, not after indexing
    show = services.settings.progress and not quiet and not as_json
    if not no_index:
        _update_or_read_as_is(assistant.searcher, RichProgress(enabled=show))
    if not quiet and services.layout.db.exists() and (why := assistant.searcher.degraded()):
        from app.retrieval.models import LANES

        print_degraded(why, LANES, assistant.searcher.ready_lanes())
    ctx = QuestionContext(interactive=interactive)
    toggles = {"hyde": hyde, "decompose": decompose}
    ctx = replace(ctx, **{k: v for k, v in toggles.items() if v is not None})

    def on_update(node: str, update: dict[str, Any]) -> None:
        if show:
            typer.echo(f"  · {node}", err=True)

    from app.llm import check_available

    check_available(services.llm)  # an unreachable server fails here, in one line
    result = assistant.ask(
        question,
        thread_id=thread,
        context=ctx,
        on_update=on_update,
        on_interrupt=_answer_interrupt if interactive else None,
        explain_outages=True,  # a model down past its retries: one line, how to resume
    )
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        print_answer(result)


@app.command()
def callgraph(
    path: Annotated[Path, typer.Argument(help="Folder of Python code.", file_okay=False)],
    fmt: Annotated[str, typer.Option("--format", help="Output format: pycg.")] = "pycg",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to file.")] = None,
) -> None:
    """Export the Python call graph of PATH (PyCG JSON: caller to the list of its callees)."""
    from app.index.pyflow import export_pycg

    if fmt != "pycg":
        _fail(f"unknown format {fmt!r}; supported: pycg")
    if not path.is_dir():
        _fail(_no_repo(path))
    text = json.dumps(export_pycg(path), indent=2, sort_keys=True)
    if output:
        output.write_text(text + "\n")
    else:
        typer.echo(text)


def _register_extra_commands() -> None:
    """Add the commands that live in their own modules (chat REPL, MCP server)."""
    from app import cli_chat, cli_eval, cli_mcp

    cli_chat.register(app)
    cli_eval.register(app)
    cli_mcp.register(app)


_register_extra_commands()


def main() -> None:
    """Run the CLI, turning known failures into one-line errors."""
    from app.index.embedder import ModelMissingError
    from app.index.indexer import IndexBusyError
    from app.index.stores.vectors import VectorStoreUnavailableError
    from app.llm import LLMUnavailableError
    from app.retrieval.rerankers import CrossEncoderMissingError
    from app.services import IndexMissingError
    from app.thread_store import ThreadStoreUnavailableError

    try:
        app()
    except (
        ModelMissingError,
        IndexBusyError,
        IndexMissingError,
        CrossEncoderMissingError,
        LLMUnavailableError,
        VectorStoreUnavailableError,
        ThreadStoreUnavailableError,
        FileNotFoundError,
    ) as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:
        from app.llm import is_transient

        if not is_transient(exc):
            raise
        typer.echo(f"error: the language model did not answer ({exc}); is its server up?", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo(
            "interrupted: the index stays consistent; run the command again to resume", err=True
        )
        sys.exit(130)


if __name__ == "__main__":
    main()
