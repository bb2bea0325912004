"""Vectors in a real Chroma server (``CODERAG_CHROMA_URL``) with the real MiniLM embedder: the
same hits as the embedded store, one collection per index, and a server killed mid-index."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.index.indexer import VECTORS_SYNCED
from app.index.stores.db import IndexDB
from app.index.stores.vectors import (
    VectorStore,
    VectorStoreUnavailableError,
    server_collection_name,
)
from app.models.embedder import Embedder
from app.retrieval.search import Searcher
from app.services import Services
from app.settings import Settings
from tests.conftest import write_tree
from tests.e2e.test_search_e2e import REPO

pytestmark = pytest.mark.slow

CHROMA = Path(sys.executable).parent / "chroma"
QUERIES = (
    "how are failed calls retried with exponential backoff",
    "wait longer between tries when something breaks",
    "apply_discount",
    "email the customer a receipt",
)
OTHER_REPO = {
    "geo/shapes.py": (
        "import math\n\n\ndef circle_area(radius):\n"
        '    """Area of a circle of the given radius."""\n    return math.pi * radius ** 2\n'
    ),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ChromaServer:
    """A ``chroma run`` process on loopback, with its data folder and log."""

    data: Path
    log: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        where = ["--path", str(self.data), "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(CHROMA), "run", *where],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"chroma run exited:\n{self.log.read_text()[-3000:]}")
            try:
                httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1, trust_env=False)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        pytest.fail(f"chroma run did not answer in {timeout}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    """A fresh Chroma server on a free loopback port, killed at teardown."""
    if not CHROMA.is_file():
        pytest.skip(f"no chroma server binary at {CHROMA}")
    server = ChromaServer(tmp_path / "chroma-data", tmp_path / "chroma.log", free_port())
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The packaged MiniLM, loaded once for the module."""
    return Embedder("minilm")


@pytest.fixture
def make_services(tmp_path: Path, embedder: Embedder) -> Callable[..., Services]:
    def make(root: Path, index: str, **settings: Any) -> Services:
        services = Services(root, Settings(index_dir=tmp_path / index, **settings))
        services.embedder = embedder  # type: ignore[misc]
        return services

    return make


def _hits(searcher: Searcher, query: str, **options: Any) -> list[tuple[Any, ...]]:
    hits = searcher.search(query, searcher.default_options(k=8, **options))
    return [(h.chunk_id, h.path, h.start_line, h.symbol, sorted(h.lanes), h.score) for h in hits]


def test_server_vectors_give_the_embedded_store_hits(tmp_path, chroma, make_services):
    root = write_tree(tmp_path / "repo", REPO)
    local = Searcher(make_services(root, "local"))
    remote = Searcher(make_services(root, "remote", chroma_url=chroma.url))
    report = remote.update_index()
    assert report.vectors == report.chunks > 0
    local.update_index()
    assert not (tmp_path / "remote" / "chroma").exists()  # nothing embedded on the side
    name = server_collection_name(tmp_path / "remote" / "chroma", "minilm")
    assert VectorStore(tmp_path / "remote" / "chroma", "minilm", url=chroma.url).name == name
    for query in QUERIES:
        for lanes in (("dense",), None):
            extra = {"lanes": lanes} if lanes else {}
            want, got = _hits(local, query, **extra), _hits(remote, query, **extra)
            assert [h[:5] for h in got] == [h[:5] for h in want], (query, lanes)
            assert [h[5] for h in got] == pytest.approx([h[5] for h in want], abs=1e-4)
    top = remote.search(QUERIES[1], remote.default_options(k=3, lanes=("dense",)))
    assert top[0].symbol == "shop.retry.with_retries"


def test_two_repositories_on_one_server_never_mix(tmp_path, chroma, make_services):
    one = Searcher(make_services(write_tree(tmp_path / "one", REPO), "i1", chroma_url=chroma.url))
    two = make_services(write_tree(tmp_path / "two", OTHER_REPO), "i2", chroma_url=chroma.url)
    other = Searcher(two)
    first, second = one.update_index(), other.update_index()
    store1 = VectorStore(tmp_path / "i1" / "chroma", "minilm", url=chroma.url)
    store2 = VectorStore(tmp_path / "i2" / "chroma", "minilm", url=chroma.url)
    assert store1.name != store2.name
    assert (store1.count(), store2.count()) == (first.chunks, second.chunks)
    assert not store1.ids() & store2.ids()
    hits = other.search("area of a round shape", other.default_options(lanes=("dense",)))
    assert {h.path for h in hits} == {"geo/shapes.py"}
    # forgetting one index's vectors leaves the other's alone; its next run refills them
    VectorStore.drop_collection(chroma.url, store1.name)
    assert store2.count() == second.chunks
    again = Services(tmp_path / "one", Settings(index_dir=tmp_path / "i1", chroma_url=chroma.url))
    again.embedder = one.services.embedder  # type: ignore[misc]
    report = again.index()
    assert report.vectors == first.chunks and report.embedded == 0  # from the SQLite cache


def test_server_killed_mid_index_then_back(tmp_path, chroma, make_services, monkeypatch):
    monkeypatch.setattr(VectorStore, "retry_delays", (0.05, 0.05))
    root = write_tree(tmp_path / "repo", REPO)
    services = make_services(root, "idx", chroma_url=chroma.url)

    class KillOnEmbed:
        def start(self, phase: str, total: int | None) -> None:
            if phase == "embed":
                chroma.kill()  # after the collection was opened, before any vector is stored

        def advance(self, phase: str, n: int = 1) -> None: ...

        def end(self, phase: str) -> None: ...

    with pytest.raises(VectorStoreUnavailableError, match="could not store vectors"):
        services.index(KillOnEmbed())
    db = IndexDB(tmp_path / "idx" / "index.db")
    try:
        assert db.get_meta(VECTORS_SYNCED) == "0" and db.count("chunks") > 0
    finally:
        db.close()
    with pytest.raises(VectorStoreUnavailableError, match="could not connect"):
        services.index()  # still down: fails at once, changes nothing
    chroma.start()  # back, same data folder and port
    report = services.index()
    assert report.vectors == report.chunks > 0
    assert report.embedded == 0  # the vectors cached in SQLite before the crash
    searcher = Searcher(services)
    hits = searcher.search(QUERIES[0], searcher.default_options(k=3))
    assert hits[0].symbol == "shop.retry.with_retries" and "dense" in hits[0].lanes
