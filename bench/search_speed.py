"""Search latency on a real 10k+-chunk index: warm p50/p95 per pipeline stage, and the cold CLI.

Usage: python bench/search_speed.py [--rounds 2] [--root DIR --index-dir DIR] [--results DIR]
With ``--root``/``--index-dir`` (an index bench/index_bench.py kept with ``--keep``) the queries
are mined from that code: doc sentences of its symbols and their names. Otherwise the corpus
is the installed networkx package (tests included: about 14.5k chunks), copied to
bench/.cache/speed/networkx and indexed once with real MiniLM vectors (cached afterwards).
"Warm" means one long-lived Searcher whose models and catalogue are loaded; every query is new
to it in the first round. "Cold CLI" is a fresh ``coderag search ... --json`` process, model
load and the incremental index check included. No cross-encoder. Results:
bench/results/search_speed.json (+ .md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from app.eval.ladder import percentile  # noqa: E402
from app.retrieval.models import SearchOptions  # noqa: E402
from app.retrieval.search import Searcher  # noqa: E402
from app.services import Services  # noqa: E402
from app.settings import Settings  # noqa: E402

CACHE = HERE / ".cache" / "speed"
RESULTS = HERE / "results"
NL_QUERIES = [
    "shortest path between two nodes with weights",
    "compute pagerank of a directed graph",
    "find connected components of an undirected graph",
    "maximum flow minimum cut",
    "read a graph from an edge list file",
    "check whether a graph is bipartite",
    "minimum spanning tree algorithm",
    "topological sort of a DAG",
    "betweenness centrality for nodes",
    "detect cycles in a directed graph",
    "write graph to GraphML",
    "random graph generator with given degree sequence",
    "isomorphism test between two graphs",
    "community detection by modularity",
    "draw a graph with matplotlib",
    "how are node attributes stored",
    "convert a graph to a numpy adjacency matrix",
    "all pairs shortest path lengths",
    "k-core decomposition",
    "clustering coefficient of a node",
    "eulerian circuit",
    "relabel nodes of a graph",
    "subgraph view filtered by nodes",
    "dijkstra with a heap",
    "A* search heuristic",
    "strongly connected components tarjan",
    "line graph of a graph",
    "graph coloring greedy strategy",
    "maximal matching in bipartite graph",
    "degree histogram",
]
SYMBOL_QUERIES = [
    "DiGraph",
    "add_edge",
    "pagerank",
    "shortest_path",
    "MultiDiGraph",
    "connected_components",
    "read_edgelist",
    "is_bipartite",
    "minimum_spanning_tree",
    "topological_sort",
    "betweenness_centrality",
    "find_cycle",
    "write_graphml",
    "configuration_model",
    "is_isomorphic",
    "louvain_communities",
    "draw_networkx",
    "to_numpy_array",
    "all_pairs_shortest_path_length",
    "k_core",
    "clustering",
    "eulerian_circuit",
    "relabel_nodes",
    "subgraph_view",
    "dijkstra_path",
    "astar_path",
    "strongly_connected_components",
    "line_graph",
    "greedy_color",
    "maximal_matching",
]
STAGES = {
    "bm25": SearchOptions(lanes=("lexical",), expand=False, rerank="none", group_by="chunk"),
    "dense": SearchOptions(lanes=("dense",), expand=False, rerank="none", group_by="chunk"),
    "hybrid": SearchOptions(expand=False, rerank="none", group_by="chunk"),
    "full": SearchOptions(),
}


def corpus() -> Path:
    """Copy the installed networkx once; return its folder."""
    import networkx

    dest = CACHE / "networkx"
    if not dest.is_dir():
        src = Path(networkx.__file__).parent
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    return dest


def mined_queries(root: Path, count: int = 30) -> tuple[list[str], list[str]]:
    """Return ``count`` doc sentences and ``count`` symbol names of the code under ``root``."""
    import random

    from app.eval.mining import candidates
    from app.index.languages import CODE_LANGUAGES
    from app.index.walker import walk

    languages = sorted({f.language for f in walk(root).files} & CODE_LANGUAGES)
    found = [c for lang in languages for c in candidates(root, root, lang) if c.public]
    rng = random.Random(20261123)
    sentences = sorted({c.sentence for c in found if c.sentence})
    names = sorted({c.symbol.name for c in found if len(c.symbol.name) >= 4})
    rng.shuffle(sentences)
    rng.shuffle(names)
    return sentences[:count], names[:count]


def warm(
    services: Services, rounds: int, queries: list[str] | None = None
) -> dict[str, dict[str, float]]:
    """Time every stage over every query in one long-lived Searcher."""
    searcher = Searcher(services)
    started = time.perf_counter()
    searcher.search("warm up the models")
    load_s = time.perf_counter() - started
    out: dict[str, dict[str, float]] = {"load": {"seconds": round(load_s, 2)}}
    queries = queries or NL_QUERIES + SYMBOL_QUERIES
    for name, options in STAGES.items():
        for r in range(rounds):
            times: list[float] = []
            for q in queries:
                t = time.perf_counter()
                searcher.search(q, options)
                times.append((time.perf_counter() - t) * 1000)
            key = name if r == 0 else f"{name} (repeat {r})"
            out[key] = {
                "p50_ms": round(statistics.median(times), 1),
                "p95_ms": round(percentile(times, 0.95), 1),
                "mean_ms": round(statistics.fmean(times), 1),
                "n": len(times),
            }
    return out


def cold_cli(root: Path, env_extra: dict[str, str], query: str, runs: int = 3) -> dict:
    """Time fresh ``coderag search`` processes (model load and index check included)."""
    env = {**os.environ, **env_extra}
    cmd = [sys.executable, "-m", "app.cli.main", "search", query, "--repo", str(root)]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([*cmd, "--json"], check=True, capture_output=True, env=env, cwd=ROOT)
        times.append(time.perf_counter() - t)
    return {"median_s": round(statistics.median(times), 2), "runs": runs}


def main() -> None:
    """Index (cached), then measure and write the results."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=2, help="passes over the queries per stage")
    ap.add_argument("--root", type=Path, help="code to search (default: networkx)")
    ap.add_argument("--index-dir", type=Path, help="its index (with --root)")
    ap.add_argument("--name", help="the corpus's name in the results (default: --root's)")
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args()
    if args.root:
        root, name = args.root.resolve(), args.name or args.root.resolve().name
        settings = Settings(index_dir=args.index_dir, progress=False)
        env_extra = {"CODERAG_INDEX_DIR": str(args.index_dir)}
        nl, symbols = mined_queries(root)
        queries: list[str] | None = nl + symbols
        cold_query = nl[0] if nl else "main entry point"
    else:
        root, name = corpus(), "networkx"
        settings = Settings(home=CACHE / "home", progress=False)
        env_extra = {"CODERAG_HOME": str(CACHE / "home")}
        queries, cold_query = None, "shortest path"
    services = Services(root, settings)
    t = time.perf_counter()
    report = services.index()
    index_s = time.perf_counter() - t
    doc = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "corpus": {"name": name, "files": report.files, "chunks": report.chunks},
        "index_update_s": round(index_s, 1),
        "warm": warm(services, args.rounds, queries),
        "cold_cli": cold_cli(root, env_extra, cold_query, args.cold_runs),
    }
    results = args.results
    results.mkdir(parents=True, exist_ok=True)
    (results / "search_speed.json").write_text(json.dumps(doc, indent=2) + "\n")
    lines = [
        f"# Search speed ({doc['date']}, {doc['machine']})",
        "",
        f"{name}: {report.files} files, {report.chunks} chunks; "
        f"model + catalogue load {doc['warm']['load']['seconds']} s; "
        f"cold CLI call {doc['cold_cli']['median_s']} s (median of {args.cold_runs}).",
        "",
        "| stage | p50 ms | p95 ms | mean ms | queries |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in doc["warm"].items():
        if name != "load":
            lines.append(
                f"| {name} | {row['p50_ms']} | {row['p95_ms']} | {row['mean_ms']} | {row['n']} |"
            )
    (results / "search_speed.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
