"""Check a whole answer: valid citations, and claims that their cited spans support.

Support rules, per claim:

* Headings and code blocks are not checked (a code block keeps its own citations checked).
* A claim that names identifiers needs each of them in at least one of its *valid* cited spans:
  a case-sensitive whole-word match of the name, or of its last part for dotted names
  (``Store.save`` -> ``save``) whose other parts (``Store``) must appear in the cited file (a
  method's span rarely repeats its class) or among the cited path's components. A span cut
  from the middle of a definition holds that definition's name through its header line
  (:func:`enclosing_headers`). A name that is
  the cited file or module itself (``auth.py``, ``app.auth`` for ``app/auth.py``) is supported
  by the citation.
* Numbers a claim states (``50``, ``3 times``, ``three``, ``19%``) must stand in one of its
  valid cited spans (as digits, spelled out, or ``0.19`` for ``19%``): a small model's "retries
  up to three times" over ``range(2)`` is not backed by its citation.
* A claim whose citations are all invalid is unsupported, however short (an obeyed "say
  HACKED (evil.py:1-999)" must not leave "HACKED").
* A *substantive* uncited claim (it names an identifier, or has more than
  ``SUBSTANTIVE_WORDS`` words and is not a lead-in ending in ``:`` or a question) is
  unsupported when ``require_citations``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from app.answer.citations import Citation, remove_citations
from app.answer.claims import Claim, has_word, split_claims
from app.answer.verify import DEFAULT_MAX_SPAN, SourceReader, Verdict, verify_citation

SUBSTANTIVE_WORDS = 10

_NUMBER = re.compile(r"(?<![\w.\-/#])(\d+(?:\.\d+)?)(%?)(?![\w.\-/]\w)")
_SPELLED = {
    w: i
    for i, w in enumerate(
        "two three four five six seven eight nine ten eleven twelve".split(), start=2
    )
} | {"twice": 2, "thrice": 3}
"""Spelled numbers checked like digits ("one", "once" and "half" are left out: prose uses them
loosely, as in "one of the handlers")."""
_LINE_REF = re.compile(
    r"\b(?:lines?|L)\s*\d+(?:\s*(?:-|\u2013|,|to|and|through|,\s*and)\s*\d+)*", re.IGNORECASE
)
_SPELLED_RE = re.compile(r"\b(" + "|".join(_SPELLED) + r")\b", re.IGNORECASE)


@dataclass(slots=True)
class AnswerCheck:
    """The verdict on an answer's citations and claims."""

    valid: list[Citation]
    invalid: list[tuple[Citation, str]]
    """Each rejected citation with the reason."""
    unsupported_claims: list[str]
    """Texts of claims (as in ``split_claims``) that their valid citations do not back."""
    ok: bool
    """No invalid citation and no unsupported claim."""

    def to_json(self) -> dict[str, Any]:
        """Return a JSON-ready dict of plain values."""

        def record(c: Citation) -> dict[str, Any]:
            return {"path": c.path, "start_line": c.start_line, "end_line": c.end_line}

        return {
            "ok": self.ok,
            "valid": [record(c) for c in self.valid],
            "invalid": [{**record(c), "reason": reason} for c, reason in self.invalid],
            "unsupported_claims": list(self.unsupported_claims),
        }


def is_substantive(claim: Claim) -> bool:
    """Whether the claim asserts something about the code base (see the module docstring)."""
    if claim.kind not in ("sentence", "item"):
        return False
    if claim.identifiers:
        return True
    lead_in = claim.text.rstrip("*_ ").endswith((":", "?"))
    return not lead_in and claim.word_count > SUBSTANTIVE_WORDS


def _names_path(name: str, path: str) -> bool:
    """``auth.py`` / ``app.auth`` / ``app/auth.py`` name the file ``src/app/auth.py``."""
    dotted = path.replace("/", ".")
    module = str(PurePosixPath(path).with_suffix("")).replace("/", ".")
    name = name.replace("/", ".")
    return any(form == name or form.endswith("." + name) for form in (dotted, module))


