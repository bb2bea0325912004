"""Parse ``path:start-end`` citations out of an answer's text.

Accepted forms (the path is relative to the repository root, lines are 1-based inclusive):
``src/app/auth.py:12-30``, ``auth.py:7`` (one line), an en or em dash for the range,
GitHub-style ``auth.py#L12-L30``, each bare or wrapped in backticks, brackets or parentheses.
URLs (``http://host:8080/x``), ports and clock times are not citations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_CITATION = re.compile(
    r"(?<![\w./:\\@~#-])"  # not the tail of a URL, a longer path or a word
    r"(?P<path>(?:\.?/)?(?:[\w.+@~-]+/)*[\w.+@~-]+)"
    r"(?::L?|#L)(?P<start>\d+)"
    r"(?:[ ]?[-\u2013\u2014][ ]?L?(?P<end>\d+))?"
    r"(?![\w/]|[.:\u2013\u2014-]\d)"  # not a longer number, a line:column or a URL path
)
_EXTENSION = re.compile(r"\.[A-Za-z0-9_+-]+$")
_BARE_FILES = frozenset(
    "Makefile Dockerfile Gemfile Rakefile Procfile Jenkinsfile Vagrantfile Justfile".split()
)


@dataclass(frozen=True, slots=True)
class Citation:
    """One cited span: ``path`` as written (``./`` dropped), 1-based inclusive lines."""

    path: str
    start_line: int
    end_line: int
    text: str
    """The raw match, e.g. ``src/app/auth.py:12-30``."""

    @property
    def key(self) -> tuple[str, int, int]:
        """Identity of the cited span (two spellings of one span share it)."""
        return (self.path, self.start_line, self.end_line)


def _looks_like_path(path: str) -> bool:
    """A path has a directory part, a file extension or a well-known bare name, and a letter."""
    name = path.rsplit("/", 1)[-1]
    if name in _BARE_FILES:
        return True
    return any(ch.isalpha() for ch in path) and ("/" in path or bool(_EXTENSION.search(name)))


def iter_citation_matches(text: str) -> Iterator[tuple[int, int, Citation]]:
    """Yield ``(start, end, citation)`` for every citation in ``text``, offsets of the raw match."""
    for match in _CITATION.finditer(text):
        path = match.group("path")
        if not _looks_like_path(path):
            continue
        start = int(match.group("start"))
        end = int(match.group("end") or start)
        path = path.removeprefix("./")
        yield match.start(), match.end(), Citation(path, start, end, match.group(0))


def parse_citations(text: str) -> list[Citation]:
    """Return the citations in ``text`` in order of appearance, exact duplicates dropped."""
    seen: set[tuple[str, int, int]] = set()
    out: list[Citation] = []
    for _, _, citation in iter_citation_matches(text):
        if citation.key not in seen:
            seen.add(citation.key)
            out.append(citation)
    return out


def remove_citations(text: str, replacement: str = " ") -> str:
    """Return ``text`` with every citation replaced by ``replacement``."""
    parts: list[str] = []
    last = 0
    for start, end, _ in iter_citation_matches(text):
        parts.append(text[last:start])
        parts.append(replacement)
        last = end
    parts.append(text[last:])
    return "".join(parts)
