"""Query vectors without torch: the NumPy BERT equals the real sentence-transformers model."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from app.models import bert_numpy
from app.models.embedder import Embedder, resolve_model_path

QUERIES = [
    "how does a session handle redirects?",
    "def merge_setting(request_setting, session_setting):",
    "x",
    "Título: héllo wörld, CamelCaseWords!",
    "token " * 400,  # past the 256-token window: cut like the model cuts it
]


@pytest.fixture(scope="module")
def minilm():
    return resolve_model_path("minilm")


def test_numpy_vectors_equal_sentence_transformers_to_1e_4(minilm):
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(str(minilm), device="cpu").encode(
        QUERIES, normalize_embeddings=True, convert_to_numpy=True
    )
    ours = bert_numpy.NumpyBert(minilm, max_tokens=256).encode(QUERIES)
    assert ours.shape == reference.shape and ours.dtype == np.float32
    assert np.abs(ours - reference).max() < 1e-4
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


def test_the_embedder_embeds_queries_without_torch(minilm):
    """A fresh interpreter: one query embedded, and torch was never imported."""
    code = (
        "import sys, json\n"
        "from app.models.embedder import Embedder\n"
        "v = Embedder('minilm').encode_query('where are retries configured')\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'norm': float((v*v).sum())}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"torch": False, "norm": pytest.approx(1.0, abs=1e-5)}


def test_query_and_document_paths_agree(minilm):
    emb = Embedder("minilm", precision="float32")
    text = "compute the shortest path between two nodes"
    assert np.abs(emb.encode_query(text) - emb.encode([text])[0]).max() < 1e-4


def test_models_it_cannot_run_fall_back_to_torch(tmp_path, minilm):
    other = tmp_path / "cls-pooled"
    shutil.copytree(minilm, other)
    pooling = other / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    pooling.write_text(json.dumps(config | {"pooling_mode_mean_tokens": False,
                                            "pooling_mode_cls_token": True}))  # fmt: skip
    assert bert_numpy.supports(minilm)
    assert not bert_numpy.supports(other)
    with pytest.raises(ValueError, match="not a BERT mean-pooling"):
        bert_numpy.NumpyBert(other)
    emb = Embedder(str(other))
    vec = emb.encode_query("hello")
    assert emb._numpy is False and emb._model is not None  # torch ran it
    assert vec.shape == (384,)


def test_the_int8_variant_is_its_own_model_with_close_vectors():
    """Another model id (its own vectors, cache and collection), quantized linear layers, and
    vectors near float32's: per-channel int8 keeps cosine above 0.95 on code."""
    fp32, int8 = Embedder("minilm", precision="float32"), Embedder("minilm-int8")
    assert int8.model_id == "minilm-int8" and int8.int8 and not fp32.int8
    assert int8.path == fp32.path
    texts = ["def save_user(db, user):\n    db.insert(user)\n    return user.id\n",
             "Retries are configured by the adapter's max_retries."]  # fmt: skip
    a, b = fp32.encode(texts), int8.encode(texts)
    assert (a * b).sum(axis=1).min() > 0.95
    assert "int8" in int8.runs_on and "float32" in fp32.runs_on
    assert any("quantized.dynamic" in type(m).__module__ for m in int8.model.modules())


def test_bfloat16_documents_share_the_float32_model():
    """bfloat16 is a precision, not another model: same id, same vectors to ~1e-3, unit length
    in float32; 'auto' picks it only where the CPU computes in bfloat16."""
    from app.models.embedder import native_bf16_cpu

    fp32 = Embedder("minilm", precision="float32")
    bf16 = Embedder("minilm", precision="bfloat16")
    assert bf16.model_id == fp32.model_id == "minilm"
    texts = ["def save_user(db, user):\n    db.insert(user)\n", "retry with backoff " * 30]
    a, b = fp32.encode(texts), bf16.encode(texts)
    assert (a * b).sum(axis=1).min() > 0.995
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-6)
    assert "bfloat16" in bf16.runs_on and "float32" in fp32.runs_on
    auto = Embedder("minilm")
    assert auto.bfloat16("cpu") == native_bf16_cpu()
    assert not Embedder("minilm-int8").bfloat16("cpu")
    with pytest.raises(ValueError, match="embed precision 'half'"):
        Embedder("minilm", precision="half")
