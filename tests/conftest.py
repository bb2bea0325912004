"""Shared fixtures: an isolated environment, a fake embedder and small repositories."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Keep every test away from the user's indexes, .env and the network."""
    home = tmp_path_factory.mktemp("coderag-home")
    for key in list(__import__("os").environ):
        if key.startswith("CODERAG_"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CODERAG_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.chdir(home)


class FakeEmbedder:
    """Deterministic 384-d vectors from a hash of the text; whitespace token counts."""

    model_id = "fake"

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def token_counter(self) -> Callable[[str], int]:
        return lambda text: len(text.split()) + 2

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2

    def encode(self, texts: Sequence[str], **_: object) -> np.ndarray:
        self.encoded.extend(texts)
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha1(t.encode()).digest()[:4], "little")
            v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows) if rows else np.zeros((0, 384), np.float32)


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


def write_tree(root: Path, files: dict[str, str | bytes]) -> Path:
    """Create ``files`` (relative path -> content) under ``root``."""
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return root
