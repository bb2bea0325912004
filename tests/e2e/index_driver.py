"""Run the real ``coderag`` CLI with a fast embedder and progress printed as lines (crash tests).

``python -m tests.e2e.index_driver ARGS...`` is ``coderag ARGS...`` with two changes that make
a SIGKILL test fast and observable: the embedder is a deterministic hash embedder that sleeps a
little per batch (MiniLM needs ~10 s to load per process; with ``CRASH_EMBED_GATE=FILE`` it
also waits while FILE exists, at most 2 minutes), and progress events are printed to
stderr as ``@@ start PHASE TOTAL`` / ``@@ advance PHASE N`` / ``@@ end PHASE`` lines. Every
store (SQLite, Chroma, the graph pickle) and the whole CLI path are the real ones. The embed
batch is shrunk so one run makes many Chroma upserts for a kill to land between or inside.

Every write to a store is a numbered crash point: each SQLite write that commits on its own
(a ``BEGIN``, a ``COMMIT``, an autocommit statement; a kill inside a transaction is the same as
one before its ``COMMIT``), each Chroma upsert or delete (before and after) and each atomic file
write (before and after). With ``CRASH_AT_OP=K`` the process SIGKILLs itself
at the K-th point, printing ``@@ crash WHAT`` first; ``CRASH_OP_KIND=store`` counts only the
points outside SQLite (Chroma, files), which are few next to the SQL statements. At a normal
exit it prints ``@@ ops N M``: how many points it passed, all and outside SQLite.
Timed kills find the wide windows, this finds the narrow ones (between two statements).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import signal
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

EMBED_DELAY_S = float(os.environ.get("CRASH_EMBED_DELAY_S", "0.04"))
EMBED_BATCH = 16
CRASH_AT_OP = int(os.environ.get("CRASH_AT_OP", "0"))
CRASH_OP_KIND = os.environ.get("CRASH_OP_KIND", "all")
_READS = ("SELECT", "PRAGMA")
_ops = {"all": 0, "store": 0}


def crash_point(what: str) -> None:
    """Count one crash point; SIGKILL this process if it is the chosen one."""
    _ops["all"] += 1
    if not what.startswith("sql"):
        _ops["store"] += 1
    if _ops.get(CRASH_OP_KIND) == CRASH_AT_OP:
        _emit(f"crash {what}")
        os.kill(os.getpid(), signal.SIGKILL)


class CrashingConnection:
    """A sqlite3 connection whose every write statement is a crash point."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self._point(sql)
        return self._conn.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self._point(sql)
        return self._conn.executemany(sql, *args)

    def _point(self, sql: str) -> None:
        verb = sql.split()[0].upper()
        if verb in _READS or (self._conn.in_transaction and verb != "COMMIT"):
            return
        crash_point(f"sql {verb}")

    def executescript(self, sql: str) -> sqlite3.Cursor:
        crash_point("sql script")
        return self._conn.executescript(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


class HashEmbedder:
    """384-d unit vectors seeded by a hash of the text; whitespace token counts."""

    model_id = "crash-hash-384"

    def token_counter(self) -> Callable[[str], int]:
        return self.count_tokens

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2

    def encode(self, texts: Sequence[str], **_: object) -> np.ndarray:
        time.sleep(EMBED_DELAY_S)
        gate = os.environ.get("CRASH_EMBED_GATE")
        deadline = time.monotonic() + 120
        while gate and os.path.exists(gate) and time.monotonic() < deadline:
            time.sleep(0.05)  # embedding waits while the test holds the gate file
        rows = [_vector(t) for t in texts]
        return np.stack(rows) if rows else np.zeros((0, 384), np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return _vector(text)


def _vector(text: str) -> np.ndarray:
    seed = int.from_bytes(hashlib.sha1(text.encode()).digest()[:4], "little")
    v = np.random.default_rng(seed).standard_normal(384).astype(np.float32)
    return v / np.linalg.norm(v)


class LineProgress:
    """Progress sink printing one flushed line per event (stands in for the rich bars)."""

    def __init__(self, *_: Any, **__: Any) -> None:
        pass

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def start(self, phase: str, total: int | None) -> None:
        _emit(f"start {phase} {total}")

    def advance(self, phase: str, n: int = 1) -> None:
        _emit(f"advance {phase} {n}")

    def end(self, phase: str) -> None:
        _emit(f"end {phase}")


def _install_crash_points() -> None:
    from app.codegraph import refresh as graph_refresh
    from app.index import layout
    from app.index.stores import db, vectors

    init = db.IndexDB.__init__

    def open_db(self: db.IndexDB, path: Any) -> None:
        # the schema is created through the plain connection; later writes are crash points
        init(self, path)
        self.conn = CrashingConnection(self.conn)  # type: ignore[assignment]

    db.IndexDB.__init__ = open_db  # type: ignore[method-assign]
    for name in ("upsert", "delete"):
        setattr(vectors.VectorStore, name, _around(getattr(vectors.VectorStore, name), name))
    atomic = _around(layout.write_atomic, "write_atomic")
    layout.write_atomic = atomic  # type: ignore[assignment]
    graph_refresh.write_atomic = atomic  # type: ignore[assignment]


def _around(fn: Callable[..., Any], what: str) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        crash_point(f"before {what}")
        out = fn(*args, **kwargs)
        crash_point(f"after {what}")
        return out

    return wrapper


def _emit(line: str) -> None:
    sys.stderr.write(f"@@ {line}\n")
    sys.stderr.flush()


def main(argv: list[str]) -> None:
    """Patch the embedder and progress, then run the CLI with ``argv``."""
    from app import services
    from app.cli import main as cli
    from app.cli import render as cli_render
    from app.index import indexer

    embedder = HashEmbedder()
    services.Services.embedder = property(lambda _self: embedder)  # type: ignore[assignment]
    cli_render.RichProgress = LineProgress  # type: ignore[assignment,misc]
    indexer.EMBED_BATCH = EMBED_BATCH
    _install_crash_points()
    atexit.register(lambda: _emit(f"ops {_ops['all']} {_ops['store']}"))
    _emit("ready")
    sys.argv = ["coderag", *argv]
    cli.main()


if __name__ == "__main__":
    main(sys.argv[1:])
