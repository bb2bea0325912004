"""Load tree-sitter languages, parsers and tag queries for the structurally parsed languages.

Grammars come from the per-language wheels (``tree-sitter-python``, ...); the tag queries are
package data (``app/index/parse/queries/<language>.scm``) in Aider's repomap capture style.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from importlib import resources

import tree_sitter as ts


def _python() -> object:
    import tree_sitter_python

    return tree_sitter_python.language()


def _javascript() -> object:
    import tree_sitter_javascript

    return tree_sitter_javascript.language()


def _typescript() -> object:
    import tree_sitter_typescript

    return tree_sitter_typescript.language_typescript()


def _tsx() -> object:
    import tree_sitter_typescript

    return tree_sitter_typescript.language_tsx()


def _go() -> object:
    import tree_sitter_go

    return tree_sitter_go.language()


def _java() -> object:
    import tree_sitter_java

    return tree_sitter_java.language()


def _rust() -> object:
    import tree_sitter_rust

    return tree_sitter_rust.language()


_LOADERS: dict[str, Callable[[], object]] = {
    "python": _python,
    "javascript": _javascript,
    "typescript": _typescript,
    "tsx": _tsx,
    "go": _go,
    "java": _java,
    "rust": _rust,
}

#: TSX shares the TypeScript tag query (its grammar is a superset).
_QUERY_FILE = {"tsx": "typescript"}

_local = threading.local()


class UnknownLanguageError(ValueError):
    """Raised for a language name that has no tree-sitter grammar here."""


def supported_languages() -> frozenset[str]:
    """Return the language names that have a grammar and a tag query."""
    return frozenset(_LOADERS)


def _check(name: str) -> None:
    if name not in _LOADERS:
        known = ", ".join(sorted(_LOADERS))
        raise UnknownLanguageError(f"no tree-sitter grammar for {name!r} (known: {known})")


@cache
def get_language(name: str) -> ts.Language:
    """Return the (cached) tree-sitter ``Language`` for ``name``.

    Raises:
        UnknownLanguageError: when ``name`` is not one of :func:`supported_languages`.
    """
    _check(name)
    return ts.Language(_LOADERS[name]())


def get_parser(name: str) -> ts.Parser:
    """Return a parser for ``name``, cached per thread because parsers are not thread-safe.

    Raises:
        UnknownLanguageError: when ``name`` is not one of :func:`supported_languages`.
    """
    parsers: dict[str, ts.Parser] | None = getattr(_local, "parsers", None)
    if parsers is None:
        parsers = _local.parsers = {}
    parser = parsers.get(name)
    if parser is None:
        parser = parsers[name] = ts.Parser(get_language(name))
    return parser


@cache
def load_query(name: str) -> ts.Query:
    """Compile and cache the tag query for ``name`` from the packaged ``.scm`` file.

    Raises:
        UnknownLanguageError: when ``name`` is not one of :func:`supported_languages`.
    """
    _check(name)
    filename = f"{_QUERY_FILE.get(name, name)}.scm"
    source = resources.files("app.index.parse").joinpath("queries", filename).read_text("utf-8")
    return ts.Query(get_language(name), source)
