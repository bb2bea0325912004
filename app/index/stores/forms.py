"""What a parsed file becomes in the index database: manifest rows, JSON texts, lexical fields.

Pure functions of the parse, with no database: the parse workers compute them on every core and
the indexer only writes them (see :mod:`app.index.stores.db`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.index.records import Chunk, ParsedFile
from app.index.tokens import code_tokens


@dataclass(slots=True)
class FileRow:
    """A manifest row: what the index knows about one file."""

    path: str
    sha: str
    size: int
    mtime_ns: int
    language: str
    structural: bool
    lossy: bool


def text_hash(chunk: Chunk) -> str:
    """Return the embedding-cache key of ``chunk``: a hash of its code alone.

    The vector is computed from the enriched ``embed_text`` the first time a piece of code is
    seen; moved, renamed or duplicated code reuses it instead of being embedded again.
    """
    return hashlib.sha1(chunk.text.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredForms:
    """A parsed file as the database stores it: JSON texts and each chunk's lexical fields."""

    parsed_json: str
    pyfacts_json: str | None
    lexical: list[tuple[str, str, str]]

    @classmethod
    def of(
        cls, parsed: ParsedFile, chunks: Sequence[Chunk], pyfacts: dict[str, Any] | None
    ) -> StoredForms:
        """Serialise ``parsed`` and ``pyfacts`` and tokenise ``chunks`` for the FTS index."""
        return cls(
            json.dumps(parsed.to_json()),
            json.dumps(pyfacts) if pyfacts is not None else None,
            [lexical_fields(c) for c in chunks],
        )


def lexical_fields(chunk: Chunk) -> tuple[str, str, str]:
    """Return the (path, symbol, body) token strings indexed for ``chunk``."""
    body = chunk.text
    return (
        " ".join(code_tokens(chunk.path)),
        " ".join(code_tokens(chunk.symbol or "")),
        " ".join(code_tokens(body)),
    )
