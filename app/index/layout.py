"""Where each part of one repository's index lives inside its index directory."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class IndexLayout:
    """Paths of the stores inside an index directory."""

    dir: Path

    @property
    def db(self) -> Path:
        """SQLite: manifest, chunks, lexical FTS5 index, embedding cache."""
        return self.dir / "index.db"

    @property
    def chroma(self) -> Path:
        """Chroma persistent client directory (dense vectors)."""
        return self.dir / "chroma"

    @property
    def graph(self) -> Path:
        """Pickled code graph."""
        return self.dir / "graph.pkl"

    @property
    def lock(self) -> Path:
        """Lock file held while indexing."""
        return self.dir / "index.lock"


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` so that readers and a kill see the old or the new file.

    The temporary name is unique and carries the writer's pid: two writers (an indexer and a
    reader rebuilding a stale graph) never write into each other's half-written file, and
    :func:`remove_orphan_temps` can tell a killed writer's leftover from a live one's.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def remove_orphan_temps(directory: Path) -> int:
    """Delete temporary files that killed writers left in ``directory``; return how many."""
    removed = 0
    for tmp in directory.glob("*.tmp"):
        parts = tmp.name.rsplit(".", 3)  # NAME.PID.RANDOM.tmp
        if len(parts) != 4 or not parts[1].isdigit() or _alive(int(parts[1])):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
