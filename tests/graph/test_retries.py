"""Bounded loops: weak context is rewritten at most max_context_retries times; answers whose
citations fail are redrafted at most max_answer_retries times, and only verified ones remain."""

from __future__ import annotations

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from graphs import build_question_graph
from tests.graph.conftest import Harness, make_deps
from tests.graph.fakes import json_structured
from tests.unit.retrieval.test_retrieval_lanes import REPO, make_searcher

WEAK = "how does the kubernetes operator reconcile pods?"
"""Nothing in the fixture repository covers these words (the subject check, on by default,
answers it without drafting: the loops are tested with it off)."""
STRONG = "how is a message signed with a secret key?"


@pytest.mark.parametrize("retries", [0, 1, 2])
def test_weak_context_is_rewritten_exactly_max_context_retries_times(qa, retries):
    rewrites = [f"reconcile loop variant {i}" for i in range(retries)]
    qa.llm.queue("rewrite", *rewrites)
    out = qa.ask(WEAK, max_context_retries=retries, check_subject=False)
    assert "__interrupt__" not in out
    assert out["trace"].count("rewrite") == retries
    assert out["trace"].count("retrieve") == retries + 1 == out["context_attempts"]
    assert out["trace"].count("check_context") == retries + 1
    assert out["trace"][-3:] == ["answer", "check_answer", "finish"]
    assert out["confidence"] < 0.5
    assert out["tried"] == [WEAK, *rewrites]
    assert len(qa.llm.calls("rewrite")) == retries
    if retries:
        # each rewrite prompt lists what was searched already
        assert f"<tried>{WEAK}</tried>" in qa.llm.calls("rewrite")[0]
    assert out["status"] == "answered"
    assert qa.check(out["answer"]).ok


def test_rewrite_falls_back_to_keywords_when_the_llm_repeats_itself(qa):
    qa.llm.queue("rewrite", WEAK)  # already tried
    out = qa.ask(WEAK)
    assert out["tried"] == [WEAK, "kubernetes operator reconcile pods"]


def test_rewrite_off_uses_keywords_without_the_llm(qa):
    out = qa.ask(WEAK, rewrite=False, check_subject=False)
    assert qa.llm.calls("rewrite") == []
    assert out["tried"] == [WEAK, "kubernetes operator reconcile pods"]
    assert out["llm_calls"] == 1  # the answer only


def test_good_context_is_not_rewritten(qa):
    out = qa.ask(STRONG, max_context_retries=3)
    assert "rewrite" not in out["trace"] and out["context_attempts"] == 1


def test_nothing_to_search_ends_with_the_honest_fallback(qa):
    out = qa.ask("?!")
    assert out["hits"] == [] and out["status"] == "no_evidence"
    assert out["answer"] == (
        'The indexed code base does not show an answer to "?!", and no indexed code matched it'
        " closely."
    )
    assert qa.llm.calls("answer") == [] and out["citations"] == []


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("nope.py:1-5", "no such file"),
        ("auth/tokens.py:40-45", "end line 45 beyond end of file (6 lines)"),
        ("../outside.py:1-2", "path escapes the repository root"),
    ],
)
@pytest.mark.parametrize("retries", [0, 1, 2])
def test_unverifiable_citations_are_redrafted_then_stripped(qa, bad, reason, retries):
    draft = f"The message is signed with hmac in {bad} for the caller."
    qa.llm.queue("answer", *[draft] * (retries + 1))
    out = qa.ask(STRONG, max_answer_retries=retries)
    prompts = qa.llm.calls("answer")
    assert len(prompts) == retries + 1 == out["answer_attempts"]
    for later in prompts[1:]:
        assert f"Not valid: {bad}." in later  # the feedback reaches the redraft
    assert out["trace"].count("check_answer") == retries + 1
    path, lines = bad.split(":")
    start, end = (int(x) for x in lines.split("-"))
    assert out["rejected"] == [
        {"path": path, "start_line": start, "end_line": end, "reason": reason}
    ]
    assert bad not in out["answer"]
    check = qa.check(out["answer"])
    assert check.ok and check.valid, check.to_json()
    assert [c.key for c in check.valid] == [
        (c["path"], c["start_line"], c["end_line"]) for c in out["citations"]
    ]


def test_a_good_redraft_replaces_the_bad_one(qa):
    qa.llm.queue("answer", "It lives in nope.py:1-5 somewhere.", "It signs with hmac [1].")
    out = qa.ask(STRONG)
    assert out["answer_attempts"] == 2
    assert out["answer"].startswith("It signs with hmac (auth/tokens.py:4-6).")
    assert "nope.py" not in out["answer"] and out["rejected"] == []
    assert qa.check(out["answer"]).ok


def test_made_up_evidence_numbers_are_dropped_without_a_redraft(qa):
    qa.llm.queue("answer", "It signs the message [9] with the secret key [1].")
    out = qa.ask(STRONG)
    assert len(qa.llm.calls("answer")) == 1
    assert "[9]" not in out["answer"] and "[1]" not in out["answer"]
    assert "(auth/tokens.py:4-6)" in out["answer"]
    assert qa.check(out["answer"]).ok


