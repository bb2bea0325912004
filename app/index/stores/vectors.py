"""Dense vectors in a Chroma collection: embedded under the index directory, or on a server.

Chroma is a derived store: the SQLite chunk table is the source of truth and every indexing
run reconciles Chroma with it (one vector per chunk id, refilled from the SQLite embedding
cache). A killed indexer, or a Chroma server that went away, therefore never leaves the two out
of step for longer than the next run.

On a shared Chroma server (``CODERAG_CHROMA_URL``) each index directory gets collections of
its own, named after the directory and a hash of its path, so repositories never mix and
dropping one index's vectors leaves the others alone. Calls to a server are retried a few
times on connection errors, then fail with :class:`VectorStoreUnavailableError`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from app.llm.errors import exception_chain

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRY_DELAYS: tuple[float, ...] = (0.5, 1.5)
"""Seconds waited before each retry of a Chroma server call that lost its connection."""


class VectorStoreUnavailableError(RuntimeError):
    """The Chroma server cannot be reached; the message says what to do next."""


def collection_name(model_id: str) -> str:
    """Return a Chroma collection name for an embedder, so vectors of models never mix."""
    slug = re.sub(r"[^a-zA-Z0-9_-]+", "-", model_id).strip("-")[-40:] or "default"
    return f"chunks-{slug}"


def server_collection_name(path: Path, model_id: str) -> str:
    """Return the collection of one index directory and embedder on a shared Chroma server.

    ``path`` is the index's vector directory (``<index dir>/chroma``); its parent names the
    collection (readable) and the hash of its resolved path keeps two indexes apart. At most
    56 characters, as Chroma allows.
    """
    where = Path(path).expanduser().resolve()
    digest = hashlib.sha1(str(where).encode()).hexdigest()[:10]
    return f"{_slug(where.parent.name, 20) or 'index'}-{digest}-{_slug(model_id, 24, tail=True)}"


def _slug(text: str, size: int, *, tail: bool = False) -> str:
    """Letters, digits and single dashes, ``size`` at most, starting and ending alphanumeric."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", text).strip("-")
    slug = slug[-size:] if tail else slug[:size]
    return slug.strip("-") or "default"


def is_connection_error(exc: BaseException) -> bool:
    """Return True when ``exc`` (or what caused it) is a lost or refused connection."""
    import httpx

    return any(
        isinstance(err, httpx.TransportError | ConnectionError | TimeoutError)
        for err in exception_chain(exc)
    )


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


def open_store(path: Path, model_id: str, *, url: str | None = None) -> VectorStore:
    """Open the store for indexing, rebuilding it when it is unreadable.

    Vectors are derived data: an unreadable embedded store is deleted, an unreadable server
    collection dropped (only this index's), and the indexer refills it from the cache.

    Raises:
        VectorStoreUnavailableError: when the Chroma server at ``url`` does not answer.
    """
    import shutil

    try:
        store = VectorStore(path, model_id, url=url)
        store.count()
        return store
    except VectorStoreUnavailableError:
        raise  # nothing is wrong with the vectors; the server is away
    except Exception as exc:
        log.warning("vector store unreadable (%s); rebuilding it from the cache", exc)
        if url:
            VectorStore.drop_collection(url, server_collection_name(path, model_id))
        else:
            forget_store(path)
            shutil.rmtree(path, ignore_errors=True)
        return VectorStore(path, model_id, url=url)


