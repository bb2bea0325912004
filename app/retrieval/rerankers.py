"""Rerankers behind one interface: the built-in feature scorer, or a CrossEncoder model.

Both set ``Candidate.score``; the search then orders by it. The cross-encoder rescoring only the
best ``top`` candidates by the feature scorer, and its order is fused with the feature order
(reciprocal ranks) so a weak model cannot throw away strong structural evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from app.retrieval.query import QueryInfo
from app.retrieval.rank import DEFAULT_WEIGHTS, Candidate, feature_score

TextsFn = Callable[[Sequence[str]], Mapping[str, str]]
"""Chunk ids -> chunk text (read from SQLite only when a reranker needs it)."""


class Reranker(Protocol):
    """Scores candidates whose features are computed."""

    name: str

    def rerank(self, q: QueryInfo, cands: list[Candidate], texts: TextsFn) -> None:
        """Set ``score`` on every candidate."""
        ...


class FusionOrder:
    """No reranking: the fused score (expanded chunks: a share of their seed's) is the score."""

    name = "none"

    def rerank(self, q: QueryInfo, cands: list[Candidate], texts: TextsFn) -> None:
        """Copy the fused score."""
        for c in cands:
            c.score = c.fused


class FeatureReranker:
    """A linear scorer over lane ranks, symbol/path matches, kind, coherence and the prior."""

    name = "features"

    def __init__(self, weights: Mapping[str, float] | None = None) -> None:
        """Use ``weights`` (default: the tuned ``DEFAULT_WEIGHTS``)."""
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)

    def rerank(self, q: QueryInfo, cands: list[Candidate], texts: TextsFn) -> None:
        """Score each candidate from its features."""
        for c in cands:
            c.score = feature_score(c.features, self.weights)


class CrossEncoderMissingError(RuntimeError):
    """The configured cross-encoder model cannot be loaded."""


class CrossEncoderReranker:
    """sentence-transformers ``CrossEncoder`` over (query, chunk text) for the top candidates."""

    name = "cross-encoder"

    def __init__(
        self, model_path: Path, *, top: int = 30, base: FeatureReranker | None = None
    ) -> None:
        """Load lazily from ``model_path`` (a local folder: nothing is downloaded)."""
        self.model_path = Path(model_path).expanduser()
        self.top = top
        self.base = base or FeatureReranker()
        self._model: Any = None

    @property
    def model(self) -> Any:
        """The CrossEncoder, loaded on first use from disk only."""
        if self._model is None:
            if not (self.model_path / "config.json").is_file():
                raise CrossEncoderMissingError(
                    f"no cross-encoder model at {self.model_path} (a folder with config.json "
                    "and weights is needed; unset CODERAG_CROSS_ENCODER_MODEL to use the "
                    "built-in reranker)"
                )
            from app.models.embedder import offline_env

            offline_env()
            from sentence_transformers import CrossEncoder

            self._model = CrossEncoder(str(self.model_path), device="cpu")
        return self._model

    def scores(self, query: str, passages: Sequence[str]) -> list[float]:
        """Return the model's relevance logits for ``passages``."""
        if not passages:
            return []
        out = self.model.predict([(query, p) for p in passages], show_progress_bar=False)
        return [float(x) for x in out]

    def rerank(self, q: QueryInfo, cands: list[Candidate], texts: TextsFn) -> None:
        """Feature-score all, then fuse feature and model ranks over the best ``top``."""
        self.base.rerank(q, cands, texts)
        ordered = sorted(cands, key=lambda c: (-c.score, c.meta.id))
        head = ordered[: self.top]
        text = texts([c.meta.id for c in head])
        logits = self.scores(q.text, [text.get(c.meta.id, "") for c in head])
        by_model = sorted(range(len(head)), key=lambda i: -logits[i])
        model_rank = {head[i].meta.id: r for r, i in enumerate(by_model, start=1)}
        floor = 2.0 / (60 + len(head) + 1)
        for r, c in enumerate(head, start=1):
            c.features["cross_encoder"] = logits[r - 1]
            c.score = floor + 1.0 / (60 + r) + 1.0 / (60 + model_rank[c.meta.id])
        for r, c in enumerate(ordered[self.top :], start=1):
            c.score = floor * (1.0 - r / (len(ordered) + 1))
