"""Verified citations: parsing, claim splitting, checks against files on disk, cleaning."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from app.answer import (
    Citation,
    SourceReader,
    check_answer,
    parse_citations,
    render_no_evidence,
    split_claims,
    strip_invalid,
    verify_citation,
)

STORE = '''\
"""Storage."""


class Store:
    """Keeps users."""

    def save(self, user):
        self.rows.append(user)
        return user


def save_user(store, user):
    """Validate and save."""
    if not user.email:
        raise ValueError("email")
    return store.save(user)
'''

ROUTES = """\
from app.store import save_user

ROUTES = {}


def register(path, handler):
    ROUTES[path] = handler
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app" / "store.py").write_text(STORE)
    (root / "app" / "routes.py").write_text(ROUTES)
    (root / "README.md").write_text("# Demo\n\nA demo.\n")
    return root


def cite(text: str) -> Citation:
    (citation,) = parse_citations(text)
    return citation


# --- parse_citations -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see src/app/auth.py:12-30.", ("src/app/auth.py", 12, 30)),
        ("in auth.py:7 we", ("auth.py", 7, 7)),
        ("`pkg/mod.py:3-9`", ("pkg/mod.py", 3, 9)),
        ("[pkg/mod.py:3-9]", ("pkg/mod.py", 3, 9)),
        ("(pkg/mod.py:3-9)", ("pkg/mod.py", 3, 9)),
        ("pkg/mod.py:3\u20139", ("pkg/mod.py", 3, 9)),
        ("./pkg/mod.py#L3-L9", ("pkg/mod.py", 3, 9)),
        ("Makefile:4", ("Makefile", 4, 4)),
        ("/etc/passwd:1", ("/etc/passwd", 1, 1)),
    ],
)
def test_parse_citation_forms(text, expected):
    c = cite(text)
    assert (c.path, c.start_line, c.end_line) == expected
    assert c.text in text


@pytest.mark.parametrize(
    "text",
    [
        "served on http://host:8080 today",
        "see https://example.com:8443/docs/a.py for more",
        "the job runs at 10:30 or 12:30:45",
        "ratio 3:2",
        "Note: 3 things",
        "compiler says a.py:3:5",
    ],
)
def test_urls_times_and_ports_are_not_citations(text):
    assert parse_citations(text) == []


def test_parse_keeps_order_and_drops_exact_duplicates():
    found = parse_citations("b.py:2 then a.py:1-3, again `b.py:2` and b.py:2-3")
    assert [(c.path, c.start_line, c.end_line) for c in found] == [
        ("b.py", 2, 2),
        ("a.py", 1, 3),
        ("b.py", 2, 3),
    ]


# --- split_claims ----------------------------------------------------------------------------


def test_split_sentences_items_and_identifiers():
    answer = textwrap.dedent(
        """\
        ## Saving

        Sure! `save_user` checks the email, e.g. empty ones. It calls Store.save [app/store.py:7-9].
        (app/store.py:1-2)

        - The `APIRouter` routes via register_route (app/routes.py:6-7)
          and keeps going.
        - Python is used throughout.
        """
    )
    claims = split_claims(answer)
    assert [(c.kind, c.text) for c in claims] == [
        ("heading", "## Saving"),
        ("sentence", "Sure!"),
        ("sentence", "`save_user` checks the email, e.g. empty ones."),
        ("sentence", "It calls Store.save [app/store.py:7-9].\n(app/store.py:1-2)"),
        (
            "item",
            "The `APIRouter` routes via register_route (app/routes.py:6-7)\n  and keeps going.",
        ),
        ("item", "Python is used throughout."),
    ]
    assert all(answer[c.start : c.end] == c.text for c in claims)
    assert claims[2].identifiers == ("save_user",)
    assert claims[3].identifiers == ("Store.save",)
    assert [c.text for c in claims[3].citations] == ["app/store.py:7-9", "app/store.py:1-2"]
    assert claims[4].identifiers == ("APIRouter", "register_route")
    assert claims[5].identifiers == ()


def test_code_blocks_are_kept_whole():
    answer = "Look:\n\n```python\ndef f():\n    return 1.  Next one. Done\n\n\nx = 2\n```\nAfter."
    claims = split_claims(answer)
    assert [c.kind for c in claims] == ["sentence", "code", "sentence"]
    assert claims[1].text == "```python\ndef f():\n    return 1.  Next one. Done\n\n\nx = 2\n```"
    assert claims[1].identifiers == ()


def test_urls_and_citations_name_no_identifiers():
    (claim,) = split_claims("Docs at http://host:8080/api_v2 and app/store.py:1-2 say so.")
    assert claim.identifiers == ()
    assert [c.path for c in claim.citations] == ["app/store.py"]


