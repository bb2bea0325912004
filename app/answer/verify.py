"""Check one citation against the files on disk: inside the root, indexed, lines in range.

This module is the sandbox of everything that opens repository files on a model's or an agent's
say-so (citations, ``read_span``): a path is accepted only when it is relative, and when it still
lies inside the root once every symlink is resolved; nothing is read before that holds.
"""

from __future__ import annotations

import errno
import posixpath
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from app.answer.citations import Citation
from app.index.secrets.scan import redact

DEFAULT_MAX_SPAN = 400
_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:)?[\\/]")


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a citation holds, and why not when it does not."""

    ok: bool
    reason: str


class SourceReader:
    """Reads files under ``root`` once each (UTF-8, undecodable bytes replaced), then caches."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self._lines: dict[Path, list[str]] = {}

    def lines(self, relative: str) -> list[str]:
        """Return the lines of ``root/relative`` without line endings (cached).

        Raises:
            OSError: When the file cannot be read, or (``PermissionError``) when the path leaves
                the root, symlinks included.
        """
        path = resolve_inside(self.root, relative)
        if isinstance(path, Verdict):
            raise PermissionError(errno.EACCES, path.reason, relative)
        cached = self._lines.get(path)
        if cached is None:
            text = path.read_bytes().decode("utf-8", errors="replace")
            text = redact(text, relative)[0]  # what the index holds: secrets masked, same lines
            cached = [line.removesuffix("\r") for line in text.split("\n")]
            if cached and cached[-1] == "":
                cached.pop()  # a final newline ends the last line, it opens no new one
            self._lines[path] = cached
        return cached

    def span(self, citation: Citation) -> str:
        """Return the text of the cited lines (the citation must have been verified)."""
        return "\n".join(self.lines(citation.path)[citation.start_line - 1 : citation.end_line])


def normalise_path(path: str) -> str | Verdict:
    """Return ``path`` as a clean root-relative POSIX path, or the rejecting verdict."""
    path = path.replace("\\", "/")
    if not path:
        return Verdict(False, "empty path")
    if "\0" in path:
        return Verdict(False, "NUL character in path")
    if _WINDOWS_ABSOLUTE.match(path):
        return Verdict(False, "absolute path")
    clean = posixpath.normpath(path)
    if clean == ".." or clean.startswith("../"):
        return Verdict(False, "path escapes the repository root")
    if clean == ".":
        return Verdict(False, "not a file")
    return clean


def resolve_inside(root: Path, relative: str) -> Path | Verdict:
    """Return the real path of ``root/relative``, or the rejecting verdict.

    ``root`` must already be resolved. Symlinks are followed, so a link (to a file or a folder)
    that leads out of ``root`` is refused, as are paths that cannot be resolved at all (a
    symlink loop, a name longer than the system allows).
    """
    try:
        target = (root / relative).resolve()
    except RuntimeError:  # Python 3.11 reports a symlink loop so
        return Verdict(False, "symlink loop")
    except (OSError, ValueError) as exc:
        if getattr(exc, "errno", None) == errno.ELOOP:
            return Verdict(False, "symlink loop")
        return Verdict(False, f"unresolvable path: {getattr(exc, 'strerror', None) or exc}")
    if not target.is_relative_to(root):
        return Verdict(False, "resolves outside the repository root")
    return target


def is_regular_file(path: Path) -> bool:
    """Whether ``path`` is a regular file (not a folder, FIFO or device); False on any error."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def verify_citation(
    c: Citation,
    root: str | Path,
    *,
    indexed: Collection[str] | None = None,
    max_span: int = DEFAULT_MAX_SPAN,
    reader: SourceReader | None = None,
) -> Verdict:
    """Check that ``c`` names an indexed file inside ``root`` and a line range that exists.

    ``indexed`` holds root-relative POSIX paths; the citation's path is compared after
    normalisation (``a/./b.py`` -> ``a/b.py``). Pass one ``reader`` to many calls so that each
    file is read once.
    """
    reader = reader or SourceReader(root)
    relative = normalise_path(c.path)
    if isinstance(relative, Verdict):
        return relative
    target = resolve_inside(reader.root, relative)
    if isinstance(target, Verdict):
        return target
    if not is_regular_file(target):
        return Verdict(False, "no such file")
    if indexed is not None and relative not in indexed:
        return Verdict(False, "file is not indexed")
    if c.start_line < 1:
        return Verdict(False, "start line before line 1")
    if c.start_line > c.end_line:
        return Verdict(False, "start line after end line")
    try:
        count = len(reader.lines(relative))
    except OSError as exc:
        return Verdict(False, f"unreadable: {exc.strerror or exc}")
    if c.end_line > count:
        return Verdict(False, f"end line {c.end_line} beyond end of file ({count} lines)")
    if c.end_line - c.start_line + 1 > max_span:
        return Verdict(False, f"span of {c.end_line - c.start_line + 1} lines exceeds {max_span}")
    return Verdict(True, "ok")
