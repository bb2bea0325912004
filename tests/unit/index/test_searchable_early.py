"""Searchable at once: lexical, symbol, path lanes and the graph before the dense vectors."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from app.cli.main import app
from app.codegraph.refresh import graph_is_current
from app.index import indexer as indexer_mod
from app.index.indexer import VECTORS_SYNCED, Indexer, index_lock
from app.index.report import IndexReport
from app.index.stores.db import IndexDB
from app.index.stores.vectors import VectorStore
from app.retrieval.search import Searcher
from app.services import Services
from app.settings import Settings
from tests.conftest import write_tree
from tests.unit.retrieval.test_retrieval_lanes import REPO, QueryEmbedder

runner = CliRunner()


class HookEmbedder(QueryEmbedder):
    """The query-capable fake embedder that calls ``hook`` with the batch number before each."""

    def __init__(self, hook: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self.hook = hook
        self.batches = 0

    def encode(self, texts: Sequence[str], **kw: object) -> np.ndarray:
        self.batches += 1
        if self.hook is not None:
            self.hook(self.batches)
        return super().encode(texts, **kw)


def run_index(root: Path, idx: Path, embedder: QueryEmbedder, **settings: object) -> IndexReport:
    """Index ``root`` into ``idx`` with a fake embedder."""
    kw: dict = {"index_dir": idx, **settings}
    return Indexer(root, Settings(**kw), embedder=embedder).run()  # type: ignore[arg-type]


def searcher_for(root: Path, idx: Path, **settings: object) -> Searcher:
    services = Services(root, Settings(index_dir=idx, **settings))  # type: ignore[arg-type]
    services.embedder = QueryEmbedder()  # type: ignore[assignment]
    return Searcher(services)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", REPO)


def test_without_vectors_search_runs_the_ready_lanes_and_says_degraded(repo, tmp_path):
    idx = tmp_path / "idx"
    run_index(repo, idx, QueryEmbedder(), no_embed=True)
    searcher = searcher_for(repo, idx)
    reason = searcher.degraded()
    assert reason is not None and reason.startswith("dense vectors 0/")
    assert "still embedding" in reason
    assert searcher.ready_lanes() == ("lexical", "symbol", "path")
    hits = searcher.search("save_user")
    assert hits[0].symbol == "store.users.save_user"
    assert all("dense" not in h.lanes for h in hits)
    # the same long-lived searcher notices the vectors once another run embedded them
    report = run_index(repo, idx, QueryEmbedder())
    assert report.vectors == report.chunks > 0
    assert searcher.degraded() is None
    assert "dense" in searcher.ready_lanes()
    assert any("dense" in h.lanes for h in searcher.search("write one row into the store"))


def test_no_embed_searcher_is_not_degraded(repo, tmp_path):
    idx = tmp_path / "idx"
    run_index(repo, idx, QueryEmbedder(), no_embed=True)
    assert searcher_for(repo, idx, no_embed=True).degraded() is None


def test_graph_is_saved_and_searchable_before_embedding(repo, tmp_path, monkeypatch):
    monkeypatch.setattr(indexer_mod, "EMBED_BATCH", 2)
    idx = tmp_path / "idx"
    seen: dict[str, object] = {}

    def mid_embed(batch: int) -> None:
        if batch != 3:
            return
        db = IndexDB(idx / "index.db")
        try:
            seen["graph_current"] = graph_is_current(db, Services(repo, settings).layout, None)
            seen["synced"] = db.get_meta(VECTORS_SYNCED)
        finally:
            db.close()
        searcher = searcher_for(repo, idx)  # a reader while the indexer holds the lock
        seen["degraded"] = searcher.degraded()
        seen["hits"] = [h.symbol for h in searcher.search("check_email")]

    settings = Settings(index_dir=idx, callgraph_max_work=None)
    report = run_index(repo, idx, HookEmbedder(mid_embed), callgraph_max_work=None)
    assert seen["graph_current"] is True and seen["synced"] == "0"
    assert seen["degraded"] is not None and "still embedding" in str(seen["degraded"])
    assert seen["hits"] and seen["hits"][0] == "store.users.check_email"  # type: ignore[index]
    assert report.seconds_to_searchable is not None
    assert 0 < report.seconds_to_searchable <= report.seconds["total"] + 0.5
    assert report.vectors == report.chunks


def test_an_interrupted_embedding_resumes_where_it_stopped(repo, tmp_path, monkeypatch):
    monkeypatch.setattr(indexer_mod, "EMBED_BATCH", 2)
    idx = tmp_path / "idx"

    def stop(batch: int) -> None:
        if batch == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_index(repo, idx, HookEmbedder(stop))
    db = IndexDB(idx / "index.db")
    chunks = db.count("chunks")
    assert db.get_meta(VECTORS_SYNCED) == "0"
    db.close()
    assert VectorStore(idx / "chroma", "fake").count() == 4  # two batches of two
    searcher = searcher_for(repo, idx)
    assert searcher.degraded() == f"dense vectors 4/{chunks}: still embedding"
    assert searcher.search("save_user")  # partial vectors: the ready lanes still answer
    again = HookEmbedder()
    report = run_index(repo, idx, again)
    assert report.embedded + report.embed_cache_hits == chunks - 4  # only what was missing
    assert len(again.encoded) == report.embedded
    assert report.vectors == chunks
    assert searcher.degraded() is None


def test_cli_search_while_another_process_indexes_reads_the_index_as_it_is(
    repo, tmp_path, monkeypatch
):
    monkeypatch.setattr(Services, "embedder", property(lambda self: QueryEmbedder()))
    idx = tmp_path / "idx"
    run_index(repo, idx, QueryEmbedder(), no_embed=True)
    args = ["search", "save_user", "--repo", str(repo), "--index-dir", str(idx), "-k", "3"]
    lock = Services(repo, Settings(index_dir=idx)).layout.lock
    with index_lock(lock):  # "another process" is indexing
        res = runner.invoke(app, [*args, "--json"])
        human = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    records = json.loads(res.stdout)
    assert isinstance(records, list) and records[0]["symbol"] == "store.users.save_user"
    assert all(r["degraded"] is True for r in records)
    assert "another coderag process is indexing" in res.stderr
    assert "dense vectors 0/" in res.stderr and "missing: dense" in res.stderr
    assert human.exit_code == 0 and "store/users.py:" in human.stdout
    note = [line for line in human.stderr.splitlines() if line.startswith("note: partial")]
    assert len(note) == 1 and "lanes used: lexical, symbol, path" in note[0]
    # once the vectors are in, the records are the plain contract again
    fresh = runner.invoke(app, [*args, "--json"])
    assert fresh.exit_code == 0, fresh.output
    assert all("degraded" not in r for r in json.loads(fresh.stdout))
    assert "note:" not in fresh.stderr


def test_cli_index_says_when_it_is_searchable(repo, tmp_path, monkeypatch):
    monkeypatch.setattr(Services, "embedder", property(lambda self: QueryEmbedder()))
    idx = tmp_path / "idx"
    res = runner.invoke(app, ["index", str(repo), "--index-dir", str(idx)])
    assert res.exit_code == 0, res.output
    lines = [x for x in res.stderr.splitlines() if x.startswith("searchable now")]
    assert len(lines) == 1
    assert lines[0].startswith("searchable now (lexical, symbol, path, graph); embedding ")
    assert "searchable after" in res.stdout
    report = json.loads(
        runner.invoke(app, ["index", str(repo), "--index-dir", str(idx), "--json"]).stdout
    )
    assert isinstance(report["seconds_to_searchable"], float)


def test_an_index_of_another_embedder_skips_the_dense_lane_and_says_so(repo, tmp_path):
    idx = tmp_path / "idx"
    run_index(repo, idx, QueryEmbedder())
    searcher = searcher_for(repo, idx)
    assert searcher.degraded() is None  # same model: all lanes
    other = QueryEmbedder()
    other.model_id = "mpnet"  # type: ignore[misc]
    searcher.services.embedder = other  # type: ignore[assignment]
    searcher = Searcher(searcher.services)
    reason = searcher.degraded()
    assert reason is not None and "configured embedder is mpnet" in reason
    assert "dense" not in searcher.ready_lanes()
    assert searcher.search("save_user")[0].symbol == "store.users.save_user"


class AtSearchable:
    """Progress sink that runs ``check`` when the indexer says it is searchable."""

    def __init__(self, check: Callable[[int | None], None]) -> None:
        self.check = check
        self.calls = 0

    def start(self, phase: str, total: int | None) -> None:
        if phase == "searchable":
            self.calls += 1
            self.check(total)

    def advance(self, phase: str, n: int = 1) -> None:
        pass

    def end(self, phase: str) -> None:
        pass


def test_searchable_before_python_calls_are_solved(repo, tmp_path, monkeypatch):
    """The graph without solved Python calls is saved first; searches use it meanwhile."""
    from app.codegraph import refresh as graph_refresh

    idx = tmp_path / "idx"
    seen: dict[str, object] = {}

    def check(pending: int | None) -> None:
        db = IndexDB(idx / "index.db")
        try:
            seen["digest"] = db.get_meta("graph_digest")
        finally:
            db.close()
        seen["pending"] = pending
        real = graph_refresh.rebuild_graph
        monkeypatch.setattr(graph_refresh, "rebuild_graph", _must_not_rebuild)
        searcher = searcher_for(repo, idx, callgraph_max_work=None)  # while the lock is held
        seen["degraded"] = searcher.degraded()
        seen["python_calls"] = searcher.code_graph().graph.graph["python_calls"]
        seen["hits"] = [h.symbol for h in searcher.search("check_email")]
        monkeypatch.setattr(graph_refresh, "rebuild_graph", real)

    settings = Settings(index_dir=idx, callgraph_max_work=None)
    sink = AtSearchable(check)
    report = Indexer(repo, settings, embedder=HookEmbedder(), progress=sink).run()  # type: ignore[arg-type]
    assert sink.calls == 1
    assert str(seen["digest"]).startswith(graph_refresh.LITE)
    assert seen["pending"] == report.chunks  # nothing embedded yet: every chunk to do
    assert seen["python_calls"] == graph_refresh.PENDING
    assert "Python call edges still resolving" in str(seen["degraded"])
    assert seen["hits"] and seen["hits"][0] == "store.users.check_email"  # type: ignore[index]
    db = IndexDB(idx / "index.db")
    try:  # the run ends with the full graph, current
        assert graph_is_current(db, Services(repo, settings).layout, None)
    finally:
        db.close()
    assert searcher_for(repo, idx, callgraph_max_work=None).code_graph().graph.graph[
        "python_calls"
    ] == "pyflow"


def _must_not_rebuild(*_a: object, **_k: object) -> None:
    raise AssertionError("the searcher rebuilt the graph instead of loading the saved one")


def test_a_run_killed_after_the_lite_graph_leaves_it_to_be_rebuilt(repo, tmp_path):
    from app.codegraph import refresh as graph_refresh

    idx = tmp_path / "idx"
    run_index(repo, idx, HookEmbedder(), callgraph_max_work=None)
    services = Services(repo, Settings(index_dir=idx, callgraph_max_work=None))
    db = IndexDB(idx / "index.db")
    try:  # as if killed right after saving the lite graph
        graph_refresh.rebuild_graph(db, services.layout, max_work=None, lite=True)
        assert not graph_is_current(db, services.layout, None)
    finally:
        db.close()
    graph = services.graph()  # nobody holds the lock: the full graph is built and saved
    assert graph.graph.graph["python_calls"] == "pyflow"
    db = IndexDB(idx / "index.db")
    try:
        assert graph_is_current(db, services.layout, None)
    finally:
        db.close()


def test_an_unchanged_index_is_searchable_at_once_and_says_so(repo, tmp_path):
    idx = tmp_path / "idx"
    run_index(repo, idx, HookEmbedder(), callgraph_max_work=None)
    sink = AtSearchable(lambda pending: None)
    settings = Settings(index_dir=idx, callgraph_max_work=None)
    report = Indexer(repo, settings, embedder=HookEmbedder(), progress=sink).run()  # type: ignore[arg-type]
    assert sink.calls == 1
    assert report.seconds_to_searchable is not None


def test_an_answer_says_when_its_search_was_partial(repo, tmp_path):
    """``coderag ask --json`` and the agent tool read ``AskResult``: it carries the reason."""
    from langgraph.checkpoint.memory import InMemorySaver

    from app.assistant import Assistant
    from tests.graph.fakes import ScriptedChatModel

    idx = tmp_path / "idx"
    run_index(repo, idx, QueryEmbedder(), no_embed=True)
    searcher = searcher_for(repo, idx)
    assistant = Assistant(
        searcher.services, llm=ScriptedChatModel(), checkpointer=InMemorySaver(), searcher=searcher
    )
    searched = assistant.ask("how does the store remember its writes?")
    assert "retrieve" in searched.trace
    assert searched.degraded is not None and "still embedding" in searched.degraded
    assert searched.to_json()["degraded"] == searched.degraded
    from_graph = assistant.ask("who calls check_email?")  # answered from the code graph
    assert "retrieve" not in from_graph.trace and from_graph.degraded == searched.degraded
    chat = assistant.ask("thanks!")
    assert "chitchat" in chat.trace and chat.degraded is None  # read no index
    run_index(repo, idx, QueryEmbedder())
    assert assistant.ask("how does the store remember its writes?").degraded is None
