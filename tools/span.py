"""``read_span``: numbered lines of one indexed file, with the citation checker's path rules."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from app.answer import Citation, SourceReader, verify_citation
from app.answer.verify import is_regular_file, normalise_path, resolve_inside
from tools.schemas import MAX_SPAN


class SpanError(ValueError):
    """A span that cannot be read; the message says why, for the agent that asked."""


def read_span(
    root: Path,
    path: str,
    start_line: int,
    end_line: int,
    *,
    indexed: Collection[str] | None = None,
    max_span: int = MAX_SPAN,
) -> str:
    """Return ``path:start-end`` followed by the lines, each prefixed with its number.

    The path must be relative, stay inside ``root`` after symlinks are resolved, name a regular
    file and (when ``indexed`` is given) one of the indexed files, so ignored files such as
    ``.env`` stay private. ``end_line`` past the end of the file is clipped to it.

    Raises:
        SpanError: with the reason, when the span is refused.
    """
    if end_line - start_line + 1 > max_span:
        raise SpanError(f"span of {end_line - start_line + 1} lines exceeds {max_span}")
    relative = normalise_path(path)
    if not isinstance(relative, str):
        raise SpanError(f"{path}: {relative.reason}")
    reader = SourceReader(root)
    target = resolve_inside(reader.root, relative)
    if not isinstance(target, Path):
        raise SpanError(f"{path}: {target.reason}")
    if is_regular_file(target) and (indexed is None or relative in indexed):
        try:
            count = len(reader.lines(relative))
        except OSError as exc:
            raise SpanError(f"{path}: unreadable: {exc.strerror or exc}") from exc
        if start_line > count:
            raise SpanError(f"{path}: start line {start_line} beyond end of file ({count} lines)")
        end_line = min(end_line, count)
    citation = Citation(relative, start_line, end_line, f"{relative}:{start_line}-{end_line}")
    verdict = verify_citation(citation, root, indexed=indexed, max_span=max_span, reader=reader)
    if not verdict.ok:
        raise SpanError(f"{path}: {verdict.reason}")
    try:
        lines = reader.lines(relative)[start_line - 1 : end_line]
    except OSError as exc:  # replaced under our feet since it was verified
        raise SpanError(f"{path}: unreadable: {exc.strerror or exc}") from exc
    width = len(str(end_line))
    body = "\n".join(f"{n:>{width}}  {text}" for n, text in enumerate(lines, start=start_line))
    return f"{relative}:{start_line}-{end_line}\n{body}"
