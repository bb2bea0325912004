"""Maximal marginal relevance: reorder the best candidates so near-duplicates do not crowd the top.

Greedy selection over the top of the reranked list: each step takes the candidate maximising
``lambda * relevance - (1 - lambda) * max similarity to the chunks already taken``. Relevance is
the reranker's score scaled to [0, 1]; similarity is the cosine of the chunks' cached embedding
vectors, or, for a pair where either chunk has no vector, the Jaccard overlap of their
identifier tokens. Candidates below the window keep their order after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from app.retrieval.rank import Candidate

if TYPE_CHECKING:
    from app.index.stores.db import IndexDB

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def window(k: int) -> int:
    """How many of the best candidates MMR reorders for a search of ``k`` hits."""
    return max(3 * k, 20)


def tokens(text: str) -> frozenset[str]:
    """Return the lower-cased identifier tokens of ``text``."""
    return frozenset(t.lower() for t in _TOKEN.findall(text))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """Return ``|a & b| / |a | b|`` (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def chunk_evidence(
    db: IndexDB, model: str | None, ids: Iterable[str]
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Return ``(unit vectors, texts)`` by chunk id: vectors from the embedding cache of ``model``.

    Chunks whose vector is not cached (or no ``model``) get only a text.
    """
    from app.index.stores.forms import text_hash

    chunks = db.chunks_by_ids(ids)
    texts = {c.id: c.text for c in chunks}
    if not model:
        return {}, texts
    hashes = {c.id: text_hash(c) for c in chunks}
    cached = db.cached_vectors(model, hashes.values())
    vectors: dict[str, np.ndarray] = {}
    for cid, h in hashes.items():
        vec = cached.get(h)
        if vec is not None:
            norm = float(np.linalg.norm(vec))
            if norm > 0:
                vectors[cid] = np.asarray(vec, dtype=np.float32) / norm
    return vectors, texts


def apply(cands: Sequence[Candidate], lam: float, k: int, db: IndexDB) -> list[Candidate]:
    """Reorder the best ``window(k)`` of ``cands`` by MMR, with evidence from ``db``."""
    top = window(k)
    ids = [c.meta.id for c in cands[:top]]
    vectors, texts = chunk_evidence(db, db.get_meta("embed_model"), ids)
    return mmr_order(cands, lam, top, vectors, texts)


def mmr_order(
    cands: Sequence[Candidate],
    lam: float,
    top: int,
    vectors: Mapping[str, np.ndarray],
    texts: Mapping[str, str],
) -> list[Candidate]:
    """Reorder the first ``top`` of ``cands`` (best first) by MMR with weight ``lam``.

    ``lam=1`` keeps the relevance order; ``lam=0`` maximises diversity. Scores are left as they
    are (the reranker's); only the order changes.
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"mmr lambda must be in [0, 1], got {lam}")
    head, tail = list(cands[:top]), list(cands[top:])
    if len(head) < 2:
        return head + tail
    best = max(c.score for c in head)
    worst = min(c.score for c in head)
    spread = best - worst
    rel = {c.meta.id: (c.score - worst) / spread if spread > 0 else 1.0 for c in head}
    toks: dict[str, frozenset[str]] = {}

    def sim(a: Candidate, b: Candidate) -> float:
        va, vb = vectors.get(a.meta.id), vectors.get(b.meta.id)
        if va is not None and vb is not None:
            return max(float(va @ vb), 0.0)
        for c in (a, b):
            if c.meta.id not in toks:
                toks[c.meta.id] = tokens(texts.get(c.meta.id, "") or (c.meta.symbol or ""))
        return jaccard(toks[a.meta.id], toks[b.meta.id])

    chosen: list[Candidate] = []
    closest = {c.meta.id: 0.0 for c in head}
    left = head
    while left:
        pick = max(left, key=lambda c: lam * rel[c.meta.id] - (1 - lam) * closest[c.meta.id])
        chosen.append(pick)
        left = [c for c in left if c is not pick]
        for c in left:
            closest[c.meta.id] = max(closest[c.meta.id], sim(c, pick))
    return chosen + tail
