"""Snapshot every store of an index directory, check it is self-consistent, compare two.

A snapshot holds what a reader of the index can see: the manifest, the chunk table, the FTS5
rows, the embedding cache keys, the Chroma ids, metadata and vectors, and the code graph's nodes
and edges. :func:`problems` lists internal inconsistencies (an FTS row or a vector without its
chunk, a duplicate id, a vector that is not its chunk's cached embedding, a stale graph);
:func:`differences` lists what differs between two snapshots, e.g. a crashed-and-resumed index
and a clean build of the same tree.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from app.codegraph.queries import CodeGraph
from app.index.layout import IndexLayout
from app.index.stores.vectors import collection_name, forget_store

#: Meta keys whose values must agree between two builds of the same tree.
COMPARED_META = (
    "chunking",
    "embed_model",
    "graph_digest",
    "graph_stats",
    "pycalls_digest",
    "schema_version",
    "vectors_synced",
)


@dataclass(frozen=True)
class IndexSnapshot:
    """Everything stored in one index directory, as sorted plain tuples."""

    files: tuple[tuple[Any, ...], ...]
    """(path, sha, size, language, structural, lossy, parsed json, pyfacts json)."""
    chunks: tuple[tuple[Any, ...], ...]
    """(id, path, start, end, kind, language, symbol, text_hash, embed_text)."""
    lexical: tuple[tuple[Any, ...], ...]
    """(chunk id or None for an orphan row, path, symbol and body tokens)."""
    cache_keys: tuple[tuple[str, str], ...]
    """(model, text hash) of the embedding cache."""
    vector_ids: tuple[str, ...]
    """Every Chroma id, sorted, duplicates kept."""
    vector_count: int
    vector_meta: tuple[tuple[str, str], ...]
    """(id, metadata as sorted JSON)."""
    stale_vectors: tuple[str, ...]
    """Ids whose Chroma vector is not the cached embedding of the chunk's text."""
    unsearchable: tuple[str, ...]
    """Ids whose own vector, queried, does not come back first (a damaged HNSW index)."""
    graph_nodes: tuple[tuple[str, str], ...]
    graph_edges: tuple[tuple[str, str, str, str], ...]
    graph_attrs: str
    meta: tuple[tuple[str, str | None], ...]

    @property
    def chunk_ids(self) -> tuple[str, ...]:
        """Return the chunk ids, sorted."""
        return tuple(c[0] for c in self.chunks)


def take_snapshot(index_dir: Path, model_id: str, *, probes: int = 25) -> IndexSnapshot:
    """Read every store under ``index_dir``; query ``probes`` vectors to check Chroma's index."""
    layout = IndexLayout(index_dir)
    conn = sqlite3.connect(f"file:{layout.db}?mode=ro", uri=True)
    try:
        sql = _read_sqlite(conn)
        cached = {
            h: np.frombuffer(blob, dtype=np.float32)
            for h, blob in conn.execute(
                "SELECT hash, vec FROM embeddings WHERE model=?", (model_id,)
            )
        }
    finally:
        conn.close()
    text_hash = {c[0]: c[7] for c in sql["chunks"]}
    vec = _read_chroma(layout.chroma, model_id, text_hash, cached, probes)
    graph = CodeGraph.load(layout.graph).graph
    return IndexSnapshot(
        **sql,
        **vec,
        graph_nodes=tuple(sorted((n, _js(d)) for n, d in graph.nodes(data=True))),
        graph_edges=tuple(
            sorted((u, v, k, _js(d)) for u, v, k, d in graph.edges(keys=True, data=True))
        ),
        graph_attrs=_js(graph.graph),
    )


def _read_sqlite(conn: sqlite3.Connection) -> dict[str, Any]:
    files = conn.execute(
        "SELECT path, sha, size, language, structural, lossy, parsed, pyfacts FROM files"
        " ORDER BY path"
    ).fetchall()
    chunks = conn.execute(
        "SELECT id, path, start_line, end_line, kind, language, symbol, text_hash, embed_text"
        " FROM chunks ORDER BY id"
    ).fetchall()
    lexical = conn.execute(
        "SELECT c.id, l.path_tokens, l.symbol_tokens, l.body_tokens FROM lexical l"
        " LEFT JOIN chunks c ON c.rowid = l.rowid"
    ).fetchall()
    cache = conn.execute("SELECT model, hash FROM embeddings ORDER BY model, hash").fetchall()
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    return {
        "files": tuple(map(tuple, files)),
        "chunks": tuple(map(tuple, chunks)),
        "lexical": tuple(sorted(map(tuple, lexical), key=repr)),
        "cache_keys": tuple(map(tuple, cache)),
        "meta": tuple((k, meta.get(k)) for k in COMPARED_META),
    }


