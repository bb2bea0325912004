"""``coderag eval``: how well does retrieval work on this repository? Measured, not guessed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from app.cli.options import JsonOpt, LlmOpt, RepoOpt

HELP = (
    "Measure retrieval on REPO with queries mined from REPO itself.\n\n"
    "Queries: the first sentence of each documented function, class or module, searched "
    "against a copy with the documentation stripped (so they are not verbatim lookups); "
    "identifiers, which must find their definitions; and commit subjects from git history, "
    "which must find the files the commit changed. The copy gets its own index, seeded from "
    "REPO's index so only changed chunks are embedded again.\n\n"
    "The ladder: bm25 -> dense -> hybrid (fused lanes) -> +graph (call-graph expansion) -> "
    "+rerank (the default pipeline) -> +llm steps (the question graph with HyDE, "
    "decomposition and query rewrite, on a sample, next to +rerank on the same sample).\n\n"
    "Prints the table (NDCG@10, file Recall@1/5/10, MRR@10, p50/p95 latency) and writes "
    "eval.json, eval.md, eval.png and eval_latency.png."
)


def evaluate(
    repo: RepoOpt = Path("."),
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for eval.json, eval.md and the PNG plots "
                     "(default: <index dir>/eval/results).", file_okay=False),
    ] = None,
    rungs: Annotated[
        str, typer.Option(help="Comma list of ladder rungs without the LLM.")
    ] = "bm25,dense,hybrid,+graph,+rerank",
    max_queries: Annotated[
        int, typer.Option(help="Most documentation + symbol queries mined.", min=1)
    ] = 200,
    commits: Annotated[
        int, typer.Option(help="Most commit-message queries from git history (0: none).", min=0)
    ] = 40,
    with_llm: Annotated[
        bool, typer.Option("--with-llm/--no-llm", help="Add the rung with the LLM steps "
                           "(HyDE, decomposition, query rewrite) through the question graph.")
    ] = True,
    llm_queries: Annotated[
        int, typer.Option(help="Queries in the LLM rung's sample (each costs LLM calls).", min=1)
    ] = 20,
    llm: LlmOpt = None,
    as_json: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Measure retrieval on REPO with queries mined from REPO itself (see HELP)."""
    from app.cli.common import fail, settings_from
    from app.cli.render import RichProgress
    from app.cli.render import out as console
    from app.eval import report
    from app.eval.runner import EvalError, EvalOptions, eval_dir, run_eval

    if not repo.is_dir():
        fail(f"{repo} is not a directory")
    settings = settings_from(llm=llm)
    options = EvalOptions(
        rungs=tuple(r.strip() for r in rungs.split(",") if r.strip()),
        max_queries=max_queries, commits=commits, llm=with_llm, llm_queries=llm_queries,
    )  # fmt: skip
    try:
        with RichProgress(enabled=settings.progress and not quiet and not as_json) as progress:
            doc = run_eval(repo, settings, options, progress)
    except EvalError as exc:
        fail(str(exc))
    folder = out or eval_dir(settings, repo) / "results"
    paths = report.write(doc, folder)
    if as_json:
        summary = {
            "rungs": report.rows(doc),
            "queries": doc["queries"],
            "corpus": doc["corpus"],
            "llm": {k: v for k, v in (doc.get("llm") or {}).items() if k != "baseline"},
            "files": {k: str(v) for k, v in paths.items()},
            "seconds": doc["meta"]["seconds"],
        }
        typer.echo(json.dumps(summary, indent=2))
        return
    # Markdown, not rich markup; never wrapped at the terminal width (a piped table stays one)
    console.print(report.markdown(doc), markup=False, highlight=False, soft_wrap=True)
    for label, path in paths.items():
        console.print(f"{label:>12}: {path}", markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the ``eval`` command to ``app``."""
    app.command(name="eval", help=HELP)(evaluate)
