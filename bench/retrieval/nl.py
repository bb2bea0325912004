"""Natural-language retrieval benchmark: users' questions, scored by the files they need.

The query sets in ``bench/retrieval/nl/<corpus>.jsonl`` were written by reading each corpus's
code (not mined from its docstrings): per corpus 7 how-it-works questions ("architecture"),
7 what/where questions ("semantic") and 6 symbol lookups ("symbol"), each with the files that
implement the answer ("primary") and files that help ("secondary"). The corpora are the
original sources, docs and comments left in (``bench/.cache/retrieval/src``): the six of the
span benchmark plus flask and express, five languages.

Score: NDCG@10 where each primary file earns gain 1 and each secondary file 0.5, once, at the
rank of the first hit inside it (file-credit, as semble's benchmark scores); the ideal puts the
primaries first. Also file Recall@10 of the primaries. The headline is the mean over corpora.
Splits: inside each corpus and category the questions alternate dev, test (a01 dev, a02 test,
...); tune on dev only.

Usage: python bench/retrieval/nl.py [--split dev|test|all] [--corpora a,b] [--runs chunk,file]
Results: ``bench/results/retrieval_nl.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
for p in (str(HERE), str(ROOT)):
    if p not in sys.path:
        sys.path.insert(0, p)

import corpora  # noqa: E402

from app.retrieval.models import SearchOptions  # noqa: E402

SETS = HERE / "nl"
RESULTS = HERE.parent / "results"
HOME = corpora.CACHE / "home-nl"
K = 10
CATEGORIES = ("architecture", "semantic", "symbol")
EXTRA = (
    corpora.Corpus("flask", "python", "pypi", "flask", "3.0.3", "flask-3.0.3/src", ("flask",),
                   why="Web framework: app, blueprints, request context, sessions, templating."),
    corpora.Corpus("express", "javascript", "npm", "express", "4.21.1", "package", ("lib",),
                   why="Node web framework: router, layers, request/response helpers."),
)  # fmt: skip
CORPORA = {c.name: c for c in (*corpora.MANIFEST, *EXTRA)}
FULL = corpora.CACHE / "full"
"""Whole trees as users have them (``--full``): tests, docs, README, built bundles."""
FULL_ROOTS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "click": ("click-8.1.7", "src/", ()),
    "requests": ("requests-2.32.3", "src/", ()),
    "flask": ("flask-3.0.3", "src/", ()),
    "axios": ("package", "", ()),
    "express": ("package", "", ()),
    "rxjs": ("package", "src/", ("dist",)),
    "cobra": ("usr/share/gocode/src/github.com/spf13/cobra", "", ()),
    "serde_json": ("usr/share/cargo/registry/serde_json-1.0.87", "", ()),
}
"""Per corpus: the folder of the unpacked archive that is the tree, the prefix the question
sets' paths get inside it, and top-level folders left out (rxjs's npm build output, which a
checkout does not have; axios commits its ``dist/`` bundles, so they stay)."""
RUNS: dict[str, SearchOptions] = {
    "bm25": SearchOptions(lanes=("lexical",), expand=False, rerank="none", group_by="chunk"),
    "chunk": SearchOptions(group_by="chunk"),
    "file": SearchOptions(group_by="file"),
    "auto": SearchOptions(group_by="auto"),
}
"""``chunk``: the pipeline with plain chunk order; ``file``: files by their evidence, one chunk
per file first; ``auto``: chunk order for symbol lookups, file order for questions."""


def load(name: str, full: bool = False) -> list[dict[str, Any]]:
    """Return the questions of corpus ``name`` with their split (paths of the whole tree when
    ``full``)."""
    rows = [json.loads(line) for line in (SETS / f"{name}.jsonl").read_text().splitlines()
            if line.strip()]  # fmt: skip
    if full:
        prefix = FULL_ROOTS[name][1]
        for row in rows:
            row["primary"] = [prefix + p for p in row["primary"]]
            row["secondary"] = [prefix + p for p in row.get("secondary", [])]
    seen: dict[str, int] = {}
    for row in sorted(rows, key=lambda r: r["id"]):
        n = seen[row["category"]] = seen.get(row["category"], 0) + 1
        row["split"] = "dev" if n % 2 else "test"
    return rows


def file_ndcg(paths: Sequence[str], primary: Sequence[str], secondary: Sequence[str],
              k: int = K) -> float:  # fmt: skip
    """NDCG@k of hit ``paths`` (best first): a target file counts once, at its first hit."""
    gains = {p: 0.5 for p in secondary} | {p: 1.0 for p in primary}
    dcg, credited = 0.0, set()
    for rank, path in enumerate(paths[:k], start=1):
        if path in gains and path not in credited:
            credited.add(path)
            dcg += gains[path] / math.log2(rank + 1)
    ideal = sorted(gains.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(r + 1) for r, g in enumerate(ideal, start=1))
    return dcg / idcg if idcg else 0.0


def recall(paths: Sequence[str], primary: Sequence[str], k: int = K) -> float:
    """Share of the primary files among the files of the top ``k`` hits."""
    top = set(paths[:k])
    return sum(p in top for p in primary) / len(primary) if primary else 0.0


def full_tree(name: str) -> Path:
    """Unpack corpus ``name``'s whole tree once into ``FULL/<name>``."""
    import shutil
    import tempfile

    target = FULL / name
    if (target / ".nl-full").exists():
        return target
    folder, _, skip = FULL_ROOTS[name]
    archive = corpora._download(CORPORA[name])
    with tempfile.TemporaryDirectory(dir=corpora.CACHE) as tmp:
        corpora._unpack(archive, Path(tmp))
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(Path(tmp) / folder, target, symlinks=True)
    for part in skip:
        shutil.rmtree(target / part, ignore_errors=True)
    (target / ".nl-full").write_text(CORPORA[name].version)
    return target


