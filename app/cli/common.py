"""What the command modules share: settings from flags, one-line failures, the services."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

from app.settings import Settings

if TYPE_CHECKING:
    from app.services import Services


def settings_from(**overrides: Any) -> Settings:
    """Settings with the flags that were given (None: not given) over the environment's."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def no_repo(path: Path) -> str:
    """Say why ``path`` cannot be a repository root (it is missing, or not a folder)."""
    if not path.exists():
        return f"{path} is not a directory: nothing exists at that path"
    return f"{path} is not a directory: it is a file; give the repository's folder"


def services_for(repo: Path, index_dir: Path | None) -> Services:
    """The services of ``repo``, or a one-line failure when it is not a folder."""
    from app.services import Services

    if not repo.is_dir():
        fail(no_repo(repo))
    return Services(repo, settings_from(index_dir=index_dir))


def update_or_read_as_is(searcher: Any, progress: Any) -> None:
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
