"""Scale curve: how index time, peak memory, index size and search time grow with the corpus.

Three nested corpora of real code (installed libraries' sources, each tier a superset of the
one before) of about 1k, 10k and 100k chunks are each indexed from nothing by ``coderag index
--json`` in a child process (wall time from process start, model loading included; peak RSS
from ``wait4``). Then a second child process opens the index once and times the same queries
(doc sentences and symbol names mined from the smallest tier, so every tier answers the same
questions) through three pipelines: BM25 only, hybrid (BM25 + dense + symbol + path lanes), and
the default (hybrid + call-graph expansion + the feature reranker).

Usage: python bench/scale_bench.py [--tiers 1k,10k,100k] [--force] [--search-only]
    [--partial PROC_JSON] [--compare-with CHECKOUT] [--rounds 2] [--results DIR]
``--partial`` records a tier whose index run was stopped while embedding (the 100k tier needs
about an hour of embedding on 2 quiet cores): index figures from the index and the run's last
/proc sample, searches with the dense lane over the vectors stored by then.
``--compare-with CHECKOUT`` (with ``--search-only``) also times another checkout's searches on
the same indexes, alternating with this one (e.g. ``git worktree add /tmp/old REV``).
Results: ``scale.json``, ``scale.md`` and ``scale.png`` in bench/results/. Each tier is written
as soon as it is done; a tier already in ``scale.json`` is skipped unless ``--force``.
Corpora and indexes are kept under ``bench/.cache/scale/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
CACHE = HERE / ".cache" / "scale"
RESULTS = HERE / "results"

#: Nested tiers: each adds libraries to the one before. Chunk counts are what MiniLM-window
#: chunking gives (recorded in the results); the names are the target sizes.
TIERS: dict[str, list[str]] = {
    "1k": ["click"],
    "10k": ["click", "rich", "jinja2", "langchain_core"],
    "100k": [
        "click", "rich", "jinja2", "langchain_core", "networkx", "sympy", "langchain_community",
    ],
}  # fmt: skip
ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
}


def package_dir(name: str) -> Path:
    """Return the source folder of the installed package ``name`` (found, not imported)."""
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"package {name!r} is not installed in this venv (run make venv)")
    return Path(next(iter(spec.submodule_search_locations)))


def build_corpus(tier: str) -> Path:
    """Copy the tier's libraries (sources only) to ``CACHE/<tier>/root`` once; return it."""
    dest = CACHE / tier / "root"
    done = dest / ".copied"
    if not done.exists():
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir(parents=True)
        for name in TIERS[tier]:
            shutil.copytree(
                package_dir(name),
                dest / name,
                ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.so.*", "*.dll", "*.a"),
            )
        done.write_text("\n".join(TIERS[tier]) + "\n")
    return dest


def run_measured(cmd: list[str], env: dict[str, str]) -> tuple[str, float, float, float]:
    """Run ``cmd``; return stdout, wall seconds, peak RSS MB and CPU seconds (``wait4``)."""
    started = time.perf_counter()
    with open(os.devnull, "rb") as devnull:
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdin=devnull, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert proc.stdout is not None and proc.stderr is not None
        import threading

        err_chunks: list[str] = []
        reader = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()))
        reader.start()
        out = proc.stdout.read()
        reader.join()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        tail = "".join(err_chunks)[-3000:]
        raise SystemExit(f"{' '.join(cmd[:5])} exited {proc.returncode}:\n{tail}")
    return out, seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def disk_mb(path: Path) -> dict[str, float]:
    """Return the index's size on disk in MB: total and per part."""
    parts: dict[str, float] = {}
    for item in path.iterdir():
        size = (
            sum(f.stat().st_size for f in item.rglob("*") if f.is_file())
            if item.is_dir()
            else item.stat().st_size
        )
        parts[item.name] = round(size / 2**20, 1)
    return {"total": round(sum(parts.values()), 1), "parts": parts}


def source_lines(root: Path) -> tuple[int, int]:
    """Return (files, lines) of the Python sources under ``root``."""
    files = lines = 0
    for f in root.rglob("*.py"):
        files += 1
        with open(f, "rb") as fh:
            lines += sum(1 for _ in fh)
    return files, lines


