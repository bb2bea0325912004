"""``coderag chat``: a multi-turn REPL over the question graph, one conversation thread at a time.

Questions run :meth:`Assistant.ask` on the current thread, node progress streams as it
happens, and slash commands show the cited code, the trace and the threads. Ctrl-C cancels
a running question and puts the thread back as it was before it.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from rich.console import Console

from app.chat import commands as cmd

if TYPE_CHECKING:
    from app.assistant import Assistant
    from graphs import QuestionContext

PROMPT = "coderag> "


class LineReader(Protocol):
    """Where the REPL reads lines: raises EOFError at the end, KeyboardInterrupt on Ctrl-C."""

    def read(self, prompt: str, *, history: bool = True) -> str:
        """Show ``prompt`` and return the line typed (``history``: remember it)."""
        ...


class PlainReader:
    """Lines from standard input (pipes, scripts, tests)."""

    def read(self, prompt: str, *, history: bool = True) -> str:
        """Write ``prompt`` to stdout and read one line from stdin."""
        sys.stdout.write(prompt)
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.rstrip("\r\n")


class TerminalReader:
    """prompt_toolkit line editing with questions remembered across sessions."""

    def __init__(self, history_path: Path) -> None:
        """Keep the questions' history in ``history_path``."""
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory

        history_path.parent.mkdir(parents=True, exist_ok=True)
        self._questions: PromptSession[str] = PromptSession(history=FileHistory(history_path))
        self._replies: PromptSession[str] = PromptSession(history=InMemoryHistory())

    def read(self, prompt: str, *, history: bool = True) -> str:
        """Prompt with line editing; replies to interrupts are kept out of the history."""
        from prompt_toolkit.formatted_text import FormattedText

        session = self._questions if history else self._replies
        style = "ansicyan bold" if history else "ansiyellow"
        return session.prompt(FormattedText([(style, prompt)]))