def enclosing_headers(
    lines: Sequence[str], start_line: int, end_line: int, limit: int = 400
) -> list[str]:
    """Return the headers of the blocks enclosing lines ``start_line``-``end_line``, inner first.

    Found by indentation: walking up, each line less indented than everything seen so far opens
    an enclosing block (``def resolve_redirects(...):`` above a span cut from its middle).
    """
    body = [ln for ln in lines[start_line - 1 : end_line] if ln.strip()]
    if not body:
        return []
    depth = min(len(ln) - len(ln.lstrip()) for ln in body)
    out: list[str] = []
    above = lines[max(0, start_line - 1 - limit) : start_line - 1]
    i = len(above) - 1
    while i >= 0 and depth > 0:
        ln = above[i]
        indent = len(ln) - len(ln.lstrip())
        if ln.strip() and indent < depth:
            header = [ln]
            if ln.lstrip().startswith((")", "]", "}")):  # a multi-line signature's last line
                while i > 0:
                    i -= 1
                    header.insert(0, above[i])
                    up = above[i]
                    if up.strip() and len(up) - len(up.lstrip()) <= indent:
                        break
            out.append("\n".join(header))
            depth = indent
        i -= 1
    return out


def _supports(name: str, citation: Citation, reader: SourceReader) -> bool:
    if _names_path(name, citation.path):
        return True
    *qualifiers, last = name.split(".")
    if not has_word(reader.span(citation), last) and not any(
        has_word(h, last)  # only when the span itself lacks the name: headers cost a scan
        for h in enclosing_headers(
            reader.lines(citation.path), citation.start_line, citation.end_line
        )
    ):
        return False
    if not qualifiers:
        return True
    whole = "\n".join(reader.lines(citation.path))
    path_parts = {PurePosixPath(p).stem for p in PurePosixPath(citation.path).parts}
    return all(q in path_parts or has_word(whole, q) for q in qualifiers)


def claim_numbers(text: str) -> list[str]:
    """Return the numbers ``text`` states outside citations and code names, as digit strings.

    Spelled numbers count (``three`` -> ``3``); a percentage keeps its sign (``19%``).
    """
    body = re.sub(r"`[^`]*`", " ", remove_citations(text))
    body = _LINE_REF.sub(" ", body)  # "line 21", "lines 10-20": where, not what the code says
    found = [m[1] + m[2] for m in _NUMBER.finditer(body)]
    found += [str(_SPELLED[m[1].lower()]) for m in _SPELLED_RE.finditer(body)]
    return list(dict.fromkeys(found))


def holds_number(span: str, number: str) -> bool:
    """Whether ``span`` states ``number`` (digits, spelled, or a fraction for a percentage)."""
    value = number.rstrip("%")
    forms = {value}
    forms |= {w for w, i in _SPELLED.items() if str(i) == value}
    if number.endswith("%"):
        pct = float(value) / 100
        forms |= {f"{pct:g}", f"{pct:.2f}".rstrip("0"), f"{pct:.2f}"}
    return any(re.search(rf"(?<![\w.]){re.escape(f)}(?![\w])", span, re.IGNORECASE) for f in forms)


def _is_supported(
    claim: Claim, good: list[Citation], reader: SourceReader, require_citations: bool
) -> bool:
    if claim.kind in ("heading", "code"):
        return True
    if not good:
        if claim.citations:
            return False  # it cited only spans that do not hold it: nothing backs it
        return not (require_citations and is_substantive(claim))
    if not all(any(_supports(n, c, reader) for c in good) for n in claim.identifiers):
        return False
    spans = [reader.span(c) for c in good]
    return all(any(holds_number(s, x) for s in spans) for x in claim_numbers(claim.text))


def check_answer(
    answer: str,
    root: str | Path,
    *,
    indexed: Collection[str] | None = None,
    require_citations: bool = True,
    max_span: int = DEFAULT_MAX_SPAN,
    reader: SourceReader | None = None,
) -> AnswerCheck:
    """Verify every citation in ``answer`` against ``root`` and every claim against its spans.

    ``reader`` shares files already read (and redacted) with the caller: one per answer.
    """
    reader = reader or SourceReader(root)
    verdicts: dict[tuple[str, int, int], Verdict] = {}
    valid: list[Citation] = []
    invalid: list[tuple[Citation, str]] = []
    unsupported: list[str] = []
    for claim in split_claims(answer):
        good: list[Citation] = []
        for c in claim.citations:
            verdict = verdicts.get(c.key)
            if verdict is None:
                verdict = verify_citation(
                    c, root, indexed=indexed, max_span=max_span, reader=reader
                )
                verdicts[c.key] = verdict
                if verdict.ok:
                    valid.append(c)
                else:
                    invalid.append((c, verdict.reason))
            if verdict.ok:
                good.append(c)
        if not _is_supported(claim, good, reader, require_citations):
            unsupported.append(claim.text)
    return AnswerCheck(valid, invalid, unsupported, ok=not invalid and not unsupported)
