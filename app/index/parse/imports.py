"""Turn import statements into ``(target, alias, line)`` triples, one per bound name.

``alias`` is the local name that refers to ``target`` in the file (``np`` for
``import numpy as np``, ``User`` for ``from .models import User``), or None when no single
name does (``import os.path`` binds ``os``, not ``os.path``; wildcard imports bind many).
"""

from __future__ import annotations

from collections.abc import Callable

import tree_sitter as ts

from app.index.parse.text import first_line, text

ImportRow = tuple[str, str | None, int]


def _unquote(value: str) -> str:
    return value.strip().strip("\"'`")


def python_imports(node: ts.Node, src: bytes) -> list[ImportRow]:
    """Expand ``import a.b as c`` / ``from .m import x as y, *`` into rows."""
    rows: list[ImportRow] = []
    line = first_line(node)
    if node.type == "import_statement":
        for item in node.children_by_field_name("name"):
            if item.type == "aliased_import":
                name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
                if name is not None:
                    rows.append((text(src, name), text(src, alias) if alias else None, line))
            else:
                target = text(src, item)
                rows.append((target, None if "." in target else target, line))
        return rows
    module = node.child_by_field_name("module_name")
    prefix = text(src, module) if module is not None else ""
    joiner = "" if prefix.endswith(".") else "."
    for child in node.named_children:
        if child.type == "wildcard_import":
            rows.append((f"{prefix}{joiner}*", None, line))
    for item in node.children_by_field_name("name"):
        if item.type == "aliased_import":
            name, alias = item.child_by_field_name("name"), item.child_by_field_name("alias")
            if name is not None:
                local = text(src, alias) if alias else text(src, name)
                rows.append((f"{prefix}{joiner}{text(src, name)}", local, line))
        else:
            name_text = text(src, item)
            rows.append((f"{prefix}{joiner}{name_text}", name_text, line))
    return rows


def js_imports(node: ts.Node, src: bytes) -> list[ImportRow]:
    """Expand ES imports, ``import x = require()`` and ``const x = require()`` into rows."""
    line = first_line(node)
    if node.type == "variable_declarator":
        return _require_rows(node, src, line)
    source = node.child_by_field_name("source")
    rows: list[ImportRow] = []
    for child in node.named_children:
        if child.type == "import_require_clause":
            req_source = child.child_by_field_name("source")
            name = child.named_children[0] if child.named_children else None
            if req_source is not None and name is not None:
                rows.append((_unquote(text(src, req_source)), text(src, name), line))
        elif child.type == "import_clause" and source is not None:
            rows.extend(_clause_rows(child, _unquote(text(src, source)), src, line))
    if not rows and source is not None:
        rows.append((_unquote(text(src, source)), None, line))
    return rows


def _clause_rows(clause: ts.Node, module: str, src: bytes, line: int) -> list[ImportRow]:
    rows: list[ImportRow] = []
    for part in clause.named_children:
        if part.type == "identifier":
            rows.append((f"{module}.default", text(src, part), line))
        elif part.type == "namespace_import":
            names = [c for c in part.named_children if c.type == "identifier"]
            rows.append((module, text(src, names[0]) if names else None, line))
        elif part.type == "named_imports":
            for spec in part.named_children:
                if spec.type != "import_specifier":
                    continue
                name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                if name is None:
                    continue
                local = text(src, alias) if alias is not None else text(src, name)
                rows.append((f"{module}.{_unquote(text(src, name))}", local, line))
    return rows


def _require_rows(declarator: ts.Node, src: bytes, line: int) -> list[ImportRow]:
    value, name = declarator.child_by_field_name("value"), declarator.child_by_field_name("name")
    args = value.child_by_field_name("arguments") if value is not None else None
    if args is None or name is None or not args.named_children:
        return []
    module = _unquote(text(src, args.named_children[0]))
    if name.type == "identifier":
        return [(module, text(src, name), line)]
    rows: list[ImportRow] = []
    if name.type == "object_pattern":
        for prop in name.named_children:
            if prop.type == "shorthand_property_identifier_pattern":
                rows.append((f"{module}.{text(src, prop)}", text(src, prop), line))
            elif prop.type == "pair_pattern":
                key, local = prop.child_by_field_name("key"), prop.child_by_field_name("value")
                if key is not None and local is not None and local.type == "identifier":
                    rows.append((f"{module}.{text(src, key)}", text(src, local), line))
    return rows or [(module, None, line)]


def go_imports(node: ts.Node, src: bytes) -> list[ImportRow]:
    """Expand ``import ( f "fmt"; "net/http" )``; the default alias is the last path segment."""
    rows: list[ImportRow] = []
    stack = list(node.named_children)
    while stack:
        child = stack.pop(0)
        if child.type == "import_spec_list":
            stack[:0] = child.named_children
            continue
        if child.type != "import_spec":
            continue
        path, name = child.child_by_field_name("path"), child.child_by_field_name("name")
        if path is None:
            continue
        target = _unquote(text(src, path))
        alias = text(src, name) if name is not None else target.rsplit("/", 1)[-1]
        rows.append((target, alias, first_line(child)))
    return rows


def java_imports(node: ts.Node, src: bytes) -> list[ImportRow]:
    """Expand ``import [static] a.b.C;`` / ``import a.b.*;``."""
    names = [c for c in node.named_children if c.type in ("scoped_identifier", "identifier")]
    if not names:
        return []
    target = text(src, names[0])
    if any(c.type == "asterisk" for c in node.named_children):
        return [(f"{target}.*", None, first_line(node))]
    return [(target, target.rsplit(".", 1)[-1], first_line(node))]


def rust_imports(node: ts.Node, src: bytes) -> list[ImportRow]:
    """Expand a ``use`` tree (``use std::{io::{self, Read}, fs as f};``) into one row per leaf."""
    argument = node.child_by_field_name("argument")
    rows: list[ImportRow] = []
    if argument is not None:
        _rust_tree(argument, "", src, rows)
    return rows


def _rust_join(prefix: str, name: str) -> str:
    return f"{prefix}::{name}" if prefix else name


def _rust_tree(node: ts.Node, prefix: str, src: bytes, rows: list[ImportRow]) -> None:
    line, kind = first_line(node), node.type
    if kind == "use_as_clause":
        path, alias = node.child_by_field_name("path"), node.child_by_field_name("alias")
        if path is not None:
            local = text(src, alias) if alias is not None else None
            rows.append((_rust_join(prefix, text(src, path)), local, line))
    elif kind == "scoped_use_list":
        path, items = node.child_by_field_name("path"), node.child_by_field_name("list")
        inner = _rust_join(prefix, text(src, path)) if path is not None else prefix
        if items is not None:
            _rust_tree(items, inner, src, rows)
    elif kind == "use_list":
        for child in node.named_children:
            _rust_tree(child, prefix, src, rows)
    elif kind == "use_wildcard":
        base = text(src, node).removesuffix("*").removesuffix("::")
        rows.append((_rust_join(prefix, base) + "::*" if base else f"{prefix}::*", None, line))
    elif kind == "self":
        rows.append((prefix, prefix.rsplit("::", 1)[-1], line))
    elif kind in ("identifier", "scoped_identifier", "crate", "super"):
        target = _rust_join(prefix, text(src, node))
        rows.append((target, target.rsplit("::", 1)[-1], line))


IMPORTERS: dict[str, Callable[[ts.Node, bytes], list[ImportRow]]] = {
    "python": python_imports,
    "javascript": js_imports,
    "typescript": js_imports,
    "tsx": js_imports,
    "go": go_imports,
    "java": java_imports,
    "rust": rust_imports,
}
