"""The ``coderag`` command line: the Typer app, its commands in order, and ``main``.

Each command group lives in its own module with a ``register(app)``; this module, at the top,
imports and registers them (they never import it back).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from app.cli import ask, calls, chat, evaluate, indexing, mcp, search

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


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details.")] = False,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )


for _module in (indexing, calls, search, ask, chat, evaluate, mcp):
    _module.register(app)


def main() -> None:
    """Run the CLI, turning known failures into one-line errors."""
    from app.index.indexer import IndexBusyError
    from app.index.stores.vectors import VectorStoreUnavailableError
    from app.llm import LLMUnavailableError
    from app.models.errors import ModelMissingError
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
