"""Composition root: builds the embedder, stores and code graph once and hands them out.

Everything heavy (torch, transformers, chromadb) is imported lazily from here, so
``coderag --help`` is instant and tests can pass fakes instead.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from app.index.layout import IndexLayout
from app.index.progress import Progress
from app.index.report import IndexReport
from app.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from app.codegraph.build import CodeGraph
    from app.models.embedder import Embedder

log = logging.getLogger(__name__)


class IndexMissingError(RuntimeError):
    """The repository has no index yet; the message says how to create one."""


class Services:
    """One repository's engine: settings, embedder, index and code graph."""

    def __init__(self, root: Path, settings: Settings | None = None):
        """Serve ``root`` with ``settings`` (defaults from env and ``.env``)."""
        self.root = Path(root).expanduser().resolve()
        self.settings = settings or Settings()
        self.layout = IndexLayout(self.settings.index_dir_for(self.root))

    @cached_property
    def embedder(self) -> Embedder:
        """Return the embedder (weights load on first encode)."""
        from app.models.embedder import Embedder

        s = self.settings
        return Embedder(
            s.embed_model,
            device=s.device,
            batch_size=s.embed_batch_size,
            home=s.home,
            precision=s.embed_precision,
        )

    @cached_property
    def llm(self) -> BaseChatModel:
        """Return the chat model ``settings.llm`` names (an embedded model starts on first use)."""
        from app.llm import make_chat_model

        return make_chat_model(self.settings)

    def index(self, progress: Progress | None = None, *, embed: bool = True) -> IndexReport:
        """Bring the index up to date; ``embed=False`` leaves dense vectors for later."""
        from app.index.indexer import Indexer

        settings = self.settings
        if not embed and not settings.no_embed:
            settings = settings.model_copy(update={"no_embed": True})
        return Indexer(self.root, settings, embedder=self.embedder, progress=progress).run()

    def graph(self) -> CodeGraph:
        """Load the code graph, rebuilding it when the manifest moved on since it was saved."""
        from app.codegraph.build import CodeGraph
        from app.codegraph.refresh import graph_is_current, lite_graph_is_current, rebuild_graph
        from app.index.stores.db import IndexDB

        if not self.layout.db.exists():
            raise IndexMissingError(
                f"{self.root} is not indexed yet: run `coderag index {self.root}`"
            )
        from app.index.indexer import IndexBusyError, index_lock

        db = IndexDB(self.layout.db)
        max_work = self.settings.callgraph_max_work
        try:
            if graph_is_current(db, self.layout, max_work):
                try:
                    return CodeGraph.load(self.layout.graph)
                except Exception as exc:  # a corrupt pickle is rebuilt, not fatal
                    log.warning("code graph unreadable (%s); rebuilding it", exc)
            try:
                with index_lock(self.layout.lock):  # no indexer may write under our save
                    return rebuild_graph(db, self.layout, max_work=max_work)
            except IndexBusyError:
                if lite_graph_is_current(db, self.layout, max_work):
                    try:  # the run saved the graph of everything but solved Python calls
                        return CodeGraph.load(self.layout.graph)
                    except Exception as exc:  # replaced under us: build it instead
                        log.info("lite code graph unreadable (%s); building it", exc)
                log.info("an index run is in progress: graph built in memory, not saved")
                return rebuild_graph(db, self.layout, max_work=max_work, save=False)
        finally:
            db.close()
