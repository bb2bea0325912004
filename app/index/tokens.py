"""Code-aware tokenisation for the lexical index and for queries.

Identifiers are kept whole (``get_user``, ``getuser`` for ``getUser``) and also split into
their parts (``get``, ``user``), so both an exact identifier query and a natural-language
query that mentions its words match.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+")

STOP_WORDS = frozenset(
    """a an and are as at be by do does for from has have how i if in into is it its me my of
    on or that the their then there these this to was what when where which who why will with
    you your can should would""".split()
)


def split_identifier(word: str) -> list[str]:
    """Split ``getHTTPResponse_code`` into ``['get', 'http', 'response', 'code']``."""
    parts: list[str] = []
    for piece in word.split("_"):
        parts.extend(m.group(0).lower() for m in _CAMEL.finditer(piece))
    return [p for p in parts if p]


def words(text: str) -> set[str]:
    """Return the distinct words of ``text`` that :func:`code_tokens` splits.

    The tokens of the whole text are the tokens of these words, each taken alone.
    """
    return set(_WORD.findall(text))


def code_tokens(text: str, *, drop_stop_words: bool = False) -> list[str]:
    """Return lexical tokens of ``text``: whole identifiers, lower-cased, then their parts."""
    out: list[str] = []
    for match in _WORD.finditer(text):
        word = match.group(0)
        whole = word.lower().strip("_")
        if not whole:
            continue
        parts = split_identifier(word)
        if drop_stop_words and whole in STOP_WORDS:
            continue
        out.append(whole)
        if len(parts) > 1:
            out.extend(p for p in parts if p != whole)
            joined = "".join(parts)
            if joined != whole:
                out.append(joined)
    return out


def stem(word: str) -> str:
    """A light English stemmer for matching names: ``retries`` -> ``retry``."""
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ers", "er"), ("es", "e")):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + repl
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word
