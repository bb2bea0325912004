"""Chat-model calls with deterministic fallbacks: the graph never crashes on a bad reply.

Transient service errors (connection refused, timeouts) propagate so the node's RetryPolicy
retries them; anything else (unparseable or empty output) returns None and the caller falls
back to a rule.
"""

from __future__ import annotations

import logging
from typing import TypeVar

from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from graphs.deps import Deps

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


def _transient(exc: Exception) -> bool:
    from app.llm import is_transient

    return is_transient(exc)


def ask_text(deps: Deps, prompt: str | list[BaseMessage], *, max_chars: int = 2000) -> str | None:
    """Return the model's reply, or None when it is empty or the call failed for good.

    ``prompt`` is one text, or a list of chat messages (system rules, worked examples).
    """
    try:
        reply = deps.llm.invoke(prompt)
    except Exception as exc:
        if _transient(exc):
            raise
        log.warning("LLM call failed (%s); using the fallback", exc)
        return None
    text = reply.content if isinstance(reply.content, str) else str(reply.content)
    text = text.strip()
    return text[:max_chars] if text else None


def ask_structured(deps: Deps, prompt: str, schema: type[M]) -> M | None:
    """Return the model's reply parsed as ``schema``, or None when it cannot be parsed."""
    try:
        out = deps.structured(deps.llm, schema).invoke(prompt)
    except Exception as exc:
        if _transient(exc):
            raise
        log.warning("structured LLM call failed (%s); using the fallback", exc)
        return None
    if isinstance(out, schema):
        return out
    try:
        return schema.model_validate(out)
    except Exception:
        return None
