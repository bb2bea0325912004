"""Every route of the question graph, end to end over a real index of the fixture repo."""

from __future__ import annotations

import pytest

from tests.graph.conftest import GOOD_ANSWER, Harness

CALLGRAPH_TRACE = ["condense", "route", "graph_answer", "check_answer", "finish"]
SEARCH_TAIL = ["retrieve", "expand", "rerank", "check_context", "answer", "check_answer", "finish"]


def lines_of(qa: Harness, citation: dict) -> str:
    text = (qa.searcher.services.root / citation["path"]).read_text().splitlines()
    return "\n".join(text[citation["start_line"] - 1 : citation["end_line"]])


def assert_verified(qa: Harness, out: dict) -> None:
    """The final answer's citations all hold, and they are the ones the state reports."""
    check = qa.check(out["answer"])
    assert check.ok, check.to_json()
    assert [c.key for c in check.valid] == [
        (c["path"], c["start_line"], c["end_line"]) for c in out["citations"]
    ]


@pytest.mark.parametrize(
    "question",
    [
        "who calls save_user?",
        "Who calls `save_user()`?",
        "callers of save_user",
        "where is save_user used?",
    ],
)
def test_callers_come_from_the_code_graph_without_the_llm(qa, question):
    out = qa.ask(question)
    assert (out["route"], out["relation"], out["target"]) == ("callgraph", "callers", "save_user")
    assert out["trace"] == CALLGRAPH_TRACE
    assert qa.llm.prompts == [] and out.get("llm_calls", 0) == 0
    assert out["status"] == "answered"
    assert out["citations"] == [
        {"path": "store/users.py", "start_line": 19, "end_line": 22},
        {"path": "api/handlers.py", "start_line": 4, "end_line": 6},
        {"path": "api/handlers.py", "start_line": 9, "end_line": 11},
    ]
    assert lines_of(qa, out["citations"][0]).startswith("def save_user(")
    # each caller is named and cited from its own definition line to its call
    assert lines_of(qa, out["citations"][1]).startswith("def register(")
    assert lines_of(qa, out["citations"][2]).startswith("def import_users(")
    assert all("save_user(" in lines_of(qa, c) for c in out["citations"][1:])
    assert "It is called from 2 call sites in 2 functions:" in out["answer"]
    assert "- `register` calls it on line 6: api/handlers.py:4-6" in out["answer"]
    assert "- `import_users` calls it on line 11: api/handlers.py:9-11" in out["answer"]
    assert_verified(qa, out)
    assert out["memory_symbols"] == ["store.users.save_user"]


def test_callees_come_from_the_code_graph(qa):
    out = qa.ask("what does save_user call?")
    assert (out["route"], out["relation"]) == ("callgraph", "callees")
    assert out["trace"] == CALLGRAPH_TRACE and qa.llm.prompts == []
    assert "calls `check_email`" in out["answer"] and "calls `save`" in out["answer"]
    sites = out["citations"][1:]
    assert [lines_of(qa, c).strip() for c in sites] == [
        "check_email(user)",
        "store.save(user['id'], user)",
    ]
    assert_verified(qa, out)


def test_definition_of_a_class_cites_its_header(qa):
    out = qa.ask("where is Store defined?")
    assert (out["route"], out["relation"], out["target"]) == ("callgraph", "definition", "Store")
    assert out["trace"] == CALLGRAPH_TRACE and qa.llm.prompts == []
    (cite,) = out["citations"]
    assert lines_of(qa, cite).startswith("class Store:")
    assert_verified(qa, out)


def test_callers_of_a_method_by_qualified_name(qa):
    out = qa.ask("who calls Store.save?")
    assert out["target"] == "Store.save" and out["memory_symbols"] == ["store.users.Store.save"]
    # the caller save_user, cited from its definition line down to the call
    ((caller),) = out["citations"][1:]
    assert lines_of(qa, caller).startswith("def save_user(")
    assert lines_of(qa, caller).splitlines()[-1].strip() == "store.save(user['id'], user)"
    assert "- `save_user` calls it on line 22: store/users.py:19-22" in out["answer"]
    assert_verified(qa, out)


