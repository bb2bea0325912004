"""Tools that answer at once: MCP handshake on a cold repository, cold CLI search, and warm
search while another process indexes. One run, one machine; ratios are within the run.

Corpus: coderag's own tree at HEAD (``git archive``: ~300 files, ~8k chunks), the repository the
issue measured. Its index (real MiniLM vectors) is built once under
``bench/.cache/toolstart/home`` and reused.

1. **MCP handshake, cold.** A fresh copy of the tree and an empty coderag home: ``coderag mcp``
   is started by the MCP client library (``stdio_client``), which times ``initialize``, then
   ``tools/list``, then polls ``search_code`` until it answers (degraded while embedding) and
   reads ``index_status``. The server is then closed mid-embedding (the next start resumes).
2. **Cold CLI search.** Fresh ``coderag search Q --json`` processes on the indexed tree
   (median of ``--rounds``); beside them, the same command on the previous query path (torch
   embeds the query, Chroma's HNSW finds the neighbours), and whether both return the same
   top 10.
3. **Warm search while indexing.** One long-lived searcher, p50 over the queries with the
   machine quiet, then while ``coderag index`` embeds a fresh copy of the tree in another
   process.

Usage: python bench/tool_start.py [--rounds 5] [--results DIR]
Results: ``tool_start.json`` and ``tool_start.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

CACHE = HERE / ".cache" / "toolstart"
CODERAG = Path(sys.executable).with_name("coderag")
QUERIES = [
    "how does the indexer resume after a crash",
    "where are secrets masked before indexing",
    "how is the answer's citation checked against the file",
    "who calls rebuild_graph",
    "Searcher.search",
    "how are chunks cut to the embedder window",
    "where is the chat model chosen from settings",
    "how does the MCP server list its tools",
    "personalized pagerank over the call graph",
    "reciprocal rank fusion of the lanes",
    "what happens when the LLM server is unreachable",
    "IndexDB.lexical_search",
    "how does the REPL keep conversation threads",
    "where are tree-sitter grammars loaded",
    "how is a follow-up question condensed",
    "vector store rebuilt when unreadable",
    "how are Python imports resolved to modules",
    "which files are skipped as binary or minified",
    "the question graph's retry bound",
    "how are GGUF model parts joined",
]
OLD_PATH = (
    "import sys; import app.models.bert_numpy as b; b.supports = lambda path: False; "
    "from app.cli.main import main; sys.argv[0] = 'coderag'; main()"
)
"""``coderag`` on the previous query path: no NumPy query encoder (torch embeds the query)."""


def env(home: Path, **extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("CODERAG_")}
    out |= {"CODERAG_HOME": str(home), "CODERAG_PROGRESS": "false", **extra}
    return out


def tree_copy(dest: Path) -> Path:
    """Write coderag's tree at HEAD to ``dest`` (replaced)."""
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest


def indexed_tree() -> tuple[Path, Path, dict[str, Any]]:
    """The tree and its home, indexed with real vectors (built once)."""
    repo, home = CACHE / "repo", CACHE / "home"
    stamp = CACHE / "indexed.json"
    if not stamp.exists():
        tree_copy(repo)
        shutil.rmtree(home, ignore_errors=True)
        t0 = time.perf_counter()
        out = subprocess.run(
            [str(CODERAG), "index", str(repo), "--json"],
            env=env(home), capture_output=True, text=True, check=True,
        )  # fmt: skip
        report = json.loads(out.stdout)
        seconds = round(time.perf_counter() - t0, 1)
        figures = {"seconds": seconds, "files": report["files"], "chunks": report["chunks"]}
        stamp.write_text(json.dumps(figures))
    return repo, home, json.loads(stamp.read_text())


