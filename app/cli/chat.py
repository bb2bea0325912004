"""``coderag chat``: the command that starts the REPL (registered on the main Typer app)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from app.cli.options import IndexDirOpt, InteractiveOpt, LlmOpt, NoIndexOpt, RepoOpt


def register(app: typer.Typer) -> None:
    """Add the ``chat`` command to ``app``."""
    app.command(name="chat")(chat)


def chat(
    repo: RepoOpt = Path("."),
    thread: Annotated[
        str | None, typer.Option("--thread", help="Resume this conversation thread.")
    ] = None,
    interactive: InteractiveOpt = False,
    llm: LlmOpt = None,
    no_index: NoIndexOpt = False,
    index_dir: IndexDirOpt = None,
) -> None:
    """Chat about REPO: questions and follow-ups on one conversation thread.

    Answers cite path:start-end, checked against the files.
    Commands: /sources (the cited code), /trace, /reset, /thread [ID], /help, /quit.
    Ctrl-C cancels a running question; Ctrl-D leaves. Input history: CODERAG_HOME/chat_history.
    """
    from app.assistant import Assistant
    from app.chat.commands import ThreadIndex
    from app.chat.repl import ChatRepl, make_reader
    from app.cli.render import RichProgress
    from app.llm import check_available
    from app.services import Services
    from app.settings import Settings
    from graphs import QuestionContext

    if not repo.is_dir():
        typer.echo(f"error: {repo} is not a directory", err=True)
        raise typer.Exit(1)
    overrides: dict[str, Any] = {"index_dir": index_dir, "llm": llm}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    services = Services(repo, settings)
    assistant = Assistant(services)
    _ = assistant.checkpointer  # a thread database that is down fails now, not on a question
    if not no_index:
        with RichProgress(enabled=settings.progress) as progress:
            assistant.searcher.update_index(progress)
    check_available(services.llm)  # an unreachable server fails here, in one line
    threads_db = settings.threads_db or settings.home / "threads.sqlite"
    repl = ChatRepl(
        assistant,
        context=QuestionContext(interactive=interactive),
        reader=make_reader(Path(settings.home) / "chat_history"),
        threads=ThreadIndex(threads_db.with_name(f"{threads_db.stem}.chat.json")),
        thread_id=thread,
    )
    repl.run()
