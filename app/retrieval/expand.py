"""Call-graph expansion: neighbours of the strongest hits, and a personalized PageRank prior.

Text lanes find chunks that look like the query; the code graph adds what they cannot see: the
definition a hit calls, the callers of a hit, the class that owns a hit method. Expanded chunks
enter with a share of their seed's fused score and are marked ``expanded``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.retrieval.catalog import Catalog
from app.retrieval.rank import Candidate

if TYPE_CHECKING:
    from app.codegraph.queries import CodeGraph

_EDGE_KINDS = ("calls", "inherits")


def neighbours(graph: CodeGraph, qualname: str, limit: int) -> list[str]:
    """Return up to ``limit`` symbols one hop from ``qualname``, most-used edges first.

    Callees, callers, bases, subclasses and the enclosing class count; external nodes do not.
    """
    g = graph.graph
    node = f"sym:{qualname}"
    if node not in g:
        return []
    weighted: dict[str, float] = {}
    for u, v, key, data in [
        *g.out_edges(node, keys=True, data=True),
        *g.in_edges(node, keys=True, data=True),
    ]:
        other = v if u == node else u
        if not other.startswith("sym:") or other == node:
            continue
        if key in _EDGE_KINDS:
            w = float(len(data.get("lines", (1,))))
        elif key == "contains" and v == node:
            w = 0.5  # the class (or function) that encloses the hit
        else:
            continue
        weighted[other[4:]] = weighted.get(other[4:], 0.0) + w
    return [q for q, _ in sorted(weighted.items(), key=lambda kv: (-kv[1], kv[0]))][:limit]


def expand(
    cands: dict[str, Candidate],
    cat: Catalog,
    graph: CodeGraph,
    *,
    top: int = 5,
    per_seed: int = 6,
    share: float = 0.5,
) -> None:
    """Add the definition chunks of the neighbours of the ``top`` fused hits to ``cands``."""
    seeds = [
        c
        for c in sorted(cands.values(), key=lambda c: (-c.fused, c.meta.id))
        if c.meta.symbol and c.meta.symbol in cat.defs
    ][:top]
    rank = 0
    for seed in seeds:
        assert seed.meta.symbol is not None
        for qual in neighbours(graph, seed.meta.symbol, per_seed):
            chunk = cat.definition_chunk(cat.defs[qual]) if qual in cat.defs else None
            if chunk is None:
                continue
            rank += 1
            c = cands.get(chunk.id)
            if c is None:
                c = cands[chunk.id] = Candidate(chunk, expanded=True)
                c.fused = seed.fused * share
            c.ranks.setdefault("graph", rank)


def apply_prior(
    cands: dict[str, Candidate], graph: CodeGraph, *, seeds: int = 10, alpha: float = 0.5
) -> None:
    """Set ``Candidate.prior``: personalized PageRank seeded by the best hits' symbols."""
    best = [
        c
        for c in sorted(cands.values(), key=lambda c: (-c.fused, c.meta.id))
        if c.meta.symbol and not c.expanded
    ][:seeds]
    weights: dict[str, float] = {}
    for c in best:
        assert c.meta.symbol is not None
        weights[c.meta.symbol] = weights.get(c.meta.symbol, 0.0) + c.fused
    if not weights:
        return
    ranks = graph.pagerank(weights, alpha=alpha)
    values = {cid: ranks.get(c.meta.symbol or "", 0.0) for cid, c in cands.items()}
    top = max(values.values(), default=0.0)
    if top <= 0:
        return
    for cid, c in cands.items():
        c.prior = values[cid] / top
