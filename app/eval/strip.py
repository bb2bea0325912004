"""Make the doc-stripped copy of a corpus: documentation removed, every line kept in place.

The query sets are mined from docstrings and doc comments, so the searched copy must not
contain them (else an ``nl`` query would be a verbatim lookup). What is removed:

* Python: the docstring of every module, class and function. A body that held nothing else
  gets ``...`` on the docstring's last line, so the file still parses and spans keep their end.
* JavaScript / TypeScript: every ``/** ... */`` comment, and the file's leading comment
  blocks (see ``file_doc_blocks``).
* Go: comment blocks right above a declaration (package, func, type, const, var, field), and
  the file's leading comment blocks before the package clause.
* Rust: ``///``, ``//!``, ``/** */`` and ``/*! */`` doc comments (one that follows an
  attribute keeps an empty ``//``: the parser stops climbing attributes at a comment).

Licence headers and tool directives (``//go:build``, ``eslint``, ``@ts-``...) are not
documentation and stay.

Removed text becomes spaces (then trailing blanks are trimmed), so line numbers and the
columns of the remaining code are unchanged; ordinary comments stay.
"""

from __future__ import annotations

import ast
import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import tree_sitter as ts

from app.index.languages import language_for
from app.index.parse.grammars import get_parser
from app.index.parse.parser import parse_source
from app.index.records import SourceFile

_GO_DECLS = frozenset({
    "package_clause", "function_declaration", "method_declaration", "type_declaration",
    "const_declaration", "var_declaration", "field_declaration", "const_spec", "var_spec",
    "type_spec", "method_elem", "method_spec",
})  # fmt: skip
_PY_BLOCKS = frozenset({"module", "class_definition", "function_definition"})
_LICENCE = re.compile(r"(?i)copyright|\blicen[cs]ed?\b|spdx-license|all rights reserved")
_DIRECTIVE = re.compile(
    r"(?im)^\s*(?:@?(?:eslint|tslint|prettier|jshint|istanbul|global|flow)\b|@ts-|go:\w|"
    r"\+build\b|<reference\b)"
)
"""A line of a tool directive: the block holding it is kept."""
_FILE_TAG = re.compile(r"@(?:fileoverview|file|overview|module)\b")


