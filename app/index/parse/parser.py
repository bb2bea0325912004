"""Parse one source file with tree-sitter into symbols and references.

``parse_source`` never raises: prose, config and unknown languages come back with
``structural=False``, and so does any file whose parse or extraction fails (with ``error``
set), so one odd file cannot stop an indexing run. Files with syntax errors are still
parsed (tree-sitter recovers) and keep whatever symbols were found.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

import tree_sitter as ts

from app.index.parse.extract import extract
from app.index.parse.grammars import get_parser, supported_languages
from app.index.records import ParsedFile, SourceFile

log = logging.getLogger(__name__)

_NON_IDENT = re.compile(r"\W")


@dataclass
class ParseResult:
    """A parsed file plus its tree, which the chunker uses to find statement boundaries."""

    parsed: ParsedFile
    tree: ts.Tree | None
    """None when the file was not parsed structurally."""


def module_name(path: str, language: str) -> str:
    """Derive a dotted module qualname from a relative path.

    ``pkg/mod.py`` -> ``pkg.mod``, ``pkg/__init__.py`` -> ``pkg``, ``src/a/b.ts`` -> ``src.a.b``,
    ``a/index.js`` -> ``a.index``; Rust keeps ``src/lib.rs`` as ``src.lib``. Characters that
    cannot appear in an identifier become ``_`` so the qualname stays dot-separated.
    """
    parts = [p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("", ".", "/")]
    if not parts:
        return "_"
    stem = parts[-1]
    if "." in stem.lstrip("."):
        stem = stem[: stem.rindex(".")]
    parts[-1] = stem
    if language == "python" and stem == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(_NON_IDENT.sub("_", p) or "_" for p in parts)


def parse_source(src: SourceFile) -> ParseResult:
    """Parse ``src`` and extract its symbols and references; fall back to plain text on failure."""
    module = module_name(src.path, src.language)
    parsed = ParsedFile(path=src.path, language=src.language, module=module)
    if src.language not in supported_languages():
        parsed.structural = False
        return ParseResult(parsed, None)
    try:
        data = src.text.encode("utf-8", "replace")
        tree = get_parser(src.language).parse(data)
        parsed.symbols, parsed.references = extract(tree, data, src.language, src.path, module)
    except Exception as exc:  # one odd file must not stop indexing
        log.warning("structural parse of %s failed: %s", src.path, exc, exc_info=True)
        parsed.symbols, parsed.references = [], []
        parsed.structural = False
        parsed.error = f"{type(exc).__name__}: {exc}"
        return ParseResult(parsed, None)
    if tree.root_node.has_error:
        parsed.has_syntax_errors = True
        parsed.error = f"syntax error near line {_first_error_line(tree.root_node)}"
    return ParseResult(parsed, tree)


def _first_error_line(root: ts.Node) -> int:
    """Return the 1-based line of the first ERROR or MISSING node (descending only into errors)."""
    node = root
    while True:
        for child in node.children:
            if child.is_error or child.is_missing:
                return child.start_point.row + 1
            if child.has_error:
                node = child
                break
        else:
            return node.start_point.row + 1
