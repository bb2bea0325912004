"""``coderag callers``, ``callees``, ``callgraph``: answers from the code graph, not from text."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.common import fail, no_repo, services_for
from app.cli.options import IndexDirOpt, JsonOpt, RepoOpt


def _call_query(
    symbol: str, repo: Path, index_dir: Path | None, as_json: bool, direction: str, refresh: bool
) -> None:
    services = services_for(repo, index_dir)
    if refresh:
        services.index(embed=False)
    graph = services.graph()
    defs, sites = graph.call_sites(symbol, direction)
    if not defs:
        fail(
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
    typer.echo(f"{direction} of {graph.importable(defs[0])}  ({where})")
    if len(defs) > 1:
        typer.echo(f"  (also defined: {', '.join(graph.importable(d) for d in defs[1:6])})")
    if not sites:
        typer.echo("  none found")
    for s in sites:
        mark = "" if s.resolved else "  [unresolved]"
        typer.echo(f"  {graph.importable(s.qualname)}  {s.path}:{s.line}{mark}")


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


def callgraph(
    path: Annotated[Path, typer.Argument(help="Folder of Python code.", file_okay=False)],
    fmt: Annotated[str, typer.Option("--format", help="Output format: pycg.")] = "pycg",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to file.")] = None,
) -> None:
    """Export the Python call graph of PATH (PyCG JSON: caller to the list of its callees)."""
    from app.codegraph.pyflow import export_pycg

    if fmt != "pycg":
        fail(f"unknown format {fmt!r}; supported: pycg")
    if not path.is_dir():
        fail(no_repo(path))
    text = json.dumps(export_pycg(path), indent=2, sort_keys=True)
    if output:
        output.write_text(text + "\n")
    else:
        typer.echo(text)


def register(app: typer.Typer) -> None:
    """Add ``callers``, ``callees`` and ``callgraph`` to ``app``."""
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
    app.command()(callgraph)