def searcher_for(name: str, full: bool = False) -> tuple[Any, dict[str, Any]]:
    """Index corpus ``name`` (incrementally, under its own home) and return a Searcher."""
    from app.retrieval.search import Searcher
    from app.services import Services
    from app.settings import Settings

    if full:
        root, home = full_tree(name), HOME.with_name("home-nl-full")
    else:
        corpora.fetch(CORPORA[name])
        root, home = corpora.SOURCES / name, HOME
    services = Services(root, Settings(home=home, progress=False))
    t0 = time.perf_counter()
    report = services.index()
    stats = {"files": report.files, "chunks": report.chunks,
             "index_s": round(time.perf_counter() - t0, 1)}  # fmt: skip
    return Searcher(services), stats


def score(search: Callable[[str], Sequence[str]], rows: Sequence[dict[str, Any]]) -> dict:
    """Per-question NDCG@10 and R@10 of a search function returning hit paths, best first."""
    out = []
    for row in rows:
        t0 = time.perf_counter()
        paths = list(search(row["query"]))
        ms = (time.perf_counter() - t0) * 1000
        ndcg = file_ndcg(paths, row["primary"], row.get("secondary", []))
        out.append({"id": row["id"], "category": row["category"], "split": row["split"],
                    "ndcg": ndcg, "recall": recall(paths, row["primary"]), "ms": ms,
                    "top": paths[:K]})  # fmt: skip
    return {"queries": out}


def summarise(per_corpus: dict[str, list[dict[str, Any]]], split: str) -> dict[str, Any]:
    """Mean over corpora of each corpus's mean, overall and per category, for ``split``."""

    def mean_of(pick: Callable[[dict[str, Any]], bool], key: str) -> float | None:
        means = []
        for rows in per_corpus.values():
            vals = [r[key] for r in rows if pick(r) and (split == "all" or r["split"] == split)]
            if vals:
                means.append(statistics.fmean(vals))
        return round(statistics.fmean(means), 3) if means else None

    out: dict[str, Any] = {"ndcg@10": mean_of(lambda r: True, "ndcg"),
                           "file_r@10": mean_of(lambda r: True, "recall")}  # fmt: skip
    for cat in CATEGORIES:
        out[cat] = mean_of(lambda r, c=cat: r["category"] == c, "ndcg")
    out["by_corpus"] = {
        name: round(statistics.fmean([r["ndcg"] for r in rows
                                      if split == "all" or r["split"] == split]), 3)
        for name, rows in per_corpus.items()
    }  # fmt: skip
    return out


