"""Fusion and the default reranker: reciprocal rank fusion, then a linear scorer over features.

The feature reranker needs no model download. Its inputs are the lanes' ranks, symbol and path
matches, definition vs use, chunk kind, file coherence and a personalized-PageRank prior; its
weights (``DEFAULT_WEIGHTS``) were tuned on the dev half of our own benchmark
(``bench/retrieval/tune.py``), never on the test half. Path-derived evidence (tests, examples,
re-export files, stubs, compat shims, prose) multiplies the score down instead of excluding.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from app.index.tokens import split_identifier, stem
from app.retrieval.catalog import CODE_KINDS, Catalog, ChunkMeta, SymbolDef, normalise_name
from app.retrieval.lanes import LaneResult
from app.retrieval.query import QueryInfo


@dataclass(slots=True)
class Candidate:
    """A chunk on its way through fusion, expansion and reranking."""

    meta: ChunkMeta
    ranks: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    fused: float = 0.0
    expanded: bool = False
    prior: float = 0.0
    """Personalized PageRank of the chunk's symbol, normalised to [0, 1] over candidates."""
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


def fuse(
    lanes: Mapping[str, LaneResult],
    cat: Catalog,
    weights: Mapping[str, float],
    rrf_k: float = 60.0,
) -> dict[str, Candidate]:
    """Weighted reciprocal rank fusion: sum of ``w / (k + rank)`` over the lanes."""
    cands: dict[str, Candidate] = {}
    for lane, result in lanes.items():
        w = weights.get(lane, 1.0)
        for rank, (cid, score) in enumerate(result.ranked, start=1):
            meta = cat.chunks.get(cid)
            if meta is None:  # a vector for a chunk deleted since: skip it
                continue
            c = cands.get(cid)
            if c is None:
                c = cands[cid] = Candidate(meta)
            c.ranks[lane] = rank
            c.scores[lane] = score
            c.fused += w / (rrf_k + rank)
    return cands


FEATURES: tuple[str, ...] = (
    "rrf",
    "lexical_rr",
    "dense_rr",
    "dense_sim",
    "symbol",
    "path",
    "def_exact_sym",
    "def_exact_nl",
    "def_norm",
    "name_overlap",
    "member",
    "coverage",
    "file_dense",
    "coherence",
    "code",
    "prior",
    "expanded",
)
PENALTIES: tuple[str, ...] = ("test", "example", "reexport", "stub", "compat", "prose")

DEFAULT_WEIGHTS: dict[str, float] = {
    "rrf": 0.75,
    "lexical_rr": 0.6,
    "dense_rr": 0.5,
    "dense_sim": 0.3,
    "symbol": 0.0,
    "path": 0.3,
    "def_exact_sym": 2.0,
    "def_exact_nl": 0.0,
    "def_norm": 0.5,
    "name_overlap": 0.9,
    "member": 0.5,
    "coverage": 0.3,
    "file_dense": 0.3,
    "coherence": -0.2,
    "code": 0.3,
    "prior": -0.3,
    "expanded": 0.0,
    "test": 1.0,
    "example": 0.7,
    "reexport": 0.0,
    "stub": 0.5,
    "compat": 0.3,
    "prose": 0.7,
}


