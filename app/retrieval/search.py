"""The search engine: lanes -> fusion -> call-graph expansion -> reranking -> grouping.

A :class:`Searcher` loads the catalogue, code graph, vector store and embedder once and keeps
them, so a long-lived process (REPL, server, agent tool) pays model load once and each warm
search costs milliseconds. :meth:`Searcher.update_index` brings the index up to date and reloads
only when something changed.

While ``coderag index`` is still embedding (or was stopped before it finished), the vector store
lags the chunk table: the searcher then runs the lanes that are ready (lexical, symbol, path;
dense only over the vectors already stored, if any) and :meth:`Searcher.degraded` says why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.index.indexer import VECTORS_STORED, VECTORS_SYNCED
from app.retrieval import mmr
from app.retrieval.catalog import Catalog
from app.retrieval.coverage import CoverageScorer
from app.retrieval.expand import apply_prior, expand
from app.retrieval.lanes import LaneResult, dense_lane, lexical_lane, path_lane, symbol_lane
from app.retrieval.models import LANES, Hit, SearchOptions
from app.retrieval.pool import Pool
from app.retrieval.query import QueryInfo, analyse
from app.retrieval.rank import Candidate, compute_features, diversify, fuse
from app.retrieval.rerankers import CrossEncoderReranker, FeatureReranker, FusionOrder, Reranker

if TYPE_CHECKING:
    from app.codegraph.queries import CodeGraph
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
    graph: CodeGraph
    vectors: VectorStore | None
    """The Chroma store, opened only for ``dense_search="chroma"``."""
    coverage: CoverageScorer
    stamp: tuple[int, int] | None
    """The saved graph file's (mtime, size) when loaded: a re-index elsewhere changes it."""
    dense: bool = False
    """Whether the dense lane can run (every chunk has its vector of the configured model)."""
    vector_meta: tuple[str | None, str | None] = (None, None)
    """``embed_model`` and ``vectors_synced`` when loaded: a finished embedding changes them."""
    degraded: str | None = None
    """Why some lanes are missing or partial (see :meth:`Searcher.degraded`), else None."""


