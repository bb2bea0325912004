"""Crash safety of `coderag index`: SIGKILLs at random points, concurrent runs, concurrent readers.

The indexer runs as a real CLI subprocess (``tests.e2e.index_driver``: the real stores and CLI,
a fast hash embedder) so a SIGKILL can land anywhere: in the walk, between or inside SQLite
transactions, inside a Chroma upsert, while the graph is saved. After the kills an un-killed run
must leave an index identical, store by store, to a clean build of the same tree.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.crash_repo import make_repo, mutate
from tests.e2e.index_driver import HashEmbedder
from tests.index_snapshot import (
    IndexSnapshot,
    differences,
    interim_problems,
    problems,
    take_snapshot,
)

pytestmark = pytest.mark.slow

PROJECT = Path(__file__).resolve().parents[2]
MODEL = HashEmbedder.model_id
SEED = 7_2024
N_KILLS = 12
#: Kills at a random store write (a SQLite statement, a Chroma call, a file replace).
N_OP_KILLS = 15
PHASES = ("startup", "scan", "parse", "graph", "embed")
#: The progress line after which each phase has begun (startup: the process start).
TRIGGERS = {
    "scan": "start scan",
    "parse": "start parse",
    "graph": "end parse",
    "embed": "start embed",
}


@dataclass
class Run:
    """A driver subprocess whose progress lines are collected, timestamped, as they come."""

    proc: subprocess.Popen[str]
    t0: float
    events: list[tuple[float, str]] = field(default_factory=list)
    other_err: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def seen(self, prefix: str) -> bool:
        return any(e.startswith(prefix) for _t, e in list(self.events))

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        assert self.proc.stdout is not None and self.reader is not None
        out = self.proc.stdout.read()  # not communicate(): the reader thread owns stderr
        self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return self.proc.returncode, out

    def phase(self) -> str:
        """Return the phase the process was in at its last progress line."""
        now = "startup"
        for _t, e in self.events:
            for name, trigger in TRIGGERS.items():
                if e.startswith(trigger):
                    now = name
        return now

    def value(self, key: str) -> str | None:
        """Return the rest of the last ``key ...`` line (``ops``, ``crash``)."""
        found = [e[len(key) + 1 :] for _t, e in self.events if e.startswith(key + " ")]
        return found[-1] if found else None


def start(
    *args: str,
    delay_s: float = 0.04,
    crash_at_op: int = 0,
    op_kind: str = "all",
    gate: Path | None = None,
) -> Run:
    env = {
        **os.environ,
        **({"CRASH_EMBED_GATE": str(gate)} if gate else {}),
        "PYTHONPATH": str(PROJECT),
        "CRASH_EMBED_DELAY_S": str(delay_s),
        "CRASH_AT_OP": str(crash_at_op),
        "CRASH_OP_KIND": op_kind,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.index_driver", *args],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run = Run(proc, time.perf_counter())

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.startswith("@@ "):
                run.events.append((time.perf_counter() - run.t0, line[3:].strip()))
            else:
                run.other_err.append(line.rstrip("\n"))

    run.reader = threading.Thread(target=read, daemon=True)
    run.reader.start()
    return run


def index_args(repo: Path, idx: Path) -> list[str]:
    return ["index", str(repo), "--index-dir", str(idx), "--json"]


def index_clean(repo: Path, idx: Path) -> tuple[Run, dict[str, object]]:
    run = start(*index_args(repo, idx))
    rc, out = run.finish()
    assert rc == 0, "\n".join(run.other_err)
    return run, json.loads(out)


def wait_for(run: Run, line: str, timeout: float = 60) -> bool:
    """Wait until a progress line starting with ``line`` came; False if the process ended."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if run.seen(line):
            return True
        if run.proc.poll() is not None:
            if run.reader is not None:
                run.reader.join(timeout=5)
            return run.seen(line)
        time.sleep(0.002)
    raise AssertionError(f"no {line!r} within {timeout}s")


