"""Regenerate ``summary.md`` (and the README's "How good is it?" section) from the JSON results.

Usage: python bench/summarize.py [--results DIR] [--readme]
Every figure comes from the JSON files the benchmark steps wrote; nothing is typed by hand.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
RESULTS = HERE / "results"
README = HERE.parent / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _load(results: Path, name: str) -> dict[str, Any]:
    path = results / name
    return json.loads(path.read_text()) if path.exists() else {}


def _retrieval_md(doc: dict[str, Any]) -> str:
    sys.path.insert(0, str(HERE / "retrieval"))
    import run as ladder

    return ladder.markdown(doc).split("\n", 1)[1].strip()


def _pycg(pycg: dict[str, Any]) -> list[str]:
    if pycg.get("skipped"):
        return ["## PyCG micro-benchmark (call graph)", "", f"Skipped: {pycg['skipped']}."]
    lines = ["## PyCG micro-benchmark (call graph)", "", pycg.get("reference", ""), ""]
    lines += ["| mode | precision | recall | exact |", "|---|---|---|---|"]
    for mode in ("internal_only", "raw"):
        sc = pycg.get(mode, {}).get("scores", {})
        if sc:
            m = sc["micro"]
            lines.append(
                f"| {mode} | {m['precision']:.3f} | {m['recall']:.3f} | "
                f"{sc['exact']}/{sc['cases']} |"
            )
    return lines


def _index(idx: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    if idx.get("cold"):
        c = idx["cold"]
        sample = c.get("bare_sample", 1.0)
        lines += [
            f"## Cold indexing ({c['packages']}: {c['files']} files, {c['chunks']} chunks)",
            "",
            f"- index: {c['index_seconds']} s, {c['index_chunks_per_s']} chunks/s; bare "
            f"SentenceTransformer.encode on {sample:.0%} of the same texts, same run: "
            f"{c['bare_chunks_per_s']} chunks/s; ratio {c.get('throughput_ratio')}",
            f"- phases (s): {c['phases']}",
            f"- peak RSS of the indexing process: {c['peak_rss_mb']} MB",
            "",
        ]
    if idx.get("reindex"):
        r = idx["reindex"]
        lines += [
            f"## Re-index ({r['packages']}: {r['files']} files, {r['chunks']} chunks)",
            "",
            f"- no-op re-index: {r['noop_seconds']} s ({r['noop_phases']})",
            f"- one file changed: {r['one_changed_seconds']} s ({r['one_changed_phases']}), "
            f"{r['one_changed_embedded']} chunks embedded",
            "",
        ]
    return lines


def _search(doc: dict[str, Any]) -> list[str]:
    c = doc["corpus"]
    lines = [
        "## Search speed",
        "",
        f"{c['name']}: {c['files']} files, {c['chunks']} chunks; model + catalogue load "
        f"{doc['warm']['load']['seconds']} s; cold CLI call (new process: model load, index "
        f"check, search) {doc['cold_cli']['median_s']} s (median of {doc['cold_cli']['runs']}).",
        "",
        "| stage (warm) | p50 ms | p95 ms | mean ms | queries |",
        "|---|---:|---:|---:|---:|",
    ]
    for name, row in doc["warm"].items():
        if name != "load":
            lines.append(
                f"| {name} | {row['p50_ms']} | {row['p95_ms']} | {row['mean_ms']} | {row['n']} |"
            )
    return lines


def _model(doc: dict[str, Any]) -> str:
    """The chat model an answers run used (runs before 12-06 name SmolLM2 in prose)."""
    llm = str(doc.get("llm", ""))
    return "embedded SmolLM2-135M" if not llm or "SmolLM2" in llm else llm


def _answer_quality(doc: dict[str, Any]) -> list[str]:
    lines = ["## Answer correctness (bench/answer_quality.py)", ""]
    lines.append(
        f"{doc['questions']} questions written from the code of {', '.join(doc['corpora'])} "
        f"({doc['answerable']} answerable, {doc['unanswerable']} about features the code does "
        f"not have), {doc['date']}."
    )
    lines += [
        "",
        "| model | correct | key fact stated | gold file cited | abstained | citations valid | "
        "p50 s | p95 s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for model, m in doc.get("models", {}).items():
        cells = " | ".join(
            f"{m[k]['n']} / {m[k]['of']}"
            for k in ("correct", "fact_stated", "gold_cited", "abstained", "citations_valid")
        )
        lines.append(f"| {model} | {cells} | {m['p50_s']} | {m['p95_s']} |")
    return lines


def _answers(doc: dict[str, Any]) -> list[str]:
    a = doc.get("answers", {})
    lines = [f"## Answers ({_model(doc)})", ""]
    if a:
        lines.append(
            f"{a['questions']} questions: latency p50 {a['p50_s']} s, p95 {a['p95_s']} s"
            + (
                f" (the {a['llm_questions']} drafted by the LLM: p50 {a['llm_p50_s']} s, "
                f"p95 {a['llm_p95_s']} s; the others come from the code graph); "
                if a.get("llm_questions")
                else "; "
            )
            + f"{a['llm_calls_mean']} LLM calls per question; {a['answered']} answered; answers "
            f"whose citations all verify: {a['all_citations_verified_share']:.0%}; answers "
            f"citing a target span: {a['cites_a_target_share']:.0%}."
        )
    steps = doc.get("retrieval_with_llm_steps")
    if steps:
        lines += [
            "",
            "Evidence quality with vs without the LLM steps (dev half, nl/mixed/file queries):",
            "",
            "| steps | NDCG@10 | file R@10 | queries | s/query |",
            "|---|---:|---:|---:|---:|",
        ]
        for name, row in steps.items():
            lines.append(
                f"| {name} | {row['ndcg@10']:.3f} | {row['r@10']:.3f} | {row['queries']} | "
                f"{row['seconds_per_query']} |"
            )
    return lines


def _memory(doc: dict[str, Any]) -> list[str]:
    lines = ["## Memory (peak RSS)", ""]
    if doc.get("index"):
        i = doc["index"]
        lines.append(f"- indexing {i['packages']} ({i['chunks']} chunks): {i['peak_rss_mb']} MB")
    if doc.get("chat"):
        c = doc["chat"]
        lines.append(
            f"- a chat session ({c['questions']} questions, embedded LLM, {c['seconds']} s): "
            f"{c['peak_rss_mb']} MB"
        )
    return lines


def _suite(doc: dict[str, Any]) -> list[str]:
    m = doc.get("machine", {})
    lines = [
        "## Run",
        "",
        f"Mode {doc.get('mode')}, {doc.get('date')}; total {doc.get('seconds', '?')} s; "
        f"Python {m.get('python')}, {m.get('cpus')} CPUs, {m.get('platform')}; "
        f"versions {m.get('versions')}.",
        "",
        "| step | seconds | exit | peak RSS MB |",
        "|---|---:|---:|---:|",
    ]
    for name, row in doc.get("steps", {}).items():
        lines.append(f"| {name} | {row['seconds']} | {row['exit']} | {row['peak_rss_mb']} |")
    return lines


def _first_search(doc: dict[str, Any]) -> list[str]:
    if not doc.get("variants"):
        return []
    import first_search

    return ["## " + first_search.markdown(doc).lstrip("# ").rstrip()]


def _scale(doc: dict[str, Any]) -> list[str]:
    if not doc.get("tiers"):
        return []
    import scale_bench

    body = scale_bench.markdown(doc).lstrip("# ").rstrip()
    return ["## " + body, "", "Plot: `scale.png`."]


def _embedders(doc: dict[str, Any]) -> list[str]:
    import embedders

    return ["## " + embedders.markdown(doc).lstrip("# ").rstrip()]


def _embed(doc: dict[str, Any]) -> list[str]:
    lines = [
        f"## Embedding throughput ({doc['model']}, {doc['chunks']} chunk texts, {doc['device']}, "
        f"{doc['torch_threads']} torch threads, {doc['clock']})",
        "",
        f"Bare `SentenceTransformer.encode` (batch 32): {doc['bare_chunks_per_s']} chunks/s.",
        "",
        "| variant | chunks/s | vs bare | min cosine vs bare | note |",
        "|---|---:|---:|---:|---|",
    ]
    for r in doc["variants"]:
        if "error" in r:
            lines.append(f"| {r['variant']} | - | - | - | {r['error']} |")
            continue
        lines.append(
            f"| {r['variant']} | {r['chunks_per_s']} | x{r['ratio_to_bare']} "
            f"| {r.get('min_cosine_vs_bare', '-')} | {r.get('note', '')} |"
        )
    return lines


def _onnx(doc: dict[str, Any]) -> list[str]:
    import onnx_bench

    return ["## " + onnx_bench.markdown(doc).lstrip("# ").rstrip()]


def _tool_start(doc: dict[str, Any]) -> list[str]:
    import tool_start

    return ["## " + tool_start.markdown(doc).lstrip("# ").rstrip()]


def _embed_variants(doc: dict[str, Any]) -> list[str]:
    import embed_variants

    return ["## " + embed_variants.markdown(doc).lstrip("# ").rstrip()]


def _retrieval_nl(doc: dict[str, Any]) -> list[str]:
    sys.path.insert(0, str(HERE / "retrieval"))
    import nl

    return ["## " + nl.markdown(doc).lstrip("# ").rstrip()]


def summary(results: Path) -> str:
    """Return ``summary.md`` for the JSON files in ``results``."""
    lines = ["# Benchmark results (generated by bench/summarize.py from the JSON files)", ""]
    parts = (
        ("suite.json", _suite),
        ("pycg.json", _pycg),
        ("index.json", _index),
        ("memory.json", _memory),
        ("search_speed.json", _search),
        ("answers.json", _answers),
        ("answer_quality.json", _answer_quality),
        ("first_search.json", _first_search),
        ("scale.json", _scale),
        ("embed.json", _embed),
        ("embedders.json", _embedders),
        ("onnx.json", _onnx),
        ("tool_start.json", _tool_start),
        ("embed_variants.json", _embed_variants),
        ("retrieval_nl.json", _retrieval_nl),
    )
    for name, render in parts:
        doc = _load(results, name)
        if doc:
            lines += [*render(doc), ""]
    retrieval = _load(results, "retrieval.json")
    if retrieval:
        lines += ["## Retrieval ladder", "", _retrieval_md(retrieval), ""]
    return "\n".join(lines).rstrip() + "\n"


def write_summary(results: Path = RESULTS) -> Path:
    """Write ``summary.md`` into ``results``; return its path."""
    out = results / "summary.md"
    out.write_text(summary(results))
    return out


def readme_section(results: Path) -> str:
    """Return the README's generated "How good is it?" bullets."""
    lines: list[str] = []
    pycg = _load(results, "pycg.json")
    if pycg.get("internal_only"):
        i = pycg["internal_only"]["scores"]["micro"]
        r = pycg["raw"]["scores"]["micro"]
        lines.append(
            f"- **Call graph** (Python, PyCG micro-benchmark, {pycg['raw']['scores']['cases']} "
            f"cases): internal edges precision {i['precision']:.3f}, recall {i['recall']:.3f}; "
            f"all edges {r['precision']:.3f} / {r['recall']:.3f} (PyCG itself: 0.979 / 0.942 "
            "internal)."
        )
    ret = _load(results, "retrieval.json")
    if ret.get("stages"):
        st = ret["stages"]
        n = sum(c["queries"] for c in ret["corpora"].values())
        langs = sorted({c["language"] for c in ret["corpora"].values()})

        def nd(stage: str) -> str:
            return f"{st[stage]['summary']['mean']['ndcg@10']:.3f}" if stage in st else "-"

        lines.append(
            f"- **Retrieval** ({len(ret['corpora'])} real libraries in {', '.join(langs)}, docs "
            f"stripped, {n} held-out queries, span credit): NDCG@10 {nd('rerank')} for the full "
            f"pipeline in chunk order ({nd('by-file')} in the default file order, which this "
            f"span-level score penalises), against {nd('bm25')} for BM25 alone, {nd('dense')} "
            f"for dense alone and {nd('hybrid')} for the fused lanes; file Recall@10 "
            f"{st['rerank']['summary']['mean']['r@10']:.3f}." if "rerank" in st else ""
        )
    nl = _load(results, "retrieval_nl.json")
    if nl.get("runs"):
        runs, n = nl["runs"], sum(c["queries"] for c in nl["corpora"].values())
        langs = sorted({c["language"] for c in nl["corpora"].values()})

        def split(run: str, part: str) -> str:
            r = runs[run][part]
            return (f"{r['ndcg@10']} ({part}; architecture {r['architecture']}, semantic "
                    f"{r['semantic']}, symbol {r['symbol']})")  # fmt: skip

        lines.append(
            f"- **Retrieval, natural-language questions** ({n} questions written from the code "
            f"of {len(nl['corpora'])} repositories in {', '.join(langs)}, docs left in; file "
            f"credit): NDCG@10 {split('file', 'test')} with the default file order, against "
            f"{runs['chunk']['test']['ndcg@10']} in chunk order and "
            f"{runs['bm25']['test']['ndcg@10']} for BM25 alone; dev half {split('file', 'dev')} "
            "(`bench/results/retrieval_nl.md`)."
        )
        full = _load(results, "retrieval_nl_full.json")
        if full.get("runs"):
            fr = full["runs"]
            lines.append(
                f"  The same questions over the whole trees (tests, docs, changelogs, bundles): "
                f"test NDCG@10 {fr['file']['test']['ndcg@10']} in file order, "
                f"{fr['chunk']['test']['ndcg@10']} in chunk order, {fr['bm25']['test']['ndcg@10']} "
                "for BM25 (`bench/results/retrieval_nl_full.md`)."
            )
    idx = _load(results, "index.json")
    if idx.get("cold"):
        c = idx["cold"]
        lines.append(
            f"- **Indexing** ({c['packages']}, {c['chunks']} chunks, {idx['machine']['cpus']} "
            f"cores): {c['index_chunks_per_s']} chunks/s cold against "
            f"{c['bare_chunks_per_s']} for the bare embedder on the same texts (ratio "
            f"{c['throughput_ratio']}); peak RSS {c['peak_rss_mb']} MB."
        )
    if idx.get("reindex"):
        r = idx["reindex"]
        lines.append(
            f"- **Re-index** ({r['chunks']} chunks): nothing changed {r['noop_seconds']} s; "
            f"one file changed {r['one_changed_seconds']} s."
        )
    speed = _load(results, "search_speed.json")
    if speed:
        full = speed["warm"].get("full", {})
        lines.append(
            f"- **Search** ({speed['corpus']['chunks']} chunks): warm p50 {full.get('p50_ms')} ms, "
            f"p95 {full.get('p95_ms')} ms; a cold `coderag search` process "
            f"{speed['cold_cli']['median_s']} s."
        )
    ans = _load(results, "answers.json")
    if ans.get("answers"):
        a = ans["answers"]
        lines.append(
            f"- **Answers** ({_model(ans)}): p50 {a.get('llm_p50_s') or a['p50_s']} s, "
            f"p95 {a.get('llm_p95_s') or a['p95_s']} s for answers the LLM drafts (call-graph "
            "answers skip it); "
            f"answers whose citations all verify {a['all_citations_verified_share']:.0%}."
        )
        steps = ans.get("retrieval_with_llm_steps", {})
        if steps:
            cells = ", ".join(f"{k} {v['ndcg@10']:.3f}" for k, v in steps.items())
            lines.append(f"  Evidence NDCG@10 with the LLM steps: {cells}.")
    quality = _load(results, "answer_quality.json")
    if quality.get("models"):
        cells = "; ".join(
            f"{model} {m['correct']['n']}/{m['correct']['of']} correct, abstained "
            f"{m['abstained']['n']}/{m['abstained']['of']}, citations valid "
            f"{m['citations_valid']['share']:.0%}, p50 {m['p50_s']} s"
            for model, m in quality["models"].items()
        )
        lines.append(
            f"- **Answer correctness** ({quality['questions']} questions written from the code of "
            f"{', '.join(quality['corpora'])}: a key fact in the prose and a right file cited): "
            f"{cells} (`bench/results/answer_quality.md`)."
        )
    first = _load(results, "first_search.json")
    if first.get("variants"):
        before, after = (first["variants"][k] for k in list(first["variants"])[:2])
        lines.append(
            f"- **First search while indexing** ({first['meta']['lines']} lines): a warm "
            f"searcher answers {after['launch_to_first_answer_s']['median']} s after "
            f"`coderag index` starts (parsing on every core), against "
            f"{before['launch_to_first_answer_s']['median']} s parsing in one process "
            f"(x{first['ratio']}); dense vectors follow."
        )
    scale = _load(results, "scale.json")
    if scale.get("tiers") and scale.get("growth"):
        big = list(scale["tiers"].values())[-1]
        g = scale["growth"]
        stopped = (
            f"; that index run was stopped with {big['index']['embedded']} chunks embedded, "
            "the dense lane searching those"
            if big["index"].get("partial")
            else ""
        )
        tier_name = list(scale["tiers"])[-1]
        cmp = scale.get("compare", {}).get("tiers", {}).get(tier_name)
        before = ""
        if cmp:
            r50, r95 = cmp["default"]["ratio_p50"], cmp["default"]["ratio_p95"]
            before = (
                f"; against commit {cmp['before']} on the same index in the same run, default "
                f"search p50 x{r50} and p95 x{r95} ({'faster' if r50 >= 1 else 'slower'} now)"
            )
        idx = big["index"]
        searchable = idx.get("seconds_to_searchable")
        lines.append(
            f"- **Scale** (up to {big['index']['chunks']} chunks, {big['lines']} lines"
            f"{stopped}): index {idx['seconds']} s{' until stopped' if stopped else ''} "
            f"({idx.get('cpu_s', '-')} CPU s), "
            f"{f'searchable after {searchable} s, ' if searchable is not None else ''}"
            f"peak RSS {big['index']['peak_rss_mb']} MB, {big['disk_mb']['total']} MB on disk, "
            f"default search p50 {big['search']['default']['p50_ms']} ms; from the tier below, "
            f"chunks {g['chunks']}, default search p50 {g['default search p50'].split(' (')[0]}"
            f"{before} (`bench/results/scale.png`)."
        )
    emb = _load(results, "embedders.json")
    if emb.get("models"):
        m, n = emb["models"]["minilm"], emb["models"]["mpnet"]
        lines.append(
            f"- **Embedders** ({emb['meta']['corpora']}): default-pipeline NDCG@10 "
            f"{m['ndcg@10']['rerank']} with MiniLM, {n['ndcg@10']['rerank']} with mpnet, which "
            f"indexes {emb['mpnet_slower_x']}x slower; MiniLM stays the default."
        )
    tools = _load(results, "tool_start.json")
    if tools.get("cold_cli"):
        c, m, w = tools["cold_cli"], tools["mcp_cold"], tools["warm"]
        lines.append(
            f"- **Tools at once** (coderag's own tree, {tools['meta']['corpus']['chunks']} "
            f"chunks): MCP handshake on a cold repository {m['handshake_s_median']:.2f} s, first "
            f"search answer {m['first_search_s_median']:.2f} s (degraded while embedding); cold "
            f"`coderag search` {c['median_s']:.2f} s against {c['before_median_s']:.2f} s on the "
            f"torch + Chroma query path (x{c['speedup_x']}); warm search p50 "
            f"{w['busy_p50_ms']} ms while another process indexes, {w['busy_over_quiet_x']}x "
            f"quiet (`bench/results/tool_start.md`)."
        )
    variants = _load(results, "embed_variants.json")
    if variants.get("variants"):
        parts = [
            f"{name} {f['chunks_per_s']} chunks/s (x{f['x_bare']} the bare embedder), "
            f"NDCG@10 {f['ndcg@10']['rerank']}"
            for name, f in variants["variants"].items()
        ]
        lines.append(
            f"- **Embedding variants** (cold index of the retrieval corpora, one run): "
            f"{'; '.join(parts)} (`bench/results/embed_variants.md`)."
        )
    mem = _load(results, "memory.json")
    if mem.get("chat"):
        lines.append(f"- **Memory**: a chat session peaks at {mem['chat']['peak_rss_mb']} MB RSS.")
    suite = _load(results, "suite.json")
    if suite:
        lines.append(
            f"\nGenerated from `bench/results/*.json` ({suite.get('mode')} run of "
            f"{suite.get('date')}, {suite.get('seconds', '?')} s); all figures: "
            "`bench/results/summary.md`. Re-run with `make bench` (`make bench-quick`: 5 min)."
        )
    return "\n".join(line for line in lines if line)


def update_readme(results: Path = RESULTS, readme: Path = README) -> bool:
    """Replace the text between the README's bench markers; return whether it changed."""
    text = readme.read_text()
    if START not in text or END not in text:
        print(f"{readme}: no {START} ... {END} markers; README not updated")
        return False
    body = f"{START}\n{readme_section(results)}\n{END}"
    new = re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _m: body, text, flags=re.S)
    if new != text:
        readme.write_text(new)
    return new != text


def main() -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--readme", action="store_true", help="also regenerate the README section")
    args = ap.parse_args()
    print(write_summary(args.results).read_text())
    if args.readme:
        update_readme(args.results)


if __name__ == "__main__":
    main()
