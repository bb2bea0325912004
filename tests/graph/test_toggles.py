"""QuestionContext switches: decompose, hyde, expand, verify, condense on and off."""

from __future__ import annotations

import json

from graphs import QuestionContext

QUESTION = "how is a message signed with a secret key?"
SNIPPET = "def sign_message(secret, message):\n    return hmac.new(secret, message).hexdigest()"


def test_decompose_on_adds_the_llm_sub_questions_after_the_question(qa):
    subs = ["which function signs", "  ", "abc", QUESTION]
    qa.llm.queue("decompose", json.dumps({"sub_questions": subs}))
    out = qa.ask(QUESTION, decompose=True)
    (prompt,) = qa.llm.calls("decompose")
    assert f"<question>{QUESTION}</question>" in prompt and "at most 3 short" in prompt
    # blank, too-short and repeated items are dropped; the original stays first
    assert out["plan"] == [QUESTION, "which function signs"]
    assert out["queries"] == out["plan"]  # hyde is off
    assert out["tried"] == out["plan"]
    assert "decompose" in out["trace"] and "hyde:off" in out["trace"]


def test_decompose_plan_is_bounded_by_max_sub_questions(qa):
    subs = [f"sub question number {i}" for i in range(5)]
    qa.llm.queue("decompose", json.dumps({"sub_questions": subs}))
    out = qa.ask(QUESTION, decompose=True, max_sub_questions=2)
    assert out["plan"] == [QUESTION, subs[0], subs[1]]
    assert "at most 2 short" in qa.llm.calls("decompose")[0]


def test_decompose_off_keeps_the_question_and_calls_no_llm(qa):
    out = qa.ask(QUESTION, decompose=False)
    assert out["plan"] == [QUESTION]
    assert "decompose:off" in out["trace"] and "decompose" not in out["trace"]
    assert qa.llm.calls("decompose") == []


def test_hyde_on_searches_the_hypothetical_code_too(qa):
    qa.llm.queue("hyde", SNIPPET)
    out = qa.ask(QUESTION, hyde=True)
    (prompt,) = qa.llm.calls("hyde")
    assert prompt.startswith("Write a short Python code snippet") and QUESTION in prompt
    assert out["queries"] == [QUESTION, SNIPPET]
    assert out["tried"][:2] == [QUESTION, SNIPPET]
    assert "hyde" in out["trace"] and out["llm_calls"] == 2  # hyde + answer


def test_hyde_empty_reply_adds_no_query(qa):
    qa.llm.queue("hyde", "   ")
    out = qa.ask(QUESTION, hyde=True)
    assert out["queries"] == [QUESTION]


def test_hyde_off_calls_no_llm(qa):
    out = qa.ask(QUESTION)
    assert "hyde:off" in out["trace"] and qa.llm.calls("hyde") == []
    assert [k for k, _ in qa.llm.prompts] == ["answer"]


def test_expand_off_skips_the_call_graph_expansion(qa):
    on = qa.ask("save_user", thread="on")
    off = qa.ask("save_user", thread="off", expand=False)
    assert "expand" in on["trace"] and "expand:off" in off["trace"]
    assert "expand" not in off["trace"]
    # expansion marks the call-graph neighbours of the best hits and sets the PageRank prior
    assert any("graph" in c["ranks"] for c in on["pool"]["cands"])
    assert any(c["prior"] > 0 for c in on["pool"]["cands"])
    assert not any("graph" in c["ranks"] or c["expanded"] for c in off["pool"]["cands"])
    assert all(c["prior"] == 0 for c in off["pool"]["cands"])
    assert all("graph" not in h["lanes"] for h in off["hits"])


def test_verify_off_keeps_unchecked_citations(qa):
    qa.llm.queue("answer", "The signing happens in nope.py:1-5 as shown [1].")
    out = qa.ask(QUESTION, verify=False)
    assert out["trace"][-2:] == ["check_answer:off", "finish"]
    assert {"path": "nope.py", "start_line": 1, "end_line": 5} in out["citations"]
    assert "nope.py:1-5" in out["answer"] and out.get("rejected", []) == []
    assert len(qa.llm.calls("answer")) == 1  # no redraft


def test_condense_off_keeps_a_follow_up_as_typed(qa):
    qa.ask("who calls save_user?")
    out = qa.ask("and what does check_email call?", condense=False)
    assert qa.llm.calls("condense") == []
    assert out["standalone"] == "and what does check_email call?"
    assert out["target"] == "check_email"


def test_by_default_weak_evidence_is_answered_without_another_search(qa):
    default = QuestionContext()
    out = qa.ask(
        "how does the kubernetes operator reconcile pods?",
        rewrite=default.rewrite,
        max_context_retries=default.max_context_retries,
    )
    assert "rewrite" not in out["trace"] and out["trace"].count("retrieve") == 1
    assert out["context_attempts"] == 1 and qa.llm.calls("rewrite") == []
