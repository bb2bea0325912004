"""The four retrieval lanes on a small indexed repository (Python + JavaScript, fake embedder).

The helpers here (``QueryEmbedder``, ``REPO``, ``make_searcher``, ``module_searcher``,
``chunk_of``) are reused by the other retrieval test modules.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.index.tokens import stem
from app.retrieval.catalog import ChunkMeta
from app.retrieval.lanes import dense_lane, lexical_lane, path_lane, symbol_lane
from app.retrieval.query import analyse
from app.retrieval.search import Searcher
from app.services import Services
from app.settings import Settings
from tests.conftest import FakeEmbedder, write_tree


class QueryEmbedder(FakeEmbedder):
    """The conftest fake plus ``encode_query``, which the dense lane calls."""

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


STORE_SPLIT = 40
"""A chunk size (fake-embedder tokens) at which each method of ``Store`` gets its own chunk."""

REPO: dict[str, str | bytes] = {
    "store/users.py": (
        "class Store:\n"
        '    """Persist records in memory, keyed by id."""\n\n'
        "    def __init__(self):\n        self.rows = {}\n        self.log = []\n\n"
        "    def save(self, key, value):\n"
        '        """Write one row into the store and remember the write."""\n'
        "        self.rows[key] = value\n        self.log.append(key)\n        return value\n\n"
        "    def load(self, key):\n"
        '        """Read one row back from the store or fail loudly."""\n'
        "        return self.rows[key]\n\n\n"
        "def save_user(store, user):\n"
        '    """Validate a user and save it."""\n'
        "    check_email(user)\n"
        "    store.save(user['id'], user)\n\n\n"
        "def check_email(user):\n"
        '    """Reject users without an at sign."""\n'
        "    if '@' not in user['email']:\n        raise ValueError('bad email')\n"
    ),
    "store/backup.py": (
        'def save(path, data):\n    """Dump data to a file."""\n    open(path, \'w\').write(data)\n'
    ),
    "api/handlers.py": (
        "from store.users import Store, save_user\n\n\n"
        "def register(payload):\n"
        '    """Register a new account from a signup payload."""\n'
        "    save_user(Store(), payload)\n\n\n"
        "def import_users(rows):\n"
        "    for row in rows:\n        save_user(Store(), row)\n"
    ),
    "auth/tokens.py": (
        "import hmac\n\n\n"
        "def sign(secret, message):\n"
        '    """Sign a message with a secret key."""\n'
        "    return hmac.new(secret, message, 'sha256').hexdigest()\n"
    ),
    "web/client.js": (
        "export function getUser(id) {\n  return fetch('/users/' + id).then(r => r.json());\n}\n\n"
        "export function renderProfile(id) {\n  return getUser(id).then(u => u.name);\n}\n"
    ),
}


def make_searcher(base: Path, files: dict[str, str | bytes], **settings: Any) -> Searcher:
    """Write ``files`` under ``base/repo``, index them with the fake embedder, return a Searcher."""
    root = write_tree(base / "repo", files)
    services = Services(root, Settings(index_dir=base / "idx", **settings))
    services.embedder = QueryEmbedder()  # type: ignore[assignment]
    searcher = Searcher(services)
    searcher.update_index()
    return searcher


def module_searcher(
    factory: pytest.TempPathFactory, files: dict[str, str | bytes], **settings: Any
) -> Iterator[Searcher]:
    """Body of a module-scoped fixture: index ``files`` once, isolated like conftest does."""
    base = factory.mktemp("searcher")
    with pytest.MonkeyPatch.context() as mp:
        for key in list(os.environ):
            if key.startswith("CODERAG_"):
                mp.delenv(key)
        mp.chdir(base)  # no stray .env
        searcher = make_searcher(base, files, **settings)
    yield searcher
    searcher.reload()


@pytest.fixture(scope="module")
def shared_searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    """One index of ``REPO`` per module (read-only tests only)."""
    yield from module_searcher(tmp_path_factory, REPO, chunk_max_tokens=STORE_SPLIT)


def chunk_of(searcher: Searcher, symbol: str) -> ChunkMeta:
    """The chunk whose own symbol is ``symbol``."""
    (meta,) = searcher._state().catalog.by_symbol[symbol]
    return meta


def test_lexical_lane_finds_a_word_of_the_body(shared_searcher):
    st = shared_searcher._state()
    ranked = lexical_lane(st.db.lexical_search, analyse("hexdigest"), 10).ranked
    assert ranked[0][0] == chunk_of(shared_searcher, "auth.tokens.sign").id
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_lexical_lane_of_stop_words_only_is_empty(shared_searcher):
    st = shared_searcher._state()
    assert lexical_lane(st.db.lexical_search, analyse("the and of"), 10).ranked == []


def test_symbol_lane_returns_the_defining_chunk_not_the_callers(shared_searcher):
    st = shared_searcher._state()
    ids = [cid for cid, _ in symbol_lane(st.catalog, analyse("save_user"), 10).ranked]
    assert ids[0] == chunk_of(shared_searcher, "store.users.save_user").id
    for caller in ("api.handlers.register", "api.handlers.import_users"):
        assert chunk_of(shared_searcher, caller).id not in ids


def test_symbol_lane_ignores_case_and_separators(shared_searcher):
    st = shared_searcher._state()
    ranked = symbol_lane(st.catalog, analyse("get_user"), 10).ranked
    assert ranked[0][0] == chunk_of(shared_searcher, "web.client.getUser").id
    exact = symbol_lane(st.catalog, analyse("getUser"), 10).ranked
    assert exact[0][0] == ranked[0][0] and exact[0][1] > ranked[0][1]  # exact name ranks higher


def test_symbol_lane_qualified_name_prefers_the_method_of_that_class(shared_searcher):
    st = shared_searcher._state()
    ranked = symbol_lane(st.catalog, analyse("Store.save"), 10).ranked
    method = chunk_of(shared_searcher, "store.users.Store.save").id
    function = chunk_of(shared_searcher, "store.backup.save").id
    ids = [cid for cid, _ in ranked]
    assert ids[0] == method
    assert function in ids and ids.index(function) > 0


def test_symbol_lane_matches_a_typo_fuzzily(shared_searcher):
    st = shared_searcher._state()
    ranked = symbol_lane(st.catalog, analyse("chek_email"), 10).ranked
    assert ranked[0][0] == chunk_of(shared_searcher, "store.users.check_email").id
    # a fuzzy match scores below what the exact name would
    exact = symbol_lane(st.catalog, analyse("check_email"), 10).ranked
    assert ranked[0][1] < exact[0][1]


def test_symbol_lane_of_a_question_joins_its_words_into_names(shared_searcher):
    st = shared_searcher._state()
    ids = [cid for cid, _ in symbol_lane(st.catalog, analyse("where is check email"), 10).ranked]
    assert ids[0] == chunk_of(shared_searcher, "store.users.check_email").id


def test_symbol_lane_unknown_name_is_empty(shared_searcher):
    st = shared_searcher._state()
    assert symbol_lane(st.catalog, analyse("Zebra"), 10).ranked == []


def test_path_lane_ranks_the_file_named_by_the_query(shared_searcher):
    st = shared_searcher._state()
    res = path_lane(st.catalog, analyse("token authentication"), 10)
    assert list(res.files) == ["auth/tokens.py"]
    assert res.ranked[0][0] == chunk_of(shared_searcher, "auth.tokens.sign").id
    assert res.files["auth/tokens.py"] > 0


def test_path_lane_weights_rare_folder_words_higher(shared_searcher):
    st = shared_searcher._state()
    res = path_lane(st.catalog, analyse("store users"), 10)
    # 'store' names two files, 'users' only one: store/users.py matches both and ranks first
    assert list(res.files)[:2] == ["store/users.py", "store/backup.py"]
    assert res.files["store/users.py"] > res.files["store/backup.py"]


def test_dense_lane_returns_existing_chunks_nearest_first(shared_searcher):
    st = shared_searcher._state()
    embedder = shared_searcher.services.embedder
    target = chunk_of(shared_searcher, "store.users.check_email")
    (text,) = (c.embed_text for c in st.db.chunks_by_ids([target.id]))
    # the fake embedder maps equal texts to equal vectors: the chunk's own text finds it first
    q = analyse(text)
    ranked = dense_lane(embedder.encode_query, st.catalog.nearest, q, 5).ranked
    assert ranked[0][0] == target.id and ranked[0][1] == pytest.approx(1.0, abs=1e-4)
    assert len(ranked) == 5 and all(cid in st.catalog.chunks for cid, _ in ranked)
    other = dense_lane(embedder.encode_query, st.catalog.nearest, analyse("user saving"), 50)
    assert {cid for cid, _ in other.ranked} <= set(st.catalog.chunks)


def test_the_exact_scan_agrees_with_chromas_index(shared_searcher):
    """The dense lane's NumPy scan and the Chroma store it replaces on the query path give
    the same neighbours and similarities (Chroma's HNSW is exact at this size)."""
    from app.index.stores.vectors import VectorStore

    st = shared_searcher._state()
    services = shared_searcher.services
    chroma = VectorStore(services.layout.chroma, services.embedder.model_id)
    assert len(st.catalog.vector_ids) == chroma.count() == len(st.catalog.chunks)
    for query in ("user saving", "sign a token with the secret", "handlers"):
        vec = services.embedder.encode_query(query)
        exact, approx = st.catalog.nearest(vec, 8), chroma.query(vec, 8)
        assert [cid for cid, _ in exact] == [cid for cid, _ in approx]
        assert [s for _, s in exact] == pytest.approx([s for _, s in approx], abs=1e-5)


@pytest.mark.parametrize(
    ("word", "expected"),
    [("retries", "retry"), ("tokens", "token"), ("parsing", "pars"), ("class", "class")],
)
def test_stem(word, expected):
    assert stem(word) == expected


def test_name_matcher_gives_difflibs_close_matches() -> None:
    """The numpy pre-filter only skips names difflib would reject: results are identical."""
    import difflib
    import random

    from app.retrieval.catalog import NameMatcher

    rng = random.Random(3)
    alphabet = "abcdeilmnorstu_0éüX"  # é, ü, X: outside the table, sharing its last column
    names = sorted({"".join(rng.choices(alphabet, k=rng.randint(3, 14))) for _ in range(3000)})
    matcher = NameMatcher(names)
    probes = [n[:-1] + rng.choice(alphabet) for n in rng.sample(names, 150)]  # typos of names
    probes += ["".join(rng.choices(alphabet, k=rng.randint(4, 12))) for _ in range(50)]
    found = 0
    for word in probes:
        for cutoff in (0.6, 0.85):
            want = difflib.get_close_matches(word, names, n=4, cutoff=cutoff)
            assert matcher.close(word, 4, cutoff) == want, word
            found += bool(want)
    assert found > 150  # the probes do reach matches
    assert NameMatcher([]).close("abc", 4, 0.85) == []
    assert NameMatcher(["", "ab"]).close("", 3, 0.5) == [""]  # what difflib says
    assert NameMatcher(["abcd", "abce"]).close("abcx", 2, 0.75) == ["abce", "abcd"]  # at cutoff