def phase_durations(run: Run, total: float) -> dict[str, float]:
    """Measure how long each phase of a clean run took, from its progress lines."""

    def first(prefix: str) -> float:
        return next(t for t, e in run.events if e.startswith(prefix))

    marks = [0.0, *(first(TRIGGERS[p]) for p in PHASES[1:]), total]
    return {p: max(marks[i + 1] - marks[i], 0.01) for i, p in enumerate(PHASES)}


def kill_at(run: Run, target: str, delay: float) -> str:
    """SIGKILL ``run`` ``delay`` seconds into ``target``; return the phase it landed in."""
    if target != "startup" and not wait_for(run, TRIGGERS[target]):
        run.finish()
        return "finished"
    time.sleep(delay)
    if run.proc.poll() is not None:
        run.finish()
        return "finished"
    run.proc.kill()
    run.finish()
    return run.phase()


def crash_at_op(repo: Path, idx: Path, op: int, kind: str) -> tuple[str, str | None, int]:
    """Run until the ``op``-th write of ``kind`` kills it; return its phase and the write.

    A run with fewer writes finishes: then the phase is "finished" and its write count is
    returned (0 otherwise).
    """
    run = start(*index_args(repo, idx), crash_at_op=op, op_kind=kind)
    rc, _out = run.finish()
    if rc == 0:
        return "finished", None, ops_of(run)[kind]
    assert rc == -signal.SIGKILL, run.other_err
    return run.phase(), run.value("crash"), 0


def ops_of(run: Run) -> dict[str, int]:
    """Return how many crash points a finished run passed: all, and outside SQLite."""
    total, store = (run.value("ops") or "0 0").split()
    return {"all": int(total), "store": int(store)}


def assert_same_index(got: Path, clean: Path) -> tuple[IndexSnapshot, IndexSnapshot]:
    a, b = take_snapshot(got, MODEL), take_snapshot(clean, MODEL)
    assert problems(a) == []
    assert problems(b) == []
    assert differences(a, b) == []
    return a, b


@pytest.fixture(scope="module")
def base_clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, float, Run]:
    """A clean build of the base repository: its directory, duration and progress lines."""
    root = tmp_path_factory.mktemp("crash")
    repo = make_repo(root / "repo")
    t0 = time.perf_counter()
    run, report = index_clean(repo, root / "clean-idx")
    assert report["chunks"] == report["vectors"] and int(report["chunks"]) > 100  # type: ignore[call-overload]
    return repo, root / "clean-idx", time.perf_counter() - t0, run


