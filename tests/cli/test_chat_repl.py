"""``coderag chat``: scripted REPL sessions over the fixture repository with a scripted LLM."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import typer
from langgraph.checkpoint.sqlite import SqliteSaver
from rich.console import Console
from typer.testing import CliRunner

from app.assistant import Assistant
from app.chat.commands import ThreadIndex, read_span
from app.chat.repl import ChatRepl
from app.cli.chat import register
from app.services import Services
from graphs import QuestionContext, builder
from tests.conftest import write_tree

runner = CliRunner()
STRONG = "how is a message signed with a secret key?"
WEAK = "how does the kubernetes operator reconcile pods?"
SIGNED = "It signs the message with the key"


def make_app() -> typer.Typer:
    """A fresh Typer app with only ``chat`` (a callback keeps it a sub-command)."""
    app = typer.Typer()
    app.callback()(lambda: None)
    register(app)
    return app


def chat(repo: Path, lines: list[str], *args: str) -> tuple[str, str]:
    """Run one session fed ``lines``; return (stdout, stderr) with whitespace normalised."""
    res = runner.invoke(
        make_app(),
        ["chat", "--repo", str(repo), *args],
        input="".join(f"{line}\n" for line in lines),
    )
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output
    return " ".join(res.stdout.split()), res.stderr


def thread_of(out: str) -> str:
    """The thread id in the session's banner."""
    m = re.search(r"thread ([0-9a-f]{12}) ·", out)
    assert m, out
    return m.group(1)


def messages(tmp_path: Path, thread: str) -> list[str]:
    """The conversation checkpointed for ``thread``, as texts."""
    saver = SqliteSaver(sqlite3.connect(str(tmp_path / "threads.sqlite")))
    saved = saver.get_tuple({"configurable": {"thread_id": thread}})
    return (
        []
        if saved is None
        else [str(m.content) for m in saved.checkpoint["channel_values"].get("messages", [])]
    )


def test_follow_up_sources_and_trace_on_one_thread(repo, llm, tmp_path):
    out, err = chat(
        repo, ["where is check_email defined?", "who calls it?", "/sources", "/trace", "/quit"]
    )
    tid = thread_of(out)
    assert out.count("`check_email` is defined at store/users.py:25-28.") == 2
    assert (
        "It is called from 1 call site in 1 function: - `save_user` calls it on line 21: "
        "store/users.py:19-21"
    ) in out
    assert "Citations (verified against the files): [1] store/users.py:25-28" in out
    assert len(llm.calls("condense")) == 1  # the follow-up was condensed with the history
    # /sources prints each cited span with its numbered lines, read from the file
    assert "[1] store/users.py:25-28 25 def check_email(user):" in out
    assert '26 """Reject users without an at sign."""' in out
    assert "[2] store/users.py:19-21 19 def save_user(store, user):" in out
    assert "21 check_email(user)" in out
    # /trace lists the nodes of the last answer
    assert "condense → route → graph_answer → check_answer → finish" in out
    assert "status answered; LLM calls 1" in out
    # progress streams to stderr, one dimmed line per node when not on a terminal
    assert "· graph_answer" in err and "· check_answer" in err
    # both turns are in one thread, and the index remembers its first question
    assert len(messages(tmp_path, tid)) == 4
    index = json.loads((tmp_path / "threads.chat.json").read_text())
    assert index[tid]["question"] == "where is check_email defined?"
    assert index[tid]["repo"] == str(repo.resolve())


def test_reset_thread_list_and_switch_back(repo, llm, tmp_path):
    out, _ = chat(
        repo,
        [
            "who calls save_user?",
            "/reset",
            "where is check_email defined?",
            "/thread",
            "/thread first0thread",
            "who calls it?",
            "/thread nope",
            "/quit",
        ],
        "--thread",
        "first0thread",
    )
    new = re.search(r"New thread ([0-9a-f]{12})\.", out)
    assert new and new.group(1) != "first0thread"
    # /thread lists both threads with their first question, the current one starred
    assert f"* {new.group(1)} " in out and "where is check_email defined?" in out
    listing = out[out.index("* " + new.group(1)) :]
    assert "first0thread" in listing.split("/thread ID switches")[0]
    # switching back shows the earlier messages of that thread
    assert "Switched to thread first0thread. you: who calls save_user? coderag: `save_user`" in out
    # and the follow-up is answered from that thread's memory (answer, history line, answer)
    assert out.count("`save_user` is defined at store/users.py:19-22.") == 3
    assert "No thread nope; /thread lists them." in out
    assert len(messages(tmp_path, "first0thread")) == 4
    assert len(messages(tmp_path, new.group(1))) == 2

    # --thread resumes: the banner is followed by the thread's last messages
    again, _ = chat(repo, ["/quit"], "--thread", "first0thread", "--no-index")
    assert "thread first0thread" in again and "you: who calls it?" in again


