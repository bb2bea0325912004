"""Records of the retrieval pipeline: what a search is asked to do and what it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Lane = Literal["lexical", "dense", "symbol", "path"]
LANES: tuple[Lane, ...] = ("lexical", "dense", "symbol", "path")
RerankMode = Literal["none", "features", "cross-encoder"]
GroupBy = Literal["file", "chunk", "auto"]


@dataclass(frozen=True, slots=True)
class SearchOptions:
    """One search's knobs; the defaults are the full pipeline (the ladder switches parts off)."""

    k: int = 10
    lanes: tuple[Lane, ...] = LANES
    expand: bool = True
    """Add definitions, callers and callees of the top hits from the code graph."""
    rerank: RerankMode = "features"
    group_by: GroupBy = "chunk"
    """'chunk': plain chunk ranking; 'file': files ordered by their evidence, each file's best
    chunk before any file's second (``Settings.file_decay``, ``file_support``); 'auto':
    'chunk' for symbol lookups, 'file' for questions."""
    mmr: float | None = None
    """Maximal-marginal-relevance weight in [0, 1] applied after reranking (``None``: off);
    lower values favour diversity over relevance (``app.retrieval.mmr``). Off by default: on the
    dev half of the retrieval benchmark it raised file R@10 but lowered NDCG@10 at every
    weight tried (0.756 -> 0.745 at 0.7, 0.752 at 0.95)."""

    def __post_init__(self) -> None:
        """Reject an MMR weight outside [0, 1]."""
        if self.mmr is not None and not 0.0 <= self.mmr <= 1.0:
            raise ValueError(f"mmr must be in [0, 1], got {self.mmr}")


@dataclass(slots=True)
class Hit:
    """One ranked chunk."""

    path: str
    start_line: int
    end_line: int
    symbol: str | None
    score: float
    chunk_id: str
    lanes: dict[str, int] = field(default_factory=dict)
    """Lane name -> 1-based rank of this chunk in that lane ('graph' for expanded hits)."""
    expanded: bool = False
    """True when the hit came from call-graph expansion rather than a text lane."""
    features: dict[str, float] = field(default_factory=dict)
    """The reranker's inputs and per-feature contributions (for ``--explain``)."""

    def to_json(self) -> dict[str, Any]:
        """Return the contract record of ``coderag search --json`` (see the README)."""
        return {
            "path": self.path,
            "start_line": self.start_line,
            "end_line": self.end_line,
            "symbol": self.symbol,
            "score": round(float(self.score), 6),
            "lanes": sorted(self.lanes),
        }
