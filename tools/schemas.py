"""Argument schemas of the code tools (LangChain ``args_schema`` and MCP ``inputSchema``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.answer.verify import DEFAULT_MAX_SPAN as MAX_SPAN


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SearchCodeArgs(_Args):
    """Arguments of ``search_code``."""

    query: str = Field(
        min_length=1,
        description=(
            "What to look for: a natural-language phrase ('where are passwords hashed'), "
            "an identifier ('save_user', 'Store.load') or words from a file path."
        ),
    )
    k: int = Field(default=10, ge=1, le=50, description="How many hits to return, best first.")


class FindSymbolArgs(_Args):
    """Arguments of ``find_symbol``."""

    name: str = Field(
        min_length=1,
        description=(
            "A symbol name: short ('load'), partly qualified ('Store.load') or fully "
            "qualified ('store.users.Store.load')."
        ),
    )


class CallGraphArgs(_Args):
    """Arguments of ``callers`` and ``callees``."""

    symbol: str = Field(
        min_length=1,
        description=(
            "The function, method or class: a qualified name ('store.users.save_user') or a "
            "short one ('save_user'); use find_symbol first when a short name is ambiguous."
        ),
    )


class ReadSpanArgs(_Args):
    """Arguments of ``read_span``."""

    path: str = Field(
        min_length=1,
        description="File path relative to the repository root, as search results give it.",
    )
    start_line: int = Field(ge=1, description="First line to read (1-based).")
    end_line: int = Field(
        ge=1,
        description=(
            f"Last line to read (inclusive; at most {MAX_SPAN} lines per call, clipped to the "
            "end of the file)."
        ),
    )


class AskCodebaseArgs(_Args):
    """Arguments of ``ask_codebase``."""

    question: str = Field(min_length=1, description="A question about the code base.")
    thread_id: str | None = Field(
        default=None,
        description=(
            "Continue an earlier conversation (the thread_id a previous answer returned) so "
            "follow-ups like 'who calls it?' resolve; omit for a fresh conversation."
        ),
    )


class IndexStatusArgs(_Args):
    """Arguments of ``index_status`` (none)."""
