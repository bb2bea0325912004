"""``langgraph dev`` serves the question and index graphs (what LangGraph Studio talks to).

The server runs as a subprocess on a fixture repository with dense vectors off; it is driven
through ``langgraph_sdk`` the way Studio drives it: index, ask, stop at interrupts, resume.
Only the last resume calls the chat model (the embedded SmolLM2, started lazily).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from app.index.report import IndexReport
from graphs.index_graph import build_index_graph
from tests.conftest import write_tree

ROOT = Path(__file__).resolve().parents[2]
LANGGRAPH = Path(sys.executable).parent / "langgraph"
OFFLINE = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
    "ANONYMIZED_TELEMETRY": "False",
    "CODERAG_NO_EMBED": "1",
}
REPO = {
    "shop/pricing.py": (
        "def apply_discount(total, rate=0.1):\n"
        '    """Return the total after the loyalty discount."""\n'
        "    return total * (1 - rate)\n"
    ),
    "shop/cart.py": (
        "from shop.pricing import apply_discount\n\n\nclass Cart:\n"
        '    """A shopping cart holding priced items."""\n\n'
        "    def __init__(self):\n        self.items = []\n\n"
        "    def total(self):\n"
        '        """Sum the prices and apply the discount."""\n'
        "        return apply_discount(sum(p for _, p in self.items))\n"
    ),
}
QUESTION = "how is the cart total discounted for loyal customers"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"langgraph dev exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/ok", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"langgraph dev did not answer in {timeout}s:\n{log.read_text()[-3000:]}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``langgraph dev`` on an unindexed fixture repository; yields its URL and the repo."""
    repo = write_tree(tmp_path / "repo", dict(REPO))
    work = tmp_path / "server"  # the server keeps its threads in ./.langgraph_api
    work.mkdir()
    port = _free_port()
    env = {**os.environ, **OFFLINE, "CODERAG_REPO": str(repo), "CODERAG_LLM": "smollm2"}
    cmd = [str(LANGGRAPH), "dev", "--config", str(ROOT / "langgraph.json"), "--no-browser"]
    cmd += ["--no-reload", "--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path / "server.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, proc, log)
        yield url, repo
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _stream(client: Any, thread_id: str, assistant: str, **kwargs: Any) -> list[str]:
    """Run to the end or the next interrupt; return the nodes that reported updates."""
    nodes = []
    for part in client.runs.stream(thread_id, assistant, stream_mode="updates", **kwargs):
        if part.event == "updates":
            nodes.extend(part.data)
        assert part.event != "error", part.data
    return nodes


def _pending(client: Any, thread_id: str) -> dict[str, Any]:
    """The thread's one pending interrupt value (the thread must be interrupted)."""
    assert client.threads.get(thread_id)["status"] == "interrupted"
    (interrupt,) = client.threads.get_state(thread_id)["interrupts"]
    return dict(interrupt["value"])


