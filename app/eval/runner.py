"""``coderag eval``: measure retrieval on the user's own repository.

1. Walk the repository with the index's rules and write its doc-stripped copy.
2. Mine queries from the original (docs, symbols, commit subjects).
3. Index the copy into its own index (seeded from the repository's index when there is one,
   so unchanged code is not embedded again).
4. Run the ladder: every query through each rung; then the question graph with its LLM steps
   on a sample, next to the default pipeline on the same sample.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.eval import ladder
from app.eval.mining import SEED
from app.eval.queryset import build_queries
from app.eval.strip import write_stripped_copy
from app.index.progress import NullProgress, Progress
from app.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

log = logging.getLogger(__name__)


class EvalError(RuntimeError):
    """The evaluation cannot run (nothing to mine, bad rung name); the message says why."""


@dataclass
class EvalOptions:
    """What ``coderag eval`` runs."""

    rungs: tuple[str, ...] = tuple(ladder.RUNGS)
    max_queries: int = 200
    """Most documentation and symbol queries (types keep their shares)."""
    commits: int = 40
    """Most commit-message queries (0: none)."""
    llm: bool = True
    """Add the rung with the question graph's LLM steps."""
    llm_queries: int = 20
    """Queries in the LLM rung's sample (each costs a few LLM calls)."""
    seed: int = SEED


def eval_dir(settings: Settings, repo: Path) -> Path:
    """Return where the evaluation of ``repo`` keeps its copy, index and results."""
    return settings.index_dir_for(repo) / "eval"


def _seed_index(own: Path, target: Path) -> bool:
    """Copy the repository's own index to ``target`` when ``target`` has none yet.

    The copy differs from the original only where documentation was removed, so an
    incremental index run then embeds only the chunks that changed.
    """
    if (target / "index.db").exists() or not (own / "index.db").exists():
        return False
    target.mkdir(parents=True, exist_ok=True)
    for item in own.iterdir():
        if item.name == "eval" or item.name.endswith(".lock"):
            continue
        if item.is_dir():
            shutil.copytree(item, target / item.name, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target / item.name)
    return True


