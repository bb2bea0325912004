"""Index in a background thread while a server answers: progress, and "searchable yet?".

``coderag mcp`` (and any long-lived host of the tools) must answer its client at once, not
after minutes of embedding. :class:`BackgroundIndex` runs one incremental index run in a daemon
thread, records its phases as they go (what ``index_status`` reports), and lets a tool call
wait, briefly, for the moment the run has committed every file's chunks and the code graph
(the indexer's "searchable" point): from then on the lexical, symbol and path lanes answer
while the dense vectors fill in. A process that exits mid-run loses nothing: the next run
resumes where the vectors stopped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.index.progress import Progress
    from app.index.report import IndexReport

log = logging.getLogger(__name__)

PHASE_STATES = {"scan": "indexing", "parse": "indexing", "searchable": "embedding",
                "embed": "embedding"}  # fmt: skip


@dataclass(slots=True)
class PhaseCount:
    """Units done of one phase, out of ``total`` (None: unknown)."""

    done: int = 0
    total: int | None = None
    ended: bool = False


@dataclass(slots=True)
class _Recorder:
    """A :class:`~app.index.progress.Progress` sink that remembers where the run is."""

    phases: dict[str, PhaseCount] = field(default_factory=dict)
    current: str | None = None
    searchable: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, phase: str, total: int | None) -> None:
        with self.lock:
            self.phases[phase] = PhaseCount(total=total)
            self.current = phase
        if phase == "searchable":
            self.searchable.set()

    def advance(self, phase: str, n: int = 1) -> None:
        with self.lock:
            self.phases.setdefault(phase, PhaseCount()).done += n

    def end(self, phase: str) -> None:
        with self.lock:
            self.phases.setdefault(phase, PhaseCount()).ended = True


class BackgroundIndex:
    """One incremental index run in a daemon thread, observable while it runs."""

    def __init__(
        self,
        update: Callable[[Progress], IndexReport],
        *,
        on_done: Callable[[BackgroundIndex], None] | None = None,
    ) -> None:
        """Run ``update(progress)`` (e.g. :meth:`Searcher.update_index`) when started.

        ``on_done(self)`` is called in the thread when the run ends (failed or not).
        """
        self._update = update
        self._on_done = on_done
        self._progress = _Recorder()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self.started: float | None = None
        self.finished: float | None = None
        self.report: IndexReport | None = None
        self.error: str | None = None

    def start(self) -> BackgroundIndex:
        """Start the run (once); return self."""
        if self._thread is None:
            self.started = time.monotonic()
            self._thread = threading.Thread(target=self._run, name="coderag-index", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        from app.index.indexer import IndexBusyError

        try:
            self.report = self._update(self._progress)
        except IndexBusyError as exc:
            self.error = f"not indexed here: {exc}"
            log.warning("%s", self.error)
        except Exception as exc:  # reported by index_status and the tools, not raised
            self.error = f"indexing failed: {type(exc).__name__}: {exc}"
            log.exception("background indexing failed")
        finally:
            self.finished = time.monotonic()
            self._progress.searchable.set()
            self._done.set()
        if self._on_done is not None:
            self._on_done(self)

    @property
    def running(self) -> bool:
        """Whether the run has started and not finished."""
        return self._thread is not None and not self._done.is_set()

    def wait_searchable(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until every file is searchable (or the run ended)."""
        if self._thread is None:
            return True
        return self._progress.searchable.wait(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the run has finished; return whether it has."""
        return self._done.wait(timeout)

    def state(self) -> str:
        """``not_started``, ``indexing`` (files), ``embedding`` (vectors), ``ready``, ``failed``."""
        if self._thread is None:
            return "not_started"
        if self._done.is_set():
            return "failed" if self.error else "ready"
        return PHASE_STATES.get(self._progress.current or "scan", "indexing")

    def to_json(self) -> dict[str, Any]:
        """The run as JSON: state, seconds, per-phase counts, the report's totals when done."""
        now = self.finished or time.monotonic()
        with self._progress.lock:
            phases = {
                name: {"done": p.done, "total": p.total, "ended": p.ended}
                for name, p in self._progress.phases.items()
                if name != "searchable"
            }
        out: dict[str, Any] = {
            "state": self.state(),
            "searchable": self._progress.searchable.is_set() and not self.error,
            "seconds": round(now - self.started, 1) if self.started is not None else 0.0,
            "phases": phases,
        }
        if self.error:
            out["error"] = self.error
        if self.report is not None:
            r = self.report
            out["report"] = {
                "files": r.files,
                "chunks": r.chunks,
                "vectors": r.vectors,
                "added": r.added,
                "changed": r.changed,
                "deleted": r.deleted,
                "seconds_to_searchable": r.seconds_to_searchable,
            }
        return out

    def describe(self) -> str:
        """One line for a tool that cannot answer yet: where the run is, what to do."""
        data = self.to_json()
        parts = [
            f"{name} {p['done']}/{p['total']}" if p["total"] is not None else name
            for name, p in data["phases"].items()
        ]
        where = ", ".join(parts) or "starting"
        return f"the index is being built ({where}; {data['seconds']:.0f} s so far)"
