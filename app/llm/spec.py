"""Parse ``CODERAG_LLM``: which chat model to use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.llm.errors import LLMUnavailableError

ProviderKind = Literal["embedded", "gguf", "ollama"]


@dataclass(frozen=True)
class LLMSpec:
    """A parsed ``CODERAG_LLM`` value: the provider and its argument (path or model name)."""

    kind: ProviderKind
    target: str = ""


def parse_spec(text: str) -> LLMSpec:
    """Parse ``embedded``, ``gguf:/path/to/model.gguf`` or ``ollama:MODEL``.

    MODEL may carry a tag, as in ``ollama:qwen2.5-coder:7b``.

    Raises:
        LLMUnavailableError: for anything else.
    """
    value = text.strip()
    if value.lower() == "embedded":
        return LLMSpec("embedded")
    head, sep, target = value.partition(":")
    kind = head.strip().lower()
    target = target.strip()
    if sep and target:
        if kind == "gguf":
            return LLMSpec("gguf", target)
        if kind == "ollama":
            return LLMSpec("ollama", target)
    raise LLMUnavailableError(
        f"CODERAG_LLM={text!r} is not understood: use embedded, gguf:/path or ollama:MODEL"
    )
