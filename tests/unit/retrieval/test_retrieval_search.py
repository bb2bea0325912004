"""The Searcher on small indexes built with the fake embedder (and a real CrossEncoder)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.retrieval.models import Hit, SearchOptions
from app.retrieval.rerankers import CrossEncoderMissingError, CrossEncoderReranker
from app.retrieval.search import Searcher
from app.services import IndexMissingError, Services
from app.settings import Settings
from tests.unit.retrieval.test_retrieval_lanes import (
    REPO,
    STORE_SPLIT,
    make_searcher,
    module_searcher,
)

CONTRACT = {"path": str, "start_line": int, "end_line": int, "score": float, "lanes": list}

BILLING: dict[str, str | bytes] = {
    "billing/invoice.py": "".join(
        f"def invoice_step_{i}(invoice):\n"
        f'    """Invoice step {i}: update the invoice total."""\n'
        f"    invoice.total += {i}\n    return invoice\n\n\n"
        for i in range(4)
    ),
    "billing/report.py": (
        "def monthly_report(rows):\n"
        '    """Sum each invoice of the month."""\n'
        "    return sum(r.amount for r in rows)\n"
    ),
    "mail/send.py": (
        "def send_reminder(user):\n"
        '    """Email a reminder about an unpaid invoice."""\n'
        "    return user.email\n"
    ),
    "pkg/parse.py": (
        "def parse_header(line):\n"
        '    """Split a header line at the colon."""\n'
        "    key, _, value = line.partition(':')\n    return key.strip(), value.strip()\n"
    ),
    "tests/test_parse.py": (
        "def parse_header(line):\n"
        '    """Split a header line at the colon."""\n'
        "    key, _, value = line.partition(':')\n    return key.strip(), value.strip()\n"
    ),
}


@pytest.fixture(scope="module")
def shared_searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    yield from module_searcher(tmp_path_factory, REPO, chunk_max_tokens=STORE_SPLIT)


@pytest.fixture(scope="module")
def billing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    yield from module_searcher(tmp_path_factory, BILLING)


def sibling(searcher: Searcher, **settings: Any) -> Searcher:
    """A Searcher over the same index with other settings."""
    s = searcher.services
    merged: dict[str, Any] = {"index_dir": s.layout.dir, **settings}
    services = Services(s.root, Settings(**merged))
    services.embedder = s.embedder
    return Searcher(services)


# ------------------------------------------------------------------------------ the contract
def test_hits_follow_the_json_contract(shared_searcher):
    hits = shared_searcher.search("save_user")
    assert hits and all(isinstance(h, Hit) for h in hits)
    for h in hits:
        rec = h.to_json()
        assert set(rec) == {"path", "start_line", "end_line", "symbol", "score", "lanes"}
        for key, typ in CONTRACT.items():
            assert isinstance(rec[key], typ), key
        assert rec["symbol"] is None or isinstance(rec["symbol"], str)
        assert all(isinstance(lane, str) for lane in rec["lanes"])
        assert rec["lanes"] == sorted(h.lanes)
        assert h.lanes and all(rank >= 1 for rank in h.lanes.values())  # who found it, where
        assert 1 <= rec["start_line"] <= rec["end_line"]
        assert rec["path"] in REPO  # relative to the repository root
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_symbol_query_puts_the_definition_first(shared_searcher):
    (top, *rest) = shared_searcher.search("save_user", SearchOptions(k=5))
    assert (top.path, top.symbol) == ("store/users.py", "store.users.save_user")
    assert {"lexical", "symbol"} <= set(top.lanes)
    assert top.features["def_exact_sym"] == 1.0
    assert {"api.handlers.register", "api.handlers.import_users"} & {h.symbol for h in rest}


def test_normalised_and_misspelt_identifiers_find_their_definition(shared_searcher):
    assert shared_searcher.search("get_user")[0].symbol == "web.client.getUser"
    assert shared_searcher.search("chek_email")[0].symbol == "store.users.check_email"


def test_qualified_query_finds_the_method(shared_searcher):
    assert shared_searcher.search("Store.save")[0].symbol == "store.users.Store.save"


def test_qualified_query_finds_a_method_inside_a_small_class_chunk(tmp_path):
    searcher = make_searcher(tmp_path, REPO)  # default chunk size: Store is one chunk
    store = searcher._state().catalog.by_symbol["store.users.Store"][0]
    assert store.end_line >= 10  # the class chunk holds Store.save
    top = searcher.search("Store.save")[0]
    assert (top.path, top.start_line) == ("store/users.py", store.start_line)


def test_question_finds_the_file_named_by_it(shared_searcher):
    # the fake embedder's dense ranking is noise, so leave it out
    options = SearchOptions(k=3, lanes=("lexical", "symbol", "path"))
    top = shared_searcher.search("token authentication", options)
    assert top[0].path == "auth/tokens.py" and top[0].features["path"] == 1.0


def test_k_is_respected(shared_searcher):
    for k in (1, 3):
        assert len(shared_searcher.search("save user", SearchOptions(k=k))) == k
    everything = shared_searcher.search("save user", SearchOptions(k=1000))
    assert 3 < len(everything) <= len(shared_searcher._state().catalog.chunks)


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query_returns_nothing(shared_searcher, query):
    assert shared_searcher.search(query) == []


def test_lanes_option_limits_the_lanes(shared_searcher):
    hits = shared_searcher.search("save_user", SearchOptions(lanes=("lexical",), expand=False))
    assert hits and all(set(h.lanes) == {"lexical"} for h in hits)
    hits = shared_searcher.search("save_user", SearchOptions(lanes=("symbol",), k=20))
    assert set(hits[0].lanes) >= {"symbol"}
    assert all(set(h.lanes) <= {"symbol", "graph"} for h in hits)
    assert any(h.expanded and set(h.lanes) == {"graph"} for h in hits)


def test_expansion_can_be_switched_off(shared_searcher):
    hits = shared_searcher.search("check_email", SearchOptions(k=50, expand=False))
    assert not any(h.expanded or "graph" in h.lanes for h in hits)
    hits = shared_searcher.search("check_email", SearchOptions(k=50, lanes=("symbol",)))
    assert any(h.expanded and h.symbol == "store.users.save_user" for h in hits)


def test_rerank_none_orders_by_fusion(shared_searcher):
    hits = shared_searcher.search("save_user", SearchOptions(rerank="none", group_by="chunk"))
    assert hits[0].symbol == "store.users.save_user"
    assert not any("def_exact_sym" in h.features and h.score > 1.0 for h in hits)


def test_no_embed_drops_the_dense_lane(shared_searcher):
    searcher = sibling(shared_searcher, no_embed=True)
    hits = searcher.search("save_user", SearchOptions(k=50))
    assert hits and not any("dense" in h.lanes for h in hits)
    assert any("dense" in h.lanes for h in shared_searcher.search("save_user"))


# ----------------------------------------------------------------------------- group by file
def test_group_by_file_gives_distinct_files_first(billing):
    text = ("lexical", "symbol", "path")  # the fake embedder's dense ranking is noise
    chunks = billing.search("invoice", SearchOptions(k=3, group_by="chunk", lanes=text))
    assert {h.path for h in chunks} == {"billing/invoice.py"}
    files = billing.search("invoice", SearchOptions(k=3, group_by="file", lanes=text))
    assert len({h.path for h in files}) == 3
    assert files[0].path == "billing/invoice.py"
    assert {"billing/report.py", "mail/send.py"} <= {h.path for h in files}
    # a file's best chunk carries the file's score (its strong chunks, shown by --explain, add
    # file_support * log(n)); its n-th next chunk keeps file_decay ** n of its own score
    options = SearchOptions(k=50, group_by="chunk")
    plain = {h.chunk_id: h.score for h in billing.search("invoice", options)}
    grouped = billing.search("invoice", SearchOptions(k=50, group_by="file"))
    nth = [h for h in grouped if h.path == "billing/invoice.py"]
    assert len(nth) == 4
    s = billing.settings
    backing = nth[0].features["file_chunks"]
    assert backing == sum(plain[h.chunk_id] >= 0.5 * plain[nth[0].chunk_id] for h in nth) > 1
    assert nth[0].score == pytest.approx(
        plain[nth[0].chunk_id] * (1 + s.file_support * math.log(backing))
    )
    for n, h in enumerate(nth[1:], start=1):
        assert h.score == pytest.approx(plain[h.chunk_id] * s.file_decay**n)


def test_source_file_outranks_the_same_code_in_a_test_file(billing):
    for query in ("parse_header", "split a header line at the colon"):
        paths = [h.path for h in billing.search(query, SearchOptions(k=50))]
        assert paths.index("pkg/parse.py") < paths.index("tests/test_parse.py"), query
        assert paths[0] == "pkg/parse.py"


# ------------------------------------------------------------------------ index lifecycle
def test_unindexed_repository_raises_with_advice(tmp_path):
    root = tmp_path / "repo"
    root.mkdir()
    searcher = Searcher(Services(root, Settings(index_dir=tmp_path / "idx")))
    with pytest.raises(IndexMissingError, match="coderag index"):
        searcher.search("anything")


def test_update_index_reloads_only_when_something_changed(tmp_path, monkeypatch):
    searcher = make_searcher(tmp_path, {"app/core.py": "def alpha():\n    return 1\n"})
    assert searcher.search("alpha")[0].symbol == "app.core.alpha"
    reloads: list[int] = []
    real_reload = searcher.reload

    def counting_reload() -> None:
        reloads.append(1)
        real_reload()

    monkeypatch.setattr(searcher, "reload", counting_reload)

    report = searcher.update_index()
    assert (report.added, report.changed, report.deleted) == (0, 0, 0)
    assert reloads == []

    path = tmp_path / "repo" / "app/core.py"
    path.write_text(path.read_text() + "\n\ndef brand_new_helper():\n    return 2\n")
    assert not any(h.symbol == "app.core.brand_new_helper" for h in searcher.search("alpha"))
    report = searcher.update_index()
    assert report.changed == 1 and reloads == [1]
    assert searcher.search("brand_new_helper")[0].symbol == "app.core.brand_new_helper"


# --------------------------------------------------------------------------- cross-encoder
def test_missing_cross_encoder_model_gives_a_clear_error(tmp_path, shared_searcher):
    with pytest.raises(CrossEncoderMissingError, match="no cross-encoder model at .*config.json"):
        CrossEncoderReranker(tmp_path / "nope").scores("q", ["p"])
    searcher = sibling(shared_searcher, cross_encoder_model=tmp_path / "nope")
    with pytest.raises(CrossEncoderMissingError, match="CODERAG_CROSS_ENCODER_MODEL"):
        searcher.search("save_user")
    # asking for the feature reranker never touches the missing model
    assert searcher.search("save_user", SearchOptions(rerank="features"))
    searcher = sibling(shared_searcher, rerank="cross-encoder")
    with pytest.raises(CrossEncoderMissingError, match="CODERAG_CROSS_ENCODER_MODEL"):
        searcher.search("save_user")


@pytest.mark.slow
def test_cross_encoder_reranks_the_top_candidates(tmp_path, shared_searcher):
    from sentence_transformers import CrossEncoder

    from app.models.embedder import offline_env, resolve_model_path

    offline_env()
    model_dir = tmp_path / "ce"
    CrossEncoder(str(resolve_model_path("minilm")), num_labels=1, device="cpu").save(str(model_dir))
    searcher = sibling(shared_searcher, cross_encoder_model=model_dir, cross_encoder_top=4)
    assert searcher.default_options().rerank == "cross-encoder"
    assert isinstance(searcher.reranker, CrossEncoderReranker)
    options = SearchOptions(k=50, rerank="cross-encoder", group_by="chunk")
    hits = searcher.search("save_user", options)
    assert len(hits) > 4
    scored = [h for h in hits if "cross_encoder" in h.features]
    assert len(scored) == 4
    assert hits[:4] == scored  # the rescored head stays above the rest
    assert all(isinstance(h.features["cross_encoder"], float) for h in scored)


def test_default_options_follow_settings(shared_searcher):
    searcher = sibling(shared_searcher, group_by="chunk", rerank="none")
    opts = searcher.default_options(k=7, group_by=None)
    assert (opts.k, opts.group_by, opts.rerank, opts.expand) == (7, "chunk", "none", True)
    assert sibling(shared_searcher, cross_encoder_model=Path("/x")).default_options().rerank == (
        "cross-encoder"
    )


def test_coverage_token_sets_are_every_token_stemmed() -> None:
    """The word-by-word cached token sets equal stemming each token of the whole text."""
    from app.index.tokens import code_tokens, stem
    from app.retrieval.coverage import stemmed_tokens

    texts = [t for t in REPO.values() if isinstance(t, str)] + [
        "getHTTPResponse_code = parse_retries(3) + HTTPRetries2 __init__ _ __ 42x",
        "The classes' queries are retried; users' sessions expire. ÄÖ über naïve",
        "",
    ]
    for text in texts:
        assert stemmed_tokens(text) == frozenset(stem(t) for t in code_tokens(text)), text


def test_file_similarity_is_the_cosine_to_each_file_centroid(shared_searcher) -> None:
    import numpy as np

    catalog = shared_searcher._state().catalog
    assert catalog.file_matrix is not None and len(catalog.file_paths) > 2
    vec = catalog.file_matrix[1] + 0.5 * catalog.file_matrix[0]
    sims = catalog.file_similarity(vec)
    assert set(sims) == set(catalog.file_paths)
    for row, path in enumerate(catalog.file_paths):
        assert sims[path] == pytest.approx(float(catalog.file_matrix[row] @ vec), abs=1e-5)
    assert max(sims, key=sims.__getitem__) == catalog.file_paths[1]
    assert sims.get("no/such/file.py", 0.0) == 0.0
    first = sims[catalog.file_paths[0]]
    assert isinstance(first, float) and not np.isnan(first)