def _read_chroma(
    path: Path,
    model_id: str,
    text_hash: dict[str, str],
    cached: dict[str, np.ndarray],
    probes: int,
) -> dict[str, Any]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    try:
        col = client.get_collection(collection_name(model_id))
        got = col.get(include=["embeddings", "metadatas"])
        ids = list(got["ids"])
        vectors = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(ids), -1)
        stale = [
            i
            for i, v in zip(ids, vectors, strict=True)
            if i not in text_hash
            or text_hash[i] not in cached
            or not np.allclose(v, cached[text_hash[i]], atol=1e-6)
        ]
        unsearchable = []
        for i, v in list(zip(ids, vectors, strict=True))[:: max(1, len(ids) // probes)]:
            res = col.query(query_embeddings=[v.tolist()], n_results=1, include=["distances"])
            top, dist = res["ids"][0][:1], (res["distances"] or [[]])[0][:1]
            if top != [i] and not (dist and dist[0] < 1e-5):  # a twin vector may come first
                unsearchable.append(i)
        return {
            "vector_ids": tuple(sorted(ids)),
            "vector_count": int(col.count()),
            "vector_meta": tuple(
                sorted((i, _js(m)) for i, m in zip(ids, got["metadatas"] or [], strict=True))
            ),
            "stale_vectors": tuple(sorted(stale)),
            "unsearchable": tuple(sorted(unsearchable)),
        }
    finally:
        forget_store(path)


def interim_problems(index_dir: Path, model_id: str | None = None) -> list[str]:
    """Return what must hold even right after a kill: SQLite and the graph file are whole.

    Vectors and the graph may lag behind the chunk table until the next run; the manifest,
    chunks and FTS rows change together, the graph pickle is never half-written, and while
    ``vectors_synced`` says "1" Chroma (of ``model_id``, when given) holds exactly the chunks.
    """
    layout = IndexLayout(index_dir)
    if not layout.db.exists():
        return []
    conn = sqlite3.connect(f"file:{layout.db}?mode=ro", uri=True)
    try:
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            return ["SQLite integrity check failed"]
        has_tables = conn.execute(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('files', 'chunks', 'lexical')"
        ).fetchone()[0]
        if has_tables < 3:
            return []  # killed while creating the schema
        sql = _read_sqlite(conn)
    finally:
        conn.close()
    out: list[str] = []
    ids = [c[0] for c in sql["chunks"]]
    if orphans := {c[1] for c in sql["chunks"]} - {f[0] for f in sql["files"]}:
        out.append(f"chunks of files not in the manifest: {sorted(orphans)[:5]}")
    lex_ids = [row[0] for row in sql["lexical"]]
    if None in lex_ids or sorted(i for i in lex_ids if i is not None) != sorted(ids):
        out.append("FTS rows do not match the chunks one to one")
    if layout.graph.exists():
        try:
            CodeGraph.load(layout.graph)
        except Exception as exc:
            out.append(f"graph.pkl unreadable: {exc}")
    if model_id and dict(sql["meta"]).get("vectors_synced") == "1":
        if _chroma_ids(layout.chroma, model_id) != set(ids):
            out.append("vectors_synced is '1' but Chroma ids != chunk ids")
    return out


def _chroma_ids(path: Path, model_id: str) -> set[str]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        path=str(path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    try:
        return set(client.get_collection(collection_name(model_id)).get(include=[])["ids"])
    finally:
        forget_store(path)


def problems(snap: IndexSnapshot) -> list[str]:
    """Return what is internally inconsistent in ``snap`` (empty when all is well)."""
    out: list[str] = []
    ids = snap.chunk_ids
    if len(set(ids)) != len(ids):
        out.append("duplicate chunk ids")
    paths = {f[0] for f in snap.files}
    if orphans := {c[1] for c in snap.chunks} - paths:
        out.append(f"chunks of files not in the manifest: {sorted(orphans)[:5]}")
    lex_ids = [row[0] for row in snap.lexical]
    if None in lex_ids:
        out.append(f"{lex_ids.count(None)} FTS rows without a chunk")
    if sorted(i for i in lex_ids if i is not None) != sorted(ids):
        out.append("FTS rows do not match the chunks one to one")
    if len(set(snap.vector_ids)) != len(snap.vector_ids):
        out.append("duplicate ids in Chroma")
    if set(snap.vector_ids) != set(ids):
        extra = sorted(set(snap.vector_ids) - set(ids))
        missing = sorted(set(ids) - set(snap.vector_ids))
        out.append(f"Chroma ids != chunk ids (extra {extra[:3]}, missing {missing[:3]})")
    if snap.vector_count != len(snap.vector_ids):
        out.append(f"Chroma count {snap.vector_count} != {len(snap.vector_ids)} ids")
    if snap.stale_vectors:
        out.append(f"vectors that are not their chunk's embedding: {list(snap.stale_vectors[:3])}")
    if snap.unsearchable:
        out.append(f"vectors the Chroma index does not find: {list(snap.unsearchable[:3])}")
    wanted_cache = {c[7] for c in snap.chunks}
    if {h for _m, h in snap.cache_keys} != wanted_cache:
        out.append("embedding cache keys != the chunks' text hashes")
    meta = dict(snap.meta)
    if meta.get("vectors_synced") != "1":
        out.append(f"vectors_synced is {meta.get('vectors_synced')!r}")
    graph_files = {n[len("file:") :] for n, _d in snap.graph_nodes if n.startswith("file:")}
    if graph_files != paths:
        out.append(f"graph files != manifest (diff {sorted(graph_files ^ paths)[:5]})")
    return out


def differences(a: IndexSnapshot, b: IndexSnapshot) -> list[str]:
    """Return a line per field that differs between ``a`` and ``b``."""
    out: list[str] = []
    for f in fields(IndexSnapshot):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x == y:
            continue
        if isinstance(x, tuple) and isinstance(y, tuple):
            sx, sy = set(x), set(y)
            only_a = [r for r in x if r not in sy][:3]
            only_b = [r for r in y if r not in sx][:3]
            out.append(f"{f.name}: {len(x)} vs {len(y)}; only in first {only_a}, second {only_b}")
        else:
            out.append(f"{f.name}: {x!r:.200} vs {y!r:.200}")
    return out


def _js(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)
