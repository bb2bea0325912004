"""Answer correctness: what the user reads, per chat model, on questions with known answers.

Usage: python bench/answer_quality.py [--models qwen-0.5b,smollm2,qwen-1.5b]
       [--corpora requests,axios,cobra] [--limit N] [--out bench/results/answer_quality.json]
       [--steps hyde,decompose,rewrite]

``--steps`` runs each model once more per LLM step switched on (HyDE, decomposition, a query
rewrite on weak context), reported as ``MODEL +STEP``: the step on against off, same questions.

The question sets (``bench/answers/sets/*.jsonl``) were written by reading each repository's
code (not mined from its docs): how-it-works, what/where and symbol questions, each with key
facts (identifiers or values the code shows) and the files that implement the answer, plus
questions about features the code does not have. The repositories are the retrieval
benchmark's real sources with their documentation left in, as users have them.

Scores, per model, from the final answer alone:

* **correct**: a sentence of the prose (not the "Where to look" pointer list, and at least
  six words, so not a bare list of names) states one key fact, and the prose cites a gold
  file; ``gold cited`` counts the second half alone;
* **abstained**: on an unanswerable question the answer says the code does not show it
  (status ``no_evidence``), rather than describing the nearest code;
* **citations valid**: every citation the user sees re-opens and holds what its sentence
  names (the checker, re-run on the final text);
* **latency**: seconds per question, p50 and p95.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "retrieval"))

import corpora  # noqa: E402

from app.answer import check_answer, split_claims  # noqa: E402
from app.eval.ladder import percentile  # noqa: E402

SETS = HERE / "answers" / "sets"
HOME = HERE / ".cache" / "answers" / "home"
RESULTS = HERE / "results"
POINTERS = "Where to look:"
MIN_WORDS = 6
"""A claim shorter than this is a name list or a fragment, not an explanation."""
ABSTAIN = re.compile(
    r"does not (appear|show|seem)|no indexed file mentions|not (implemented|supported)", re.I
)


def load(names: list[str]) -> list[dict[str, Any]]:
    """The questions of ``names``, each tagged with its corpus."""
    out = []
    for name in names:
        for line in (SETS / f"{name}.jsonl").read_text().splitlines():
            if line.strip():
                out.append({**json.loads(line), "corpus": name})
    return out


def has_fact(text: str, fact: str) -> bool:
    """Whether ``text`` states ``fact`` as a whole word (identifiers keep their case)."""
    flags = 0 if re.search(r"[A-Za-z_]", fact) else re.IGNORECASE
    return re.search(rf"(?<![\w$]){re.escape(fact)}(?![\w$])", text, flags) is not None


def score(q: dict[str, Any], answer: str, status: str, root: Path) -> dict[str, Any]:
    """Score one final answer (see the module docstring)."""
    prose = answer.split(POINTERS, 1)[0]
    claims = [c for c in split_claims(prose) if c.kind in ("sentence", "item")]
    explaining = [c for c in claims if c.word_count >= MIN_WORDS]
    cited = {x.path for c in claims for x in c.citations}
    check = check_answer(answer, root)
    row: dict[str, Any] = {"citations_valid": not check.invalid, "prose_claims": len(claims)}
    if q["answerable"]:
        fact = any(has_fact(c.text, f) for c in explaining for f in q["key_facts"])
        gold = bool(cited & set(q["gold_files"]))
        row |= {"fact_stated": fact, "gold_cited": gold, "correct": fact and gold}
    else:
        row["abstained"] = status == "no_evidence" or bool(ABSTAIN.search(prose))
    return row


STEP_CONTEXTS: dict[str, dict[str, Any]] = {
    "hyde": {"hyde": True},
    "decompose": {"decompose": True},
    "rewrite": {"rewrite": True, "max_context_retries": 1},
}
"""Run-context switches of each LLM step (``graphs.context.QuestionContext``)."""


def run_model(
    model: str, questions: list[dict[str, Any]], step: str | None = None
) -> dict[str, Any]:
    """Ask every question with ``model`` on a fresh thread; score what the user reads."""
    from langgraph.checkpoint.memory import InMemorySaver

    from app.assistant import Assistant
    from app.services import Services
    from app.settings import Settings
    from graphs import QuestionContext

    context = QuestionContext(**STEP_CONTEXTS[step]) if step else None

    rows = []
    assistants: dict[str, Assistant] = {}
    for q in questions:
        root = corpora.fetch(next(c for c in corpora.MANIFEST if c.name == q["corpus"]))
        if q["corpus"] not in assistants:
            services = Services(root, Settings(home=HOME, llm=model, progress=False))
            services.index()
            assistants[q["corpus"]] = Assistant(services, checkpointer=InMemorySaver())
            assistants[q["corpus"]].ask("warm up: where is the main entry point?")
        started = time.perf_counter()
        res = assistants[q["corpus"]].ask(q["question"], context=context)
        seconds = round(time.perf_counter() - started, 2)
        row = {
            "id": q["id"], "corpus": q["corpus"], "kind": q["kind"], "seconds": seconds,
            "status": res.status, "llm_calls": res.llm_calls, "answer": res.answer,
            **score(q, res.answer, res.status, root),
        }  # fmt: skip
        rows.append(row)
        mark = row.get("correct", row.get("abstained"))
        label = f"{model} +{step}" if step else model
        print(f"  [{label}] {seconds:6.1f}s {str(mark):5s} {q['id']}: {q['question']}", flush=True)
    return summarise(rows)


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The per-model table row, with every question's row kept for inspection."""
    answerable = [r for r in rows if "correct" in r]
    unanswerable = [r for r in rows if "abstained" in r]
    secs = [r["seconds"] for r in rows]

    def share(part: list[dict[str, Any]], key: str) -> dict[str, Any]:
        n = sum(bool(r[key]) for r in part)
        return {"n": n, "of": len(part), "share": round(n / max(len(part), 1), 3)}

    by_kind = {
        kind: share([r for r in answerable if r["kind"] == kind], "correct")
        for kind in sorted({r["kind"] for r in answerable})
    }
    return {
        "correct": share(answerable, "correct"),
        "fact_stated": share(answerable, "fact_stated"),
        "gold_cited": share(answerable, "gold_cited"),
        "abstained": share(unanswerable, "abstained"),
        "citations_valid": share(rows, "citations_valid"),
        "by_kind": by_kind,
        "p50_s": round(statistics.median(secs), 1) if secs else None,
        "p95_s": round(percentile(secs, 0.95), 1) if secs else None,
        "rows": rows,
    }


