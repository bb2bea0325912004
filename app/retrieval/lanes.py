"""The retrieval lanes: each turns a query into chunk ids ranked best first.

- lexical: SQLite FTS5 BM25 over code-aware tokens (path, symbol and body fields);
- dense: cosine similarity of MiniLM vectors in Chroma;
- symbol: identifiers in the query matched against definitions, exactly, then ignoring case
  and separators, then fuzzily; a definition's own chunk is returned, never a mere use;
- path: query words matched against folder and file names, weighted by how rare the word is.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.index.tokens import stem
from app.retrieval.catalog import Catalog, SymbolDef, normalise_name
from app.retrieval.query import QueryInfo

_DEF_KIND_BONUS = {
    "class": 0.3,
    "interface": 0.3,
    "struct": 0.3,
    "trait": 0.3,
    "enum": 0.25,
    "type": 0.2,
    "function": 0.3,
    "method": 0.25,
}


@dataclass(slots=True)
class LaneResult:
    """A lane's ranking, plus per-file evidence for lanes that judge files."""

    ranked: list[tuple[str, float]]
    files: dict[str, float] = field(default_factory=dict)
    vector: np.ndarray | None = None
    """The dense lane's query embedding (reused for file-level similarity)."""


def lexical_lane(
    search: Callable[[str, int], list[tuple[str, float]]], q: QueryInfo, n: int
) -> LaneResult:
    """BM25 over the FTS5 index (``search`` is :meth:`IndexDB.lexical_search`)."""
    return LaneResult(search(q.text, n))


def dense_lane(
    encode: Callable[[str], np.ndarray],
    query: Callable[[np.ndarray, int], list[tuple[str, float]]],
    q: QueryInfo,
    n: int,
) -> LaneResult:
    """Nearest chunks by cosine similarity of the query embedding."""
    vec = encode(q.text)
    return LaneResult(query(vec, n), vector=vec)


def _def_score(d: SymbolDef, tier: float) -> float:
    return tier + _DEF_KIND_BONUS.get(d.kind, 0.0) - 0.01 * d.qualname.count(".")


def _identifier_matches(cat: Catalog, ident: str) -> list[tuple[SymbolDef, float]]:
    parts = ident.split(".")
    name = parts[-1]
    out: list[tuple[SymbolDef, float]] = []
    for d in cat.defs_by_name.get(name, ()):
        tier = 3.0
        if len(parts) > 1:
            qual = d.qualname.split(".")
            if d.qualname == ident or d.qualname.endswith("." + ident):
                tier = 4.0
            elif parts[-2] in qual[:-1]:
                tier = 3.5
            else:
                tier = 2.5
        out.append((d, tier))
    norm = normalise_name(name)
    if norm:
        for d in cat.defs_by_norm.get(norm, ()):
            if d.name != name:
                out.append((d, 2.0))
    if not out and len(norm) >= 4:
        for key in cat.close_names(norm, n=4, cutoff=0.85):
            ratio = difflib.SequenceMatcher(None, norm, key).ratio()
            out.extend((d, 1.0 * ratio) for d in cat.defs_by_norm[key])
    return out


def _word_matches(cat: Catalog, q: QueryInfo) -> list[tuple[SymbolDef, float]]:
    """Definitions named by the query's words: ``user session`` -> ``UserSession``."""
    words = [w for w in q.words if "_" not in w]
    out: list[tuple[SymbolDef, float]] = []
    for size, tier in ((3, 1.6), (2, 1.4), (1, 0.8)):
        for i in range(len(words) - size + 1):
            gram = words[i : i + size]
            if size == 1 and len(gram[0]) < 4:
                continue
            for key in {"".join(gram), "".join(stem(w) for w in gram)}:
                defs = cat.defs_by_norm.get(key, ())
                if len(defs) <= 8:
                    out.extend((d, tier) for d in defs)
    return out


_OWNER_KINDS = frozenset({"class", "struct", "interface", "trait", "enum", "type"})


def _member_matches(cat: Catalog, q: QueryInfo) -> list[tuple[SymbolDef, float]]:
    """Members of the classes a question names ("how does Router match paths?")."""
    out: list[tuple[SymbolDef, float]] = []
    for name in q.names:
        owners = [d for d in cat.defs_by_name.get(name, ()) if d.kind in _OWNER_KINDS]
        for owner in owners[:3]:
            out.extend((d, 0.5) for d in cat.members.get(owner.qualname, ())[:60])
    return out


def symbol_lane(cat: Catalog, q: QueryInfo, n: int) -> LaneResult:
    """Definitions of the identifiers (and name-like word runs) in the query."""
    best: dict[str, float] = {}
    matches = [m for ident in q.identifiers for m in _identifier_matches(cat, ident)]
    if not q.is_symbol:
        matches += _word_matches(cat, q) + _member_matches(cat, q)
    for d, tier in matches:
        chunk = cat.definition_chunk(d)
        if chunk is not None:
            score = _def_score(d, tier)
            if score > best.get(chunk.id, float("-inf")):
                best[chunk.id] = score
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    return LaneResult(ranked[:n])


def path_lane(cat: Catalog, q: QueryInfo, n: int) -> LaneResult:
    """Files whose folder or file names contain the query's words, rarest words first."""
    words = {stem(w) for w in q.words} | set(q.words)
    words |= {normalise_name(i.rsplit(".", 1)[-1]) for i in q.identifiers}
    if not words:
        return LaneResult([])
    hits: dict[str, set[str]] = {}
    index = cat.paths_with_word()
    for w in words:
        for path in index.get(w, ()):
            hits.setdefault(path, set()).add(w)
    files = {
        path: sum(cat.path_idf.get(w, cat.path_idf.get(stem(w), 1.0)) for w in hit)
        for path, hit in hits.items()
    }
    top = sorted(files.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    ranked = [(cat.representative(p).id, s) for p, s in top]
    return LaneResult(ranked, files=dict(top))
