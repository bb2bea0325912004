"""Walk a repository and return the text files worth indexing, and why the others were refused.

Ignore rules follow git: every ``.gitignore`` (and ``.coderagignore``) applies relative to its
own folder, the deepest file with a matching pattern decides, ``.git/info/exclude`` sits below
them all, and an ignored folder is pruned without being listed (so a huge ignored
``node_modules`` costs one pattern check). Matching is done by ``pathspec.GitIgnoreSpec``.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import logging
import os
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from app.index.languages import language_for
from app.index.records import Skip, SkipReason, SourceFile

log = logging.getLogger(__name__)

#: Folders never walked and never reported: git's data and our own index.
ALWAYS_SKIPPED = frozenset({".git", ".coderag"})
IGNORE_FILES = (".gitignore", ".coderagignore")
VENDORED_DIRS = frozenset({
    "node_modules", "vendor", "third_party", "bower_components", ".venv", "venv",
    "site-packages", "__pycache__", "dist", "build", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".ruff_cache", ".eggs", "target",
})  # fmt: skip
#: Vendored names that are also real package names (pypa's ``build``): kept when they hold code.
_AMBIGUOUS_DIRS = frozenset({"build", "dist", "target", "vendor"})
#: Marker files that make any folder a virtualenv or a cache (CACHEDIR.TAG: cargo, pytest, ...).
_VENDOR_MARKERS = ("pyvenv.cfg", "CACHEDIR.TAG")
LOCK_FILES = frozenset({
    "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock",
    "cargo.lock", "pipfile.lock", "uv.lock", "go.sum", "composer.lock", "gemfile.lock",
    "bun.lockb", "packages.lock.json",
})  # fmt: skip
BINARY_SUFFIXES = frozenset({
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".icns", ".webp", ".tif", ".tiff", ".psd",
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt",
    ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar", ".jar", ".war", ".ear",
    ".whl", ".egg", ".so", ".dll", ".dylib", ".exe", ".bin", ".o", ".a", ".lib", ".obj",
    ".class", ".pyc", ".pyo", ".pyd", ".wasm", ".woff", ".woff2", ".ttf", ".otf", ".eot",
    ".mp3", ".mp4", ".m4a", ".wav", ".ogg", ".flac", ".avi", ".mov", ".mkv", ".webm",
    ".sqlite", ".sqlite3", ".db", ".npy", ".npz", ".pkl", ".pickle", ".pt", ".pth", ".onnx",
    ".safetensors", ".gguf", ".parquet", ".h5", ".dat", ".iso", ".dmg", ".deb", ".rpm",
})  # fmt: skip
_GENERATED_NAMES = (
    ".min.js", ".min.mjs", ".min.css", ".map", ".bundle.js", "_pb2.py", "_pb2.pyi",
    "_pb2_grpc.py", ".pb.go", ".pb.cc", ".pb.h", ".pb.ts",
)  # fmt: skip
_GENERATED_MARKER = re.compile(r"(?i)\bgenerated\b.*\bdo not edit\b|@generated\b")
_SNIFF_BYTES = 8192
_HEAD_LINES = 5
#: Prose keeps whole paragraphs on one line; only a far longer line means generated text.
_PROSE_LINE_FACTOR = 10
MAX_DEPTH = 100
"""Folders nested deeper are refused: no real source tree goes near it, and dotted module names
that long make the whole-program analyses slow for nothing."""


@dataclass
class WalkResult:
    """What the walk accepted and what it refused, both sorted by path."""

    files: list[SourceFile] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)

    def skip_counts(self) -> dict[str, int]:
        """Return how many paths were refused for each reason."""
        return dict(sorted(Counter(s.reason for s in self.skipped).items()))


@dataclass(frozen=True, slots=True)
class _Layer:
    """The patterns of one ignore file, matched relative to the folder that holds it."""

    prefix: str
    spec: pathspec.GitIgnoreSpec
    source: str


@dataclass(frozen=True, slots=True)
class _Frame:
    """A folder waiting to be listed."""

    rel: str
    path: str
    chain: tuple[str, ...]
    """Real paths of this folder and its ancestors: a symlink to one of them is a loop."""
    layers: tuple[_Layer, ...]
    explicit: bool = False
    """True when an ignore file re-included the folder, which overrides the vendored rule."""


def walk(
    root: Path,
    *,
    max_file_bytes: int = 1_000_000,
    max_line_chars: int = 1_000,
    extra_ignores: Sequence[str] = (),
    on_file: Callable[[str], None] | None = None,
    max_depth: int = MAX_DEPTH,
) -> WalkResult:
    """Return every indexable text file under ``root`` and every refused path with its reason.

    Args:
        root: The repository folder; paths in the result are relative to it, POSIX style.
        max_file_bytes: Larger files are refused as ``too_large``.
        max_line_chars: A longer line marks a file as ``minified``.
        extra_ignores: Gitignore-style patterns relative to ``root``; they outrank every ignore
            file, so the user's configuration always wins.
        on_file: Called with the path of each accepted file, to drive a progress bar.
        max_depth: A folder nested deeper is refused (``unreadable``) without being listed.

    Raises:
        NotADirectoryError: When ``root`` is not a folder (nothing below it raises).
    """
    real = os.path.realpath(root)
    if not os.path.isdir(real):
        raise NotADirectoryError(f"not a directory: {root}")
    walker = _Walker(real, max_file_bytes, max_line_chars, extra_ignores, on_file, max_depth)
    return walker.run()


class _Walker:
    """Hold the state of one walk: limits, results and the symlinked folders already seen."""

    def __init__(
        self,
        root: str,
        max_file_bytes: int,
        max_line_chars: int,
        extra_ignores: Sequence[str],
        on_file: Callable[[str], None] | None,
        max_depth: int = MAX_DEPTH,
    ) -> None:
        self.root = root
        self.max_file_bytes = max_file_bytes
        self.max_line_chars = max_line_chars
        self.on_file = on_file
        self.max_depth = max_depth
        self.extra = _layer("", list(extra_ignores), "extra_ignores")
        self.linked: dict[str, str] = {}
        self.result = WalkResult()

    def run(self) -> WalkResult:
        """Walk depth-first in name order, then sort the results."""
        exclude = _read_lines(_git_exclude_path(self.root))
        base = _layer("", exclude, ".git/info/exclude")
        stack = [_Frame("", self.root, (self.root,), (base,) if base else ())]
        while stack:
            stack.extend(reversed(self._list(stack.pop())))
        self.result.files.sort(key=lambda f: f.path)
        self.result.skipped.sort(key=lambda s: (s.path, s.reason))
        log.debug(
            "walked %s: %d files, skipped %s",
            self.root,
            len(self.result.files),
            self.result.skip_counts(),
        )
        return self.result

    def _skip(self, path: str, reason: SkipReason, detail: str = "") -> None:
        self.result.skipped.append(Skip(path, reason, detail))

    def _list(self, frame: _Frame) -> list[_Frame]:
        """Visit the entries of one folder and return its sub-folders to walk."""
        try:
            with os.scandir(frame.path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            detail = str(exc)
            if exc.errno == errno.ENAMETOOLONG:
                detail = f"path too long for the operating system ({len(frame.path)} characters)"
            self._skip(frame.rel, "unreadable", detail)
            return []
        names = {e.name for e in entries}
        if frame.rel and not frame.explicit and _is_vendored(frame.rel, names):
            self._skip(frame.rel, "vendored")
            return []
        layers = frame.layers
        for name in IGNORE_FILES:
            if name in names:
                lines = _read_lines(os.path.join(frame.path, name))
                layer = _layer(f"{frame.rel}/" if frame.rel else "", lines, _join(frame.rel, name))
                layers += (layer,) if layer else ()
        subdirs = []
        for entry in entries:
            if entry.name not in ALWAYS_SKIPPED:
                sub = self._visit(frame, layers, entry)
                if sub is not None:
                    subdirs.append(sub)
        return subdirs

    def _visit(
        self, frame: _Frame, layers: tuple[_Layer, ...], entry: os.DirEntry[str]
    ) -> _Frame | None:
        """Classify one entry: record a file or a skip, or return a folder to walk."""
        rel = _join(frame.rel, entry.name)
        try:
            is_link = entry.is_symlink()
            is_dir = entry.is_dir()
            is_file = not is_dir and entry.is_file()  # follows links; FIFOs would block a read
        except OSError as exc:
            reason: SkipReason = "symlink_loop" if exc.errno == errno.ELOOP else "unreadable"
            self._skip(rel, reason, str(exc))
            return None
        verdict, source = self._ignored(layers, f"{rel}/" if is_dir else rel)
        if verdict:
            self._skip(rel, "ignored", source)
            return None
        real = os.path.join(frame.chain[-1], entry.name)
        if is_link:
            real = os.path.realpath(entry.path)
            if not self._follow(frame, rel, real, is_dir):
                return None
        if is_dir:
            depth = rel.count("/") + 1
            if depth > self.max_depth:
                limit = self.max_depth
                self._skip(rel, "unreadable", f"nested {depth} folders deep (limit {limit})")
                return None
            chain = (*frame.chain, real)
            return _Frame(rel, entry.path, chain, layers, explicit=verdict is False)
        if is_file:
            self._visit_file(rel, entry.path)
        else:
            self._skip(rel, "unreadable", "not a regular file")
        return None

    def _ignored(self, layers: tuple[_Layer, ...], rel: str) -> tuple[bool | None, str]:
        """Return git's verdict for ``rel``: the deepest ignore file with a match decides."""
        for layer in (self.extra, *reversed(layers)):
            if layer is not None:
                include = layer.spec.check_file(rel[len(layer.prefix) :], separators=()).include
                if include is not None:
                    return include, layer.source
        return None, ""

    def _follow(self, frame: _Frame, rel: str, real: str, is_dir: bool) -> bool:
        """Return True when a symlink stays inside the root and leads somewhere new."""
        inside = os.path.relpath(real, self.root)
        if inside == os.pardir or inside.startswith(os.pardir + os.sep):
            self._skip(rel, "symlink_outside", real)
            return False
        if set(Path(inside).parts) & ALWAYS_SKIPPED:
            self._skip(rel, "ignored", f"links into {inside}")
            return False
        if not is_dir:
            if os.path.exists(real):
                return True
            self._skip(rel, "unreadable", f"broken symlink to {real}")
            return False
        if real in frame.chain:
            self._skip(rel, "symlink_loop", f"links to its ancestor {inside}")
            return False
        if real in self.linked:
            self._skip(rel, "symlink_loop", f"already walked as {self.linked[real]}")
            return False
        self.linked[real] = rel
        return True

    def _visit_file(self, rel: str, path: str) -> None:
        """Refuse a file by name when possible, else read and classify its content."""
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:  # a surrogate-escaped byte: no store can hold this name
            self._skip(
                rel.encode("utf-8", "replace").decode(), "unreadable", "file name is not UTF-8"
            )
            return
        name = rel.rpartition("/")[2].lower()
        if name in LOCK_FILES or name.endswith(".lock"):
            self._skip(rel, "lock_file")
            return
        suffix = os.path.splitext(name)[1]
        if suffix in BINARY_SUFFIXES:
            self._skip(rel, "binary", suffix)
            return
        if name.endswith(_GENERATED_NAMES):
            self._skip(rel, "minified", "generated file name")
            return
        try:
            found = self._read(rel, path)
        except OSError as exc:
            found = Skip(rel, "unreadable", str(exc))
        if isinstance(found, Skip):
            self.result.skipped.append(found)
            return
        self.result.files.append(found)
        if self.on_file is not None:
            self.on_file(rel)

    def _read(self, rel: str, path: str) -> SourceFile | Skip:
        """Read one file, refusing it before reading when its size already says no."""
        with open(path, "rb") as fh:
            st = os.fstat(fh.fileno())
            if st.st_size > self.max_file_bytes:
                return Skip(rel, "too_large", f"{st.st_size} bytes")
            data = fh.read(self.max_file_bytes + 1)
        if len(data) > self.max_file_bytes:
            return Skip(rel, "too_large", f"over {self.max_file_bytes} bytes")
        if not data.strip():
            return Skip(rel, "empty")
        decoded = _decode(data)
        if decoded is None:
            utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
            return Skip(rel, "binary", "undecodable UTF-16" if utf16 else "NUL byte")
        text, lossy = decoded
        language = language_for(rel)
        why = self._generated(language, text)
        if why:
            return Skip(rel, "minified", why)
        sha = hashlib.sha1(data).hexdigest()
        return SourceFile(rel, language, text, sha, len(data), st.st_mtime_ns, lossy)

    def _generated(self, language: str, text: str) -> str:
        """Return why ``text`` looks generated or minified, or an empty string."""
        head = text[:4096].split("\n", _HEAD_LINES)[:_HEAD_LINES]
        if any(_GENERATED_MARKER.search(line) for line in head):
            return "generated marker"
        limit = self.max_line_chars
        if language == "markdown":
            limit *= _PROSE_LINE_FACTOR
        if len(text) > limit and max(map(len, text.split("\n"))) > limit:
            return f"a line over {limit} characters"
        return ""