def markdown(doc: dict[str, Any]) -> str:
    """The results table."""
    lines = [
        "# Answer correctness",
        "",
        f"{doc['questions']} questions ({doc['answerable']} answerable, {doc['unanswerable']} "
        f"not) over {', '.join(doc['corpora'])}; {doc['date']}, 2 CPU cores, llama.cpp in "
        "process. Correct: a prose sentence states a key fact and the prose cites a gold file.",
        "",
        "| model | correct | fact stated | gold file cited | abstained | citations valid "
        "| p50 s | p95 s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, m in doc["models"].items():
        cells = [f"{m[k]['n']} / {m[k]['of']}" for k in
                 ("correct", "fact_stated", "gold_cited", "abstained", "citations_valid")]
        lines.append(f"| {model} | " + " | ".join(cells) + f" | {m['p50_s']} | {m['p95_s']} |")
    lines += ["", "Correct by kind of question:", ""]
    for model, m in doc["models"].items():
        kinds = ", ".join(f"{k} {v['n']}/{v['of']}" for k, v in m["by_kind"].items())
        lines.append(f"- {model}: {kinds}")
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="qwen-0.5b,smollm2")
    ap.add_argument("--corpora", default="requests,axios,cobra")
    ap.add_argument("--limit", type=int, default=0, help="First N questions of each corpus.")
    ap.add_argument("--out", type=Path, default=RESULTS / "answer_quality.json")
    ap.add_argument("--steps", default="", help="LLM steps to measure on: hyde,decompose,rewrite")
    args = ap.parse_args()
    names = [c.strip() for c in args.corpora.split(",") if c.strip()]
    questions = load(names)
    if args.limit:
        questions = [q for n in names for q in [x for x in questions if x["corpus"] == n][
            : args.limit]]  # fmt: skip
    doc: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "corpora": names,
        "questions": len(questions),
        "answerable": sum(q["answerable"] for q in questions),
        "unanswerable": sum(not q["answerable"] for q in questions),
        "models": {},
    }
    previous = json.loads(args.out.read_text()) if args.out.exists() else {}
    for model in [m.strip() for m in args.models.split(",") if m.strip()]:
        print(f"== {model}", flush=True)
        doc["models"][model] = run_model(model, questions)
        for step in [x.strip() for x in args.steps.split(",") if x.strip()]:
            print(f"== {model} +{step}", flush=True)
            doc["models"][f"{model} +{step}"] = run_model(model, questions, step)
    for model, kept in previous.get("models", {}).items():  # models not re-run stay
        doc["models"].setdefault(model, kept)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n")
    args.out.with_suffix(".md").write_text(markdown(doc))
    print(markdown(doc))


if __name__ == "__main__":
    main()
