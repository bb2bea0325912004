"""Mine retrieval queries from the ORIGINAL sources of a code base (its docs are the answers).

Used by ``coderag eval`` on a user's repository and by the retrieval benchmark
(``bench/retrieval``) on its pinned corpora.

Four query types; the first three point at symbol spans found by coderag's own parser:

* ``nl``: the cleaned first sentence of a symbol's documentation (which the searched, stripped
  copy no longer contains);
* ``symbol``: a bare identifier (targets: every definition of that name) or a qualified one
  (``Class.method``, ``pkg.Func``, ``Type::method``);
* ``mixed``: a documentation sentence phrased around the enclosing class or module name;
* ``file``: the cleaned first sentence of a file's module-level documentation (Python module
  docstring, Go package comment or leading block, Rust ``//!``, JS/TS leading comment), else,
  for Go and JS/TS, of the doc of the file's main type / export; the target is the whole file.

Sampling is seeded, public non-test symbols only, spread over files; ``split`` is a hash of
the query id (about half ``dev`` for tuning, half ``test`` for reporting).
"""

from __future__ import annotations

import hashlib
import math
import random
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.eval.strip import file_doc_texts
from app.index.parse.parser import parse_source
from app.index.records import Symbol
from app.index.walker import walk

SEED = 20261123
TARGET = {"nl": 60, "symbol": 30, "qualified": 10, "mixed": 10, "file": 20}
PER_FILE = 3
"""Queries of one type per file; raised for corpora with few files (see ``_per_file``)."""
KINDS = frozenset({"class", "interface", "struct", "enum", "trait", "type", "function", "method"})
MAX_DEFS = 5
"""A bare name defined more often than this (``fmt``, ``new``) is too ambiguous to ask for."""

_TRIVIAL = re.compile(
    r"(?i)^(constructor|deprecated|see |alias|todo|internal|not public|private|"
    r"implementation of|implements |same as|shortcut for|@|note:|overload)"
)
_ROLE = re.compile(r":[\w:.-]+:`~?([^`<]+?)(?:\s*<[^>]*>)?`")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_RUST_LINK = re.compile(r"\[`?([^\]`]+)`?\](?:\[[^\]]*\])?")
_JSDOC_LINK = re.compile(r"\{@\w+\s+([^}|\s]+)[^}]*\}")
_URL = re.compile(r"<?https?://\S+>?")
_HTML = re.compile(r"</?[a-zA-Z][^>]*>")
_TICKS = re.compile(r"`+([^`]*)`+")
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)\.(?:\s|$)|[!?](?:\s|$)")
_FILE_TAG = re.compile(r"(?m)^\s*@(?:fileoverview|file|overview|module)\b[ \t]*")
_HEADING = re.compile(r"^#+\s")
_UNDERLINE = re.compile(r"^([~=^*#-])\1{2,}$")
_DOTTED_NAME = re.compile(r"^[\w.]+$")
_DEFAULT_EXPORT = re.compile(
    r"(?m)^export\s+default\s+(?:(?:async\s+)?function\*?\s*(\w+)|class\s+(\w+)|(\w+)\s*;?\s*$)"
)
_NAMED_EXPORT = re.compile(
    r"(?m)^export\s+(?:declare\s+)?(?:abstract\s+)?(?:async\s+)?"
    r"(?:function\*?|class|interface|type|enum|const|let|var)\s+(\w+)"
)
TEST_PATH = re.compile(
    r"(?i)(?:^|/)(?:tests?|__tests__|spec|testing)/|(?:^|/)test_|_test\.|\.(?:test|spec)\."
)
"""Test files: their module docs describe the code they test, which is the better answer."""
_TYPE_KINDS = frozenset({"class", "interface", "struct", "enum", "trait", "type"})
_FIELD_LINE = re.compile(
    r"^\s*(?::(?:param|type|returns?|rtype|raises?|arg|ivar|cvar|var)\b|@\w+|\w+:\s*$|#|```)"
)


@dataclass
class Candidate:
    """A public symbol of a corpus with what the query builders need."""

    symbol: Symbol
    package: str
    """The module or package name a user would qualify it with (``utils``, ``cobra``)."""
    sentence: str
    stripped_doc: str
    """Its doc in the stripped copy: an ``nl`` target must have none left."""
    public: bool
    """Public, non-test and not nested in a function: eligible as a query source."""


