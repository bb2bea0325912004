"""Clean an answer after checking: drop unsupported claims and invalid citations."""

from __future__ import annotations

from app.answer.check import AnswerCheck
from app.answer.citations import iter_citation_matches
from app.answer.claims import Claim, split_claims

_WRAPPERS = (("`", "`"), ("[", "]"), ("(", ")"))
_SEPARATORS = ",;"


def _claim_range(text: str, claim: Claim) -> tuple[int, int]:
    """What to delete for ``claim``: a whole line when it fills one, else the text and a space."""
    start = text.rfind("\n", 0, claim.start) + 1 if claim.kind == "item" else claim.start
    before, after = start, claim.end
    while before > 0 and text[before - 1] in " \t":
        before -= 1
    while after < len(text) and text[after] in " \t":
        after += 1
    line_start = before == 0 or text[before - 1] == "\n"
    if after == len(text) or text[after] == "\n":
        if not line_start:
            return before, claim.end
        end = min(after + 1, len(text))
        if text[max(before - 2, 0) : before] in ("\n\n", "") and text[end : end + 1] == "\n":
            end += 1  # no double blank line where a paragraph was
        return before, end
    return start, after


def _citation_range(text: str, start: int, end: int, cited: set[int]) -> tuple[int, int]:
    """Widen a citation match over its wrapping and a separator to a neighbouring citation.

    ``cited`` holds the start and end offsets of all citation matches in ``text``.
    """
    for opening, closing in _WRAPPERS:
        if 0 < start and end < len(text) and text[start - 1] + text[end] == opening + closing:
            start, end = start - 1, end + 1
    after = end
    while after < len(text) and text[after] == " ":
        after += 1
    if after < len(text) and text[after] in _SEPARATORS:
        nxt = len(text) - len(text[after + 1 :].lstrip(" "))
        if {nxt, nxt + 1} & cited:
            return start, nxt
    before = start
    while before > 0 and text[before - 1] == " ":
        before -= 1
    if before > 0 and text[before - 1] in _SEPARATORS:
        prev = len(text[: before - 1].rstrip(" "))
        if {prev, prev - 1} & cited:
            return before - 1, end
    if end == len(text) or text[end] in " .,;:!?)]\n":
        return before, end
    return start, end


def strip_invalid(answer: str, check: AnswerCheck) -> str:
    """Return ``answer`` without its unsupported claims and invalid citations.

    The sentence around a removed citation stays; a removed list item takes its whole line.
    """
    unsupported = set(check.unsupported_claims)
    dropped = [c for c in split_claims(answer) if c.text in unsupported]
    merged: list[list[int]] = []
    for start, end in sorted(_claim_range(answer, c) for c in dropped):
        if merged and start <= merged[-1][1]:  # neighbours share the space between them
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    text = answer
    for start, end in reversed(merged):
        if end >= len(text) or text[end] == "\n":  # the line now ends here: no trailing blank
            while start > 0 and text[start - 1] in " \t":
                start -= 1
        text = text[:start] + text[end:]
    bad = {c.key for c, _ in check.invalid}
    while True:
        matches = list(iter_citation_matches(text))
        targets = [(start, end) for start, end, c in matches if c.key in bad]
        if not targets:
            break
        cited = {offset for start, end, _ in matches for offset in (start, end)}
        start, end = _citation_range(text, *targets[-1], cited)
        text = text[:start] + text[end:]
    return text.strip() + ("\n" if answer.endswith("\n") and text.strip() else "")
