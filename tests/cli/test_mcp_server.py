"""``coderag mcp``: a real stdio server process driven by the MCP client library.

The fixture repository is indexed beforehand with the fake embedder; the server runs with
``CODERAG_NO_EMBED=1``, so it loads no embedding model (lexical, symbol, path lanes and the
code graph answer) and ``ask_codebase`` is not called (it would start the chat model).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client

from app.services import Services
from app.settings import Settings
from tests.conftest import write_tree
from tests.unit.retrieval.test_retrieval_lanes import REPO, STORE_SPLIT, QueryEmbedder

TIMEOUT = 120
"""Seconds one server session may take (start, index, calls)."""
TOOLS = {
    "search_code", "find_symbol", "callers", "callees", "read_span", "ask_codebase", "index_status"
}


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path]:
    """(repo, index dir): ``REPO`` indexed with the fake embedder."""
    repo = write_tree(tmp_path / "repo", REPO)
    (tmp_path / "secret.py").write_text("TOKEN = 'outside the repository'\n")
    (repo / "leak.py").symlink_to(tmp_path / "secret.py")
    idx = tmp_path / "idx"
    services = Services(repo, Settings(index_dir=idx, chunk_max_tokens=STORE_SPLIT))
    services.embedder = QueryEmbedder()  # type: ignore[assignment]
    services.index()
    return repo, idx


def server(repo: Path, *args: str) -> StdioServerParameters:
    """``coderag mcp --repo REPO ARGS`` with the test's isolated environment, no models."""
    coderag = Path(sys.executable).with_name("coderag")
    env = {k: v for k, v in os.environ.items() if k.startswith(("CODERAG_", "HF_", "TRANSF"))}
    env |= {"CODERAG_NO_EMBED": "1", "CODERAG_CHUNK_MAX_TOKENS": str(STORE_SPLIT)}
    return StdioServerParameters(
        command=str(coderag), args=["mcp", "--repo", str(repo), *args], env=env, cwd=str(repo)
    )


async def session_calls(params: StdioServerParameters, calls: list[tuple[str, dict]]) -> Any:
    """List the tools, then make ``calls``; return (tools, [(text, is_error)])."""
    with anyio.fail_after(TIMEOUT), open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                listed = (await session.list_tools()).tools
                results = []
                for name, arguments in calls:
                    res = await session.call_tool(name, arguments)
                    results.append((res.content[0].text, bool(res.is_error)))
                return listed, results


def run(params: StdioServerParameters, calls: list[tuple[str, dict]]) -> Any:
    return anyio.run(session_calls, params, calls)


def test_mcp_server_lists_and_answers_the_tools(indexed):
    repo, idx = indexed
    listed, results = run(
        server(repo, "--index-dir", str(idx), "--no-index"),
        [
            ("search_code", {"query": "save_user", "k": 3}),
            ("callers", {"symbol": "save_user"}),
            ("read_span", {"path": "auth/tokens.py", "start_line": 4, "end_line": 6}),
            ("read_span", {"path": "../secret.py", "start_line": 1, "end_line": 1}),
            ("read_span", {"path": str(repo / "auth/tokens.py"), "start_line": 1, "end_line": 1}),
            ("read_span", {"path": "leak.py", "start_line": 1, "end_line": 1}),
            ("search_code", {"query": "save_user", "k": 0}),
        ],
    )
    assert {t.name for t in listed} == TOOLS
    schemas = {t.name: t.input_schema for t in listed}
    assert schemas["search_code"]["required"] == ["query"]
    assert schemas["search_code"]["properties"]["k"]["maximum"] == 50
    assert schemas["read_span"]["required"] == ["path", "start_line", "end_line"]
    assert all(t.description for t in listed)

    (search, e1), (callers, e2), (span, e3), (escape, e4), (absolute, e5), (link, e6) = results[:6]
    assert not (e1 or e2 or e3)
    hits = json.loads(search)
    assert hits[0]["symbol"] == "store.users.save_user"
    assert set(hits[0]) == {"path", "start_line", "end_line", "symbol", "score", "lanes"}
    assert "dense" not in {lane for h in hits for lane in h["lanes"]}  # no model loaded
    sites = json.loads(callers)
    assert sites["symbol"] == "store.users.save_user"
    assert [(s["qualname"], s["path"], s["line"]) for s in sites["callers"]] == [
        ("api.handlers.register", "api/handlers.py", 6),
        ("api.handlers.import_users", "api/handlers.py", 11),
    ]
    assert span.splitlines()[0] == "auth/tokens.py:4-6"
    assert span.splitlines()[1] == "4  def sign(secret, message):"
    assert e4 and escape == "error: ../secret.py: path escapes the repository root"
    assert e5 and absolute.endswith(": absolute path")
    assert e6 and link == "error: leak.py: resolves outside the repository root"
    assert "outside the repository'" not in escape + absolute + link
    bad_k, e7 = results[6]
    assert e7 and bad_k.startswith("error: invalid arguments: k:")


