"""Ranking metrics of ``coderag eval`` and the retrieval benchmark (pure functions).

A hit is ``(path, start_line, end_line)`` (1-based, inclusive). A target is a dict with a
``path`` and, optionally, ``start_line``/``end_line``: a file target is matched by any hit in
that file, a span target by a hit in the same file whose lines overlap it.

* NDCG@10, binary gains: each target counts once, at the rank of the first hit that covers it
  (one hit may cover several targets); the ideal DCG has ``min(10, len(targets))`` gains.
  Since one hit can credit several targets at the same rank, DCG can exceed that ideal: the
  score is capped at 1.0.
* File level: Recall@k is the fraction of the targets' distinct files found in the top k; MRR@10
  is 1/rank of the first hit whose file is one of the targets' files.

Scores are averaged per query within a repository (corpus), then over repositories.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Hit = tuple[str, int, int]
Target = Mapping[str, Any]


def covers(hit: Hit, target: Target) -> bool:
    """Return True when ``hit`` matches ``target`` (same file; overlapping lines for spans)."""
    path, start, end = hit
    if path != target["path"]:
        return False
    if "start_line" not in target:
        return True
    return start <= target["end_line"] and end >= target["start_line"]


def ndcg_at_k(hits: Sequence[Hit], targets: Sequence[Target], k: int = 10) -> float:
    """Return NDCG@k with binary gains, each target credited at its first covering rank."""
    if not targets:
        return 0.0
    dcg = 0.0
    for target in targets:
        for rank, hit in enumerate(hits[:k], start=1):
            if covers(hit, target):
                dcg += 1.0 / math.log2(rank + 1)
                break
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, len(targets)) + 1))
    return min(1.0, dcg / ideal)


def _target_files(targets: Sequence[Target]) -> set[str]:
    return {t["path"] for t in targets}


def file_recall_at_k(hits: Sequence[Hit], targets: Sequence[Target], k: int) -> float:
    """Return the fraction of the targets' files that appear among the top ``k`` hits."""
    files = _target_files(targets)
    if not files:
        return 0.0
    return len(files & {h[0] for h in hits[:k]}) / len(files)


def file_mrr_at_k(hits: Sequence[Hit], targets: Sequence[Target], k: int = 10) -> float:
    """Return 1/rank of the first of the top ``k`` hits that lies in a target file, else 0."""
    files = _target_files(targets)
    for rank, hit in enumerate(hits[:k], start=1):
        if hit[0] in files:
            return 1.0 / rank
    return 0.0


METRICS = ("ndcg@10", "r@1", "r@5", "r@10", "mrr@10")


def score_query(hits: Sequence[Hit], targets: Sequence[Target]) -> dict[str, float]:
    """Return every metric of one query."""
    return {
        "ndcg@10": ndcg_at_k(hits, targets, 10),
        "r@1": file_recall_at_k(hits, targets, 1),
        "r@5": file_recall_at_k(hits, targets, 5),
        "r@10": file_recall_at_k(hits, targets, 10),
        "mrr@10": file_mrr_at_k(hits, targets, 10),
    }


def mean(values: Iterable[float]) -> float:
    """Return the arithmetic mean (0.0 for nothing)."""
    items = list(values)
    return sum(items) / len(items) if items else 0.0


def aggregate(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Average per-query scores per repository, then over repositories.

    ``rows`` are dicts with ``corpus`` and one key per metric. Returns ``{"per_corpus":
    {corpus: {metric: mean, "n": count}}, "mean": {metric: mean over corpora}}``.
    """
    by_corpus: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        by_corpus[row["corpus"]].append(row)
    per_corpus: dict[str, dict[str, float]] = {}
    for corpus, items in sorted(by_corpus.items()):
        per_corpus[corpus] = {m: mean(r[m] for r in items) for m in METRICS}
        per_corpus[corpus]["n"] = len(items)
    overall = {m: mean(c[m] for c in per_corpus.values()) for m in METRICS}
    overall["n"] = sum(int(c["n"]) for c in per_corpus.values())
    return {"per_corpus": per_corpus, "mean": overall}
