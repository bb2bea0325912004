"""The real packaged tokenizer/model: token counts are exact, vectors normalised, offline."""

import numpy as np
import pytest

from app.models.embedder import Embedder, resolve_model_path
from app.models.errors import ModelMissingError

SAMPLES = [
    "def getUserById(user_id: int) -> User:\n    return db.query(User).get(user_id)\n",
    '  fn main() {\n\tprintln!("héllo wörld");\n}\n\n\n',
    "# Título\n\nSome prose, with punctuation... and CamelCaseWords!",
    "",
    "x" * 3000,
]


@pytest.fixture(scope="module")
def embedder():
    return Embedder("minilm", precision="float32")


def test_line_memoised_count_equals_whole_text_count(embedder):
    for text in SAMPLES:
        assert embedder.count_tokens(text) == embedder.count_tokens_exact(text)


def test_shipped_model_is_found_and_unknown_path_fails_clearly(tmp_path):
    assert (resolve_model_path("minilm") / "config.json").exists()
    with pytest.raises(ModelMissingError, match="CODERAG_EMBED_MODEL"):
        resolve_model_path(str(tmp_path))


def test_encode_returns_normalised_rows_in_input_order(embedder):
    texts = ["short", "a much longer text about parsing source code files " * 5, "mid text"]
    vecs = embedder.encode(texts)
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    single = embedder.encode([texts[1]])[0]
    assert np.allclose(vecs[1], single, atol=1e-5)


def test_max_tokens_is_read_without_loading_the_weights():
    emb = Embedder("minilm")
    assert emb.max_tokens == 256
    assert emb._model is None


def test_auto_device_lets_sentence_transformers_pick_cuda_when_there_is_one(monkeypatch):
    import sentence_transformers

    seen: list[object] = []

    class Recorder:
        device = "cuda:0"

        def __init__(self, path: str, device: object = None):
            seen.append(device)

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", Recorder)
    assert Embedder("minilm", device="auto").model.device == "cuda:0"
    Embedder("minilm", device="cpu").model  # noqa: B018 - loading is the point
    assert seen == [None, "cpu"]  # None: get_device_name() picks cuda, then mps, then cpu


def test_packaged_names_have_stable_model_ids():
    assert Embedder("minilm").model_id == "minilm"
    assert Embedder("all-MiniLM-L6-v2").model_id == "minilm"
    assert Embedder(str(resolve_model_path("minilm"))).model_id != "minilm"


class SpyModel:
    """Stands in for the SentenceTransformer: records batches, returns one-hot-ish rows."""

    max_seq_length = 256

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def encode(self, texts: list[str], **_: object) -> np.ndarray:
        self.batches.append(list(texts))
        rows = np.zeros((len(texts), 384), dtype=np.float32)
        for r, t in enumerate(texts):
            rows[r, len(t) % 384] = 1.0
        return rows


def test_batches_group_texts_by_token_count_not_characters():
    emb = Embedder("minilm", batch_size=2)
    spy = SpyModel()
    emb._model = spy
    texts = [
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "a = (b, c); d[e] = {f: g}",
        "x",
        "if (a) { b(); } else { c(); }",
    ]
    tokens = [emb.count_tokens(t) for t in texts]
    chars = [len(t) for t in texts]
    assert sorted(range(4), key=lambda i: -tokens[i]) != sorted(range(4), key=lambda i: -chars[i])
    vecs = emb.encode(texts)
    assert [len(b) for b in spy.batches] == [2, 2]
    flat = [t for b in spy.batches for t in b]
    assert [emb.count_tokens(t) for t in flat] == sorted(tokens, reverse=True)
    for i, t in enumerate(texts):  # rows come back in input order
        assert vecs[i, len(t) % 384] == 1.0


def test_non_wordpiece_tokenizers_count_the_text_whole(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator(["def f(x):\n    return x\n"] * 20, trainer)
    tok.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "config.json").write_text("{}")
    emb = Embedder(str(tmp_path))
    text = "def f(x):\n\n    return x\n"
    whole = len(tok.encode(text).ids)
    per_line = sum(len(tok.encode(ln).ids) for ln in text.split("\n"))
    assert whole != per_line  # byte-level BPE keeps newlines: per-line sums would be wrong
    assert emb.count_tokens(text) == whole
