"""Keep one loaded code graph per process, reloaded only when its file on disk changes."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.index.graph_queries import CodeGraph
    from app.services import Services

_Key = tuple[int, int] | None


class GraphCache:
    """The repository's code graph, loaded once and again only after a re-index saved a new one."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._graph: CodeGraph | None = None
        self._key: _Key = None
        self._lock = threading.Lock()

    def get(self) -> CodeGraph:
        """Return the current code graph (raises ``IndexMissingError`` when unindexed)."""
        with self._lock:
            if self._graph is None or self._key != self._stat():
                self._graph = self.services.graph()
                self._key = self._stat()
            return self._graph

    def _stat(self) -> _Key:
        try:
            st = self.services.layout.graph.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)
