"""``coderag mcp``: serve one repository's code tools to MCP clients over stdio."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.options import IndexDirOpt, RepoOpt


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

    Tools: search_code, find_symbol, callers, callees, read_span, ask_codebase.

    REPO is indexed incrementally first unless --no-index; the chat model starts on first ask.

    Client config: {"command": "coderag", "args": ["mcp", "--repo", "/path/to/repo"]}
    """
    from app.assistant import Assistant
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
    server = build_server(make_tools(assistant))

    def prepare() -> None:
        from app.index.indexer import IndexBusyError

        try:
            report = assistant.searcher.update_index()
        except IndexBusyError as exc:
            typer.echo(f"coderag mcp: not indexed ({exc}); serving the index as it is", err=True)
            return
        typer.echo(
            f"coderag mcp: indexed {report.root}: {report.added} added, {report.changed} "
            f"changed, {report.deleted} deleted, {report.unchanged} unchanged "
            f"({report.seconds.get('total', 0):.1f}s)",
            err=True,
        )

    run_stdio(server, None if no_index else prepare)


def register(app: typer.Typer) -> None:
    """Add the ``mcp`` command to ``app``."""
    app.command(name="mcp")(mcp)
