"""The evidence's key line: the one line of code, or doc sentence, that best matches the question.

A small model often leaves out the very value or name a question asks for ("what is the default
limit?") though it stands in the lines it was shown, or beyond the lines it was shown. So after
its prose the answer quotes, without the model, the line of the evidence that shares the most of
the question's content words: ``self.max_redirects = DEFAULT_REDIRECT_LIMIT`` for "where is the
default maximum number of redirects defined?". A code line is quoted in backticks, with the
functions it calls and where they are defined (the caller supplies them from the code graph);
when no code line qualifies, a doc comment's or docstring's first sentence is quoted instead.
Either is cited to its own lines, so the checker re-opens exactly what is quoted.

Candidates are the code lines and doc summaries of the best ``KEY_BLOCKS`` evidence blocks, read
from the files (a chunk cut from a long definition repeats its header above its own lines); a
line that opens a definition, imports, or closes brackets says nothing the lead does not. A
candidate needs ``MIN_TERMS`` of the question's words: one shared word is chance. On the answer
benchmark (qwen-0.5b, one run each) this took the default model from 29/42 to 35/42 correct.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from app.answer.check import enclosing_headers
from app.answer.citations import iter_citation_matches
from app.answer.claims import has_word, split_claims
from app.answer.lead import comment_text, defines
from app.index.languages import CODE_LANGUAGES, language_for
from app.index.tokens import STOP_WORDS, code_tokens, stem
from app.retrieval.subject import GENERIC

KEY_BLOCKS = 5
"""Lines are taken from this many of the best evidence blocks."""
MIN_TERMS = 2
"""A key line shares at least this many distinct content words with the question."""
MAX_CHARS = 160
"""A longer line is a data table or minified code, not something to quote."""
MIN_CODE_WORDS = 3
"""A shorter code line (``proxy_keys = [``) names a thing without saying anything of it."""
RANK_DECAY = 0.1
"""Each lower-ranked block's lines score this much less (a share of the score)."""
RARITY = 0.1
"""Weight of the shared words' rarity among the candidates: a tie-break between equal counts."""
MAX_CALLS = 2
"""A quoted line's calls named after it, at most."""
_ASKED = frozenset({"default", "value", "values", "return", "returns", "returned", "error"})
"""Frame words that still point at the line a question wants ("what is the default ...?")."""
_FRAME = (GENERIC - _ASKED) | STOP_WORDS | {"not", "does", "did", "get", "gets", "new", "use"}
_DOC_QUOTES = re.compile(r"(?:(?<!\w)[rRuUbBfF]{1,2})?(\"\"\"|''')")
_OPEN_TICK = re.compile(r"(?:^|[=(,:+?]|\breturn)\s*`")
"""A backtick that opens a multi-line string (after ``=``, ``(``, ``:``, ``return`` ...), not
one inside a regular expression (``/^[a-z^`|~]+$/``)."""
_TRAILING_COMMENT = re.compile(r"\s(?:#|//)\s")
"""A comment after code (``x = 1  # note``): not quoted, it may say anything."""
_NOT_SAYING = re.compile(
    r"^\s*(?:(?:async\s+)?(?:def|function|func|class|interface|struct|type|fn|impl)\b"
    r"|import\b|from\s+\S+\s+import\b|package\b|export\s+default\b|@|else\b|try\b"
    r"|[)}\]]+[;,]?\s*$|[\w$.]+,?\s*$"
    r"|(?:(?:async|static|get|set)\s+)*(?!(?:if|for|while|switch|catch|with)\b)[\w$]+\s*\([^)]*\)\s*\{\s*$)"
    r"|.*\bfunction\s+[\w$]+\s*\("
)
"""A definition's opening line (a JS method's too, and a named function passed inline), an
import, a closing bracket or a bare name in a list."""
_SENTENCE_END = re.compile(r"(?<=[\w)`'\"])[.!?](?=\s|$)")


@dataclass(frozen=True, slots=True)
class Passage:
    """One quotable unit of an evidence block: a code line or a doc sentence."""

    path: str
    start_line: int
    end_line: int
    text: str
    kind: Literal["code", "doc"]
    owner: str
    """The definition whose body holds a code line (``Session.__init__``), or ""."""
    symbol: str = ""
    """The owner's qualified name in the index (``requests.sessions.Session.__init__``)."""


def terms(text: str) -> set[str]:
    """The content words of ``text``, stemmed: identifiers whole and split, frame words left out."""
    out = set()
    for token in code_tokens(text):
        word = stem(token)
        if len(token) >= 3 and token not in _FRAME and word not in _FRAME:
            out.add(word)
    return out


def _shared(wanted: set[str], found: set[str]) -> set[str]:
    """The words of ``wanted`` that ``found`` has, or has a longer or shorter form of."""
    long = [f for f in found if len(f) >= 5]
    return {
        w
        for w in wanted
        if w in found or (len(w) >= 5 and any(f.startswith(w) or w.startswith(f) for f in long))
    }


def _doc_summary(path: str, lines: list[tuple[int, str]]) -> Iterator[Passage]:
    """The first sentence of one run of doc lines ``(line number, text)``, with its lines.

    Only the summary: what follows it in a docstring is detail, and the place where text
    meant for a model ("ignore previous instructions...") is planted after an honest opening.
    """
    text, starts = "", []
    for _, line in lines:
        starts.append(len(text))
        text += line.strip() + " "
    stop = _SENTENCE_END.search(text)
    end = stop.end() if stop else len(text)
    sentence = " ".join(text[:end].split())
    if lines and sentence and not sentence.startswith((":", "@")) and sentence.count("`") % 2 == 0:
        last = lines[bisect_left(starts, end) - 1][0]
        yield Passage(path, lines[0][0], last, sentence.rstrip(".!?"), "doc", "")


def _scan(path: str, source: Sequence[str]) -> Iterator[tuple[int, str, str]]:
    """Each line of a file as ``(number, kind, text)``: ``code``, ``doc``, ``break``, ``skip``.

    The state is followed from the file's first line, so a block that starts inside a
    docstring, a ``/* */`` comment or a multi-line string knows it. ``doc`` lines carry a doc
    comment's or docstring's text; ``break`` ends a doc paragraph (a blank line in it, a JSDoc
    ``@tag``); ``skip`` is anything never quoted (the inside of a string, an over-long line).
    """
    python = language_for(path) == "python"
    in_doc = in_string = in_block = in_tick = False
    for number, line in enumerate(source, start=1):
        bare = line.strip()
        quotes = len(_DOC_QUOTES.findall(line)) if python else 0
        if in_doc or in_string:
            kind = ("break" if not bare else "doc") if in_doc else "skip"
            if quotes % 2:
                in_doc = in_string = False
            yield number, kind, _DOC_QUOTES.sub("", bare)
            continue
        if python and quotes:
            opens = _DOC_QUOTES.match(bare) is not None  # a docstring, not a string in code
            in_doc, in_string = (quotes % 2 == 1) and opens, (quotes % 2 == 1) and not opens
            yield number, ("doc" if opens else "skip"), _DOC_QUOTES.sub("", bare)
            continue
        odd = line.count("`") % 2 == 1
        if not python and (in_tick or (odd and _OPEN_TICK.search(line))):  # a template literal,
            in_tick = in_tick != odd  # a Go raw string: its lines are text, not code
            yield number, "skip", bare
            continue
        if in_block:
            in_block = "*/" not in line
            text = comment_text(line) if len(line) <= MAX_CHARS else None
            text = text if text is not None else bare.removesuffix("*/").strip()
            yield number, ("break" if text.startswith("@") or not text else "doc"), text
            continue
        text = comment_text(line) if len(line) <= MAX_CHARS else None
        if text is not None:
            in_block = not python and bare.startswith("/*") and "*/" not in bare
            yield number, ("break" if text.startswith("@") or not text else "doc"), text
            continue
        yield number, ("skip" if len(bare) > MAX_CHARS else "code"), bare


Scanned = Sequence[tuple[int, str, str]]
"""A file's lines as :func:`_scan` classifies them."""


def passages(
    block: Mapping[str, Any], source: Sequence[str], scanned: Scanned | None = None
) -> Iterator[Passage]:
    """Every code line and doc summary of ``block``'s span of its file's lines ``source``.

    The span is read from the file, not from the block's text: a chunk cut from a long
    definition repeats the definition's header above its own lines. Only code files are
    quoted from (a README's prose is not a line of code), and nothing that looks like a
    citation (``a.py:3-9`` in a string would be taken for one and cut out of the quote).
    ``scanned`` is the file's :func:`_scan` when the caller already has it (several blocks of
    one file are scanned once).
    """
    path = str(block["path"])
    first, last = int(block["start_line"]), int(block["end_line"])
    if language_for(path) not in CODE_LANGUAGES:
        return
    doc: list[tuple[int, str]] = []
    done = False  # the doc paragraph's summary was taken: the rest of it is detail
    found: list[Passage] = []
    lines = scanned if scanned is not None else list(_scan(path, source))
    for number, kind, text in lines[: max(last, 0)]:
        if kind in ("doc", "break"):
            if kind == "break" and doc:
                found.extend(_doc_summary(path, doc))
                doc, done = [], True
            elif kind == "doc" and not done and (doc or text):
                doc.append((number, text))
            continue
        if doc:
            found.extend(_doc_summary(path, doc))
        doc, done = [], False
        if kind == "code" and number >= first and _quotable(text):
            found.append(Passage(path, number, number, text, "code", ""))
    found.extend(_doc_summary(path, doc))
    for p in found:
        if p.start_line >= first and not any(iter_citation_matches(p.text)):
            yield p


def _quotable(line: str) -> bool:
    """Whether a code line says something and can be quoted whole in backticks."""
    if _NOT_SAYING.match(line) or "`" in line or _TRAILING_COMMENT.search(line):
        return False
    return len(re.findall(r"\w+", line)) >= MIN_CODE_WORDS  # not ``proxy_keys = [``


def _owner(block: Mapping[str, Any], p: Passage, source: Sequence[str]) -> str:
    """The block's definition when the code line ``p`` stands in its body, else ""."""
    name = defines(block)
    last = name.rsplit(".", 1)[-1]
    if not name or p.kind != "code":
        return ""
    headers = enclosing_headers(source, p.start_line, p.end_line)
    said = any(has_word(h, last) for h in headers)
    return name if said else ""


Read = Callable[[str], Sequence[str]]
"""The lines of a repository file by its relative path (empty when it cannot be read)."""


def key_passage(question: str, blocks: Sequence[Mapping[str, Any]], read: Read) -> Passage | None:
    """The passage of the best ``KEY_BLOCKS`` blocks that shares most with ``question``.

    A passage scores the number of question words it shares, plus a little for their rarity
    among the candidates (``log(1 + n / df)``, a tie-break); a lower-ranked block's passages
    score less. A code line wins over any doc sentence: a doc sentence is quoted only when no
    code line shares ``MIN_TERMS`` words.
    """
    wanted = terms(question)
    if len(wanted) < MIN_TERMS:
        return None
    found = []
    scans: dict[str, Scanned] = {}
    for rank, block in enumerate(blocks[:KEY_BLOCKS]):
        path = str(block["path"])
        source = read(path)
        if path not in scans:
            scans[path] = list(_scan(path, source))
        for p in passages(block, source, scans[path]):
            found.append((rank, block, p, _shared(wanted, terms(p.text))))
    df: dict[str, int] = {}
    for *_, shared in found:
        for word in shared:
            df[word] = df.get(word, 0) + 1
    best: dict[str, tuple[float, Passage, Mapping[str, Any]]] = {}
    for rank, block, p, shared in found:
        if len(shared) < MIN_TERMS:
            continue
        rarity = sum(math.log(1 + len(found) / df[w]) for w in shared)
        score = (len(shared) + RARITY * rarity) * (1 - RANK_DECAY * rank)
        if p.kind not in best or score > best[p.kind][0]:
            best[p.kind] = (score, p, block)
    pick = best.get("code") or best.get("doc")  # code holds the values; docs say it in words
    if pick is None:
        return None
    _, p, block = pick
    owner = _owner(block, p, read(p.path))
    return replace(p, owner=owner, symbol=str(block.get("symbol") or "") if owner else "")


def _names(text: str) -> list[str]:
    return [t for t in re.findall(r"[A-Za-z_$][\w$]{3,}", text) if not t.islower()]


Calls = Callable[[Passage], Sequence[str]]
"""The definitions a code line calls, each as ``name (path:start-end)``."""


def key_sentence(
    question: str,
    blocks: Sequence[Mapping[str, Any]],
    read: Read,
    said: str = "",
    calls: Calls | None = None,
) -> str:
    """A sentence quoting the key passage with its own citation, or "".

    ``said`` is the answer so far: a passage it already quotes, or a code line whose every
    name it already states, is not quoted again. ``calls`` names what a quoted code line calls
    (``self.headers = default_headers()`` -> where ``default_headers`` is defined): the value
    a line sets is often made one call away.
    """
    p = key_passage(question, blocks, read)
    if p is None or p.text in said:
        return ""
    names = _names(p.text)
    if p.kind == "code" and names and all(has_word(said, n) for n in names):
        return ""
    where = f"({p.path}:{p.start_line}-{p.end_line})"
    if p.kind == "doc":
        sentence = f'The documentation in {p.path} says: "{p.text}" {where}.'
    else:
        owner = f" in `{p.owner}`" if p.owner else ""
        called = list(calls(p))[:MAX_CALLS] if calls else []
        follow = f", which calls {' and '.join(called)}" if called else ""
        sentence = f"The key line{owner} is `{p.text}` {where}{follow}."
    return sentence if len(split_claims(sentence)) == 1 else ""  # a quote read as two: skip
