"""Put a draft's ``[n]`` evidence markers where its sentences are, and add the ones it left out.

Small models cite in three ways the checker used to misread:

* **Leading markers**: ``[1] The VAT is ... [2] The rates ...``: a marker that opens a line or
  a sentence belongs to the sentence after it, not to the one before. When a draft opens with a
  marker, every marker that stands before a sentence is moved behind that sentence.
* **No markers**: ``The `order_total` function sums the lines ...``: a sentence that names
  code the evidence holds (identifiers, file or module names, numbers) gets the marker of the
  evidence block that supports it best; a block that *defines* a named symbol wins over one
  that only mentions it. Several blocks are cited when no one block holds every name.
* **Grouped markers**: ``[1, 2]`` and ``[1][2]`` become ``[1] [2]``.

A sentence that names nothing found in the evidence stays as written: the checker strips it if
it asserts something (:func:`app.answer.check.is_substantive`). Markers only point at evidence;
whether a cited span holds what its sentence names is still verified afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.answer.check import claim_numbers
from app.answer.check import holds_number as _holds_number
from app.answer.claims import claim_identifiers, has_word, split_claims

_GROUP = re.compile(r"\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})+)\]")
_MARKER = re.compile(r"\[(\d{1,2})\]")
_RUN = re.compile(r"(?:\[\d{1,2}\][ \t]*)+")
_WORD = re.compile(r"[A-Za-z]{4,}")
_STOP = frozenset(
    """this that these those with from into when where which what they them their there then
    than have been being will would should could also each more most some such only other does
    using used uses function method class module file code returns return value values""".split()
)
MAX_ATTACHED = 2
"""At most this many blocks are cited for one unmarked sentence (one per uncovered name)."""


@dataclass(frozen=True, slots=True)
class Block:
    """One numbered evidence block as the answer prompt showed it."""

    n: int
    path: str
    symbol: str
    text: str

    @classmethod
    def of(cls, c: Mapping[str, Any]) -> Block:
        """Build from a context record (``n``, ``path``, ``symbol``, ``text``)."""
        return cls(int(c["n"]), str(c["path"]), str(c.get("symbol") or ""), str(c["text"]))


def attach_markers(draft: str, context: Sequence[Mapping[str, Any]]) -> str:
    """Return ``draft`` with its markers after the sentences they support (see module doc)."""
    blocks = [Block.of(c) for c in context]
    text = _GROUP.sub(lambda m: " ".join(f"[{n}]" for n in re.split(r"\s*[,;]\s*", m[1])), draft)
    text = re.sub(r"\](?=\[\d)", "] ", text)
    if _leads_with_marker(text):
        text = _move_leading_markers(text)
    return _add_missing(text, blocks)


def _leads_with_marker(text: str) -> bool:
    body = text.lstrip()
    body = re.sub(r"^(?:[-*+]|\d{1,3}[.)])\s+", "", body)  # a list bullet first
    return bool(_MARKER.match(body))


def _move_leading_markers(text: str) -> str:
    """Move each run of markers that opens a sentence (or line) to that sentence's end."""
    out: list[str] = []
    for line in text.split("\n"):
        pieces = _RUN.split(line)
        runs = _RUN.findall(line)
        if not runs:
            out.append(line)
            continue
        rebuilt = pieces[0]
        for run, after in zip(runs, pieces[1:], strict=True):
            before = rebuilt.rstrip()
            opens = not before or before.endswith((".", "!", "?", ":")) or _is_bullet(before)
            if opens and after.strip():
                rebuilt = rebuilt + _end_sentence_with(after, run.strip())
            else:
                rebuilt = rebuilt + run + after
        out.append(rebuilt)
    return "\n".join(out)


def _is_bullet(text: str) -> bool:
    return re.fullmatch(r"\s*(?:[-*+]|\d{1,3}[.)])", text) is not None


def _end_sentence_with(fragment: str, run: str) -> str:
    """Put ``run`` after the first sentence of ``fragment`` (before its final stop)."""
    match = re.search(r"[.!?](?=\s|$)", fragment)
    if match is None:
        return f"{fragment.rstrip()} {run}" + fragment[len(fragment.rstrip()) :]
    cut = match.start()
    return f"{fragment[:cut].rstrip()} {run}{fragment[cut:]}"


