"""Retrieval ladder: how much each stage of the search pipeline adds, on real code.

Usage:
    .venv/bin/python bench/retrieval/run.py [--split test|dev|all] [--corpora a,b]
        [--stages bm25,dense,hybrid,expand,rerank,by-file] [--fetch] [--make-queries]

``--fetch`` downloads the pinned corpora (skipping what is cached) and builds their
doc-stripped copies; ``--make-queries`` rebuilds ``sets/*.jsonl`` from the original sources.
Each corpus is indexed with coderag (incrementally, vectors cached under
``bench/.cache/retrieval/home``) and every query is searched once per stage with k=10.
Results: ``bench/results/retrieval.json`` (summary, per type, per query) and ``retrieval.md``.

For tuning scripts: ``evaluate(searcher_fn, queries)`` scores any search function.
"""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import corpora  # noqa: E402
import queries as query_sets  # noqa: E402

from app.eval import metrics  # noqa: E402
from app.eval.ladder import RUNGS, evaluate  # noqa: E402
from app.retrieval.models import SearchOptions  # noqa: E402

RESULTS = HERE.parent / "results"
K = 10
STAGES: dict[str, SearchOptions] = {
    "bm25": RUNGS["bm25"],
    "dense": RUNGS["dense"],
    "hybrid": RUNGS["hybrid"],
    "expand": RUNGS["+graph"],
    "rerank": RUNGS["+rerank"],
    "by-file": SearchOptions(group_by="file"),
    "auto": SearchOptions(group_by="auto"),
    "mmr": SearchOptions(group_by="chunk", mmr=0.7),
}
"""The ladder. ``rerank`` is the default pipeline (``SearchOptions()``); ``by-file`` adds
``--group-by file`` (one chunk per file first); ``auto`` chunk order for symbol lookups and
file order for questions; ``mmr`` reorders the reranked top by maximal
marginal relevance (``--mmr``)."""


EMBED_MODEL: str | None = None
"""The embedder to index and search with (``--embed-model``); None: the configured default."""


HOME_DIR: Path | None = None
"""CODERAG_HOME of the indexes when set (bench/embedders.py: a cold one per model)."""


def home() -> Path:
    """Return CODERAG_HOME of the indexes: one per embedder besides the default."""
    if HOME_DIR is not None:
        return HOME_DIR
    if EMBED_MODEL in (None, "minilm"):
        return corpora.HOME
    return corpora.CACHE / f"home-{Path(str(EMBED_MODEL)).name}"


def _searcher_class(spec: str) -> Any:
    module, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module), attr or "Searcher")


def _index(corpus: corpora.Corpus) -> tuple[Any, dict[str, Any]]:
    """Index the stripped copy of ``corpus`` (incrementally); return its Services and stats."""
    from app.services import Services
    from app.settings import Settings

    root = corpora.CORPORA / corpus.name
    if not root.is_dir():
        raise SystemExit(f"{root} is missing: run with --fetch first")
    extra = {"embed_model": EMBED_MODEL} if EMBED_MODEL else {}
    services = Services(root, Settings(home=home(), progress=False, **extra))
    started = time.perf_counter()
    report = services.index()
    stats: dict[str, Any] = {"index_s": round(time.perf_counter() - started, 1)}
    stats["lines"] = sum(
        len(p.read_text(encoding="utf-8").splitlines())
        for p in root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )
    for key in ("files", "chunks"):
        value = getattr(report, key, None)
        if isinstance(value, int):
            stats[key] = value
    return services, stats


def prepare(selected: list[corpora.Corpus], make_queries: bool) -> None:
    """Fetch sources, build stripped copies, and (optionally) rebuild the query sets."""
    from app.eval.strip import build_copy

    corpora.fetch_all(selected)
    for corpus in selected:
        stats = build_copy(corpora.SOURCES / corpus.name, corpora.CORPORA / corpus.name)
        print(f"{corpus.name}: stripped copy {stats}")
        if make_queries:
            records = query_sets.build(
                corpus.name,
                corpus.language,
                corpora.SOURCES / corpus.name,
                corpora.CORPORA / corpus.name,
            )
            print(
                f"{corpus.name}: {len(records)} queries -> {query_sets.write(corpus.name, records)}"
            )


