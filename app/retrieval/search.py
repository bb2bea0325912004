"""The search engine: lanes -> fusion -> call-graph expansion -> reranking -> grouping.

A :class:`Searcher` loads the catalogue, code graph, vector store and embedder once and keeps
them, so a long-lived process (REPL, server, agent tool) pays model load once and each warm
search costs milliseconds. :meth:`Searcher.update_index` brings the index up to date and reloads
only when something changed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.retrieval.catalog import Catalog
from app.retrieval.coverage import CoverageScorer
from app.retrieval.expand import apply_prior, expand
from app.retrieval.lanes import LaneResult, dense_lane, lexical_lane, path_lane, symbol_lane
from app.retrieval.models import Hit, SearchOptions
from app.retrieval.query import QueryInfo, analyse
from app.retrieval.rank import Candidate, compute_features, diversify, fuse
from app.retrieval.rerankers import CrossEncoderReranker, FeatureReranker, FusionOrder, Reranker

if TYPE_CHECKING:
    from app.index.graph_queries import CodeGraph
    from app.index.progress import Progress
    from app.index.report import IndexReport
    from app.index.stores.db import IndexDB
    from app.index.stores.vectors import VectorStore
    from app.services import Services

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Loaded:
    db: IndexDB
    catalog: Catalog
    graph: CodeGraph | None
    vectors: VectorStore | None
    coverage: CoverageScorer


class Searcher:
    """Hybrid code search over one repository's index."""

    def __init__(self, services: Services, *, reranker: Reranker | None = None) -> None:
        """Search the index of ``services``; ``reranker`` overrides the configured one."""
        self.services = services
        self.settings = services.settings
        self._reranker = reranker
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self._search_lock = threading.Lock()

    # ----------------------------------------------------------------- lifecycle
    def update_index(self, progress: Progress | None = None) -> IndexReport:
        """Index incrementally; reload the in-memory state if any file changed."""
        report = self.services.index(progress)
        if report.added or report.changed or report.deleted or report.embedded:
            self.reload()
        return report

    def reload(self) -> None:
        """Drop the in-memory state; the next search loads it again."""
        with self._lock:
            if self._loaded is not None:
                self._loaded.db.close()
            self._loaded = None

    def _state(self) -> _Loaded:
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self) -> _Loaded:
        from app.index.stores.db import IndexDB

        graph = self.services.graph()  # raises IndexMissingError with advice when unindexed
        db = IndexDB(self.services.layout.db)
        vectors = None
        model = db.get_meta("embed_model")
        if model and not self.settings.no_embed:
            from app.index.stores.vectors import VectorStore

            vectors = VectorStore(self.services.layout.chroma, model)
        catalog = Catalog(db, graph)
        if vectors is not None and model:
            catalog.load_file_vectors(db, model)
        coverage = CoverageScorer(self._texts_from(db), db.doc_freq, len(catalog.chunks))
        return _Loaded(db, catalog, graph, vectors, coverage)

    @property
    def reranker(self) -> Reranker:
        """The configured reranker (cross-encoder when a model path is set)."""
        if self._reranker is None:
            s = self.settings
            if s.cross_encoder_model is not None or s.rerank == "cross-encoder":
                if s.cross_encoder_model is None:
                    from app.retrieval.rerankers import CrossEncoderMissingError

                    raise CrossEncoderMissingError(
                        "rerank=cross-encoder needs CODERAG_CROSS_ENCODER_MODEL (a local folder)"
                    )
                self._reranker = CrossEncoderReranker(
                    s.cross_encoder_model, top=s.cross_encoder_top
                )
            else:
                self._reranker = FeatureReranker()
        return self._reranker

    def default_options(self, **overrides: Any) -> SearchOptions:
        """Options from settings, with ``overrides`` on top."""
        s = self.settings
        rerank = "cross-encoder" if s.cross_encoder_model is not None else s.rerank
        base: dict[str, Any] = {"rerank": rerank, "group_by": s.group_by}
        base.update({k: v for k, v in overrides.items() if v is not None})
        return SearchOptions(**base)

    # ----------------------------------------------------------------- search
    def search(self, query: str, options: SearchOptions | None = None) -> list[Hit]:
        """Return the best ``options.k`` hits for ``query``, best first."""
        options = options or self.default_options()
        cands = self.candidates(query, options)
        return [self._hit(c) for c in cands[: options.k]]

    def candidates(self, query: str, options: SearchOptions) -> list[Candidate]:
        """Run the pipeline and return every scored candidate, best first.

        Thread-safe: searches from several threads share the loaded state one at a time.
        """
        with self._search_lock:
            return self._candidates(query, options)

    def _candidates(self, query: str, options: SearchOptions) -> list[Candidate]:
        q = analyse(query)
        if not any(ch.isalnum() for ch in q.text):
            return []
        st = self._state()
        lanes = self._run_lanes(st, q, options)
        s = self.settings
        weights = s.lane_weights_symbol if q.is_symbol else s.lane_weights_nl
        pool = fuse(lanes, st.catalog, weights, s.rrf_k)
        if options.expand and st.graph is not None and pool:
            expand(
                pool,
                st.catalog,
                st.graph,
                top=s.expand_top,
                per_seed=s.expand_per_seed,
                share=s.expand_share,
            )
            apply_prior(pool, st.graph)
        cands = list(pool.values())
        path_scores = lanes["path"].files if "path" in lanes else {}
        cover = st.coverage.scores(q, [c.meta.id for c in cands])
        vec = lanes["dense"].vector if "dense" in lanes else None
        file_sims = st.catalog.file_similarity(vec) if vec is not None else {}
        compute_features(cands, q, st.catalog, path_scores, cover, file_sims)
        self._reranker_for(options).rerank(q, cands, self._texts)
        if options.group_by == "file":
            return diversify(cands, s.file_decay)
        return sorted(cands, key=lambda c: (-c.score, c.meta.id))

    def _reranker_for(self, options: SearchOptions) -> Reranker:
        if options.rerank == "none":
            return FusionOrder()
        configured = self.reranker
        if options.rerank == "features" and not isinstance(configured, FeatureReranker):
            return FeatureReranker()
        return configured

    def _run_lanes(
        self, st: _Loaded, q: QueryInfo, options: SearchOptions
    ) -> dict[str, LaneResult]:
        n = self.settings.lane_depth
        out: dict[str, LaneResult] = {}
        for lane in options.lanes:
            if lane == "lexical":
                out[lane] = lexical_lane(st.db.lexical_search, q, n)
            elif lane == "dense":
                if st.vectors is not None:
                    out[lane] = dense_lane(
                        self.services.embedder.encode_query, st.vectors.query, q, n
                    )
            elif lane == "symbol":
                out[lane] = symbol_lane(st.catalog, q, n)
            elif lane == "path":
                out[lane] = path_lane(st.catalog, q, n)
        return out

    def _texts(self, ids: Sequence[str]) -> Mapping[str, str]:
        return self._texts_from(self._state().db)(ids)

    @staticmethod
    def _texts_from(db: IndexDB) -> Callable[[Sequence[str]], Mapping[str, str]]:
        def texts(ids: Sequence[str]) -> Mapping[str, str]:
            return {c.id: c.text for c in db.chunks_by_ids(ids)}

        return texts

    @staticmethod
    def _hit(c: Candidate) -> Hit:
        m = c.meta
        return Hit(
            path=m.path,
            start_line=m.start_line,
            end_line=m.end_line,
            symbol=m.symbol,
            score=c.score,
            chunk_id=m.id,
            lanes=dict(c.ranks),
            expanded=c.expanded,
            features={k: round(v, 4) for k, v in c.features.items() if v},
        )
