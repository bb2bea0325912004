"""Greedy packing of line units into chunk drafts that fit the embedder's token budget.

The layout modules (``chunk.code``, ``chunk.prose``) cut a file into regions (a function, a
markdown section, a run of module code) and each region into units (statements, paragraphs).
The packer joins consecutive units while the enriched text fits, breaks a unit that does not
fit on its own into smaller units (nested statements, then lines), and slices a single line
that still does not fit, so every draft fits unless the budget cannot hold even the enrichment.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import accumulate
from typing import TYPE_CHECKING

from app.index.chunk.tokens import finish, score
from app.index.records import ChunkKind, Symbol

if TYPE_CHECKING:
    from tree_sitter import Node

_ALNUM = re.compile(r"\w")


@dataclass(slots=True)
class Unit:
    """A run of lines that the packer keeps together unless it must break it."""

    start: int
    end: int
    node: Node | None = None
    """The syntax node that starts the run, used to break it at nested statements."""


@dataclass(slots=True)
class Region:
    """What every draft cut from one region shares."""

    kind: ChunkKind
    symbol: Symbol | None = None
    header: str = ""
    """Signature line(s) to repeat in front of parts that do not contain them."""
    header_end: int = 0
    """Parts starting at or before this line hold the header themselves."""
    section: str = ""
    """Markdown heading path, shown in the enrichment."""


@dataclass(slots=True)
class Draft:
    """A chunk before its text, enrichment and hash are rendered."""

    start: int
    end: int
    kind: ChunkKind
    symbol: Symbol | None = None
    header: str = ""
    """Prepended to the text when non-empty."""
    section: str = ""
    body: str | None = None
    """Explicit text, only for a slice of a line too long for one chunk."""


@dataclass(slots=True)
class Doc:
    """One file's lines with the budget, the token counter and the enrichment renderer."""

    path: str
    module: str
    lines: list[str]
    count: Callable[[str], int]
    max_tokens: int
    additive: bool = False
    """True when ``count`` is the built-in estimate: spans are then scored by per-line sums."""
    _prefix: dict[tuple[str, str], str] = field(default_factory=dict)
    _sums: list[float] = field(default_factory=list)
    _scores: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.additive:
            self._sums = [0.0, *accumulate(map(score, self.lines))]

    def raw(self, start: int, end: int) -> str:
        """Return lines ``start..end`` (1-based, inclusive) joined by newlines."""
        return "\n".join(self.lines[start - 1 : end])

    def blank(self, line: int) -> bool:
        """Return True when ``line`` holds only whitespace."""
        return not self.lines[line - 1].strip()

    def trivial(self, start: int, end: int) -> bool:
        """Return True when lines ``start..end`` hold no word character (``}``, ``});``)."""
        return not any(_ALNUM.search(self.lines[i]) for i in range(start - 1, end))

    def trim(self, start: int, end: int) -> tuple[int, int]:
        """Shrink a span to its first and last non-blank lines (start > end when all blank)."""
        while start <= end and self.blank(start):
            start += 1
        while end >= start and self.blank(end):
            end -= 1
        return start, end

    def text(self, draft: Draft) -> str:
        """Render the chunk text of ``draft``: header (when repeated), then its lines."""
        body = draft.body if draft.body is not None else self.raw(draft.start, draft.end)
        return f"{draft.header}\n{body}" if draft.header else body

    def enrichment(self, draft: Draft) -> str:
        """Return the short context line(s) that precede the text in ``embed_text``."""
        qualname = draft.symbol.qualname if draft.symbol else ""
        key = (qualname, draft.section)
        cached = self._prefix.get(key)
        if cached is None:
            path = f"path: {self.path}\n"
            options = [path]
            if draft.symbol is not None:
                role = self._role(draft.symbol)
                options = [f"{path}symbol: {qualname} ({role})\n", f"{path}symbol: {qualname}\n"]
            elif draft.section:
                options = [f"{path}section: {draft.section}\n", path]
            # Keep at least half the budget for the code: shorten the context when needed.
            fitting = (o for o in options if self.count(o) <= self.max_tokens // 2)
            cached = self._prefix[key] = next(fitting, path)
        return cached

    def _role(self, symbol: Symbol) -> str:
        rel = symbol.qualname
        if self.module and rel.startswith(self.module + "."):
            rel = rel[len(self.module) + 1 :]
        parents = rel.rsplit(".", 1)[0] if "." in rel else ""
        if not parents:
            return symbol.kind
        return f"{symbol.kind} {'of' if symbol.kind == 'method' else 'in'} {parents}"

    def fits(self, draft: Draft) -> bool:
        """Return True when the enriched text of ``draft`` fits the budget."""
        if not self.additive:
            return self.count(self.enrichment(draft) + self.text(draft)) <= self.max_tokens
        total = self._score(self.enrichment(draft)) + self._score(draft.header)
        if draft.body is not None:
            total += score(draft.body)
        else:
            total += self._sums[draft.end] - self._sums[draft.start - 1]
        return finish(total) <= self.max_tokens

    def _score(self, text: str) -> float:
        cached = self._scores.get(text)
        if cached is None:
            cached = self._scores[text] = score(text)
        return cached


Expander = Callable[[Unit], "list[Unit] | None"]


def line_units(unit: Unit) -> list[Unit] | None:
    """Break a unit into single lines (None for a single line: it can only be sliced)."""
    if unit.end <= unit.start:
        return None
    return [Unit(line, line) for line in range(unit.start, unit.end + 1)]


def pack(doc: Doc, region: Region, units: list[Unit], expand: Expander = line_units) -> list[Draft]:
    """Join consecutive ``units`` into drafts of ``region`` that fit the budget.

    A unit too big on its own is replaced by what ``expand`` breaks it into, and its first
    pieces may join the part before it; a part holding only the header is never emitted
    alone when the next unit can still be broken.
    """
    out: list[Draft] = []
    queue = deque(units)
    cur: Draft | None = None
    while queue:
        unit = queue.popleft()
        if cur is not None:
            grown = _draft(doc, region, cur.start, unit.end)
            if grown is None or doc.fits(grown):
                cur = grown or cur
                continue
            subs = expand(unit) if _breaks(doc, region, cur, unit) else None
            if subs:
                queue.extendleft(reversed(subs))
                continue
            out.append(cur)
            cur = None
        alone = _draft(doc, region, unit.start, unit.end)
        if alone is None:
            continue
        if doc.fits(alone):
            cur = alone
            continue
        subs = expand(unit)
        if subs:
            queue.extendleft(reversed(subs))
        else:
            out.extend(slice_line(doc, alone))
    if cur is not None:
        out.append(cur)
    return out


def _breaks(doc: Doc, region: Region, cur: Draft, unit: Unit) -> bool:
    """Return True when ``unit`` should be broken to top up ``cur`` rather than start a part."""
    if cur.end <= region.header_end:
        return True
    alone = _draft(doc, region, unit.start, unit.end)
    return alone is not None and not doc.fits(alone)


def _draft(doc: Doc, region: Region, start: int, end: int) -> Draft | None:
    start, end = doc.trim(start, end)
    if start > end:
        return None
    header = region.header if region.header and start > region.header_end else ""
    return Draft(start, end, region.kind, region.symbol, header, region.section)


def slice_line(doc: Doc, draft: Draft) -> list[Draft]:
    """Cut the single line of ``draft`` into character slices that each fit (the last resort).

    The slices share the line's span; they are the one case where chunks overlap.
    """
    line = doc.raw(draft.start, draft.end)
    out: list[Draft] = []
    pos = 0
    while pos < len(line):
        size = _largest_fit(doc, draft, line, pos)
        if size == 0 and draft.header:
            draft.header = ""
            continue
        size = size or min(len(line) - pos, 64)
        out.append(replace(draft, body=line[pos : pos + size]))
        pos += size
    return out


def _largest_fit(doc: Doc, draft: Draft, line: str, pos: int) -> int:
    # Bound the search: no token spans more than ~16 characters outside runs of whitespace.
    lo, hi = 0, min(len(line) - pos, 16 * doc.max_tokens)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if doc.fits(replace(draft, body=line[pos : pos + mid])):
            lo = mid
        else:
            hi = mid - 1
    return lo
