"""ONNX Runtime on CPU for the MiniLM embedder: is it faster than torch, and are vectors equal?

Three ways to embed the same chunk texts (read from an index, as ``bench/embed_bench.py`` does)
in one process, timed in process CPU seconds (best of ``--repeats``), each against the bare
``SentenceTransformer.encode`` (torch):

* sentence-transformers' own ONNX backend (``backend="onnx"``): it needs ``optimum-onnx``,
  whose releases pin ``transformers<4.58``; the error is recorded when it does not load;
* the same BERT exported by ``torch.onnx.export`` and run by ``onnxruntime`` (already installed
  with chromadb), with the model's own mean pooling and normalisation, fp32;
* that graph with int8 dynamic quantization (``onnxruntime.quantization.quantize_dynamic``).

The export needs the ``onnx`` package, which coderag does not install:
    pip install --no-deps --target /tmp/onnxpkg onnx ml_dtypes
    PYTHONPATH=/tmp/onnxpkg python bench/onnx_bench.py --index-dir DIR [--sample 256]
Results: ``onnx.json`` and ``onnx.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def best_cpu(repeats: int, fn: Callable[[], np.ndarray]) -> tuple[float, np.ndarray]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t = time.process_time()
        out = fn()
        best = min(best, time.process_time() - t)
    assert out is not None
    return best, out


def export(model: Any, path: Path) -> None:
    """Export the transformer of ``model`` (token ids -> last hidden state) to ONNX."""
    import torch

    bert = model[0].auto_model.eval()
    enc = model.tokenizer(["def f(): return 1", "class A: pass"], padding=True, return_tensors="pt")

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "seq"} for n in [*names, "hidden"]}
    torch.onnx.export(
        Hidden(), tuple(enc[n] for n in names), str(path), input_names=names,
        output_names=["hidden"], dynamic_axes=axes, opset_version=17, dynamo=False,
    )  # fmt: skip


def ort_encoder(session: Any, tokenizer: Any, window: int) -> Callable[[list[str]], np.ndarray]:
    """Return an encode function: length-sorted batches of 32, mean pooling, L2 norm."""

    def encode(texts: list[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), 384), np.float32)
        for start in range(0, len(texts), 32):
            idx = order[start : start + 32]
            enc = tokenizer(
                [texts[j] for j in idx], padding=True, truncation=True, max_length=window,
                return_tensors="np",
            )  # fmt: skip
            feed = {k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask",
                                                         "token_type_ids")}  # fmt: skip
            hidden = session.run(None, feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            vecs = (hidden * mask).sum(1) / np.clip(mask.sum(1), 1e-9, None)
            out[idx] = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
        return out

    return encode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--sample", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--results", type=Path, default=HERE / "results")
    args = ap.parse_args()

    import onnxruntime as ort
    import torch
    from embed_bench import load_texts
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    from app.models.embedder import resolve_model_path

    texts, _ = load_texts(args.index_dir, args.sample)
    path = resolve_model_path("minilm")
    model = SentenceTransformer(str(path))
    window = int(model.max_seq_length or 256)
    threads = torch.get_num_threads()
    rows: list[dict[str, Any]] = []

    def bare() -> np.ndarray:
        return np.asarray(model.encode(texts, batch_size=32, normalize_embeddings=True))

    bare()  # warm up
    ref_s, ref = best_cpu(args.repeats, bare)
    rows.append({"variant": "torch: SentenceTransformer.encode (reference)",
                 "cpu_s": round(ref_s, 2), "ratio_to_torch": 1.0})  # fmt: skip
    try:
        SentenceTransformer(str(path), backend="onnx")
        rows.append({"variant": 'sentence-transformers backend="onnx"', "note": "loaded"})
    except Exception as exc:  # optimum-onnx missing or incompatible with this transformers
        rows.append({"variant": 'sentence-transformers backend="onnx"',
                     "error": f"{type(exc).__name__}: {exc}"[:300]})  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8 = Path(tmp) / "minilm.onnx", Path(tmp) / "minilm.int8.onnx"
        export(model, fp32)
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        for name, file in (("onnxruntime fp32 (torch.onnx.export)", fp32),
                           ("onnxruntime int8 dynamic quantization", int8)):  # fmt: skip
            session = ort.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
            encode = ort_encoder(session, model.tokenizer, window)
            encode(texts[:8])
            seconds, vecs = best_cpu(args.repeats, lambda enc=encode: enc(texts))
            cos = (vecs * ref).sum(1)
            rows.append({
                "variant": name, "cpu_s": round(seconds, 2),
                "ratio_to_torch": round(ref_s / seconds, 3),
                "min_cosine_vs_torch": round(float(cos.min()), 6),
                "mean_cosine_vs_torch": round(float(cos.mean()), 6),
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    doc = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "texts": len(texts),
        "threads": threads,
        "clock": f"process CPU seconds, best of {args.repeats}",
        "variants": rows,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "onnx.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = markdown(doc)
    (args.results / "onnx.md").write_text(md)
    print(md)


def markdown(doc: dict[str, Any]) -> str:
    """Return the table of ``onnx.json`` (also used by bench/summarize.py)."""
    lines = [
        f"# ONNX Runtime vs torch for MiniLM ({doc['texts']} chunk texts, {doc['threads']} "
        f"threads, {doc['clock']})",
        "",
        "| variant | CPU s | speed vs torch | min / mean cosine vs torch |",
        "|---|---:|---:|---|",
    ]
    for r in doc["variants"]:
        if "error" in r or "note" in r:
            lines.append(f"| {r['variant']} | - | - | {r.get('error') or r.get('note')} |")
            continue
        cos = (
            f"{r['min_cosine_vs_torch']} / {r['mean_cosine_vs_torch']}"
            if "min_cosine_vs_torch" in r
            else "1 / 1"
        )
        lines.append(f"| {r['variant']} | {r['cpu_s']} | x{r['ratio_to_torch']} | {cos} |")
    return "\n".join(lines) + "\n"

if __name__ == "__main__":
    main()