class Searcher:
    """Hybrid code search over one repository's index."""

    def __init__(self, services: Services, *, reranker: Reranker | None = None) -> None:
        """Search the index of ``services``; ``reranker`` overrides the configured one."""
        self.services = services
        self.settings = services.settings
        self._reranker = reranker
        self._loaded: _Loaded | None = None
        self._lock = threading.Lock()
        self._search_lock = threading.RLock()

    # ----------------------------------------------------------------- lifecycle
    def update_index(self, progress: Progress | None = None) -> IndexReport:
        """Index incrementally; reload the in-memory state if any file changed."""
        report = self.services.index(progress)
        if report.added or report.changed or report.deleted or report.embedded:
            self.reload()
        return report

    def reload(self) -> None:
        """Drop the in-memory state; the next search loads it again."""
        with self._search_lock, self._lock:  # never close the database under a search
            if self._loaded is not None:
                self._loaded.db.close()
            self._loaded = None

    def _state(self) -> _Loaded:
        with self._search_lock, self._lock:
            if self._loaded is not None and (
                self._loaded.stamp != self._stamp()
                or (
                    self._loaded.degraded
                    and self._loaded.vector_meta != _vector_meta(self._loaded.db)
                )
            ):
                self._loaded.db.close()  # another process re-indexed or embedded: load again
                self._loaded = None
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _stamp(self) -> tuple[int, int] | None:
        try:
            st = self.services.layout.graph.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def degraded(self) -> str | None:
        """Say why search runs without some lanes, or None when every lane is ready.

        The dense lane lags while ``coderag index`` is still embedding (or was stopped before
        it finished: the next run resumes), e.g. ``"dense vectors 1200/5000: still embedding"``;
        and while another process rewrites the index, the graph is built from what it committed.
        """
        return self._state().degraded

    def ready_lanes(self) -> tuple[str, ...]:
        """Return the lanes that have data to search (dense needs stored vectors)."""
        dense = self._state().dense
        return tuple(lane for lane in LANES if lane != "dense" or dense)

    def unmentioned(self, question: str) -> list[str]:
        """Subject words of ``question`` that no indexed file mentions (see ``subject``)."""
        from app.retrieval.subject import unmentioned

        return unmentioned(question, self._state().db.mentions)

    def code_graph(self) -> CodeGraph:
        """Return the code graph loaded with the index (reloaded after a re-index)."""
        return self._state().graph

    def _load(self) -> _Loaded:
        from app.codegraph.refresh import PENDING, graph_is_current
        from app.index.stores.db import IndexDB

        graph = self.services.graph()  # raises IndexMissingError with advice when unindexed
        stamp = self._stamp()
        db = IndexDB(self.services.layout.db)
        vectors = None
        vector_meta = _vector_meta(db)
        model, synced = vector_meta
        lagging = not self.settings.no_embed and (model is None or synced == "0")
        configured = None if self.settings.no_embed else self.services.embedder.model_id
        mismatch = bool(model and configured and model != configured and not lagging)
        dense = bool(model) and not self.settings.no_embed and not lagging and not mismatch
        catalog = Catalog(db, graph)
        if dense and model:
            catalog.load_vectors(db, model)
            # the scan needs every chunk's vector in the cache; Chroma answers otherwise
            short = len(catalog.vector_ids) < len(catalog.chunks)
            if short or self.settings.dense_search == "chroma":
                from app.index.stores.vectors import VectorStore

                url = self.settings.chroma_url
                vectors = VectorStore(self.services.layout.chroma, model, url=url)
                if short:
                    log.info("vector cache holds %d of %d chunks: dense lane from Chroma",
                             len(catalog.vector_ids), len(catalog.chunks))  # fmt: skip
        coverage = CoverageScorer(self._texts_from(db), db.doc_freq, len(catalog.chunks))
        reasons = []
        if not graph_is_current(db, self.services.layout, self.settings.callgraph_max_work):
            reasons.append("another process is updating the index: searching what it committed")
        if graph.graph.graph.get("python_calls") == PENDING:
            reasons.append("Python call edges still resolving: calls by scope and imports only")
        if mismatch:  # query vectors of another model would be meaningless (or the wrong size)
            reasons.append(
                f"the index was embedded with {model}, the configured embedder is {configured}: "
                "run `coderag index` to re-embed"
            )
        if lagging:  # a partial dense lane is little help and costs a model load: skip it
            have = db.get_meta(VECTORS_STORED) or "0"
            reasons.append(f"dense vectors {have}/{len(catalog.chunks)}: still embedding")
        degraded = "; ".join(reasons) or None
        return _Loaded(
            db, catalog, graph, vectors, coverage, stamp, dense, vector_meta, degraded
        )

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
        base: dict[str, Any] = {"rerank": rerank, "group_by": s.group_by, "mmr": s.mmr_lambda}
        base.update({k: v for k, v in overrides.items() if v is not None})
        return SearchOptions(**base)

    # ----------------------------------------------------------------- search
    def search(self, query: str, options: SearchOptions | None = None) -> list[Hit]:
        """Return the best ``options.k`` hits for ``query``, best first."""
        options = options or self.default_options()
        return self.hits(self.candidates(query, options), options.k)

    def candidates(self, query: str, options: SearchOptions) -> list[Candidate]:
        """Run the pipeline and return every scored candidate, best first.

        Thread-safe: searches from several threads share the loaded state one at a time.
        """
        if not any(ch.isalnum() for ch in query):
            return []
        pool = self.retrieve([query], options)
        if options.expand:
            self.expand(pool)
        return self.rank(query, pool, options)

    # ----------------------------------------------------------------- stages
    # The question graph runs these as separate nodes (retrieve -> expand -> rerank) over
    # several queries (sub-questions, hypothetical code); ``Pool.to_state`` makes the
    # candidates checkpointable between nodes.
    def retrieve(self, queries: Sequence[str], options: SearchOptions) -> Pool:
        """Run the lanes for each query and fuse them.

        A candidate found by several queries adds up its fused scores.
        """
        with self._search_lock:
            st = self._state()
            pool = Pool()
            s = self.settings
            for text in queries:
                q = analyse(text)
                if not any(ch.isalnum() for ch in q.text):
                    continue
                lanes = self._run_lanes(st, q, options)
                weights = s.lane_weights_symbol if q.is_symbol else s.lane_weights_nl
                for c in fuse(lanes, st.catalog, weights, s.rrf_k).values():
                    pool.add(c)
                if "path" in lanes:
                    for path, score in lanes["path"].files.items():
                        pool.path_scores[path] = max(pool.path_scores.get(path, 0.0), score)
                if pool.vector is None and "dense" in lanes:
                    pool.vector = lanes["dense"].vector
            return pool

    def expand(self, pool: Pool) -> None:
        """Add call-graph neighbours of the best candidates and set the PageRank prior."""
        with self._search_lock:
            st = self._state()
            s = self.settings
            if not pool.cands:
                return
            expand(
                pool.cands,
                st.catalog,
                st.graph,
                top=s.expand_top,
                per_seed=s.expand_per_seed,
                share=s.expand_share,
            )
            apply_prior(pool.cands, st.graph)

    def rank(self, query: str, pool: Pool, options: SearchOptions) -> list[Candidate]:
        """Compute features for ``query``, rerank and group; return candidates best first."""
        with self._search_lock:
            st = self._state()
            q = analyse(query)
            cands = list(pool.cands.values())
            cover = st.coverage.scores(q, [c.meta.id for c in cands])
            vec = pool.vector
            file_sims = st.catalog.file_similarity(vec) if vec is not None else {}
            compute_features(cands, q, st.catalog, pool.path_scores, cover, file_sims)
            self._reranker_for(options).rerank(q, cands, self.texts)
            group = options.group_by
            if group == "auto":  # lookups want the definition first, questions the files
                group = "chunk" if q.is_symbol else "file"
            if group == "file":
                s = self.settings
                central = None
                how = ("how ", "trace ", "explain ")
                if s.file_centrality and q.text.lower().lstrip().startswith(how):
                    shares = st.catalog.file_centrality(st.graph)
                    central = {p: s.file_centrality * v for p, v in shares.items()}
                ordered = diversify(cands, s.file_decay, s.file_support, central)
            else:
                ordered = sorted(cands, key=lambda c: (-c.score, c.meta.id))
            if options.mmr is not None:
                ordered = mmr.apply(ordered, options.mmr, options.k, st.db)
            return ordered

    def pool_from_state(self, data: Mapping[str, Any]) -> Pool:
        """Rebuild a :class:`Pool` from :meth:`Pool.to_state` (chunks deleted since are dropped)."""
        return Pool.from_state(data, self._state().catalog)

    def hits(self, cands: Sequence[Candidate], k: int) -> list[Hit]:
        """Turn the best ``k`` candidates into hits."""
        return [self._hit(c) for c in cands[:k]]

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
            elif lane == "dense" and st.dense:
                nearest = st.vectors.query if st.vectors is not None else st.catalog.nearest
                out[lane] = dense_lane(self.services.embedder.encode_query, nearest, q, n)
            elif lane == "symbol":
                out[lane] = symbol_lane(st.catalog, q, n)
            elif lane == "path":
                out[lane] = path_lane(st.catalog, q, n)
        return out

    def indexed_paths(self) -> set[str]:
        """Return the relative paths of the files that have chunks in the index."""
        with self._search_lock:
            return set(self._state().catalog.by_path)

    def main_language(self) -> str:
        """Return the language most of the index's chunks are written in."""
        counts: dict[str, int] = {}
        for c in self._state().catalog.chunks.values():
            counts[c.language] = counts.get(c.language, 0) + 1
        return max(counts, key=lambda k: counts[k]) if counts else "text"

    def texts(self, ids: Sequence[str]) -> Mapping[str, str]:
        """Return the text of each chunk id."""
        with self._search_lock:
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


def _vector_meta(db: IndexDB) -> tuple[str | None, str | None]:
    """Return the index's ``embed_model`` and ``vectors_synced`` meta values."""
    return db.get_meta("embed_model"), db.get_meta(VECTORS_SYNCED)