def make_reader(history_path: Path) -> LineReader:
    """A terminal reader when stdin and stdout are terminals, else plain stdin."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return TerminalReader(history_path)
    return PlainReader()


class _CtrlC:
    """Turn Ctrl-C during a question into a KeyboardInterrupt raised from our own callbacks.

    A SIGINT that lands inside LangGraph's executor can be absorbed there (seen in a real
    terminal: the answer finished as if nothing was pressed), so the handler only records it;
    the next progress event or token raises it where we can catch it. A second Ctrl-C raises
    at once.
    """

    def __init__(self) -> None:
        self.pressed = False
        self._previous: Any = None

    def __enter__(self) -> _CtrlC:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        if self.pressed and exc[0] is None:
            raise KeyboardInterrupt

    def _handler(self, signum: int, frame: Any) -> None:
        if self.pressed:
            raise KeyboardInterrupt
        self.pressed = True

    def check(self) -> None:
        """Raise KeyboardInterrupt if Ctrl-C was pressed since the question started."""
        if self.pressed:
            raise KeyboardInterrupt


class ChatRepl:
    """The read-ask-print loop over one repository's assistant."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        context: QuestionContext,
        reader: LineReader,
        threads: cmd.ThreadIndex,
        thread_id: str | None = None,
        out: Console | None = None,
        err: Console | None = None,
    ) -> None:
        """Chat with ``assistant`` on ``thread_id`` (a new thread when None)."""
        self.assistant = assistant
        self.context = context
        self.reader = reader
        self.threads = threads
        self.thread_id = thread_id or _new_thread_id()
        self.out = out or Console()
        self.err = err or Console(stderr=True)
        self.root = assistant.services.root
        self.last: Any = None
        self._status = cmd.StatusLine(self.err)

    def run(self) -> None:
        """Read questions and commands until /quit or end of input."""
        self.out.print(
            f"[bold]coderag chat[/] on {self.root} · thread {self.thread_id} · "
            "/help for commands, /quit to leave",
            highlight=False,
            soft_wrap=True,
        )
        self._show_history()
        while True:
            try:
                line = self.reader.read(PROMPT).strip()
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt drops the line
            except EOFError:
                self.out.print()
                return
            try:
                if line.startswith("/"):
                    if not self.command(line):
                        return
                elif line:
                    self.ask(line)
            except KeyboardInterrupt:
                self.out.print("^C")

    def command(self, line: str) -> bool:
        """Run a slash command; return False to leave the REPL."""
        name, _, arg = line.partition(" ")
        arg = arg.strip()
        if name in ("/quit", "/exit", "/q"):
            return False
        if name == "/sources":
            if self._need_answer():
                cmd.print_sources(self.out, self.root, self.last.citations)
        elif name == "/trace":
            if self._need_answer():
                cmd.print_trace(self.out, self.last)
        elif name == "/reset":
            self._switch(_new_thread_id())
            self.out.print(f"New thread {self.thread_id}.", highlight=False)
        elif name == "/thread" and not arg:
            cmd.print_threads(self.out, self.threads, self.root, self.thread_id)
        elif name == "/thread":
            self._switch_to(arg)
        else:
            if name != "/help":
                self.out.print(f"Unknown command {name}.", markup=False, highlight=False)
            self.out.print(cmd.HELP, markup=False, highlight=False)
        return True

    def ask(self, question: str) -> None:
        """Answer ``question`` on the current thread; Ctrl-C or a failure undoes the turn."""
        before = self.assistant.graph.get_state(self._config())
        self._status = cmd.StatusLine(self.err)
        interactive = self.context.interactive
        started = time.perf_counter()
        stop = _CtrlC()

        def on_update(node: str, update: dict[str, Any]) -> None:
            stop.check()
            self._status.node(node, update)

        def on_token(node: str, text: str) -> None:
            stop.check()
            self._status.token(node, text)

        try:
            with stop:
                result = self.assistant.ask(
                    question,
                    thread_id=self.thread_id,
                    context=self.context,
                    on_update=on_update,
                    on_interrupt=self._interrupt if interactive else None,
                    on_token=on_token if self.err.is_terminal else None,
                )
        except KeyboardInterrupt:
            self._undo(before)
            self.out.print("[yellow]Cancelled[/]; the thread is as it was before the question.")
            return
        except Exception as exc:  # the session survives a failed turn
            self._undo(before)
            self.err.print(f"error: {type(exc).__name__}: {exc}", markup=False, highlight=False)
            return
        self._status.clear()
        self.threads.record(self.thread_id, question, self.root)
        self.last = result
        cmd.print_turn(self.out, result, time.perf_counter() - started)

    def _interrupt(self, request: dict[str, Any]) -> dict[str, Any]:
        """Answer the graph's question inline; the end of input aborts the turn."""
        self._status.clear()
        try:
            return cmd.answer_interrupt(
                self.out, request, lambda prompt: self.reader.read(prompt, history=False)
            )
        except EOFError:
            return {"action": "abort"}

    def _undo(self, before: Any) -> None:
        """Put the thread back to ``before`` (its state when the question was asked)."""
        self._status.clear()
        if before.config["configurable"].get("checkpoint_id"):
            self.assistant.graph.update_state(before.config, None, as_node="__copy__")
        else:  # the question was the thread's first: forget the thread
            self.assistant.checkpointer.delete_thread(self.thread_id)

    def _need_answer(self) -> bool:
        if self.last is None:
            self.out.print("No answer yet in this thread.")
        return self.last is not None

    def _switch_to(self, ref: str) -> None:
        tid = self.threads.resolve(ref)
        if tid is None and self._messages(ref):
            tid = ref
        if tid is None:
            self.out.print(f"No thread {ref}; /thread lists them.", markup=False, highlight=False)
            return
        self._switch(tid)
        self.out.print(f"Switched to thread {tid}.", highlight=False)
        self._show_history()

    def _switch(self, thread_id: str) -> None:
        self.thread_id = thread_id
        self.last = None

    def _show_history(self) -> None:
        messages = self._messages(self.thread_id)
        if messages:
            cmd.print_history(self.out, messages)

    def _messages(self, thread_id: str) -> list[Any]:
        state = self.assistant.graph.get_state(self._config(thread_id))
        return list(state.values.get("messages", []))

    def _config(self, thread_id: str | None = None) -> dict[str, Any]:
        return {"configurable": {"thread_id": thread_id or self.thread_id}}


def _new_thread_id() -> str:
    return uuid.uuid4().hex[:12]
