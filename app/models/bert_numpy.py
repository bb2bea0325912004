"""A BERT sentence encoder in NumPy: query embeddings without importing torch.

``coderag search`` embeds one short query per process; importing torch and building a
``SentenceTransformer`` for that costs seconds, the forward pass itself milliseconds. This
module runs the same forward pass (BERT encoder, mean pooling, L2 normalisation) on the
model's own ``model.safetensors`` with NumPy and ``tokenizers``, in float32, so its vectors
match sentence-transformers' to about 1e-6 (a test checks 1e-4 against the real model).

Only plain BERT models with absolute positions and mean pooling qualify (the packaged MiniLM
does); :func:`supports` says so, and the :class:`~app.models.embedder.Embedder` falls back to
torch for anything else. Documents are still embedded by torch in batches, where it is fast.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

WEIGHTS = "model.safetensors"
_LOCK = threading.Lock()


def _config(path: Path) -> dict[str, Any] | None:
    try:
        config: dict[str, Any] = json.loads((path / "config.json").read_text())
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return None
    if not pooling.get("pooling_mode_mean_tokens") or any(
        pooling.get(k)
        for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                  "pooling_mode_mean_sqrt_len_tokens")  # fmt: skip
    ):
        return None
    return config


def supports(path: Path) -> bool:
    """Whether the sentence-transformers model at ``path`` can run here (BERT, mean pooling)."""
    config = _config(path)
    return bool(
        config
        and config.get("model_type") == "bert"
        and config.get("hidden_act") == "gelu"
        and config.get("position_embedding_type", "absolute") == "absolute"
        and (path / WEIGHTS).exists()
        and (path / "tokenizer.json").exists()
    )


def _erf(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """erf, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7): NumPy has none."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (
        -1.453152027 + t * 1.061405429))))  # fmt: skip
    return (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)


def _gelu(x: NDArray[np.float32]) -> NDArray[np.float32]:
    return (0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))).astype(np.float32)


def _layer_norm(x: NDArray[np.float32], w: NDArray[np.float32], b: NDArray[np.float32],
                eps: float) -> NDArray[np.float32]:  # fmt: skip
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return ((x - mean) / np.sqrt(var + eps) * w + b).astype(np.float32)


class NumpyBert:
    """Mean-pooled, normalised BERT sentence vectors from NumPy (weights load on first use)."""

    def __init__(self, path: Path, max_tokens: int = 256) -> None:
        """Read the model at ``path``; texts are cut to ``max_tokens`` tokens like the model's."""
        config = _config(path)
        if config is None or not supports(path):
            raise ValueError(f"{path} is not a BERT mean-pooling sentence model")
        self.path = path
        self.max_tokens = max_tokens
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self._w: dict[str, NDArray[np.float32]] | None = None
        self._tokenizer: Any = None

    def _load(self) -> tuple[dict[str, NDArray[np.float32]], Any]:
        if self._w is None:
            with _LOCK:
                if self._w is None:
                    from safetensors.numpy import load_file
                    from tokenizers import Tokenizer

                    tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
                    tok.no_padding()
                    tok.enable_truncation(self.max_tokens)
                    raw = load_file(str(self.path / WEIGHTS))
                    weights = {
                        k.removeprefix("bert."): v.astype(np.float32, copy=False)
                        for k, v in raw.items()
                        if v.dtype.kind == "f"
                    }
                    # Linear layers as (in, out): x @ W without a transpose per call.
                    for k in list(weights):
                        if k.endswith(".weight") and weights[k].ndim == 2 and ".layer." in k:
                            weights[k] = np.ascontiguousarray(weights[k].T)
                    self._tokenizer = tok
                    self._w = weights
        assert self._w is not None
        return self._w, self._tokenizer

    def encode(self, texts: list[str]) -> NDArray[np.float32]:
        """Return one L2-normalised float32 row per text (each text runs alone: no padding)."""
        w, tok = self._load()
        out = np.zeros((len(texts), w["embeddings.word_embeddings.weight"].shape[1]), np.float32)
        for i, enc in enumerate(tok.encode_batch(texts)):
            out[i] = self._forward(w, np.asarray(enc.ids), np.asarray(enc.type_ids))
        return out

    def _forward(self, w: dict[str, NDArray[np.float32]], ids: NDArray[Any],
                 types: NDArray[Any]) -> NDArray[np.float32]:  # fmt: skip
        n = len(ids)
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                        self.eps)  # fmt: skip
        dim = x.shape[1]
        head = dim // self.heads
        scale = np.float32(1.0 / np.sqrt(head))
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def lin(v: NDArray[np.float32], name: str, p: str = p) -> NDArray[np.float32]:
                return v @ w[p + name + ".weight"] + w[p + name + ".bias"]

            q = lin(x, "attention.self.query").reshape(n, self.heads, head).transpose(1, 0, 2)
            k = lin(x, "attention.self.key").reshape(n, self.heads, head).transpose(1, 2, 0)
            v = lin(x, "attention.self.value").reshape(n, self.heads, head).transpose(1, 0, 2)
            scores = (q @ k) * scale
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            ctx = (scores @ v).transpose(1, 0, 2).reshape(n, dim)
            x = _layer_norm(
                lin(ctx, "attention.output.dense") + x,
                w[p + "attention.output.LayerNorm.weight"],
                w[p + "attention.output.LayerNorm.bias"],
                self.eps,
            )
            hidden = _gelu(lin(x, "intermediate.dense"))
            x = _layer_norm(
                lin(hidden, "output.dense") + x,
                w[p + "output.LayerNorm.weight"],
                w[p + "output.LayerNorm.bias"],
                self.eps,
            )
        pooled = x.mean(0)
        norm = float(np.linalg.norm(pooled))
        return (pooled / max(norm, 1e-12)).astype(np.float32)
