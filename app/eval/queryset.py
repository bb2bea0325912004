"""The query set of ``coderag eval``: mined from the repository itself.

* ``nl`` / ``mixed`` / ``file``: documentation sentences (see :mod:`app.eval.mining`), searched
  against the doc-stripped copy so they are not verbatim lookups;
* ``symbol``: bare and qualified identifiers, targeting their definitions;
* ``commit``: commit subjects from git history, targeting the files they changed
  (:mod:`app.eval.history`).
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.eval import mining
from app.eval.history import commit_queries
from app.index.languages import CODE_LANGUAGES
from app.index.records import SourceFile

log = logging.getLogger(__name__)


def cap(records: Sequence[dict[str, Any]], limit: int, seed: int) -> list[dict[str, Any]]:
    """Keep at most ``limit`` records, each type keeping its share (seeded, deterministic)."""
    if len(records) <= limit:
        return list(records)
    by_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in sorted(records, key=lambda r: r["id"]):
        by_type[r["type"]].append(r)
    rng = random.Random(f"{seed}:cap")
    kept: list[dict[str, Any]] = []
    for kind in sorted(by_type):
        items = by_type[kind]
        rng.shuffle(items)
        kept += items[: max(1, round(limit * len(items) / len(records)))]
    return kept[:limit]


def build_queries(
    repo: Path,
    copy: Path,
    files: Sequence[SourceFile],
    *,
    corpus: str,
    max_queries: int = 200,
    commits: int = 40,
    seed: int = mining.SEED,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Return ``(query records, notes)`` for ``repo`` whose stripped copy is ``copy``.

    Args:
        repo: The original repository (documentation is read from here).
        copy: Its doc-stripped copy (what gets indexed and searched).
        files: The walked files of ``repo`` (targets of commit queries must be among them).
        corpus: The ``corpus`` field of every record (the repository's name).
        max_queries: Most documentation and symbol queries (types keep their shares).
        commits: Most commit-message queries (0: none).
        seed: Sampling seed.

    Notes say what could not be mined and why (no git history, a language that failed).
    """
    notes: list[str] = []
    languages = sorted({f.language for f in files} & CODE_LANGUAGES)
    mined: list[dict[str, Any]] = []
    for language in languages:
        try:
            records = mining.build(f"{corpus}.{language}", language, repo, copy)
        except Exception as exc:  # one language's odd files must not sink the whole eval
            log.warning("query mining failed for %s: %s", language, exc, exc_info=True)
            notes.append(f"{language}: no queries mined ({type(exc).__name__}: {exc})")
            continue
        for record in records:
            record["corpus"] = corpus
            record["language"] = language
            record.pop("split", None)
        mined += records
    queries = cap(mined, max_queries, seed)
    if commits > 0:
        found = commit_queries(
            repo, {f.path for f in files}, corpus=corpus, limit=commits, seed=seed
        )
        if not found:
            notes.append("no commit queries: no git history here, or no commit qualified")
        queries += found
    if not languages:
        notes.append("no source files in a parsed language: only commit queries are possible")
    return queries, notes