# ----------------------------------------------------------------------------- MCP
async def _mcp_session(repo: Path, home: Path, deadline: float) -> dict[str, Any]:
    import anyio
    from mcp import ClientSession, StdioServerParameters, stdio_client

    params = StdioServerParameters(
        command=str(CODERAG), args=["mcp", "--repo", str(repo)], env=env(home), cwd=str(repo)
    )
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    with anyio.fail_after(deadline), open(os.devnull, "w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                out["handshake_s"] = round(time.perf_counter() - t0, 3)
                tools = (await session.list_tools()).tools
                out["tools"] = len(tools)
                out["list_tools_s"] = round(time.perf_counter() - t0, 3)
                while True:
                    res = await session.call_tool("search_code", {"query": QUERIES[0], "k": 5})
                    text = res.content[0].text
                    if not res.is_error:
                        break
                    out.setdefault("first_replies", []).append(text[:160])
                    await anyio.sleep(0.5)
                out["first_search_s"] = round(time.perf_counter() - t0, 3)
                hits = json.loads(text)
                out["first_search_degraded"] = bool(hits and hits[0].get("degraded"))
                status = await session.call_tool("index_status", {})
                out["index_status"] = json.loads(status.content[0].text)
    out["closed_s"] = round(time.perf_counter() - t0, 3)
    return out


def mcp_cold(rounds: int) -> dict[str, Any]:
    import anyio

    runs = []
    with tempfile.TemporaryDirectory(prefix="toolstart-") as tmp:
        for i in range(rounds):
            repo = tree_copy(Path(tmp) / f"repo{i}")
            home = Path(tmp) / f"home{i}"
            runs.append(anyio.run(_mcp_session, repo, home, 300.0))
            print("mcp cold", {k: v for k, v in runs[-1].items() if k != "index_status"},
                  flush=True)  # fmt: skip
    return {
        "runs": runs,
        "handshake_s_median": statistics.median(r["handshake_s"] for r in runs),
        "first_search_s_median": statistics.median(r["first_search_s"] for r in runs),
    }


# ----------------------------------------------------------------------------- cold CLI
def cli_search(repo: Path, home: Path, query: str, old: bool) -> tuple[float, list[Any]]:
    args = ["search", query, "--repo", str(repo), "--json", "-k", "10"]
    cmd = [sys.executable, "-c", OLD_PATH, *args] if old else [str(CODERAG), *args]
    extra = {"CODERAG_DENSE_SEARCH": "chroma", "CODERAG_EMBED_PRECISION": "float32"} if old else {}
    t0 = time.perf_counter()
    out = subprocess.run(cmd, env=env(home, **extra), capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t0
    return seconds, [(h["path"], h["start_line"]) for h in json.loads(out.stdout)]


def cold_cli(repo: Path, home: Path, rounds: int) -> dict[str, Any]:
    new, old, same = [], [], 0
    for i in range(rounds):
        q = QUERIES[i % len(QUERIES)]
        s_new, hits_new = cli_search(repo, home, q, old=False)
        s_old, hits_old = cli_search(repo, home, q, old=True)
        new.append(s_new)
        old.append(s_old)
        same += hits_new == hits_old
        print(f"cold cli {s_new:.2f} s (before: {s_old:.2f} s) same top 10: "
              f"{hits_new == hits_old}", flush=True)  # fmt: skip
    med_new, med_old = statistics.median(new), statistics.median(old)
    return {"seconds": [round(x, 3) for x in new], "median_s": round(med_new, 3),
            "before_seconds": [round(x, 3) for x in old], "before_median_s": round(med_old, 3),
            "speedup_x": round(med_old / med_new, 2), "same_top10": f"{same}/{rounds}"}  # fmt: skip


# ----------------------------------------------------------------------------- warm
def warm_p50(searcher: Any, rounds: int = 2) -> tuple[float, float]:
    from app.eval.ladder import percentile

    times = []
    for _ in range(rounds):
        for q in QUERIES:
            t0 = time.perf_counter()
            searcher.search(q)
            times.append((time.perf_counter() - t0) * 1000)
    return round(percentile(times, 0.5), 1), round(percentile(times, 0.95), 1)


def warm_while_indexing(repo: Path, home: Path) -> dict[str, Any]:
    from app.retrieval.search import Searcher
    from app.services import Services
    from app.settings import Settings

    searcher = Searcher(Services(repo, Settings(home=home, progress=False)))
    searcher.search(QUERIES[0])  # load
    quiet = warm_p50(searcher)
    with tempfile.TemporaryDirectory(prefix="toolstart-busy-") as tmp:
        other = tree_copy(Path(tmp) / "repo")
        proc = subprocess.Popen(
            [str(CODERAG), "index", str(other), "-q"], env=env(Path(tmp) / "home"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(15)  # past parsing: embedding, the long part
            busy = warm_p50(searcher)
            still = proc.poll() is None
        finally:
            proc.kill()
            proc.wait()
    quiet2 = warm_p50(searcher)
    return {"quiet_p50_ms": quiet[0], "quiet_p95_ms": quiet[1], "busy_p50_ms": busy[0],
            "busy_p95_ms": busy[1], "quiet_after_p50_ms": quiet2[0],
            "indexer_still_running": still,
            "busy_over_quiet_x": round(busy[0] / min(quiet[0], quiet2[0]), 2)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--mcp-rounds", type=int, default=3)
    ap.add_argument("--results", type=Path, default=HERE / "results")
    args = ap.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    repo, home, corpus = indexed_tree()
    print("corpus", corpus, flush=True)
    doc: dict[str, Any] = {
        "meta": {"date": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
                 "corpus": corpus},  # fmt: skip
        "cold_cli": cold_cli(repo, home, args.rounds),
        "mcp_cold": mcp_cold(args.mcp_rounds),
        "warm": warm_while_indexing(repo, home),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "tool_start.json").write_text(json.dumps(doc, indent=2) + "\n")
    md = markdown(doc)
    (args.results / "tool_start.md").write_text(md)
    print(md)


def markdown(doc: dict[str, Any]) -> str:
    """The figures of ``tool_start.json`` (also used by bench/summarize.py)."""
    c, m, w = doc["cold_cli"], doc["mcp_cold"], doc["warm"]
    corpus = doc["meta"]["corpus"]
    status = m["runs"][0]["index_status"]
    return "\n".join([
        f"# Tools that answer at once (coderag's own tree; cold CLI and warm search on its "
        f"index of {corpus['files']} files, {corpus['chunks']} chunks; {doc['meta']['cpus']} "
        "CPUs; one run)",
        "",
        "| what | now | before (same run) | goal |",
        "|---|---:|---:|---:|",
        f"| MCP handshake, cold repository ({status.get('chunks')} chunks; median of "
        f"{len(m['runs'])}) | "
        f"{m['handshake_s_median']:.2f} s | > 11 min (issue 20) | <= 2 s |",
        f"| first search_code answer, cold repository | {m['first_search_s_median']:.2f} s | "
        "(after the whole index) | |",
        f"| cold `coderag search --json` (median of {len(c['seconds'])}) | {c['median_s']:.2f} s "
        f"| {c['before_median_s']:.2f} s (torch query, Chroma) | <= 1.5 s |",
        f"| warm search p50 while another process indexes | {w['busy_p50_ms']} ms "
        f"({w['busy_over_quiet_x']}x quiet {w['quiet_p50_ms']} ms) | 510 ms vs 35-50 ms "
        "(issue 20) | <= 2x quiet |",
        "",
        f"Same top 10 on both query paths: {c['same_top10']} queries. The first cold search "
        f"answered {'degraded' if m['runs'][0]['first_search_degraded'] else 'complete'}; "
        f"index_status then: state {status.get('state')}, vectors {status.get('vectors')}/"
        f"{status.get('chunks')}.",
        "",
    ])


if __name__ == "__main__":
    main()
