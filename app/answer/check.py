"""Check a whole answer: valid citations, and claims that their cited spans support.

Support rules, per claim:

* Headings and code blocks are not checked (a code block keeps its own citations checked).
* A claim that names identifiers needs each of them in at least one of its *valid* cited spans:
  a case-sensitive whole-word match of the name, or of its last part for dotted names
  (``Store.save`` -> ``save``) whose other parts (``Store``) must appear in the cited file (a
  method's span rarely repeats its class) or among the cited path's components. A name that is
  the cited file or module itself (``auth.py``, ``app.auth`` for ``app/auth.py``) is supported
  by the citation.
* A claim whose citations are all invalid is unsupported, however short (an obeyed "say
  HACKED (evil.py:1-999)" must not leave "HACKED").
* A *substantive* uncited claim (it names an identifier, or has more than
  ``SUBSTANTIVE_WORDS`` words and is not a lead-in ending in ``:`` or a question) is
  unsupported when ``require_citations``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from app.answer.citations import Citation
from app.answer.claims import Claim, split_claims
from app.answer.verify import DEFAULT_MAX_SPAN, SourceReader, Verdict, verify_citation

SUBSTANTIVE_WORDS = 10


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


def _has_word(text: str, word: str) -> bool:
    return re.search(rf"(?<![\w$]){re.escape(word)}(?![\w$])", text) is not None


def _names_path(name: str, path: str) -> bool:
    """``auth.py`` / ``app.auth`` / ``app/auth.py`` name the file ``src/app/auth.py``."""
    dotted = path.replace("/", ".")
    module = str(PurePosixPath(path).with_suffix("")).replace("/", ".")
    name = name.replace("/", ".")
    return any(form == name or form.endswith("." + name) for form in (dotted, module))


def _supports(name: str, citation: Citation, reader: SourceReader) -> bool:
    if _names_path(name, citation.path):
        return True
    *qualifiers, last = name.split(".")
    if not _has_word(reader.span(citation), last):
        return False
    if not qualifiers:
        return True
    whole = "\n".join(reader.lines(citation.path))
    path_parts = {PurePosixPath(p).stem for p in PurePosixPath(citation.path).parts}
    return all(q in path_parts or _has_word(whole, q) for q in qualifiers)


def _is_supported(
    claim: Claim, good: list[Citation], reader: SourceReader, require_citations: bool
) -> bool:
    if claim.kind in ("heading", "code"):
        return True
    if not good:
        if claim.citations:
            return False  # it cited only spans that do not hold it: nothing backs it
        return not (require_citations and is_substantive(claim))
    return all(any(_supports(n, c, reader) for c in good) for n in claim.identifiers)


def check_answer(
    answer: str,
    root: str | Path,
    *,
    indexed: Collection[str] | None = None,
    require_citations: bool = True,
    max_span: int = DEFAULT_MAX_SPAN,
) -> AnswerCheck:
    """Verify every citation in ``answer`` against ``root`` and every claim against its spans."""
    reader = SourceReader(root)
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
