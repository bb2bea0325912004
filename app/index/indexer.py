"""Incremental indexing: walk -> parse -> chunk -> SQLite (manifest, lexical) -> graph -> vectors.

Only files whose content hash changed are re-parsed and re-chunked; deleted files are pruned
from every store; vectors come from the content-hash cache when the same chunk text was seen
before; Chroma is reconciled with the chunk table so an interrupted run resumes; the code graph
is rebuilt from the stored per-file facts, so an incremental index equals a fresh one.

Everything but the dense vectors is committed first: the lexical, symbol and path lanes and the
code graph are searchable after seconds, while embedding (minutes on a small CPU) fills the
vector store batch by batch; ``vectors_synced`` stays "0" until it is done, and a search in the
meantime runs the lanes that are ready and says so (``Searcher.degraded``).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.codegraph.refresh import graph_is_current, python_calls_cached, rebuild_graph
from app.index.layout import IndexLayout, remove_orphan_temps
from app.index.parse.pool import PrepareOptions, default_workers, prepare_all
from app.index.progress import NullProgress, Progress
from app.index.records import SourceFile
from app.index.report import IndexReport
from app.index.secrets.scan import SECRET_RULES
from app.index.stores.db import IndexCorruptError, IndexDB
from app.index.stores.forms import text_hash
from app.settings import Settings

if TYPE_CHECKING:
    from app.index.stores.vectors import VectorStore
    from app.index.walker import WalkResult
    from app.models.embedder import Embedder

log = logging.getLogger(__name__)
EMBED_BATCH = 256
#: Meta key: the chunking settings the stored chunks were cut with (see ``_chunking_key``).
CHUNKING = "chunking"
#: Meta key: "1" when the vector store matches the chunk table, "0" while it lags behind.
VECTORS_SYNCED = "vectors_synced"
#: Meta key: how many chunks have their vector stored, counted while embedding (for searchers).
VECTORS_STORED = "vectors_stored"


def lower_priority(nice: int) -> None:
    """Lower the calling thread's CPU priority to ``nice`` (never raise it; idempotent).

    On Linux a nice value belongs to a thread, and the threads it starts (torch's pool, started
    on the first encode) inherit it: embedding yields the cores to searches, and runs as fast
    as before on an idle machine.
    """
    if nice <= 0 or not hasattr(os, "setpriority"):
        return
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) < nice:
            os.setpriority(os.PRIO_PROCESS, 0, min(nice, 19))
    except OSError as exc:  # not permitted here: embedding just keeps its priority
        log.debug("could not lower the embedding priority: %s", exc)


class IndexBusyError(RuntimeError):
    """Another coderag process is indexing the same repository."""


@contextmanager
def index_lock(lock_path: Path) -> Iterator[None]:
    """Hold the index's writer lock, or raise :class:`IndexBusyError` at once."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexBusyError(
                f"another coderag process is indexing into {lock_path.parent}; run the command "
                "again when it is done (search, ask and chat take --no-index to use the index "
                "as it is)"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class Indexer:
    """Bring the index of one repository up to date."""

    def __init__(
        self,
        root: Path,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        progress: Progress | None = None,
    ):
        """Index ``root`` into ``settings.index_dir_for(root)``; embed with ``embedder``."""
        self.root = Path(root).resolve()
        self.settings = settings
        self.layout = IndexLayout(settings.index_dir_for(self.root))
        self.embedder = embedder
        self.progress = progress or NullProgress()
        self._timers: dict[str, float] = {}
        self._t0 = time.perf_counter()
        self._capped = False
        self.secrets_masked = 0
        """Secrets masked in the files (re)indexed by this run (see ``app.index.secrets.scan``)."""

    @contextmanager
    def _phase(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self._timers[name] = round(self._timers.get(name, 0.0) + time.perf_counter() - t0, 3)

    def run(self) -> IndexReport:
        """Index incrementally and return the report."""
        if not self.root.is_dir():
            raise FileNotFoundError(f"{self.root} is not a directory")
        report = IndexReport(root=str(self.root), index_dir=str(self.layout.dir))
        self._t0 = time.perf_counter()
        with index_lock(self.layout.lock):
            remove_orphan_temps(self.layout.dir)
            db = self._open_db(report)
            try:
                self._run(db, report)
            finally:
                db.close()
        report.secrets_masked = self.secrets_masked
        if self.secrets_masked:
            log.info("masked %d secret(s) in the indexed files", self.secrets_masked)
        report.seconds = dict(self._timers)
        report.seconds["total"] = round(sum(self._timers.values()), 3)
        return report

    def _open_db(self, report: IndexReport) -> IndexDB:
        try:
            return IndexDB(self.layout.db)
        except IndexCorruptError as exc:
            log.warning("rebuilding the index from scratch: %s", exc)
            report.rebuilt = str(exc)
            if self.layout.chroma.exists():
                from app.index.stores.vectors import forget_store

                forget_store(self.layout.chroma)
            _clear_dir(self.layout.dir, keep=self.layout.lock)
            return IndexDB(self.layout.db)

    def _embeds(self) -> bool:
        return self.embedder is not None and not self.settings.no_embed

    def _model_id(self) -> str | None:
        return self.embedder.model_id if self.embedder is not None else None

    def _run(self, db: IndexDB, report: IndexReport) -> None:
        with self._phase("walk"):
            self.progress.start("scan", None)
            result = walk_repo(
                self.root, self.settings, on_file=lambda _p: self.progress.advance("scan")
            )
            self.progress.end("scan")
        report.skipped = dict(sorted(result.skip_counts().items()))
        examples: dict[str, list[str]] = {}
        for skip in result.skipped:
            bucket = examples.setdefault(skip.reason, [])
            if len(bucket) < 3:
                bucket.append(skip.path)
        report.skipped_examples = examples
        self._apply_changes(db, result.files, report)
        touched = bool(report.added or report.changed or report.deleted)
        # the graph before the vectors: lexical, symbol, path lanes and graph are usable now
        stats = self._graph_stats(db, report, reuse=not touched)
        if self._embeds() and not touched and self._vectors_current(db):
            # nothing changed since a run that stored every vector: the store is not even
            # opened (chromadb's import and client cost a cold ``coderag search`` a second)
            report.vectors = db.count("chunks")
        elif self._embeds():
            self._sync_vectors(db, report)
            db.set_meta(VECTORS_SYNCED, "1")
        else:
            report.dense = False  # stored vectors, if any, were marked stale by _apply_changes
        self._summarise(db, stats, report)

    def _apply_changes(self, db: IndexDB, files: list[SourceFile], report: IndexReport) -> None:
        known = db.file_rows()
        seen = {f.path for f in files}
        chunking = self._chunking_key()
        if known and db.get_meta(CHUNKING) != chunking:
            # chunks of unchanged files were cut for another window or tokenizer: redo them all
            todo = list(files)
        else:
            todo = [f for f in files if f.path not in known or known[f.path].sha != f.sha]
        report.added = sum(1 for f in todo if f.path not in known)
        report.changed = len(todo) - report.added
        report.unchanged = len(files) - len(todo)
        gone = sorted(set(known) - seen)
        report.deleted = len(gone)
        if not known:
            db.set_meta(CHUNKING, chunking)  # nothing cut before: a killed first run resumes
        if (todo or gone) and (self._embeds() or db.get_meta("embed_model") is not None):
            # before the first change commits: a run killed after it must not look synced
            db.set_meta(VECTORS_SYNCED, "0")
        with self._phase("parse"):
            self.progress.start("parse", len(todo))
            options = PrepareOptions(
                self._max_tokens(), self.settings.redact_secrets, self._token_counter()
            )
            workers = self.settings.index_workers or default_workers()
            for prepared in prepare_all(todo, options, workers):
                self.secrets_masked += prepared.secrets_masked
                db.replace_file_stored(prepared.row, prepared.forms, prepared.chunks)
                self.progress.advance("parse")
            with db.transaction():
                for path in gone:
                    db.delete_file(path)
            db.set_meta(CHUNKING, chunking)
            self.progress.end("parse")

    def _chunking_key(self) -> str:
        """Return what chunk boundaries depend on besides the file: window and tokenizer."""
        tokenizer = self.embedder.model_id if self.embedder is not None else "estimate"
        masked = f":{SECRET_RULES}" if self.settings.redact_secrets else ""  # new rules: redo
        return f"{self._max_tokens()}:{tokenizer}{masked}"

    def _max_tokens(self) -> int:
        """Return the chunk budget: ``chunk_max_tokens``, capped at the embedder's window.

        A longer chunk would be cut off silently when embedded (e.g. a custom model with a
        128-token window under the default 256-token budget).
        """
        budget = self.settings.chunk_max_tokens
        window = getattr(self.embedder, "max_tokens", None)
        if isinstance(window, int) and 0 < window < budget:
            if not self._capped:
                log.info("chunks cut to the embedder's %d-token window, not %d", window, budget)
                self._capped = True
            return window
        return budget

    def _token_counter(self) -> Callable[[str], int] | None:
        if self.embedder is None:
            return None
        return self.embedder.token_counter()

    def _vectors_current(self, db: IndexDB) -> bool:
        """Whether the last run stored every chunk's vector of this embedder.

        And whether the store is where it left it: an embedded store's database must still read
        as SQLite (one that does not is opened, found unreadable and rebuilt from the cache).
        """
        if db.get_meta(VECTORS_SYNCED) != "1" or db.get_meta("embed_model") != self._model_id():
            return False
        if self.settings.chroma_url is not None:
            return True
        try:
            with open(self.layout.chroma / "chroma.sqlite3", "rb") as fh:
                return fh.read(16) == b"SQLite format 3\x00"
        except OSError:
            return False

    def _sync_vectors(self, db: IndexDB, report: IndexReport) -> None:
        assert self.embedder is not None
        model = self.embedder.model_id
        with self._phase("embed"):
            store = self._vector_store(model)
            wanted = db.chunk_ids()
            have = store.ids()
            extra = sorted(have - wanted)
            if extra:
                store.delete(extra)
            missing = db.chunks_by_ids(sorted(wanted - have))
            stored = db.get_meta("embed_model")
            if stored is not None and stored != model:  # each model has its own collection
                log.warning(
                    "embedder changed from %s to %s: re-embedding %d chunks",
                    stored,
                    model,
                    len(missing),
                )
            done = len(wanted) - len(missing)
            db.set_meta(VECTORS_STORED, str(done))
            if missing:
                lower_priority(self.settings.embed_nice)
            self.progress.start("embed", len(missing))
            for start in range(0, len(missing), EMBED_BATCH):
                batch = missing[start : start + EMBED_BATCH]
                keys = [text_hash(c) for c in batch]
                cached = db.cached_vectors(model, keys)
                todo = {k: c for k, c in zip(keys, batch, strict=True) if k not in cached}
                if todo:
                    vecs = self.embedder.encode([c.embed_text for c in todo.values()])
                    fresh = dict(zip(todo, vecs, strict=True))
                    db.cache_vectors(model, fresh.items())
                    cached.update(fresh)
                report.embedded += len(todo)
                report.embed_cache_hits += len(batch) - len(todo)
                store.upsert(
                    [c.id for c in batch],
                    np.stack([cached[k] for k in keys]),
                    [_vector_meta(c) for c in batch],
                )
                done += len(batch)
                db.set_meta(VECTORS_STORED, str(done))  # searches say how far embedding got
                self.progress.advance("embed", len(batch))
            self.progress.end("embed")
            if report.embedded:
                runs_on = getattr(self.embedder, "runs_on", None)  # fakes in tests have none
                report.embedder = f"{model}: {runs_on}" if isinstance(runs_on, str) else model
            db.set_meta("embed_model", model)
            db.prune_cache(model)
            report.vectors = store.count()

    def _vector_store(self, model: str) -> VectorStore:
        from app.index.stores.vectors import open_store

        # an unreadable store is rebuilt from the cache; an unreachable server raises
        return open_store(self.layout.chroma, model, url=self.settings.chroma_url)

    def _graph_stats(self, db: IndexDB, report: IndexReport, *, reuse: bool) -> dict[str, Any]:
        """Return the graph's statistics, rebuilding the graph only when the index moved on.

        When Python calls must be solved again (seconds to minutes on a big repository), a
        graph without them is saved first and the run is searchable from then on.
        """
        with self._phase("graph"):
            max_work = self.settings.callgraph_max_work
            cached = db.get_meta("graph_stats")
            if reuse and cached and graph_is_current(db, self.layout, max_work):
                self._searchable(db, report)
                return dict(json.loads(cached))
            parsed = None
            if not python_calls_cached(db, self.layout, max_work) and db.python_facts_count():
                parsed = db.parsed_files()  # read once for both builds
                rebuild_graph(db, self.layout, max_work=max_work, lite=True, parsed=parsed)
                self._searchable(db, report)
            rebuild_graph(db, self.layout, max_work=max_work, parsed=parsed)
            if report.seconds_to_searchable is None:
                self._searchable(db, report)
            return dict(json.loads(db.get_meta("graph_stats") or "{}"))

    def _searchable(self, db: IndexDB, report: IndexReport) -> None:
        """Record the moment searches see every file, and tell the progress sink."""
        report.seconds_to_searchable = round(time.perf_counter() - self._t0, 3)
        embedder = self.embedder if self._embeds() else None
        pending = db.count_unembedded(embedder.model_id) if embedder is not None else None
        self.progress.start("searchable", pending)  # the CLI prints "searchable now"
        self.progress.end("searchable")

    def _summarise(self, db: IndexDB, stats: dict[str, Any], report: IndexReport) -> None:
        rows = db.file_rows()
        report.files = len(rows)
        report.files_by_language = dict(Counter(r.language for r in rows.values()).most_common())
        report.structural = sum(1 for r in rows.values() if r.structural)
        report.text_fallback = report.files - report.structural
        report.lossy_utf8 = sum(1 for r in rows.values() if r.lossy)
        report.chunks = db.count("chunks")
        report.symbols = int(stats.get("symbols", 0))
        report.graph_nodes = int(stats.get("nodes", 0))
        report.edges = dict(stats.get("edges", {}))
        report.calls_resolved = int(stats.get("calls_resolved", 0))
        report.calls_unresolved = int(stats.get("calls_unresolved", 0))
        report.python_calls = str(stats.get("python_calls", "generic"))
        report.syntax_errors = db.count_syntax_errors()


def _clear_dir(path: Path, *, keep: Path) -> None:
    """Delete everything in ``path`` but ``keep`` (the held lock file must stay put)."""
    if not path.is_dir():
        return
    for child in path.iterdir():
        if child == keep:
            continue
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def walk_repo(
    root: Path, settings: Settings, on_file: Callable[[str], None] | None = None
) -> WalkResult:
    """Walk ``root`` with the walker limits from ``settings`` (shared by index and status)."""
    from app.index.walker import walk

    return walk(
        root,
        max_file_bytes=settings.max_file_bytes,
        max_line_chars=settings.max_line_chars,
        extra_ignores=settings.extra_ignores,
        on_file=on_file,
    )


def _vector_meta(chunk: Any) -> dict[str, Any]:
    return {
        "path": chunk.path,
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "kind": chunk.kind,
        "symbol": chunk.symbol or "",
    }