def _add_missing(text: str, blocks: Sequence[Block]) -> str:
    """Give each sentence the marker(s) of the block(s) that hold what it names.

    An unmarked sentence gets its best block(s) (:func:`supporting_blocks`); a marked one keeps
    its markers and gains a block for each name or number its own blocks do not hold.
    """
    if not blocks:
        return text
    by_n = {b.n: b for b in blocks}
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) in ``text``
    for claim in split_claims(text):
        if claim.kind not in ("sentence", "item"):
            continue
        found = list(_MARKER.finditer(claim.text))
        marked = list(dict.fromkeys(by_n[int(m[1])] for m in found if int(m[1]) in by_n))
        bare = _MARKER.sub(" ", claim.text)
        if marked:
            names = claim_identifiers(bare)
            useful = [b for b in marked if any(_holds(b, n) for n in names)] if names else marked
            numbers = claim_numbers(bare)
            if useful:
                chosen = useful + _cover(names, numbers, blocks, already=useful)
            else:  # no marked block holds a name: the blocks that do, else leave it as it is
                chosen = _cover(names, numbers, blocks, already=[]) or marked
            if chosen == marked:
                continue
            for m in reversed(found):  # drop the old markers, then write the new run
                a, b = claim.start + m.start(), claim.start + m.end()
                edits.append((a - 1 if text[a - 1 : a] == " " else a, b, ""))
            pos = claim.start + found[-1].end()
        elif not found:
            chosen = supporting_blocks(claim.text, blocks)
            stop = claim.text.rstrip()[-1:] in ".!?"
            pos = claim.end - 1 if stop else claim.end
        else:
            continue
        if chosen:
            edits.append((pos, pos, " " + " ".join(f"[{b.n}]" for b in chosen)))
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _cover(
    names: Sequence[str], numbers: Sequence[str], blocks: Sequence[Block], already: list[Block]
) -> list[Block]:
    """Blocks to add so every name and number is held by a cited block (none if impossible)."""
    todo = [("name", n) for n in names if not any(_holds(b, n) for b in already)]
    todo += [("num", x) for x in numbers if not any(_holds_number(b.text, x) for b in already)]
    chosen: list[Block] = []
    while todo and len(chosen) < MAX_ATTACHED:
        candidates = [b for b in blocks if b not in already and b not in chosen]
        scored = [(sum(_covers(b, t) for t in todo), -i, b) for i, b in enumerate(candidates)]
        if not scored:
            break
        score, _, best = max(scored, key=lambda t: (t[0], t[1]))
        if score <= 0:
            break
        chosen.append(best)
        todo = [t for t in todo if not _covers(best, t)]
    return chosen if not todo else []


def _covers(block: Block, item: tuple[str, str]) -> int:
    kind, value = item
    return _holds(block, value) if kind == "name" else int(_holds_number(block.text, value))


def supporting_blocks(sentence: str, blocks: Sequence[Block]) -> list[Block]:
    """Return the blocks a sentence without markers should cite (best first), maybe none.

    Each identifier and number the sentence states must be found in a chosen block (a defining
    block first); a sentence that names no identifier cites the file it names, or else a block
    holding three of its content words.
    """
    names = [n for n in claim_identifiers(sentence) if not _names_a_path(n, blocks)]
    numbers = claim_numbers(sentence)
    if names:
        return _cover(names, numbers, blocks, already=[])
    path_hits = [b for b in blocks if any(_names_path(n, b.path) for n in _all_names(sentence))]
    if path_hits:
        return path_hits[:1]
    words = {w.lower() for w in _WORD.findall(sentence)} - _STOP
    best_block, best_score = None, 0
    for b in blocks:
        if not all(_holds_number(b.text, x) for x in numbers):
            continue
        body = b.text.lower()
        score = sum(1 for w in words if w in body) + (3 if numbers else 0)
        if score > best_score:
            best_block, best_score = b, score
    return [best_block] if best_block is not None and best_score >= 3 else []


def _all_names(sentence: str) -> list[str]:
    return [*claim_identifiers(sentence), *re.findall(r"[\w/.-]+\.\w{1,5}\b", sentence)]


def _names_path(name: str, path: str) -> bool:
    stem = path.rsplit("/", 1)[-1]
    module = path.rsplit(".", 1)[0].replace("/", ".")
    return name in (path, stem) or module.endswith(name.replace("/", "."))


def _names_a_path(name: str, blocks: Sequence[Block]) -> bool:
    return "." in name and any(_names_path(name, b.path) for b in blocks)


def _holds(block: Block, name: str) -> int:
    """2 when ``block`` defines ``name``, 1 when its text has it as a word, else 0."""
    last = name.rsplit(".", 1)[-1]
    if block.symbol and block.symbol.rsplit(".", 1)[-1] == last:
        return 2
    return 1 if has_word(block.text, last) else 0
