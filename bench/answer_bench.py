"""The question graph with the embedded LLM: answer latency, LLM calls, citation verification,
and retrieval quality with vs without each LLM step (HyDE, decomposition, query rewrite).

Usage: python bench/answer_bench.py [--answers 20] [--retrieval-corpora requests,cobra,rxjs]
Needs the retrieval benchmark's corpora (``bench/retrieval/run.py --fetch``). Results:
bench/results/answers.json (+ .md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE / "retrieval"))

import corpora  # noqa: E402
import queries as query_sets  # noqa: E402
import run as ladder  # noqa: E402
from langgraph.checkpoint.memory import InMemorySaver  # noqa: E402

from app.answer import check_answer  # noqa: E402
from app.assistant import Assistant  # noqa: E402
from app.eval import metrics  # noqa: E402
from app.eval.ladder import graph_search_fn, percentile  # noqa: E402
from graphs import QuestionContext  # noqa: E402

RESULTS = HERE / "results"
BASE = QuestionContext(decompose=False, hyde=False, rewrite=False, max_context_retries=0, k=10)
STEPS: dict[str, QuestionContext] = {
    "no LLM steps": BASE,
    "+ HyDE": replace(BASE, hyde=True),
    "+ decompose": replace(BASE, decompose=True),
    "+ rewrite (weak context)": replace(BASE, rewrite=True, max_context_retries=1),
    "+ step-back": replace(BASE, step_back=True),
    "+ query expansion": replace(BASE, expand_query=True),
}


def llm_label() -> str:
    """The chat model the answers come from, as CODERAG_LLM names it (default: embedded)."""
    from app.llm.spec import parse_spec
    from app.settings import Settings

    spec = parse_spec(Settings().llm)
    return f"{spec.kind}:{spec.target}" if spec.target else spec.kind


def _assistant(corpus: corpora.Corpus) -> tuple[Assistant, Path]:
    services, _ = ladder._index(corpus)
    return Assistant(services, checkpointer=InMemorySaver()), services.root


def answers(selected: list[corpora.Corpus], per_corpus: int) -> dict[str, Any]:
    """Answer test-split questions end to end; time them and re-verify every citation."""
    rows = []
    for corpus in selected:
        assistant, root = _assistant(corpus)
        records = [
            r for r in query_sets.load([corpus.name], "test") if r["type"] in ("nl", "mixed")
        ][:per_corpus]
        callers = [r for r in query_sets.load([corpus.name], "test") if r["type"] == "symbol"]
        questions = [(r["query"], r["targets"]) for r in records]
        questions += [(f"who calls {r['query']}?", r["targets"]) for r in callers[:3]]
        assistant.ask("warm up: where is the main entry point?")
        indexed = assistant.searcher.indexed_paths()
        for text, targets in questions:
            started = time.perf_counter()
            res = assistant.ask(text)
            seconds = time.perf_counter() - started
            check = check_answer(res.answer, root, indexed=indexed)
            cited = [(c["path"], c["start_line"], c["end_line"]) for c in res.citations]
            rows.append(
                {
                    "corpus": corpus.name,
                    "question": text,
                    "seconds": round(seconds, 2),
                    "llm_calls": res.llm_calls,
                    "status": res.status,
                    "citations": len(res.citations),
                    "all_verified": not check.invalid and len(check.valid) == len(res.citations),
                    "cites_target": any(metrics.covers(h, t) for h in cited for t in targets),
                    "rejected_in_drafts": len(res.rejected),
                    "trace": res.trace,
                }
            )
            print(f"  {rows[-1]['seconds']:6.2f}s {res.status:11s} {text[:60]}", flush=True)
    secs = [r["seconds"] for r in rows]
    drafted = [r["seconds"] for r in rows if r["llm_calls"] > 0]
    answered = [r for r in rows if r["status"] == "answered"]
    return {
        "questions": len(rows),
        "p50_s": round(statistics.median(secs), 2),
        "p95_s": round(percentile(secs, 0.95), 2),
        "llm_questions": len(drafted),
        "llm_p50_s": round(statistics.median(drafted), 2) if drafted else None,
        "llm_p95_s": round(percentile(drafted, 0.95), 2) if drafted else None,
        "llm_calls_mean": round(statistics.fmean(r["llm_calls"] for r in rows), 2),
        "answered": len(answered),
        "all_citations_verified_share": round(
            sum(r["all_verified"] for r in answered) / max(len(answered), 1), 3
        ),
        "cites_a_target_share": round(sum(r["cites_target"] for r in rows) / len(rows), 3),
        "rows": rows,
    }


def retrieval(
    selected: list[corpora.Corpus], steps: list[str], limit: int = 0
) -> dict[str, Any]:
    """NDCG@10 of the evidence the graph gathers, with and without each LLM step (dev half).

    ``limit`` > 0 keeps that many queries per corpus (the first in file order).
    """
    out: dict[str, Any] = {}
    for name in steps:
        ctx = STEPS[name]
        per_query = []
        started = time.perf_counter()
        for corpus in selected:
            assistant, _ = _assistant(corpus)
            dev = query_sets.load([corpus.name], "dev")
            records = [r for r in dev if r["type"] in ("nl", "mixed", "file")]
            search = graph_search_fn(assistant, ctx)
            for r in records[:limit] if limit > 0 else records:
                hits = search(r["query"])
                per_query.append(
                    {"corpus": corpus.name, **metrics.score_query(hits, r["targets"])}
                )
        summary = metrics.aggregate(per_query)["mean"]
        out[name] = {
            "ndcg@10": round(summary["ndcg@10"], 4),
            "r@10": round(summary["r@10"], 4),
            "queries": len(per_query),
            "seconds_per_query": round((time.perf_counter() - started) / len(per_query), 2),
        }
        print(f"  {name}: {out[name]}", flush=True)
    return out


def main() -> None:
    """Run both parts and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--answers", type=int, default=8, help="nl/mixed questions per corpus")
    ap.add_argument("--answer-corpora", default="requests,click")
    ap.add_argument("--retrieval-corpora", default="requests,cobra,rxjs")
    ap.add_argument("--skip-retrieval", action="store_true")
    ap.add_argument("--steps", default=",".join(STEPS), help="comma list of STEPS names")
    ap.add_argument("--skip-answers", action="store_true")
    ap.add_argument("--retrieval-limit", type=int, default=0, help="queries per corpus (0: all)")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    results = args.results
    doc: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "llm": llm_label(),
    }
    previous = results / "answers.json"
    old = json.loads(previous.read_text()) if previous.exists() else {}
    doc["answers"] = (
        old.get("answers", {})
        if args.skip_answers
        else answers(corpora.select(args.answer_corpora), args.answers)
    )
    if args.skip_retrieval:
        if "retrieval_with_llm_steps" in old:
            doc["retrieval_with_llm_steps"] = old["retrieval_with_llm_steps"]
    else:
        steps = [s for s in args.steps.split(",") if s]
        doc["retrieval_with_llm_steps"] = {
            **old.get("retrieval_with_llm_steps", {}),
            **retrieval(corpora.select(args.retrieval_corpora), steps, args.retrieval_limit),
        }
    results.mkdir(parents=True, exist_ok=True)
    (results / "answers.json").write_text(json.dumps(doc, indent=1) + "\n")
    a = doc["answers"]
    lines = [f"# Answers with the embedded model ({doc['date']}, {doc['machine']})", ""]
    if a:  # --skip-answers with no earlier answers on file: only the retrieval part
        lines.append(
            f"{a['questions']} questions ({args.answer_corpora}, test half; nl/mixed + who-calls): "
            f"latency p50 {a['p50_s']} s, p95 {a['p95_s']} s; {a['llm_calls_mean']} LLM calls per "
            f"question; {a['answered']} answered, the rest said the code does not show it; "
            f"answers whose citations all verify: {a['all_citations_verified_share']:.0%}; "
            f"answers citing a target span: {a['cites_a_target_share']:.0%}."
        )
    if "retrieval_with_llm_steps" in doc:
        lines += [
            "",
            f"Evidence quality with vs without LLM steps ({args.retrieval_corpora}, dev half, "
            "nl/mixed/file queries, top 10 evidence chunks):",
            "",
            "| steps | NDCG@10 | file R@10 | s/query |",
            "|---|---:|---:|---:|",
        ]
        for name, row in doc["retrieval_with_llm_steps"].items():
            cells = f"{row['ndcg@10']:.3f} | {row['r@10']:.3f} | {row['seconds_per_query']}"
            lines.append(f"| {name} | {cells} |")
    (results / "answers.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