def _decode(data: bytes) -> tuple[str, bool] | None:
    """Return ``(text, lossy)``, or None for binary content (a NUL byte in the first 8 KiB)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), False
        except UnicodeDecodeError:
            return None
    if b"\0" in data[:_SNIFF_BYTES]:
        return None
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    try:
        return body.decode("utf-8"), False
    except UnicodeDecodeError:
        return body.decode("utf-8", errors="replace"), True


def _is_vendored(rel: str, names: set[str]) -> bool:
    """Return True for third-party, cache or build folders (judged by name and contents)."""
    if any(marker in names for marker in _VENDOR_MARKERS):
        return True
    name = rel.rpartition("/")[2]
    if name not in VENDORED_DIRS and not name.endswith(".egg-info"):
        return False
    # A folder named ``build`` that is a Python package is source code, not output.
    return not (name in _AMBIGUOUS_DIRS and "__init__.py" in names)


def _layer(prefix: str, lines: list[str], source: str) -> _Layer | None:
    """Compile ignore patterns; return None when there are none, to keep lookups short."""
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    return _Layer(prefix, spec, source) if len(spec) else None


def _read_lines(path: str | None) -> list[str]:
    """Return the lines of an ignore file, or none when it is missing or unreadable."""
    if path is None:
        return []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read().splitlines()
    except OSError:
        return []


def _git_exclude_path(root: str) -> str | None:
    """Find ``info/exclude`` of the repository at ``root``, worktrees (``.git`` file) included."""
    dot_git = os.path.join(root, ".git")
    if os.path.isdir(dot_git):
        return os.path.join(dot_git, "info", "exclude")
    try:
        with open(dot_git, encoding="utf-8") as fh:
            first = fh.readline().strip()
    except OSError:
        return None
    if not first.startswith("gitdir:"):
        return None
    git_dir = os.path.join(root, first.partition(":")[2].strip())
    common = _read_lines(os.path.join(git_dir, "commondir"))
    if common:
        git_dir = os.path.join(git_dir, common[0].strip())
    return os.path.join(git_dir, "info", "exclude")


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name
