"""The sandbox: tools and citation checks never read outside the repository root.

One indexed repository holds every way out: ``..``, absolute paths, links to ``/etc/passwd`` and
to a secret file, a linked folder, link loops, a NUL byte, an over-long name, and an indexed file
and folder swapped for links out *after* indexing (the index still lists them). Each is refused,
with its reason, by ``read_span`` (the function and the agent tool), by ``verify_citation`` and
by ``check_answer``; no secret byte ever comes back.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from langchain_core.tools import BaseTool
from langgraph.checkpoint.memory import InMemorySaver

from app.answer import Citation, SourceReader, check_answer, strip_invalid, verify_citation
from app.assistant import Assistant
from app.retrieval.search import Searcher
from app.services import Services
from app.settings import Settings
from tests.conftest import write_tree
from tests.graph.fakes import ScriptedChatModel
from tests.unit.retrieval.test_retrieval_lanes import QueryEmbedder
from tools import make_tools
from tools.span import SpanError, read_span

SECRET = "TOPSECRET_hunter2"
FILES: dict[str, str | bytes] = {
    "pkg/mod.py": "def handler(request):\n    return request\n",
    "swapped.py": "def was_here():\n    return 1\n",
    "swapped_dir/code.py": "def also_here():\n    return 2\n",
}
ESCAPES = [
    ("../outside/secret.py", "path escapes the repository root"),
    ("pkg/../../outside/secret.py", "path escapes the repository root"),
    ("..", "path escapes the repository root"),
    ("/etc/passwd", "absolute path"),
    ("C:\\Windows\\win.ini", "absolute path"),
    ("\\\\host\\share\\secret.py", "absolute path"),
    ("passwd.py", "resolves outside the repository root"),
    ("leak.py", "resolves outside the repository root"),
    ("pkg/leak_rel.py", "resolves outside the repository root"),
    ("outdir/secret.py", "resolves outside the repository root"),
    ("swapped.py", "resolves outside the repository root"),
    ("swapped_dir/code.py", "resolves outside the repository root"),
    ("loop.py", "symlink loop"),
    ("ping.py", "symlink loop"),
    ("loopdir/x.py", "symlink loop"),
    ("pkg/mod.py\x00.txt", "NUL character in path"),
    ("x" * 5000 + ".py", "no such file"),
    ("/".join(["d"] * 3000) + ".py", "no such file"),
]
"""Every way out, with the reason it is refused."""


@dataclass
class Sandbox:
    root: Path
    outside: Path
    searcher: Searcher
    tools: dict[str, BaseTool]

    @property
    def indexed(self) -> set[str]:
        return self.searcher.indexed_paths()


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    base = tmp_path_factory.mktemp("sandbox")
    root, outside = base / "repo", base / "outside"
    write_tree(outside, {"secret.py": f"KEY = '{SECRET}'\n", "code.py": f"KEY = '{SECRET}'\n"})
    write_tree(root, FILES)
    (root / "pkg" / "alias.py").symlink_to("mod.py")  # inside: allowed
    (root / "passwd.py").symlink_to("/etc/passwd")
    (root / "leak.py").symlink_to(outside / "secret.py")
    (root / "pkg" / "leak_rel.py").symlink_to("../../outside/secret.py")
    (root / "outdir").symlink_to(outside, target_is_directory=True)
    (root / "loop.py").symlink_to("loop.py")
    (root / "ping.py").symlink_to("pong.py")
    (root / "pong.py").symlink_to("ping.py")
    (root / "loopdir").symlink_to("loopdir", target_is_directory=True)
    services = Services(root, Settings(index_dir=base / "idx"))
    services.embedder = QueryEmbedder()  # type: ignore[assignment]
    searcher = Searcher(services)
    searcher.update_index()
    # swapped for links out after indexing: the index still lists them
    (root / "swapped.py").unlink()
    (root / "swapped.py").symlink_to(outside / "secret.py")
    shutil.rmtree(root / "swapped_dir")
    (root / "swapped_dir").symlink_to(outside, target_is_directory=True)
    assistant = Assistant(
        services, llm=ScriptedChatModel(), checkpointer=InMemorySaver(), searcher=searcher
    )
    tools = {t.name: t for t in make_tools(assistant)}
    yield Sandbox(root, outside, searcher, tools)
    searcher.reload()


def no_secret(text: str) -> None:
    assert SECRET not in text and "root:x:" not in text


def test_the_index_holds_only_files_inside_the_root(box):
    assert box.indexed == {"pkg/mod.py", "pkg/alias.py", "swapped.py", "swapped_dir/code.py"}


@pytest.mark.parametrize(("path", "reason"), ESCAPES, ids=[p[:30] for p, _ in ESCAPES])
def test_read_span_tool_refuses(box, path, reason):
    out = box.tools["read_span"].invoke({"path": path, "start_line": 1, "end_line": 2})
    assert out == f"error: {path}: {reason}"
    no_secret(out)


@pytest.mark.parametrize(("path", "reason"), ESCAPES, ids=[p[:30] for p, _ in ESCAPES])
def test_read_span_refuses_even_without_the_indexed_set(box, path, reason):
    with pytest.raises(SpanError) as err:
        read_span(box.root, path, 1, 2, indexed=None)
    assert str(err.value) == f"{path}: {reason}"


@pytest.mark.parametrize(("path", "reason"), ESCAPES, ids=[p[:30] for p, _ in ESCAPES])
def test_verify_citation_refuses(box, path, reason):
    for indexed in (box.indexed, None):
        verdict = verify_citation(Citation(path, 1, 1, f"{path}:1"), box.root, indexed=indexed)
        assert (verdict.ok, verdict.reason) == (False, reason)


def test_links_inside_the_root_still_work(box):
    out = box.tools["read_span"].invoke({"path": "pkg/alias.py", "start_line": 1, "end_line": 2})
    assert out == "pkg/alias.py:1-2\n1  def handler(request):\n2      return request"
    assert verify_citation(Citation("pkg/alias.py", 1, 2, ""), box.root, indexed=box.indexed).ok


def test_check_answer_rejects_every_citation_out_and_strip_removes_them(box):
    cited = [
        "../outside/secret.py:1",
        "pkg/../../outside/secret.py:1",
        "leak.py:1",
        "pkg/leak_rel.py:1",
        "outdir/secret.py:1",
        "swapped.py:1",
        "swapped_dir/code.py:1",
        "loop.py:1",
        "loopdir/x.py:1",
        "passwd.py:1-5",
    ]
    answer = (
        "The handler returns its request (pkg/mod.py:1-2). "
        + " ".join(f"The key lives in `KEY` ({c})." for c in cited)
        + "\n"
    )

    check = check_answer(answer, box.root, indexed=box.indexed)
    cleaned = strip_invalid(answer, check)

    assert [c.text for c in check.valid] == ["pkg/mod.py:1-2"]
    assert [c.text for c, _ in check.invalid] == cited
    assert {why for _, why in check.invalid} == {
        "path escapes the repository root",
        "resolves outside the repository root",
        "symlink loop",
    }
    assert cleaned == "The handler returns its request (pkg/mod.py:1-2).\n"


def test_the_source_reader_itself_refuses_paths_out(box):
    reader = SourceReader(box.root)
    assert reader.lines("pkg/alias.py") == ["def handler(request):", "    return request"]
    for path in ("leak.py", "outdir/secret.py", "swapped.py", "../outside/secret.py", "passwd.py"):
        with pytest.raises(PermissionError, match="outside the repository root"):
            reader.lines(path)


def test_the_other_tools_only_return_indexed_paths(box):
    hits = json.loads(box.tools["search_code"].invoke({"query": f"{SECRET} KEY passwd root"}))
    found = json.loads(box.tools["find_symbol"].invoke({"name": "KEY"}))
    callers = box.tools["callers"].invoke({"symbol": "../../etc/passwd"})
    # "swapped" files answer from the index only: their stored code, never the new target
    assert {h["path"] for h in hits} <= box.indexed
    assert found == []
    assert callers.startswith("error: no definition of '../../etc/passwd'")
    for text in (json.dumps(hits), callers):
        no_secret(text)
