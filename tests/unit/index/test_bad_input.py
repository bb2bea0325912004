"""Hostile repositories: every bad input is indexed or skipped with a reason, and nothing crashes.

The single cases the walker tests already pin down (one binary, one latin-1 file, one loop to the
parent, one link out) are not repeated; these add the harder variants and run them all through
the real indexer at once. Everything is generated under ``tmp_path``.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.index.indexer import Indexer
from app.index.report import IndexReport
from app.index.stores.db import IndexDB
from app.index.walker import MAX_DEPTH, WalkResult, walk
from app.settings import Settings
from tests.conftest import FakeEmbedder, write_tree

BIG_BYTES = 50 * 1024 * 1024
DEEP = 10_000
ODD_NAMES = (
    "with space.py",
    "ünïcödé.py",
    "日本語.go",
    "new\nline.py",
    "tab\tname.py",
    "-rf.py",
    "--help.py",
    " leading space.py",
    "quote'\"s.py",
    "semi;colon&amp.py",
)
SYNTAX_ERRORS: dict[str, str | bytes] = {
    "broken/syntax.py": (
        "def broken(:\n    return (\n\nclass Fine:\n    def ok(self):\n        pass\n"
    ),
    "broken/syntax.js": (
        "function broken( {\n  return [1, 2;\n}\n\nfunction good() {\n  return 1;\n}\n"
    ),
    "broken/syntax.go": "package main\n\nfunc broken( {\n}\n\nfunc good() int {\n\treturn 1\n}\n",
    "broken/syntax.rs": "fn broken( {\n}\n\nfn good() -> i32 {\n    1\n}\n",
}
INVALID_UTF8: dict[str, str | bytes] = {
    "utf8/overlong.py": b"x = '\xc0\xaf'\n\ndef after_overlong():\n    return 1\n",
    "utf8/surrogate.py": b"x = '\xed\xa0\x80'\n\ndef after_surrogate():\n    return 2\n",
    "utf8/truncated.py": b"def before_truncated():\n    return 3\n# \xe2\x82",
    "utf8/random.txt": bytes(range(0x80, 0x100)) * 4 + b"\ntext after the noise\n",
}
BINARY: dict[str, str | bytes] = {
    "bin/elf": b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8,
    "bin/odd_utf16.txt": b"\xff\xfea",  # a UTF-16 BOM, then half a character
    "bin/image.png": b"def looks_like_code():\n    pass\n",  # refused by suffix, never read
}


def odd_source(name: str) -> str:
    """Valid code in the language of ``name``."""
    if name.endswith(".go"):
        return "package odd\n\nfunc Odd() int {\n\treturn 3\n}\n"
    return "def odd():\n    return 3\n"


def make_deep(parent: Path, depth: int, files_at: tuple[int, ...] = ()) -> int:
    """Nest ``depth`` folders named ``d`` under ``parent`` (relative ``mkdir``: no PATH_MAX).

    ``files_at`` lists levels (1 = ``parent/d``) that get a ``m.py``. Returns the depth reached,
    which is less than asked only when the file system refuses to go deeper.
    """
    fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for level in range(1, depth + 1):
            try:
                os.mkdir("d", dir_fd=fd)
            except OSError:
                return level - 1
            child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
            if level in files_at:
                out = os.open("m.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
                os.write(out, f"def level_{level}():\n    return {level}\n".encode())
                os.close(out)
        return depth
    finally:
        os.close(fd)


def remove_deep(parent: Path) -> None:
    """Remove ``parent/d/d/...``: walk down by file descriptor, then delete bottom-up."""
    flags = os.O_RDONLY | os.O_DIRECTORY
    fd = os.open(parent, flags)
    depth = 0
    try:
        while "d" in os.listdir(fd):
            child = os.open("d", flags, dir_fd=fd)
            os.close(fd)
            fd, depth = child, depth + 1
        for _ in range(depth):
            for name in os.listdir(fd):  # only files are left: the child folder is gone
                os.unlink(name, dir_fd=fd)
            up = os.open("..", flags, dir_fd=fd)
            os.close(fd)
            fd = up
            os.rmdir("d", dir_fd=fd)
    finally:
        os.close(fd)


def run_indexer(root: Path, index_dir: Path) -> IndexReport:
    """Index ``root`` into ``index_dir`` with the fake embedder."""
    embedder: Any = FakeEmbedder()
    return Indexer(root, Settings(index_dir=index_dir), embedder=embedder).run()


def paths(result: WalkResult) -> list[str]:
    return [f.path for f in result.files]


def skipped(result: WalkResult) -> dict[str, tuple[str, str]]:
    return {s.path: (s.reason, s.detail) for s in result.skipped}


@pytest.fixture(scope="module")
def bad_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """``build_bad_repo`` once per module (10,000 folders cost seconds to make and remove)."""
    base = tmp_path_factory.mktemp("bad")
    root = base / "repo"
    build_bad_repo(root, base / "outside")
    yield root
    remove_deep(root / "deep")


@pytest.mark.slow
def test_ten_thousand_nested_folders_stop_at_the_depth_limit(bad_repo: Path) -> None:
    result = walk(bad_repo / "deep")

    assert paths(result) == sorted(["d/m.py", "d/" * 50 + "m.py", "d/" * MAX_DEPTH + "m.py"])
    ((rel, (reason, detail)),) = skipped(result).items()
    assert rel == "/".join(["d"] * (MAX_DEPTH + 1))
    assert (reason, detail) == ("unreadable", f"nested {MAX_DEPTH + 1} folders deep (limit 100)")


@pytest.mark.slow
def test_nesting_past_the_os_path_limit_is_skipped_with_the_reason(bad_repo: Path) -> None:
    result = walk(bad_repo / "deep", max_depth=DEEP + 1)

    levels = (1, 50, MAX_DEPTH, MAX_DEPTH + 1, 1000)
    assert paths(result) == sorted("d/" * n + "m.py" for n in levels)
    ((rel, (reason, detail)),) = skipped(result).items()
    assert reason == "unreadable"
    assert detail.startswith("path too long for the operating system")
    assert 1000 < rel.count("d") < DEEP  # as deep as the OS allows, no deeper


def test_odd_file_names_are_indexed_under_their_own_names(tmp_path: Path) -> None:
    for name in ODD_NAMES:
        write_tree(tmp_path, {name: odd_source(name)})
    os.mkdir(os.fsencode(tmp_path / "dir") + b"\xff")
    (Path(os.fsdecode(os.fsencode(tmp_path / "dir") + b"\xff")) / "inner.py").write_text("x = 1\n")
    (tmp_path / os.fsdecode(b"file\xfe.py")).write_text("x = 2\n")

    result = walk(tmp_path)

    assert paths(result) == sorted(ODD_NAMES)
    assert {f.language for f in result.files} == {"python", "go"}
    assert skipped(result) == {  # the undecodable byte shows as "?"
        "dir?/inner.py": ("unreadable", "file name is not UTF-8"),
        "file?.py": ("unreadable", "file name is not UTF-8"),
    }


def test_a_50_mb_file_is_refused_by_its_size_without_being_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with open(tmp_path / "huge.py", "wb") as fh:
        fh.truncate(BIG_BYTES)  # sparse: instant, takes no disk
    write_tree(tmp_path, {"small.py": "x = 1\n"})
    reads: list[int] = []
    real_read = os.read

    def spy(fd: int, n: int) -> bytes:
        reads.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", spy)
    result = walk(tmp_path)

    assert paths(result) == ["small.py"]
    assert skipped(result) == {"huge.py": ("too_large", f"{BIG_BYTES} bytes")}
    assert all(n < BIG_BYTES for n in reads)


def test_binary_content_without_a_telling_name(tmp_path: Path) -> None:
    write_tree(tmp_path, BINARY)

    result = walk(tmp_path)

    assert paths(result) == []
    assert skipped(result) == {
        "bin/elf": ("binary", "NUL byte"),
        "bin/odd_utf16.txt": ("binary", "undecodable UTF-16"),
        "bin/image.png": ("binary", ".png"),
    }


def test_symlink_loops_of_every_shape(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a/real.py": "x = 1\n", "b/other.py": "y = 2\n"})
    (tmp_path / "ping.py").symlink_to("pong.py")
    (tmp_path / "pong.py").symlink_to("ping.py")
    (tmp_path / "a" / "to_b").symlink_to("../b", target_is_directory=True)
    (tmp_path / "b" / "to_a").symlink_to("../a", target_is_directory=True)
    (tmp_path / "a" / "deeper").mkdir()
    (tmp_path / "a" / "deeper" / "root").symlink_to("../..", target_is_directory=True)

    result = walk(tmp_path)

    # each link is followed once (as in the walker tests); every cycle back is cut
    assert paths(result) == ["a/real.py", "a/to_b/other.py", "b/other.py", "b/to_a/real.py"]
    loops = {p for p, (reason, _) in skipped(result).items() if reason == "symlink_loop"}
    assert loops == {
        "a/deeper/root",
        "a/to_b/to_a",
        "b/to_a/deeper/root",
        "b/to_a/to_b",
        "ping.py",
        "pong.py",
    }
    assert len(result.skipped) == len(loops)


def test_symlinks_out_of_the_repository_of_every_shape(tmp_path: Path) -> None:
    root, outside = tmp_path / "repo", tmp_path / "outside"
    write_tree(outside, {"secret.py": "TOKEN = 'hunter2'\n"})
    write_tree(root, {"pkg/mod.py": "x = 1\n"})
    (root / "passwd.py").symlink_to("/etc/passwd")
    (root / "pkg" / "relative.py").symlink_to("../../outside/secret.py")
    (root / "hop.py").symlink_to("pkg/hop2.py")  # inside, then out
    (root / "pkg" / "hop2.py").symlink_to(outside / "secret.py")
    (root / "pkg" / "outdir").symlink_to(outside, target_is_directory=True)
    (root / "git_link").symlink_to(".git", target_is_directory=True)
    (root / ".git").mkdir()

    result = walk(root)

    assert paths(result) == ["pkg/mod.py"]
    assert skipped(result) == {
        "git_link": ("ignored", "links into .git"),
        "hop.py": ("symlink_outside", str(outside / "secret.py")),
        "passwd.py": ("symlink_outside", "/etc/passwd"),
        "pkg/hop2.py": ("symlink_outside", str(outside / "secret.py")),
        "pkg/outdir": ("symlink_outside", str(outside)),
        "pkg/relative.py": ("symlink_outside", str(outside / "secret.py")),
    }
    assert "hunter2" not in repr(result.files)


def test_an_empty_repository_indexes_to_nothing(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / ".git" / "objects").mkdir(parents=True)
    (root / "empty_dir").mkdir()

    report = run_indexer(root, tmp_path / "idx")

    assert (report.files, report.chunks, report.symbols, report.skipped) == (0, 0, 0, {})
    assert report.vectors == 0 and report.graph_nodes == 0


def test_a_missing_root_or_a_file_root_is_refused(tmp_path: Path) -> None:
    file_root = write_tree(tmp_path, {"file.py": "x = 1\n"}) / "file.py"
    for bad in (tmp_path / "missing", file_root):
        with pytest.raises(NotADirectoryError):
            walk(bad)
        with pytest.raises(FileNotFoundError, match="is not a directory"):
            run_indexer(bad, tmp_path / "idx")


def build_bad_repo(root: Path, outside: Path, depth: int = DEEP) -> None:
    """Every bad input at once (the CLI tests index it too); ``deep/`` nests ``depth`` folders.

    Remove it with ``remove_deep(root / "deep")``: ordinary tree removal fails that deep.
    """
    write_tree(outside, {"secret.txt": "TOPSECRET\n"})
    write_tree(root, {"ok.py": "def ok():\n    return 1\n", **SYNTAX_ERRORS, **INVALID_UTF8})
    write_tree(root, BINARY)
    for name in ODD_NAMES:
        write_tree(root, {f"odd/{name}": odd_source(name)})
    (root / os.fsdecode(b"bad\xffname.py")).write_bytes(b"x = 1\n")
    with open(root / "huge.py", "wb") as fh:
        fh.truncate(BIG_BYTES)
    (root / "loop").symlink_to("loop")
    (root / "odd" / "up").symlink_to("..", target_is_directory=True)
    (root / "passwd.py").symlink_to("/etc/passwd")
    (root / "secret.txt").symlink_to(outside / "secret.txt")
    (root / "outdir").symlink_to(outside, target_is_directory=True)
    (root / "deep").mkdir()
    levels = (1, 50, MAX_DEPTH, MAX_DEPTH + 1, 1000)
    assert make_deep(root / "deep", depth, files_at=levels) == depth, "the OS refused the depth"


#: What indexing ``build_bad_repo`` must report.
BAD_REPO_FILES = 1 + len(SYNTAX_ERRORS) + len(INVALID_UTF8) + len(ODD_NAMES) + 2
BAD_REPO_SKIPS = {
    "binary": 3,
    "symlink_loop": 2,
    "symlink_outside": 3,
    "too_large": 1,
    "unreadable": 2,  # the non-UTF-8 name and the folder nested too deep
}


@pytest.mark.slow
def test_all_bad_inputs_at_once_through_the_indexer(bad_repo: Path, tmp_path: Path) -> None:
    report = run_indexer(bad_repo, tmp_path / "idx")
    again = run_indexer(bad_repo, tmp_path / "idx")

    assert report.files == BAD_REPO_FILES
    assert report.skipped == BAD_REPO_SKIPS
    assert report.syntax_errors == len(SYNTAX_ERRORS)
    assert report.lossy_utf8 == len(INVALID_UTF8)
    assert report.structural == BAD_REPO_FILES - 1  # utf8/random.txt is plain text
    assert report.vectors == report.chunks > 0
    assert (again.added, again.changed, again.deleted) == (0, 0, 0)
    assert again.unchanged == BAD_REPO_FILES
    db = IndexDB(tmp_path / "idx" / "index.db")
    try:
        symbols = {c.symbol for c in db.all_chunks() if c.symbol}
        texts = "\n".join(c.text for c in db.all_chunks())
        rows = db.file_rows()
    finally:
        db.close()
    # the well-formed code after a syntax error or a bad byte is still found
    assert {"broken.syntax.Fine", "broken.syntax.good", "utf8.overlong.after_overlong"} <= symbols
    assert "function good()" in texts  # JS: recovered as text of the module chunk
    assert "utf8.surrogate.after_surrogate" in symbols
    assert "text after the noise" in texts
    assert {"odd/-rf.py", "odd/--help.py", "odd/new\nline.py"} <= set(rows)
    assert {f"deep/{'d/' * n}m.py" for n in (1, 50)} <= set(rows)  # deep/ is a level too
    assert "TOPSECRET" not in texts and "root:" not in texts


def test_os_errors_while_listing_a_folder_become_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tree(tmp_path, {"ok/a.py": "x = 1\n", "gone/b.py": "y = 2\n"})
    real_scandir = os.scandir

    def flaky(path: str) -> object:
        if path.endswith("gone"):
            raise OSError(errno.EIO, "Input/output error", path)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", flaky)
    result = walk(tmp_path)

    assert paths(result) == ["ok/a.py"]
    assert skipped(result) == {
        "gone": ("unreadable", f"[Errno 5] Input/output error: '{tmp_path}/gone'")
    }
