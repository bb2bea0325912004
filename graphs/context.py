"""Per-run switches and bounds (LangGraph ``context_schema``): ablations flip these."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class QuestionContext:
    """Which optional steps run, and how many retries each loop may take."""

    condense: bool = True
    """Rewrite a follow-up into a standalone question with the LLM."""
    decompose: bool = False
    """Split a conceptual question into sub-questions with the LLM (off by default: it does
    not help retrieval on our benchmark with the embedded model, see bench/results)."""
    hyde: bool = False
    """Search with LLM-written hypothetical code as well (off by default, as above)."""
    step_back: bool = False
    """Search an LLM-written, more general question as well (step-back prompting); its results
    are fused with the question's. Off by default: with the embedded model it lowered the
    evidence's NDCG@10 from 0.580 to 0.543 (36 dev questions, bench/answer_bench.py)."""
    expand_query: bool = False
    """Search a few LLM-suggested identifiers as one more keyword query, fused with the
    question's. Off by default: NDCG@10 0.580 -> 0.557 on the same questions."""
    rewrite: bool = False
    """On weak context, have the LLM write a new query (else keywords are used). Off by
    default: with the embedded model it lowered the evidence's NDCG@10 (bench/results)."""
    expand: bool = True
    """Call-graph expansion of the hits."""
    verify: bool = True
    """Re-check citations against the files (check_answer); off only for ablations."""
    check_subject: bool = True
    """Before drafting, say the repository does not appear to do what was asked when a subject
    word of the question ("telemetry", "GraphQL") stands nowhere in the index."""
    interactive: bool = False
    """Ask the human: review the plan, and decide on low confidence (interrupts)."""
    max_context_retries: int = 0
    """Extra retrieval rounds when the context is weak (0 by default: a second round, by LLM
    rewrite or by keywords, found worse evidence than the first on our benchmark)."""
    max_answer_retries: int = 1
    """Extra answer drafts when citations fail verification."""
    k: int = 6
    """Chunks of evidence given to the answer."""
    min_confidence: float = 0.5
    """Below this, the context is weak: rewrite, then ask the human or answer carefully."""
    max_sub_questions: int = 3
    """Upper bound on decompose's plan."""


def context_of(runtime: Any) -> QuestionContext:
    """Return the run's context, or the defaults when the caller passed none (Studio, SDK)."""
    ctx = getattr(runtime, "context", None)
    return ctx if isinstance(ctx, QuestionContext) else QuestionContext()
