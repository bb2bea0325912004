"""Lay out prose and plain files: markdown by heading sections, others by blank-line paragraphs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.index.chunk.pack import Doc, Draft, Region, Unit, pack
from app.index.records import ChunkKind

_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t#]*$")
_UNDERLINE = re.compile(r" {0,3}([=\-~^\"'`*+#:._])\1{2,}[ \t]*$")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r"\s*([-*+]|\d+[.)])\s")


@dataclass(slots=True)
class _Heading:
    start: int
    """First line of the heading (the overline, when the title has one)."""
    end: int
    """Last line of the heading (the underline of a setext/reST title)."""
    level: int
    title: str


def chunk_plain(doc: Doc, kind: ChunkKind) -> list[Draft]:
    """Group the blank-line paragraphs of a config or text file up to the budget."""
    return pack(doc, Region(kind), paragraphs(doc, 1, len(doc.lines)))


def chunk_markdown(doc: Doc) -> list[Draft]:
    """Cut a markdown/reST file into heading sections, each packed by paragraphs."""
    out: list[Draft] = []
    for start, end, path in _sections(doc):
        out.extend(pack(doc, Region("markdown", section=path), paragraphs(doc, start, end)))
    return out


def paragraphs(doc: Doc, lo: int, hi: int) -> list[Unit]:
    """Cut ``lo..hi`` before each paragraph; a fenced code block stays one paragraph."""
    starts: list[int] = []
    fence = ""
    previous_blank = True
    for line in range(lo, hi + 1):
        text = doc.lines[line - 1]
        blank = not text.strip()
        if not blank and previous_blank and not fence:
            starts.append(line)
        fence = _fence_step(fence, text)
        previous_blank = blank
    if not starts:
        return [Unit(lo, hi)]
    bounds = [lo, *[s for s in starts if s > lo], hi + 1]
    return [Unit(a, b - 1) for a, b in zip(bounds, bounds[1:], strict=False)]


def _fence_step(fence: str, text: str) -> str:
    """Return the open fence marker after ``text`` ('' outside fenced code)."""
    match = _FENCE.match(text)
    if match is None:
        return fence
    marker = match.group(1)
    if not fence:
        return marker
    closes = marker[0] == fence[0] and len(marker) >= len(fence)
    return "" if closes and not text.strip()[len(marker) :].strip() else fence


def _sections(doc: Doc) -> list[tuple[int, int, str]]:
    """Return ``(start, end, heading path)`` per section; a bare heading joins the next one."""
    headings = _headings(doc)
    bounds = [h.start for h in headings]
    out: list[tuple[int, int, str]] = []
    if not headings or headings[0].start > 1:
        out.append((1, (bounds[0] - 1) if bounds else len(doc.lines), ""))
    trail: list[_Heading] = []
    pending: int | None = None
    for i, heading in enumerate(headings):
        end = bounds[i + 1] - 1 if i + 1 < len(bounds) else len(doc.lines)
        trail = [h for h in trail if h.level < heading.level] + [heading]
        start = heading.start if pending is None else pending
        if doc.trim(heading.end + 1, end)[0] > end and i + 1 < len(headings):
            pending = start
            continue
        pending = None
        out.append((start, end, " > ".join(h.title for h in trail)))
    return out


def _headings(doc: Doc) -> list[_Heading]:
    """Find ATX (``## x``) and underlined (setext, reST) headings outside fenced code."""
    found: list[_Heading] = []
    levels: dict[str, int] = {}
    fence = ""
    lines = doc.lines
    for i, text in enumerate(lines):
        inside = fence
        fence = _fence_step(fence, text)
        if inside or fence:
            continue
        atx = _ATX.match(text)
        if atx:
            title = (atx.group(2) or "").strip()
            found.append(_Heading(i + 1, i + 1, len(atx.group(1)), title))
            continue
        heading = _underlined(lines, i, levels)
        if heading is not None:
            if found and found[-1].end >= heading.start:
                continue
            found.append(heading)
    return found


def _underlined(lines: list[str], i: int, levels: dict[str, int]) -> _Heading | None:
    """Return the heading whose underline is line ``i`` (0-based), if it is one."""
    underline = _UNDERLINE.match(lines[i])
    if underline is None or i == 0:
        return None
    title = lines[i - 1].strip()
    if not title or _UNDERLINE.match(lines[i - 1]) or _LIST_ITEM.match(lines[i - 1]):
        return None
    if i >= 2 and lines[i - 2].strip() and not _UNDERLINE.match(lines[i - 2]):
        return None  # the line above is a paragraph, so this is a rule or a table, not a title
    overline = i >= 2 and lines[i - 2].strip() == lines[i].strip()
    key = ("o" if overline else "") + underline.group(1)
    level = levels.setdefault(key, len(levels) + 1)
    start = i - 1 if overline else i
    return _Heading(start, i + 1, level, title)
