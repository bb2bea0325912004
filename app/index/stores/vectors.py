"""Dense vectors in a persistent Chroma collection (embedded, telemetry off).

Chroma is a derived store: the SQLite chunk table is the source of truth and
:meth:`VectorStore.sync` makes Chroma hold exactly one vector per chunk id. A killed indexer
therefore never leaves the two out of step for longer than the next run.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np


def collection_name(model_id: str) -> str:
    """Return a Chroma collection name for an embedder, so vectors of models never mix."""
    slug = re.sub(r"[^a-zA-Z0-9_-]+", "-", model_id).strip("-")[-40:] or "default"
    return f"chunks-{slug}"


def forget_store(path: Path) -> None:
    """Drop Chroma's in-process client for ``path`` before its directory is deleted.

    Chroma keeps one client per persist directory for the life of the process; one that
    outlives its files fails with "no such table" when the directory is recreated.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    cache = SharedSystemClient._identifier_to_system
    for key in [k for k in cache if Path(k).resolve() == Path(path).resolve()]:
        system = cache.pop(key)
        SharedSystemClient._identifier_to_refcount.pop(key, None)
        try:
            system.stop()
        except Exception:  # stopping a half-broken client must not block the rebuild
            pass


class VectorStore:
    """A Chroma collection keyed by chunk id, holding normalised embeddings (cosine space)."""

    def __init__(self, path: Path, model_id: str, *, url: str | None = None):
        """Open the embedded store at ``path`` (or a Chroma server at ``url``)."""
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if url:
            from urllib.parse import urlparse

            u = urlparse(url)
            self.client: Any = chromadb.HttpClient(
                host=u.hostname or "localhost", port=u.port or 8000, settings=chroma_settings
            )
        else:
            path.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        self.name = collection_name(model_id)
        self.collection = self.client.get_or_create_collection(
            name=self.name,
            embedding_function=None,
            metadata={"hnsw:space": "cosine", "model": model_id},
        )

    def ids(self) -> set[str]:
        """Return every stored id."""
        got = self.collection.get(include=[])
        return set(got["ids"])

    def count(self) -> int:
        """Return the number of vectors."""
        return int(self.collection.count())

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, Any]]
    ) -> None:
        """Add or replace vectors, in batches Chroma accepts."""
        step = 2000
        for start in range(0, len(ids), step):
            self.collection.upsert(
                ids=list(ids[start : start + step]),
                embeddings=vectors[start : start + step].tolist(),
                metadatas=[dict(m) for m in metadatas[start : start + step]],
            )

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors by id."""
        step = 2000
        for start in range(0, len(ids), step):
            self.collection.delete(ids=list(ids[start : start + step]))

    def query(self, vector: np.ndarray, k: int = 50) -> list[tuple[str, float]]:
        """Return ``(chunk id, cosine similarity)`` best first."""
        n = self.count()
        if n == 0:
            return []
        res = self.collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
            n_results=min(k, n),
            include=["distances"],
        )
        return [
            (i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]