def _walk(node: ts.Node) -> Iterator[ts.Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def _python_docstrings(root: ts.Node) -> Iterator[tuple[ts.Node, bool]]:
    """Yield (docstring node, whether it is the only statement of its block)."""
    for node in _walk(root):
        if node.type not in _PY_BLOCKS:
            continue
        body = node if node.type == "module" else node.child_by_field_name("body")
        if body is None:
            continue
        stmts = [c for c in body.named_children if c.type != "comment"]
        if not stmts:
            continue
        first = stmts[0]
        if first.type == "expression_statement" and first.named_child_count == 1:
            literal = first.named_children[0]
            if literal.type in ("string", "concatenated_string"):
                yield literal, len(stmts) == 1 and node.type != "module"


def _go_docs(root: ts.Node) -> Iterator[ts.Node]:
    """Yield the comments of every block that sits right above a declaration."""
    for node in _walk(root):
        if node.type == "comment" or node.type not in _GO_DECLS:
            continue
        row = node.start_point.row
        prev = node.prev_sibling
        while prev is not None and prev.type == "comment" and prev.end_point.row == row - 1:
            before = prev.prev_sibling
            if before is not None and before.type != "comment":
                if before.end_point.row == prev.start_point.row:  # trailing comment of code
                    break
            yield prev
            row, prev = prev.start_point.row, before


def _rust_docs(root: ts.Node) -> Iterator[ts.Node]:
    markers = ("inner_doc_comment_marker", "outer_doc_comment_marker")
    for node in _walk(root):
        if node.type in ("line_comment", "block_comment"):
            if any(c.type in markers for c in node.children):
                yield node


def _js_docs(root: ts.Node, src: bytes) -> Iterator[ts.Node]:
    for node in _walk(root):
        if node.type == "comment":
            raw = src[node.start_byte : node.end_byte]
            if raw.startswith(b"/**") and raw != b"/**/":
                yield node


def comment_text(raw: str) -> str:
    """Return the text of one comment without its markers (``//``, ``//!``, ``/** */``, `` * ``)."""
    if raw.startswith("/*"):
        body = re.sub(r"^/\*[*!]?", "", raw).removesuffix("*/")
        return "\n".join(re.sub(r"^\s*\*? ?", "", line) for line in body.split("\n"))
    return re.sub(r"^//[/!]? ?", "", raw.rstrip("\n"))


def _blocks(comments: list[ts.Node]) -> list[list[ts.Node]]:
    """Group comments into blocks of consecutive lines."""
    blocks: list[list[ts.Node]] = []
    for node in comments:
        if blocks and node.start_point.row <= blocks[-1][-1].end_point.row + 1:
            blocks[-1].append(node)
        else:
            blocks.append([node])
    return blocks


def _block_text(block: list[ts.Node], src: bytes) -> str:
    return "\n".join(comment_text(src[n.start_byte : n.end_byte].decode()) for n in block)


def _documentation(block: list[ts.Node], src: bytes) -> bool:
    """Tell a documentation block from a licence header or a tool directive."""
    text = _block_text(block, src)
    return not (_LICENCE.search(text) or _DIRECTIVE.search(text))


def _prologue(node: ts.Node, language: str) -> bool:
    """Whether ``node`` may precede a file's leading documentation (a directive)."""
    if language == "rust":
        return node.type == "inner_attribute_item"
    if language not in ("javascript", "typescript"):
        return False
    if node.type == "expression_statement":  # 'use strict'
        return node.named_child_count == 1 and node.named_children[0].type == "string"
    return node.type == "hash_bang_line"


def _leading_comments(root: ts.Node, language: str) -> list[ts.Node]:
    """Return the comments before the first statement (directives skipped)."""
    comments: list[ts.Node] = []
    for node in root.children:
        if node.type in ("comment", "line_comment", "block_comment"):
            comments.append(node)
        elif not _prologue(node, language):
            break
    return comments


def _attached(block: list[ts.Node]) -> bool:
    """Whether the line right after ``block`` starts a statement (the block documents it)."""
    after = block[-1].next_sibling
    return after is not None and after.start_point.row <= block[-1].end_point.row + 1


def file_doc_blocks(root: ts.Node, src: bytes, language: str) -> list[list[ts.Node]]:
    """Return the nodes of a file's module-level documentation, one list per block, best first.

    Python: the module docstring. Rust: the leading ``//!`` / ``/*! */`` comments. Go: the
    package comment (the block right above the package clause) first, then other blocks
    before it. JavaScript / TypeScript: blocks before the first statement or import that are
    not attached to it (else they document it), unless tagged ``@fileoverview``/``@module``.
    Licence headers and tool directives are left out.
    """
    if language == "python":
        stmts = [c for c in root.named_children if c.type != "comment"]
        first = stmts[0] if stmts else None
        if first is not None and first.type == "expression_statement":
            literal = first.named_children[0] if first.named_child_count == 1 else None
            if literal is not None and literal.type in ("string", "concatenated_string"):
                return [[literal]]
        return []
    comments = _leading_comments(root, language)
    if language == "rust":
        inner = [
            n for n in comments if any(c.type == "inner_doc_comment_marker" for c in n.children)
        ]
        return [inner] if inner else []
    blocks = [b for b in _blocks(comments) if _documentation(b, src)]
    if language == "go":
        return [b for b in blocks if _attached(b)] + [b for b in blocks if not _attached(b)]
    return [b for b in blocks if not _attached(b) or _FILE_TAG.search(_block_text(b, src))]


def file_doc_texts(text: str, language: str) -> list[str]:
    """Return the module-level documentation of a source file, one text per block, best first."""
    src = text.encode("utf-8")
    root = get_parser(language).parse(src).root_node
    texts = []
    for block in file_doc_blocks(root, src, language):
        if language == "python":
            raw = src[block[0].start_byte : block[0].end_byte].decode()
            texts.append(inspect.cleandoc(ast.literal_eval(raw)))
        else:
            texts.append(_block_text(block, src))
    return texts


def _blank(buf: bytearray, start: int, end: int) -> None:
    for i in range(start, end):
        if buf[i] not in (0x0A, 0x0D):
            buf[i] = 0x20


def strip_text(text: str, language: str) -> str:
    """Return ``text`` with its documentation blanked out (same number of lines)."""
    src = text.encode("utf-8")
    tree = get_parser(language).parse(src)
    buf = bytearray(src)
    if language == "python":
        found = sorted(_python_docstrings(tree.root_node), key=lambda d: -d[0].start_byte)
        for literal, alone in found:  # from the end, as a placeholder shifts later bytes
            _blank(buf, literal.start_byte, literal.end_byte)
            if alone:  # keep the block valid and its last line in place
                line_start = src.rfind(b"\n", 0, literal.end_byte) + 1
                at = max(line_start, literal.start_byte)
                pad = literal.start_point.column if at == line_start else 0
                buf[at : literal.end_byte] = b" " * pad + b"..."
    else:
        if language == "go":
            nodes = list(_go_docs(tree.root_node))
        elif language == "rust":
            nodes = list(_rust_docs(tree.root_node))
        else:
            nodes = list(_js_docs(tree.root_node, src))
        seen = {n.start_byte for n in nodes}
        for block in file_doc_blocks(tree.root_node, src, language):
            nodes += [n for n in block if n.start_byte not in seen]
        for node in nodes:
            start = node.start_byte
            prev = node.prev_named_sibling
            if language == "rust" and prev is not None and prev.type == "attribute_item":
                # between attributes: leave an empty ``//`` so the symbol span stays put
                if node.type != "line_comment":
                    continue
                start += 2
            _blank(buf, start, node.end_byte)
    out = buf.decode("utf-8")
    return "\n".join(line.rstrip() for line in out.split("\n"))


def _source(path: str, text: str) -> SourceFile:
    return SourceFile(path=path, language=language_for(path), text=text, sha="", size=len(text))


def _spans(src: SourceFile) -> list[tuple[str, str, int, int]]:
    parsed = parse_source(src).parsed
    return [(s.qualname, s.kind, s.start_line, s.end_line) for s in parsed.symbols]


STRIPPABLE = frozenset({"python", "javascript", "typescript", "tsx", "go", "rust"})
"""Languages whose documentation ``strip_text`` knows how to remove."""


class StripError(ValueError):
    """Stripping a file would move its lines or symbols (or break its syntax)."""


def checked_strip(rel: str, text: str) -> str:
    """Return ``text`` stripped of its docs, or raise :class:`StripError`.

    The stripped text must keep every line in place, give coderag's parser the same symbols
    with the same spans, and (Python) still compile; a file in another language is returned
    unchanged.
    """
    language = language_for(rel)
    if language not in STRIPPABLE:
        return text
    try:
        stripped = strip_text(text, language)
    except Exception as exc:  # tree-sitter or decoding trouble in one odd file
        raise StripError(f"{rel}: {exc}") from exc
    if len(text.split("\n")) != len(stripped.split("\n")):
        raise StripError(f"{rel}: line count changed")
    if language == "python":
        try:
            ast.parse(stripped, filename=rel)
        except SyntaxError as exc:
            raise StripError(f"{rel}: no longer compiles ({exc.msg})") from exc
    if _spans(_source(rel, text)) != _spans(_source(rel, stripped)):
        raise StripError(f"{rel}: symbol spans moved")
    return stripped


def build_copy(source_root: Path, dest: Path) -> dict[str, int]:
    """Write the stripped copy of every source file under ``source_root`` to ``dest``.

    Strict :func:`write_stripped_copy` for the benchmark's corpora: every file must strip
    safely (same lines, same symbol spans, Python still compiles) or this raises
    :class:`StripError`. Returns counts: files, lines, lines blanked.
    """
    files = []
    for path in sorted(source_root.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            rel = path.relative_to(source_root).as_posix()
            text = path.read_text(encoding="utf-8")
            files.append(_source(rel, text))
    stats = write_stripped_copy(files, dest)
    if stats["unstripped"]:
        raise StripError("; ".join(reason for _path, reason in stats["unstripped"]))
    lines = sum(len(f.text.split("\n")) for f in files)
    return {"files": stats["files"], "lines": lines, "blanked_lines": stats["blanked_lines"]}


def write_stripped_copy(
    files: Iterable[SourceFile], dest: Path, on_file: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Write every file of a walked repository to ``dest``, its documentation stripped.

    A file that cannot be stripped safely (see :func:`checked_strip`) is copied unchanged and
    listed under ``unstripped``; it then yields no documentation queries (its docs are still
    there). Unchanged outputs are not rewritten (an incremental re-index keeps them) and files
    no longer in ``files`` are deleted. Returns counts: files, stripped (changed by
    stripping), blanked_lines, and the unstripped ``[(path, reason)]``.
    """
    wanted: set[Path] = set()
    stats: dict[str, Any] = {"files": 0, "stripped": 0, "blanked_lines": 0, "unstripped": []}
    for src in files:
        try:
            text = checked_strip(src.path, src.text)
        except StripError as exc:
            text = src.text
            stats["unstripped"].append((src.path, str(exc)))
        if text != src.text:
            stats["stripped"] += 1
            stats["blanked_lines"] += sum(
                1 for a, b in zip(src.text.split("\n"), text.split("\n"), strict=True)
                if a.strip() and not b.strip()
            )  # fmt: skip
        out = dest / src.path
        wanted.add(out)
        if not out.is_file() or out.read_text(encoding="utf-8", errors="replace") != text:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text, encoding="utf-8")
        stats["files"] += 1
        if on_file is not None:
            on_file(src.path)
    if dest.is_dir():
        for path in sorted(dest.rglob("*"), reverse=True):
            if path.is_file() and path not in wanted:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    return stats
