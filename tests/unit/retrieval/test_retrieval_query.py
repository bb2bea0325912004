"""Query analysis: symbol lookups vs questions, identifiers and content words."""

from __future__ import annotations

import pytest

from app.index.tokens import STOP_WORDS
from app.retrieval.query import analyse


@pytest.mark.parametrize(
    ("text", "identifier"),
    [
        ("APIRouter", "APIRouter"),
        ("get_user", "get_user"),
        ("Sinatra::Base", "Sinatra.Base"),
        ("_private", "_private"),
        ("Class.method", "Class.method"),
        ("save_user()", "save_user"),
        ("`Foo#bar`", "Foo.bar"),
        ("ptr->next", "ptr.next"),
        ("  getUser  ", "getUser"),
    ],
)
def test_bare_identifier_is_a_symbol_lookup(text, identifier):
    q = analyse(text)
    assert q.is_symbol
    assert q.identifiers == (identifier,)
    assert q.text == text


def test_names_are_the_last_segment_of_each_identifier():
    assert analyse("Sinatra::Base").names == ("Base",)
    assert analyse("pkg.mod.Class.method").names == ("method",)
    assert analyse("getUser fetchUser").names == ("getUser", "fetchUser")


def test_two_identifiers_are_still_a_lookup_but_two_plain_words_are_not():
    assert analyse("getUser fetchUser").is_symbol
    q = analyse("parse config")
    assert not q.is_symbol and q.identifiers == ()
    assert q.words == ("parse", "config")


@pytest.mark.parametrize(
    ("text", "identifiers"),
    [
        ("how does the APIRouter include routes?", ("APIRouter",)),
        ("where is get_user called", ("get_user",)),
        ("what does Store.save write to disk", ("Store.save",)),
        ("why does Sinatra::Base reload", ("Sinatra.Base",)),
        ("How are failed calls retried with backoff?", ()),
    ],
)
def test_question_is_not_a_lookup_but_its_identifiers_are_extracted(text, identifiers):
    q = analyse(text)
    assert not q.is_symbol
    assert q.identifiers == identifiers


def test_capitalised_first_word_of_a_question_is_not_an_identifier():
    q = analyse("Where Is The Parser")
    assert q.identifiers == ("Parser",)


def test_words_drop_stop_words_and_filler_and_keep_identifier_parts():
    q = analyse("how does the APIRouter include routes?")
    assert q.words == ("apirouter", "api", "router", "include", "routes")
    q = analyse("where is the function that handles token refresh")
    assert q.words == ("token", "refresh")
    assert not set(q.words) & STOP_WORDS
    assert analyse("get_user").words == ("get_user", "user")  # 'get' is filler


def test_words_are_unique_and_lower_case():
    q = analyse("User user USER userName")
    assert q.words == ("user", "username", "name")


@pytest.mark.parametrize("text", ["", "   ", "?", "the and of"])
def test_empty_or_stop_word_query_has_nothing(text):
    q = analyse(text)
    assert q.words == ()
    assert q.identifiers == ()
    assert not q.is_symbol