# --- verify_citation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("app/nothere.py:1-2", "no such file"),
        ("app/store.py:10-99", "beyond end of file"),
        ("../outside.py:1", "escapes"),
        ("app/../../outside.py:1", "escapes"),
        ("app/store.py:0-2", "before line 1"),
        ("app/store.py:9-3", "after end line"),
    ],
)
def test_verify_rejects(repo, text, reason):
    (repo.parent / "outside.py").write_text("x = 1\n")
    verdict = verify_citation(cite(text), repo)
    assert not verdict.ok
    assert reason in verdict.reason


def test_verify_rejects_a_directory(repo):
    verdict = verify_citation(Citation("app", 1, 1, "app:1"), repo)
    assert (verdict.ok, verdict.reason) == (False, "no such file")


def test_verify_rejects_absolute_path(repo):
    target = repo / "app" / "store.py"
    verdict = verify_citation(cite(f"{target}:1-2"), repo)
    assert (verdict.ok, verdict.reason) == (False, "absolute path")


def test_verify_rejects_symlink_outside_root(repo):
    secret = repo.parent / "secret.py"
    secret.write_text("TOKEN = 1\n")
    (repo / "app" / "link.py").symlink_to(secret)
    (repo / "linked").symlink_to(repo.parent)
    for text in ("app/link.py:1", "linked/secret.py:1"):
        verdict = verify_citation(cite(text), repo)
        assert not verdict.ok
        assert "outside" in verdict.reason


def test_verify_accepts_symlink_inside_root(repo):
    (repo / "app" / "alias.py").symlink_to(repo / "app" / "store.py")
    assert verify_citation(cite("app/alias.py:4-9"), repo).ok


def test_verify_indexed_and_max_span(repo):
    c = cite("app/routes.py:1-3")
    assert verify_citation(c, repo, indexed={"app/routes.py"}).ok
    verdict = verify_citation(c, repo, indexed={"app/store.py"})
    assert (verdict.ok, verdict.reason) == (False, "file is not indexed")
    assert not verify_citation(c, repo, max_span=2).ok
    assert verify_citation(cite("app/routes.py:7"), repo).ok  # last line, no line beyond EOF


def test_reader_reads_each_file_once(repo):
    reader = SourceReader(repo)
    assert verify_citation(cite("app/store.py:16"), repo, reader=reader).ok
    assert not verify_citation(cite("app/store.py:17"), repo, reader=reader).ok
    (repo / "app" / "store.py").write_text("x = 1\n")
    assert verify_citation(cite("app/store.py:15-16"), repo, reader=reader).ok  # cached lines
    assert not verify_citation(cite("app/store.py:15-16"), repo).ok  # a fresh reader re-reads


def test_undecodable_bytes_are_replaced(repo):
    (repo / "blob.txt").write_bytes(b"ok\n\xff\xfe bad\nend\n")
    assert verify_citation(cite("blob.txt:2-3"), repo).ok


# --- check_answer ----------------------------------------------------------------------------


def test_correct_citation_is_accepted(repo):
    check = check_answer(
        "`save_user` raises ValueError without an email [app/store.py:12-16].", repo
    )
    assert check.ok
    assert [c.text for c in check.valid] == ["app/store.py:12-16"]
    assert check.invalid == [] and check.unsupported_claims == []


def test_span_without_the_named_identifier_is_unsupported(repo):
    answer = "`save_user` validates the user (app/routes.py:3-7)."
    check = check_answer(answer, repo)
    assert [c.text for c in check.valid] == ["app/routes.py:3-7"]
    assert check.unsupported_claims == [answer]
    assert not check.ok


def test_fabricated_path_makes_the_claim_unsupported(repo):
    answer = "The `login` handler checks passwords [app/auth.py:1-20]."
    check = check_answer(answer, repo)
    assert [(c.path, reason) for c, reason in check.invalid] == [("app/auth.py", "no such file")]
    assert check.unsupported_claims == [answer]


def test_one_valid_citation_among_several_supports_the_claim(repo):
    answer = "`save_user` calls `Store.save` [app/auth.py:1-3, app/store.py:7-16, app/store.py:90]."
    check = check_answer(answer, repo)
    assert [c.text for c in check.valid] == ["app/store.py:7-16"]
    assert [c.text for c, _ in check.invalid] == ["app/auth.py:1-3", "app/store.py:90"]
    assert check.unsupported_claims == []
    assert strip_invalid(answer, check) == "`save_user` calls `Store.save` [app/store.py:7-16]."


def test_dotted_names_need_the_last_part_in_the_span_and_the_qualifier_in_the_file(repo):
    ok = check_answer("`Store.save` appends the user (app/store.py:7-9).", repo)
    assert ok.ok  # the method's span does not repeat its class; the file names it
    wrong_class = check_answer("`Cache.save` appends the user (app/store.py:7-9).", repo)
    assert wrong_class.unsupported_claims
    module = check_answer("The `app.store` module holds the users (app/store.py:1).", repo)
    assert module.ok


