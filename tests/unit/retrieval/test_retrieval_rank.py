"""Fusion, graph expansion, the PageRank prior, features, the feature reranker and diversify."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest

from app.retrieval.catalog import Catalog, ChunkMeta, file_flags
from app.retrieval.expand import apply_prior, expand, neighbours
from app.retrieval.lanes import LaneResult, symbol_lane
from app.retrieval.query import analyse
from app.retrieval.rank import (
    DEFAULT_WEIGHTS,
    Candidate,
    compute_features,
    diversify,
    feature_score,
    fuse,
)
from app.retrieval.rerankers import FeatureReranker, FusionOrder
from app.retrieval.search import Searcher
from tests.unit.retrieval.test_retrieval_lanes import REPO, STORE_SPLIT, chunk_of, module_searcher

Row = tuple[str, str, int, int, str, str, str | None]


class RowsDB:
    """Just enough of IndexDB for a Catalog: the chunk rows."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows

    def chunk_rows(self) -> list[Row]:
        return self.rows


def catalog(*rows: Row) -> Catalog:
    db: Any = RowsDB(list(rows))
    return Catalog(db, None)


def row(path: str, start: int, symbol: str | None = None, kind: str = "function") -> Row:
    return (f"{path}:{start}", path, start, start + 3, kind, "python", symbol)


def no_texts(ids: Any) -> dict[str, str]:
    return {}


@pytest.fixture(scope="module")
def shared_searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    yield from module_searcher(tmp_path_factory, REPO, chunk_max_tokens=STORE_SPLIT)


# ----------------------------------------------------------------------------------- fusion
def test_fuse_is_weighted_reciprocal_rank_arithmetic():
    cat = catalog(row("a.py", 1), row("b.py", 1), row("c.py", 1))
    lanes = {
        "lexical": LaneResult([("a.py:1", 9.0), ("b.py:1", 5.0)]),
        "dense": LaneResult([("b.py:1", 0.8), ("c.py:1", 0.7), ("a.py:1", 0.1)]),
    }
    cands = fuse(lanes, cat, {"lexical": 2.0, "dense": 0.5}, rrf_k=10)
    assert cands["a.py:1"].fused == pytest.approx(2.0 / 11 + 0.5 / 13)
    assert cands["b.py:1"].fused == pytest.approx(2.0 / 12 + 0.5 / 11)
    assert cands["c.py:1"].fused == pytest.approx(0.5 / 12)
    assert cands["a.py:1"].ranks == {"lexical": 1, "dense": 3}
    assert cands["b.py:1"].ranks == {"lexical": 2, "dense": 1}
    assert cands["c.py:1"].ranks == {"dense": 2}
    assert cands["b.py:1"].scores == {"lexical": 5.0, "dense": 0.8}


def test_fuse_default_weight_is_one_and_unknown_chunks_are_skipped():
    cat = catalog(row("a.py", 1))
    lanes = {"path": LaneResult([("gone.py:1", 3.0), ("a.py:1", 1.0)])}
    cands = fuse(lanes, cat, {}, rrf_k=60)
    assert list(cands) == ["a.py:1"]
    rank = cands["a.py:1"].ranks["path"]
    assert cands["a.py:1"].fused == pytest.approx(1.0 / (60 + rank))


# -------------------------------------------------------------------- expansion and prior
def test_expand_adds_the_callers_definition_marked_as_graph(shared_searcher):
    st = shared_searcher._state()
    q = analyse("check_email")
    pool = fuse({"symbol": symbol_lane(st.catalog, q, 10)}, st.catalog, {"symbol": 1.0})
    seed = chunk_of(shared_searcher, "store.users.check_email").id
    assert list(pool) == [seed]
    expand(pool, st.catalog, st.graph, share=0.5)
    caller = pool[chunk_of(shared_searcher, "store.users.save_user").id]
    assert caller.expanded and caller.ranks == {"graph": 1}
    assert caller.fused == pytest.approx(0.5 * pool[seed].fused)
    assert not pool[seed].expanded and "graph" not in pool[seed].ranks


