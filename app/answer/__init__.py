"""Verified answers: parse ``path:start-end`` citations, check them and the claims they back.

Pure functions over plain values; the answer graph's check node calls ``check_answer`` and
``strip_invalid``, and ``render_no_evidence`` when nothing in the index supports an answer.
"""

from app.answer.attach import attach_markers
from app.answer.check import SUBSTANTIVE_WORDS, AnswerCheck, check_answer, is_substantive
from app.answer.citations import Citation, parse_citations
from app.answer.claims import Claim, split_claims
from app.answer.fallback import render_no_evidence
from app.answer.keyline import key_sentence
from app.answer.lead import lead_sentence
from app.answer.strip import strip_invalid
from app.answer.verify import SourceReader, Verdict, verify_citation

__all__ = [
    "attach_markers",
    "SUBSTANTIVE_WORDS",
    "AnswerCheck",
    "Citation",
    "Claim",
    "SourceReader",
    "Verdict",
    "check_answer",
    "is_substantive",
    "key_sentence",
    "lead_sentence",
    "parse_citations",
    "render_no_evidence",
    "split_claims",
    "strip_invalid",
    "verify_citation",
]
