"""``coderag search``: hybrid code search from the terminal, or as JSON for scripts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.common import fail, services_for, update_or_read_as_is
from app.cli.options import IndexDirOpt, JsonOpt, RepoOpt


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
            "--group-by",
            help="'file': files by their evidence, one hit per file first; 'chunk': plain "
            "chunks; 'auto': chunks for a symbol lookup, files for a question.",
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
    from app.cli.render import RichProgress, print_degraded, print_hits
    from app.retrieval.models import LANES
    from app.retrieval.search import Searcher

    services = services_for(repo, index_dir)
    chosen = tuple(x.strip() for x in lanes.split(",") if x.strip()) if lanes else LANES
    bad = [x for x in chosen if x not in LANES]
    if bad or not chosen:
        fail(f"unknown lane(s) {', '.join(bad) or '(none)'}; choose from {', '.join(LANES)}")
    if group_by not in (None, "file", "chunk", "auto"):
        fail(f"--group-by must be 'file', 'chunk' or 'auto', not {group_by!r}")
    if rerank not in (None, "features", "none", "cross-encoder"):
        fail(f"--rerank must be features, none or cross-encoder, not {rerank!r}")
    searcher = Searcher(services)
    if not no_index:
        enabled = services.settings.progress and not quiet and not as_json
        update_or_read_as_is(searcher, RichProgress(enabled=enabled))
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


def register(app: typer.Typer) -> None:
    """Add ``search`` to ``app``."""
    app.command()(search)