@pytest.mark.slow
def test_studio_server_indexes_answers_and_interrupts(server):
    from langgraph_sdk import get_sync_client

    url, repo = server
    client = get_sync_client(url=url)
    started = time.monotonic()
    ids = {a["graph_id"]: a["assistant_id"] for a in client.assistants.search()}
    assert set(ids) == {"question", "index"}
    schemas = client.assistants.get_schemas(ids["question"])
    assert "interactive" in schemas["context_schema"]["properties"]  # Studio's run settings

    # index from the server: the repository was never indexed
    out = client.runs.wait(None, "index", input={})
    assert out["report"]["added"] == 2 and out["report"]["dense"] is False
    assert out["summary"].startswith("2 files (2 added")

    # a call-graph question is answered from the code graph, no LLM
    tid = client.threads.create()["thread_id"]
    nodes = _stream(client, tid, "question", input={"question": "who calls apply_discount?"})
    assert nodes == ["condense", "route", "graph_answer", "check_answer", "finish"]
    values = client.threads.get_state(tid)["values"]
    assert values["status"] == "answered" and values["llm_calls"] == 0
    assert {c["path"] for c in values["citations"]} >= {"shop/pricing.py", "shop/cart.py"}

    # re-index after a change: the running question graph sees the new file
    write_tree(
        repo,
        {
            "shop/checkout.py": "from shop.pricing import apply_discount\n\n\n"
            "def checkout(total):\n    return apply_discount(total, 0.2)\n"
        },
    )
    out = client.runs.wait(None, "index", input={})
    assert (out["report"]["added"], out["report"]["unchanged"]) == (1, 2)
    tid = client.threads.create()["thread_id"]  # (a short follow-up would call condense's LLM)
    _stream(client, tid, "question", input={"question": "who calls apply_discount?"})
    values = client.threads.get_state(tid)["values"]
    assert "shop/checkout.py" in {c["path"] for c in values["citations"]}

    # per-run context: stop at plan review (no LLM call before it), then abort
    ctx = {"interactive": True}
    tid = client.threads.create()["thread_id"]
    nodes = _stream(client, tid, "question", input={"question": QUESTION}, context=ctx)
    assert nodes[-2:] == ["decompose", "__interrupt__"]
    assert _pending(client, tid) == {"type": "review_plan", "plan": [QUESTION]}
    assert client.threads.get_state(tid)["next"] == ["review_plan"]
    # context is per run, not per thread: the resume must send it again
    _stream(client, tid, "question", command={"resume": {"action": "abort"}}, context=ctx)
    values = client.threads.get_state(tid)["values"]
    assert (values["status"], values["answer"]) == ("aborted", "Stopped at plan review.")
    assert values["llm_calls"] == 0

    # an assistant carrying the context (what Studio's assistant editor saves)
    strict = {
        "interactive": True,
        "max_context_retries": 0,
        "min_confidence": 1.01,
        "max_answer_retries": 0,
    }
    helper = client.assistants.create("question", context=strict, name="interactive")
    aid = helper["assistant_id"]
    tid = client.threads.create()["thread_id"]
    _stream(client, tid, aid, input={"question": QUESTION})
    assert _pending(client, tid)["type"] == "review_plan"
    _stream(client, tid, aid, command={"resume": {"action": "edit", "plan": ["apply_discount"]}})
    low = _pending(client, tid)
    assert low["type"] == "low_confidence" and low["question"] == QUESTION
    assert "shop/pricing.py" in {h["path"] for h in low["hits"]}
    # answering anyway is the first LLM call: the embedded model starts now
    nodes = _stream(client, tid, aid, command={"resume": {"action": "answer"}})
    assert nodes[:2] == ["low_confidence", "answer"] and nodes[-1] == "finish"
    values = client.threads.get_state(tid)["values"]
    assert values["plan"] == ["apply_discount"] and values["llm_calls"] == 1
    assert values["status"] in ("answered", "no_evidence") and values["answer"].strip()
    assert "review_plan" in values["trace"] and "answer_anyway" in values["trace"]
    assert client.threads.get(tid)["status"] == "idle"
    assert time.monotonic() - started < 60


def test_lazy_chat_model_builds_the_real_one_once_on_first_use():
    # imported here: graphs.studio builds its graphs at import, from the (isolated) settings
    from graphs.studio import LazyChatModel

    built: list[FakeListChatModel] = []

    def factory() -> FakeListChatModel:
        built.append(FakeListChatModel(responses=["first", "second"]))
        return built[-1]

    lazy = LazyChatModel(factory=factory)
    assert built == []  # constructing the graph's model starts nothing
    assert lazy.invoke("hi").content == "first"
    assert len(built) == 1
    assert lazy.model is built[0]
    assert lazy.invoke("again").content == "second"
    assert len(built) == 1


def test_index_graph_streams_phases_and_summarises_the_report():
    def index(progress):
        progress.start("parse", 3)
        progress.advance("parse", 3)
        progress.end("parse")
        return IndexReport(
            root="r", index_dir="i", files=3, added=3, chunks=7, seconds={"total": 1.25}
        )

    graph = build_index_graph(index)
    events = list(graph.stream({}, stream_mode=["custom", "updates"]))
    assert [data for mode, data in events if mode == "custom"] == [
        {"phase": "parse", "event": "start", "total": 3},
        {"phase": "parse", "event": "end"},
    ]
    out = graph.invoke({})
    assert out["report"]["chunks"] == 7 and out["report"]["added"] == 3
    assert (
        out["summary"]
        == "3 files (3 added, 0 changed, 0 deleted), 7 chunks, 0 symbols, 0 vectors; 1.2s"
    )
