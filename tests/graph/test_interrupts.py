"""Human-in-the-loop: plan review and low-confidence interrupts (interactive runs only)."""

from __future__ import annotations

import pytest

STRONG = "how is a message signed with a secret key?"
WEAK = "how does the kubernetes operator reconcile pods?"
SEARCH = ["retrieve", "expand", "rerank", "check_context"]


def pending(out: dict) -> dict:
    (intr,) = out["__interrupt__"]
    return intr.value


def test_review_plan_interrupts_with_the_plan(qa):
    out = qa.ask(STRONG, interactive=True)
    assert pending(out) == {"type": "review_plan", "plan": [STRONG]}
    assert qa.graph.get_state({"configurable": {"thread_id": "t"}}).next == ("review_plan",)
    assert "retrieve" not in out["trace"] and qa.llm.calls("answer") == []


def test_edited_plan_is_what_gets_searched(qa):
    qa.ask(STRONG, interactive=True)
    edited = ["  where is hmac used ", "", "sign function"]
    out = qa.resume({"action": "edit", "plan": edited}, interactive=True)
    assert "__interrupt__" not in out
    assert out["plan"] == ["where is hmac used", "sign function"]
    assert out["tried"] == ["where is hmac used", "sign function"]
    assert out["trace"][:5] == ["condense", "route", "decompose:off", "review_plan", "hyde:off"]
    assert out["status"] == "answered" and qa.check(out["answer"]).ok


def test_an_empty_edit_keeps_the_plan(qa):
    qa.ask(STRONG, interactive=True)
    out = qa.resume({"action": "edit", "plan": ["  "]}, interactive=True)
    assert out["plan"] == [STRONG] and out["status"] == "answered"


@pytest.mark.parametrize("reply", [{"action": "approve"}, "yes", 42])
def test_approve_or_anything_else_keeps_the_plan(qa, reply):
    qa.ask(STRONG, interactive=True)
    out = qa.resume(reply, interactive=True)
    assert out["plan"] == [STRONG] and "review_plan" in out["trace"]
    assert out["status"] == "answered"


def test_abort_at_plan_review_ends_the_turn(qa):
    qa.ask(STRONG, interactive=True)
    out = qa.resume({"action": "abort"}, interactive=True)
    assert out["status"] == "aborted" and out["answer"] == "Stopped at plan review."
    assert out["trace"][-2:] == ["abort", "finish"] and "retrieve" not in out["trace"]
    assert qa.llm.prompts == []
    assert qa.graph.get_state({"configurable": {"thread_id": "t"}}).next == ()


def weak_until_low_confidence(qa) -> dict:
    """Ask WEAK interactively, approve the plan, return the low-confidence interrupt."""
    qa.ask(WEAK, interactive=True)
    return qa.resume({"action": "approve"}, interactive=True)


def test_weak_context_asks_the_human_after_the_rewrites(qa):
    out = weak_until_low_confidence(qa)
    request = pending(out)
    assert request["type"] == "low_confidence" and request["question"] == WEAK
    assert request["confidence"] < 0.5
    assert 1 <= len(request["hits"]) <= 5
    assert set(request["hits"][0]) == {"path", "start_line", "end_line", "symbol"}
    assert out["trace"].count("rewrite") == 1 and out["context_attempts"] == 2


def test_a_hint_is_searched_again_with_the_question(qa):
    weak_until_low_confidence(qa)
    hint = "sign message secret key"
    out = qa.resume({"action": "hint", "hint": f"  {hint} "}, interactive=True)
    tail = out["trace"][out["trace"].index("hint") :]
    assert tail[:5] == ["hint", *SEARCH]
    assert out["tried"][-1] == hint and WEAK in out["tried"] and out["context_attempts"] == 3
    assert "auth.tokens.sign" in [h["symbol"] for h in out["hits"]]  # found through the hint
    assert "__interrupt__" not in out  # judged by the hint's words, the evidence is good now
    assert out["status"] == "answered" and qa.check(out["answer"]).ok
    assert "auth/tokens.py:4-6" in out["answer"]


def test_a_hint_that_finds_the_code_leads_to_an_answer(qa):
    weak_until_low_confidence(qa)
    out = qa.resume({"action": "hint", "hint": "sign message secret key"}, interactive=True)
    assert "__interrupt__" not in out
    assert out["hits"][0]["symbol"] == "auth.tokens.sign"


def test_at_most_two_hints_then_it_answers(qa):
    weak_until_low_confidence(qa)
    out = qa.resume({"action": "hint", "hint": "zebra unicorn"}, interactive=True)
    assert pending(out)["type"] == "low_confidence"
    out = qa.resume({"action": "hint", "hint": "walrus narwhal"}, interactive=True)
    assert "__interrupt__" not in out
    assert out["trace"].count("hint") == 2 and out["context_attempts"] == 4
    assert out["trace"][-3:] == ["answer", "check_answer", "finish"]


def test_answer_anyway(qa):
    weak_until_low_confidence(qa)
    out = qa.resume({"action": "answer"}, interactive=True)
    assert "answer_anyway" in out["trace"] and out["status"] == "answered"
    assert out["context_attempts"] == 2


def test_an_empty_hint_answers_anyway(qa):
    weak_until_low_confidence(qa)
    out = qa.resume({"action": "hint", "hint": "   "}, interactive=True)
    assert "answer_anyway" in out["trace"] and out["context_attempts"] == 2


def test_abort_on_low_confidence(qa):
    weak_until_low_confidence(qa)
    out = qa.resume({"action": "abort"}, interactive=True)
    assert out["status"] == "aborted" and out["answer"] == "Stopped."
    assert qa.llm.calls("answer") == []


@pytest.mark.parametrize("question", [STRONG, WEAK, "save_user", "Zebra", "who calls save_user?"])
def test_non_interactive_runs_never_interrupt(qa, question):
    out = qa.ask(question, max_context_retries=2)
    assert "__interrupt__" not in out
    assert qa.graph.get_state({"configurable": {"thread_id": "t"}}).next == ()
    assert out["trace"][-1] == "finish"
    assert "review_plan" not in out["trace"] and "low_confidence" not in out["trace"]
