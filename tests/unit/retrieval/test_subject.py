"""The subject check: words a question is about, and whether the index mentions them at all."""

from __future__ import annotations

from app.index.stores.db import IndexDB
from app.index.tokens import code_tokens
from app.retrieval.subject import lookup_prefix, subject_words, unmentioned


def test_subject_words_leave_out_the_question_frame():
    assert subject_words("How does click send usage telemetry to its maintainers?") == [
        "send", "usage", "telemetry", "maintainers",
    ]  # fmt: skip
    assert subject_words("Where is the function that handles this implemented?") == []
    assert subject_words("Who calls `merge_setting`?") == ["merge", "setting"]


def test_long_words_are_looked_up_by_a_shorter_stem():
    assert lookup_prefix("redirects") == "redire"
    assert lookup_prefix("GraphQL") == "graphql"
    assert lookup_prefix("authenticated") == "authenticat"


def test_unmentioned_words_are_the_ones_the_lookup_misses():
    known = {"send", "usage", "maintain"}
    seen: list[tuple[str, str]] = []

    def mentions(word: str, prefix: str) -> bool:
        seen.append((word, prefix))
        return prefix in known or word in known

    question = "How does click send usage telemetry to its maintainers?"
    assert unmentioned(question, mentions) == ["telemetry"]
    assert ("telemetry", "telemet") in seen


def one_chunk_index(tmp_path, path: str, symbol: str, body: str) -> IndexDB:
    """A real index database whose lexical table holds one chunk."""
    db = IndexDB(tmp_path / "index.db")
    with db.transaction():
        db.conn.execute(
            "INSERT INTO lexical(rowid, path_tokens, symbol_tokens, body_tokens) VALUES (?,?,?,?)",
            (1, *(" ".join(code_tokens(t)) for t in (path, symbol, body))),
        )
    return db


def test_the_index_finds_stemmed_words_and_prefixes(tmp_path):
    body = "Apply the settings; authentication retries."
    db = one_chunk_index(tmp_path, "session.py", "resolve_redirects", body)
    assert db.mentions("setting", "sett")  # porter: settings -> set
    assert db.mentions("redirects", "redire")
    assert db.mentions("authenticated", "authenticat")
    assert db.mentions("retried", "retried")
    assert not db.mentions("telemetry", "telemet")
    assert not db.mentions("graphql", "graphql")


def test_a_versioned_name_counts_only_as_written_together(tmp_path):
    body = "Send over HTTP/1.1 to port 2 of the server; IPv6 addresses are bracketed."
    db = one_chunk_index(tmp_path, "adapters.py", "send", body)
    question = "How does the adapter negotiate HTTP/2 or HTTP/1.1 over IPv6 and IPv4?"
    assert unmentioned(question, db.mentions) == ["HTTP/2", "IPv4", "negotiate"]
    assert unmentioned("Does it speak http2?", db.mentions) == ["http2", "speak"]


def test_a_question_naming_code_the_index_has_is_on_subject():
    def mentions(word: str, prefix: str) -> bool:
        return word == "HTTPDigestAuth"

    question = "How does HTTPDigestAuth react when the server answers with a digest challenge?"
    assert unmentioned(question, mentions) == []
    assert unmentioned("How does the WebSocket client reconnect?", mentions) == [
        "websocket", "client", "reconnect",
    ]  # fmt: skip


def test_action_verbs_and_participles_are_the_frame():
    assert subject_words("Which headers are ignored when they appear twice?") == [
        "headers", "twice",
    ]  # fmt: skip
    assert subject_words("What happens when it is started by double-clicking it?") == []
