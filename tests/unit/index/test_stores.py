import sqlite3

import numpy as np
import pytest

from app.index.records import Chunk, ParsedFile
from app.index.stores.db import FileRow, IndexCorruptError, IndexDB
from app.index.stores.vectors import VectorStore, collection_name


def _chunk(path, start, end, text, symbol=None):
    c = Chunk(
        path=path,
        start_line=start,
        end_line=end,
        kind="function",
        language="python",
        text=text,
        symbol=symbol,
    )
    c.embed_text = f"{path}\n{text}"
    c.content_hash = str(abs(hash(c.embed_text)))
    return c


def _row(path, sha="s1"):
    return FileRow(path, sha, 10, 0, "python", True, False)


def test_lexical_search_finds_identifier_parts_and_ranks_symbol(tmp_path):
    db = IndexDB(tmp_path / "i.db")
    db.replace_file(
        _row("a.py"),
        ParsedFile("a.py", "python", "a"),
        [_chunk("a.py", 1, 3, "def save_user(u):\n    db.put(u)", "a.save_user")],
        None,
    )
    db.replace_file(
        _row("b.py"),
        ParsedFile("b.py", "python", "b"),
        [_chunk("b.py", 1, 2, "def load_config():\n    return {}", "b.load_config")],
        None,
    )
    hits = db.lexical_search("how do we save a user?")
    assert hits and hits[0][0].startswith("a.py:1-3")
    assert db.lexical_search("saveUser")[0][0].startswith("a.py")
    assert db.lexical_search("the of and") == []


def test_replace_file_is_atomic_and_delete_prunes_everything(tmp_path):
    db = IndexDB(tmp_path / "i.db")
    pf = ParsedFile("a.py", "python", "a")
    db.replace_file(_row("a.py"), pf, [_chunk("a.py", 1, 2, "alpha beta")], None)
    db.replace_file(_row("a.py", "s2"), pf, [_chunk("a.py", 1, 2, "gamma delta")], None)
    assert db.count("chunks") == 1
    assert db.lexical_search("alpha") == []
    assert db.lexical_search("gamma")
    db.delete_file("a.py")
    assert db.count("chunks") == 0 and db.count("files") == 0
    assert db.lexical_search("gamma") == []
    assert db.conn.execute("SELECT count(*) FROM lexical").fetchone()[0] == 0


def test_failed_transaction_rolls_back(tmp_path):
    db = IndexDB(tmp_path / "i.db")
    with pytest.raises(RuntimeError):
        with db.transaction():
            db.set_meta("x", "1")
            raise RuntimeError("boom")
    assert db.get_meta("x") is None


def test_schema_version_mismatch_and_garbage_are_detected(tmp_path):
    db = IndexDB(tmp_path / "i.db")
    db.set_meta("schema_version", "999")
    db.close()
    with pytest.raises(IndexCorruptError, match="schema version"):
        IndexDB(tmp_path / "i.db")
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexCorruptError):
        IndexDB(bad)


def test_embedding_cache_round_trip_and_prune(tmp_path):
    db = IndexDB(tmp_path / "i.db")
    v = np.arange(384, dtype=np.float32)
    db.cache_vectors("m", [("h1", v)])
    got = db.cached_vectors("m", ["h1", "h2"])
    assert list(got) == ["h1"] and np.array_equal(got["h1"], v)
    assert db.cached_vectors("other", ["h1"]) == {}
    assert db.prune_cache("m") == 1


def test_vector_store_real_chroma_persists(tmp_path):
    vs = VectorStore(tmp_path / "chroma", "minilm")
    x = np.eye(3, 384, dtype=np.float32)
    vs.upsert(["a", "b", "c"], x, [{"path": "a"}, {"path": "b"}, {"path": "c"}])
    assert vs.query(x[2], 1)[0][0] == "c"
    vs.delete(["a"])
    again = VectorStore(tmp_path / "chroma", "minilm")
    assert again.ids() == {"b", "c"}
    assert collection_name("/some/path/to model") != collection_name("minilm")


def test_sqlite_has_fts5():
    con = sqlite3.connect(":memory:")
    con.execute("CREATE VIRTUAL TABLE t USING fts5(x)")


def test_version_2_index_gets_a_stemmed_lexical_table_and_keeps_its_vectors(tmp_path):
    db = IndexDB(tmp_path / "i.db")
    db.replace_file(
        _row("a.py"),
        ParsedFile("a.py", "python", "a"),
        [_chunk("a.py", 1, 2, "def emit(event):\n    queue.put(event)", "a.emit")],
        None,
    )
    db.cache_vectors("m", [("h1", np.ones(384, dtype=np.float32))])
    # Turn it into what version 2 wrote: an unstemmed lexical table.
    db.conn.execute("DROP TABLE lexical")
    db.conn.execute(
        "CREATE VIRTUAL TABLE lexical USING fts5(path_tokens, symbol_tokens, body_tokens,"
        " tokenize = \"unicode61 tokenchars '_'\")"
    )
    db.set_meta("schema_version", "2")
    assert db.lexical_search("emits") == []
    db.close()

    db = IndexDB(tmp_path / "i.db")
    assert db.get_meta("schema_version") == "3"
    assert [h[0][:8] for h in db.lexical_search("which function emits events")] == ["a.py:1-2"]
    assert db.doc_freq(["emitting", "nothing"]) == {"emitting": 1, "nothing": 0}
    assert list(db.cached_vectors("m", ["h1"])) == ["h1"]


def test_past_the_postings_budget_the_commonest_terms_are_left_out(tmp_path, monkeypatch):
    from app.index.stores import db as dbmod

    db = IndexDB(tmp_path / "i.db")
    for i in range(30):  # 'widget' in 30 chunks, 'gizmo' in 5, 'sprocket' in 1
        words = ["widget"] + (["gizmo"] if i % 6 == 0 else []) + (["sprocket"] if i == 7 else [])
        path = f"m{i}.py"
        db.replace_file(
            _row(path), ParsedFile(path, "python", f"m{i}"),
            [_chunk(path, 1, 2, " ".join(words))], None,
        )  # fmt: skip
    query = "widget gizmo sprocket"
    monkeypatch.setattr(dbmod, "POSTINGS_BUDGET", 0)  # no limit: every chunk matches
    assert len(db.lexical_search(query, k=100)) == 30
    monkeypatch.setattr(dbmod, "POSTINGS_BUDGET", 10)  # 1 + 5 fit, 'widget' (30) does not
    hits = db.lexical_search(query, k=100)
    assert {h[0].split(":")[0] for h in hits} == {"m0.py", "m6.py", "m7.py", "m12.py", "m18.py",
                                                  "m24.py"}  # fmt: skip
    assert hits[0][0].startswith("m7.py")  # the rarest term still ranks first
    monkeypatch.setattr(dbmod, "POSTINGS_BUDGET", 2)  # the rarest term is always kept
    assert [h[0].split(":")[0] for h in db.lexical_search(query, k=100)] == ["m7.py"]
    monkeypatch.setattr(dbmod, "POSTINGS_BUDGET", 100)  # under budget: the plain OR query
    assert len(db.lexical_search(query, k=100)) == 30
