"""Option types shared by the CLI's commands (one definition, one help text)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

RepoOpt = Annotated[Path, typer.Option("--repo", "-r", help="Repository root.", file_okay=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
IndexDirOpt = Annotated[
    Path | None,
    typer.Option("--index-dir", help="Index directory (default: per repo under CODERAG_HOME)."),
]
InteractiveOpt = Annotated[
    bool,
    typer.Option("--interactive", "-i", help="Review the plan and decide on weak evidence."),
]
LlmOpt = Annotated[
    str | None,
    typer.Option(
        "--llm",
        help="embedded (default: qwen-0.5b) | qwen-1.5b | smollm2 | ollama:MODEL | gguf:/path",
    ),
]
NoIndexOpt = Annotated[
    bool, typer.Option("--no-index", help="Use the index as it is; do not update it first.")
]