def clean_sentence(doc: str, name: str = "") -> str:
    """Return the first sentence of ``doc`` without markup, or ``''`` when it is not usable."""
    lines: list[str] = []
    for line in doc.strip().splitlines():
        if not line.strip() or _FIELD_LINE.match(line):
            break
        lines.append(line.strip())
    text = " ".join(lines)
    for pattern in (_ROLE, _MD_LINK, _JSDOC_LINK, _RUST_LINK, _TICKS):
        text = pattern.sub(r"\1", text)
    text = _URL.sub("", _HTML.sub(" ", text))
    text = re.sub(r"\s+", " ", text).strip()
    match = _SENTENCE_END.search(text)
    if match:
        text = text[: match.start()]
    text = text.strip(" .:;,-")
    if name and text.split(" ", 1)[0] in (name, f"{name}()"):  # Go style: "Foo returns ..."
        text = text.split(" ", 1)[1] if " " in text else ""
        text = text[:1].upper() + text[1:]
    words = text.split()
    if not 4 <= len(words) <= 30 or _TRIVIAL.match(text):
        return ""
    letters = sum(c.isalpha() or c.isspace() for c in text)
    if letters < 0.85 * len(text) or "(" in text and ")" not in text:
        return ""
    return text


def _title(paragraph: str) -> bool:
    """Whether a doc paragraph is a heading: ``# Title``, a reST title, a bare module name."""
    lines = paragraph.strip().splitlines()
    if all(_HEADING.match(line) for line in lines):
        return True
    if len(lines) == 2 and _UNDERLINE.match(lines[1].strip()):
        return True
    return len(lines) == 1 and bool(_DOTTED_NAME.match(lines[0].strip()))


def module_sentence(doc: str, name: str = "") -> str:
    """Return ``clean_sentence`` of a module-level doc after its titles and file tags."""
    paragraphs = re.split(r"\n\s*\n", _FILE_TAG.sub("", doc).strip())
    while paragraphs and _title(paragraphs[0]):
        paragraphs.pop(0)
    return clean_sentence("\n\n".join(paragraphs), name)


def _public(sym: Symbol, language: str, functions: set[str]) -> bool:
    if sym.name.startswith("_") or not sym.name.isidentifier() or sym.parent in functions:
        return False
    if "test" in sym.path.lower() or sym.name.lower().startswith("test"):
        return False
    return not (language == "go" and not sym.name[:1].isupper())


_GO_PACKAGE = re.compile(r"^package\s+(\w+)", re.MULTILINE)


def candidates(source_root: Path, stripped_root: Path, language: str) -> list[Candidate]:
    """Parse both copies; return the public symbols with their doc sentence (may be '')."""
    found: list[Candidate] = []
    for src in walk(source_root).files:
        if src.language != language or not (stripped_root / src.path).is_file():
            continue
        stripped_text = (stripped_root / src.path).read_text(encoding="utf-8")
        stripped = parse_source(
            type(src)(src.path, src.language, stripped_text, "", len(stripped_text))
        ).parsed.symbols
        docs = {(s.qualname, s.start_line): s.doc for s in stripped}
        package = _package(src.path, src.text, language, source_root.name)
        symbols = [s for s in parse_source(src).parsed.symbols if s.kind in KINDS]
        functions = {s.qualname for s in symbols if s.kind in ("function", "method")}
        for sym in symbols:
            sentence = clean_sentence(sym.doc, sym.name)
            key = (sym.qualname, sym.start_line)
            public = _public(sym, language, functions)
            found.append(Candidate(sym, package, sentence, docs.get(key, "?"), public))
    return found


def _package(path: str, text: str, language: str, corpus: str) -> str:
    """Return the name a user would qualify a top-level definition of ``path`` with."""
    file = Path(path)
    if language == "go":
        match = _GO_PACKAGE.search(text)
        return match.group(1) if match else corpus
    if file.stem in ("__init__", "mod", "lib", "index"):
        return file.parent.name if file.parent.name not in ("", "src") else corpus
    return file.stem


def _span(sym: Symbol) -> dict[str, Any]:
    return {"path": sym.path, "start_line": sym.start_line, "end_line": sym.end_line}


def _per_file(target: int, files: int) -> int:
    return max(PER_FILE, math.ceil(2 * target / max(files, 1)))


