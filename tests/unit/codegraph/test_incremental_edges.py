"""Edge cases of the incremental contract: after any change, every store equals a fresh index."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from app.codegraph.build import CodeGraph
from app.index.indexer import Indexer
from app.index.layout import IndexLayout
from app.index.status import index_status
from app.index.stores.db import IndexDB
from app.index.stores.vectors import forget_store
from app.settings import Settings
from tests.conftest import FakeEmbedder, write_tree
from tests.unit.index.test_indexer import assert_same_as_fresh, make_indexer, snapshot

MULTI = {
    "js/app.js": "import { helper } from './util';\n\nexport function main() {\n"
    "  return helper(1);\n}\n",
    "js/util.js": "export function helper(x) {\n  return x + 1;\n}\n",
    "ts/app.ts": "import { greet } from './lib';\n\nexport function run(): string {\n"
    "  return greet('a');\n}\n",
    "ts/lib.ts": "export function greet(n: string): string {\n  return 'hi ' + n;\n}\n",
    "go/main.go": "package main\n\nfunc main() {\n\tHelper()\n}\n",
    "go/helper.go": "package main\n\nfunc Helper() int {\n\treturn 1\n}\n",
    "java/App.java": "class App {\n  void run() {\n    Util.go();\n  }\n}\n",
    "java/Util.java": "class Util {\n  static void go() {\n  }\n}\n",
    "rs/main.rs": "mod util;\n\nfn main() {\n    util::helper();\n}\n",
    "rs/util.rs": "pub fn helper() -> i32 {\n    1\n}\n",
}


def _fake() -> Any:
    """Return a FakeEmbedder typed for ``Indexer`` (it is duck-typed)."""
    return FakeEmbedder()


def _index(root: Path, idx: Path, emb: FakeEmbedder | None = None):
    return make_indexer(root, idx, emb).run()


def _edges(idx: Path, kind: str = "calls") -> set[tuple[str, str]]:
    g = CodeGraph.load(IndexLayout(idx).graph).graph
    return {(u, v) for u, v, d in g.edges(data=True) if d.get("kind") == kind}


def _status(root: Path, idx: Path):
    return index_status(root, Settings(index_dir=idx))


def _start(tmp_path: Path, files: Mapping[str, str | bytes]) -> tuple[Path, Path]:
    root = write_tree(tmp_path / "repo", dict(files))
    idx = tmp_path / "idx"
    _index(root, idx)
    return root, idx


def test_multi_language_edits_equal_fresh(tmp_path):
    root, idx = _start(tmp_path, MULTI)
    assert _status(root, idx).fresh
    (root / "js/util.js").write_text("export function helper(x) {\n  return x * 2;\n}\n")
    (root / "go/helper.go").unlink()
    (root / "rs/util.rs").write_text("pub fn helper() -> i32 {\n    2\n}\npub fn other() {}\n")
    (root / "java/Util.java").rename(root / "java/Tools.java")
    st = _status(root, idx)
    assert not st.fresh
    assert st.changed == ["js/util.js", "rs/util.rs"]
    assert st.deleted == ["go/helper.go", "java/Util.java"]
    assert st.added == ["java/Tools.java"]
    report = _index(root, idx)
    assert (report.added, report.changed, report.deleted) == (1, 2, 2)
    assert _status(root, idx).fresh
    assert_same_as_fresh(root, idx, tmp_path)


def test_file_changing_language_is_reindexed(tmp_path):
    root, idx = _start(
        tmp_path, {"a.py": "def f():\n    return 1\n", "b.py": "from a import f\nf()\n"}
    )
    (root / "a.py").rename(root / "a.txt")
    _index(root, idx)
    db = IndexDB(IndexLayout(idx).db)
    rows = db.file_rows()
    facts = db.python_facts()
    db.close()
    assert "a.py" not in rows and rows["a.txt"].language == "text"
    assert "a.py" not in facts
    assert_same_as_fresh(root, idx, tmp_path)


def test_function_moved_between_modules_repairs_unchanged_caller(tmp_path):
    files = {
        "a.py": "def f():\n    return 1\n",
        "b.py": "def g():\n    return 2\n",
        "c.py": "from b import *\nfrom a import *\n\n\ndef use():\n    return f()\n",
    }
    root, idx = _start(tmp_path, files)
    assert ("c.py::c.use", "a.py::a.f") in _edges(idx) or any(
        u.endswith("c.use") and v.endswith("a.f") for u, v in _edges(idx)
    )
    (root / "a.py").write_text("def other():\n    return 1\n")
    (root / "b.py").write_text("def g():\n    return 2\n\n\ndef f():\n    return 3\n")
    report = _index(root, idx)
    assert report.changed == 2 and report.unchanged == 1  # c.py itself is not re-parsed
    calls = _edges(idx)
    assert any(u.endswith("c.use") and v.endswith("b.f") for u, v in calls)
    assert not any(v.endswith("a.f") for _, v in calls)
    assert_same_as_fresh(root, idx, tmp_path)


def test_base_class_gaining_a_method_resolves_subclass_self_calls(tmp_path):
    files = {
        "base.py": "class Base:\n    def a(self):\n        return 1\n",
        "sub.py": "from base import Base\n\n\nclass Sub(Base):\n    def run(self):\n"
        "        return self.helper()\n",
    }
    root, idx = _start(tmp_path, files)
    assert not any(v.endswith("Base.helper") for _, v in _edges(idx))
    (root / "base.py").write_text(
        "class Base:\n    def a(self):\n        return 1\n\n"
        "    def helper(self):\n        return 2\n"
    )
    _index(root, idx)
    assert any(u.endswith("Sub.run") and v.endswith("Base.helper") for u, v in _edges(idx))
    assert_same_as_fresh(root, idx, tmp_path)


@pytest.mark.parametrize("how", ["binary", "too_large", "gitignore", "empty", "minified"])
def test_file_that_becomes_unindexable_is_pruned(tmp_path, how):
    files = {
        "keep.py": "from gone import f\n\n\ndef k():\n    return f()\n",
        "gone.py": "def f():\n    return 1\n",
    }
    root, idx = _start(tmp_path, files)
    gone = root / "gone.py"
    if how == "binary":
        gone.write_bytes(b"def f():\x00\n")
    elif how == "too_large":
        gone.write_text("x = 1\n" * 200_000)
    elif how == "gitignore":
        (root / ".gitignore").write_text("gone.py\n")
    elif how == "empty":
        gone.write_text("\n  \n")
    else:
        gone.write_text("x = [" + "1, " * 1000 + "]\n")
    st = _status(root, idx)
    assert "gone.py" in st.deleted and not st.fresh
    report = _index(root, idx)
    assert report.deleted == 1
    db = IndexDB(IndexLayout(idx).db)
    assert "gone.py" not in db.file_rows() and db.chunks_for("gone.py") == []
    db.close()
    assert not any("gone.py" in u or "gone.py" in v for u, v in _edges(idx))
    assert _status(root, idx).fresh
    assert_same_as_fresh(root, idx, tmp_path)


def test_deleting_everything_empties_every_store(tmp_path):
    root, idx = _start(tmp_path, MULTI)
    for rel in MULTI:
        (root / rel).unlink()
    report = _index(root, idx)
    assert report.deleted == len(MULTI) and report.files == 0 and report.chunks == 0
    assert report.vectors == 0
    snap = snapshot(idx)
    assert snap["files"] == {} and snap["chunks"] == [] and snap["vectors"] == []
    assert snap["n_lexical"] == 0 and snap["edges"] == []
    assert _status(root, idx).fresh
    assert_same_as_fresh(root, idx, tmp_path)
    (root / "new.py").write_text("def n():\n    return 0\n")
    assert _index(root, idx).added == 1
    forget_store(tmp_path / "fresh-index" / "chroma")  # the helper reuses its folder
    assert_same_as_fresh(root, idx, tmp_path)


def test_identical_files_then_one_deleted(tmp_path):
    body = "def same():\n    return 42\n"
    root, idx = _start(tmp_path, {"a.py": body, "b.py": body, "c/d.py": body})
    (root / "a.py").unlink()
    emb = FakeEmbedder()
    _index(root, idx, emb)
    assert emb.encoded == []
    db = IndexDB(IndexLayout(idx).db)
    assert db.chunks_for("b.py") and db.chunks_for("c/d.py")
    db.close()
    assert_same_as_fresh(root, idx, tmp_path)


def test_mtime_only_change_is_not_reparsed(tmp_path, monkeypatch):
    root, idx = _start(tmp_path, MULTI)
    import os

    os.utime(root / "js/util.js", ns=(1, 10**18))
    from app.index import indexer as indexer_mod

    calls: list[str] = []
    real = indexer_mod.prepare_all

    def spy(files, options, workers):
        calls.extend(src.path for src in files)
        return real(files, options, workers)

    monkeypatch.setattr(indexer_mod, "prepare_all", spy)
    emb = FakeEmbedder()
    report = _index(root, idx, emb)
    assert calls == [] and emb.encoded == []
    assert (report.added, report.changed, report.deleted) == (0, 0, 0)
    assert _status(root, idx).fresh


def test_identical_chunk_texts_in_one_file(tmp_path):
    block = "def dup():\n    return 1\n\n\n"
    root, idx = _start(tmp_path, {"d.py": block * 4, "e.md": "same\n\nsame\n\nsame\n"})
    (root / "d.py").write_text(block * 3)
    _index(root, idx)
    assert_same_as_fresh(root, idx, tmp_path)


def test_odd_content_round_trips(tmp_path):
    files: dict[str, str | bytes] = {
        "crlf.py": b"def a():\r\n    return b()\r\n\r\n\r\ndef b():\r\n    return 1\r\n",
        "late_nul.py": b"x = 1\n" * 2000 + b"y = '\x00'\n",
        "long.txt": "word " * 150,
        "with space/\u00fcn\u00efc\u00f8de name.py": "def \u00e9t\u00e9():\n    return 1\n",
        "utf16.txt": "hello\nworld\n".encode("utf-16"),
    }
    root, idx = _start(tmp_path, files)
    assert _status(root, idx).fresh
    (root / "crlf.py").write_bytes(b"def a():\r\n    return 2\r\n")
    (root / "late_nul.py").write_bytes(b"x = 2\n" * 2000 + b"y = '\x00'\n")
    (root / "with space/\u00fcn\u00efc\u00f8de name.py").write_text("def z():\n    return 2\n")
    report = _index(root, idx)
    assert report.changed == 3
    assert _status(root, idx).fresh
    assert_same_as_fresh(root, idx, tmp_path)


def test_chunk_size_change_rechunks_unchanged_files(tmp_path):
    body = "".join(f"    v{i} = compute_value({i}, other_arg)\n" for i in range(30))
    files = {"m.py": f"def big():\n{body}    return v0\n"}
    root, idx = _start(tmp_path, files)
    before = snapshot(idx)["chunks"]
    settings = Settings(index_dir=idx, chunk_max_tokens=64)
    Indexer(root, settings, embedder=_fake()).run()
    fresh = tmp_path / "fresh"
    Indexer(root, Settings(index_dir=fresh, chunk_max_tokens=64), embedder=_fake()).run()
    a, b = snapshot(idx), snapshot(fresh)
    assert len(b["chunks"]) > len(before)  # the smaller window really cuts differently
    assert a["chunks"] == b["chunks"]
    assert a["vectors"] == b["vectors"]


def test_status_reports_missing_vectors_after_an_interrupted_run(tmp_path):
    class Crash(FakeEmbedder):
        def encode(self, texts, **kw):
            raise KeyboardInterrupt("killed")

    root = write_tree(tmp_path / "repo", dict(MULTI))
    idx = tmp_path / "idx"
    with pytest.raises(KeyboardInterrupt):
        make_indexer(root, idx, Crash()).run()
    st = _status(root, idx)
    assert not st.fresh and st.problem
    emb = FakeEmbedder()
    report = make_indexer(root, idx, emb).run()
    assert report.unchanged == len(MULTI) and report.vectors == report.chunks
    st = _status(root, idx)
    assert st.fresh and st.problem is None


def test_no_embed_run_after_a_deletion_then_embed_run(tmp_path):
    root, idx = _start(tmp_path, MULTI)
    (root / "js/util.js").unlink()
    (root / "ts/lib.ts").write_text("export function greet(n: string): string {\n  return n;\n}\n")
    lexical_only = Settings(index_dir=idx, no_embed=True)
    report = Indexer(root, lexical_only, embedder=_fake()).run()
    assert not report.dense and report.deleted == 1
    st = _status(root, idx)
    assert not st.fresh and st.problem and "vectors" in st.problem
    emb = FakeEmbedder()
    report = _index(root, idx, emb)
    assert (report.added, report.changed, report.deleted) == (0, 0, 0)
    assert emb.encoded and all("ts/lib.ts" in t for t in emb.encoded)
    assert _status(root, idx).fresh
    assert_same_as_fresh(root, idx, tmp_path)


def _write_raw(root: Path, name: bytes, data: bytes) -> None:
    with open(os.fsencode(root) + b"/" + name, "wb") as fh:
        fh.write(data)


def test_undecodable_file_name_does_not_stop_the_run(tmp_path):
    root, idx = _start(tmp_path, {"ok.py": "def f():\n    return 1\n"})
    _write_raw(root, b"bad\xff.py", b"def g():\n    return 2\n")
    _write_raw(root, b"new\nline.py", b"def h():\n    return 3\n")
    report = _index(root, idx)
    assert report.files == 2 and report.added == 1
    assert report.skipped.get("unreadable") == 1
    assert _status(root, idx).fresh
    assert_same_as_fresh(root, idx, tmp_path)


def test_walker_refuses_undecodable_file_names(tmp_path):
    from app.index.walker import walk

    root = write_tree(tmp_path / "repo", {"ok.py": "x = 1\n"})
    _write_raw(root, b"bad\xff.py", b"x = 2\n")
    result = walk(root)
    assert [f.path for f in result.files] == ["ok.py"]
    assert any(s.path.startswith("bad") for s in result.skipped)


def test_call_graph_budget_change_rebuilds_the_graph(tmp_path):
    files = {
        "a.py": "class A:\n    def m(self):\n        return 1\n",
        "b.py": "from a import A\n\n\ndef run():\n    return A().m()\n",
    }
    root, idx = _start(tmp_path, files)
    assert CodeGraph.load(IndexLayout(idx).graph).graph.graph["python_calls"] == "pyflow"
    tiny = Settings(index_dir=idx, callgraph_max_work=1)
    report = Indexer(root, tiny, embedder=_fake()).run()
    fresh = Indexer(root, Settings(index_dir=tmp_path / "f", callgraph_max_work=1)).run()
    assert fresh.python_calls == "generic"
    assert report.python_calls == "generic"
