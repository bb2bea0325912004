"""The ablation ladder: each rung adds one stage of the search pipeline, scored on one query set.

Rungs without the LLM run every query through :meth:`Searcher.search` with other
:class:`SearchOptions`; the last rung runs the question graph (LangGraph) with its LLM steps
(HyDE, decomposition, query rewrite) up to the answer and scores the evidence it gathered.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.eval import metrics
from app.retrieval.models import SearchOptions

if TYPE_CHECKING:
    from app.assistant import Assistant

K = 10
RUNGS: dict[str, SearchOptions] = {
    "bm25": SearchOptions(lanes=("lexical",), expand=False, rerank="none", group_by="chunk"),
    "dense": SearchOptions(lanes=("dense",), expand=False, rerank="none", group_by="chunk"),
    "hybrid": SearchOptions(expand=False, rerank="none", group_by="chunk"),
    "+graph": SearchOptions(rerank="none", group_by="chunk"),
    "+rerank": SearchOptions(group_by="chunk"),
}
"""Rungs without the LLM. ``+rerank`` is the default pipeline of ``coderag search``."""
LLM_RUNG = "+llm steps"
"""The question graph with HyDE, decomposition and the query-rewrite retry switched on."""
LLM_TYPES = frozenset({"nl", "mixed", "file", "commit"})
"""Query types the LLM steps are for (a bare symbol is looked up without them)."""
SearchFn = Callable[[str], Sequence[metrics.Hit]]


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q`` quantile of ``values`` by nearest rank (0.0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def evaluate(
    search: SearchFn | Mapping[str, SearchFn],
    queries: Sequence[Mapping[str, Any]],
    on_query: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Search every query and score its top ``K`` hits.

    Args:
        search: ``query text -> [(path, start_line, end_line), ...]`` best first, or a mapping
            from corpus name to such a function when ``queries`` span several corpora.
        queries: Records with ``id``, ``corpus``, ``type``, ``query`` and ``targets``.
        on_query: Called after each query (progress).

    Returns:
        ``{"summary": aggregate over corpora, "by_type": {type: aggregate}, "latency_ms":
        mean, "p50_ms", "p95_ms", "queries": per-query rows with the top hits and scores}``.
    """
    rows: list[dict[str, Any]] = []
    for record in queries:
        fn = search[record["corpus"]] if isinstance(search, Mapping) else search
        started = time.perf_counter()
        hits = [(str(p), int(s), int(e)) for p, s, e in fn(record["query"])][:K]
        elapsed = (time.perf_counter() - started) * 1000
        scores = metrics.score_query(hits, record["targets"])
        rows.append({
            "id": record["id"], "corpus": record["corpus"], "type": record["type"],
            "ms": round(elapsed, 1), **{m: round(v, 4) for m, v in scores.items()},
            "hits": [f"{p}:{s}-{e}" for p, s, e in hits],
        })  # fmt: skip
        if on_query is not None:
            on_query()
    return summarise(rows)


def summarise(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate per-query rows (see :func:`evaluate`) into the rung's result."""
    types = sorted({r["type"] for r in rows})
    ms = [float(r["ms"]) for r in rows]
    return {
        "summary": metrics.aggregate(rows),
        "by_type": {t: metrics.aggregate(r for r in rows if r["type"] == t) for t in types},
        "latency_ms": round(metrics.mean(ms), 1),
        "p50_ms": round(percentile(ms, 0.5), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "queries": list(rows),
    }


def search_fn(searcher: Any, options: SearchOptions, k: int = K) -> SearchFn:
    """Return a :data:`SearchFn` running ``searcher.search`` with ``options``."""
    opts = replace(options, k=k)

    def run(text: str) -> list[metrics.Hit]:
        return [(h.path, h.start_line, h.end_line) for h in searcher.search(text, opts)]

    return run


def llm_subset(queries: Iterable[Mapping[str, Any]], count: int, seed: int) -> list[dict]:
    """Return a seeded sample of ``count`` queries of the types the LLM steps serve."""
    pool = sorted((dict(q) for q in queries if q["type"] in LLM_TYPES), key=lambda q: q["id"])
    random.Random(f"{seed}:llm").shuffle(pool)
    return pool[:count]


def graph_search_fn(assistant: Assistant, context: Any) -> SearchFn:
    """Return a :data:`SearchFn` running the question graph up to ``answer``.

    Its hits are the evidence the graph ranked, with the LLM steps ``context`` (a
    :class:`graphs.QuestionContext`) switches on.
    """
    counter = iter(range(1_000_000_000))

    def run(text: str) -> list[metrics.Hit]:
        config = {"configurable": {"thread_id": f"eval-{next(counter)}"}}
        assistant.graph.invoke(
            {"question": text}, config, context=context, interrupt_before=["answer"]
        )
        state = assistant.graph.get_state(config).values
        return [(h["path"], h["start_line"], h["end_line"]) for h in state.get("hits", [])]

    return run


def same_subset(rows: Sequence[Mapping[str, Any]], ids: Iterable[str]) -> dict[str, Any]:
    """Aggregate the rows of another rung restricted to ``ids`` (a fair baseline)."""
    wanted = set(ids)
    return summarise([r for r in rows if r["id"] in wanted])