def test_expand_adds_callees_and_keeps_lane_hits_unexpanded(shared_searcher):
    st = shared_searcher._state()
    q = analyse("save_user")
    pool = fuse({"symbol": symbol_lane(st.catalog, q, 10)}, st.catalog, {"symbol": 1.0})
    expand(pool, st.catalog, st.graph)
    by_symbol = {c.meta.symbol: c for c in pool.values()}
    # callees (check_email, Store.save) and callers (register, import_users) come in
    for qual in (
        "store.users.check_email",
        "store.users.Store.save",
        "api.handlers.register",
        "api.handlers.import_users",
    ):
        assert by_symbol[qual].expanded and "graph" in by_symbol[qual].ranks
    assert not by_symbol["store.users.save_user"].expanded
    graph_ranks = sorted(c.ranks["graph"] for c in pool.values() if c.expanded)
    assert graph_ranks == list(range(1, len(graph_ranks) + 1))


def test_neighbours_of_unknown_symbol_is_empty(shared_searcher):
    assert neighbours(shared_searcher._state().graph, "no.such.symbol", 5) == []


def test_apply_prior_sets_priors_in_unit_interval(shared_searcher):
    st = shared_searcher._state()
    q = analyse("save_user")
    pool = fuse({"symbol": symbol_lane(st.catalog, q, 10)}, st.catalog, {"symbol": 1.0})
    expand(pool, st.catalog, st.graph)
    apply_prior(pool, st.graph)
    priors = [c.prior for c in pool.values()]
    assert all(0.0 <= p <= 1.0 for p in priors)
    assert max(priors) == pytest.approx(1.0)
    assert len(set(priors)) > 1


def test_apply_prior_without_symbols_leaves_zero():
    cat = catalog(row("README.md", 1, None, kind="markdown"))
    pool = fuse({"lexical": LaneResult([("README.md:1", 1.0)])}, cat, {})

    class NoGraph:
        def pagerank(self, *a: Any, **k: Any) -> dict[str, float]:
            raise AssertionError("no seeds: PageRank must not run")

    graph: Any = NoGraph()
    apply_prior(pool, graph)
    assert pool["README.md:1"].prior == 0.0


# ----------------------------------------------------------------------------------- features
def test_compute_features_inputs():
    cat = catalog(row("pkg/a.py", 1, "pkg.a.parse_config"), row("tests/test_a.py", 1, "t.x"))
    lanes = {
        "lexical": LaneResult([("pkg/a.py:1", 2.0), ("tests/test_a.py:1", 1.0)]),
        "dense": LaneResult([("tests/test_a.py:1", 0.5), ("pkg/a.py:1", 0.25)]),
    }
    pool = fuse(lanes, cat, {})
    cands = list(pool.values())
    compute_features(cands, analyse("parse config"), cat, {"pkg/a.py": 2.0})
    src, test = pool["pkg/a.py:1"].features, pool["tests/test_a.py:1"].features
    assert src["lexical_rr"] == 1.0 and test["lexical_rr"] == 0.5
    assert src["dense_rr"] == 0.5 and test["dense_rr"] == 1.0
    assert src["dense_sim"] == 0.5 and test["dense_sim"] == 1.0
    assert src["path"] == 1.0 and test["path"] == 0.0
    assert src["name_overlap"] == 1.0  # parse_config names both query words
    assert src["rrf"] == 1.0 or test["rrf"] == 1.0
    assert (src["test"], test["test"]) == (0.0, 1.0)
    assert src["code"] == 1.0


def test_feature_score_is_log_linear_and_damped_by_penalties():
    w = {"rrf": 2.0, "code": 1.0, "test": 0.5, "prior": -1.0}
    assert feature_score({"rrf": 0.5, "code": 1.0}, w) == pytest.approx(math.exp(2.0))
    assert feature_score({"rrf": 0.5, "code": 1.0, "test": 1.0}, w) == pytest.approx(
        math.exp(2.0) * math.exp(-0.5)
    )
    assert feature_score({"unknown": 5.0}, w) == 1.0
    # a negative linear part still gives a positive score, still damped by penalties
    low = feature_score({"prior": 1.0}, w)
    assert 0 < feature_score({"prior": 1.0, "test": 1.0}, w) < low < 1.0


