"""The code tools as LangChain tools, over a real index of the fixture repository."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from langchain_core.tools import BaseTool
from langgraph.checkpoint.memory import InMemorySaver

from app.assistant import Assistant
from app.retrieval.search import Searcher
from tests.graph.fakes import ScriptedChatModel
from tests.unit.retrieval.test_retrieval_lanes import REPO, STORE_SPLIT
from tools import TOOL_SPECS, make_tools
from tools.mcp_server import build_server


@pytest.fixture
def tools(searcher: Searcher, llm: ScriptedChatModel) -> dict[str, BaseTool]:
    assistant = Assistant(
        searcher.services, llm=llm, checkpointer=InMemorySaver(), searcher=searcher
    )
    return {t.name: t for t in make_tools(assistant)}


def call(tools: dict[str, BaseTool], tool: str, /, **args: object) -> str:
    out = tools[tool].invoke(args)
    assert isinstance(out, str)
    return out


def test_seven_tools_with_schemas_and_descriptions(tools):
    assert list(tools) == [
        "search_code",
        "find_symbol",
        "callers",
        "callees",
        "read_span",
        "ask_codebase",
        "index_status",
    ]
    assert [s.name for s in TOOL_SPECS] == list(tools)
    for tool in tools.values():
        assert len(tool.description) > 80
    assert set(tools["read_span"].args) == {"path", "start_line", "end_line"}
    assert tools["search_code"].args["k"]["default"] == 10
    assert set(tools["ask_codebase"].args) == {"question", "thread_id"}


def test_search_code_follows_the_search_json_contract(tools, searcher):
    hits = json.loads(call(tools, "search_code", query="save_user", k=3))
    expected = [h.to_json() for h in searcher.search("save_user", searcher.default_options(k=3))]
    assert hits == expected and len(hits) == 3
    assert hits[0]["symbol"] == "store.users.save_user"
    assert set(hits[0]) == {"path", "start_line", "end_line", "symbol", "score", "lanes"}


def test_find_symbol_lists_definitions_with_their_spans(tools):
    found = json.loads(call(tools, "find_symbol", name="save"))
    assert [d["qualname"] for d in found] == ["store.backup.save", "store.users.Store.save"]
    assert found[1] == {
        "qualname": "store.users.Store.save",
        "kind": "method",
        "path": "store/users.py",
        "start_line": 8,
        "end_line": 12,
        "signature": "def save(self, key, value):",
    }
    assert json.loads(call(tools, "find_symbol", name="no_such_thing")) == []


def test_callers_and_callees_come_from_the_code_graph(tools):
    callers = json.loads(call(tools, "callers", symbol="save_user"))
    assert callers["symbol"] == "store.users.save_user" and callers["total"] == 2
    assert callers["callers"] == [
        {
            "qualname": "api.handlers.register",
            "path": "api/handlers.py",
            "line": 6,
            "resolved": True,
        },
        {
            "qualname": "api.handlers.import_users",
            "path": "api/handlers.py",
            "line": 11,
            "resolved": True,
        },
    ]
    callees = json.loads(call(tools, "callees", symbol="store.users.save_user"))
    assert [(c["qualname"], c["line"]) for c in callees["callees"]] == [
        ("store.users.check_email", 21),
        ("store.users.Store.save", 22),
    ]
    # a class's callers are the sites that instantiate it
    store = json.loads(call(tools, "callers", symbol="Store"))
    assert {c["qualname"] for c in store["callers"]} == {
        "api.handlers.register",
        "api.handlers.import_users",
    }


def test_unknown_symbols_are_errors_an_agent_can_read(tools):
    out = call(tools, "callers", symbol="does_not_exist")
    assert out.startswith("error: no definition of 'does_not_exist'")
    assert "find_symbol" in out


def test_read_span_numbers_the_lines_and_clips_at_the_end(tools):
    out = call(tools, "read_span", path="auth/tokens.py", start_line=4, end_line=99)
    assert out.splitlines() == [
        "auth/tokens.py:4-6",
        "4  def sign(secret, message):",
        '5      """Sign a message with a secret key."""',
        "6      return hmac.new(secret, message, 'sha256').hexdigest()",
    ]
    assert call(tools, "read_span", path="./auth//tokens.py", start_line=4, end_line=4) == (
        "auth/tokens.py:4-4\n4  def sign(secret, message):"
    )
    wide = call(tools, "read_span", path="store/users.py", start_line=9, end_line=10)
    assert wide.splitlines()[1].startswith(" 9  ")  # numbers right-aligned to the widest


@pytest.mark.parametrize(
    ("path", "start", "end", "reason"),
    [
        ("/etc/passwd", 1, 1, "/etc/passwd: absolute path"),
        ("../secret.py", 1, 1, "../secret.py: path escapes the repository root"),
        ("store/../../secret.py", 1, 1, "store/../../secret.py: path escapes the repository root"),
        ("store", 1, 1, "store: no such file"),
        ("store/missing.py", 1, 1, "store/missing.py: no such file"),
        ("auth/tokens.py", 5, 4, "auth/tokens.py: start line after end line"),
        ("auth/tokens.py", 40, 41, "auth/tokens.py: start line 40 beyond end of file (6 lines)"),
        ("auth/tokens.py", 1, 401, "span of 401 lines exceeds 400"),
    ],
)
def test_read_span_refusals(tools, path, start, end, reason):
    out = call(tools, "read_span", path=path, start_line=start, end_line=end)
    assert out == f"error: {reason}"


def test_read_span_refuses_links_out_of_the_root_and_unindexed_files(tools, searcher, tmp_path):
    root: Path = searcher.services.root
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'hunter2'\n")
    (root / "leak.py").symlink_to(secret)
    (root / ".env").write_text("API_KEY=hunter2\n")
    try:
        leak = call(tools, "read_span", path="leak.py", start_line=1, end_line=1)
        env = call(tools, "read_span", path=".env", start_line=1, end_line=1)
    finally:
        (root / "leak.py").unlink()
        (root / ".env").unlink()
    assert leak == "error: leak.py: resolves outside the repository root"
    assert env == "error: .env: file is not indexed"


def test_bad_arguments_come_back_as_text(tools):
    assert call(tools, "search_code", query="save", k=0).startswith(
        "error: invalid arguments: k: Input should be greater than or equal to 1"
    )
    out = call(tools, "read_span", path="auth/tokens.py", start_line="one", end_line=2)
    assert out.startswith("error: invalid arguments: start_line:")


def test_ask_codebase_answers_with_citations_on_fresh_threads(tools, llm):
    first = json.loads(call(tools, "ask_codebase", question="how is a message signed?"))
    assert first["status"] == "answered"
    assert first["citations"][0] == {"path": "auth/tokens.py", "start_line": 4, "end_line": 6}
    assert "(auth/tokens.py:4-6)" in first["answer"]
    second = json.loads(call(tools, "ask_codebase", question="who calls save_user?"))
    assert second["thread_id"] != first["thread_id"]
    assert second["answer"].startswith("`save_user` is defined at store/users.py:19-22.")
    assert len(llm.calls("answer")) == 1  # the call-graph question needed no LLM


def test_ask_codebase_continues_a_thread_when_given_one(tools, llm):
    first = json.loads(call(tools, "ask_codebase", question="who calls save_user?"))
    follow = json.loads(
        call(tools, "ask_codebase", question="what does it call?", thread_id=first["thread_id"])
    )
    assert follow["thread_id"] == first["thread_id"]
    assert "check_email" in follow["answer"]  # "it" resolved from the thread's memory


def test_ask_codebase_is_never_interactive(searcher, llm):
    """A weak-evidence question would interrupt an interactive run; the tool answers anyway."""
    from graphs import QuestionContext

    assistant = Assistant(
        searcher.services, llm=llm, checkpointer=InMemorySaver(), searcher=searcher
    )
    (ask,) = [
        t
        for t in make_tools(assistant, context=QuestionContext(interactive=True))
        if t.name == "ask_codebase"
    ]
    out = json.loads(ask.invoke({"question": "how does the kubernetes operator reconcile pods?"}))
    assert out["status"] in ("answered", "no_evidence")


def test_a_missing_index_is_an_error_not_an_exception(tmp_path):
    from app.services import Services
    from app.settings import Settings

    repo = tmp_path / "repo"
    repo.mkdir()
    services = Services(repo, Settings(index_dir=tmp_path / "idx"))
    tools = {t.name: t for t in make_tools(Assistant(services, llm=ScriptedChatModel()))}
    out = call(tools, "search_code", query="anything")
    assert out.startswith("error: ") and "coderag index" in out
    assert call(tools, "callers", symbol="x").startswith("error: ")


def test_the_mcp_server_lists_the_same_schemas(tools):
    import anyio
    import mcp_types as types

    server = build_server(list(tools.values()))
    handler = server.get_request_handler("tools/list")
    assert handler is not None
    result = anyio.run(handler.handler, None, None)
    assert isinstance(result, types.ListToolsResult)
    listed = {t.name: t for t in result.tools}
    assert list(listed) == list(tools)
    assert listed["read_span"].input_schema["required"] == ["path", "start_line", "end_line"]
    assert listed["search_code"].input_schema["properties"]["k"] == {
        "default": 10,
        "description": "How many hits to return, best first.",
        "maximum": 50,
        "minimum": 1,
        "type": "integer",
    }
    assert listed["ask_codebase"].description == tools["ask_codebase"].description


def test_the_code_graph_is_reloaded_after_a_reindex(tmp_path, llm):
    from tests.unit.retrieval.test_retrieval_lanes import make_searcher

    searcher = make_searcher(tmp_path, REPO, chunk_max_tokens=STORE_SPLIT)
    tools = {t.name: t for t in make_tools(Assistant(searcher.services, llm=llm))}
    before = json.loads(call(tools, "callers", symbol="check_email"))
    assert [c["qualname"] for c in before["callers"]] == ["store.users.save_user"]
    (searcher.services.root / "api/admin.py").write_text(
        "from store.users import check_email\n\n\ndef vet(user):\n    check_email(user)\n"
    )
    searcher.update_index()
    after = json.loads(call(tools, "callers", symbol="check_email"))
    assert ("api.admin.vet", "api/admin.py", 5) in {
        (c["qualname"], c["path"], c["line"]) for c in after["callers"]
    }
    assert json.loads(call(tools, "find_symbol", name="vet"))[0]["path"] == "api/admin.py"
    searcher.reload()


def test_tools_say_when_the_index_is_still_being_built(tmp_path):
    """Without dense vectors yet, search records and answers carry "degraded"."""
    from tests.conftest import write_tree
    from tests.unit.index.test_searchable_early import run_index, searcher_for
    from tests.unit.retrieval.test_retrieval_lanes import QueryEmbedder

    repo = write_tree(tmp_path / "repo", REPO)
    run_index(repo, tmp_path / "idx", QueryEmbedder(), no_embed=True)
    searcher = searcher_for(repo, tmp_path / "idx")
    assistant = Assistant(
        searcher.services, llm=ScriptedChatModel(), checkpointer=InMemorySaver(), searcher=searcher
    )
    tools = {t.name: t for t in make_tools(assistant)}
    hits = json.loads(call(tools, "search_code", query="save_user", k=3))
    assert hits and all(h["degraded"] is True for h in hits)
    answer = json.loads(call(tools, "ask_codebase", question="who calls check_email?"))
    assert "still embedding" in answer["degraded"]


class GatedProgress:
    """Progress that holds the index run at the start of ``phase`` until ``gate`` is set."""

    def __init__(self, phase: str, gate: threading.Event, reached: threading.Event) -> None:
        self.phase, self.gate, self.reached = phase, gate, reached

    def start(self, phase: str, total: int | None) -> None:
        if phase == self.phase:
            self.reached.set()
            assert self.gate.wait(30)

    def advance(self, phase: str, n: int = 1) -> None:
        pass

    def end(self, phase: str) -> None:
        pass


def test_tools_wait_for_a_background_run_and_say_where_it_is(tmp_path):
    """A cold repository: calls say the run's progress until every file is searchable, then
    answer degraded while the vectors fill in; index_status follows the run to "ready"."""
    from app.index.background import BackgroundIndex
    from tests.conftest import write_tree
    from tests.unit.index.test_searchable_early import HookEmbedder, searcher_for

    repo = write_tree(tmp_path / "repo", REPO)
    searcher = searcher_for(repo, tmp_path / "idx")
    embedding = threading.Event()
    finish = threading.Event()

    def hold(batch: int) -> None:
        embedding.set()
        assert finish.wait(30)

    searcher.services.embedder = HookEmbedder(hold)  # type: ignore[assignment]
    parse_gate, at_parse = threading.Event(), threading.Event()

    def update(progress):
        from app.index.background import _Recorder

        assert isinstance(progress, _Recorder)
        gated = GatedProgress("parse", parse_gate, at_parse)

        class Both:
            def start(self, phase, total):
                progress.start(phase, total)
                gated.start(phase, total)

            def advance(self, phase, n=1):
                progress.advance(phase, n)

            def end(self, phase):
                progress.end(phase)

        return searcher.update_index(Both())

    run = BackgroundIndex(update)
    assistant = Assistant(
        searcher.services, llm=ScriptedChatModel(), checkpointer=InMemorySaver(), searcher=searcher
    )
    # waits a test's time, not the server's 20 s
    tools = {t.name: t for t in make_tools(assistant, indexing=run, wait_s=0.2)}
    run.start()
    assert at_parse.wait(30)
    early = call(tools, "search_code", query="save_user")
    assert early.startswith("error: the index is being built (") and "index_status" in early
    status = json.loads(call(tools, "index_status"))
    assert status["state"] == "indexing" and status["run"]["searchable"] is False
    parse_gate.set()
    assert embedding.wait(30)
    hits = json.loads(call(tools, "search_code", query="save_user", k=3))
    assert hits[0]["symbol"] == "store.users.save_user" and hits[0]["degraded"] is True
    status = json.loads(call(tools, "index_status"))
    assert status["state"] == "embedding" and status["chunks"] > 0
    assert status["vectors"] < status["chunks"] and "still embedding" in status["degraded"]
    finish.set()
    assert run.wait(30)
    status = json.loads(call(tools, "index_status"))
    assert status["state"] == "ready" and status["fresh"] is True
    assert status["vectors"] == status["chunks"] and status["degraded"] is None
    hits = json.loads(call(tools, "search_code", query="save_user", k=3))
    assert "degraded" not in hits[0]
    searcher.reload()


def test_index_status_without_a_background_run(tools, searcher):
    status = json.loads(call(tools, "index_status"))
    assert status["state"] == "ready" and status["fresh"] is True and "run" not in status
    assert status["files"] == len(REPO) and status["vectors"] == status["chunks"] > 0
