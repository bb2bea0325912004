"""The summary of one indexing run (printed by the CLI, returned as JSON with ``--json``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class IndexReport:
    """What an indexing run saw and did, with time per phase."""

    root: str
    index_dir: str
    files: int = 0
    files_by_language: dict[str, int] = field(default_factory=dict)
    structural: int = 0
    """Files parsed with tree-sitter."""
    text_fallback: int = 0
    """Files indexed as plain text (unknown language or failed parse)."""
    syntax_errors: int = 0
    lossy_utf8: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_examples: dict[str, list[str]] = field(default_factory=dict)
    added: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    chunks: int = 0
    vectors: int = 0
    embedded: int = 0
    """Chunks embedded by the model in this run."""
    embedder: str | None = None
    """What embedded this run's chunks, e.g. ``"minilm-int8: cpu int8 (2 threads)"`` (None
    when nothing was embedded)."""
    embed_cache_hits: int = 0
    """Chunks whose vector came from the content-hash cache."""
    secrets_masked: int = 0
    """Credentials masked in the files parsed by this run (``app.index.secrets.scan``)."""
    symbols: int = 0
    graph_nodes: int = 0
    edges: dict[str, int] = field(default_factory=dict)
    calls_resolved: int = 0
    calls_unresolved: int = 0
    python_calls: str = "generic"
    """'pyflow' (points-to analysis) or 'generic' (scope/import resolution) for Python."""
    seconds: dict[str, float] = field(default_factory=dict)
    seconds_to_searchable: float | None = None
    """Seconds from the start of the run until the lexical, symbol and path lanes and the code
    graph were committed (search works from then on; dense vectors are filled in after)."""
    rebuilt: str | None = None
    """Why the index was rebuilt from scratch (schema change, corruption), if it was."""
    dense: bool = True
    """False when dense vectors were skipped (``--no-embed``)."""

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return asdict(self)
