"""What the chat REPL shows: node progress, answers, cited code, traces, threads, interrupts."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from langchain_core.messages import HumanMessage
from rich.console import Console

HELP = """\
Ask a question about the code, or type a command:
  /sources     the citations of the last answer, with their code
  /trace       the graph nodes the last answer went through
  /reset       start a new conversation thread
  /thread      list this repository's threads;  /thread ID  switches to one
  /help        this help
  /quit        leave (Ctrl-D too); Ctrl-C cancels a running question"""

MAX_SOURCE_LINES = 40
"""Lines of code shown per citation by /sources."""

Ask = Callable[[str], str]
"""Reads one reply line after showing a prompt (EOFError at the end of input)."""


def print_turn(out: Console, result: Any, seconds: float) -> None:
    """Print an answer, its numbered verified citations and a one-line footer."""
    out.print(result.answer, highlight=False, markup=False)
    if result.citations:
        out.print("\n[bold]Citations[/] (verified against the files):")
        for i, c in enumerate(result.citations, start=1):
            where = f"{c['path']}:{c['start_line']}-{c['end_line']}"
            out.print(f"  [cyan][{i}][/] {where}", highlight=False)
    if result.rejected:
        out.print(f"({len(result.rejected)} citation(s) failed verification and were removed)")
    calls = f"{result.llm_calls} LLM call{'s' if result.llm_calls != 1 else ''}"
    out.print(
        f"[dim]{result.status} · {calls} · {seconds:.1f}s · /sources shows the code[/]",
        highlight=False,
    )


class StatusLine:
    """Node progress: one line rewritten in place on a terminal, a line per node otherwise."""

    def __init__(self, err: Console) -> None:
        """Write to ``err``."""
        self.err = err
        self.nodes: list[str] = []
        self.draft = ""
        self._open = False

    def node(self, name: str, update: dict[str, Any]) -> None:
        """Show that node ``name`` finished (``Assistant.ask``'s ``on_update``)."""
        self.nodes.append(name)
        if not self.err.is_terminal:
            self.err.print(f"  · {name}", style="dim", highlight=False)
            return
        width = shutil.get_terminal_size().columns - 1
        text = "· " + " · ".join(self.nodes)
        if len(text) > width:
            text = "…" + text[-(width - 1) :]
        self.err.file.write(f"\r\x1b[2K\x1b[2m{text}\x1b[0m")
        self.err.file.flush()
        self._open = True

    def token(self, node: str, text: str) -> None:
        """Show the answer being drafted, live, on the status line (terminals only)."""
        if node != "answer" or not self.err.is_terminal:
            return
        self.draft = (self.draft + text).replace("\n", " ")
        width = shutil.get_terminal_size().columns - 1
        shown = "drafting: " + self.draft
        if len(shown) > width:
            shown = "…" + shown[-(width - 1) :]
        self.err.file.write(f"\r\x1b[2K\x1b[2m{shown}\x1b[0m")
        self.err.file.flush()
        self._open = True

    def clear(self) -> None:
        """Erase the status line (before anything else is printed)."""
        if self._open:
            self.err.file.write("\r\x1b[2K")
            self.err.file.flush()
            self._open = False


def read_span(root: Path, path: str, start: int, end: int) -> list[str] | None:
    """Return lines ``start..end`` of ``root/path`` (secrets masked, as the index holds them).

    None for a path outside ``root`` (symlinks included) or a file that cannot be read.
    """
    from app.answer.verify import SourceReader

    try:
        lines = SourceReader(root).lines(path)
    except (OSError, ValueError):
        return None
    return lines[max(start, 1) - 1 : end]


def print_sources(out: Console, root: Path, citations: list[dict[str, Any]]) -> None:
    """Print each citation as ``path:start-end`` followed by its numbered lines of code."""
    if not citations:
        out.print("The last answer cites no code.")
        return
    for i, c in enumerate(citations, start=1):
        start, end = int(c["start_line"]), int(c["end_line"])
        out.print(f"[cyan][{i}][/] [bold]{c['path']}:{start}-{end}[/]", highlight=False)
        lines = read_span(root, c["path"], start, end)
        if lines is None:
            out.print("    (not readable under the repository root)")
            continue
        for n, text in enumerate(lines[:MAX_SOURCE_LINES], start=start):
            out.print(f"[dim]{n:>5}[/]  ", end="", highlight=False)
            out.print(text, markup=False, highlight=False, soft_wrap=True)
        if len(lines) > MAX_SOURCE_LINES:
            out.print(f"[dim]      ... {len(lines) - MAX_SOURCE_LINES} more lines[/]")


def print_trace(out: Console, result: Any) -> None:
    """Print the nodes the last answer went through."""
    out.print(" → ".join(result.trace), highlight=False, markup=False)
    out.print(f"[dim]status {result.status}; LLM calls {result.llm_calls}[/]", highlight=False)


def print_history(out: Console, messages: list[Any], turns: int = 3) -> None:
    """Print the last ``turns`` exchanges of a thread, one line each side."""
    recent = messages[-2 * turns :]
    if len(messages) > len(recent):
        out.print(f"[dim]... {len(messages) - len(recent)} earlier messages[/]")
    for m in recent:
        who = "you" if isinstance(m, HumanMessage) else "coderag"
        first = (str(m.content).strip().splitlines() or [""])[0]
        text = first if len(first) <= 100 else first[:99] + "…"
        out.print(f"  [bold]{who}:[/] ", end="")
        out.print(text, markup=False, highlight=False)


class ThreadIndex:
    """The chat threads of each repository, with first question and time, in a JSON file."""

    def __init__(self, path: Path) -> None:
        """Keep the index in ``path`` (created on the first record)."""
        self.path = path

    def load(self) -> dict[str, dict[str, str]]:
        """Return thread id -> {"repo", "question", "time"}; empty when unreadable."""
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def record(self, thread_id: str, question: str, repo: Path) -> None:
        """Remember ``thread_id`` with its first question (later questions change nothing)."""
        data = self.load()
        if thread_id in data:
            return
        data[thread_id] = {
            "repo": str(repo),
            "question": question,
            "time": time.strftime("%Y-%m-%d %H:%M"),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(self.path)

    def threads(self, repo: Path) -> list[tuple[str, dict[str, str]]]:
        """Return the threads of ``repo``, newest first (the file keeps them in order)."""
        mine = [(k, v) for k, v in self.load().items() if v.get("repo") == str(repo)]
        return mine[::-1]

    def resolve(self, ref: str) -> str | None:
        """Return the thread id ``ref`` names exactly or by a unique prefix."""
        ids = list(self.load())
        if ref in ids:
            return ref
        matches = [i for i in ids if i.startswith(ref)]
        return matches[0] if len(matches) == 1 else None


def print_threads(out: Console, index: ThreadIndex, repo: Path, current: str) -> None:
    """List ``repo``'s threads, the current one starred."""
    rows = index.threads(repo)
    if current not in dict(rows):
        out.print(f"* {current}  (new, no answer yet)", highlight=False)
    for tid, info in rows[:20]:
        mark = "*" if tid == current else " "
        out.print(f"{mark} {tid}  {info.get('time', '')}  ", end="", highlight=False)
        out.print(info.get("question", ""), markup=False, highlight=False)
    out.print("[dim]/thread ID switches to a thread[/]")


def answer_interrupt(out: Console, request: dict[str, Any], ask: Ask) -> dict[str, Any]:
    """Answer the graph's interrupt from the REPL's input, as ``coderag ask -i`` does."""
    if request.get("type") == "review_plan":
        out.print("[bold]Plan:[/]")
        for i, step in enumerate(request.get("plan", []), start=1):
            out.print(f"  {i}. {step}", highlight=False, markup=False)
        choice = ask("approve / edit / abort [approve]: ").strip().lower() or "approve"
        if choice.startswith("ab"):
            return {"action": "abort"}
        if choice.startswith("ed"):
            raw = _non_empty(ask, "sub-questions, separated by ';': ")
            return {"action": "edit", "plan": [p.strip() for p in raw.split(";") if p.strip()]}
        return {"action": "approve"}
    confidence = float(request.get("confidence", 0))
    out.print(f"[yellow]Low confidence ({confidence:.2f})[/] for: ", end="")
    out.print(str(request.get("question", "")), markup=False, highlight=False)
    for h in request.get("hits", []):
        where = f"{h['path']}:{h['start_line']}-{h['end_line']}"
        out.print(f"  {where}  {h.get('symbol') or ''}", highlight=False, markup=False)
    choice = ask("hint / answer / abort [answer]: ").strip().lower() or "answer"
    if choice.startswith("ab"):
        return {"action": "abort"}
    if choice.startswith("h"):
        return {"action": "hint", "hint": _non_empty(ask, "hint (names, files, words): ")}
    return {"action": "answer"}


def _non_empty(ask: Ask, prompt: str) -> str:
    """Ask until the reply is not blank."""
    while True:
        reply = ask(prompt).strip()
        if reply:
            return reply