def test_mcp_server_indexes_at_start(indexed):
    repo, idx = indexed
    (repo / "store/audit.py").write_text(
        "from store.users import save_user\n\n\ndef audited_save(store, user):\n"
        "    save_user(store, user)\n"
    )
    _, results = run(
        server(repo, "--index-dir", str(idx)),
        [
            ("callers", {"symbol": "store.users.save_user"}),
            ("find_symbol", {"name": "audited_save"}),
        ],
    )
    (callers, error), (found, _) = results
    assert not error
    assert json.loads(found)[0]["path"] == "store/audit.py"
    assert ("store.audit.audited_save", "store/audit.py", 5) in {
        (s["qualname"], s["path"], s["line"]) for s in json.loads(callers)["callers"]
    }


@pytest.mark.slow
def test_ask_codebase_over_mcp_with_the_embedded_model(indexed):
    """The real chat model starts on the first ask; a call-graph question needs no generation."""
    repo, idx = indexed
    _, results = run(
        server(repo, "--index-dir", str(idx), "--no-index"),
        [("ask_codebase", {"question": "who calls save_user?"})],
    )
    ((text, error),) = results
    assert not error, text
    answer = json.loads(text)
    assert answer["status"] == "answered"
    assert answer["answer"].startswith("`save_user` is defined at store/users.py:19-22.")
    assert {"path": "api/handlers.py", "start_line": 4, "end_line": 6} in answer["citations"]


def big_repo(root: Path, files: int = 120, functions: int = 25) -> Path:
    """A repository whose ~3,000 window-sized chunks take minutes to embed on 2 cores."""
    for f in range(files):
        body = []
        for i in range(functions):
            lines = [f"def handler_{f}_{i}(request, session, retries={i}):"]
            lines.append(f'    """Handle request kind {i} of module {f}; retry on failure."""')
            for j in range(14):
                lines.append(f"    value_{j} = session.fetch(request.path, attempt={j}) or {j}")
            lines.append(f"    return value_0 + value_13 + {f}")
            body.append("\n".join(lines))
        path = root / f"pkg{f % 6}" / f"module_{f}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n\n".join(body) + "\n")
    return root


@pytest.mark.slow
def test_a_cold_repository_answers_the_handshake_at_once(tmp_path):
    """Real MiniLM, no index yet: the client's 10 s handshake timeout holds, search answers
    (degraded) while the vectors are still being embedded, and index_status says so."""
    repo = big_repo(tmp_path / "repo")
    coderag = Path(sys.executable).with_name("coderag")
    env = {k: v for k, v in os.environ.items() if k.startswith(("CODERAG_", "HF_", "TRANSF"))}
    env["CODERAG_INDEX_DIR"] = str(tmp_path / "idx")
    params = StdioServerParameters(
        command=str(coderag), args=["mcp", "--repo", str(repo)], env=env, cwd=str(repo)
    )

    async def session() -> tuple[Any, Any, int]:
        with open(os.devnull, "w") as errlog:
            async with stdio_client(params, errlog=errlog) as (read, write):
                async with ClientSession(read, write) as client:
                    with anyio.fail_after(10):  # what an MCP client allows a handshake
                        await client.initialize()
                        await client.list_tools()
                    with anyio.fail_after(90):
                        while True:
                            res = await client.call_tool("search_code", {"query": "handler_7_3"})
                            if not res.is_error:
                                break
                            assert "the index is being built" in res.content[0].text
                            await anyio.sleep(0.5)
                    status = await client.call_tool("index_status", {})
                    return json.loads(res.content[0].text), json.loads(status.content[0].text), 0

    hits, status, _ = anyio.run(session)
    assert hits[0]["symbol"] == "pkg1.module_7.handler_7_3"
    assert hits[0]["degraded"] is True
    assert status["state"] == "embedding" and status["chunks"] > 2500
    assert status["vectors"] < status["chunks"] and "still embedding" in status["degraded"]
