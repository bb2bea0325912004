"""Incremental indexing: every store and the graph must equal a fresh full index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.index.indexer import IndexBusyError, Indexer, index_lock
from app.index.layout import IndexLayout
from app.index.stores.db import IndexDB
from app.index.stores.vectors import VectorStore, forget_store
from app.settings import Settings
from tests.conftest import FakeEmbedder, write_tree

REPO = {
    "pkg/__init__.py": "from .models import User\n",
    "pkg/models.py": (
        "class Base:\n    def save(self):\n        return self.validate()\n\n"
        "    def validate(self):\n        return True\n\n\n"
        'class User(Base):\n    """A user."""\n\n    def rename(self, name):\n'
        "        self.name = name\n        self.save()\n"
    ),
    "pkg/service.py": (
        "from pkg.models import User\nimport pkg.util as u\n\n\n"
        "def create_user(name):\n    user = User()\n    user.rename(name)\n"
        "    u.log(name)\n    return user\n"
    ),
    "pkg/util.py": "def log(msg):\n    print(msg)\n",
    "web/app.js": (
        "import { fetchUser } from './api';\n\nexport function render(id) {\n"
        "  return fetchUser(id).name;\n}\n"
    ),
    "web/api.js": "export function fetchUser(id) {\n  return { id, name: 'x' };\n}\n",
    "README.md": "# Demo\n\nA tiny repository.\n\n## Usage\n\nCall create_user.\n",
}


def make_indexer(root: Path, index_dir: Path, embedder: FakeEmbedder | None = None) -> Indexer:
    settings = Settings(index_dir=index_dir)
    return Indexer(root, settings, embedder=embedder or FakeEmbedder())


def snapshot(index_dir: Path) -> dict:
    """Everything stored, normalised so two indexes of the same tree compare equal."""
    layout = IndexLayout(index_dir)
    db = IndexDB(layout.db)
    files = {p: (r.sha, r.language, r.structural) for p, r in db.file_rows().items()}
    parsed = {p: pf.to_json() for p, pf in db.parsed_files().items()}
    chunks = sorted((c.id, c.text, c.embed_text, c.symbol) for c in db.all_chunks())
    lexical = sorted(
        tuple(r)
        for r in db.conn.execute(
            "SELECT c.id, l.path_tokens, l.symbol_tokens, l.body_tokens FROM lexical l "
            "JOIN chunks c ON c.rowid = l.rowid"
        )
    )
    n_lexical = db.conn.execute("SELECT count(*) FROM lexical").fetchone()[0]
    facts = db.python_facts()
    db.close()
    vectors = VectorStore(layout.chroma, "fake").ids()
    from app.codegraph.build import CodeGraph

    g = CodeGraph.load(layout.graph).graph
    nodes = sorted((n, sorted(d.items())) for n, d in g.nodes(data=True))
    edges = sorted((u, v, k, sorted(d.items())) for u, v, k, d in g.edges(keys=True, data=True))
    return {
        "files": files,
        "parsed": parsed,
        "chunks": chunks,
        "lexical": lexical,
        "n_lexical": n_lexical,
        "facts": facts,
        "vectors": sorted(vectors),
        "nodes": nodes,
        "edges": [repr(e) for e in edges],
    }


def assert_same_as_fresh(root: Path, index_dir: Path, tmp_path: Path) -> None:
    fresh_dir = tmp_path / "fresh-index"
    shutil.rmtree(fresh_dir, ignore_errors=True)
    make_indexer(root, fresh_dir).run()
    a, b = snapshot(index_dir), snapshot(fresh_dir)
    for key in a:
        assert a[key] == b[key], f"{key} differs from a fresh index"
    assert a["n_lexical"] == len(a["chunks"]) == len(a["vectors"])


def test_full_index_report(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    report = make_indexer(root, tmp_path / "idx").run()
    assert report.files == len(REPO)
    assert report.files_by_language == {"python": 4, "javascript": 2, "markdown": 1}
    assert report.structural == 6 and report.text_fallback == 1
    assert report.chunks > 0 and report.vectors == report.chunks
    assert report.symbols >= 8
    assert report.calls_resolved > 0
    assert {"walk", "parse", "embed", "graph"} <= set(report.seconds)


def test_noop_reindex_touches_nothing(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    make_indexer(root, tmp_path / "idx").run()
    emb = FakeEmbedder()
    report = make_indexer(root, tmp_path / "idx", emb).run()
    assert (report.added, report.changed, report.deleted) == (0, 0, 0)
    assert report.unchanged == len(REPO)
    assert emb.encoded == []


def test_modify_delete_rename_equal_fresh_index(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    idx = tmp_path / "idx"
    make_indexer(root, idx).run()
    (root / "pkg/util.py").write_text("def log(msg, level=0):\n    print(level, msg)\n")
    (root / "web/api.js").unlink()
    (root / "pkg/service.py").rename(root / "pkg/services.py")
    emb = FakeEmbedder()
    report = make_indexer(root, idx, emb).run()
    assert report.changed == 1 and report.deleted == 2 and report.added == 1
    # only the edited code is embedded: the renamed file's vectors come from the cache
    assert emb.encoded and all("pkg/util.py" in t for t in emb.encoded)
    assert report.embed_cache_hits >= 1
    assert_same_as_fresh(root, idx, tmp_path)


def test_duplicated_code_is_not_re_embedded(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    idx = tmp_path / "idx"
    make_indexer(root, idx).run()
    emb = FakeEmbedder()
    (root / "lib").mkdir()
    (root / "lib/copy.py").write_text(REPO["pkg/util.py"])
    report = make_indexer(root, idx, emb).run()
    assert report.added == 1
    assert report.embedded == 0 and report.embed_cache_hits >= 1
    assert emb.encoded == []


class CrashingEmbedder(FakeEmbedder):
    def encode(self, texts, **kw):
        raise KeyboardInterrupt("killed")


def test_killed_during_embedding_resumes(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    idx = tmp_path / "idx"
    with pytest.raises(KeyboardInterrupt):
        make_indexer(root, idx, CrashingEmbedder()).run()
    emb = FakeEmbedder()
    report = make_indexer(root, idx, emb).run()
    assert report.unchanged == len(REPO)  # parse results survived the kill
    assert report.embedded > 0 and report.vectors == report.chunks
    assert_same_as_fresh(root, idx, tmp_path)


def test_corrupt_index_is_rebuilt_with_message(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    idx = tmp_path / "idx"
    make_indexer(root, idx).run()
    (idx / "index.db").write_bytes(b"garbage" * 1000)
    for extra in ("index.db-wal", "index.db-shm"):
        (idx / extra).unlink(missing_ok=True)
    report = make_indexer(root, idx).run()
    assert report.rebuilt and "unreadable" in report.rebuilt
    assert report.files == len(REPO)
    assert_same_as_fresh(root, idx, tmp_path)


def test_corrupt_vector_store_is_rebuilt_from_the_cache(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    idx = tmp_path / "idx"
    make_indexer(root, idx).run()
    forget_store(idx / "chroma")  # as if a new process found the damage
    shutil.rmtree(idx / "chroma")
    (idx / "chroma").mkdir()
    (idx / "chroma" / "chroma.sqlite3").write_bytes(b"not a database" * 500)
    emb = FakeEmbedder()
    report = make_indexer(root, idx, emb).run()
    assert report.vectors == report.chunks
    assert emb.encoded == []  # every vector came back from the embedding cache
    assert_same_as_fresh(root, idx, tmp_path)


def test_schema_change_triggers_rebuild(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    idx = tmp_path / "idx"
    make_indexer(root, idx).run()
    db = IndexDB(idx / "index.db")
    db.set_meta("schema_version", "0")
    db.close()
    report = make_indexer(root, idx).run()
    assert report.rebuilt and "schema version" in report.rebuilt


def test_bad_inputs_never_crash(tmp_path):
    files = dict(REPO)
    files["blob.bin"] = b"\x00\x01\x02" * 100
    files["latin1.py"] = "x = 'caf\xe9'\n".encode("latin-1")
    files["broken.py"] = (
        "def oops(:\n    return (\n\nclass Fine:\n    def ok(self):\n        pass\n"
    )
    files["huge.txt"] = "word " * 400_000
    root = write_tree(tmp_path / "repo", files)
    (root / "loop").symlink_to(root, target_is_directory=True)
    (root / "outside").symlink_to(tmp_path, target_is_directory=True)
    report = make_indexer(root, tmp_path / "idx").run()
    assert report.skipped.get("binary") == 1
    assert report.skipped.get("too_large") == 1
    assert report.skipped.get("symlink_loop", 0) + report.skipped.get("symlink_outside", 0) >= 2
    assert report.lossy_utf8 == 1
    assert report.syntax_errors >= 1
    db = IndexDB(tmp_path / "idx" / "index.db")
    assert any(c.symbol and "broken.Fine" in c.symbol for c in db.chunks_for("broken.py"))


def test_second_indexer_is_refused_while_one_runs(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    idx = tmp_path / "idx"
    with index_lock(IndexLayout(idx).lock):
        with pytest.raises(IndexBusyError):
            make_indexer(root, idx).run()


def test_python_solve_reused_when_no_python_file_changed(tmp_path, monkeypatch):
    from app.codegraph import pyflow

    root = write_tree(tmp_path / "repo", REPO)
    idx = tmp_path / "idx"
    make_indexer(root, idx).run()
    calls = []
    real_solve = pyflow.solve

    def counting_solve(*args, **kwargs):
        calls.append(1)
        return real_solve(*args, **kwargs)

    monkeypatch.setattr(pyflow, "solve", counting_solve)
    (root / "README.md").write_text("# Demo\n\nChanged prose only.\n")
    (root / "web/api.js").write_text("export function fetchUser(id) {\n  return null;\n}\n")
    make_indexer(root, idx).run()
    assert calls == []  # graph rebuilt, Python calls reused
    assert_same_as_fresh(root, idx, tmp_path)
    calls.clear()
    (root / "pkg/util.py").write_text("def log(msg):\n    return msg\n")
    make_indexer(root, idx).run()
    assert calls == [1]
    assert_same_as_fresh(root, idx, tmp_path / "again")


def test_a_reader_never_saves_a_graph_while_an_index_run_holds_the_lock(tmp_path, fake_embedder):
    from app.services import Services
    from app.settings import Settings

    root = write_tree(tmp_path / "repo", REPO)
    idx = tmp_path / "idx"
    make_indexer(root, idx).run()
    layout = IndexLayout(idx)
    layout.graph.unlink()  # the graph must be rebuilt by the reader
    services = Services(root, Settings(index_dir=idx))
    with index_lock(layout.lock):  # another process is indexing
        graph = services.graph()
        assert graph.graph.number_of_nodes() > 0  # built in memory, answers still work
        assert not layout.graph.exists()  # ... but not saved over the indexer's work
    services.graph()  # no index run now: rebuilt and saved
    assert layout.graph.exists()


def test_chunks_are_cut_to_a_smaller_embedder_window(tmp_path):
    """A model with a 24-token window gets chunks of at most 24 tokens, not the 256 budget."""

    class SmallWindow(FakeEmbedder):
        model_id = "small-window"
        max_tokens = 24

    body = "".join(f"    value_{i} = compute(value_{i - 1}, step={i})\n" for i in range(1, 40))
    repo = write_tree(tmp_path / "repo", {"mod.py": f"def long_function():\n{body}"})
    emb = SmallWindow()
    Indexer(repo, Settings(index_dir=tmp_path / "idx"), embedder=emb).run()  # type: ignore[arg-type]
    db = IndexDB(tmp_path / "idx" / "index.db")
    try:
        chunks = list(db.all_chunks())
        assert (db.get_meta("chunking") or "").startswith("24:")
    finally:
        db.close()
    assert len(chunks) > 3
    assert max(emb.count_tokens(c.embed_text) for c in chunks) <= 24


def test_embedding_yields_the_cpu_and_a_noop_run_does_not(tmp_path):
    """The thread that embeds runs at ``embed_nice`` (a searcher elsewhere gets the cores
    first); the thread of a run with nothing to embed keeps its priority. Threads: the nice
    value of a Linux thread is its own, so the test's thread is never touched."""
    import os
    import threading

    root = write_tree(tmp_path / "repo", REPO)
    seen: dict[str, int] = {}

    def run(name: str, nice: int) -> None:
        Indexer(root, Settings(index_dir=tmp_path / "idx", embed_nice=nice),
                embedder=FakeEmbedder()).run()  # fmt: skip
        seen[name] = os.getpriority(os.PRIO_PROCESS, 0)

    before = os.getpriority(os.PRIO_PROCESS, 0)
    for name, nice in (("embeds", 7), ("no-op", 7)):
        t = threading.Thread(target=run, args=(name, nice))
        t.start()
        t.join()
    assert seen == {"embeds": max(before, 7), "no-op": before}
    assert os.getpriority(os.PRIO_PROCESS, 0) == before