def test_help_unknown_command_and_eof(repo, llm):
    out, _ = chat(repo, ["/help", "/bogus", "/sources", "/trace"])  # input ends: EOF
    assert out.count("/sources the citations of the last answer") == 2
    assert "Unknown command /bogus." in out
    assert out.count("No answer yet in this thread.") == 2


def test_interactive_plan_review_inline(repo, llm):
    out, _ = chat(repo, [STRONG, "abort", "/trace", "/quit"], "--interactive")
    assert f"Plan: 1. {STRONG}" in out and "approve / edit / abort [approve]:" in out
    assert "Stopped at plan review." in out and "aborted · 0 LLM calls" in out
    assert "decompose:off → abort → finish" in out.split("/trace")[-1]
    assert llm.prompts == []


def test_interactive_edit_then_low_confidence(repo, llm):
    out, _ = chat(
        repo,
        [WEAK, "edit", "reconcile pods; operator loop", "answer", "/trace", "/quit"],
        "-i",
    )
    assert "sub-questions, separated by ';':" in out
    assert "Low confidence (" in out and "hint / answer / abort [answer]:" in out
    trace = out.split("coderag> /trace")[-1]
    assert "review_plan" in trace and "answer_anyway" in trace


def test_ctrl_c_during_a_question_cancels_it_and_keeps_the_thread(repo, llm, tmp_path):
    llm.queue("answer", KeyboardInterrupt())
    out, _ = chat(repo, ["where is check_email defined?", STRONG, STRONG, "/trace", "/quit"])
    tid = thread_of(out)
    assert "Cancelled; the thread is as it was before the question." in out
    assert SIGNED in out and len(llm.calls("answer")) == 2
    # the cancelled turn left nothing behind: two questions, two answers
    history = messages(tmp_path, tid)
    assert len(history) == 4 and history.count(STRONG) == 1
    assert history[0] == "where is check_email defined?"


def test_ctrl_c_on_a_new_thread_leaves_it_empty(repo, llm, tmp_path):
    llm.queue("answer", KeyboardInterrupt())
    out, _ = chat(repo, [STRONG, STRONG, "/quit"])
    assert "Cancelled" in out and SIGNED in out
    history = messages(tmp_path, thread_of(out))  # only the second, answered turn
    assert len(history) == 2 and history[0] == STRONG and history[1].startswith(SIGNED)


class ScriptedReader:
    """A LineReader replaying lines; an exception in the script is raised instead."""

    def __init__(self, *lines: str | BaseException) -> None:
        self.lines = list(lines)

    def read(self, prompt: str, *, history: bool = True) -> str:
        if not self.lines:
            raise EOFError
        line = self.lines.pop(0)
        if isinstance(line, BaseException):
            raise line
        return line


def test_ctrl_c_at_the_prompt_drops_the_line(repo, llm, tmp_path):
    services = Services(repo)
    services.index()
    console = Console(width=200, record=True)
    repl = ChatRepl(
        Assistant(services),
        context=QuestionContext(),
        reader=ScriptedReader(KeyboardInterrupt(), "who calls save_user?", "/quit", "never"),
        threads=ThreadIndex(tmp_path / "index.json"),
        out=console,
        err=Console(file=open(tmp_path / "err.txt", "w")),
    )
    repl.run()
    text = console.export_text()
    assert "`save_user` is defined at store/users.py:19-22." in text
    assert repl.last.status == "answered"
    assert repl.reader.lines == ["never"]  # /quit stopped reading


def test_read_span_stays_under_the_root(tmp_path):
    root = write_tree(tmp_path / "repo", {"a.py": "one\ntwo\nthree\n"})
    (tmp_path / "secret.txt").write_text("password\n")
    assert read_span(root, "a.py", 2, 3) == ["two", "three"]
    assert read_span(root, "../secret.txt", 1, 1) is None
    assert read_span(root, str(tmp_path / "secret.txt"), 1, 1) is None
    assert read_span(root, "missing.py", 1, 1) is None


def test_end_of_input_at_an_interrupt_aborts_the_question(repo, llm):
    out, _ = chat(repo, [STRONG], "--interactive")
    assert "approve / edit / abort [approve]:" in out
    assert "Stopped at plan review." in out and "error" not in out


def test_a_failed_question_is_reported_and_undone(repo, llm, tmp_path, monkeypatch):
    fast = builder.SERVICE_RETRY._replace(initial_interval=0.001, jitter=False)
    monkeypatch.setattr(builder, "SERVICE_RETRY", fast)
    llm.queue("answer", *[ConnectionRefusedError("llm down")] * 3)
    out, err = chat(repo, ["where is check_email defined?", STRONG, STRONG, "/quit"])
    assert "error: ConnectionRefusedError: llm down" in err
    assert SIGNED in out and len(llm.calls("answer")) == 4
    assert messages(tmp_path, thread_of(out)).count(STRONG) == 1
