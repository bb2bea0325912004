"""``coderag chat`` in a real terminal (pty): prompt_toolkit input, colours, real models."""

from __future__ import annotations

import io
import os
import re
import sqlite3
import sys
from pathlib import Path

import pexpect
import pytest
from langchain_core.messages import HumanMessage
from langgraph.checkpoint.sqlite import SqliteSaver

from tests.conftest import write_tree
from tests.e2e.test_search_e2e import REPO

pytestmark = pytest.mark.slow

LAUNCHER = (
    "import typer; from app.cli.chat import register; "
    "a = typer.Typer(); a.callback()(lambda: None); register(a); a()"
)
PROMPT = "coderag> "
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def spawn(root: Path, tmp: Path, *extra: str) -> tuple[pexpect.spawn, io.StringIO]:
    """Start the chat on ``root`` in an 120x40 xterm pty; everything it prints is logged."""
    env = {
        **os.environ,
        "TERM": "xterm-256color",
        "CODERAG_THREADS_DB": str(tmp / "threads.sqlite"),
        "CODERAG_LLM": "smollm2",
        # pexpect does not answer prompt_toolkit's cursor-position requests
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    args = ["-c", LAUNCHER, "chat", "--repo", str(root), "--index-dir", str(tmp / "idx"), *extra]
    child = pexpect.spawn(
        sys.executable, args, env=env, encoding="utf-8", timeout=300, dimensions=(40, 120)
    )
    log = io.StringIO()
    child.logfile_read = log
    return child, log


def test_call_graph_question_in_a_terminal(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    child, log = spawn(root, tmp_path)
    child.expect_exact(PROMPT)
    assert child.isalive()

    child.sendline("who calls apply_discount?")
    child.expect_exact("Citations")
    child.expect_exact(PROMPT)
    shown = ANSI.sub("", log.getvalue())
    assert "`apply_discount` is defined at shop/pricing.py:" in shown
    assert re.search(r"\[1\] shop/pricing\.py:\d+-\d+", shown)
    assert re.search(r"shop/cart\.py:\d+-\d+", shown)  # Cart.total calls it
    assert "answered · 0 LLM calls" in shown
    assert "· graph_answer" in shown  # the status line streamed the nodes

    child.sendline("/sources")
    child.expect_exact("def apply_discount")
    child.expect_exact(PROMPT)

    child.send("half a line\x03")  # Ctrl-C at the prompt drops the line
    child.expect_exact(PROMPT)

    # the draft streams token by token on the status line; Ctrl-C while the LLM is generating
    # cancels the question (waiting for the draft, not a node name, makes sure it is running)
    child.sendline("how are failed calls retried with exponential backoff?")
    child.expect_exact("drafting:")
    child.sendcontrol("c")
    child.expect_exact("Cancelled")
    child.expect_exact(PROMPT)
    child.sendline("who calls with_retries?")  # the session and its thread go on
    child.expect_exact("`with_retries` is defined at shop/retry.py:")
    child.expect_exact(PROMPT)
    child.sendline("/quit")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    # rich and prompt_toolkit colour the output on a terminal
    colours = set(re.findall(r"\x1b\[[0-9;]*m", log.getvalue())) - {"\x1b[0m", "\x1b[m"}
    assert colours, log.getvalue()[-2000:]
    # the question went into the input history under CODERAG_HOME
    history = Path(os.environ["CODERAG_HOME"]) / "chat_history"
    assert "who calls apply_discount?" in history.read_text()
    assert "half a line" not in history.read_text()
    # the cancelled question left no trace in the thread: two questions, two answers
    thread = re.search(r"thread ([0-9a-f]{12})", shown)
    assert thread
    assert messages(tmp_path / "threads.sqlite", thread.group(1)) == [
        "who calls apply_discount?",
        "who calls with_retries?",
    ]


def messages(db: Path, thread: str) -> list[str]:
    """The questions checkpointed in ``thread``."""
    saver = SqliteSaver(sqlite3.connect(str(db)))
    saved = saver.get_tuple({"configurable": {"thread_id": thread}})
    assert saved is not None
    values = saved.checkpoint["channel_values"]
    return [str(m.content) for m in values["messages"] if isinstance(m, HumanMessage)]
