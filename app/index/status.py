"""Is the index fresh? Compare the working tree with the manifest without changing anything."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.index.layout import IndexLayout
from app.index.stores.db import IndexCorruptError, IndexDB
from app.settings import Settings


@dataclass(slots=True)
class IndexStatus:
    """Differences between the repository on disk and its index."""

    root: str
    index_dir: str
    exists: bool
    fresh: bool = False
    files: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    embed_model: str | None = None
    vectors: int = 0
    """Chunks whose dense vector is stored (all of them once embedding has finished)."""
    problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)


def index_status(root: Path, settings: Settings, *, compare: bool = True) -> IndexStatus:
    """Return how the index of ``root`` differs from the files on disk.

    ``compare=False`` reads the index's counts only, without walking the repository (for a
    caller that knows an index run is under way).
    """
    from app.index.indexer import VECTORS_STORED, VECTORS_SYNCED, walk_repo

    root = Path(root).resolve()
    layout = IndexLayout(settings.index_dir_for(root))
    status = IndexStatus(root=str(root), index_dir=str(layout.dir), exists=layout.db.exists())
    if not status.exists:
        status.problem = f"not indexed yet: run `coderag index {root}`"
        return status
    try:
        db = IndexDB(layout.db)
    except IndexCorruptError as exc:
        status.problem = f"{exc}; `coderag index` will rebuild it"
        return status
    try:
        known = db.file_rows()
        status.files = len(known)
        status.chunks = db.count("chunks")
        status.embed_model = db.get_meta("embed_model")
        vectors_lag = db.get_meta(VECTORS_SYNCED) == "0"
        stored = db.get_meta(VECTORS_STORED) or "0"
    finally:
        db.close()
    status.vectors = int(stored) if vectors_lag else status.chunks
    if not compare:
        return status
    on_disk = {f.path: f.sha for f in walk_repo(root, settings).files}
    status.added = sorted(p for p in on_disk if p not in known)
    status.changed = sorted(p for p, sha in on_disk.items() if p in known and known[p].sha != sha)
    status.deleted = sorted(p for p in known if p not in on_disk)
    status.fresh = not (status.added or status.changed or status.deleted or vectors_lag)
    if vectors_lag:
        status.problem = (
            f"dense vectors lag behind the chunks ({stored}/{status.chunks}: an index run is "
            "still embedding, or the last one was interrupted or ran without embedding; search "
            f"works without the dense lane meanwhile): run `coderag index {root}` to finish"
        )
    return status
