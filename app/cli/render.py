"""Terminal rendering for the CLI: progress bars and summaries (rich), kept out of the engine."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from app.index.report import IndexReport

err = Console(stderr=True)
out = Console()

_LABELS = {
    "scan": "Scanning files",
    "parse": "Parsing + chunking",
    "embed": "Embedding chunks",
    "strip": "Stripping docs",
    "queries": "Mining queries",
}


class RichProgress:
    """Render engine progress phases as rich progress bars on stderr."""

    def __init__(self, enabled: bool = True, *, notes: bool = False):
        """Draw only when ``enabled`` and stderr is a terminal.

        ``notes`` prints one line (terminal or not) when an index run is searchable, before
        the rest of the graph and the embedding, the minutes-long part on a small CPU.
        """
        self.enabled = enabled and sys.stderr.isatty()
        self.notes = notes
        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<20}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=err,
            transient=False,
            disable=not self.enabled,
        )
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> RichProgress:
        """Start drawing."""
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop drawing."""
        self._bar.stop()

    def start(self, phase: str, total: int | None) -> None:
        """Add a bar for ``phase``."""
        if phase == "searchable":  # a moment, not a bar (None: no embedding follows)
            if self.notes and total is not None:
                err.print(searchable_note(total), highlight=False, soft_wrap=True)
            return
        self._tasks[phase] = self._bar.add_task(_LABELS.get(phase, phase), total=total)

    def advance(self, phase: str, n: int = 1) -> None:
        """Advance the bar of ``phase``."""
        if phase in self._tasks:
            self._bar.advance(self._tasks[phase], n)

    def end(self, phase: str) -> None:
        """Complete the bar of ``phase``."""
        if phase in self._tasks:
            task = self._tasks[phase]
            done = self._bar.tasks[task].completed
            self._bar.update(task, total=done, completed=done)


def searchable_note(to_embed: int | None) -> str:
    """Return the line an index run prints once everything but the dense vectors is committed."""
    ready = "searchable now (lexical, symbol, path, graph)"
    if not to_embed:
        return f"{ready}; dense vectors up to date"
    return f"{ready}; embedding {to_embed} chunks for the dense lane"


def print_degraded(reason: str, chosen: Sequence[str], ready: Sequence[str]) -> None:
    """Print one stderr line: which of the ``chosen`` lanes a search ran without, and why."""
    missing = [x for x in chosen if x not in ready]
    used = ", ".join(x for x in chosen if x in ready) or "-"
    gap = f"missing: {', '.join(missing)}; " if missing else ""
    tail = "; a stopped `coderag index` resumes where it was" if "dense" in reason else ""
    err.print(
        f"note: partial search ({reason}); {gap}lanes used: {used}{tail}",
        highlight=False,
        markup=False,
        soft_wrap=True,
    )


def print_report(r: IndexReport) -> None:
    """Print the human summary of an indexing run."""
    if r.rebuilt:
        out.print(f"[yellow]Index rebuilt from scratch:[/] {r.rebuilt}")
    out.print(f"[bold]Indexed[/] {r.root}  ->  {r.index_dir}")
    out.print(
        f"files {r.files} (+{r.added} added, {r.changed} changed, {r.deleted} deleted, "
        f"{r.unchanged} unchanged)"
    )
    langs = ", ".join(f"{k} {v}" for k, v in r.files_by_language.items())
    out.print(f"  by language: {langs or '-'}")
    cov = 100.0 * r.structural / r.files if r.files else 0.0
    out.print(
        f"  structural (tree-sitter) {r.structural} ({cov:.0f}%), text fallback "
        f"{r.text_fallback}, with syntax errors {r.syntax_errors}, lossy UTF-8 {r.lossy_utf8}"
    )
    skipped = ", ".join(f"{k} {v}" for k, v in r.skipped.items()) or "none"
    out.print(f"  skipped: {skipped}")
    if r.secrets_masked:
        out.print(f"  secrets masked: {r.secrets_masked} (`coderag index -v` lists kind and line)")
    dense = (
        f"{r.vectors} vectors ({r.embedded} embedded, {r.embed_cache_hits} from cache)"
        if r.dense
        else "dense vectors skipped"
    )
    out.print(f"chunks {r.chunks}; {dense}")
    if r.embedder:
        out.print(f"  embedded by {r.embedder}", highlight=False)
    edges = ", ".join(f"{k} {v}" for k, v in r.edges.items())
    out.print(f"graph: {r.symbols} symbols, {r.graph_nodes} nodes; edges: {edges}")
    total = r.calls_resolved + r.calls_unresolved
    share = 100.0 * r.calls_resolved / total if total else 0.0
    out.print(
        f"  calls resolved {r.calls_resolved} / {total} ({share:.0f}%); "
        f"python calls by {r.python_calls}"
    )
    if r.seconds_to_searchable is not None:
        out.print(f"searchable after {r.seconds_to_searchable:.2f} s", highlight=False)
    table = Table("phase", "seconds", box=None)
    for phase, secs in r.seconds.items():
        table.add_row(phase, f"{secs:.2f}")
    out.print(table)


def print_hits(hits: list[Any], *, explain: bool = False) -> None:
    """Print hits as ``path:start-end  symbol`` lines; ``explain`` adds lanes and features."""
    if not hits:
        out.print("no results")
        return
    for i, h in enumerate(hits, start=1):
        where = f"{h.path}:{h.start_line}-{h.end_line}"
        tag = "  [graph]" if h.expanded else ""
        out.print(
            f"{i:>2}. [bold]{where}[/]  {h.symbol or ''}  ({h.score:.3f}){tag}", highlight=False
        )
        if explain:
            lanes = ", ".join(f"{k} #{v}" for k, v in sorted(h.lanes.items(), key=lambda kv: kv[1]))
            out.print(f"      lanes: {lanes or '-'}", highlight=False)
            feats = ", ".join(f"{k}={v:g}" for k, v in sorted(h.features.items()))
            out.print(f"      features: {feats or '-'}", highlight=False)


def print_answer(result: Any) -> None:
    """Print an answer, its numbered verified citations, the trace and the thread id."""
    out.print(result.answer, highlight=False, markup=False)
    if result.citations:
        out.print("\nCitations (verified against the files):")
        for i, c in enumerate(result.citations, start=1):
            out.print(f"  [{i}] {c['path']}:{c['start_line']}-{c['end_line']}", highlight=False)
    if result.rejected:
        out.print(f"({len(result.rejected)} citation(s) failed verification and were removed)")
    err.print(f"trace: {' → '.join(result.trace)}", highlight=False, markup=False)
    err.print(
        f"thread: {result.thread_id} (continue with --thread {result.thread_id}); "
        f"status: {result.status}; LLM calls: {result.llm_calls}",
        highlight=False,
        markup=False,
    )
