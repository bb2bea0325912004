"""Atomic file replacement in the index directory and clean-up after killed writers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.index.layout import remove_orphan_temps, write_atomic


def test_write_atomic_replaces_the_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "graph.pkl"
    target.write_bytes(b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.pkl"]


def test_write_atomic_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch):
    target = tmp_path / "graph.pkl"
    target.write_bytes(b"old")

    def broken_replace(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["graph.pkl"]


def test_only_temporaries_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    orphan = tmp_path / f"graph.pkl.{dead_pid}.k3j2_x.tmp"
    live = tmp_path / f"graph.pkl.{os.getpid()}.a81bq.tmp"
    foreign = tmp_path / "notes.tmp"
    for p in (orphan, live, foreign):
        p.write_bytes(b"x")
    assert remove_orphan_temps(tmp_path) == 1
    assert not orphan.exists() and live.exists() and foreign.exists()