def index_tier(root: Path, index_dir: Path) -> dict[str, Any]:
    """Index ``root`` from nothing with ``coderag index --json``; return figures."""
    shutil.rmtree(index_dir, ignore_errors=True)
    env = {**os.environ, **ENV, "CODERAG_INDEX_DIR": str(index_dir)}
    cmd = [sys.executable, "-m", "app.cli.main", "index", str(root), "--json"]
    out, seconds, peak, cpu = run_measured(cmd, env)
    report = json.loads(out)
    return {
        "seconds": round(seconds, 1),
        "cpu_s": round(cpu, 1),
        "seconds_to_searchable": report.get("seconds_to_searchable"),
        "phases": report.get("seconds"),
        "peak_rss_mb": round(peak),
        "chunks": report.get("chunks"),
        "files": report.get("files"),
        "graph_nodes": report.get("graph_nodes"),
        "embedded": report.get("embedded"),
    }


def partial_index(index_dir: Path, proc: dict[str, Any]) -> dict[str, Any]:
    """Index figures of a run stopped while embedding, from its index and a /proc sample.

    The searchable time is read off the files: the saved code graph's modification time
    against the process start (``t - elapsed_s`` of the sample). ``paused_s``: time the run
    was stopped (SIGSTOP) for other measurements, taken off its wall time.
    """
    from app.index.stores.db import IndexDB

    db = IndexDB(index_dir / "index.db")
    try:
        stats = json.loads(db.get_meta("graph_stats") or "{}")
        stored = int(db.get_meta("vectors_stored") or 0)
        out = {
            "partial": True,
            "seconds": round(proc["elapsed_s"] - proc.get("paused_s", 0.0), 1),
            "paused_s": proc.get("paused_s", 0.0),
            "cpu_s": proc["cpu_s"],
            "seconds_to_searchable": round(
                (index_dir / "graph.pkl").stat().st_mtime - (proc["t"] - proc["elapsed_s"]), 1
            ),
            "peak_rss_mb": proc["peak_rss_mb"],
            "chunks": db.count("chunks"),
            "files": db.count("files"),
            "graph_nodes": stats.get("nodes"),
            "embedded": stored,
        }
    finally:
        db.close()
    return out


SEARCH_CODE = """
import json, statistics, sys, time
from pathlib import Path
from app.eval.ladder import percentile
from app.retrieval.models import SearchOptions
from app.retrieval.search import Searcher
from app.services import Services
from app.settings import Settings

root, index_dir, rounds = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
partial_dense = sys.argv[4] == "1"
queries = json.loads(sys.stdin.read())
stages = {
    "bm25": SearchOptions(lanes=("lexical",), expand=False, rerank="none", group_by="chunk"),
    "hybrid": SearchOptions(expand=False, rerank="none", group_by="chunk"),
    "default": SearchOptions(),
}
t = time.perf_counter()
services = Services(root, Settings(index_dir=index_dir, progress=False))
if partial_dense:  # an index stopped while embedding: search the vectors it stored
    import app.retrieval.search as search_mod
    model = services.embedder.model_id
    search_mod._vector_meta = lambda db: (model, "1")
searcher = Searcher(services)
searcher.search("warm up the models")
out = {"load_s": round(time.perf_counter() - t, 2), "degraded": searcher.degraded()}
for name, options in stages.items():
    times = []
    for _ in range(rounds):
        for q in queries:
            t = time.perf_counter()
            searcher.search(q, options)
            times.append((time.perf_counter() - t) * 1000)
    out[name] = {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "n": len(times),
    }
print(json.dumps(out))
"""


STAGES = ("bm25", "hybrid", "default")
"""The pipelines ``SEARCH_CODE`` times."""