def test_sigkill_at_random_points_then_resume_equals_clean_build(base_clean, tmp_path):
    """Alternate timed SIGKILLs (wide windows) with kills at a random store write (narrow ones).

    Half the rounds edit, add or delete files first, so kills also hit incremental runs that
    delete chunks and vectors. After every kill SQLite and the graph file must be whole; after a
    final run the index must equal a clean build of the final tree in every store.
    """
    _repo, _clean, total, clean_run = base_clean
    durations = phase_durations(clean_run, total)
    ops_est = ops_of(clean_run)  # crash points of a full build
    assert ops_est["all"] > 100 and ops_est["store"] > 10, ops_est
    repo = make_repo(tmp_path / "repo")
    idx = tmp_path / "idx"
    rng = random.Random(SEED)
    timed: Counter[str] = Counter()
    at_op: Counter[str] = Counter()
    writes: Counter[str] = Counter()
    edits: list[str] = []
    # every phase is aimed at equally often; where a kill lands is read from the progress lines
    targets = [p for _ in range(3 * N_KILLS) for p in rng.sample(PHASES, len(PHASES))]
    t0 = time.perf_counter()
    rounds = 0
    while (
        timed.total() - timed["finished"] < N_KILLS
        or at_op.total() - at_op["finished"] < N_OP_KILLS
    ):
        rounds += 1
        assert rounds <= 3 * (N_KILLS + N_OP_KILLS), f"too few kills landed: {timed}, {at_op}"
        by_time = rounds % 2 == 1 and timed.total() - timed["finished"] < N_KILLS
        if rounds > 4 and (not by_time or rng.random() < 0.5):
            edits += mutate(repo, rng, rounds)
        if by_time:
            target = targets.pop()
            timed[
                kill_at(start(*index_args(repo, idx)), target, rng.uniform(0, durations[target]))
            ] += 1
        else:
            # SQL commits outnumber Chroma calls and file writes 5 to 1: aim at both kinds
            kind = ("all", "all", "store")[at_op.total() % 3]
            op = 1 + int(rng.random() * ops_est[kind])
            phase, write, ops = crash_at_op(repo, idx, op, kind)
            ops_est[kind] = ops or ops_est[kind]  # the next run is an incremental one like it
            at_op[phase] += 1
            writes[write or "none"] += 1
        # SQLite (manifest, chunks, FTS), the graph file and the sync flag hold after every kill
        assert interim_problems(idx, MODEL) == [], f"after a kill in round {rounds}"
    final, report = index_clean(repo, idx)
    assert report["rebuilt"] is None
    index_clean(repo, tmp_path / "fresh-idx")
    got, _ = assert_same_index(idx, tmp_path / "fresh-idx")
    assert not list(idx.glob("*.tmp")), "temporary files of killed writers were left behind"
    summary = {
        "timed_kills": {p: timed[p] for p in PHASES},
        "op_kills": {p: at_op[p] for p in PHASES},
        "op_kill_writes": dict(writes.most_common()),
        "rounds_unkilled": timed["finished"] + at_op["finished"],
        "edits": len(edits),
        "chunks": len(got.chunks),
        "graph_edges": len(got.graph_edges),
        "seconds": round(time.perf_counter() - t0, 1),
        "clean_phase_seconds": {p: round(d, 2) for p, d in durations.items()},
        "final_run_warnings": [e for e in final.other_err if e.strip()],
    }
    print("crash-safety:", json.dumps(summary))
    assert sum(timed[p] + at_op[p] for p in ("parse", "embed", "graph")) >= N_KILLS // 2, summary


def test_two_concurrent_index_runs_one_waits_out_with_a_clear_error(base_clean):
    repo, clean, _total, _run = base_clean
    idx = clean.parent / "concurrent-idx"
    runs = [start(*index_args(repo, idx), delay_s=0.15) for _ in range(2)]
    results = [r.finish() for r in runs]
    codes = sorted(rc for rc, _out in results)
    assert codes == [0, 2], [r.other_err for r in runs]
    loser = next(r for r, (rc, _o) in zip(runs, results, strict=True) if rc == 2)
    errors = [e for e in loser.other_err if e.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: another coderag process"), errors
    assert "--no-index" in errors[0]
    assert_same_index(idx, clean)


def test_search_while_indexing_reads_the_index_as_it_is(base_clean):
    repo, clean, _total, _run = base_clean
    idx = clean.parent / "reader-idx"
    gate = clean.parent / "reader-gate"
    gate.touch()  # the writer embeds nothing until the readers are done, however slow they are
    writer = start(*index_args(repo, idx), delay_s=0.3, gate=gate)
    assert wait_for(writer, "start embed")
    search = ["search", "retry backoff step", "--repo", str(repo), "--index-dir", str(idx)]
    busy = start(*search, "--json")  # cannot update the index: searches it as it is, degraded
    rc, out = busy.finish()
    assert rc == 0 and any("another coderag process" in e for e in busy.other_err), busy.other_err
    assert (hits := json.loads(out)) and all(h["degraded"] is True for h in hits)
    reader = start(*search, "--json", "--no-index")
    rc, out = reader.finish()
    assert writer.proc.poll() is None, "the index run ended before the reader was done"
    assert rc == 0, reader.other_err
    hits = json.loads(out)
    assert hits and all(h["path"] for h in hits)
    gate.unlink()
    rc, _out = writer.finish()
    assert rc == 0, writer.other_err
    assert_same_index(idx, clean)