def test_callgraph_question_about_an_unknown_symbol_says_so(qa):
    out = qa.ask("who calls frobnicate_widgets?")
    assert out["route"] == "callgraph" and out["status"] == "no_evidence"
    assert out["answer"].startswith('The indexed code base does not show an answer to "who calls')
    assert out["citations"] == [] and qa.llm.prompts == []


def test_bare_identifier_takes_the_symbol_route(qa):
    qa.llm.queue("answer", "It validates the user and saves it [1].")
    out = qa.ask("save_user")
    assert (out["route"], out["target"]) == ("symbol", "save_user")
    assert out["trace"] == ["condense", "route", *SEARCH_TAIL]
    assert out["hits"][0]["symbol"] == "store.users.save_user"
    assert out["confidence"] == 1.0  # the definition itself was found
    assert out["tried"] == ["save_user"]
    assert len(qa.llm.calls("answer")) == 1 and out["llm_calls"] == 1
    assert "[1] store/users.py lines 19-22, `save_user`\n" in qa.llm.calls("answer")[0]
    assert out["answer"].startswith("It validates the user and saves it (store/users.py:19-22).")
    assert_verified(qa, out)


@pytest.mark.parametrize("greeting", ["hello", "Thanks!", "what can you do?"])
def test_chitchat_answers_without_search_or_llm(qa, greeting):
    out = qa.ask(greeting)
    assert out["route"] == "chitchat" and out["status"] == "chitchat"
    assert out["trace"] == ["condense", "route", "chitchat", "finish"]
    assert out["answer"].startswith("I answer questions about the code in repo:")
    assert qa.llm.prompts == [] and "hits" in out and out["hits"] == []


def test_conceptual_question_runs_the_whole_pipeline(qa):
    qa.llm.queue("decompose", '{"sub_questions": ["which function signs messages"]}')
    qa.llm.queue("hyde", "def sign(secret, message):\n    return hmac.new(secret, message)")
    out = qa.ask("how is a message signed with a secret key?", decompose=True, hyde=True)
    assert out["route"] == "conceptual"
    assert out["trace"] == [
        "condense",
        "route",
        "decompose",
        "review_plan:off",
        "hyde",
        *SEARCH_TAIL,
    ]
    assert out["hits"][0]["symbol"] == "auth.tokens.sign"
    assert out["confidence"] >= 0.5 and out["context_attempts"] == 1
    assert out["status"] == "answered"
    assert [k for k, _ in qa.llm.prompts] == ["decompose", "hyde", "hyde", "answer"]
    assert out["llm_calls"] == 4
    assert out["answer"].startswith(GOOD_ANSWER.replace("[1]", "(auth/tokens.py:4-6)"))
    assert "Where to look:\n- `sign`: auth/tokens.py:4-6" in out["answer"]
    assert_verified(qa, out)
    assert out["memory_symbols"][0] == "auth.tokens.sign"
    assert [m.type for m in out["messages"]] == ["human", "ai"]
    assert out["messages"][-1].content == out["answer"]


def test_the_default_context_applies_when_none_is_given(qa):
    out = qa.graph.invoke(
        {"question": "who calls save_user?"}, {"configurable": {"thread_id": "t"}}
    )
    assert out["status"] == "answered"


def test_the_key_line_is_quoted_with_where_what_it_calls_is_defined(qa):
    qa.llm.queue("answer", "It validates the user first [1].")
    out = qa.ask("how does a user get saved to the store?")

    assert out["status"] == "answered"
    key = (
        "The key line in `save_user` is `store.save(user['id'], user)` (store/users.py:22-22), "
        "which calls `Store.save` (store/users.py:8-12)."
    )  # the method the line calls, not store/backup.py's function of the same name
    assert key in out["answer"]
    assert out["answer"].index(key) < out["answer"].index("Where to look:")
    assert_verified(qa, out)  # the quoted line and the callee's definition both re-open
