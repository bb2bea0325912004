"""The candidates of one search between its stages, checkpointable as plain values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.retrieval.catalog import Catalog
from app.retrieval.rank import Candidate


@dataclass(slots=True)
class Pool:
    """Fused candidates of one or more queries, with the evidence ranking needs later."""

    cands: dict[str, Candidate] = field(default_factory=dict)
    path_scores: dict[str, float] = field(default_factory=dict)
    vector: np.ndarray | None = None
    """The (first) query's embedding, for file-level similarity."""

    def add(self, c: Candidate) -> None:
        """Merge ``c``: fused scores add up; each lane keeps its best rank and score."""
        have = self.cands.get(c.meta.id)
        if have is None:
            self.cands[c.meta.id] = c
            return
        have.fused += c.fused
        for lane, rank in c.ranks.items():
            if rank < have.ranks.get(lane, rank + 1):
                have.ranks[lane] = rank
                have.scores[lane] = c.scores.get(lane, 0.0)

    def to_state(self) -> dict[str, Any]:
        """Return plain values (JSON-ready) for a graph state or a checkpoint."""
        return {
            "cands": [
                {
                    "id": c.meta.id,
                    "fused": c.fused,
                    "ranks": dict(c.ranks),
                    "scores": dict(c.scores),
                    "expanded": c.expanded,
                    "prior": c.prior,
                }
                for c in self.cands.values()
            ],
            "path_scores": dict(self.path_scores),
            "vector": None if self.vector is None else [float(x) for x in self.vector],
        }

    @classmethod
    def from_state(cls, data: Mapping[str, Any], catalog: Catalog) -> Pool:
        """Rebuild from :meth:`to_state` against ``catalog``."""
        pool = cls(path_scores=dict(data.get("path_scores", {})))
        vec = data.get("vector")
        pool.vector = None if vec is None else np.asarray(vec, dtype=np.float32)
        for d in data.get("cands", ()):
            meta = catalog.chunks.get(d["id"])
            if meta is not None:
                pool.cands[meta.id] = Candidate(
                    meta,
                    ranks=dict(d["ranks"]),
                    scores=dict(d["scores"]),
                    fused=float(d["fused"]),
                    expanded=bool(d["expanded"]),
                    prior=float(d.get("prior", 0.0)),
                )
        return pool
