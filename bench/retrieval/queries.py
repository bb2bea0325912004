"""The committed query sets of the retrieval benchmark (``sets/*.jsonl``).

The mining itself lives in ``app.eval.mining`` (``coderag eval`` uses it on any repository);
this module stores and loads what it mines for the pinned corpora.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from app.eval.mining import build, split_of

__all__ = ["SETS", "build", "load", "split_of", "write"]

HERE = Path(__file__).resolve().parent
SETS = HERE / "sets"


def write(corpus: str, records: list[dict]) -> Path:
    """Write one corpus's queries as JSONL under ``sets/``."""
    SETS.mkdir(parents=True, exist_ok=True)
    out = SETS / f"{corpus}.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    return out


def load(corpora: Iterable[str], split: str = "all") -> list[dict]:
    """Read the committed query sets of ``corpora``, keeping ``split`` ('all' keeps both)."""
    records: list[dict] = []
    for name in corpora:
        for line in (SETS / f"{name}.jsonl").read_text().splitlines():
            record = json.loads(line)
            if split in ("all", record["split"]):
                records.append(record)
    return records
