"""Turn tag-query captures into ``Symbol`` and ``Reference`` records for one parsed file.

The tag query (``queries/<language>.scm``) runs once over the tree, in C; this module then
sorts the captured definitions by byte range and sweeps them with a stack, which yields
qualnames (``module.Class.method``), parents and the innermost scope of every reference
without a second walk over the tree.
"""

from __future__ import annotations

from dataclasses import dataclass

import tree_sitter as ts

from app.index.parse.grammars import load_query
from app.index.parse.imports import IMPORTERS
from app.index.parse.langs import SPECS, LangSpec, signature
from app.index.parse.text import (
    clean_comment,
    first_line,
    last_identifier,
    last_line,
    python_docstring,
    strip_generics,
    text,
)
from app.index.records import Reference, RefKind, Symbol, SymbolKind

#: Kinds whose functions are methods.
_CLASSLIKE = frozenset({"class", "interface", "struct", "enum", "trait", "impl"})
_KINDS: frozenset[str] = frozenset(
    {"class", "interface", "struct", "enum", "trait", "type", "function", "method"}
    | {"constant", "module", "impl"}
)


@dataclass(slots=True)
class _Def:
    node: ts.Node
    kind: str
    name: str
    receiver: ts.Node | None = None
    qualname: str = ""
    parent: str = ""


@dataclass(slots=True)
class _Ref:
    pos: int
    end: int
    kind: RefKind
    target: str
    line: int
    alias: str | None = None
    scope: str = ""


def extract(
    tree: ts.Tree, src: bytes, language: str, path: str, module: str
) -> tuple[list[Symbol], list[Reference]]:
    """Return the symbols and references of one file, in source order."""
    spec = SPECS[language]
    defs: dict[tuple[int, int, str, str], _Def] = {}
    refs: list[_Ref] = []
    for _, caps in ts.QueryCursor(load_query(language)).matches(tree.root_node):
        _collect(caps, language, spec, src, defs, refs)
    ordered = _sweep(list(defs.values()), refs, module, src)
    symbols = [_symbol(d, spec, src, path, language) for d in ordered if d.kind != "impl"]
    references = [
        Reference(r.kind, path, r.line, r.scope, r.target, r.alias)
        for r in sorted(refs, key=lambda r: (r.pos, r.end))
    ]
    return symbols, references


def _collect(
    caps: dict[str, list[ts.Node]],
    language: str,
    spec: LangSpec,
    src: bytes,
    defs: dict[tuple[int, int, str, str], _Def],
    refs: list[_Ref],
) -> None:
    """Record one query match as a definition or reference(s)."""
    for cap, nodes in caps.items():
        if cap.startswith("definition."):
            _add_def(cap.removeprefix("definition."), nodes[0], caps, spec, src, defs)
            return
    if "reference.call" in caps or "reference.new" in caps:
        is_new = "reference.new" in caps
        call = caps["reference.new" if is_new else "reference.call"][0]
        name = caps["name.reference.new" if is_new else "name.reference.call"][0]
        target = strip_generics(text(src, name)) if is_new else spec.callee(call, name, src)
        if target:
            refs.append(_Ref(call.start_byte, call.end_byte, "call", target, last_line(name)))
    elif "reference.inherit" in caps:
        for base in caps["reference.inherit"]:
            target = spec.base(base, src)
            if target:
                refs.append(
                    _Ref(base.start_byte, base.end_byte, "inherit", target, first_line(base))
                )
    elif "reference.import" in caps:
        node = caps["reference.import"][0]
        for target, alias, line in IMPORTERS[language](node, src):
            refs.append(_Ref(node.start_byte, node.end_byte, "import", target, line, alias))


def _add_def(
    kind: str,
    node: ts.Node,
    caps: dict[str, list[ts.Node]],
    spec: LangSpec,
    src: bytes,
    defs: dict[tuple[int, int, str, str], _Def],
) -> None:
    if kind not in _KINDS:
        return
    names = caps.get(f"name.definition.{kind}")
    if not names:
        return
    if kind == "impl":
        name = last_identifier(text(src, names[0]))
    else:
        name = text(src, names[0])
    key = (node.start_byte, node.end_byte, node.type, name)
    previous = defs.get(key)
    if previous is not None and (kind == "constant" or previous.kind != "constant"):
        return
    if kind == "constant" and not spec.keep_constant(node, src):
        return
    receiver = caps.get("receiver")
    kind = spec.refine_kind(kind, node)
    defs[key] = _Def(node, kind, name, receiver[0] if receiver else None)


