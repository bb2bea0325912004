"""Parse ``CODERAG_LLM``: which chat model to use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from app.llm.errors import LLMUnavailableError
from app.models.gguf import PACKAGED

ProviderKind = Literal["packaged", "smollm2", "gguf", "ollama"]

DEFAULT_EMBEDDED = "qwen-0.5b"
"""What ``embedded`` (the default) means: Qwen2.5-Coder-0.5B-Instruct, run in process."""

NAMES = ("embedded", *PACKAGED, "smollm2", "gguf:/path", "ollama:MODEL")
"""Every form ``CODERAG_LLM`` takes, for help texts and errors."""


@dataclass(frozen=True)
class LLMSpec:
    """A parsed ``CODERAG_LLM`` value: the provider and its argument (name, path or model)."""

    kind: ProviderKind
    target: str = ""


def parse_spec(text: str) -> LLMSpec:
    """Parse ``embedded``, ``qwen-0.5b``, ``qwen-1.5b``, ``smollm2``, ``gguf:PATH``, ``ollama:M``.

    ``embedded`` is the default packaged model (:data:`DEFAULT_EMBEDDED`). MODEL may carry a
    tag, as in ``ollama:qwen2.5-coder:7b``.

    Raises:
        LLMUnavailableError: for anything else.
    """
    value = text.strip()
    low = value.lower()
    if low == "embedded":
        return LLMSpec("packaged", DEFAULT_EMBEDDED)
    if low in PACKAGED:
        return LLMSpec("packaged", low)
    if low == "smollm2":
        return LLMSpec("smollm2")
    head, sep, target = value.partition(":")
    kind = head.strip().lower()
    target = target.strip()
    if sep and target:
        if kind == "gguf":
            return LLMSpec("gguf", target)
        if kind == "ollama":
            return LLMSpec("ollama", target)
    raise LLMUnavailableError(
        f"CODERAG_LLM={text!r} is not understood: use one of {', '.join(NAMES)}"
    )
