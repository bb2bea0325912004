"""Chat-model failures: bad structured output and permanent errors fall back to rules;
transient errors are retried by the nodes' RetryPolicy."""

from __future__ import annotations

import httpx
import pytest

from app.llm import LLMUnavailableError
from graphs import QuestionContext, builder
from tests.graph.fakes import raising, returning

QUESTION = "how is a message signed with a secret key?"
WEAK = "how does the kubernetes operator reconcile pods?"


@pytest.mark.parametrize(
    "structured",
    [
        raising(ValueError("grammar failed")),
        raising(LLMUnavailableError("model gone")),
        returning("not a plan"),
        returning({"sub_questions": "one string"}),
        returning(None),
        returning(["a", "list"]),
    ],
    ids=["raises", "raises-unavailable", "string", "wrong-type", "none", "list"],
)
def test_structured_failure_keeps_the_whole_question(make_harness, structured):
    qa = make_harness(structured=structured)
    out = qa.ask(QUESTION, decompose=True)
    assert out["plan"] == [QUESTION]
    assert out["status"] == "answered" and out["trace"][-1] == "finish"
    assert qa.check(out["answer"]).ok


def test_structured_output_as_a_plain_dict_is_validated(make_harness):
    qa = make_harness(structured=returning({"sub_questions": ["which module signs data"]}))
    out = qa.ask(QUESTION, decompose=True)
    assert out["plan"] == [QUESTION, "which module signs data"]


def test_unparseable_model_json_keeps_the_whole_question(qa):
    qa.llm.queue("decompose", "Sure! Here are the sub-questions: 1. signing")
    out = qa.ask(QUESTION, decompose=True)
    assert len(qa.llm.calls("decompose")) == 1
    assert out["plan"] == [QUESTION] and out["status"] == "answered"


def test_service_retry_policy_retries_only_transient_errors():
    policy = builder.SERVICE_RETRY
    assert policy.max_attempts == 3
    retry_on = policy.retry_on
    assert callable(retry_on) and not isinstance(retry_on, type)
    assert retry_on(ConnectionError("refused"))
    assert retry_on(httpx.ConnectError("refused"))
    assert retry_on(httpx.ReadTimeout("slow"))
    assert not retry_on(ValueError("bad json"))
    assert not retry_on(LLMUnavailableError("no model"))


def test_llm_nodes_carry_the_retry_policy(qa):
    nodes = qa.graph.builder.nodes
    for name in ("condense", "decompose", "hyde", "rewrite", "answer"):
        assert nodes[name].retry_policy == builder.SERVICE_RETRY, name
    for name in ("route", "retrieve", "check_answer", "graph_answer"):
        assert nodes[name].retry_policy is None, name


@pytest.mark.usefixtures("fast_retry")
def test_transient_answer_failures_are_retried_then_succeed(make_harness, llm):
    llm.queue("answer", ConnectionError("refused"), httpx.ConnectError("refused"))
    qa = make_harness()
    out = qa.ask(QUESTION)
    assert len(qa.llm.calls("answer")) == 3  # two failures, then the default answer
    assert out["trace"].count("answer") == 1  # failed attempts write nothing
    assert out["answer"].startswith(
        "It signs the message with the secret key (auth/tokens.py:4-6)."
    )
    assert out["status"] == "answered" and out["llm_calls"] == 1


@pytest.mark.usefixtures("fast_retry")
def test_transient_structured_failure_is_retried(make_harness, llm):
    llm.queue("decompose", httpx.ReadTimeout("slow"), '{"sub_questions": ["where is hmac used"]}')
    qa = make_harness()
    out = qa.ask(QUESTION, decompose=True)
    assert len(qa.llm.calls("decompose")) == 2
    assert out["plan"] == [QUESTION, "where is hmac used"]


@pytest.mark.usefixtures("fast_retry")
def test_a_server_that_stays_down_fails_the_turn_after_three_attempts(make_harness, llm):
    llm.queue("answer", *[ConnectionError("refused")] * 3)
    qa = make_harness()
    with pytest.raises(ConnectionError):
        qa.ask(QUESTION)
    assert len(qa.llm.calls("answer")) == 3
    # the checkpoint stops before the failed node: running the thread on finishes the turn
    out = qa.graph.invoke(None, {"configurable": {"thread_id": "t"}}, context=QuestionContext())
    assert out["status"] == "answered" and len(qa.llm.calls("answer")) == 4


def test_the_real_back_off_retries_once(make_harness, llm):
    """The unpatched policy sleeps 0.5-1.5 s before its second attempt."""
    llm.queue("answer", ConnectionError("refused"))
    out = make_harness().ask(QUESTION)
    assert len(llm.calls("answer")) == 2 and out["status"] == "answered"


@pytest.mark.parametrize(
    "error", [ValueError("bad request"), LLMUnavailableError("model missing")], ids=type
)
def test_permanent_failures_fall_back_everywhere(make_harness, llm, error):
    for kind in ("condense", "decompose", "hyde", "rewrite", "answer"):
        llm.defaults.pop(kind, None)
        llm.queue(kind, *[error] * 5)
    qa = make_harness()
    first = qa.ask(WEAK, decompose=True, hyde=True, check_subject=False)
    assert first["plan"] == [WEAK]  # decompose fell back
    assert first["queries"][-1] == "kubernetes operator reconcile pods"  # rewrite -> keywords
    assert first["queries"][0] == WEAK  # searched beside the question, not instead of it
    assert first["status"] == "answered"
    # answer -> the evidence's own lead sentence and the pointers, no model prose
    assert first["answer"].startswith("The most relevant code is `save` (store/backup.py:1-3)")
    assert "\n\nWhere to look:\n" in first["answer"]
    assert qa.check(first["answer"]).ok
    follow = qa.ask("and who calls sign too?")  # condense fails -> the question as typed
    assert follow["standalone"] == "and who calls sign too?" and follow["target"] == "sign"
    for kind in ("condense", "decompose", "hyde", "rewrite", "answer"):
        assert len(llm.calls(kind)) == 1, kind  # permanent errors are not retried