@pytest.mark.parametrize(
    ("path", "flag"),
    [
        ("tests/test_x.py", "test"),
        ("pkg/test_x.py", "test"),
        ("src/app.spec.ts", "test"),
        ("examples/demo.py", "example"),
        ("pkg/__init__.py", "reexport"),
        ("types/index.d.ts", "stub"),
        ("pkg/legacy/old.py", "compat"),
        ("index.d.cts", "stub"),
        ("History.md", "example"),
        ("CHANGELOG.md", "example"),
        ("docs/changes.rst", "example"),
    ],
)
def test_file_flags(path, flag):
    flags = file_flags(path)
    assert getattr(flags, flag)
    assert not file_flags("pkg/parser.py").test
    assert not file_flags("src/history.py").example  # code named like release notes is code


def test_feature_reranker_demotes_a_test_file_with_the_same_evidence():
    cat = catalog(row("pkg/x.py", 1, "pkg.x.load"), row("tests/test_x.py", 1, "tests.x.load"))
    src, test = (
        Candidate(cat.chunks[cid], ranks={"lexical": 1}, scores={"lexical": 1.0}, fused=0.1)
        for cid in ("pkg/x.py:1", "tests/test_x.py:1")
    )
    q = analyse("load data")
    compute_features([src, test], q, cat, {})
    assert {k: v for k, v in src.features.items() if k != "test"} == {
        k: v for k, v in test.features.items() if k != "test"
    }
    FeatureReranker().rerank(q, [src, test], no_texts)
    assert src.score > 0
    assert test.score == pytest.approx(src.score * math.exp(-DEFAULT_WEIGHTS["test"]))


def test_feature_reranker_puts_the_definition_above_a_usage(shared_searcher):
    st = shared_searcher._state()
    q = analyse("save_user")
    lanes = {"lexical": LaneResult(st.db.lexical_search(q.text, 50))}
    cands = list(fuse(lanes, st.catalog, {}).values())
    definition = chunk_of(shared_searcher, "store.users.save_user").id
    caller = chunk_of(shared_searcher, "api.handlers.register").id
    compute_features(cands, q, st.catalog, {})
    by_id = {c.meta.id: c for c in cands}
    assert by_id[definition].features["def_exact_sym"] == 1.0
    assert by_id[caller].features["def_exact_sym"] == 0.0
    FeatureReranker().rerank(q, cands, no_texts)
    assert by_id[definition].score > by_id[caller].score
    best = max(cands, key=lambda c: c.score)
    assert best.meta.id == definition


def test_feature_reranker_takes_custom_weights():
    cat = catalog(row("a.py", 1, "a.f"))
    (c,) = fuse({"lexical": LaneResult([("a.py:1", 1.0)])}, cat, {}).values()
    compute_features([c], analyse("thing"), cat, {})
    FeatureReranker({"code": 3.0}).rerank(analyse("thing"), [c], no_texts)
    assert c.score == pytest.approx(math.exp(3.0))


def test_fusion_order_scores_by_fused_alone():
    cat = catalog(row("a.py", 1))
    (c,) = fuse({"lexical": LaneResult([("a.py:1", 1.0)])}, cat, {}).values()
    c.prior = 1.0  # the prior is a reranker feature, not part of the fusion order
    FusionOrder().rerank(analyse("x"), [c], no_texts)
    assert c.score == pytest.approx(c.fused) and c.score > 0


# ---------------------------------------------------------------------------------- diversify
def _cand(path: str, start: int, score: float) -> Candidate:
    meta = ChunkMeta(f"{path}:{start}", path, start, start + 1, "function", "python", None)
    return Candidate(meta, score=score)


def test_diversify_pushes_a_files_second_chunk_below_another_files_first():
    a1, a2, b1 = _cand("a.py", 1, 1.0), _cand("a.py", 5, 0.9), _cand("b.py", 1, 0.5)
    order = diversify([a2, b1, a1], decay=0.3)
    assert [c.meta.id for c in order] == ["a.py:1", "b.py:1", "a.py:5"]
    assert a2.score == pytest.approx(0.27)
    assert a1.score == 1.0 and b1.score == 0.5