def test_a_claim_its_citation_does_not_back_is_removed(qa):
    claim = "The `rotate_keys` helper signs the message [1]."
    qa.llm.queue("answer", claim, claim)
    out = qa.ask(STRONG)
    assert len(qa.llm.calls("answer")) == 2  # unsupported -> one redraft
    assert "rotate_keys" not in out["answer"]
    assert out["answer"].startswith("The most relevant code is `sign` (auth/tokens.py:4-6)")
    assert qa.check(out["answer"]).ok


def test_copied_code_and_fences_are_not_kept_in_the_answer(qa):
    qa.llm.queue(
        "answer",
        "```python\nreturn hmac.new(secret, message, 'sha256').hexdigest()\n```\n"
        "It returns a hex digest of the message [1].",
    )
    out = qa.ask(STRONG)
    quoted = "The key line in `sign` is `return hmac.new(secret, message, 'sha256').hexdigest()`"
    assert quoted in out["answer"]  # the evidence's own line, added and cited without the model
    assert "hmac.new" not in out["answer"].replace(quoted, "") and "```" not in out["answer"]
    assert out["answer"].startswith("It returns a hex digest of the message (auth/tokens.py:4-6).")


@pytest.fixture
def stale(tmp_path, llm):
    """A harness over a one-file index whose file was deleted after indexing."""
    searcher = make_searcher(tmp_path, {"auth/tokens.py": str(REPO["auth/tokens.py"])})
    searcher.indexed_paths()  # load the index while the file exists
    (searcher.services.root / "auth/tokens.py").unlink()
    deps = make_deps(searcher, llm, json_structured)
    yield Harness(build_question_graph(deps, checkpointer=InMemorySaver()), llm, searcher)
    searcher.reload()


def test_no_verifiable_citation_left_falls_back_to_does_not_show(stale):
    out = stale.ask(STRONG)
    assert len(stale.llm.calls("answer")) == 2  # one redraft, then the fallback
    assert out["status"] == "no_evidence" and out["citations"] == []
    # the only hit is the deleted file, so no "closest matches" are offered
    assert out["answer"].startswith(f'The indexed code base does not show an answer to "{STRONG}"')
    assert {r["reason"] for r in out["rejected"]} == {"no such file"}
    rejected = {(r["path"], r["start_line"], r["end_line"]) for r in out["rejected"]}
    assert ("auth/tokens.py", 4, 6) in rejected


def test_the_does_not_show_fallback_cites_only_what_verifies(stale):
    out = stale.ask(STRONG)
    assert stale.check(out["answer"]).invalid == []


def test_a_redraft_prompt_extends_the_first_one(qa):
    """The feedback goes after the evidence, so llama.cpp reuses the cached prefix."""
    qa.llm.queue("answer", "Signed in nope.py:1-5 for the caller.", "Signed with hmac [1].")
    qa.ask(STRONG, max_answer_retries=1)
    first, second = qa.llm.calls("answer")
    assert "</code>" in first and first.rstrip().endswith(f"Question: {STRONG}")
    assert second.startswith(first.rstrip()) and "Not valid: nope.py:1-5." in second


def test_a_redraft_that_verifies_less_does_not_replace_the_first(qa):
    """The first draft's verified sentence survives a redraft that keeps nothing."""
    first = (
        "The `sign` function returns an hmac hex digest [1]. "
        "The `send_invoice` helper mails it to the bank [1]."
    )
    worse = "It is done somewhere else in the `import_users` loop of the payments module [1]."
    qa.llm.queue("answer", first, worse)
    out = qa.ask(STRONG, max_answer_retries=1)
    assert out["answer_attempts"] == 2
    assert "The `sign` function returns an hmac hex digest (auth/tokens.py:" in out["answer"]
    assert "send_invoice" not in out["answer"] and "import_users" not in out["answer"]
    assert qa.check(out["answer"]).ok


def test_a_question_whose_subject_the_repository_never_mentions_is_not_drafted(qa):
    """No file mentions "kubernetes": the answer says so and lists the closest code."""
    out = qa.ask(WEAK)
    assert out["status"] == "no_evidence" and "answer:off-subject" in out["trace"]
    assert qa.llm.calls("answer") == []
    assert out["answer"].startswith(
        'The repository does not appear to do what "how does the kubernetes operator reconcile '
        'pods?" asks: no indexed file mentions "kubernetes", "operator", "reconcile"'
    )
    assert "the closest matches were:" in out["answer"] and out["hits"]
    assert out["citations"] == []


def test_a_question_on_subject_is_drafted(qa):
    out = qa.ask(STRONG)
    assert out["status"] == "answered" and "answer:off-subject" not in out["trace"]
    assert len(qa.llm.calls("answer")) == 1


def test_a_copy_of_the_code_is_redrafted_in_sentences(qa):
    """A small model sometimes echoes the evidence: that is redrafted, not shown as an answer."""
    echo = "[1] auth/tokens.py:4-6 auth.tokens.sign\ndef sign(secret, message):"
    qa.llm.queue("answer", echo, "The `sign` function returns an hmac hex digest [1].")
    out = qa.ask(STRONG, max_answer_retries=1)
    first, second = qa.llm.calls("answer")
    assert "Do not copy the code" in second and out["answer_attempts"] == 2
    assert out["answer"].startswith("The `sign` function returns an hmac hex digest (auth/tokens")