def _sweep(defs: list[_Def], refs: list[_Ref], module: str, src: bytes) -> list[_Def]:
    """Assign qualnames to definitions and scopes to references with one ordered pass."""
    events: list[tuple[int, int, int, int]] = [
        (d.node.start_byte, 0, -d.node.end_byte, i) for i, d in enumerate(defs)
    ]
    events += [(r.pos, 1, -r.end, i) for i, r in enumerate(refs)]
    events.sort()
    stack: list[_Def] = []
    ordered: list[_Def] = []
    for start, is_ref, _, index in events:
        while stack and stack[-1].node.end_byte <= start:
            stack.pop()
        outer = stack[-1] if stack else None
        if is_ref:
            refs[index].scope = outer.qualname if outer else module
            continue
        item = defs[index]
        parent = outer.qualname if outer else module
        if item.receiver is not None:
            parent = f"{module}.{_receiver_type(item.receiver, src)}"
            item.kind = "method"
        elif item.kind in ("function", "method"):
            item.kind = "method" if outer is not None and outer.kind in _CLASSLIKE else "function"
        item.parent, item.qualname = parent, f"{parent}.{item.name}"
        if item.kind != "constant":  # a constant's initializer runs in the enclosing scope
            stack.append(item)
        ordered.append(item)
    return ordered


def _receiver_type(receiver: ts.Node, src: bytes) -> str:
    """Return the type name of a Go method receiver (``(s *Server[T])`` -> ``Server``)."""
    for param in receiver.named_children:
        kind = param.child_by_field_name("type")
        if kind is not None:
            return last_identifier(text(src, kind).replace("[", "<").replace("]", ">"))
    return last_identifier(text(src, receiver))


def _outer(node: ts.Node, spec: LangSpec) -> ts.Node:
    """Climb through wrappers that hold only this definition (decorators, ``export``, ...)."""
    current = node
    parent = current.parent
    while parent is not None and parent.type in spec.wrappers:
        if sum(1 for c in parent.named_children if c.type == current.type) != 1:
            break
        current, parent = parent, parent.parent
    return current


def _symbol(item: _Def, spec: LangSpec, src: bytes, path: str, language: str) -> Symbol:
    node = item.node
    outer = _outer(node, spec)
    start = outer
    prev = outer.prev_named_sibling
    while prev is not None and prev.type in spec.attributes:
        start, prev = prev, prev.prev_named_sibling
    doc = ""
    if spec.docstrings and item.kind in ("class", "function", "method"):
        doc = python_docstring(src, node.child_by_field_name("body"))
    if not doc:
        doc = _leading_comments(start, spec, src)
    kind: SymbolKind = item.kind  # type: ignore[assignment]
    return Symbol(
        qualname=item.qualname,
        name=item.name,
        kind=kind,
        path=path,
        start_line=first_line(start),
        end_line=max(last_line(outer), last_line(node)),
        signature=signature(node, spec, src),
        doc=doc,
        parent=item.parent,
    )


def _leading_comments(first: ts.Node, spec: LangSpec, src: bytes) -> str:
    """Return the contiguous comment block right above ``first``, markers stripped."""
    lines: list[str] = []
    row = first.start_point.row
    prev = first.prev_sibling
    while prev is not None and prev.type in spec.comments:
        if last_line(prev) < row:  # a blank line (or code) separates it
            break
        raw = text(src, prev)
        if raw.startswith(("//!", "/*!")):
            break
        before = prev.prev_sibling
        if before is not None and before.type not in spec.comments:
            if before.end_point.row == prev.start_point.row:  # trailing comment of code
                break
        lines.insert(0, clean_comment(raw))
        row, prev = prev.start_point.row, before
    return "\n".join(lines).strip()
