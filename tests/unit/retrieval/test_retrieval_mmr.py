"""Maximal marginal relevance: the greedy reordering, its fallbacks and its wiring."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from app.retrieval import mmr
from app.retrieval.catalog import ChunkMeta
from app.retrieval.models import SearchOptions
from app.retrieval.rank import Candidate
from app.retrieval.search import Searcher
from app.settings import Settings
from tests.unit.retrieval.test_retrieval_lanes import module_searcher
from tests.unit.retrieval.test_retrieval_search import BILLING


def _cand(cid: str, score: float, path: str = "a.py") -> Candidate:
    return Candidate(ChunkMeta(cid, path, 1, 2, "function", "python", None), score=score)


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def _ids(cands: list[Candidate]) -> list[str]:
    return [c.meta.id for c in cands]


def test_a_near_duplicate_drops_below_a_different_chunk():
    cands = [_cand("a", 1.0), _cand("a2", 0.95), _cand("b", 0.8)]
    vectors = {"a": _unit(1, 0), "a2": _unit(1, 0.05), "b": _unit(0, 1)}
    assert _ids(mmr.mmr_order(cands, 0.5, 10, vectors, {})) == ["a", "b", "a2"]


def test_lambda_one_keeps_the_relevance_order():
    cands = [_cand("a", 1.0), _cand("a2", 0.95), _cand("b", 0.8)]
    vectors = {"a": _unit(1, 0), "a2": _unit(1, 0), "b": _unit(0, 1)}
    assert _ids(mmr.mmr_order(cands, 1.0, 10, vectors, {})) == ["a", "a2", "b"]


def test_only_the_window_is_reordered_and_scores_are_kept():
    cands = [_cand("a", 1.0), _cand("a2", 0.9), _cand("b", 0.8), _cand("c", 0.1)]
    vectors = {"a": _unit(1, 0), "a2": _unit(1, 0), "b": _unit(0, 1), "c": _unit(0, 1)}
    out = mmr.mmr_order(cands, 0.3, 2, vectors, {})
    assert _ids(out) == ["a", "a2", "b", "c"]  # b and c lie outside the window of 2
    assert [c.score for c in out] == [1.0, 0.9, 0.8, 0.1]


def test_chunks_without_vectors_fall_back_to_token_overlap():
    cands = [_cand("a", 1.0), _cand("a2", 0.95), _cand("b", 0.8)]
    texts = {
        "a": "def save_user(store, user): store.save(user)",
        "a2": "def save_user(store, user): return store.save(user)",
        "b": "def parse_header(line): return line.partition(':')",
    }
    assert _ids(mmr.mmr_order(cands, 0.3, 10, {"a": _unit(1, 0)}, texts)) == ["a", "b", "a2"]


def test_a_lambda_outside_zero_one_is_rejected():
    with pytest.raises(ValueError, match="mmr"):
        SearchOptions(mmr=1.5)
    with pytest.raises(ValueError, match="mmr lambda"):
        mmr.mmr_order([_cand("a", 1.0)], -0.1, 10, {}, {})
    with pytest.raises(ValueError):
        Settings(mmr_lambda=2.0)


def test_jaccard_and_tokens():
    assert mmr.tokens("Foo.bar(x_1) 9") == {"foo", "bar", "x_1"}
    assert mmr.jaccard(frozenset({"a", "b"}), frozenset({"b", "c"})) == pytest.approx(1 / 3)
    assert mmr.jaccard(frozenset(), frozenset()) == 0.0


@pytest.fixture(scope="module")
def billing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    yield from module_searcher(tmp_path_factory, BILLING)


def test_the_searcher_applies_mmr_with_cached_chunk_vectors(billing):
    ids = list(billing._state().catalog.chunks)
    st = billing._state()
    vectors, texts = mmr.chunk_evidence(st.db, st.db.get_meta("embed_model"), ids)
    assert set(texts) == set(ids) and vectors and set(vectors) <= set(ids)
    assert all(abs(float(np.linalg.norm(v)) - 1) < 1e-4 for v in vectors.values())
    plain = billing.search("invoice total step", SearchOptions(k=6))
    same = billing.search("invoice total step", SearchOptions(k=6, mmr=1.0))
    diverse = billing.search("invoice total step", SearchOptions(k=6, mmr=0.2))
    assert [h.chunk_id for h in same] == [h.chunk_id for h in plain]
    assert diverse[0].chunk_id == plain[0].chunk_id

    def report_rank(hits: list) -> int:
        return [h.path for h in hits].index("billing/report.py")

    # the four near-identical invoice steps no longer all sit above the report
    assert report_rank(diverse) < report_rank(plain) == 4


def test_the_mmr_setting_reaches_default_options(billing, monkeypatch):
    assert billing.default_options().mmr is None
    monkeypatch.setattr(billing, "settings", Settings(mmr_lambda=0.6))
    assert billing.default_options().mmr == 0.6
    assert billing.default_options(mmr=0.9).mmr == 0.9
