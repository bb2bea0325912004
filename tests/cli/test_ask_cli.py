"""``coderag ask``: JSON contract, threads across invocations, interactive prompts, errors."""

from __future__ import annotations

import json
import socket
import sys

import pytest
from typer.testing import CliRunner

from app.cli.main import app, main
from app.llm import LLMUnavailableError
from graphs import builder

runner = CliRunner()
STRONG = "how is a message signed with a secret key?"
WEAK = "how does the kubernetes operator reconcile pods?"
FIELDS = {
    "question", "answer", "status", "citations", "hits", "trace", "thread_id", "llm_calls",
    "rejected", "pending", "degraded",
}  # fmt: skip


def ask(*args: str, input: str | None = None) -> dict:
    res = runner.invoke(app, ["ask", *args, "--json"], input=input)
    assert res.exit_code == 0, res.output
    # CliRunner echoes the typed input to stdout; a terminal would not
    return json.loads(res.stdout[res.stdout.index("{") :])


def test_ask_json_answers_a_call_graph_question_without_the_llm(repo, llm, tmp_path):
    out = ask("who calls save_user?", "--repo", str(repo))
    assert set(out) == FIELDS
    assert out["degraded"] is None  # fully indexed
    assert out["question"] == "who calls save_user?" and out["status"] == "answered"
    assert "`save_user` is defined at store/users.py:19-22." in out["answer"]
    assert out["citations"] == [
        {"path": "store/users.py", "start_line": 19, "end_line": 22},
        {"path": "api/handlers.py", "start_line": 4, "end_line": 6},
        {"path": "api/handlers.py", "start_line": 9, "end_line": 11},
    ]
    assert out["trace"] == ["condense", "route", "graph_answer", "check_answer", "finish"]
    assert out["thread_id"] and out["llm_calls"] == 0 and llm.prompts == []
    assert out["pending"] is None and out["rejected"] == []
    assert (tmp_path / "threads.sqlite").is_file()  # CODERAG_THREADS_DB


def test_thread_continues_the_conversation(repo, llm):
    first = ask("where is check_email defined?", "--repo", str(repo))
    second = ask("who calls it?", "--repo", str(repo), "--thread", first["thread_id"])
    assert second["thread_id"] == first["thread_id"]
    assert "`check_email` is defined at store/users.py:25-28." in second["answer"]
    assert {"path": "store/users.py", "start_line": 19, "end_line": 21} in second["citations"]
    assert second["trace"][0] == "condense" and len(llm.calls("condense")) == 1
    other = ask("who calls it?", "--repo", str(repo))  # a new thread has no memory
    assert other["thread_id"] != first["thread_id"] and "check_email" not in other["answer"]


def test_conceptual_question_uses_the_llm_and_toggles(repo, llm):
    out = ask(STRONG, "--repo", str(repo))
    assert out["llm_calls"] == 1 and out["status"] == "answered"
    assert out["answer"].startswith("It signs the message with the key (auth/tokens.py:4-6).")
    assert out["hits"][0]["symbol"] == "auth.tokens.sign"
    assert "decompose:off" in out["trace"] and "hyde:off" in out["trace"]
    both = ask(STRONG, "--repo", str(repo), "--hyde", "--decompose")
    assert "decompose" in both["trace"] and "hyde" in both["trace"]
    assert len(llm.calls("hyde")) == 1


def test_plain_output_lists_verified_citations(repo, llm):
    res = runner.invoke(app, ["ask", "who calls save_user?", "--repo", str(repo), "-q"])
    assert res.exit_code == 0, res.output
    assert res.stdout.startswith("`save_user` is defined at store/users.py:19-22.")
    assert "Citations (verified against the files):" in res.stdout
    assert "[3] api/handlers.py:9-11" in res.stdout
    err = " ".join(res.stderr.split())  # rich wraps long lines
    assert "trace: condense → route → graph_answer → check_answer → finish" in err
    assert "status: answered; LLM calls: 0" in err and "continue with --thread" in err


def test_interactive_plan_review_abort(repo, llm):
    res = runner.invoke(app, ["ask", STRONG, "--repo", str(repo), "-i", "-q"], input="abort\n")
    assert res.exit_code == 0, res.output
    assert f"1. {STRONG}" in res.stderr and "approve / edit / abort" in res.stderr
    assert "Stopped at plan review." in res.stdout and "status: aborted" in res.stderr
    assert llm.prompts == []


def test_interactive_edit_then_low_confidence_answer(repo, llm):
    out = ask(
        WEAK, "--repo", str(repo), "-i", input="edit\nreconcile pods; operator loop\nanswer\n"
    )
    assert out["status"] == "answered" and "answer_anyway" in out["trace"]
    assert "review_plan" in out["trace"]
    assert out["pending"] is None


def test_interactive_hint(repo, llm):
    out = ask(WEAK, "--repo", str(repo), "-i", input="\nhint\nsign message secret key\nanswer\n")
    assert "hint" in out["trace"] and out["status"] == "answered"
    assert "auth.tokens.sign" in [h["symbol"] for h in out["hits"]]


def run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run the installed entry point (``main``) and return its exit status."""
    monkeypatch.setattr(sys, "argv", ["coderag", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return int(exc.value.code or 0)


def test_unavailable_llm_exits_2_with_one_line(repo, monkeypatch, capsys):
    def unavailable(settings):
        raise LLMUnavailableError("the embedded model is missing: run `coderag setup`")

    monkeypatch.setattr("app.llm.make_chat_model", unavailable)
    code = run_main(monkeypatch, "ask", STRONG, "--repo", str(repo), "-q")
    err = capsys.readouterr().err
    assert code == 2
    assert err == "error: the embedded model is missing: run `coderag setup`\n"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_ollama_exits_2_with_one_line(repo, monkeypatch, capsys):
    fast = builder.SERVICE_RETRY._replace(initial_interval=0.001, jitter=False)
    monkeypatch.setattr(builder, "SERVICE_RETRY", fast)
    monkeypatch.setenv("CODERAG_OLLAMA_HOST", f"127.0.0.1:{closed_port()}")
    code = run_main(monkeypatch, "ask", STRONG, "--repo", str(repo), "-q", "--llm", "ollama:m")
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_missing_repo_fails_cleanly(tmp_path):
    res = runner.invoke(app, ["ask", "x", "--repo", str(tmp_path / "nope")])
    assert res.exit_code == 1
    assert "is not a directory" in res.output and "Traceback" not in res.output


def test_ask_help_explains():
    res = runner.invoke(app, ["ask", "--help"])
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    for needle in (
        "QUESTION", "--repo", "--json", "--thread", "--interactive", "--llm", "--hyde",
        "--decompose", "--no-index", "path:start-end",
    ):  # fmt: skip
        assert needle in text, needle
    assert "ask" in runner.invoke(app, ["--help"]).output