class VectorStore:
    """A Chroma collection keyed by chunk id, holding normalised embeddings (cosine space)."""

    retry_delays: tuple[float, ...] = RETRY_DELAYS
    """Waits before each retry of a server call (tests shorten them)."""

    def __init__(self, path: Path, model_id: str, *, url: str | None = None):
        """Open the embedded store at ``path``, or this index's collection on a server at ``url``.

        Raises:
            VectorStoreUnavailableError: when the Chroma server at ``url`` does not answer.
        """
        self.url = url
        self._size: int | None = None  # vectors, for queries; forgotten on every write
        if url:
            self.name = server_collection_name(path, model_id)
            self.client: Any = self._call(lambda: _http_client(url), "connect")
            meta = {"index_dir": str(Path(path).parent)}
        else:
            self.name = collection_name(model_id)
            self.client = _embedded_client(path)
            meta = {}
        self.collection = self._call(
            lambda: self.client.get_or_create_collection(
                name=self.name,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", "model": model_id, **meta},
            ),
            "open the collection",
        )

    @classmethod
    def drop_collection(cls, url: str, name: str) -> None:
        """Delete the collection ``name`` (and nothing else) on the server at ``url``."""
        client = _retrying(cls.retry_delays, url, lambda: _http_client(url), "connect")
        try:
            client.delete_collection(name)
        except Exception as exc:  # already gone is fine; a dead server fails on the next call
            log.info("could not drop collection %s: %s", name, exc)

    def _call(self, fn: Callable[[], T], what: str) -> T:
        """Run ``fn``; on a server, retry lost connections, then raise an actionable error."""
        if not self.url:
            return fn()
        return _retrying(self.retry_delays, self.url, fn, what)

    def ids(self) -> set[str]:
        """Return every stored id."""
        got = self._call(lambda: self.collection.get(include=[]), "list vectors")
        return set(got["ids"])

    def count(self) -> int:
        """Return the number of vectors."""
        return int(self._call(self.collection.count, "count vectors"))

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, Any]]
    ) -> None:
        """Add or replace vectors, in batches Chroma accepts."""
        self._size = None
        step = 2000
        for start in range(0, len(ids), step):
            upsert = partial(
                self.collection.upsert,
                ids=list(ids[start : start + step]),
                embeddings=vectors[start : start + step].tolist(),
                metadatas=[dict(m) for m in metadatas[start : start + step]],
            )
            self._call(upsert, "store vectors")

    def delete(self, ids: Sequence[str]) -> None:
        """Remove vectors by id."""
        self._size = None
        step = 2000
        for start in range(0, len(ids), step):
            delete = partial(self.collection.delete, ids=list(ids[start : start + step]))
            self._call(delete, "delete vectors")

    def query(self, vector: np.ndarray, k: int = 50) -> list[tuple[str, float]]:
        """Return ``(chunk id, cosine similarity)`` best first."""
        if self._size is None:  # counted once: a count is 19 ms at 112k vectors
            self._size = self.count()
        n = self._size
        if n == 0:
            return []
        res = self._call(
            lambda: self.collection.query(
                query_embeddings=[np.asarray(vector, dtype=np.float32).tolist()],
                n_results=min(k, n),
                include=["distances"],
            ),
            "search vectors",
        )
        return [
            (i, 1.0 - float(d)) for i, d in zip(res["ids"][0], res["distances"][0], strict=True)
        ]


def _embedded_client(path: Path) -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    path.mkdir(parents=True, exist_ok=True)
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def _http_client(url: str) -> Any:
    """A client of the server at ``url``; it can never reset (wipe) the shared server."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from urllib.parse import urlparse

    import chromadb
    from chromadb.config import Settings as ChromaSettings

    u = urlparse(url if "://" in url else f"http://{url}")
    ssl = u.scheme == "https"
    return chromadb.HttpClient(
        host=u.hostname or "localhost",
        port=u.port or (443 if ssl else 8000),
        ssl=ssl,
        settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False),
    )


def _retrying(delays: Sequence[float], url: str, fn: Callable[[], T], what: str) -> T:
    """Call ``fn``, retrying connection errors after each of ``delays``; then give up clearly."""
    for attempt in range(len(delays) + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_connection_error(exc):
                raise
            if attempt == len(delays):
                raise VectorStoreUnavailableError(
                    f"the Chroma server at {url} does not answer (could not {what}: "
                    f"{type(exc).__name__}: {exc}): start it (`chroma run --path DIR --port "
                    "PORT`) or unset CODERAG_CHROMA_URL; the index stays consistent, run the "
                    "command again once the server is up"
                ) from exc
            log.warning("Chroma server at %s: %s; retrying", url, exc)
            time.sleep(delays[attempt])
    raise AssertionError("unreachable")
