"""``coderag index`` and ``coderag status``: build the index, and say whether it is fresh."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail, no_repo, settings_from
from app.cli.options import IndexDirOpt, JsonOpt


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
    from app.cli.render import RichProgress, print_report
    from app.services import Services

    if not path.is_dir():
        fail(no_repo(path))
    settings = settings_from(
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


def status(
    path: Annotated[Path, typer.Argument(help="Repository root.", file_okay=False)] = Path("."),
    as_json: JsonOpt = False,
    index_dir: IndexDirOpt = None,
) -> None:
    """Say whether the index of PATH is fresh and which files changed since."""
    from app.index.status import index_status

    if not path.is_dir():
        fail(no_repo(path))
    st = index_status(path, settings_from(index_dir=index_dir))
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


def register(app: typer.Typer) -> None:
    """Add ``index`` and ``status`` to ``app``."""
    app.command()(index)
    app.command()(status)
