"""Render an evaluation: a table (Markdown or terminal), the JSON document and PNG plots.

The result document (from :func:`app.eval.runner.run_eval`)::

    {"meta": {repo, date, k, machine, options, seconds, timings},
     "corpus": {files, chunks, ...}, "queries": {total, by_type, notes},
     "rungs": {name: {"summary": {"mean": {metric: value}, "per_corpus": ...},
                      "by_type": ..., "latency_ms", "p50_ms", "p95_ms", "queries": [rows]}},
     "llm": {queries, baseline_rung, baseline, skipped?} | null,
     "records": [the query set]}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.eval import ladder

COLUMNS = ("ndcg@10", "r@1", "r@5", "r@10", "mrr@10")
LABELS = {"ndcg@10": "NDCG@10", "r@1": "R@1", "r@5": "R@5", "r@10": "R@10", "mrr@10": "MRR@10"}


def rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return one row per rung: name, query count, metrics, latency (plus the LLM baseline)."""
    out = []
    for name, res in doc["rungs"].items():
        mean = res["summary"]["mean"]
        out.append({
            "rung": name, "n": int(mean.get("n", len(res.get("queries", [])))),
            **{m: float(mean[m]) for m in COLUMNS if m in mean},
            "p50_ms": res["p50_ms"], "p95_ms": res["p95_ms"],
        })  # fmt: skip
    llm = doc.get("llm") or {}
    if llm.get("baseline"):
        base = llm["baseline"]
        mean = base["summary"]["mean"]
        label = f"{llm['baseline_rung']} (same {int(mean.get('n', 0))})"
        row = {"rung": label, "n": int(mean.get("n", 0)), **{m: float(mean[m]) for m in COLUMNS}}
        out.append({**row, "p50_ms": base["p50_ms"], "p95_ms": base["p95_ms"]})
    return out


def markdown(doc: Mapping[str, Any]) -> str:
    """Return the ladder as a Markdown table with a one-line header."""
    meta, corpus, queries = doc["meta"], doc["corpus"], doc["queries"]
    types = ", ".join(f"{n} {t}" for t, n in sorted(queries["by_type"].items()))
    lines = [
        f"Retrieval on `{Path(meta['repo']).name}` ({corpus['files']} files, "
        f"{corpus['chunks']} chunks; docs stripped from {corpus['stripped_files']} files), "
        f"{queries['total']} queries ({types}), k={meta['k']}, {meta['date']}.",
        "NDCG@10 is span level; R@k and MRR@10 are file level.",
        "",
        "| rung | queries | " + " | ".join(LABELS[c] for c in COLUMNS) + " | p50 ms | p95 ms |",
        "|---|---:|" + "---:|" * (len(COLUMNS) + 2),
    ]
    for r in rows(doc):
        cells = [f"{r[c]:.3f}" for c in COLUMNS] + [f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}"]
        lines.append(f"| {r['rung']} | {r['n']} | " + " | ".join(cells) + " |")
    by_type = {
        name: {t: v["mean"]["ndcg@10"] for t, v in res["by_type"].items()}
        for name, res in doc["rungs"].items()
    }
    kinds = sorted({t for per in by_type.values() for t in per})
    if kinds:
        lines += ["", "NDCG@10 by query type:", ""]
        lines += ["| rung | " + " | ".join(kinds) + " |", "|---|" + "---:|" * len(kinds)]
        for name, per in by_type.items():
            cells = [f"{per[t]:.3f}" if t in per else "-" for t in kinds]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    llm = doc.get("llm") or {}
    if llm.get("skipped"):
        lines += ["", f"LLM rung skipped: {llm['skipped']}"]
    for note in queries.get("notes", []):
        lines.append(f"- note: {note}")
    return "\n".join(lines) + "\n"


def to_json(doc: Mapping[str, Any]) -> str:
    """Serialise the document: per-query rows and query records one line each (diffable)."""
    head = {k: v for k, v in doc.items() if k not in ("rungs", "records")}
    parts = [json.dumps(head, indent=1)[:-2]]
    rungs = []
    for name, res in doc["rungs"].items():
        top = {k: v for k, v in res.items() if k != "queries"}
        body = ",\n".join("    " + json.dumps(r, separators=(",", ":")) for r in res["queries"])
        top_text = json.dumps(top, separators=(",", ":"))[:-1]
        rungs.append(f'  {json.dumps(name)}: {top_text},\n   "queries": [\n{body}\n   ]}}')
    parts.append(',\n "rungs": {\n' + ",\n".join(rungs) + "\n }")
    records = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in doc["records"])
    parts.append(',\n "records": [\n' + records + "\n ]\n}\n")
    return "".join(parts)


def plot(doc: Mapping[str, Any], out: Path) -> list[Path]:
    """Draw ``eval.png`` (quality metrics per rung) and ``eval_latency.png``; return paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = rows(doc)
    names = [r["rung"] for r in table]
    repo = Path(doc["meta"]["repo"]).name
    out.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8), constrained_layout=True)
    xs = range(len(names))
    for ax, metric in zip(axes, ("ndcg@10", "mrr@10"), strict=False):
        values = [r[metric] for r in table]
        bars = ax.bar(xs, values, color=_colours(names))
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
        ax.set_title(LABELS[metric])
        _axis(ax, names)
    ax = axes[2]
    width = 0.27
    for i, metric in enumerate(("r@1", "r@5", "r@10")):
        ax.bar([x + (i - 1) * width for x in xs], [r[metric] for r in table], width,
               label=LABELS[metric])  # fmt: skip
    ax.set_title("file Recall@k")
    ax.legend(fontsize=8, loc="lower right")
    _axis(ax, names)
    fig.suptitle(f"coderag eval: {repo} ({doc['queries']['total']} queries)")
    quality = out / "eval.png"
    fig.savefig(quality, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
    p50 = [r["p50_ms"] for r in table]
    p95 = [r["p95_ms"] for r in table]
    ax.bar([x - 0.2 for x in xs], p50, 0.4, label="p50")
    ax.bar([x + 0.2 for x in xs], p95, 0.4, label="p95")
    ax.set_yscale("log")
    ax.set_ylabel("ms per query (log scale)")
    ax.set_title(f"coderag eval: {repo}, latency per rung")
    ax.legend()
    ax.set_xticks(list(xs), names, rotation=20, ha="right")
    latency = out / "eval_latency.png"
    fig.savefig(latency, dpi=110)
    plt.close(fig)
    return [quality, latency]


def _colours(names: list[str]) -> list[str]:
    return ["#c44e52" if n.startswith(ladder.LLM_RUNG) else "#4c72b0" for n in names]


def _axis(ax: Any, names: list[str]) -> None:
    ax.set_ylim(0, 1.05)
    ax.set_xticks(list(range(len(names))), names, rotation=20, ha="right")
    ax.grid(axis="y", alpha=0.3)


def write(doc: Mapping[str, Any], out: Path) -> dict[str, Path]:
    """Write ``eval.json``, ``eval.md`` and the plots under ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "eval.json", "markdown": out / "eval.md"}
    paths["json"].write_text(to_json(doc))
    paths["markdown"].write_text("# coderag eval\n\n" + markdown(doc))
    quality, latency = plot(doc, out)
    paths["plot"], paths["latency_plot"] = quality, latency
    return paths

