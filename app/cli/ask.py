"""``coderag ask``: one question through the question graph, answered with checked citations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.common import fail, no_repo, settings_from, update_or_read_as_is
from app.cli.options import IndexDirOpt, InteractiveOpt, JsonOpt, LlmOpt, NoIndexOpt, RepoOpt


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
    from app.cli.render import RichProgress, print_answer, print_degraded
    from app.services import Services
    from graphs import QuestionContext

    if not repo.is_dir():
        fail(no_repo(repo))
    services = Services(repo, settings_from(index_dir=index_dir, llm=llm))
    assistant = Assistant(services)
    _ = assistant.checkpointer  # a thread database that is down fails now, not after indexing
    show = services.settings.progress and not quiet and not as_json
    if not no_index:
        update_or_read_as_is(assistant.searcher, RichProgress(enabled=show))
    if not quiet and services.layout.db.exists() and (why := assistant.searcher.degraded()):
        from app.retrieval.models import LANES

        print_degraded(why, LANES, assistant.searcher.ready_lanes())
    ctx = QuestionContext(interactive=interactive)
    toggles = {"hyde": hyde, "decompose": decompose}
    ctx = replace(ctx, **{k: v for k, v in toggles.items() if v is not None})

    drafting = {"open": False}

    def on_update(node: str, update: dict[str, Any]) -> None:
        if show:
            if drafting["open"]:  # end the streamed draft's line
                typer.echo("", err=True)
                drafting["open"] = False
            typer.echo(f"  · {node}", err=True)

    def on_token(node: str, text: str) -> None:
        """Stream the draft on stderr as the model writes it (the answer comes checked)."""
        if show and node == "answer":
            if not drafting["open"]:
                typer.echo("  drafting: ", err=True, nl=False)
                drafting["open"] = True
            typer.echo(text.replace("\n", " "), err=True, nl=False)

    from app.llm import check_available

    check_available(services.llm)  # an unreachable server fails here, in one line
    result = assistant.ask(
        question,
        thread_id=thread,
        context=ctx,
        on_update=on_update,
        on_interrupt=_answer_interrupt if interactive else None,
        on_token=on_token if show else None,
        explain_outages=True,  # a model down past its retries: one line, how to resume
    )
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        print_answer(result)


def register(app: typer.Typer) -> None:
    """Add ``ask`` to ``app``."""
    app.command()(ask)
