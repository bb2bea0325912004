from __future__ import annotations

import codecs
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import app.index.walker as walker_module
from app.index.walker import WalkResult, walk


def write(root: Path, rel: str, content: str | bytes = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def paths(result: WalkResult) -> list[str]:
    return [f.path for f in result.files]


def skips(result: WalkResult, reason: str) -> list[str]:
    return [s.path for s in result.skipped if s.reason == reason]


def test_nested_gitignore_with_negation_and_subfolder_rules(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.log\n!important.log\n/out/\n")
    write(tmp_path, "a.log", "log\n")
    write(tmp_path, "important.log", "keep\n")
    write(tmp_path, "out/gen.py")
    write(tmp_path, "src/out/real.py")  # /out/ is anchored to the root
    write(tmp_path, "src/.gitignore", "*.txt\n!notes.txt\n/local.py\n")
    write(tmp_path, "src/a.txt", "t\n")
    write(tmp_path, "src/notes.txt", "n\n")
    write(tmp_path, "src/local.py")
    write(tmp_path, "src/deeper/local.py")  # anchored to src/, not to src/deeper/
    write(tmp_path, "src/inner/.gitignore", "!*.txt\n")
    write(tmp_path, "src/inner/b.txt", "b\n")  # a deeper file re-includes it
    write(tmp_path, "top.txt", "t\n")  # src/.gitignore does not apply above src/

    result = walk(tmp_path)

    assert paths(result) == [
        ".gitignore",
        "important.log",
        "src/.gitignore",
        "src/deeper/local.py",
        "src/inner/.gitignore",
        "src/inner/b.txt",
        "src/notes.txt",
        "src/out/real.py",
        "top.txt",
    ]
    assert skips(result, "ignored") == ["a.log", "out", "src/a.txt", "src/local.py"]
    detail = {s.path: s.detail for s in result.skipped}
    assert detail["src/a.txt"] == "src/.gitignore"


def test_git_info_exclude_and_coderagignore(tmp_path: Path) -> None:
    write(tmp_path, ".git/info/exclude", "*.bak\n")
    write(tmp_path, ".git/config", "[core]\n")
    write(tmp_path, "a.bak", "b\n")
    write(tmp_path, "pkg/.coderagignore", "fixtures/\n*.snap\n")
    write(tmp_path, "pkg/fixtures/big.py")
    write(tmp_path, "pkg/x.snap", "s\n")
    write(tmp_path, "pkg/mod.py")
    write(tmp_path, "x.snap", "s\n")  # the .coderagignore in pkg/ does not reach the root

    result = walk(tmp_path)

    assert paths(result) == ["pkg/.coderagignore", "pkg/mod.py", "x.snap"]
    assert skips(result, "ignored") == ["a.bak", "pkg/fixtures", "pkg/x.snap"]
    assert not any(p.startswith(".git") for p in paths(result) + skips(result, "ignored"))


def test_coderagignore_outranks_gitignore_in_the_same_folder(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "*.gen\n")
    write(tmp_path, ".coderagignore", "!keep.gen\nnotes.md\n")
    write(tmp_path, "keep.gen", "k\n")
    write(tmp_path, "drop.gen", "d\n")
    write(tmp_path, "notes.md", "# n\n")

    result = walk(tmp_path)

    assert paths(result) == [".coderagignore", ".gitignore", "keep.gen"]
    assert skips(result, "ignored") == ["drop.gen", "notes.md"]


def test_extra_ignores_win_over_ignore_files(tmp_path: Path) -> None:
    write(tmp_path, "sub/.gitignore", "!*.py\n")
    write(tmp_path, "sub/a.py")
    write(tmp_path, "sub/b.md", "# b\n")
    write(tmp_path, "docs/x.md", "# x\n")

    result = walk(tmp_path, extra_ignores=["*.py", "docs/"])

    assert paths(result) == ["sub/.gitignore", "sub/b.md"]
    assert skips(result, "ignored") == ["docs", "sub/a.py"]
    assert {s.detail for s in result.skipped} == {"extra_ignores"}


def test_git_dir_git_file_and_coderag_dir_are_never_walked(tmp_path: Path) -> None:
    write(tmp_path, ".git/HEAD", "ref: refs/heads/main\n")
    write(tmp_path, ".coderag/index.db", "not really\n")
    write(tmp_path, "wt/.git", "gitdir: ../elsewhere\n")
    write(tmp_path, "wt/code.py")

    result = walk(tmp_path)

    assert paths(result) == ["wt/code.py"]
    assert result.skipped == []


def test_binary_by_content_and_by_suffix(tmp_path: Path) -> None:
    write(tmp_path, "blob.dat2", b"abc\x00def")
    write(tmp_path, "logo.png", b"not even read")
    write(tmp_path, "late_nul.txt", b"a\n" * 4500 + b"\x00")  # past the 8 KiB sniff window
    write(tmp_path, "ok.py")

    result = walk(tmp_path)

    assert skips(result, "binary") == ["blob.dat2", "logo.png"]
    assert paths(result) == ["late_nul.txt", "ok.py"]


def test_too_large(tmp_path: Path) -> None:
    write(tmp_path, "big.py", "x = 1\n" * 40)
    write(tmp_path, "small.py", "x = 1\n")

    result = walk(tmp_path, max_file_bytes=100)

    assert paths(result) == ["small.py"]
    assert skips(result, "too_large") == ["big.py"]
    assert result.skipped[0].detail == "240 bytes"


def test_minified_by_long_line_name_and_generated_marker(tmp_path: Path) -> None:
    write(tmp_path, "app.js", "var a=" + "1+" * 600 + "1;\n")
    write(tmp_path, "lib.min.js", "var a=1;\n")
    write(tmp_path, "style.css.map", "{}\n")
    write(tmp_path, "api_pb2.py", "x = 1\n")
    write(tmp_path, "api.pb.go", "package api\n")
    write(tmp_path, "gen.go", "// Code generated by stringer. DO NOT EDIT.\n\npackage x\n")
    write(tmp_path, "late.go", "package x\n" * 10 + "// Code generated. DO NOT EDIT.\n")
    write(tmp_path, "README.md", "A paragraph on one line. " * 60 + "\n")
    write(tmp_path, "short.js", "var a = 1;\n" * 200)

    result = walk(tmp_path, max_line_chars=1000)

    assert skips(result, "minified") == [
        "api.pb.go",
        "api_pb2.py",
        "app.js",
        "gen.go",
        "lib.min.js",
        "style.css.map",
    ]
    # Prose keeps paragraphs on one line; a marker past the first lines is not a header.
    assert paths(result) == ["README.md", "late.go", "short.js"]


def test_lock_files(tmp_path: Path) -> None:
    for name in ["package-lock.json", "yarn.lock", "poetry.lock", "Cargo.lock", "go.sum", "x.lock"]:
        write(tmp_path, f"sub/{name}", "{}\n")
    write(tmp_path, "sub/package.json", "{}\n")

    result = walk(tmp_path)

    assert paths(result) == ["sub/package.json"]
    assert len(skips(result, "lock_file")) == 6


def test_vendored_folders_are_pruned_and_counted_once(tmp_path: Path) -> None:
    for i in range(30):
        write(tmp_path, f"node_modules/pkg{i}/index.js", "module.exports = 1;\n")
    write(tmp_path, "web/node_modules/a/b.js", "x\n")
    write(tmp_path, "src/__pycache__/m.cpython-311.pyc", b"\x00")
    write(tmp_path, "rust/target/debug/out.rs", "fn main() {}\n")
    write(tmp_path, "env/pyvenv.cfg", "home = /usr\n")  # a virtualenv under any name
    write(tmp_path, "env/lib/site.py")
    write(tmp_path, "build/__init__.py", "VERSION = 1\n")  # a package named build is code
    write(tmp_path, "src/app.py")
    listed: list[str] = []
    real_scandir = os.scandir

    def spy(path: str) -> object:
        listed.append(os.path.relpath(path, tmp_path))
        return real_scandir(path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "scandir", spy)
        result = walk(tmp_path)

    assert paths(result) == ["build/__init__.py", "src/app.py"]
    assert skips(result, "vendored") == [
        "env",
        "node_modules",
        "rust/target",
        "src/__pycache__",
        "web/node_modules",
    ]
    assert result.skip_counts() == {"vendored": 5}
    assert not [p for p in listed if "node_modules/" in p]


def test_gitignore_reincluding_a_vendored_name_keeps_it(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "!vendor/\n")
    write(tmp_path, "vendor/lib.go", "package lib\n")

    assert "vendor/lib.go" in paths(walk(tmp_path))


def test_ignored_folder_is_pruned_without_listing(tmp_path: Path) -> None:
    write(tmp_path, ".gitignore", "generated/\n")
    for i in range(20):
        write(tmp_path, f"generated/deep/f{i}.py")
    listed: list[str] = []
    real_scandir = os.scandir

    def spy(path: str) -> object:
        listed.append(os.path.relpath(path, tmp_path))
        return real_scandir(path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "scandir", spy)
        result = walk(tmp_path)

    assert skips(result, "ignored") == ["generated"]
    assert result.skip_counts() == {"ignored": 1}
    assert listed == ["."]


def test_symlink_loop_to_parent(tmp_path: Path) -> None:
    write(tmp_path, "pkg/mod.py")
    (tmp_path / "pkg" / "up").symlink_to("..", target_is_directory=True)
    (tmp_path / "self").symlink_to("self")

    result = walk(tmp_path)

    assert paths(result) == ["pkg/mod.py"]
    assert skips(result, "symlink_loop") == ["pkg/up", "self"]


def test_symlinks_pointing_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    outside = tmp_path / "outside"
    write(outside, "secret.py")
    write(root, "main.py")
    (root / "ext_dir").symlink_to(outside, target_is_directory=True)
    (root / "ext_file.py").symlink_to(outside / "secret.py")

    result = walk(root)

    assert paths(result) == ["main.py"]
    assert skips(result, "symlink_outside") == ["ext_dir", "ext_file.py"]


def test_symlinks_inside_the_root_are_followed_once(tmp_path: Path) -> None:
    write(tmp_path, "real/lib.py", "def f():\n    pass\n")
    (tmp_path / "alias.py").symlink_to(tmp_path / "real" / "lib.py")
    (tmp_path / "link_a").symlink_to("real", target_is_directory=True)
    (tmp_path / "link_b").symlink_to("real", target_is_directory=True)
    (tmp_path / "broken.py").symlink_to(tmp_path / "missing.py")

    result = walk(tmp_path)

    assert paths(result) == ["alias.py", "link_a/lib.py", "real/lib.py"]
    assert result.files[0].text == "def f():\n    pass\n"
    assert skips(result, "symlink_loop") == ["link_b"]
    assert skips(result, "unreadable") == ["broken.py"]


def test_invalid_utf8_is_decoded_lossy(tmp_path: Path) -> None:
    raw = b"name = 'caf\xe9'\n"
    write(tmp_path, "latin.py", raw)
    write(tmp_path, "utf8.py", "name = 'café'\n")

    files = {f.path: f for f in walk(tmp_path).files}

    assert files["latin.py"].lossy is True
    assert files["latin.py"].text == "name = 'caf\ufffd'\n"
    assert files["latin.py"].sha == hashlib.sha1(raw).hexdigest()
    assert files["utf8.py"].lossy is False
    assert files["utf8.py"].text == "name = 'café'\n"


def test_bom_is_stripped_and_sha_covers_raw_bytes(tmp_path: Path) -> None:
    raw = codecs.BOM_UTF8 + b"x = 1\n"
    path = write(tmp_path, "bom.py", raw)
    write(tmp_path, "wide.txt", "hello\n".encode("utf-16"))

    result = walk(tmp_path)
    bom, wide = result.files

    assert bom.text == "x = 1\n"
    assert bom.sha == hashlib.sha1(raw).hexdigest()
    assert bom.size == len(raw)
    assert bom.mtime_ns == path.stat().st_mtime_ns
    assert bom.language == "python"
    assert wide.text == "hello\n"


def test_empty_files(tmp_path: Path) -> None:
    write(tmp_path, "pkg/__init__.py", "")
    write(tmp_path, "pkg/blank.py", "\n\n")
    write(tmp_path, "pkg/mod.py")

    result = walk(tmp_path)

    assert paths(result) == ["pkg/mod.py"]
    assert skips(result, "empty") == ["pkg/__init__.py", "pkg/blank.py"]


def test_unreadable_file_by_permissions(tmp_path: Path) -> None:
    path = write(tmp_path, "locked.py")
    write(tmp_path, "open.py")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop reads")
        result = walk(tmp_path)
    finally:
        path.chmod(0o644)

    assert paths(result) == ["open.py"]
    assert skips(result, "unreadable") == ["locked.py"]
    assert "Permission denied" in result.skipped[0].detail


def test_os_errors_on_one_file_become_skips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "bad.py")
    write(tmp_path, "good.py")

    def failing_open(file: str, *args: object, **kwargs: object) -> object:
        if str(file).endswith("bad.py"):
            raise PermissionError(13, "Permission denied", str(file))
        return open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(walker_module, "open", failing_open, raising=False)
    result = walk(tmp_path)

    assert paths(result) == ["good.py"]
    assert skips(result, "unreadable") == ["bad.py"]
    assert "Permission denied" in result.skipped[0].detail


def test_results_are_sorted_deterministic_and_reported(tmp_path: Path) -> None:
    for rel in ["b/z.py", "b/a.py", "a.py", "B.md", "c/d/e.go", "yarn.lock", "img.gif"]:
        write(tmp_path, rel, "content\n")
    seen: list[str] = []

    first = walk(tmp_path, on_file=seen.append)
    second = walk(tmp_path)

    assert paths(first) == ["B.md", "a.py", "b/a.py", "b/z.py", "c/d/e.go"]
    assert sorted(seen) == paths(first)
    assert first == second
    assert first.skip_counts() == {"binary": 1, "lock_file": 1}
    assert [f.language for f in first.files] == ["markdown", "python", "python", "python", "go"]


def test_root_must_be_a_directory(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        walk(write(tmp_path, "file.py"))


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_ignore_rules_agree_with_git(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    write(tmp_path, ".git/info/exclude", "*.bak\n")
    write(
        tmp_path,
        ".gitignore",
        "*.log\n!important.log\n/out/\ndocs/**/*.tmp\nlogs/\n!logs/keep.txt\n"
        "/*.cfg\na/**/deep\nsecret*\n!secret_ok.txt\n\\#hash.py\n",
    )
    write(tmp_path, "sub/.gitignore", "*.txt\n!notes.txt\n/local.py\nnested/*\n!nested/in.py\n")
    write(tmp_path, "sub/inner/.gitignore", "!*.txt\n")
    for rel in [
        "important.log", "x.log", "sub/x.log", "out/a.py", "sub/out/a.py", "docs/a/b/c.tmp",
        "docs/c.tmp", "docs/c.py", "logs/keep.txt", "logs/a.py", "a.cfg", "sub/a.cfg",
        "a/x/y/deep", "a/deep", "secret.py", "secret_ok.txt", "sub/a.txt", "sub/notes.txt",
        "sub/local.py", "sub/deeper/local.py", "sub/inner/z.txt", "sub/inner/q.bak", "keep.py",
        "#hash.py", "sub/nested/in.py", "sub/nested/out.py",
    ]:  # fmt: skip
        write(tmp_path, rel, "content\n")
    listed = subprocess.run(
        ["git", "-C", str(tmp_path), "ls-files", "--others", "--exclude-standard"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()

    assert paths(walk(tmp_path)) == sorted(listed)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_special_files_are_skipped_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")  # reading it would block forever
    (tmp_path / "pipe_link").symlink_to("pipe")
    write(tmp_path, "a.py")

    result = walk(tmp_path)

    assert paths(result) == ["a.py"]
    assert skips(result, "unreadable") == ["pipe", "pipe_link"]
