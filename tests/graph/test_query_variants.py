"""step_back and expand_query: LLM query variants searched beside the question."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from graphs.nodes.variants import expansion_terms, general_question

QUESTION = "how is a new account registered?"
GENERAL = "How does the code base persist user records?"


@pytest.fixture
def searched(qa: Any, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The query lists handed to ``Searcher.retrieve``, one per call."""
    calls: list[list[str]] = []
    real = qa.searcher.retrieve

    def spy(queries: Sequence[str], options: Any) -> Any:
        calls.append(list(queries))
        return real(queries, options)

    monkeypatch.setattr(qa.searcher, "retrieve", spy)
    return calls


def test_both_off_by_default_call_no_llm_and_add_no_node(qa, searched):
    out = qa.ask(QUESTION)
    assert not {"step_back", "expand_query"} & {t.split(":")[0] for t in out["trace"]}
    assert qa.llm.calls("step_back") == [] and qa.llm.calls("expand_query") == []
    assert searched[0] == [QUESTION]


def test_step_back_question_is_searched_beside_the_question(qa, searched):
    qa.llm.queue("step_back", f"General question: {GENERAL}\nextra rambling")
    out = qa.ask(QUESTION, step_back=True)
    (prompt,) = qa.llm.calls("step_back")
    assert f"<question>{QUESTION}</question>" in prompt
    assert searched[0] == [QUESTION, GENERAL]
    assert out["step_back_question"] == GENERAL and out["queries"] == [QUESTION, GENERAL]
    assert "step_back" in out["trace"] and out["llm_calls"] == 2  # step_back + answer
    assert qa.llm.calls("expand_query") == []


def test_expansion_terms_reach_retrieval_and_the_pool(qa, searched):
    qa.llm.queue("expand_query", "registered, save_user, the Store class, check_email")
    out = qa.ask(QUESTION, expand_query=True)
    (prompt,) = qa.llm.calls("expand_query")
    assert prompt.startswith("List 3 to 5 Python identifiers") and QUESTION in prompt
    # words already in the question and filler words are dropped
    assert out["expansion_terms"] == ["save_user", "Store", "check_email"]
    assert searched[0] == [QUESTION, "save_user Store check_email"]
    pool_paths = {qa.searcher._state().catalog.chunks[c["id"]].path for c in out["pool"]["cands"]}
    assert "store/users.py" in pool_paths
    assert "expand_query" in out["trace"] and qa.llm.calls("step_back") == []


def test_both_on_run_step_back_then_expansion(qa, searched):
    qa.llm.queue("step_back", GENERAL).queue("expand_query", "save_user")
    out = qa.ask(QUESTION, step_back=True, expand_query=True)
    order = [t for t in out["trace"] if t in ("hyde:off", "step_back", "expand_query", "retrieve")]
    assert order == ["hyde:off", "step_back", "expand_query", "retrieve"]
    assert searched[0] == [QUESTION, GENERAL, "save_user"]


@pytest.mark.parametrize("reply", [RuntimeError("model crashed"), "   ", QUESTION.upper()])
def test_step_back_failure_falls_back_to_the_question(qa, searched, reply):
    qa.llm.queue("step_back", reply)
    out = qa.ask(QUESTION, step_back=True)
    assert searched[0] == [QUESTION] and "step_back_question" not in out
    assert "step_back:fallback" in out["trace"] and out["status"] == "answered"


@pytest.mark.parametrize("reply", [ValueError("bad output"), "", "how is the new account"])
def test_expand_query_failure_falls_back_to_the_question(qa, searched, reply):
    qa.llm.queue("expand_query", reply)
    out = qa.ask(QUESTION, expand_query=True)
    assert searched[0] == [QUESTION] and "expansion_terms" not in out
    assert "expand_query:fallback" in out["trace"] and out["status"] == "answered"


def test_variants_do_not_run_for_symbol_lookups(qa, searched):
    out = qa.ask("save_user", step_back=True, expand_query=True)
    assert out["route"] == "symbol" and qa.llm.calls("step_back") == []
    assert searched[0] == ["save_user"]


def test_expansion_terms_are_bounded_and_deduplicated():
    reply = "alpha beta Alpha gamma delta epsilon zeta pkg.mod.func"
    expected = ["alpha", "gamma", "delta", "epsilon", "zeta"]
    assert expansion_terms(reply, "where is beta?") == expected
    assert expansion_terms(None, "q") == []


def test_general_question_strips_labels_and_quotes():
    assert general_question('  \n"Question: What is caching?"', "why?") == "What is caching?"
    assert general_question("ok", "why?") is None
