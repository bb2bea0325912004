"""``coderag mcp``: serve one repository's code tools to MCP clients over stdio."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from app.cli.options import IndexDirOpt, RepoOpt

if TYPE_CHECKING:
    from app.index.background import BackgroundIndex


def mcp(
    repo: RepoOpt = Path("."),
    index_dir: IndexDirOpt = None,
    no_index: Annotated[
        bool, typer.Option("--no-index", help="Serve the index as it is; do not update it first.")
    ] = False,
    no_embed: Annotated[
        bool, typer.Option("--no-embed", help="No dense vectors: no embedding model is loaded.")
    ] = False,
    llm: Annotated[
        str | None,
        typer.Option("--llm", help="Chat model of ask_codebase (see coderag ask --help)."),
    ] = None,
) -> None:
    """Serve REPO's code tools over MCP on stdin/stdout (logs go to stderr).

    Tools: search_code, find_symbol, callers, callees, read_span, ask_codebase, index_status.

    The server answers the handshake at once. REPO is indexed incrementally in the background
    (unless --no-index): a tool call waits a few seconds for every file to be searchable, then
    answers from the lanes that are ready ("degraded" says which are still filling in, e.g.
    dense vectors while embedding); index_status reports the run's progress. The chat model
    starts on the first ask_codebase.

    Client config: {"command": "coderag", "args": ["mcp", "--repo", "/path/to/repo"]}
    """
    from app.assistant import Assistant
    from app.index.background import BackgroundIndex
    from app.services import Services
    from app.settings import Settings
    from tools import make_tools
    from tools.mcp_server import build_server, run_stdio

    if not repo.is_dir():
        typer.echo(f"error: {repo} is not a directory", err=True)
        raise typer.Exit(1)
    overrides: dict[str, Any] = {"index_dir": index_dir, "llm": llm, "no_embed": no_embed or None}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    assistant = Assistant(Services(repo, settings))
    indexing = None if no_index else BackgroundIndex(assistant.searcher.update_index, on_done=_log)
    server = build_server(make_tools(assistant, indexing=indexing))
    run_stdio(server, indexing.start if indexing is not None else None)


def _log(run: BackgroundIndex) -> None:
    """Say on stderr how the background index run ended."""
    if run.error:
        typer.echo(f"coderag mcp: {run.error}; serving the index as it is", err=True)
    elif run.report is not None:
        r = run.report
        typer.echo(
            f"coderag mcp: indexed {r.root}: {r.added} added, {r.changed} changed, {r.deleted} "
            f"deleted, {r.unchanged} unchanged ({r.seconds.get('total', 0):.1f}s)",
            err=True,
        )


def register(app: typer.Typer) -> None:
    """Add the ``mcp`` command to ``app``."""
    app.command(name="mcp")(mcp)
