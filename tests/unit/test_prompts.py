"""Prompt templates: each renders with exactly its placeholders, and nothing else."""

from __future__ import annotations

from importlib import resources

import pytest

import prompts
from prompts import load, placeholders, render

EXPECTED = {
    "answer": {"feedback", "question", "context"},
    "answer_example": set(),
    "answer_system": {"max_sentences"},
    "chitchat": {"repo"},
    "clarify": {"word"},
    "condense": {"history", "question"},
    "decompose": {"max_parts", "question"},
    "expand_query": {"language", "question"},
    "hyde": {"language", "question"},
    "rewrite": {"question", "tried"},
    "step_back": {"question"},
}
"""The fields each node fills in (graphs/nodes/*.py)."""
FILLED = sorted(name for name, fields in EXPECTED.items() if fields)
"""Templates rendered with values (``answer_example`` is sent as it is)."""


def template_names() -> list[str]:
    files = resources.files(prompts).iterdir()
    return sorted(f.name.removesuffix(".md") for f in files if f.name.endswith(".md"))


def test_every_template_is_known():
    assert template_names() == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_template_has_exactly_the_expected_placeholders(name):
    assert placeholders(name) == EXPECTED[name]


@pytest.mark.parametrize("name", FILLED)
def test_render_fills_every_placeholder(name):
    values = {field: f"<<{field} value>>" for field in EXPECTED[name]}
    text = render(name, **values)
    for value in values.values():
        assert value in text
    assert "{" not in text and "}" not in text
    assert text.strip() and text != load(name)


@pytest.mark.parametrize("name", FILLED)
def test_render_rejects_a_missing_placeholder(name):
    fields = sorted(EXPECTED[name])
    values = {field: "x" for field in fields[1:]}
    with pytest.raises(KeyError, match=rf"prompt {name}: missing \['{fields[0]}'\]"):
        render(name, **values)


@pytest.mark.parametrize("name", FILLED)
def test_render_rejects_an_unexpected_value(name):
    values = {field: "x" for field in EXPECTED[name]}
    with pytest.raises(KeyError, match=r"unexpected \['surplus'\]"):
        render(name, **values, surplus="y")


def test_values_are_inserted_literally():
    code = "def f():\n    return {'a': 1}  # {question}"
    text = render("answer", question="q", context=code, feedback="")
    assert code in text
    assert "at most 3 short sentences" in render("answer_system", max_sentences=3)


def test_the_worked_example_is_one_exchange_in_the_evidence_format():
    from graphs.nodes.respond import _ECHOED_HEADER

    asked, _, answered = load("answer_example").partition("=== answer ===")
    assert asked.startswith("<code>\n") and "Question: " in asked
    assert _ECHOED_HEADER.match(asked.split("\n")[1])  # "[1] path lines a-b, `name`"
    assert answered.strip().endswith("[1].") and "```" not in answered


def test_unknown_template_fails():
    with pytest.raises(FileNotFoundError):
        load("no_such_prompt")