def search_tier(
    root: Path,
    index_dir: Path,
    queries: list[str],
    rounds: int,
    partial: bool = False,
    code: Path = ROOT,
) -> dict[str, Any]:
    """Time the queries in one long-lived searcher (child process); return p50/p95 per stage.

    ``partial``: the index was stopped while embedding; the dense lane searches the vectors
    stored so far (the searcher would otherwise leave it out until embedding is done).
    ``code``: the checkout whose ``app`` package searches (another one: ``--compare-with``).
    """
    env = {**os.environ, **ENV}
    cmd = [sys.executable, "-c", SEARCH_CODE, str(root), str(index_dir), str(rounds),
           "1" if partial else "0"]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=code, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    out, err = proc.communicate(json.dumps(queries))
    if proc.returncode != 0:
        raise SystemExit(f"search child exited {proc.returncode}:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    result["wall_s"] = round(time.perf_counter() - started, 1)
    return dict(result)


def compare_search(
    root: Path, index_dir: Path, queries: list[str], rounds: int, other: Path, partial: bool
) -> dict[str, Any]:
    """Search p50/p95 of this checkout and of ``other`` on the same index, in one run.

    The two run alternately, twice each (this, other, this, other); each figure is the mean of
    its two runs, and ``ratio`` is other / this (above 1: this checkout is faster).
    """
    runs: dict[str, list[dict[str, Any]]] = {"now": [], "before": []}
    for _ in range(2):
        runs["now"].append(search_tier(root, index_dir, queries, rounds, partial))
        runs["before"].append(search_tier(root, index_dir, queries, rounds, partial, other))
    out: dict[str, Any] = {"before": git_revision(other), "now": git_revision(ROOT)}
    for stage in STAGES:
        fig = {
            side: {
                q: round(sum(r[stage][q] for r in rs) / len(rs), 1) for q in ("p50_ms", "p95_ms")
            }
            for side, rs in runs.items()
        }
        fig["ratio_p50"] = round(fig["before"]["p50_ms"] / fig["now"]["p50_ms"], 2)
        fig["ratio_p95"] = round(fig["before"]["p95_ms"] / fig["now"]["p95_ms"], 2)
        out[stage] = fig
    return out


def git_revision(path: Path) -> str:
    """Return ``path``'s checked-out commit (short hash), or ``"?"``."""
    got = subprocess.run(
        ["git", "-C", str(path), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return got.stdout.strip() or "?"


def compare_markdown(doc: dict[str, Any]) -> str:
    """Return the before/after search table (``--compare-with``), or ``""``."""
    cmp = doc.get("compare")
    if not cmp:
        return ""
    lines = [
        "Search before and after (same run, alternating), p50 / p95 ms; ratio = before / after.",
        "",
        "| tier | chunks | stage | commits | before | after | ratio p50 | ratio p95 |",
        "|---|---:|---|---|---:|---:|---:|---:|",
    ]
    for tier, got in cmp["tiers"].items():
        chunks = doc["tiers"].get(tier, {}).get("index", {}).get("chunks", "-")
        for stage in STAGES:
            f = got[stage]
            lines.append(
                f"| {tier} | {chunks} | {stage} | {got['before']} -> {got['now']} "
                f"| {f['before']['p50_ms']} / {f['before']['p95_ms']} "
                f"| {f['now']['p50_ms']} / {f['now']['p95_ms']} "
                f"| x{f['ratio_p50']} | x{f['ratio_p95']} |"
            )
    return "\n".join(lines) + "\n"


def search_peak_mb(root: Path, index_dir: Path, query: str) -> float:
    """Peak RSS of one ``coderag search`` process (models, index and graph loaded)."""
    env = {**os.environ, **ENV, "CODERAG_INDEX_DIR": str(index_dir)}
    cmd = [sys.executable, "-m", "app.cli.main", "search", query, "--repo", str(root), "--json",
           "--no-index"]  # fmt: skip
    _, _, peak, _ = run_measured(cmd, env)
    return round(peak)


def tier_queries(count: int) -> list[str]:
    """Doc sentences and symbol names mined from the smallest tier (the same for every tier)."""
    from search_speed import mined_queries

    nl, names = mined_queries(build_corpus(next(iter(TIERS))), count)
    return nl + names


def markdown(doc: dict[str, Any]) -> str:
    """Return the results as a Markdown table plus the observed growth."""
    lines = [
        f"# Scale curve ({doc['meta']['date']}, {doc['meta']['cores']} cores, "
        f"{doc['meta']['queries']} queries x {doc['meta']['rounds']} rounds)",
        "",
        "| tier | files | lines | chunks | index s | index CPU s | searchable s | chunks/s "
        "| index peak MB "
        "| disk MB | search peak MB | bm25 p50/p95 ms | hybrid p50/p95 ms | default p50/p95 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, t in doc["tiers"].items():
        idx, s = t["index"], t["search"]
        label = name
        if idx.get("partial"):
            label = f"{name} (index stopped: {idx['embedded']}/{idx['chunks']} embedded)"
        cells = [
            label, t["files"], t["lines"], idx["chunks"], idx["seconds"], idx.get("cpu_s", "-"),
            idx["seconds_to_searchable"],
            "-" if idx.get("partial") else round(idx["chunks"] / idx["seconds"], 1),
            idx["peak_rss_mb"], t["disk_mb"]["total"], t.get("search_peak_rss_mb", "-"),
            *(f"{s[k]['p50_ms']} / {s[k]['p95_ms']}" for k in STAGES),
        ]  # fmt: skip
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    growth = doc.get("growth")
    if growth:
        lines += ["", "Growth between the two largest tiers:", ""]
        lines += [f"- {k}: {v}" for k, v in growth.items()]
    compared = compare_markdown(doc)
    if compared:
        lines += ["", compared.rstrip()]
    return "\n".join(lines) + "\n"


def growth(doc: dict[str, Any]) -> dict[str, str]:
    """Ratios between the two largest tiers measured (the goal: flat search 10k -> 100k)."""
    tiers = sorted(doc["tiers"].values(), key=lambda t: t["index"]["chunks"])
    if len(tiers) < 2:
        return {}
    a, b = tiers[-2], tiers[-1]
    n = b["index"]["chunks"] / a["index"]["chunks"]
    out = {"chunks": f"x{n:.1f} ({a['index']['chunks']} -> {b['index']['chunks']})"}
    if b["index"].get("partial"):
        out["index time"] = (
            f"not comparable: the larger run was stopped with {b['index']['embedded']} of "
            f"{b['index']['chunks']} chunks embedded"
        )
    else:
        out["index time"] = f"x{b['index']['seconds'] / a['index']['seconds']:.1f}"
    if a["index"].get("cpu_s") and b["index"].get("cpu_s"):
        per_a = a["index"]["cpu_s"] / max(a["index"]["embedded"] or a["index"]["chunks"], 1)
        per_b = b["index"]["cpu_s"] / max(b["index"]["embedded"] or b["index"]["chunks"], 1)
        out["index CPU seconds per embedded chunk (parse and graph included)"] = (
            f"{per_a:.3f} -> {per_b:.3f}"
        )
    out["index peak RSS"] = f"x{b['index']['peak_rss_mb'] / a['index']['peak_rss_mb']:.2f}"
    out["disk"] = f"x{b['disk_mb']['total'] / a['disk_mb']['total']:.1f}"
    for k in STAGES:
        pa, pb = a["search"][k], b["search"][k]
        out[f"{k} search p50"] = (
            f"x{pb['p50_ms'] / pa['p50_ms']:.2f} ({pa['p50_ms']} -> {pb['p50_ms']} ms); "
            f"p95 x{pb['p95_ms'] / pa['p95_ms']:.2f}"
        )
    return out


def plot(doc: dict[str, Any], path: Path) -> None:
    """Draw the four curves (log-log) against chunk count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tiers = sorted(doc["tiers"].items(), key=lambda kv: kv[1]["index"]["chunks"])
    xs = [t["index"]["chunks"] for _, t in tiers]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
    ax = axes[0][0]
    ax.plot(xs, [t["index"]["seconds"] for _, t in tiers], "o-", label="full index, wall")
    ax.plot(xs, [t["index"].get("cpu_s", float("nan")) for _, t in tiers], "d-.",
            label="full index, CPU seconds")  # fmt: skip
    ax.plot(xs, [t["index"]["seconds_to_searchable"] for _, t in tiers], "s--",
            label="searchable (lexical, symbol, path, graph)")  # fmt: skip
    ax.set_title("index time from nothing (s)")
    ax.legend(fontsize=8)
    ax = axes[0][1]
    ax.plot(xs, [t["index"]["peak_rss_mb"] for _, t in tiers], "o-", label="index")
    ax.plot(xs, [t.get("search_peak_rss_mb", float("nan")) for _, t in tiers], "s--",
            label="search process")  # fmt: skip
    ax.axhline(4096, color="red", lw=0.8, ls=":", label="4 GB goal")
    ax.set_title("peak memory (MB)")
    ax.legend(fontsize=8)
    ax = axes[1][0]
    ax.plot(xs, [t["disk_mb"]["total"] for _, t in tiers], "o-")
    ax.set_title("index size on disk (MB)")
    ax = axes[1][1]
    for k, style in (("bm25", "o-"), ("hybrid", "s-"), ("default", "^-")):
        ax.plot(xs, [t["search"][k]["p50_ms"] for _, t in tiers], style, label=f"{k} p50")
        ax.plot(xs, [t["search"][k]["p95_ms"] for _, t in tiers], style.replace("-", ":"),
                alpha=0.6, label=f"{k} p95")  # fmt: skip
    ax.set_title("warm search time (ms per query)")
    ax.legend(fontsize=7, ncol=2)
    for row in axes:
        for ax in row:
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("chunks")
            ax.grid(True, which="both", lw=0.3)
    fig.suptitle(f"coderag scale curve ({doc['meta']['cores']} CPU cores)")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    """Index and search each tier; write the results after each."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiers", default=",".join(TIERS))
    ap.add_argument("--force", action="store_true", help="redo tiers already in scale.json")
    ap.add_argument("--search-only", action="store_true", help="reuse the kept indexes")
    ap.add_argument(
        "--partial",
        type=Path,
        metavar="PROC_JSON",
        help="record the tiers' kept indexes as a stopped index run left them; PROC_JSON holds "
        "that run's last /proc sample (elapsed_s, cpu_s, peak_rss_mb)",
    )
    ap.add_argument(
        "--compare-with",
        type=Path,
        metavar="CHECKOUT",
        help="also time the searches of another checkout (e.g. `git worktree add /tmp/old "
        "REV`) on the same indexes, alternating with this one; needs --search-only",
    )
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--queries", type=int, default=30, help="doc sentences and as many names")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    if args.compare_with and not args.search_only:
        ap.error("--compare-with needs --search-only (it times searches of the kept indexes)")
    out = args.results / "scale.json"
    doc: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {"tiers": {}}
    queries = tier_queries(args.queries)
    doc["meta"] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cores": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "queries": len(queries),
        "rounds": args.rounds,
        "tier_packages": TIERS,
    }
    for tier in args.tiers.split(","):
        if tier not in TIERS:
            ap.error(f"unknown tier {tier!r}; known: {', '.join(TIERS)}")
        if tier in doc["tiers"] and not (args.force or args.search_only):
            print(f"{tier}: already measured (--force to redo)", flush=True)
            continue
        root = build_corpus(tier)
        index_dir = CACHE / tier / "index"
        files, lines = source_lines(root)
        entry = dict(doc["tiers"].get(tier, {}))
        entry.update({"files": files, "lines": lines})
        if args.partial:
            entry["index"] = partial_index(index_dir, json.loads(args.partial.read_text()))
        elif not args.search_only or "index" not in entry:
            print(f"{tier}: indexing {files} files, {lines} lines ...", flush=True)
            entry["index"] = index_tier(root, index_dir)
            print(f"{tier}: {json.dumps(entry['index'])}", flush=True)
        entry["disk_mb"] = disk_mb(index_dir)
        partial = bool(entry["index"].get("partial"))
        entry["search"] = search_tier(root, index_dir, queries, args.rounds, partial)
        entry["search_peak_rss_mb"] = search_peak_mb(root, index_dir, queries[0])
        if args.compare_with:
            cmp = doc.setdefault("compare", {"tiers": {}})
            cmp["tiers"][tier] = compare_search(
                root, index_dir, queries, args.rounds, args.compare_with, partial
            )
        print(f"{tier}: search {json.dumps(entry['search'])}", flush=True)
        doc["tiers"][tier] = entry
        doc["tiers"] = dict(
            sorted(doc["tiers"].items(), key=lambda kv: kv[1]["index"]["chunks"])
        )
        doc["growth"] = growth(doc)
        args.results.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(doc, indent=2) + "\n")
        (args.results / "scale.md").write_text(markdown(doc))
        plot(doc, args.results / "scale.png")
    print(markdown(doc))


if __name__ == "__main__":
    main()
