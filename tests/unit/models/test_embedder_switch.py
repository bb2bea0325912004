"""Switching the embedder re-embeds every chunk: vectors of two models never mix."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from app.index.layout import IndexLayout
from app.index.stores.db import IndexDB
from app.index.stores.forms import text_hash
from app.index.stores.vectors import VectorStore
from app.retrieval.models import SearchOptions
from app.retrieval.search import Searcher
from app.services import Services
from app.settings import Settings
from tests.conftest import FakeEmbedder, write_tree

REPO: dict[str, str | bytes] = {
    "pkg/users.py": (
        "def create_user(name):\n    return {'name': name}\n\n\n"
        "def delete_user(store, name):\n    store.pop(name, None)\n"
    ),
    "pkg/mail.py": "def send_mail(to, body):\n    print(to, body)\n",
    "README.md": "# Users\n\nCreate and delete users, send mail.\n",
}


class SaltedEmbedder(FakeEmbedder):
    """The conftest fake with its own ``model_id`` and vectors that depend on it."""

    def __init__(self, model_id: str) -> None:
        super().__init__()
        self.model_id = model_id  # type: ignore[misc]

    def encode(self, texts: Sequence[str], **_: object) -> np.ndarray:
        self.encoded.extend(texts)
        rows = []
        for t in texts:
            digest = hashlib.sha1(f"{self.model_id}\0{t}".encode()).digest()
            v = np.random.default_rng(int.from_bytes(digest[:4], "little")).standard_normal(384)
            rows.append((v / np.linalg.norm(v)).astype(np.float32))
        return np.stack(rows) if rows else np.zeros((0, 384), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def stored_vectors(index_dir: Path, model_id: str) -> dict[str, np.ndarray]:
    """Return chunk id -> vector of ``model_id``'s collection."""
    store = VectorStore(IndexLayout(index_dir).chroma, model_id)
    got = store.collection.get(include=["embeddings"])
    return {
        i: np.asarray(v, np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)
    }


@pytest.fixture
def switched(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    """Index with model ``fake-a``, then search through model ``fake-b`` (auto re-index)."""
    root = write_tree(tmp_path / "repo", REPO)
    services = Services(root, Settings(index_dir=tmp_path / "idx"))
    services.embedder = SaltedEmbedder("fake-a")  # type: ignore[assignment]
    searcher = Searcher(services)
    searcher.update_index()
    a_ids = set(stored_vectors(tmp_path / "idx", "fake-a"))
    second = SaltedEmbedder("fake-b")
    services.embedder = second  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, logger="app.index.indexer"):
        report = searcher.update_index()
    return searcher, second, report, a_ids, tmp_path / "idx", caplog.text


def test_switch_says_so_and_re_embeds_every_chunk(switched):
    _, second, report, a_ids, index_dir, log_text = switched
    db = IndexDB(IndexLayout(index_dir).db)
    try:
        chunks = list(db.all_chunks())
        assert db.get_meta("embed_model") == "fake-b"
    finally:
        db.close()
    assert a_ids and len(chunks) == len(a_ids)
    assert f"embedder changed from fake-a to fake-b: re-embedding {len(chunks)} chunks" in log_text
    assert report.embed_cache_hits == 0  # the cache is per model: nothing of fake-a is reused
    assert report.embedded == len({text_hash(c) for c in chunks})
    vecs = stored_vectors(index_dir, "fake-b")
    assert set(vecs) == {c.id for c in chunks}
    for c in chunks:  # every vector is fake-b's, none kept from fake-a
        expected = second.encode([c.embed_text])[0]
        assert np.allclose(vecs[c.id], expected, atol=1e-5), c.id


def test_search_after_the_switch_uses_the_new_model(switched):
    searcher, _, _, _, index_dir, _ = switched
    db = IndexDB(IndexLayout(index_dir).db)
    try:
        target = next(c for c in db.all_chunks() if c.path == "pkg/mail.py")
    finally:
        db.close()
    # a query equal to a chunk's embed text has cosine 1 with it only under the same model
    hits = searcher.search(
        target.embed_text, SearchOptions(k=3, lanes=("dense",), expand=False, rerank="none")
    )
    assert hits and hits[0].path == "pkg/mail.py"
    assert hits[0].start_line == target.start_line


def test_switching_back_reuses_the_first_models_cache(switched):
    searcher, _, _, a_ids, index_dir, _ = switched
    first = SaltedEmbedder("fake-a")
    searcher.services.embedder = first  # type: ignore[assignment]
    report = searcher.update_index()
    assert first.encoded == []  # fake-a's vectors were cached under its own name
    assert set(stored_vectors(index_dir, "fake-a")) == a_ids
    assert report.embedded == 0
