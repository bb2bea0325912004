"""Commit-message queries: a commit's subject should find the files it changed.

A developer asking "where do we retry failed uploads?" is close to the subject line of the
commit that added it. From the repository's git history (when it has one) each commit that
changed one to ``max_files`` source files still present becomes a ``commit`` query: its
cleaned subject, targeting those files (file level). Merges, reverts, releases, version bumps,
formatting and typo fixes, and subjects too short to be a question are left out.
"""

from __future__ import annotations

import random
import re
import subprocess
from collections.abc import Collection
from pathlib import Path
from typing import Any

from app.eval.mining import TEST_PATH
from app.index.languages import CODE_LANGUAGES, language_for

_PREFIX = re.compile(r"^\s*(?:\[[^\]]*\]\s*|[\w-]+(?:\([^)]*\))?!?:\s+)+")
"""``[tag] ``, ``fix: ``, ``feat(parser)!: `` and ``module: `` prefixes."""
_REFS = re.compile(r"\s*(?:\((?:#|gh-|GH-)\d+\)|#\d+|\(cherry picked[^)]*\))")
_SKIP = re.compile(
    r"(?i)^(?:merge|revert|bump|release|prepare|version|v?\d+(?:\.\d+)+|changelog|"
    r"update (?:changelog|readme|docs?|deps|dependencies|version|copyright)|initial commit)|"
    r"\b(?:typos?|whitespace|reformat|formatting|lint(?:ing)?|pre-commit|wip|fixup!|squash!)\b"
)
MIN_WORDS, MAX_WORDS = 4, 25


def clean_subject(subject: str) -> str:
    """Return a commit subject as a query, or ``''`` when it does not make one."""
    text = _REFS.sub("", _PREFIX.sub("", subject)).strip(" .:;-")
    if _SKIP.search(subject) or _SKIP.search(text):
        return ""
    words = text.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        return ""
    letters = sum(c.isalpha() or c.isspace() for c in text)
    return text if letters >= 0.75 * len(text) else ""


def git_log(repo: Path, max_commits: int) -> list[tuple[str, str, list[str]]]:
    """Return ``[(sha, subject, [changed paths relative to repo])]``, newest first.

    Empty when ``repo`` is not inside a git work tree or git is missing. Paths outside
    ``repo`` (when it is a sub-folder of the work tree) are left out.
    """
    cmd = [
        "git", "-C", str(repo), "log", "--no-merges", f"-n{max_commits}", "--relative",
        "--name-only", "--no-renames", "--format=%x1e%H%x1f%s", "--", ".",
    ]  # fmt: skip
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    commits = []
    for block in done.stdout.split("\x1e"):
        head, _, names = block.partition("\n")
        sha, sep, subject = head.partition("\x1f")
        if sep:
            commits.append((sha, subject, [n for n in names.splitlines() if n.strip()]))
    return commits


def commit_queries(
    repo: Path,
    indexed: Collection[str],
    *,
    corpus: str,
    limit: int = 40,
    max_files: int = 3,
    max_commits: int = 5000,
    seed: int = 20261123,
) -> list[dict[str, Any]]:
    """Return up to ``limit`` ``commit`` query records mined from ``repo``'s history.

    Args:
        repo: The repository (or a folder inside a git work tree).
        indexed: Paths (relative to ``repo``) that are indexed; targets must be among them.
        corpus: The ``corpus`` field of the records.
        limit: Most queries; a seeded sample when history offers more.
        max_files: A commit touching more source files than this is too broad to target.
        max_commits: How far back to read.
        seed: Sampling seed (same history, same queries).
    """
    present = set(indexed)
    seen: set[str] = set()
    pool: list[dict[str, Any]] = []
    for sha, subject, names in git_log(repo, max_commits):
        query = clean_subject(subject)
        if not query or query.lower() in seen:
            continue
        code = [n for n in dict.fromkeys(names) if language_for(n) in CODE_LANGUAGES]
        if not code or len(code) > max_files:
            continue
        if any(n not in present and not (repo / n).is_file() for n in code):
            continue  # renamed or deleted since: the target would be a guess
        code = [n for n in code if n in present]  # on disk, not indexed: empty, ignored
        if not code:
            continue
        targets = [n for n in code if not TEST_PATH.search(n)] or code
        seen.add(query.lower())
        pool.append({
            "id": f"{corpus}:commit:{sha[:12]}", "corpus": corpus, "type": "commit",
            "query": query, "targets": [{"path": n} for n in sorted(targets)],
        })  # fmt: skip
    rng = random.Random(f"{seed}:{corpus}:commit")
    rng.shuffle(pool)
    return pool[:limit]
