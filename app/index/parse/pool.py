"""Parse, chunk and extract facts of many files on every core; the caller stores the results.

Parsing is pure CPU work per file (tree-sitter, chunk packing, token counting, Python facts,
lexical tokens), so a first index of a big repository spreads it over worker processes while
the parent writes each finished file to SQLite in walk order. Workers are forked: they inherit
the loaded grammars and the token counter instead of loading them again, and nothing but the
source file goes to them and the prepared rows come back. Where fork is not available, for
small batches, or with one worker, the same function runs in-process; a worker that dies
(out of memory, killed) only makes the rest of the batch run in-process.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

from app.index.records import Chunk, SourceFile
from app.index.stores.forms import FileRow, StoredForms

log = logging.getLogger(__name__)
#: Below this many files a pool costs more than it saves (fork and pickling ~0.1 s).
MIN_FILES = 24
#: Files per task sent to a worker: fewer round trips, still balanced across workers.
TASK_FILES = 4


@dataclass(slots=True)
class PreparedFile:
    """Everything stored for one file, computed away from the database.

    Only stored forms travel back from a worker (JSON texts, not the parsed objects): the
    parent just writes them, so it takes as little CPU as possible from the workers.
    """

    row: FileRow
    chunks: list[Chunk]
    forms: StoredForms
    secrets_masked: int


@dataclass(frozen=True, slots=True)
class PrepareOptions:
    """What preparing a file depends on besides the file."""

    max_tokens: int
    redact_secrets: bool
    count_tokens: Callable[[str], int] | None


def prepare_file(src: SourceFile, options: PrepareOptions) -> PreparedFile:
    """Parse, chunk and analyse one file (the per-file work of indexing)."""
    from app.index.chunk.chunker import chunk_file
    from app.index.parse.parser import parse_source
    from app.index.secrets.scan import redact_source

    found = 0
    if options.redact_secrets:  # mask credentials before anything parses or stores
        src, masked = redact_source(src)
        found = len(masked)
    result = parse_source(src)
    parsed = result.parsed
    chunks = chunk_file(
        src, parsed, result.tree, max_tokens=options.max_tokens, count_tokens=options.count_tokens
    )
    pyfacts = (
        _python_facts(src, parsed.module, result.tree) if src.language == "python" else None
    )
    row = FileRow(
        src.path, src.sha, src.size, src.mtime_ns, src.language, parsed.structural, src.lossy
    )
    return PreparedFile(row, chunks, StoredForms.of(parsed, chunks, pyfacts), found)


def _python_facts(src: SourceFile, module: str, tree: Any) -> dict[str, Any] | None:
    from app.codegraph.pyflow import extract_facts

    try:
        return extract_facts(module, src.path, src.text, tree)
    except Exception as exc:  # a bug in the analyzer must not lose the file
        log.warning("call-graph facts failed for %s: %s", src.path, exc)
        return None


def default_workers() -> int:
    """Return the worker count when none is configured: the usable cores, at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


_OPTIONS: PrepareOptions | None = None
"""The options of the pool being forked: inherited by its workers, never pickled."""


def _die_with_parent(parent: int) -> None:
    """Worker initializer: end when the indexing process dies (``kill -9`` included).

    Workers of a killed parent would otherwise wait on the task queue forever, since every
    sibling still holds its pipe open. Linux only (``PR_SET_PDEATHSIG``); elsewhere a no-op.
    """
    import ctypes
    import signal
    import sys

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # no prctl: the worker just lives on until EOF
            return
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)


def _prepare_many(files: list[SourceFile]) -> list[PreparedFile]:
    assert _OPTIONS is not None, "worker started without options"
    return [prepare_file(src, _OPTIONS) for src in files]


def prepare_all(
    files: Sequence[SourceFile], options: PrepareOptions, workers: int
) -> Iterator[PreparedFile]:
    """Yield the prepared files in the order of ``files``, on ``workers`` processes."""
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if workers <= 1 or len(files) < MIN_FILES or not forkable:
        for src in files:
            yield prepare_file(src, options)
        return
    done = 0
    try:
        for prepared in _pooled(files, options, workers):
            yield prepared
            done += 1
    except BrokenProcessPool as exc:
        log.warning(
            "a parse worker died (%s); parsing the remaining %d files in this process",
            exc,
            len(files) - done,
        )
        for src in files[done:]:
            yield prepare_file(src, options)


def _pooled(
    files: Sequence[SourceFile], options: PrepareOptions, workers: int
) -> Iterator[PreparedFile]:
    global _OPTIONS
    batches = [list(files[i : i + TASK_FILES]) for i in range(0, len(files), TASK_FILES)]
    _OPTIONS = options
    pool = ProcessPoolExecutor(
        max_workers=min(workers, len(batches)),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    )
    try:
        for batch in pool.map(_prepare_many, batches):  # forks every worker now
            yield from batch
    finally:
        _OPTIONS = None
        pool.shutdown(wait=True, cancel_futures=True)  # also when the caller stops early