def run(names: Sequence[str], runs: Sequence[str], full: bool = False) -> dict[str, Any]:
    """Index each corpus, search every question under each run, return the document."""
    meta = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "corpora": list(names),
            "k": K, "trees": "whole" if full else "source folders"}  # fmt: skip
    doc: dict[str, Any] = {"meta": meta, "corpora": {}, "runs": {}}
    per_run: dict[str, dict[str, list[dict[str, Any]]]] = {r: {} for r in runs}
    for name in names:
        searcher, stats = searcher_for(name, full)
        rows = load(name, full)
        doc["corpora"][name] = stats | {"language": CORPORA[name].language,
                                        "queries": len(rows)}  # fmt: skip
        for run_name in runs:
            options = RUNS[run_name]

            def search(q: str, o: SearchOptions = options, s: Any = searcher) -> list[str]:
                return [h.path for h in s.search(q, o)]

            per_run[run_name][name] = score(search, rows)["queries"]
            res = summarise({name: per_run[run_name][name]}, "all")
            print(f"{name} {run_name}: ndcg {res['ndcg@10']} {stats}", flush=True)
        searcher.reload()
    for run_name, per_corpus in per_run.items():
        doc["runs"][run_name] = {
            "dev": summarise(per_corpus, "dev"),
            "test": summarise(per_corpus, "test"),
            "all": summarise(per_corpus, "all"),
            "queries": per_corpus,
        }
    return doc


def markdown(doc: dict[str, Any]) -> str:
    """The tables of ``retrieval_nl.json``."""
    lines = [
        f"# Natural-language retrieval, file credit (k={doc['meta']['k']}; "
        f"{len(doc['corpora'])} corpora, {doc['meta'].get('trees', 'source folders')}; "
        "NDCG@10 mean over corpora)",
        "",
        "| run | split | NDCG@10 | architecture | semantic | symbol | file R@10 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for run_name, res in doc["runs"].items():
        for split in ("dev", "test"):
            s = res[split]
            lines.append(f"| {run_name} | {split} | {s['ndcg@10']} | {s['architecture']} | "
                         f"{s['semantic']} | {s['symbol']} | {s['file_r@10']} |")  # fmt: skip
    names = list(doc["corpora"])
    lines += ["", "NDCG@10 per corpus (dev + test):", "",
              "| run | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]  # fmt: skip
    for run_name, res in doc["runs"].items():
        cells = " | ".join(str(res["all"]["by_corpus"][n]) for n in names)
        lines.append(f"| {run_name} | {cells} |")
    lines += ["", "| corpus | language | files | chunks | questions |", "|---|---|---:|---:|---:|"]
    for name, c in doc["corpora"].items():
        lines.append(f"| {name} | {c['language']} | {c['files']} | {c['chunks']} | "
                     f"{c['queries']} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", default=",".join(sorted(p.stem for p in SETS.glob("*.jsonl"))))
    ap.add_argument("--runs", default="bm25,chunk,file,auto")
    ap.add_argument(
        "--full", action="store_true", help="whole trees (tests, docs, bundles), not sources"
    )
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    name = "retrieval_nl_full.json" if args.full else "retrieval_nl.json"
    args.out = args.out or RESULTS / name
    doc = run(args.corpora.split(","), args.runs.split(","), args.full)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    slim = {**doc, "runs": {k: {s: v[s] for s in ("dev", "test", "all")}
                            for k, v in doc["runs"].items()}}  # fmt: skip
    args.out.write_text(json.dumps(slim, indent=1) + "\n")
    args.out.with_name(args.out.stem + "_queries.json").write_text(
        json.dumps({k: v["queries"] for k, v in doc["runs"].items()}, indent=0) + "\n"
    )
    md = markdown(doc)
    args.out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
