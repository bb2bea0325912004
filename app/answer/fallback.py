"""The honest answer when the index holds no evidence: say so and list the closest matches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_MAX_QUESTION = 200


def render_no_evidence(
    question: str,
    hits: Sequence[Mapping[str, Any]],
    *,
    limit: int = 5,
    unmentioned: Sequence[str] = (),
) -> str:
    """Render the fallback answer from hit dicts ``{"path", "start_line", "end_line", "symbol"}``.

    Each listed match is a ``path:start-end  symbol`` line (symbol left out when missing); the
    lead-in ends in ``:`` so, with real hits, the fallback itself passes ``check_answer``. Hits
    without a path or lines are skipped, repeated ones listed once, at most ``limit``. With
    ``unmentioned`` subject words, the lead-in says the repository does not appear to do what
    was asked, since no indexed file mentions them.
    """
    asked = " ".join(question.split())
    if len(asked) > _MAX_QUESTION:
        asked = asked[: _MAX_QUESTION - 3].rstrip() + "..."
    head = f'The indexed code base does not show an answer to "{asked}"'
    if unmentioned:
        words = ", ".join(f'"{w}"' for w in unmentioned[:3])
        head = (
            f'The repository does not appear to do what "{asked}" asks: no indexed file '
            f"mentions {words}"
        )
    rows: list[str] = []
    for hit in hits:
        path, start, end = hit.get("path"), hit.get("start_line"), hit.get("end_line")
        if not path or not isinstance(start, int) or not isinstance(end, int):
            continue
        row = f"{path}:{start}-{end}  {hit.get('symbol') or ''}".rstrip()
        if row not in rows:
            rows.append(row)
        if len(rows) == limit:
            break
    if not rows:
        return f"{head}, and no indexed code matched it closely."
    listing = "\n".join(f"{n}. {row}" for n, row in enumerate(rows, 1))
    return f"{head}; the closest matches were:\n\n{listing}"