def test_a_file_backed_by_several_strong_chunks_outranks_one_lucky_chunk():
    """file_support: b.py answers with three strong chunks, a.py with one slightly better."""
    cands = [_cand("a.py", 1, 1.0), _cand("a.py", 9, 0.2),
             _cand("b.py", 1, 0.9), _cand("b.py", 5, 0.8), _cand("b.py", 9, 0.5)]  # fmt: skip
    plain = diversify([_cand(c.meta.path, c.meta.start_line, c.score) for c in cands], 0.0)
    assert [c.meta.id for c in plain][:2] == ["a.py:1", "b.py:1"]
    order = diversify(cands, decay=0.0, support=0.5)
    assert [c.meta.id for c in order][:2] == ["b.py:1", "a.py:1"]
    assert order[0].score == pytest.approx(0.9 * (1 + 0.5 * math.log(3)))  # all >= half of 0.9
    assert order[1].score == 1.0  # a.py's 0.2 chunk is not support
    assert order[0].features == {"file_chunks": 3.0} and order[1].features == {}


def test_a_central_file_can_lift_its_rank_for_how_it_works_questions():
    cands = [_cand("util.py", 1, 1.0), _cand("core.py", 1, 0.9)]
    order = diversify(cands, decay=0.0, central={"core.py": 0.25, "util.py": 0.0})
    assert [c.meta.path for c in order] == ["core.py", "util.py"]
    assert order[0].score == pytest.approx(0.9 * 1.25)


def test_file_centrality_is_each_files_share_of_pagerank(tmp_path):
    from tests.unit.retrieval.test_retrieval_lanes import REPO, make_searcher

    searcher = make_searcher(tmp_path, REPO)
    st = searcher._state()
    central = st.catalog.file_centrality(st.graph)
    assert max(central.values()) == 1.0 and min(central.values()) >= 0.0
    assert set(central) <= set(st.catalog.by_path)
    ranks = st.graph.pagerank()
    top = max(central, key=lambda p: central[p])
    sums = {p: sum(r for q, r in ranks.items() if st.catalog.defs.get(q) and
                   st.catalog.defs[q].path == p) for p in central}  # fmt: skip
    assert top == max(sums, key=lambda p: sums[p])
    searcher.reload()


def test_old_version_folders_beside_a_newer_one_are_compat_copies():
    from app.retrieval.catalog import superseded

    paths = ["api/v3/client.py", "api/v4/client.py", "api/v4/auth/token.py", "v1/a.go",
             "v2/a.go", "lib/v8/only.js", "vendor_list.py"]  # fmt: skip
    assert superseded(paths) == {"api/v3/client.py", "v1/a.go"}
    assert file_flags("api/v3/client.py", superseded=True).compat
    assert not file_flags("api/v4/client.py").compat


def test_the_copy_the_repository_imports_is_the_current_one(tmp_path):
    """api/v2 is what the code imports; api/v3 is a newer copy nobody uses yet: v3 ranks as
    the compat copy (imports from the real code graph)."""
    from tests.unit.retrieval.test_retrieval_lanes import make_searcher

    client = "def get(url):\n    return fetch(url)\n\n\ndef fetch(url):\n    return url\n"
    files = {
        "app.py": "from api.v2.client import get\n\n\ndef main():\n    return get('/')\n",
        "jobs.py": "from api.v2 import client\n\n\ndef run():\n    return client.get('/x')\n",
        "api/__init__.py": "",
        "api/v2/__init__.py": "",
        "api/v2/client.py": client,
        "api/v3/__init__.py": "",
        "api/v3/client.py": client,
    }
    searcher = make_searcher(tmp_path, files)
    cat = searcher._state().catalog
    assert cat.flags["api/v3/client.py"].compat and not cat.flags["api/v2/client.py"].compat
    hits = [h.path for h in searcher.search("get a url with the client")]
    assert hits.index("api/v2/client.py") < hits.index("api/v3/client.py")
    searcher.reload()


def test_diversify_third_chunk_gets_decay_squared_and_no_decay_keeps_order():
    cands = [_cand("a.py", i, 1.0 - i / 10) for i in range(3)]
    order = diversify(cands, decay=0.5)
    assert [c.score for c in order] == pytest.approx([1.0, 0.45, 0.2])
    same = [_cand("a.py", 1, 0.9), _cand("b.py", 1, 0.8), _cand("a.py", 2, 0.7)]
    assert [c.meta.id for c in diversify(same, decay=1.0)] == ["a.py:1", "b.py:1", "a.py:2"]
