"""Conversation memory on one thread: messages, condense, pronouns, per-turn resets."""

from __future__ import annotations

STRONG = "how is a message signed with a secret key?"
WEAK = "how does the kubernetes operator reconcile pods?"


def test_a_second_turn_sees_the_first(qa):
    first = qa.ask("who calls save_user?")
    qa.llm.queue("condense", "what does save_user call?")
    second = qa.ask("and what does it call?")
    assert [m.type for m in second["messages"]] == ["human", "ai", "human", "ai"]
    assert second["messages"][0].content == "who calls save_user?"
    assert second["messages"][1].content == first["answer"]
    assert second["messages"][2].content == "and what does it call?"
    (prompt,) = qa.llm.calls("condense")
    assert "User: who calls save_user?" in prompt
    assert "Assistant: `save_user` is defined at store/users.py:19-22." in prompt
    assert "<question>and what does it call?</question>" in prompt
    assert second["standalone"] == "what does save_user call?"
    assert (second["relation"], second["target"]) == ("callees", "save_user")
    assert second["llm_calls"] == 1  # the thread's total: only condense called the model


def test_the_first_turn_is_not_condensed(qa):
    qa.ask("who calls save_user?")
    assert qa.llm.calls("condense") == []


def test_only_the_first_line_of_a_rewrite_is_kept(qa):
    qa.ask("who calls save_user?")
    qa.llm.queue("condense", "who calls check_email?\nI rewrote it because...")
    out = qa.ask("same for check_email")
    assert out["standalone"] == "who calls check_email?" and out["target"] == "check_email"


def test_a_rewrite_that_drops_the_users_names_is_rejected(qa):
    qa.ask("who calls save_user?")
    qa.llm.queue("condense", "what does the email validator call?")
    out = qa.ask("what does check_email call instead?")
    assert len(qa.llm.calls("condense")) == 1
    assert out["standalone"] == "what does check_email call instead?"
    assert out["target"] == "check_email"


def test_who_calls_it_resolves_to_the_last_symbol(qa):
    qa.ask("where is check_email defined?")
    out = qa.ask("who calls it?")  # the scripted condense says nothing: the question stays
    assert out["standalone"] == "who calls it?"
    assert (out["route"], out["relation"], out["target"]) == (
        "callgraph",
        "callers",
        "store.users.check_email",
    )
    assert out["citations"][1] == {"path": "store/users.py", "start_line": 19, "end_line": 21}
    assert qa.check(out["answer"]).ok


def test_it_after_a_symbol_lookup_is_the_top_hit(qa):
    qa.ask("save_user")
    out = qa.ask("what does it call?")
    assert out["target"] == "store.users.save_user" and out["relation"] == "callees"
    assert "calls `check_email`" in out["answer"]


def test_it_without_memory_asks_which_symbol_is_meant(qa):
    out = qa.ask("who calls it?")
    assert out["route"] == "chitchat" and out["status"] == "chitchat"
    assert out["answer"].startswith('Which symbol does "it" refer to?')
    assert qa.llm.prompts == [] and out["hits"] == []


def test_a_follow_up_also_searches_the_symbols_of_the_last_answer(qa):
    first = qa.ask(STRONG)
    memory = first["memory_symbols"]
    assert memory[0] == "auth.tokens.sign"
    qa.llm.queue("condense", "how is the signature computed by sign?")
    out = qa.ask("how is it computed?")
    assert out["tried"][:2] == ["how is the signature computed by sign?", " ".join(memory[:3])]


def test_per_turn_fields_start_fresh(qa):
    qa.llm.queue("answer", "See nope.py:1-5 for the pods.", "See nope.py:1-5 for the pods.")
    first = qa.ask(WEAK, check_subject=False)
    assert first["context_attempts"] == 2 and first["answer_attempts"] == 2
    assert len(first["tried"]) == 2 and first["rejected"] and first["feedback"]
    out = qa.ask("save_user")
    assert out["context_attempts"] == 1 and out["answer_attempts"] == 1
    assert out["tried"] == ["save_user"]
    assert out["rejected"] == [] and out["feedback"] == ""
    assert out["plan"] == [] and out["queries"] == []
    assert out["trace"].count("condense") == 2  # the trace keeps growing on the thread


def test_threads_do_not_share_memory(qa):
    qa.ask("where is check_email defined?", thread="a")
    out = qa.ask("who calls it?", thread="b")
    assert out["route"] == "chitchat" and len(out["messages"]) == 2  # "it" means nothing here
    assert qa.llm.calls("condense") == []


def test_a_question_that_stands_alone_is_not_rewritten(qa):
    qa.ask("who calls save_user?")
    out = qa.ask("what does check_email call?")
    assert qa.llm.calls("condense") == []  # nothing points back: no LLM call, no risk
    assert out["standalone"] == "what does check_email call?" and out["target"] == "check_email"


def test_small_talk_keeps_the_memory_for_the_next_follow_up(qa):
    qa.ask("where is check_email defined?")
    qa.ask("thanks")
    out = qa.ask("who calls it?")
    assert out["route"] == "callgraph" and out["target"] == "store.users.check_email"


def test_a_turn_does_not_inherit_the_last_target(qa):
    qa.ask("who calls it?")  # nothing to point at: asks which symbol
    out = qa.ask("hello")
    assert out["route"] == "chitchat" and out["target"] == ""
    assert out["answer"].startswith("I answer questions about the code")
