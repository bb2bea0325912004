r"""Find credentials in file text and mask them in place before anything indexes or shows it.

A mask has the length of what it hides and keeps its line breaks, quotes and ``\n`` escapes,
so every line number and column outside a secret is unchanged: chunk spans, citations and
tree-sitter positions still match the file on disk. Two kinds of rule run over the text:
formats that are secrets wherever they appear (cloud keys, vendor tokens, JWTs, private-key
blocks, passwords in URLs), then assignments of a quoted literal to a secret-sounding name
(``api_key``, ``password``, ``clientSecret``, ...), plus unquoted values in config files
(``.env``, ``*.ini``, ``*.yaml``, ...). Placeholders (``changeme``, ``${VAR}``, ``<your-key>``,
empty strings), code (``password = get_password()``) and lock files are left alone, and
redacting twice changes nothing.
"""

from __future__ import annotations

import bisect
import dataclasses
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath

from app.index.records import SourceFile
from app.index.secrets.rules import (
    ASSIGNMENT,
    CONFIG_LINE,
    NETRC_PASSWORD,
    PEM_BEGIN,
    TOKEN_RULES,
    is_config_path,
    is_dummy_token,
    is_placeholder,
    name_kind,
    pem_body_ok,
    pem_tail,
    secret_like,
)
from app.index.walker import LOCK_FILES

log = logging.getLogger(__name__)

SECRET_RULES = "secrets-1"
"""Version of the rules: bump it when they change, so the next index run re-masks every file."""
MASK = "REDACTED"
"""Written at the start of every masked run of 8 characters or more; ``*`` fills the rest."""
_KEEP = re.compile(r"\\[nrt]|[\s\"'`\\]")
"""Kept inside a mask: line breaks, quotes and escapes, so the file's shape stays the same."""
_PEM_LEAD = re.compile(r"(?:\\[nr]|\s)*")
_PEM_SEARCH = 100_000
"""How far past a ``BEGIN ... PRIVATE KEY`` line its ``END`` line is looked for."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One masked secret: what kind it was and where (never the secret itself)."""

    kind: str
    """e.g. 'aws_access_key_id', 'private_key', 'github_token', 'password', 'url_password'."""
    line: int
    """1-based line where the secret starts."""
    column: int
    """0-based character offset of the secret in that line."""
    length: int
    """Characters masked."""


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    kind: str


def redact(text: str, path: str = "") -> tuple[str, list[Finding]]:
    """Return ``text`` with its secrets masked, and what was masked.

    Args:
        text: File content.
        path: The file's path (relative or absolute): config files also have their unquoted
            values checked; lock files are returned unchanged.
    """
    name = PurePosixPath(path).name.lower()
    if name in LOCK_FILES or name.endswith(".lock") or not text:
        return text, []
    spans = _find(text, is_config_path(path), name in (".netrc", "_netrc"))
    if not spans:
        return text, []
    starts = [0, *(m.end() for m in re.finditer("\n", text))]
    out, pos, findings = [], 0, []
    for s in spans:
        out += [text[pos : s.start], _mask(text[s.start : s.end])]
        pos = s.end
        line = bisect.bisect_right(starts, s.start)
        findings.append(Finding(s.kind, line, s.start - starts[line - 1], s.end - s.start))
    out.append(text[pos:])
    return "".join(out), findings


def redact_source(src: SourceFile) -> tuple[SourceFile, list[Finding]]:
    """Return ``src`` with its text redacted (same path, hash and size), and the findings."""
    text, findings = redact(src.text, src.path)
    if not findings:
        return src, []
    kinds = ", ".join(f"{f.kind} (line {f.line})" for f in findings)
    log.info("%s: masked %d secret(s): %s", src.path, len(findings), kinds)
    return dataclasses.replace(src, text=text), findings


def _mask(segment: str) -> str:
    """Mask ``segment`` keeping its length, line breaks, quotes and escapes."""
    out, pos = [], 0
    for m in _KEEP.finditer(segment):
        out += [_fill(m.start() - pos), m.group()]
        pos = m.end()
    out.append(_fill(len(segment) - pos))
    return "".join(out)


def _fill(n: int) -> str:
    return (MASK + "*" * (n - len(MASK))) if n >= len(MASK) else "*" * n


def _find(text: str, config: bool, netrc: bool) -> list[_Span]:
    """Return non-overlapping secret spans, sorted; earlier rules win overlaps."""
    taken: list[_Span] = []  # sorted by start, never overlapping

    def add(start: int, end: int, kind: str) -> None:
        i = bisect.bisect_left(taken, start, key=lambda s: s.start)
        clear_before = i == 0 or taken[i - 1].end <= start
        if end > start and clear_before and (i == len(taken) or end <= taken[i].start):
            taken.insert(i, _Span(start, end, kind))

    for start, end in _pem_spans(text):
        add(start, end, "private_key")
    low = text.lower()
    for kind, rule, is_real, needles in TOKEN_RULES:
        if not any(n in low for n in needles):
            continue
        group = "v" if "v" in rule.groupindex else 0
        for m in rule.finditer(text):
            value = m.group(group)
            if not is_dummy_token(value) and is_real(value):
                add(m.start(group), m.end(group), kind)
    for m in ASSIGNMENT.finditer(text):
        _assignment(m, add)
    if config:
        for m in CONFIG_LINE.finditer(text):
            _assignment(m, add)
    if netrc:
        for m in NETRC_PASSWORD.finditer(text):
            if not is_placeholder(m.group("value")):
                add(m.start("value"), m.end("value"), "password")
    return taken


def _assignment(m: re.Match[str], add: Callable[[int, int, str], None]) -> None:
    """Mask the value of ``name = value`` when the name sounds secret and the value looks so."""
    kind = name_kind(m.group("name"))
    if kind is None:
        return
    strict = kind
    if m.groupdict().get("op") == ",":  # ``f("API_KEY", "...")``, not ``(api_key, "x")``
        if not m.group("close") or m.group("close") == "]":
            return
        strict = "token"  # ``("password", "host")`` may list names: judge values strictly
    if secret_like(m.group("value"), strict):
        add(m.start("value"), m.end("value"), kind)


def _pem_spans(text: str) -> list[tuple[int, int]]:
    """Return the bodies of private-key blocks (header and footer lines stay readable)."""
    spans = []
    for m in PEM_BEGIN.finditer(text):
        end = text.find(f"-----END {m.group('label')}-----", m.end(), m.end() + _PEM_SEARCH)
        if end != -1 and pem_body_ok(text[m.end() : end]):
            lead = _PEM_LEAD.match(text, m.end())
            spans.append((lead.end() if lead else m.end(), end))
        else:  # no footer (truncated or cut into pieces): mask the key material that follows
            stop = pem_tail(text, m.end())
            if stop is not None:
                spans.append((m.end(), stop))
    return spans
