"""An in-memory catalogue of a repository's chunks, files and symbol definitions.

Loaded once per index state (a few tens of milliseconds for 10k chunks) so that every lane and
feature is a dictionary lookup at query time.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from app.codegraph.array_view import ArrayView
from app.index.tokens import split_identifier, stem

if TYPE_CHECKING:
    from app.codegraph.queries import CodeGraph
    from app.index.stores.db import IndexDB

CODE_KINDS = frozenset({"function", "method", "class"})
_TEST_PART = re.compile(r"^(tests?|testing|__tests__|spec|specs|test_?utils?|fixtures?|e2e)$")
_TEST_FILE = re.compile(
    r"(^test_.*|.*_test\.\w+$|.*\.(test|spec)\.\w+$|^conftest\.py$|.*_tests?\.rs$|.*Tests?\.java$)"
)
_EXAMPLE_PART = re.compile(r"^(examples?|samples?|demos?|docs|documentation|benchmarks?|bench)$")
_CHANGELOG = re.compile(
    r"^(change_?log|changes|history|news|releases?)(\.(md|markdown|rst|txt))?$", re.I
)
"""Release notes name every feature once: they match questions without answering them."""
_COMPAT = re.compile(r"(compat|legacy|deprecated|_vendor|vendor|polyfills?|shims?)", re.I)
_REEXPORT = frozenset({"__init__.py", "index.js", "index.ts", "index.mjs", "mod.rs", "lib.rs"})


@dataclass(frozen=True, slots=True)
class ChunkMeta:
    """What ranking needs to know about a chunk (its text stays in SQLite)."""

    id: str
    path: str
    start_line: int
    end_line: int
    kind: str
    language: str
    symbol: str | None

    @property
    def name(self) -> str | None:
        """The bare symbol name (``method`` for ``pkg.Class.method``)."""
        return self.symbol.rsplit(".", 1)[-1] if self.symbol else None


@dataclass(frozen=True, slots=True)
class SymbolDef:
    """A definition from the code graph."""

    qualname: str
    name: str
    kind: str
    path: str
    start_line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class FileFlags:
    """Path-derived evidence about a file (multiplicative penalties in ranking)."""

    test: bool
    example: bool
    reexport: bool
    stub: bool
    compat: bool


_VERSION_DIR = re.compile(r"^v(\d+)$", re.I)


def importers(graph: CodeGraph) -> dict[str, set[str]]:
    """For each file, the other files whose imports resolve into it (from the code graph)."""
    nodes = graph.graph.nodes
    out: dict[str, set[str]] = defaultdict(set)
    for u, v, key in graph.graph.edges(keys=True):
        if key == "imports":
            src, dst = nodes[u].get("path"), nodes[v].get("path")
            if src and dst and src != dst:
                out[dst].add(src)
    return out


def superseded(
    paths: Iterable[str], imported: Mapping[str, set[str]] | None = None
) -> set[str]:
    """The paths inside the other copies of an API kept in version folders (``v3/``, ``v4/``).

    The current copy is the one the rest of the repository imports most (files outside the
    version folders importing files inside it); on a tie, the highest version. Never hidden:
    ranking treats the others like a compat tree (pushed below the current copy).
    """
    marked: list[tuple[str, str, int]] = []
    for path in paths:
        parts = path.split("/")[:-1]
        for i, part in enumerate(parts):
            m = _VERSION_DIR.match(part)
            if m:
                marked.append((path, "/".join(parts[:i]), int(m.group(1))))
                break
    groups: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path, parent, v in marked:
        groups[parent][v].add(path)
    imported = imported or {}
    current: dict[str, int] = {}
    for parent, by_version in groups.items():
        inside = set().union(*by_version.values())

        def users(v: int, inside: set[str] = inside, by_version: Any = by_version) -> int:
            return len({u for p in by_version[v] for u in imported.get(p, ()) if u not in inside})

        current[parent] = max(by_version, key=lambda v: (users(v), v))
    return {path for path, parent, v in marked if len(groups[parent]) > 1
            and v != current[parent]}  # fmt: skip


def file_flags(path: str, *, superseded: bool = False) -> FileFlags:
    """Classify ``path`` as test, example/docs, re-export, ``.d.ts`` stub or compat shim.

    ``superseded``: the file is in an old version folder beside a newer one (a compat copy).
    """
    parts = path.split("/")
    name = parts[-1]
    dirs = [p.lower() for p in parts[:-1]]
    return FileFlags(
        test=any(_TEST_PART.match(d) for d in dirs) or bool(_TEST_FILE.match(name)),
        example=any(_EXAMPLE_PART.match(d) for d in dirs) or bool(_CHANGELOG.match(name)),
        reexport=name in _REEXPORT,
        stub=name.endswith((".d.ts", ".d.cts", ".d.mts", ".pyi")),
        compat=superseded or bool(_COMPAT.search(path)),
    )


def path_tokens(path: str) -> set[str]:
    """Return the words of a path's folders and file stem.

    ``src/http_client.py`` -> {http_client, http, client, httpclient}.
    """
    parts = path.split("/")
    stem = parts[-1].split(".")[0]
    out: set[str] = set()
    for piece in [*parts[:-1], stem]:
        low = piece.lower()
        if not low or low in ("src", "lib", "pkg", "internal", "__init__", "index", "mod"):
            continue
        out.add(low)
        bits = split_identifier(piece.replace("-", "_"))
        out.update(bits)
        out.add("".join(bits))
    return {t for t in out if t}


class NameMatcher:
    """``difflib.get_close_matches`` over a fixed list of names, with the same result, faster.

    A name is only compared (``SequenceMatcher``, slow) when the characters the two share could
    reach ``cutoff``: difflib's own ``quick_ratio`` bound, counted for every name at once with
    numpy. At the 34k names of a 112k-chunk index: 2.3 ms a lookup instead of 31, after a
    one-off table of 0.04 s.
    """

    _CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"

    def __init__(self, names: list[str]) -> None:
        """Count the characters of each of ``names``."""
        self.names = names
        self._lengths = np.array([len(x) for x in names], dtype=np.float64)
        cols = self._columns("".join(names))
        rows = np.repeat(np.arange(len(names)), self._lengths.astype(np.int64))
        self._counts = np.zeros((len(names), len(self._CHARS) + 1), dtype=np.int32)
        np.add.at(self._counts, (rows, cols), 1)

    @classmethod
    def _columns(cls, text: str) -> np.ndarray:
        """Each character's column; characters outside the table share the last one.

        Sharing a column can only raise the count of shared characters, so the bound stays a
        bound.
        """
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        table = np.full(128, len(cls._CHARS), dtype=np.int64)
        table[[ord(c) for c in cls._CHARS]] = np.arange(len(cls._CHARS))
        return np.where(codes < 128, table[np.minimum(codes, 127)], len(cls._CHARS))

    def close(self, word: str, n: int, cutoff: float) -> list[str]:
        """Return ``difflib.get_close_matches(word, self.names, n, cutoff)``."""
        import difflib

        want = np.bincount(self._columns(word), minlength=self._counts.shape[1])
        shared = np.minimum(self._counts, want).sum(axis=1)
        total = self._lengths + len(word)
        bound = np.divide(2.0 * shared, total, out=np.ones_like(total), where=total > 0)
        maybe = [self.names[i] for i in np.flatnonzero(bound >= cutoff)]
        return difflib.get_close_matches(word, maybe, n=n, cutoff=cutoff)


def normalise_name(name: str) -> str:
    """Case- and separator-insensitive form of an identifier (``get_user`` == ``getUser``)."""
    return "".join(split_identifier(name.replace("-", "_")))


class Catalog:
    """Chunks by id and by file, symbol definitions by name, and path words by file."""

    def __init__(self, db: IndexDB, graph: CodeGraph | None) -> None:
        """Load chunk metadata from ``db`` and definitions from ``graph``."""
        self.file_paths: list[str] = []
        self.file_matrix: np.ndarray | None = None
        self._file_row: dict[str, int] = {}
        self._centrality: dict[str, float] | None = None
        self.vector_ids: list[str] = []
        self.vector_matrix: np.ndarray | None = None
        self.chunks: dict[str, ChunkMeta] = {}
        self.by_path: dict[str, list[ChunkMeta]] = defaultdict(list)
        for row in db.chunk_rows():
            meta = ChunkMeta(*row)
            self.chunks[meta.id] = meta
            self.by_path[meta.path].append(meta)
        self._starts = {p: [c.start_line for c in cs] for p, cs in self.by_path.items()}
        self.by_symbol: dict[str, list[ChunkMeta]] = defaultdict(list)
        for meta in self.chunks.values():
            if meta.symbol:
                self.by_symbol[meta.symbol].append(meta)
        self.defs_by_name: dict[str, list[SymbolDef]] = defaultdict(list)
        self.defs_by_norm: dict[str, list[SymbolDef]] = defaultdict(list)
        self.defs: dict[str, SymbolDef] = {}
        if graph is not None:
            for node, a in graph.graph.nodes(data=True):
                if node.startswith("sym:") and a.get("path") in self.by_path:
                    d = SymbolDef(
                        a["qualname"],
                        a["name"],
                        a["kind"],
                        a["path"],
                        a["start_line"],
                        a["end_line"],
                    )
                    self.defs[d.qualname] = d
                    self.defs_by_name[d.name].append(d)
                    self.defs_by_norm[normalise_name(d.name)].append(d)
        self.members: dict[str, list[SymbolDef]] = defaultdict(list)
        for d in self.defs.values():
            owner = d.qualname.rsplit(".", 1)[0]
            if owner in self.defs:
                self.members[owner].append(d)
        self._defs_by_path: dict[str, list[SymbolDef]] = defaultdict(list)
        for d in sorted(self.defs.values(), key=lambda d: (d.path, d.start_line, d.end_line)):
            self._defs_by_path[d.path].append(d)
        self._def_starts = {p: [d.start_line for d in ds] for p, ds in self._defs_by_path.items()}
        versioned = any(_VERSION_DIR.match(d) for p in self.by_path for d in p.split("/")[:-1])
        uses = importers(graph) if versioned and graph is not None else None
        old = superseded(self.by_path, uses)
        self.flags = {p: file_flags(p, superseded=p in old) for p in self.by_path}
        self.path_words = {p: path_tokens(p) for p in self.by_path}
        df: dict[str, int] = defaultdict(int)
        for words in self.path_words.values():
            for w in words:
                df[w] += 1
        n = max(len(self.by_path), 1)
        self.path_idf = {w: math.log(1 + n / c) for w, c in df.items()}
        self._paths_by_word: dict[str, list[str]] | None = None
        self._representatives: dict[str, ChunkMeta] = {}
        self._name_matcher: NameMatcher | None = None

    def representative(self, path: str) -> ChunkMeta:
        """Return the chunk that best stands for a file (cached per file).

        That is the definition named like the file, else the first code chunk, else the first
        chunk.
        """
        got = self._representatives.get(path)
        if got is None:
            chunks = self.by_path[path]
            stem_norm = normalise_name(path.rsplit("/", 1)[-1].split(".")[0])
            named = [c for c in chunks if c.name and normalise_name(c.name) == stem_norm]
            code = [c for c in chunks if c.kind in ("class", "function", "method")]
            got = self._representatives[path] = (named or code or chunks)[0]
        return got

    def close_names(self, norm: str, n: int, cutoff: float) -> list[str]:
        """Return the normalised definition names most like ``norm`` (see :class:`NameMatcher`)."""
        if self._name_matcher is None:
            self._name_matcher = NameMatcher(list(self.defs_by_norm))
        return self._name_matcher.close(norm, n, cutoff)

    def paths_with_word(self) -> dict[str, list[str]]:
        """Return word -> files whose path has it, stemmed or not (built on first use).

        The path lane looks up the query's few words here instead of stemming every file's
        path again per query (which cost 260 ms a query at 3.5k files).
        """
        if self._paths_by_word is None:
            index: dict[str, list[str]] = defaultdict(list)
            for path, tokens in self.path_words.items():
                for word in tokens | {stem(t) for t in tokens}:
                    index[word].append(path)
            self._paths_by_word = dict(index)
        return self._paths_by_word

    def load_vectors(self, db: IndexDB, model: str) -> None:
        """Load every chunk's vector from the index's vector cache, and file centroids.

        One matrix for the exact dense lane; each file's centroid of its rows (unit length)
        for file similarity.
        """
        ids: list[str] = []
        paths: list[str] = []
        blobs: list[bytes] = []
        for chunk_id, path, blob in db.chunk_vectors(model):
            ids.append(chunk_id)
            paths.append(path)
            blobs.append(blob)
        self.vector_ids = ids
        if not blobs:
            self.vector_matrix = None
            self.file_paths, self.file_matrix, self._file_row = [], None, {}
            return
        mat = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
        self.vector_matrix = mat
        # rows come grouped by path: a file's centroid is the sum of its run of rows
        starts = [0] + [i for i in range(1, len(paths)) if paths[i] != paths[i - 1]]
        self.file_paths = [paths[i] for i in starts]
        sums = np.add.reduceat(mat, starts, axis=0)
        sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
        self.file_matrix = sums
        self._file_row = {p: i for i, p in enumerate(self.file_paths)}

    def nearest(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """The ``n`` chunks most cosine-similar to ``vector`` (exact scan), best first.

        ``einsum`` for the reason :meth:`file_similarity` gives; 8k chunks take ~1 ms and 112k
        ~15 ms, exact where an HNSW index is approximate.
        """
        mat = self.vector_matrix
        if mat is None or n <= 0:
            return []
        sims = np.einsum("ij,j->i", mat, np.asarray(vector, dtype=np.float32))
        n = min(n, len(sims))
        top = np.argpartition(-sims, n - 1)[:n]
        ids = self.vector_ids
        ranked = sorted(((ids[i], float(sims[i])) for i in top), key=lambda kv: (-kv[1], kv[0]))
        return ranked

    def file_similarity(self, vector: np.ndarray) -> Mapping[str, float]:
        """Cosine similarity of ``vector`` to every file centroid (path -> similarity).

        ``einsum``, not ``@``: a matrix product of this size (3.6k files at 112k chunks) runs
        on OpenBLAS threads, which fight the embedder's torch threads on a small machine and
        made one search in ten take over 100 ms. A view, not a dict of every file.
        """
        if self.file_matrix is None:
            return {}
        sims = np.einsum("ij,j->i", self.file_matrix, np.asarray(vector, dtype=np.float32))
        return ArrayView(self._file_row, sims)

    def file_centrality(self, graph: CodeGraph) -> Mapping[str, float]:
        """Each file's share of the call graph's PageRank (its symbols' sum), max 1 (cached)."""
        if self._centrality is None:
            sums: dict[str, float] = defaultdict(float)
            for qualname, rank in graph.pagerank().items():
                d = self.defs.get(qualname)
                if d is not None:
                    sums[d.path] += rank
            top = max(sums.values(), default=0.0) or 1.0
            self._centrality = {p: v / top for p, v in sums.items()}
        return self._centrality

    def chunk_at(self, path: str, line: int) -> ChunkMeta | None:
        """Return the smallest chunk of ``path`` that contains ``line``."""
        chunks = self.by_path.get(path)
        if not chunks:
            return None
        i = bisect.bisect_right(self._starts[path], line)
        best: ChunkMeta | None = None
        for c in reversed(chunks[:i]):
            if c.start_line <= line <= c.end_line and (
                best is None or c.end_line - c.start_line < best.end_line - best.start_line
            ):
                best = c
            if line - c.start_line > 5000:
                break
        return best

    def definition_chunk(self, d: SymbolDef) -> ChunkMeta | None:
        """Return the chunk holding the line that defines ``d`` (its header)."""
        own = [c for c in self.by_symbol.get(d.qualname, ()) if c.start_line <= d.start_line + 2]
        if own:
            return min(own, key=lambda c: c.start_line)
        return self.chunk_at(d.path, d.start_line)

    def defines(self, meta: ChunkMeta) -> list[SymbolDef]:
        """Return the symbols whose definition header lies in ``meta``, outermost first."""
        defs = self._defs_by_path.get(meta.path, ())
        i = bisect.bisect_left(self._def_starts[meta.path], meta.start_line) if defs else 0
        out: list[SymbolDef] = []
        for d in defs[i:]:
            if d.start_line > meta.end_line:
                break
            out.append(d)
        return out