def machine() -> dict[str, Any]:
    """Describe this machine and the package versions that shape the figures."""
    from importlib.metadata import PackageNotFoundError, version

    versions: dict[str, str | None] = {}
    for name in ("coderag", "sentence-transformers", "torch", "chromadb", "langgraph"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def run_eval(
    repo: Path,
    settings: Settings,
    options: EvalOptions | None = None,
    progress: Progress | None = None,
    *,
    work: Path | None = None,
    llm: BaseChatModel | None = None,
) -> dict[str, Any]:
    """Evaluate retrieval on ``repo``; return the result document (see :mod:`app.eval.report`).

    Args:
        repo: The repository to evaluate.
        settings: Its settings (walker rules, models, LLM).
        options: What to run.
        progress: Progress sink (phases ``strip``, ``queries``, the indexer's, then one per
            rung).
        work: Folder for the stripped copy and its index (default :func:`eval_dir`).
        llm: Chat model for the LLM rung (default: the configured one).
    """
    from app.index.indexer import walk_repo
    from app.services import Services

    options = options or EvalOptions()
    progress = progress or NullProgress()
    unknown = [r for r in options.rungs if r not in ladder.RUNGS]
    if unknown:
        raise EvalError(f"unknown rung(s) {', '.join(unknown)}; choose from {list(ladder.RUNGS)}")
    repo = Path(repo).expanduser().resolve()
    work = (work or eval_dir(settings, repo)).resolve()
    copy = work / "copy"
    started = time.perf_counter()
    timings: dict[str, float] = {}

    progress.start("scan", None)
    files = walk_repo(repo, settings, on_file=lambda _p: progress.advance("scan")).files
    progress.end("scan")
    progress.start("strip", len(files))
    stripped = write_stripped_copy(files, copy, on_file=lambda _p: progress.advance("strip"))
    progress.end("strip")
    progress.start("queries", None)
    queries, notes = build_queries(
        repo, copy, files, corpus=repo.name, max_queries=options.max_queries,
        commits=options.commits, seed=options.seed,
    )  # fmt: skip
    progress.end("queries")
    timings["prepare_s"] = time.perf_counter() - started
    if not queries:
        raise EvalError(
            f"no queries could be mined from {repo}: it needs documented functions or classes "
            "in Python, JS/TS, Go or Rust, or a git history with descriptive commit subjects"
        )

    index_dir = work / "index"
    seeded = _seed_index(settings.index_dir_for(repo), index_dir)
    services = Services(copy, settings.model_copy(update={"index_dir": index_dir}))
    t = time.perf_counter()
    report = services.index(progress)
    timings["index_s"] = time.perf_counter() - t

    from app.retrieval.search import Searcher

    searcher = Searcher(services)
    searcher.search("warm up the models and the catalogue")
    rungs: dict[str, Any] = {}
    for name in options.rungs:
        phase = f"rung {name}"
        progress.start(phase, len(queries))
        rungs[name] = ladder.evaluate(
            ladder.search_fn(searcher, ladder.RUNGS[name]), queries,
            on_query=_advance(progress, phase),
        )  # fmt: skip
        progress.end(phase)

    llm_result: dict[str, Any] | None = None
    if options.llm and options.llm_queries > 0:
        llm_result = _llm_rung(services, searcher, queries, options, progress, llm, rungs)
        if llm_result.get("result"):
            rungs[ladder.LLM_RUNG] = llm_result.pop("result")

    types: dict[str, int] = {}
    for q in queries:
        types[q["type"]] = types.get(q["type"], 0) + 1
    return {
        "meta": {
            "repo": str(repo),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "k": ladder.K,
            "machine": machine(),
            "options": asdict(options),
            "seconds": round(time.perf_counter() - started, 1),
            "timings": {k: round(v, 1) for k, v in timings.items()},
        },
        "corpus": {
            "files": len(files),
            "stripped_files": stripped["stripped"],
            "blanked_lines": stripped["blanked_lines"],
            "unstripped": stripped["unstripped"][:20],
            "chunks": report.chunks,
            "embedded": report.embedded,
            "index_seeded_from_repo_index": seeded,
            "index_dir": str(index_dir),
        },
        "queries": {"total": len(queries), "by_type": types, "notes": notes},
        "rungs": rungs,
        "llm": llm_result,
        "records": queries,
    }


def _advance(progress: Progress, phase: str) -> Callable[[], None]:
    return lambda: progress.advance(phase)


def _llm_rung(
    services: Any,
    searcher: Any,
    queries: list[dict[str, Any]],
    options: EvalOptions,
    progress: Progress,
    llm: BaseChatModel | None,
    rungs: dict[str, Any],
) -> dict[str, Any]:
    """Run the question graph with its LLM steps on a sample; return it with its baseline."""
    from langgraph.checkpoint.memory import InMemorySaver

    from app.assistant import Assistant
    from graphs import QuestionContext

    subset = ladder.llm_subset(queries, options.llm_queries, options.seed)
    info: dict[str, Any] = {"queries": len(subset), "llm": services.settings.llm}
    if not subset:
        info["skipped"] = "no natural-language queries to run the LLM steps on"
        return info
    context = QuestionContext(
        hyde=True, decompose=True, rewrite=True, max_context_retries=1, k=ladder.K
    )
    assistant = Assistant(services, llm=llm, checkpointer=InMemorySaver(), searcher=searcher)
    phase = f"rung {ladder.LLM_RUNG}"
    progress.start(phase, len(subset))
    try:
        result = ladder.evaluate(
            ladder.graph_search_fn(assistant, context), subset,
            on_query=lambda: progress.advance(phase),
        )  # fmt: skip
    except Exception as exc:
        from app.llm import LLMUnavailableError, is_transient

        if not isinstance(exc, LLMUnavailableError) and not is_transient(exc):
            raise
        info["skipped"] = f"the language model is not available: {exc}"
        return info
    finally:
        progress.end(phase)
    ids = [q["id"] for q in subset]
    baseline = "+rerank" if "+rerank" in rungs else next(reversed(rungs), None)
    if baseline is not None:
        info["baseline_rung"] = baseline
        info["baseline"] = {
            k: v for k, v in ladder.same_subset(rungs[baseline]["queries"], ids).items()
            if k != "queries"
        }  # fmt: skip
    info["result"] = result
    return info