def run(selected: list[corpora.Corpus], split: str, stages: list[str], searcher: str) -> dict:
    """Index each corpus, run every stage over its queries, and return the result document."""
    searcher_cls = _searcher_class(searcher)
    per_stage_rows: dict[str, list[dict[str, Any]]] = {s: [] for s in stages}
    corpus_info: dict[str, Any] = {}
    for corpus in selected:
        records = query_sets.load([corpus.name], split)
        services, stats = _index(corpus)
        engine = searcher_cls(services)
        corpus_info[corpus.name] = {
            "language": corpus.language, "package": corpus.package,
            "version": corpus.version, "queries": len(records), **stats,
        }  # fmt: skip
        print(f"{corpus.name}: {len(records)} queries, index {stats}", flush=True)
        for stage in stages:
            options = STAGES[stage]

            def search(
                text: str, options: SearchOptions = options, engine: Any = engine
            ) -> list[metrics.Hit]:
                return [(h.path, h.start_line, h.end_line) for h in engine.search(text, options)]

            search("warm up")  # model and catalogue load are not search latency
            result = evaluate(search, records)
            per_stage_rows[stage].extend(result["queries"])
            mean = result["summary"]["mean"]
            print(f"  {stage:7s} ndcg@10={mean['ndcg@10']:.3f} r@10={mean['r@10']:.3f} "
                  f"{result['latency_ms']} ms/query", flush=True)  # fmt: skip
    results: dict[str, Any] = {}
    for stage, rows in per_stage_rows.items():
        types = sorted({r["type"] for r in rows})
        results[stage] = {
            "summary": metrics.aggregate(rows),
            "by_type": {t: metrics.aggregate(r for r in rows if r["type"] == t) for t in types},
            "latency_ms": round(metrics.mean(r["ms"] for r in rows), 1),
        }
    return {
        "meta": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "split": split, "k": K, "searcher": searcher, "embed_model": EMBED_MODEL or "default",
            "python": platform.python_version(), "machine": platform.machine(),
        },
        "corpora": corpus_info,
        "stages": results,
        "queries": per_stage_rows,
    }  # fmt: skip


def to_json(doc: dict[str, Any]) -> str:
    """Serialise the result document, one line per query row to keep the file small."""
    head = {k: v for k, v in doc.items() if k != "queries"}
    text = json.dumps(head, indent=1)[:-2] + ',\n "queries": {'
    stages = []
    for stage, rows in doc["queries"].items():
        body = ",\n".join("   " + json.dumps(row, separators=(",", ":")) for row in rows)
        stages.append(f'\n  "{stage}": [\n{body}\n  ]')
    return text + ",".join(stages) + "\n }\n}\n"


def _fmt(value: float) -> str:
    return f"{value:.3f}"


def markdown(doc: dict[str, Any]) -> str:
    """Render the result document as the human-readable tables of ``retrieval.md``."""
    names = list(doc["corpora"])
    meta = doc["meta"]
    lines = [
        "# Retrieval ladder",
        "",
        f"Split `{meta['split']}`, k={meta['k']}, {meta['date']}, searcher `{meta['searcher']}`. "
        "NDCG@10 is span level; R@k and MRR@10 are file level; means are over corpora.",
        "",
        "| stage | " + " | ".join(names) + " | mean NDCG@10 | R@1 | R@5 | R@10 | MRR@10 | ms |",
        "|---|" + "---:|" * (len(names) + 6),
    ]
    for stage, res in doc["stages"].items():
        per = res["summary"]["per_corpus"]
        mean = res["summary"]["mean"]
        cells = [_fmt(per[n]["ndcg@10"]) if n in per else "-" for n in names]
        cells += [_fmt(mean[m]) for m in metrics.METRICS] + [str(res["latency_ms"])]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    types = sorted({t for res in doc["stages"].values() for t in res["by_type"]})
    lines += ["", "NDCG@10 by query type (mean over corpora):", ""]
    lines += ["| stage | " + " | ".join(types) + " |", "|---|" + "---:|" * len(types)]
    for stage, res in doc["stages"].items():
        cells = [_fmt(res["by_type"][t]["mean"]["ndcg@10"]) for t in types]
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += ["", "| corpus | language | version | queries | files | lines | chunks |"]
    lines.append("|---|---|---|---:|---:|---:|---:|")
    for name, info in doc["corpora"].items():
        lines.append(
            f"| {name} | {info['language']} | {info['package']} {info['version']} | "
            f"{info['queries']} | {info.get('files', '-')} | {info.get('lines', '-')} | "
            f"{info.get('chunks', '-')} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--split", choices=("test", "dev", "all"), default="test")
    parser.add_argument("--corpora", help="comma list (default: all)")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma list of stages")
    parser.add_argument("--fetch", action="store_true", help="download + build stripped copies")
    parser.add_argument("--make-queries", action="store_true", help="rebuild sets/*.jsonl")
    parser.add_argument(
        "--searcher", default="app.retrieval.search:Searcher", help="MODULE:CLASS to benchmark"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "retrieval.json")
    parser.add_argument(
        "--embed-model", help="minilm | mpnet | PATH (default: CODERAG_EMBED_MODEL or minilm)"
    )
    args = parser.parse_args(argv)
    global EMBED_MODEL
    EMBED_MODEL = args.embed_model
    selected = corpora.select(args.corpora)
    stages = args.stages.split(",")
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        parser.error(f"unknown stages: {', '.join(unknown)}")
    if args.fetch or args.make_queries:
        prepare(selected, args.make_queries)
    doc = run(selected, args.split, stages, args.searcher)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_json(doc))
    args.out.with_suffix(".md").write_text(markdown(doc))
    print(markdown(doc))


if __name__ == "__main__":
    main()