def _sample(
    items: Iterable[Candidate],
    count: int,
    rng: random.Random,
    files: int,
    key: Callable[[Candidate], str],
    used: set[str],
) -> list[Candidate]:
    """Pick up to ``count`` items in seeded order, at most ``_per_file`` per file, unique keys."""
    pool = sorted(items, key=lambda c: (c.symbol.path, c.symbol.start_line, c.symbol.qualname))
    rng.shuffle(pool)
    cap = _per_file(count, files)
    per_file: dict[str, int] = defaultdict(int)
    picked: list[Candidate] = []
    for cand in pool:
        k = key(cand)
        if len(picked) == count or k in used or per_file[cand.symbol.path] >= cap:
            continue
        used.add(k)
        per_file[cand.symbol.path] += 1
        picked.append(cand)
    return picked


def _qualified(cand: Candidate, language: str) -> str:
    """Return ``Class.method`` / ``Type::method``, ``pkg.Func`` / ``module::fn``, or ``''``."""
    sym = cand.symbol
    parent = (sym.parent or "").rsplit(".", 1)[-1]
    sep = "::" if language == "rust" else "."
    if sym.kind == "method" and parent:
        return f"{parent}{sep}{sym.name}"
    if language in ("javascript", "typescript"):  # no package-qualified names there
        return ""
    return f"{cand.package}{sep}{sym.name}"


def _mixed_text(cand: Candidate, language: str, rng: random.Random) -> str:
    sym = cand.symbol
    parent = (sym.parent or "").rsplit(".", 1)[-1]
    owner = parent if sym.kind == "method" and parent else cand.package
    low = cand.sentence[:1].lower() + cand.sentence[1:]
    if sym.kind != "method":
        noun = "package" if language == "go" else "module"
    else:
        noun = "type" if language in ("go", "rust") else "class"
    templates = [
        f"{owner}: {low}",
        f"{cand.sentence} ({owner})",
        f"in the {owner} {noun}, {low}",
        f"{cand.sentence} in {owner}",
        f"where in {owner} is this: {low}",
        f"{owner} {noun} - {low}",
    ]
    return rng.choice(templates)


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _main_export(text: str, stem: str) -> str:
    """Return a JS/TS file's main export name, or ``''``.

    That is its default export, else its export named like the file, else its only named one.
    """
    default = _DEFAULT_EXPORT.search(text)
    if default:
        return next(name for name in default.groups() if name)
    named = set(_NAMED_EXPORT.findall(text))
    like_file = [n for n in named if n.lower() == stem.lower()]
    if like_file:
        return like_file[0]
    return named.pop() if len(named) == 1 else ""


def _main_doc(path: str, text: str, language: str, documented: list[Candidate]) -> str:
    """Return the doc sentence of a file's main type (Go) or main export (JS/TS), or ''."""
    own = [c for c in documented if c.symbol.path == path and c.symbol.kind != "method"]
    if language == "go":
        types = [c for c in own if c.symbol.kind in _TYPE_KINDS]
        pool = types or [c for c in own if c.symbol.kind == "function"]
        pool.sort(key=lambda c: (c.symbol.start_line - c.symbol.end_line, c.symbol.start_line))
    elif language in ("javascript", "typescript"):
        name = _main_export(text, Path(path).stem)
        pool = sorted((c for c in own if c.symbol.name == name), key=lambda c: c.symbol.start_line)
    else:
        return ""
    return pool[0].sentence if pool else ""


def file_docs(
    source_root: Path, stripped_root: Path, language: str, documented: list[Candidate]
) -> tuple[dict[str, str], dict[str, str]]:
    """Return ``({path: module doc sentence}, {path: main type/export sentence})``.

    The first holds files whose module-level documentation yields a usable sentence, the
    second (Go, JS/TS) the other files whose main type or export has a usable doc sentence.
    A sentence still present in the stripped copy is not usable.
    """
    module: dict[str, str] = {}
    main: dict[str, str] = {}
    for src in walk(source_root).files:
        if src.language != language or not (stripped_root / src.path).is_file():
            continue
        if TEST_PATH.search(src.path):
            continue
        stripped = _words((stripped_root / src.path).read_text(encoding="utf-8"))
        name = "Package" if language == "go" else ""
        sentences = [module_sentence(t, name) for t in file_doc_texts(src.text, language)]
        sentence = next((s for s in sentences if s), "")
        if sentence and _words(sentence) not in stripped:
            module[src.path] = sentence
            continue
        sentence = _main_doc(src.path, src.text, language, documented)
        if sentence and _words(sentence) not in stripped:
            main[src.path] = sentence
    return module, main