def test_identifier_is_case_sensitive(repo):
    check = check_answer("`SAVE_USER` is defined here (app/store.py:12-16).", repo)
    assert check.unsupported_claims


def test_uncited_claims_and_substantive_rule(repo):
    answer = textwrap.dedent(
        """\
        # Answer

        Here is what I found:

        The code base stores every user in a list that lives in memory only.
        `register` adds a route.
        Hope this helps!
        """
    )
    strict = check_answer(answer, repo)
    assert strict.unsupported_claims == [
        "The code base stores every user in a list that lives in memory only.",
        "`register` adds a route.",
    ]
    assert check_answer(answer, repo, require_citations=False).ok


def test_indexed_set_is_enforced(repo):
    answer = "`register` stores a handler (app/routes.py:6-7)."
    assert check_answer(answer, repo, indexed={"app/routes.py"}).ok
    check = check_answer(answer, repo, indexed={"app/store.py"})
    assert [reason for _, reason in check.invalid] == ["file is not indexed"]
    assert check.unsupported_claims == [answer]


def test_to_json_is_plain(repo):
    check = check_answer("`register` adds (app/routes.py:6-7). `x_y` (nope.py:1).", repo)
    data = json.loads(json.dumps(check.to_json()))
    assert data == {
        "ok": False,
        "valid": [{"path": "app/routes.py", "start_line": 6, "end_line": 7}],
        "invalid": [{"path": "nope.py", "start_line": 1, "end_line": 1, "reason": "no such file"}],
        "unsupported_claims": ["`x_y` (nope.py:1)."],
    }


# --- strip_invalid ---------------------------------------------------------------------------


def test_strip_invalid_removes_bad_citations_and_unsupported_claims(repo):
    answer = (
        "Users are saved in two steps. `save_user` checks the email [app/store.py:12-16], "
        "[app/store.py:99]. Short note (nope.py:1). `login` verifies passwords [app/auth.py:3].\n"
        "\n"
        "- `register` maps a path (app/routes.py:6-7).\n"
        "- `delete_user` removes a user (app/store.py:1-5).\n"
        "- `ROUTES` holds handlers `app/routes.py:3` `README.md:50`.\n"
    )
    check = check_answer(answer, repo)
    assert check.unsupported_claims == [
        "Short note (nope.py:1).",  # all its citations are invalid: nothing backs it
        "`login` verifies passwords [app/auth.py:3].",
        "`delete_user` removes a user (app/store.py:1-5).",
    ]
    assert strip_invalid(answer, check) == (
        "Users are saved in two steps. `save_user` checks the email [app/store.py:12-16].\n"
        "\n"
        "- `register` maps a path (app/routes.py:6-7).\n"
        "- `ROUTES` holds handlers `app/routes.py:3`.\n"
    )


def test_strip_invalid_drops_a_whole_paragraph(repo):
    answer = "`register` adds a route (app/routes.py:6-7).\n\n`nope_fn` works.\n\nBye.\n"
    check = check_answer(answer, repo)
    assert strip_invalid(answer, check) == "`register` adds a route (app/routes.py:6-7).\n\nBye.\n"


# --- render_no_evidence ----------------------------------------------------------------------


def test_render_no_evidence_lists_closest_matches(repo):
    hits = [
        {"path": "app/store.py", "start_line": 12, "end_line": 16, "symbol": "save_user"},
        {"path": "app/store.py", "start_line": 12, "end_line": 16, "symbol": "save_user"},
        {"path": "README.md", "start_line": 1, "end_line": 3, "symbol": None},
        {"path": "app/routes.py", "start_line": 6, "end_line": 7, "symbol": "register"},
    ]
    text = render_no_evidence("How are   passwords\nhashed?", hits, limit=2)
    assert text == (
        'The indexed code base does not show an answer to "How are passwords hashed?"; '
        "the closest matches were:\n\n"
        "1. app/store.py:12-16  save_user\n"
        "2. README.md:1-3"
    )
    assert check_answer(text, repo).ok


def test_render_no_evidence_without_hits():
    text = render_no_evidence("Where is the cache?", [])
    assert text.startswith('The indexed code base does not show an answer to "Where is the cache?"')
    assert text.endswith("no indexed code matched it closely.")


def test_paths_with_plus_at_and_tilde_are_parsed_whole():
    from app.answer import parse_citations

    got = parse_citations("See c++/a.cpp:1-2 and pkg@2/b~1.py:3.")
    assert [(c.path, c.start_line, c.end_line) for c in got] == [
        ("c++/a.cpp", 1, 2),
        ("pkg@2/b~1.py", 3, 3),
    ]
