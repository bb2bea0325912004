"""Plain records that flow through the indexing pipeline (walk -> parse -> chunk -> stores/graph).

Every record is a small dataclass of plain values so it can be stored as JSON in the manifest,
pickled with the graph, and compared in tests (an incremental index must equal a fresh one).
Lines are 1-based and inclusive everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SymbolKind = Literal[
    "module",
    "class",
    "interface",
    "struct",
    "enum",
    "trait",
    "type",
    "function",
    "method",
    "constant",
    "variable",
]
RefKind = Literal["call", "import", "inherit"]
ChunkKind = Literal["function", "method", "class", "module", "markdown", "config", "text"]
SkipReason = Literal[
    "ignored",
    "binary",
    "too_large",
    "minified",
    "lock_file",
    "vendored",
    "symlink_outside",
    "symlink_loop",
    "unreadable",
    "empty",
]


@dataclass(slots=True)
class SourceFile:
    """One text file the walker accepted, with its decoded content."""

    path: str
    """Path relative to the repository root, POSIX separators."""
    language: str
    """'python', 'javascript', 'typescript', 'tsx', 'go', 'java', 'rust', 'markdown', 'config',
    'text', ...; see ``app.index.languages``."""
    text: str
    """Content decoded as UTF-8 (invalid bytes replaced)."""
    sha: str
    """sha1 hex digest of the raw bytes: the manifest's change detector."""
    size: int
    """Size in bytes."""
    mtime_ns: int = 0
    """Modification time, used only as a fast pre-check before hashing."""
    lossy: bool = False
    """True when invalid UTF-8 was replaced during decoding."""


@dataclass(slots=True)
class Skip:
    """A file the walker refused, and why."""

    path: str
    reason: SkipReason
    detail: str = ""


@dataclass(slots=True)
class Symbol:
    """A definition found by tree-sitter (class, function, method, ...)."""

    qualname: str
    """Dotted, module-qualified name: ``pkg.module.Class.method``."""
    name: str
    """The bare name: ``method``."""
    kind: SymbolKind
    path: str
    start_line: int
    end_line: int
    signature: str = ""
    """The header line(s) up to the body, e.g. ``def get(self, key: str) -> int:``."""
    doc: str = ""
    """Docstring, or the comment block right before the definition."""
    parent: str | None = None
    """qualname of the enclosing symbol, or of the module for top-level definitions."""


@dataclass(slots=True)
class Reference:
    """A use of a name inside a file: a call, an import or a base class."""

    kind: RefKind
    path: str
    line: int
    scope: str
    """qualname of the innermost enclosing symbol (the module qualname at top level)."""
    target: str
    """Call: the callee expression as written (``self.save``, ``os.path.join``, ``Foo``).
    Import: the imported module or ``module.name`` (``os.path``, ``.models.User``,
    ``./util`` for JS). Inherit: the base expression (``Base``, ``mod.Base``)."""
    alias: str | None = None
    """Import only: the local name it binds (``np`` for ``import numpy as np``)."""


@dataclass(slots=True)
class ParsedFile:
    """What the parser extracted from one file."""

    path: str
    language: str
    module: str
    """Module qualname derived from the path: ``pkg/mod.py`` -> ``pkg.mod``,
    ``pkg/__init__.py`` -> ``pkg``, ``src/a/b.ts`` -> ``src.a.b``."""
    symbols: list[Symbol] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    structural: bool = True
    """False when the file fell back to plain text (unknown language or parse failure)."""
    error: str | None = None
    """Why structural parsing failed or was partial (syntax errors are still parsed)."""
    has_syntax_errors: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ParsedFile:
        """Rebuild from :meth:`to_json` output."""
        data = dict(data)
        data["symbols"] = [Symbol(**s) for s in data.get("symbols", [])]
        data["references"] = [Reference(**r) for r in data.get("references", [])]
        return cls(**data)


@dataclass(slots=True)
class Chunk:
    """A retrievable span of a file: what gets embedded and lexically indexed."""

    path: str
    start_line: int
    end_line: int
    kind: ChunkKind
    language: str
    text: str
    """The raw source lines start_line..end_line (with a repeated header for split parts,
    see ``header``)."""
    symbol: str | None = None
    """qualname of the symbol the chunk belongs to (None for module code and prose)."""
    header: str = ""
    """For a part of a split class/function: the repeated header (signature) line(s)."""
    content_hash: str = ""
    """sha1 of ``embed_text``; the embedding cache key."""
    embed_text: str = ""
    """What the embedder sees: path and symbol names, then the code."""

    @property
    def id(self) -> str:
        """Stable id, unique within a repository."""
        return f"{self.path}:{self.start_line}-{self.end_line}:{self.content_hash[:12]}"