def _pick_files(
    pools: list[dict[str, str]], count: int, rng: random.Random, used: set[str]
) -> list[tuple[str, str]]:
    """Pick up to ``count`` (path, sentence) pairs in seeded order, earlier pools first."""
    picked: list[tuple[str, str]] = []
    for pool in pools:
        items = sorted(pool.items())
        rng.shuffle(items)
        for path, sentence in items:
            if len(picked) < count and sentence.lower() not in used:
                used.add(sentence.lower())
                picked.append((path, sentence))
    return picked


def split_of(query_id: str) -> str:
    """Return 'dev' or 'test' from a hash of the query id (stable, about 50/50)."""
    return "dev" if hashlib.sha1(query_id.encode()).digest()[0] % 2 == 0 else "test"


def build(corpus: str, language: str, source_root: Path, stripped_root: Path) -> list[dict]:
    """Return the query records of one corpus."""
    rng = random.Random(f"{SEED}:{corpus}")
    every = candidates(source_root, stripped_root, language)
    cands = [c for c in every if c.public]
    files = len({c.symbol.path for c in cands})
    by_name: dict[str, list[Symbol]] = defaultdict(list)
    overloads: dict[tuple[str, str], list[Symbol]] = defaultdict(list)
    """TypeScript overload signatures share a qualname (a Rust ``impl From<X>`` too: not
    merged)."""
    by_sentence: dict[str, list[Symbol]] = defaultdict(list)
    for c in every:
        by_name[c.symbol.name].append(c.symbol)
        if language == "typescript":
            overloads[(c.symbol.path, c.symbol.qualname)].append(c.symbol)
        if c.sentence and c.public:
            by_sentence[c.sentence.lower()].append(c.symbol)
    records: list[dict] = []

    def record(kind: str, key: str, text: str, targets: list[dict[str, Any]]) -> None:
        qid = f"{corpus}:{kind}:{key}"
        records.append({
            "id": qid, "corpus": corpus, "type": kind, "query": text,
            "targets": targets, "split": split_of(qid),
        })  # fmt: skip

    def add(kind: str, key: str, text: str, targets: list[Symbol]) -> None:
        spans = sorted({tuple(_span(t).items()) for t in targets})
        record(kind, key, text, [dict(s) for s in spans])

    documented = [c for c in cands if c.sentence and not c.stripped_doc]
    used_docs: set[str] = set()
    for c in _sample(documented, TARGET["nl"], rng, files, lambda c: c.sentence.lower(), used_docs):
        targets = by_sentence[c.sentence.lower()] + overloads[(c.symbol.path, c.symbol.qualname)]
        add("nl", c.symbol.qualname, c.sentence, targets)
    rest = [c for c in documented if c.sentence.lower() not in used_docs]
    methods = [c for c in rest if c.symbol.kind == "method"]
    mixed = _sample(methods, TARGET["mixed"], rng, files, lambda c: c.sentence.lower(), used_docs)
    others = [c for c in rest if c.symbol.kind != "method"]
    mixed += _sample(
        others, TARGET["mixed"] - len(mixed), rng, files, lambda c: c.sentence.lower(), used_docs
    )
    for c in mixed:
        targets = by_sentence[c.sentence.lower()] + overloads[(c.symbol.path, c.symbol.qualname)]
        add("mixed", c.symbol.qualname, _mixed_text(c, language, rng), targets)
    named = [
        c for c in cands if len(c.symbol.name) >= 3 and len(by_name[c.symbol.name]) <= MAX_DEFS
    ]
    for c in _sample(named, TARGET["symbol"], rng, files, lambda c: c.symbol.name, set()):
        add("symbol", c.symbol.name, c.symbol.name, by_name[c.symbol.name])
    qualified: dict[str, list[Symbol]] = defaultdict(list)
    for c in every:
        qualified[_qualified(c, language)].append(c.symbol)
    pool = [c for c in cands if _qualified(c, language)]
    used_q: set[str] = set()
    for c in _sample(
        pool, TARGET["qualified"], rng, files, lambda c: _qualified(c, language), used_q
    ):
        name = _qualified(c, language)
        add("symbol", name, name, qualified[name])
    pools = file_docs(source_root, stripped_root, language, documented)
    file_rng = random.Random(f"{SEED}:{corpus}:file")
    for path, sentence in _pick_files(list(pools), TARGET["file"], file_rng, used_docs):
        record("file", path, sentence, [{"path": path}])
    return records
