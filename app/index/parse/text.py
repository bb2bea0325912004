"""Small text helpers for the tree-sitter extractors: node text, comments, docstrings."""

from __future__ import annotations

import ast
import inspect
import re

import tree_sitter as ts

_WS = re.compile(r"\s+")
_ANGLE = re.compile(r"<[^<>]*>")
_SQUARE = re.compile(r"\[[^\[\]]*\]")
_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_HAS_WS = re.compile(r"\s")
_ACCESS = re.compile(r"\s*(\?\.|\.|::|->)\s*")

SIGNATURE_MAX = 200


def text(src: bytes, node: ts.Node) -> str:
    """Return the source text of ``node`` (decoded from the bytes the tree was parsed from)."""
    return src[node.start_byte : node.end_byte].decode("utf-8", "replace")


def span_text(src: bytes, start: int, end: int) -> str:
    """Return the source text between two byte offsets."""
    return src[start:end].decode("utf-8", "replace")


def collapse(value: str) -> str:
    """Collapse runs of whitespace to one space so headers read as one line."""
    return _WS.sub(" ", value).strip()


def clip(value: str, limit: int = SIGNATURE_MAX) -> str:
    """Collapse whitespace and cut to ``limit`` characters (with an ellipsis)."""
    value = collapse(value)
    return value if len(value) <= limit else value[: limit - 3].rstrip() + "..."


def callee_text(value: str) -> str:
    r"""Normalize a callee as written: one line, and call arguments in a chain elided.

    ``this.db.get(id)\n  .then`` -> ``this.db.get().then``, so chained calls stay short and
    comparable while the names a resolver needs are kept.
    """
    if "(" not in value:
        return _ACCESS.sub(_keep_operator, collapse(value)) if _HAS_WS.search(value) else value
    out: list[str] = []
    depth = 0
    for char in value:
        if char == "(":
            if depth == 0:
                out.append("(")
            depth += 1
        elif char == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append(")")
        elif depth == 0:
            out.append(char)
    return _ACCESS.sub(_keep_operator, collapse("".join(out)))


def _keep_operator(match: re.Match[str]) -> str:
    return match.group(1)


def strip_generics(value: str) -> str:
    """Drop type arguments (``Foo<T>``, ``Vec::<u8>``) so a type name can be matched."""
    value = collapse(value)
    previous = None
    while previous != value:
        previous, value = value, _ANGLE.sub("", value)
    return value.replace("::::", "::").removesuffix("::").replace(" ", "")


def strip_subscripts(value: str) -> str:
    """Drop Python subscripts (``Generic[T]`` -> ``Generic``) from a base-class expression."""
    value = collapse(value)
    previous = None
    while previous != value:
        previous, value = value, _SQUARE.sub("", value)
    return value


def last_identifier(value: str) -> str:
    """Return the last identifier in a type expression (``&'a mut fmt::Foo<T>`` -> ``Foo``)."""
    names = _IDENT.findall(strip_generics(value))
    return names[-1] if names else value


def first_line(node: ts.Node) -> int:
    """Return the 1-based first line of ``node``."""
    return node.start_point.row + 1


def last_line(node: ts.Node) -> int:
    """Return the 1-based last line of ``node``, ignoring a trailing newline it swallowed."""
    row, col = node.end_point
    if col == 0 and row > node.start_point.row:
        row -= 1
    return row + 1


def clean_comment(raw: str) -> str:
    """Strip comment markers (``//``, ``///``, ``#``, ``/* */``, ``/** */``, leading ``*``)."""
    raw = raw.strip()
    if raw.startswith("/*"):
        body = raw[3:] if raw.startswith("/**") else raw[2:]
        body = body.removesuffix("*/")
        lines = []
        for line in body.splitlines():
            line = line.strip()
            if line.startswith("*"):
                line = line[1:]
                line = line[1:] if line.startswith(" ") else line
            lines.append(line)
        return "\n".join(lines).strip()
    for marker in ("///", "//!", "//", "#"):
        if raw.startswith(marker):
            raw = raw[len(marker) :]
            break
    return raw[1:] if raw.startswith(" ") else raw


def python_docstring(src: bytes, body: ts.Node | None) -> str:
    """Return the docstring of a Python block (first statement a string), cleaned, or ``''``."""
    if body is None:
        return ""
    for stmt in body.named_children:
        if stmt.type == "comment":
            continue
        if stmt.type != "expression_statement" or stmt.named_child_count != 1:
            return ""
        literal = stmt.named_children[0]
        if literal.type != "string":
            return ""
        raw = text(src, literal)
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            value = raw.strip("\"'rRbBuU")
        return inspect.cleandoc(value) if isinstance(value, str) else ""
    return ""
