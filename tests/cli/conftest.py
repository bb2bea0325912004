"""Fixtures for the CLI tests that run the question graph: fake embedder and fake chat model."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services import Services
from tests.conftest import write_tree
from tests.graph.fakes import ScriptedChatModel
from tests.unit.retrieval.test_retrieval_lanes import REPO, QueryEmbedder


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``REPO`` on disk; every Services built by the CLI gets the fake embedder."""
    embedder = QueryEmbedder()
    monkeypatch.setattr(Services, "embedder", property(lambda self: embedder))
    monkeypatch.setenv("CODERAG_THREADS_DB", str(tmp_path / "threads.sqlite"))
    return write_tree(tmp_path / "repo", REPO)


@pytest.fixture
def llm(monkeypatch: pytest.MonkeyPatch) -> ScriptedChatModel:
    """The chat model every Services hands out."""
    model = ScriptedChatModel(defaults={"answer": "It signs the message with the key [1]."})
    monkeypatch.setattr(Services, "llm", property(lambda self: model))
    return model
