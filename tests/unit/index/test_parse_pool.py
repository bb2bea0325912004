"""Parsing on worker processes: the same index as parsing in-process, and nothing lost."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from app.index.indexer import Indexer
from app.index.layout import IndexLayout
from app.index.parse import pool as parse_pool
from app.index.parse.pool import PrepareOptions, prepare_all, prepare_file
from app.index.stores.vectors import forget_store
from app.index.walker import walk
from app.settings import Settings
from tests.conftest import FakeEmbedder, write_tree
from tests.index_snapshot import differences, problems, take_snapshot

AWS_KEY = "AKIA" + "QWERTYUIOPASDFGH"  # split: the secret scanner of this repo stays quiet


def _module(i: int) -> str:
    return (
        f'"""Module {i}: helpers that call each other."""\n'
        f"from pkg.m{(i + 1) % 40} import helper_{(i + 1) % 40}\n\n\n"
        f"class Thing{i}:\n"
        f'    """A thing numbered {i}."""\n\n'
        f"    def run(self, x):\n"
        f"        return helper_{(i + 1) % 40}(x) + {i}\n\n\n"
        f"def helper_{i}(x):\n"
        f"    total = 0\n"
        + "".join(f"    total += x * {j}  # step {j} of the loop body\n" for j in range(i % 7 * 9))
        + "    return Thing{i}().run(total) if x else total\n".replace("{i}", str(i))
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    files: dict[str, str | bytes] = {f"pkg/m{i}.py": _module(i) for i in range(40)}
    files["pkg/__init__.py"] = ""
    files["pkg/settings.py"] = f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n'
    files["docs/guide.md"] = "# Guide\n\nHow the helpers work.\n\n## Details\n\nMore.\n"
    files["web/app.ts"] = "export function greet(name: string): string { return name; }\n"
    files["pkg/broken.py"] = "def oops(:\n    pass\n"
    return write_tree(tmp_path / "repo", files)


def _index(repo: Path, idx: Path, workers: int) -> None:
    settings = Settings(index_dir=idx, index_workers=workers, callgraph_max_work=None)
    report = Indexer(repo, settings, embedder=FakeEmbedder()).run()  # type: ignore[arg-type]
    assert report.files == len(walk(repo).files)
    assert report.secrets_masked == 1
    forget_store(IndexLayout(idx).chroma)  # the snapshot opens it with its own settings


def test_an_index_parsed_on_two_workers_equals_one_parsed_in_process(repo, tmp_path):
    assert len(walk(repo).files) >= parse_pool.MIN_FILES  # the pool is really used
    _index(repo, tmp_path / "serial", workers=1)
    _index(repo, tmp_path / "pooled", workers=2)
    serial = take_snapshot(tmp_path / "serial", "fake")
    pooled = take_snapshot(tmp_path / "pooled", "fake")
    assert problems(pooled) == []
    assert differences(serial, pooled) == []
    assert serial.chunks  # not two empty indexes


def test_workers_count_tokens_with_the_real_tokenizer(repo):
    """The forked workers use the packaged MiniLM tokenizer exactly as the parent would."""
    from app.models.embedder import Embedder

    files = walk(repo).files
    options = PrepareOptions(64, True, Embedder("minilm").token_counter())
    serial = [prepare_file(f, options) for f in files]
    pooled = list(prepare_all(files, options, workers=2))
    assert [p.row.path for p in pooled] == [f.path for f in files]  # walk order kept
    assert [[c.embed_text for c in p.chunks] for p in pooled] == [
        [c.embed_text for c in p.chunks] for p in serial
    ]
    assert sum(len(p.chunks) for p in pooled) > len(files)  # 64 tokens cut the long helpers


def test_a_dead_worker_only_moves_the_rest_of_the_files_in_process(repo, monkeypatch, caplog):
    files = walk(repo).files
    parent = os.getpid()
    real = parse_pool.prepare_file
    victim = files[len(files) // 2].path

    def dies_in_a_worker(src, options):
        if src.path == victim and os.getpid() != parent:
            os._exit(3)  # as if the kernel's OOM killer took the worker
        return real(src, options)

    monkeypatch.setattr(parse_pool, "prepare_file", dies_in_a_worker)
    options = PrepareOptions(256, True, None)
    with caplog.at_level(logging.WARNING, logger="app.index.parse.pool"):
        got = list(prepare_all(files, options, workers=2))
    assert [p.row.path for p in got] == [f.path for f in files]  # none lost, none twice
    assert "parse worker died" in caplog.text


def test_small_batches_and_one_worker_parse_in_process(repo, monkeypatch):
    def no_pool(*_a, **_k):
        raise AssertionError("a pool was started")

    monkeypatch.setattr(parse_pool, "ProcessPoolExecutor", no_pool)
    files = walk(repo).files
    options = PrepareOptions(256, False, None)
    assert len(list(prepare_all(files[: parse_pool.MIN_FILES - 1], options, workers=4))) == (
        parse_pool.MIN_FILES - 1
    )
    assert len(list(prepare_all(files, options, workers=1))) == len(files)


def test_stopping_early_shuts_the_pool_down(repo):
    files = walk(repo).files
    gen = prepare_all(files, PrepareOptions(256, False, None), workers=2)
    first = next(gen)
    gen.close()  # the indexer raised while storing: no worker may linger
    assert first.row.path == files[0].path
    assert parse_pool._OPTIONS is None
    import multiprocessing

    assert multiprocessing.active_children() == []


KILLED_PARENT = """
import multiprocessing, sys, time
from pathlib import Path
from app.index.parse import pool as parse_pool
from app.index.walker import walk

real = parse_pool.prepare_file
def slow(src, options):
    time.sleep(0.3)
    return real(src, options)
parse_pool.prepare_file = slow
options = parse_pool.PrepareOptions(256, False, None)
gen = parse_pool.prepare_all(walk(Path(sys.argv[1])).files, options, 2)
next(gen)
print(" ".join(str(p.pid) for p in multiprocessing.active_children()), flush=True)
time.sleep(60)
"""


def test_workers_end_when_the_indexing_process_is_killed(repo):
    """kill -9 of the indexer must not leave parse workers waiting forever."""
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[3]
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_PARENT, str(repo)],
        cwd=root, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in pids if _alive(p)]
        time.sleep(0.1)
    assert alive == []


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"  # a zombie has exited already
    except FileNotFoundError:
        return False
