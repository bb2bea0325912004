"""Split an answer into claims (sentences, list items, code blocks) and what each one names.

Block rules: a fenced code block (```` ``` ```` or ``~~~``) is one claim, never split; a heading
line is one claim; a list item (with its continuation lines) or a table row is one claim; other
paragraphs are split into sentences. A fragment that holds only citations (``It saves. [a.py:3]``)
belongs to the sentence before it.

Identifiers a claim names: every code-like token inside backticks (a lone backticked word counts),
and outside backticks the tokens that look like code on their own (``save_user``, ``APIRouter``,
``Store.save``, ``get()``) via the retrieval query analyser. Plain capitalised words (``Python``)
are prose. Citations, URLs, abbreviations (``e.g``) and literals (``None``, ``self``) are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from app.answer.citations import Citation, iter_citation_matches, parse_citations, remove_citations
from app.retrieval.query import IDENT_TOKEN, analyse, is_code_like, normalise_identifier

ClaimKind = Literal["sentence", "item", "heading", "code"]

_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_HEADING = re.compile(r"^\s{0,3}(?:#{1,6}\s|\*\*[^*]+\*\*:?\s*$)")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_TABLE = re.compile(r"^\s*\|")
_BACKTICKS = re.compile(r"`+([^`\n]+?)`+")
_URL = re.compile(r"\b[A-Za-z][\w+.-]*://\S+")
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]*_]*\s+")
_CITATION_WRAPPING = frozenset(" \t\n[](),;.`")
_ABBREVIATIONS = frozenset({"e.g.", "i.e.", "etc.", "vs.", "cf.", "approx.", "incl."})
_LITERALS = frozenset("None True False null true false nil undefined self this cls super".split())


@dataclass(frozen=True, slots=True)
class Claim:
    """One checkable unit of an answer; ``start``/``end`` are offsets into the answer."""

    text: str
    start: int
    end: int
    kind: ClaimKind
    citations: tuple[Citation, ...]
    identifiers: tuple[str, ...]
    """Named identifiers, normalised to dots (``Sinatra::Base`` -> ``Sinatra.Base``)."""

    @property
    def word_count(self) -> int:
        """Words in the claim once citations are removed."""
        return len(re.findall(r"\w+", remove_citations(self.text)))


def has_word(text: str, word: str) -> bool:
    """Whether ``text`` has ``word`` as a whole word, case-sensitively: not ``save_user``.

    ``$`` is part of a word, as in JavaScript names.
    """
    return re.search(rf"(?<![\w$]){re.escape(word)}(?![\w$])", text) is not None


def claim_identifiers(text: str) -> tuple[str, ...]:
    """Return the identifiers ``text`` names, in order, without duplicates."""
    body = _URL.sub(" ", remove_citations(text))
    found: list[str] = []
    for match in _BACKTICKS.finditer(body):
        found.extend(analyse(match.group(1)).identifiers)
    prose = _BACKTICKS.sub(" ", body)
    found.extend(
        normalise_identifier(m.group(0))
        for m in IDENT_TOKEN.finditer(prose)
        if is_code_like(m.group(0), 0)
    )
    out: list[str] = []
    for name in found:
        parts = name.split(".")
        if name in _LITERALS or all(len(p) == 1 for p in parts) or name in out:
            continue
        out.append(name)
    return tuple(out)


def _claim(answer: str, start: int, end: int, kind: ClaimKind) -> Claim | None:
    raw = answer[start:end]
    start += len(raw) - len(raw.lstrip())
    end -= len(raw) - len(raw.rstrip())
    if start >= end:
        return None
    text = answer[start:end]
    names = () if kind == "code" else claim_identifiers(text)
    return Claim(text, start, end, kind, tuple(parse_citations(text)), names)


def _sentence_cuts(text: str) -> list[int]:
    """Offsets in ``text`` where a new sentence starts."""
    protected = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    cuts: list[int] = []
    for match in _SENTENCE_END.finditer(text):
        cut = match.end()
        if cut >= len(text) or text[cut].islower():
            continue
        if any(a <= match.start() < b for a, b in protected):
            continue
        word = text[: match.start() + 1].rsplit(None, 1)[-1].lstrip("([`*").lower()
        if word in _ABBREVIATIONS:
            continue
        cuts.append(cut)
    return cuts


def _leading_citations(text: str) -> int:
    """Length of the prefix of ``text`` made only of citations and their wrapping."""
    starts = {start: end for start, end, _ in iter_citation_matches(text)}
    pos, cited = 0, False
    while pos < len(text):
        if pos in starts:
            pos, cited = starts[pos], True
        elif text[pos] in _CITATION_WRAPPING:
            pos += 1
        else:
            break
    return pos if cited else 0


def _sentences(answer: str, start: int, end: int) -> list[Claim]:
    text = answer[start:end]
    bounds = [0, *_sentence_cuts(text), len(text)]
    for n in range(1, len(bounds) - 1):
        bounds[n] += _leading_citations(text[bounds[n] : bounds[n + 1]])
    pieces = (
        _claim(answer, start + a, start + b, "sentence")
        for a, b in zip(bounds, bounds[1:], strict=False)
    )
    return [claim for claim in pieces if claim is not None]


def _lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    offset = 0
    for line in text.split("\n"):
        out.append((offset, line))
        offset += len(line) + 1
    return out


def _is_block_start(line: str) -> bool:
    """Whether ``line`` ends a list item's continuation lines."""
    return not line.strip() or any(p.match(line) for p in (_FENCE, _HEADING, _ITEM, _TABLE))


def split_claims(answer: str) -> list[Claim]:
    """Split ``answer`` into claims in order (see the module docstring for the rules)."""
    lines = _lines(answer)
    claims: list[Claim | None] = []
    paragraph: tuple[int, int] | None = None

    def flush() -> None:
        nonlocal paragraph
        if paragraph is not None:
            claims.extend(_sentences(answer, *paragraph))
            paragraph = None

    i = 0
    while i < len(lines):
        offset, line = lines[i]
        end = offset + len(line)
        fence = _FENCE.match(line)
        if fence:
            flush()
            marker, j = fence.group(1), i + 1
            while j < len(lines) - 1 and not lines[j][1].lstrip().startswith(marker):
                j += 1
            last = min(j, len(lines) - 1)
            claims.append(_claim(answer, offset, lines[last][0] + len(lines[last][1]), "code"))
            i = last + 1
            continue
        item = _ITEM.match(line)
        if not line.strip():
            flush()
        elif _HEADING.match(line):
            flush()
            claims.append(_claim(answer, offset, end, "heading"))
        elif item or _TABLE.match(line):
            flush()
            while item and i + 1 < len(lines) and not _is_block_start(lines[i + 1][1]):
                i += 1
                end = lines[i][0] + len(lines[i][1])
            claims.append(_claim(answer, offset + (item.end() if item else 0), end, "item"))
        else:
            paragraph = (paragraph[0] if paragraph else offset, end)
        i += 1
    flush()
    return [claim for claim in claims if claim is not None]
