"""Lay out a parsed code file as chunks: definitions, split classes and functions, module code.

Definitions come from the parser's symbols (nested by their line spans); the tree-sitter tree,
when given, supplies the statement boundaries where big definitions and module code are cut
and the exact signature lines repeated in front of later parts.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.index.chunk.pack import Doc, Draft, Region, Unit, line_units, pack
from app.index.records import ChunkKind, Symbol

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

CLASS_KINDS = frozenset({"class", "interface", "struct", "enum", "trait"})
DEF_KINDS = CLASS_KINDS | {"function", "method"}
_LEADING = re.compile(r"\s*(#|//|/\*|\*|@)")
"""Lines that belong to the definition below them: comments, decorators, attributes."""
_HEADER_MAX_LINES = 6
_EXPAND_DEPTH = 4

RegionFor = Callable[[int], Region]
"""Give the region of a gap of code that starts on a line."""


@dataclass(slots=True)
class Definition:
    """A symbol to chunk, with its span widened to the comments/decorators above it."""

    symbol: Symbol
    start: int
    end: int
    node: Node | None = None
    children: list[Definition] = field(default_factory=list)


def chunk_code(doc: Doc, symbols: list[Symbol], tree: Tree | None) -> list[Draft]:
    """Return the drafts of a structurally parsed file, in line order."""
    layout = _Layout(doc, tree)
    defs = layout.nest(symbols)
    root = tree.root_node if tree is not None else None
    layout.fill(1, len(doc.lines), defs, root, lambda start: Region("module"))
    return layout.out


class _Layout:
    """Walk one file's definitions in line order, appending drafts to ``out``."""

    def __init__(self, doc: Doc, tree: Tree | None):
        self.doc = doc
        self.tree = tree
        self.out: list[Draft] = []
        self._kids: dict[int, tuple[list[int], list[Node]]] = {}

    # -- definitions ---------------------------------------------------------------------------

    def nest(self, symbols: list[Symbol]) -> list[Definition]:
        """Nest definition symbols by span; drop ones that overlap without nesting."""
        last = len(self.doc.lines)
        picked = sorted(
            (s for s in symbols if s.kind in DEF_KINDS and 1 <= s.start_line <= last),
            key=lambda s: (s.start_line, -s.end_line, s.qualname),
        )
        top: list[Definition] = []
        stack: list[Definition] = []
        for sym in picked:
            end = min(max(sym.end_line, sym.start_line), last)
            while stack and stack[-1].end < sym.start_line:
                stack.pop()
            if stack and end > stack[-1].end:
                continue
            node = self._def_node(sym.start_line, end)
            item = Definition(sym, sym.start_line, end, node)
            (stack[-1].children if stack else top).append(item)
            stack.append(item)
        self._widen(top, 1, top_level=True)
        return top

    def _widen(self, defs: list[Definition], floor: int, *, top_level: bool) -> None:
        """Pull decorators, comments and (top level) opening lines like ``impl X {`` in."""
        for item in defs:
            if item.node is not None and item.node.parent is not None:
                if item.node.parent.type == "decorated_definition":
                    item.start = min(item.start, item.node.parent.start_point.row + 1)
            line = item.start - 1
            while line >= floor and self._leads(line, top_level):
                line -= 1
            item.start = line + 1
            floor = item.end + 1
            self._widen(item.children, self._header_end(item) + 1, top_level=False)

    def _leads(self, line: int, top_level: bool) -> bool:
        text = self.doc.lines[line - 1]
        if not text.strip():
            return False
        return bool(_LEADING.match(text)) or (top_level and text.rstrip().endswith("{"))

    def _def_node(self, start: int, end: int) -> Node | None:
        if self.tree is None:
            return None
        text = self.doc.lines[start - 1]
        col = len(text) - len(text.lstrip())
        lo = (start - 1, col)
        hi = max((end - 1, 0), (start - 1, col + 1))
        return self.tree.root_node.named_descendant_for_point_range(lo, hi)

    # -- layout ----------------------------------------------------------------------------------

    def fill(
        self,
        lo: int,
        hi: int,
        defs: list[Definition],
        container: Node | None,
        gap_region: RegionFor,
    ) -> None:
        """Emit lines ``lo..hi``: each definition in turn, the code between them as gaps."""
        pos = lo
        for item in defs:
            self._gap(pos, item.start - 1, container, gap_region)
            self._definition(item)
            pos = item.end + 1
        self._gap(pos, hi, container, gap_region)

    def _gap(self, lo: int, hi: int, container: Node | None, region_for: RegionFor) -> None:
        start, end = self.doc.trim(lo, hi)
        if start > end:
            return
        if self.doc.trivial(start, end) and self._extend_last(end):
            return
        units = self._tiles(start, end, self._kids_in(container, start, end))
        self.out.extend(pack(self.doc, region_for(start), units, self._expand))

    def _extend_last(self, end: int) -> bool:
        """Fold closing punctuation (``}``, ``});``) into the chunk before it, if it fits."""
        if not self.out or self.out[-1].body is not None:
            return False
        last = self.out[-1]
        grown = Draft(last.start, end, last.kind, last.symbol, last.header, last.section)
        if not self.doc.fits(grown):
            return False
        self.out[-1] = grown
        return True

    def _definition(self, item: Definition) -> None:
        kind = _chunk_kind(item.symbol)
        whole = Draft(item.start, item.end, kind, item.symbol)
        if self.doc.fits(whole):
            self.out.append(whole)
            return
        header, header_end = self._header(item)
        body = _body(item.node)
        if kind == "class" and item.children:

            def region_for(start: int) -> Region:
                inline = header_end if start <= header_end else 0
                return Region("class", item.symbol, header, inline)

            self.fill(item.start, item.end, item.children, body, region_for)
            return
        region = Region(kind, item.symbol, header, header_end)
        if body is not None:
            units = self._tiles(item.start, item.end, _statements(body))
        else:
            units = [Unit(item.start, header_end), Unit(header_end + 1, item.end, item.node)]
        self.out.extend(pack(self.doc, region, units, self._expand))

    def _header(self, item: Definition) -> tuple[str, int]:
        """Return the signature lines to repeat and the last line they occupy."""
        first = _first_line(item)
        last = self._header_end(item)
        if last < first:
            return item.symbol.signature or self.doc.lines[first - 1], first
        last = min(last, first + _HEADER_MAX_LINES - 1)
        header = self.doc.raw(first, last).strip("\n")
        if self.doc.count(header) > self.doc.max_tokens // 4:
            header = self.doc.lines[first - 1][: self.doc.max_tokens]
        return header, last

    def _header_end(self, item: Definition) -> int:
        """Return the last line before the body (the line of its ``{`` when it opens one)."""
        body = _body(item.node)
        if body is None:
            return item.symbol.start_line
        row, col = body.start_point
        opener = self.doc.lines[row].encode("utf-8")[col : col + 1]
        same_line = row + 1 <= _first_line(item)
        return row + 1 if same_line or opener in (b"{", b"(", b"[") else row

    # -- units -----------------------------------------------------------------------------------

    def _kids_in(self, container: Node | None, lo: int, hi: int) -> list[Node]:
        """Return the named children of ``container`` that start on lines ``lo..hi``."""
        if container is None:
            return []
        cached = self._kids.get(container.id)
        if cached is None:
            kids = _statements(container)
            cached = ([k.start_point.row + 1 for k in kids], kids)
            self._kids[container.id] = cached
        rows, kids = cached
        return kids[bisect_left(rows, lo) : bisect_right(rows, hi)]

    def _tiles(self, lo: int, hi: int, kids: list[Node]) -> list[Unit]:
        """Cut ``lo..hi`` before every line where one of ``kids`` starts."""
        starts: dict[int, Node] = {}
        for kid in kids:
            row = kid.start_point.row + 1
            if lo <= row <= hi:
                known = starts.get(row)
                if known is None or kid.end_point.row > known.end_point.row:
                    starts[row] = kid
        if not starts:
            return [Unit(lo, hi)]
        cuts = sorted(row for row in starts if row > lo)
        bounds = [lo, *cuts, hi + 1]
        return [Unit(a, b - 1, starts.get(a)) for a, b in zip(bounds, bounds[1:], strict=False)]

    def _expand(self, unit: Unit) -> list[Unit] | None:
        """Break a unit at nested statements (a few levels down), else into lines."""
        frontier = [unit.node] if unit.node is not None else []
        for _ in range(_EXPAND_DEPTH):
            kids = [kid for node in frontier for kid in node.named_children]
            if not kids:
                break
            if any(unit.start < kid.start_point.row + 1 <= unit.end for kid in kids):
                return self._tiles(unit.start, unit.end, kids)
            frontier = kids
        return line_units(unit)


def _first_line(item: Definition) -> int:
    """Return the first signature line: the ``def`` line, below any decorators."""
    node = item.node
    if node is not None and node.type == "decorated_definition":
        inner = node.child_by_field_name("definition")
        if inner is not None:
            return inner.start_point.row + 1
    return item.symbol.start_line


def _chunk_kind(symbol: Symbol) -> ChunkKind:
    if symbol.kind in CLASS_KINDS:
        return "class"
    return "method" if symbol.kind == "method" else "function"


def _body(node: Node | None) -> Node | None:
    """Find the body of a definition node, looking through wrappers (export, decorators)."""
    frontier = [node] if node is not None else []
    for _ in range(4):
        for candidate in frontier:
            body = candidate.child_by_field_name("body")
            if body is not None:
                return body
        frontier = [kid for cand in frontier for kid in cand.named_children]
    return None


def _statements(node: Node) -> list[Node]:
    """Return the statements of a block (Go wraps them in a ``statement_list``)."""
    kids = node.named_children
    if len(kids) == 1 and kids[0].type == "statement_list":
        return kids[0].named_children
    return kids
