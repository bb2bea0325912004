"""Embedding throughput on CPU/GPU: each way of embedding vs bare ``SentenceTransformer.encode``.

Every variant embeds the same chunk texts (read from an existing index's ``index.db``, as
``bench/index_bench.py`` does) in the same process, and is reported as chunks/s and as a ratio
to the bare encode (batch 32) timed in the same run, so machine load cancels out as far as it
can. Each variant runs ``--repeats`` times and keeps its best time. Times are process CPU
seconds by default (``--wall`` for wall clock): on a shared, loaded machine wall time swings by
2x between identical runs while CPU time stays within a few percent.

Usage:
    coderag index /tmp/x/rich  (with CODERAG_INDEX_DIR=/tmp/x/index), then
    python bench/embed_bench.py --index-dir /tmp/x/index [--sample 768] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

for key, value in (
    ("HF_HUB_OFFLINE", "1"),
    ("TRANSFORMERS_OFFLINE", "1"),
    ("ANONYMIZED_TELEMETRY", "False"),
    ("TOKENIZERS_PARALLELISM", "false"),
):
    os.environ.setdefault(key, value)


def load_texts(index_dir: Path, sample: int, seed: int = 20261123) -> tuple[list[str], list[str]]:
    """Return ``(embed texts, cache keys)`` of distinct chunks, in index order, sampled."""
    from app.index.stores.db import IndexDB
    from app.index.stores.forms import text_hash

    db = IndexDB(index_dir / "index.db")
    try:
        by_key: dict[str, str] = {}
        for c in db.all_chunks():
            by_key.setdefault(text_hash(c), c.embed_text)
    finally:
        db.close()
    keys = list(by_key)
    if 0 < sample < len(keys):
        picked = sorted(random.Random(seed).sample(range(len(keys)), sample))
        keys = [keys[i] for i in picked]
    return [by_key[k] for k in keys], keys


CLOCK: Callable[[], float] = time.process_time
"""What variants are timed by: process CPU seconds (default; steadier than wall time on a
machine that other jobs load) or wall seconds (``--wall``)."""


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    """Return the best time (:data:`CLOCK`) of ``repeats`` calls and the last result."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t = CLOCK()
        out = fn()
        best = min(best, CLOCK() - t)
    return best, out


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarities of two row-normalised matrices."""
    return np.asarray(np.sum(a * b, axis=1))


def bare(model: Any, texts: Sequence[str], batch: int = 32) -> np.ndarray:
    """The reference: one ``encode`` call (it sorts by length inside)."""
    return np.asarray(
        model.encode(
            list(texts),
            batch_size=batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ),
        dtype=np.float32,
    )


def per_batch_unsorted(model: Any, texts: Sequence[str], batch: int = 32) -> np.ndarray:
    """One ``encode`` call per batch in index order: no length sorting across batches."""
    return np.concatenate(
        [bare(model, texts[i : i + batch], batch) for i in range(0, len(texts), batch)]
    )


def in_windows(
    encode: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], window: int
) -> np.ndarray:
    """Call ``encode`` on consecutive windows of ``texts`` (how the indexer feeds the embedder)."""
    return np.concatenate([encode(texts[i : i + window]) for i in range(0, len(texts), window)])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--index-dir", type=Path, required=True)
    ap.add_argument("--sample", type=int, default=768, help="distinct chunks to embed (0: all)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--skip", default="", help="comma-separated variant groups to skip")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--wall", action="store_true", help="time by wall clock, not CPU time")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    global CLOCK
    if args.wall:
        CLOCK = time.perf_counter
    skip = set(filter(None, args.skip.split(",")))

    import torch
    from sentence_transformers import SentenceTransformer

    from app.index.stores.db import IndexDB
    from app.models.embedder import Embedder, resolve_model_path

    texts, keys = load_texts(args.index_dir, args.sample)
    path = resolve_model_path(args.model)
    model = SentenceTransformer(str(path))
    emb = Embedder(args.model, precision="float32")  # its own variants cast it themselves
    emb._model = model  # the same weights: only the calling path differs
    if args.threads:
        torch.set_num_threads(args.threads)
    bare(model, texts[:32])  # warm up
    threads0 = torch.get_num_threads()
    n = len(texts)
    rows: list[dict[str, Any]] = []
    ref_s, ref = best_of(args.repeats, lambda: bare(model, texts))

    def record(name: str, seconds: float, vecs: np.ndarray | None, note: str = "") -> None:
        row: dict[str, Any] = {
            "variant": name,
            "chunks_per_s": round(n / seconds, 1),
            "ratio_to_bare": round(ref_s / seconds, 3),
        }
        if vecs is not None:
            cos = cosines(vecs, ref)
            row["min_cosine_vs_bare"] = round(float(cos.min()), 6)
            row["mean_cosine_vs_bare"] = round(float(cos.mean()), 6)
        if note:
            row["note"] = note
        rows.append(row)
        print(json.dumps(row), flush=True)

    record("bare encode, batch 32 (reference)", ref_s, ref)
    s, v = best_of(args.repeats, lambda: emb.encode(texts))
    record("Embedder.encode, all texts in one call", s, v)
    if "charsort" not in skip:

        def by_chars() -> np.ndarray:
            order = sorted(range(n), key=lambda i: -len(texts[i]))
            out = np.zeros_like(ref)
            for i in range(0, n, 32):
                idx = order[i : i + 32]
                out[idx] = bare(model, [texts[j] for j in idx])
            return out

        s, v = best_of(args.repeats, by_chars)
        record("sorted by characters, encode per 32 (Embedder.encode before)", s, v)
    if "windows" not in skip:
        s, v = best_of(args.repeats, lambda: in_windows(emb.encode, texts, 256))
        record("Embedder.encode per 256 texts in index order (indexer)", s, v)
        s, v = best_of(args.repeats, lambda: per_batch_unsorted(model, texts))
        record("bare encode per 32 in index order (no sorting)", s, v)
    if "tokensort" not in skip:

        def by_tokens() -> np.ndarray:
            order = sorted(range(n), key=lambda i: -emb.count_tokens(texts[i]))
            out = np.zeros_like(ref)
            for i in range(0, n, 32):
                idx = order[i : i + 32]
                out[idx] = bare(model, [texts[j] for j in idx])
            return out

        emb._line_tokens.clear()
        s, v = best_of(1, by_tokens)
        record("sorted by token count (cold count), encode per 32", s, v)
        s, v = best_of(args.repeats, by_tokens)
        record("sorted by token count (memoised count), encode per 32", s, v)
    if "batch" not in skip:
        for b in (16, 64, 128):
            s, v = best_of(args.repeats, partial(bare, model, texts, b))
            record(f"bare encode, batch {b}", s, v)
    if "threads" not in skip:
        for t in sorted({1, 2, threads0}):
            torch.set_num_threads(t)
            t0 = time.perf_counter()
            s, v = best_of(args.repeats, lambda: bare(model, texts))
            wall = (time.perf_counter() - t0) / args.repeats
            record(f"bare encode, torch threads {t}", s, v, f"wall {n / wall:.1f} chunks/s")
        torch.set_num_threads(threads0)
    if "seqlen" not in skip:
        counts = [emb.count_tokens(t) for t in texts]
        window = int(model.max_seq_length or 256)
        over128 = sum(c > 128 for c in counts) / n
        over_window = sum(c > window for c in counts) / n
        model.max_seq_length = 128
        s, v = best_of(args.repeats, lambda: bare(model, texts))
        model.max_seq_length = window
        record(
            "bare encode, max_seq_length 128",
            s,
            v,
            f"{over128:.1%} of chunks exceed 128 tokens, {over_window:.1%} exceed {window}; "
            f"median {int(np.median(counts))} tokens",
        )
    if "onnx" not in skip:
        try:
            onnx = SentenceTransformer(str(path), backend="onnx")
            s, v = best_of(args.repeats, lambda: bare(onnx, texts))
            record("ONNX Runtime backend", s, v)
        except Exception as exc:  # not installed, or needs an export that cannot download
            rows.append(
                {"variant": "ONNX Runtime backend", "error": f"{type(exc).__name__}: {exc}"[:300]}
            )
            print(json.dumps(rows[-1]), flush=True)
    if "bf16" not in skip and model.device.type == "cpu":
        import copy

        half = copy.deepcopy(model).to(torch.bfloat16)
        s, v = best_of(args.repeats, lambda: bare(half, texts))
        record("bare encode, bfloat16 weights", s, v)
        del half
    if "int8" not in skip and model.device.type == "cpu":
        import copy

        q = torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8
        )
        s, v = best_of(args.repeats, lambda: bare(q, texts))
        record("bare encode, dynamic int8 Linear layers", s, v)
        del q
    if "cache" not in skip:
        db = IndexDB(args.index_dir / "index.db")
        try:
            model_id = db.get_meta("embed_model") or emb.model_id
            s, got = best_of(args.repeats, lambda: db.cached_vectors(model_id, keys))
        finally:
            db.close()
        vecs = np.stack([got[k] for k in keys]) if len(got) == n else None
        record("embedding cache hit (IndexDB.cached_vectors)", s, vecs, f"{len(got)}/{n} cached")

    result = {
        "model": args.model,
        "chunks": n,
        "device": str(model.device),
        "torch_threads": threads0,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "clock": "wall" if args.wall else "process CPU time",
        "bare_chunks_per_s": round(n / ref_s, 1),
        "variants": rows,
    }
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