def compute_features(
    cands: list[Candidate],
    q: QueryInfo,
    cat: Catalog,
    path_scores: Mapping[str, float],
    coverage: Mapping[str, float] | None = None,
    file_sims: Mapping[str, float] | None = None,
) -> None:
    """Fill ``Candidate.features`` (inputs in [0, 1] where possible; penalties are 0/1 flags)."""
    if not cands:
        return
    max_fused = max(c.fused for c in cands) or 1.0
    max_dense = max((c.scores.get("dense", 0.0) for c in cands), default=0.0) or 1.0
    max_path = max(path_scores.values(), default=0.0) or 1.0
    file_sims = file_sims or {}
    max_file = max((file_sims.get(c.meta.path, 0.0) for c in cands), default=0.0) or 1.0
    norms = {normalise_name(n) for n in q.names}
    owners = set() if q.is_symbol else set(q.names)
    words = {stem(w) for w in q.words}
    top = sorted(cands, key=lambda c: -c.fused)[:30]
    per_file: dict[str, int] = defaultdict(int)
    for c in top:
        per_file[c.meta.path] += 1
    for c in cands:
        m = c.meta
        defined = cat.defines(m)
        exact = any(_names_query(d, q) for d in defined)
        normed = any(normalise_name(d.name) in norms for d in defined)
        name_words = {stem(p) for p in split_identifier(m.name or "")}
        flags = cat.flags.get(m.path)
        f = {
            "rrf": c.fused / max_fused,
            "lexical_rr": 1.0 / c.ranks["lexical"] if "lexical" in c.ranks else 0.0,
            "dense_rr": 1.0 / c.ranks["dense"] if "dense" in c.ranks else 0.0,
            "dense_sim": max(c.scores.get("dense", 0.0), 0.0) / max_dense,
            "symbol": min(c.scores.get("symbol", 0.0) / 4.3, 1.0),
            "path": path_scores.get(m.path, 0.0) / max_path,
            "def_exact_sym": float(q.is_symbol and exact),
            "def_exact_nl": float(not q.is_symbol and exact),
            "def_norm": float(q.is_symbol and normed),
            "name_overlap": len(words & name_words) / len(words) if words else 0.0,
            "member": float(bool(owners) and bool(owners & set((m.symbol or "").split(".")[:-1]))),
            "coverage": (coverage or {}).get(m.id, 0.0),
            "file_dense": max(file_sims.get(m.path, 0.0), 0.0) / max_file,
            "coherence": math.log1p(max(per_file.get(m.path, 0) - 1, 0)) / math.log(30),
            "code": float(m.kind in CODE_KINDS),
            "prior": c.prior,
            "expanded": float(c.expanded),
            "test": float(bool(flags and flags.test)),
            "example": float(bool(flags and flags.example)),
            "reexport": float(bool(flags and flags.reexport)),
            "stub": float(bool(flags and flags.stub)),
            "compat": float(bool(flags and flags.compat)),
            "prose": float(m.kind in ("markdown", "text", "config")),
        }
        c.features = f


def _names_query(d: SymbolDef, q: QueryInfo) -> bool:
    """True when ``d`` is what an identifier of the query names (qualifier included)."""
    for ident in q.identifiers:
        parts = ident.split(".")
        if d.name != parts[-1]:
            continue
        if len(parts) == 1 or d.qualname == ident or d.qualname.endswith("." + ident):
            return True
    return False


def feature_score(features: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Return ``exp(linear score over FEATURES - weighted penalty flags)``.

    Log-linear, so the score is always positive: a penalty multiplies it by ``exp(-w)`` and
    file grouping can decay it, whatever the sign of the linear part.
    """
    base = sum(weights.get(n, 0.0) * features.get(n, 0.0) for n in FEATURES)
    damp = sum(weights.get(n, 0.0) * features.get(n, 0.0) for n in PENALTIES)
    return math.exp(base - damp)


def diversify(
    cands: list[Candidate],
    decay: float,
    support: float = 0.0,
    central: Mapping[str, float] | None = None,
) -> list[Candidate]:
    """Order files by their evidence, then list each file's best chunk before any second one.

    A file's score is its best chunk's score times ``1 + support * log(n)``, ``n`` counting its
    chunks that score at least half its best (a file that answers with several parts of itself
    is more likely the one a question is about than a file with one lucky chunk). Each file's
    best chunk takes its file's score; its n-th next chunk the chunk's own score times
    ``decay ** n`` (0: every file once before any file twice). With ``support`` 0 this is the
    score order with the n-th best chunk of each file multiplied by ``decay ** n``.
    """
    pool = sorted(cands, key=lambda c: (-c.score, c.meta.id))
    best: dict[str, float] = {}
    backing: dict[str, int] = defaultdict(int)
    for c in pool:
        top = best.setdefault(c.meta.path, c.score)
        if c.score >= 0.5 * top:
            backing[c.meta.path] += 1
    seen: dict[str, int] = defaultdict(int)
    order = {}
    for i, c in enumerate(pool):
        path = c.meta.path
        if seen[path] == 0:
            c.score = best[path] * (1.0 + support * math.log(backing[path]))
            if central:
                c.score *= 1.0 + central.get(path, 0.0)
            if support and backing[path] > 1:
                c.features["file_chunks"] = float(backing[path])  # shown by --explain
        else:
            c.score *= decay ** seen[path]
        seen[path] += 1
        order[c.meta.id] = i
    return sorted(pool, key=lambda c: (-c.score, order[c.meta.id]))
