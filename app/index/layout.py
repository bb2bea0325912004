"""Where each part of one repository's index lives inside its index directory."""

from __future__ import annotations

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
