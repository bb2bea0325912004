"""The real packaged tokenizer/model: token counts are exact, vectors normalised, offline."""

import numpy as np
import pytest

from app.index.embedder import Embedder, ModelMissingError, resolve_model_path

SAMPLES = [
    "def getUserById(user_id: int) -> User:\n    return db.query(User).get(user_id)\n",
    "  fn main() {\n\tprintln!(\"héllo wörld\");\n}\n\n\n",
    "# Título\n\nSome prose, with punctuation... and CamelCaseWords!",
    "",
    "x" * 3000,
]


@pytest.fixture(scope="module")
def embedder():
    return Embedder("minilm")


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
