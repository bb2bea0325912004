"""The index database: manifest of files, chunks, the BM25 lexical index and the embedding cache.

One SQLite file holds everything but the vectors, so a file's manifest row, its parse facts,
its chunks and their lexical rows change in one transaction: a killed indexer leaves either the
old or the new state of a file, never a mix. Lexical search is SQLite FTS5 with ``bm25()`` over
code-aware tokens (see :mod:`app.index.tokens`).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from app.index.records import Chunk, ParsedFile
from app.index.stores.forms import FileRow, StoredForms, lexical_fields, text_hash
from app.index.stores.schema import LEXICAL, LEXICAL_ONLY_CHANGES, SCHEMA, SCHEMA_VERSION
from app.index.tokens import code_tokens


class IndexCorruptError(RuntimeError):
    """The index database is unreadable or of another schema version; it must be rebuilt."""


#: Most chunk matches (summed over query terms) the BM25 lane scores; past it the commonest
#: terms are left out (see :meth:`IndexDB.lexical_search`). 0: no limit.
POSTINGS_BUDGET = 10_000


class IndexDB:
    """SQLite-backed manifest, chunk table, FTS5 lexical index and embedding cache."""

    def __init__(self, path: Path):
        """Open (or create) the database at ``path``; raise IndexCorruptError if unusable."""
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            version = self._read_version()
            if version in LEXICAL_ONLY_CHANGES:
                self._rebuild_lexical()
                version = SCHEMA_VERSION
            if version is not None and version != SCHEMA_VERSION:
                raise IndexCorruptError(
                    f"index schema version {version} != {SCHEMA_VERSION} (made by another "
                    "version of coderag)"
                )
            self.conn.executescript(SCHEMA)
            if version is None:
                self.set_meta("schema_version", str(SCHEMA_VERSION))
            self.conn.execute("SELECT count(*) FROM files").fetchone()
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(f"index database {path} is unreadable: {exc}") from exc

    def _read_version(self) -> int | None:
        row = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='meta'"
        ).fetchone()
        if row is None:
            return None
        got = self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(got[0]) if got else None

    def _rebuild_lexical(self) -> None:
        """Recreate the FTS5 table from the chunk table (manifest and vector cache are kept)."""
        with self.transaction():
            self.conn.execute("DROP TABLE IF EXISTS lexical")
            self.conn.execute(LEXICAL)
            rows = self.conn.execute(f"SELECT rowid, {_CHUNK_COLS} FROM chunks").fetchall()
            chunks = self._rows_to_chunks(r[1:] for r in rows)
            self.conn.executemany(
                "INSERT INTO lexical(rowid, path_tokens, symbol_tokens, body_tokens)"
                " VALUES (?,?,?,?)",
                [(r[0], *lexical_fields(c)) for r, c in zip(rows, chunks, strict=True)],
            )
            self.set_meta("schema_version", str(SCHEMA_VERSION))

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    # -- meta ---------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """Return a meta value."""
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        """Set a meta value."""
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    # -- files --------------------------------------------------------------------------------
    def file_rows(self) -> dict[str, FileRow]:
        """Return the manifest: path -> row."""
        rows = self.conn.execute(
            "SELECT path, sha, size, mtime_ns, language, structural, lossy FROM files"
        )
        return {r[0]: FileRow(r[0], r[1], r[2], r[3], r[4], bool(r[5]), bool(r[6])) for r in rows}

    def parsed_files(self) -> dict[str, ParsedFile]:
        """Return every stored ParsedFile, by path."""
        rows = self.conn.execute("SELECT path, parsed FROM files ORDER BY path")
        return {p: ParsedFile.from_json(json.loads(js)) for p, js in rows}

    def count_syntax_errors(self) -> int:
        """Return how many files parsed with syntax errors."""
        row = self.conn.execute(
            "SELECT count(*) FROM files WHERE json_extract(parsed, '$.has_syntax_errors')"
        ).fetchone()
        return int(row[0])

    def python_facts_count(self) -> int:
        """Return how many files have Python call-graph facts."""
        row = self.conn.execute("SELECT count(*) FROM files WHERE pyfacts IS NOT NULL")
        return int(row.fetchone()[0])

    def count_unembedded(self, model: str) -> int:
        """Return how many distinct chunk texts have no cached vector of ``model`` yet."""
        row = self.conn.execute(
            "SELECT count(DISTINCT text_hash) FROM chunks WHERE text_hash NOT IN"
            " (SELECT hash FROM embeddings WHERE model=?)",
            (model,),
        )
        return int(row.fetchone()[0])

    def python_facts(self) -> dict[str, dict[str, Any]]:
        """Return the stored per-file Python call-graph facts, by path."""
        rows = self.conn.execute(
            "SELECT path, pyfacts FROM files WHERE pyfacts IS NOT NULL ORDER BY path"
        )
        return {p: json.loads(js) for p, js in rows}

    def replace_file(
        self,
        row: FileRow,
        parsed: ParsedFile,
        chunks: Sequence[Chunk],
        pyfacts: dict[str, Any] | None,
    ) -> None:
        """Atomically replace everything stored for one file."""
        self.replace_file_stored(row, StoredForms.of(parsed, chunks, pyfacts), chunks)

    def replace_file_stored(
        self, row: FileRow, forms: StoredForms, chunks: Sequence[Chunk]
    ) -> None:
        """Like :meth:`replace_file`, from the stored forms (computed on a parse worker)."""
        with self.transaction():
            self._delete_file(row.path)
            self.conn.execute(
                "INSERT INTO files VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    row.path,
                    row.sha,
                    row.size,
                    row.mtime_ns,
                    row.language,
                    int(row.structural),
                    int(row.lossy),
                    forms.parsed_json,
                    forms.pyfacts_json,
                ),
            )
            for c, lex in zip(chunks, forms.lexical, strict=True):
                cur = self.conn.execute(
                    "INSERT OR IGNORE INTO chunks(id, path, start_line, end_line, kind, language,"
                    " symbol, header, content_hash, text_hash, text, embed_text)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        c.id,
                        c.path,
                        c.start_line,
                        c.end_line,
                        c.kind,
                        c.language,
                        c.symbol,
                        c.header,
                        c.content_hash,
                        text_hash(c),
                        c.text,
                        c.embed_text,
                    ),
                )
                if cur.rowcount:
                    self.conn.execute(
                        "INSERT INTO lexical(rowid, path_tokens, symbol_tokens, body_tokens)"
                        " VALUES (?,?,?,?)",
                        (cur.lastrowid, *lex),
                    )

    def delete_file(self, path: str) -> None:
        """Remove a file and all its chunks."""
        with self.transaction():
            self._delete_file(path)

    def _delete_file(self, path: str) -> None:
        self.conn.execute(
            "DELETE FROM lexical WHERE rowid IN (SELECT rowid FROM chunks WHERE path=?)", (path,)
        )
        self.conn.execute("DELETE FROM chunks WHERE path=?", (path,))
        self.conn.execute("DELETE FROM files WHERE path=?", (path,))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the block in one transaction (re-entrant: inner blocks join the outer one)."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- chunks -------------------------------------------------------------------------------
    def chunk_ids(self) -> set[str]:
        """Return the ids of all chunks."""
        return {r[0] for r in self.conn.execute("SELECT id FROM chunks")}

    def chunks_by_ids(self, ids: Iterable[str]) -> list[Chunk]:
        """Return the chunks with these ids (unknown ids are ignored)."""
        out: list[Chunk] = []
        id_list = list(ids)
        for start in range(0, len(id_list), 500):
            part = id_list[start : start + 500]
            marks = ",".join("?" * len(part))
            out.extend(
                self._rows_to_chunks(
                    self.conn.execute(
                        f"SELECT {_CHUNK_COLS} FROM chunks WHERE id IN ({marks})", part
                    )
                )
            )
        return out

    def chunks_for(self, path: str) -> list[Chunk]:
        """Return the chunks of one file, in line order."""
        return list(
            self._rows_to_chunks(
                self.conn.execute(
                    f"SELECT {_CHUNK_COLS} FROM chunks WHERE path=? ORDER BY start_line", (path,)
                )
            )
        )

    def chunk_rows(self) -> list[tuple[str, str, int, int, str, str, str | None]]:
        """Return ``(id, path, start_line, end_line, kind, language, symbol)`` of every chunk."""
        rows = self.conn.execute(
            "SELECT id, path, start_line, end_line, kind, language, symbol FROM chunks"
            " ORDER BY path, start_line"
        )
        return [tuple(r) for r in rows]

    def all_chunks(self) -> Iterator[Chunk]:
        """Iterate every chunk, by path and line."""
        yield from self._rows_to_chunks(
            self.conn.execute(f"SELECT {_CHUNK_COLS} FROM chunks ORDER BY path, start_line")
        )

    @staticmethod
    def _rows_to_chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[Chunk]:
        for r in rows:
            yield Chunk(
                path=r[0],
                start_line=r[1],
                end_line=r[2],
                kind=r[3],
                language=r[4],
                symbol=r[5],
                header=r[6],
                content_hash=r[7],
                text=r[8],
                embed_text=r[9],
            )

    def count(self, table: str) -> int:
        """Return the row count of ``files`` or ``chunks``."""
        assert table in ("files", "chunks")
        return int(self.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])

    # -- lexical ------------------------------------------------------------------------------
    def lexical_search(self, query: str, k: int = 50) -> list[tuple[str, float]]:
        """Return ``(chunk id, bm25 score)`` best first; higher is better.

        FTS5 scores every chunk that matches any term, so terms found in thousands of chunks
        make the search cost grow with the index (81 ms a query at 112k chunks). When the
        terms' chunk counts add up to more than ``POSTINGS_BUDGET``, the most common terms are
        left out, rarest first kept: their BM25 weight (IDF) is the smallest, and the cost
        stays about flat as the repository grows (5 ms at 112k chunks). Below the budget
        (every repository of a few thousand chunks) nothing changes.
        """
        terms = sorted(set(code_tokens(query, drop_stop_words=True)))
        if not terms:
            return []
        if len(terms) > 1 and POSTINGS_BUDGET:
            freq = self.doc_freq(terms)
            if sum(freq.values()) > POSTINGS_BUDGET:
                kept: list[str] = []
                total = 0
                for t in sorted(terms, key=lambda t: (freq[t], t)):
                    if kept and total + freq[t] > POSTINGS_BUDGET:
                        break
                    kept.append(t)
                    total += freq[t]
                terms = sorted(kept)
        match = " OR ".join(f'"{t}"' for t in terms)
        rows = self.conn.execute(  # join the chunk ids to the best k only, not every match
            "SELECT c.id, -l.s FROM (SELECT rowid, bm25(lexical, 2.0, 3.0, 1.0) AS s"
            " FROM lexical WHERE lexical MATCH ? ORDER BY s, rowid LIMIT ?) l"
            " JOIN chunks c ON c.rowid = l.rowid ORDER BY l.s, l.rowid",
            (match, k),
        )
        return [(r[0], float(r[1])) for r in rows]

    def mentions(self, word: str, prefix: str | None = None) -> bool:
        """Whether an indexed chunk has ``word`` (stemmed like the index) or a ``prefix*`` token.

        A ``word`` with spaces is a phrase: its tokens side by side (``http 2`` for ``HTTP/2``).
        """
        terms = [re.sub(r"[^0-9A-Za-z_ ]", "", t).strip() for t in (word, prefix or "")]
        query = " OR ".join(
            f'"{t}"' + ("*" if i else "") for i, t in enumerate(terms) if t
        )
        if not query:
            return True
        row = self.conn.execute(
            "SELECT 1 FROM lexical WHERE lexical MATCH ? LIMIT 1", (query,)
        ).fetchone()
        return row is not None

    def doc_freq(self, terms: Iterable[str]) -> dict[str, int]:
        """Return how many chunks contain each term (stemmed like the index)."""
        out: dict[str, int] = {}
        for t in set(terms):
            row = self.conn.execute(
                "SELECT count(*) FROM lexical WHERE lexical MATCH ?", (f'"{t}"',)
            ).fetchone()
            out[t] = int(row[0])
        return out

    # -- embedding cache ----------------------------------------------------------------------
    def cached_vectors(self, model: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        """Return cached vectors for the content hashes that have one."""
        out: dict[str, np.ndarray] = {}
        hl = list(set(hashes))
        for start in range(0, len(hl), 500):
            part = hl[start : start + 500]
            marks = ",".join("?" * len(part))
            for h, blob in self.conn.execute(
                f"SELECT hash, vec FROM embeddings WHERE model=? AND hash IN ({marks})",
                [model, *part],
            ):
                out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def cache_vectors(self, model: str, items: Iterable[tuple[str, np.ndarray]]) -> None:
        """Store vectors by content hash."""
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO embeddings(model, hash, vec) VALUES (?,?,?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items],
            )

    def chunk_vectors(self, model: str) -> Iterator[tuple[str, str, bytes]]:
        """Yield ``(chunk id, path, float32 vector bytes)`` of chunks with a vector of ``model``.

        Rows come grouped by path.
        """
        yield from self.conn.execute(
            "SELECT c.id, c.path, e.vec FROM chunks c JOIN embeddings e"
            " ON e.hash = c.text_hash AND e.model = ? ORDER BY c.path",
            (model,),
        )

    def prune_cache(self, model: str) -> int:
        """Drop cached vectors no chunk uses any more; return how many."""
        cur = self.conn.execute(
            "DELETE FROM embeddings WHERE model=? AND hash NOT IN (SELECT text_hash FROM chunks)",
            (model,),
        )
        return cur.rowcount


_CHUNK_COLS = (
    "path, start_line, end_line, kind, language, symbol, header, content_hash, text, embed_text"
)


