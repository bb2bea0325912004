"""Doc stripping for ``coderag eval``: lines and spans kept, docs gone, the copy kept in sync."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from app.eval.strip import StripError, checked_strip, write_stripped_copy
from app.index.languages import language_for
from app.index.parse.parser import parse_source
from app.index.records import SourceFile

PY = '''"""Shopping cart arithmetic for the checkout."""

import math


def only_doc(total):
    """Reserve a slot for a total.

    Nothing else lives in this body.
    """


def with_body(total, percent):
    """Reduce a total by a percentage."""
    # rounding happens later
    return math.floor(total * (100 - percent) / 100)


class Cart:
    """Hold the items a customer wants to buy."""

    def add(self, item):
        """Append one item."""
        self.items.append(item)
'''

JS = """/**
 * File-level documentation of the cart module.
 */

import { floor } from "./math";

/**
 * Reduce a total by a percentage.
 * @param {number} total
 */
export function discount(total, percent) {
  // plain comment stays
  return floor(total * (100 - percent) / 100);
}
"""

GO = """// Copyright 2024 The Shop Authors. Licensed under the MIT licence.

// Package shop sells things.
package shop

// Total adds up the prices
// of every item.
func Total(xs []int) int {
	s := 0 // trailing comment stays
	for _, x := range xs {
		s += x
	}
	return s
}
"""

RS = """//! Shop arithmetic.

/// Add two prices together.
/// Saturating on overflow.
pub fn add(a: u32, b: u32) -> u32 {
    // plain comment stays
    a.saturating_add(b)
}

/// A price in cents.
pub struct Price {
    cents: u32,
}
"""


def spans(rel: str, text: str) -> list[tuple[str, str, int, int]]:
    src = SourceFile(rel, language_for(rel), text, "", len(text))
    return [
        (s.qualname, s.kind, s.start_line, s.end_line) for s in parse_source(src).parsed.symbols
    ]


def check_kept(rel: str, text: str, stripped: str) -> None:
    """Same number of lines, same symbols with the same spans."""
    assert len(stripped.split("\n")) == len(text.split("\n"))
    assert spans(rel, stripped) == spans(rel, text)
    assert spans(rel, text)  # the fixture really has symbols


def test_python_docstrings_go_lines_and_spans_stay():
    out = checked_strip("shop/cart.py", PY)
    check_kept("shop/cart.py", PY, out)
    ast.parse(out)
    for doc in ("Shopping cart", "Reserve a slot", "Reduce a total", "Hold the items", "Append"):
        assert doc not in out
    lines = out.split("\n")
    # the docstring-only body gets `...` on the docstring's last line, indented as the body
    assert lines[9] == "    ..." and all(not line.strip() for line in lines[6:9])
    assert "# rounding happens later" in out  # ordinary comments stay
    assert "return math.floor(total * (100 - percent) / 100)" in out
    assert "self.items.append(item)" in out
    assert all(line == line.rstrip() for line in lines)  # blanked text trimmed


def test_javascript_jsdoc_is_removed():
    out = checked_strip("src/cart.js", JS)
    check_kept("src/cart.js", JS, out)
    assert "/**" not in out and "@param" not in out and "File-level" not in out
    assert "// plain comment stays" in out
    assert out.split("\n")[10] == "export function discount(total, percent) {"


def test_go_comment_above_func_and_package_removed_licence_kept():
    out = checked_strip("shop/total.go", GO)
    check_kept("shop/total.go", GO, out)
    assert "Total adds up" not in out and "of every item" not in out
    assert "Package shop sells" not in out
    assert out.startswith("// Copyright 2024 The Shop Authors.")  # a licence is not docs
    assert "// trailing comment stays" in out
    assert out.split("\n")[7] == "func Total(xs []int) int {"


def test_rust_doc_comments_removed():
    out = checked_strip("src/lib.rs", RS)
    check_kept("src/lib.rs", RS, out)
    for doc in ("//!", "///", "Shop arithmetic", "Add two prices", "A price in cents"):
        assert doc not in out
    assert "// plain comment stays" in out
    assert out.split("\n")[4] == "pub fn add(a: u32, b: u32) -> u32 {"


def test_python_that_does_not_parse_raises():
    with pytest.raises(StripError, match=r"broken\.py"):
        checked_strip("broken.py", 'def f(:\n    """Doc."""\n    return 1\n')


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        ("README.md", "# Shop\n\nSells things.\n"),
        ("src/Main.java", "/** Entry point. */\nclass Main {\n  /** Run. */\n  void run() {}\n}\n"),
    ],
)
def test_other_languages_are_returned_unchanged(rel, text):
    assert checked_strip(rel, text) is text


def source(path: str, text: str) -> SourceFile:
    return SourceFile(path, language_for(path), text, "", len(text))


def test_write_stripped_copy_keeps_the_copy_in_sync(tmp_path: Path):
    dest = tmp_path / "copy"
    broken = 'def f(:\n    """Doc."""\n'
    files = [
        source("shop/cart.py", PY),
        source("README.md", "# Shop\n"),
        source("old/gone.py", "def gone():\n    return 1\n"),
        source("broken.py", broken),
    ]
    seen: list[str] = []
    stats = write_stripped_copy(files, dest, on_file=seen.append)
    assert seen == [f.path for f in files]
    assert stats["files"] == 4
    assert stats["stripped"] == 1  # only cart.py changed
    assert stats["blanked_lines"] == 6  # 4 one-line docs + 2 of the 4-line one (3rd: `...`)
    (path, reason), *more = stats["unstripped"]
    assert path == "broken.py" and "broken.py" in reason and not more
    assert (dest / "shop/cart.py").read_text() == checked_strip("shop/cart.py", PY)
    assert (dest / "README.md").read_text() == "# Shop\n"
    assert (dest / "broken.py").read_text() == broken  # copied unchanged

    # a second run rewrites nothing that did not change
    old = 1_000_000_000
    for rel in ("shop/cart.py", "README.md", "broken.py"):
        os.utime(dest / rel, ns=(old, old))
    edited = "def gone():\n    return 2\n"
    again = write_stripped_copy([*files[:2], source("old/gone.py", edited)], dest)
    assert (dest / "shop/cart.py").stat().st_mtime_ns == old
    assert (dest / "README.md").stat().st_mtime_ns == old
    assert (dest / "old/gone.py").read_text() == edited
    # files no longer listed are deleted (and their empty folders)
    assert not (dest / "broken.py").exists()
    assert again["files"] == 3 and again["unstripped"] == []
    write_stripped_copy(files[:2], dest)
    assert not (dest / "old").exists()
    assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == [
        "README.md", "shop", "shop/cart.py",
    ]  # fmt: skip
