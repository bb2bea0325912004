"""A generated multi-language repository (Python, JavaScript, Go) and seeded edits to it.

Big enough that indexing takes a few seconds (a few dozen files, a few hundred chunks, calls
across files so the code graph has edges); every generated text is unique, so no two chunks
share an embedding-cache entry.
"""

from __future__ import annotations

import random
from pathlib import Path

N_PY, N_JS, N_GO = 14, 12, 12
_WORDS = (
    "invoice ledger retry backoff cache session token parser render route queue worker "
    "schedule metric report upload archive compress encrypt verify notify audit"
).split()


def _words(i: int, n: int) -> str:
    return " ".join(_WORDS[(i * 7 + k * 3) % len(_WORDS)] for k in range(n))


def _python(i: int, extra: str = "") -> str:
    prev = f"from pyapp.mod_{i - 1:02d} import step_{i - 1:02d}_a\n\n\n" if i else ""
    call = f"step_{i - 1:02d}_a(value)" if i else "value"
    body = [
        f'"""Module {i}: {_words(i, 6)}."""\n\n',
        prev,
        f"class Service{i:02d}:\n",
        f'    """Service {i} handles {_words(i + 1, 5)}."""\n\n',
        "    def __init__(self, limit):\n        self.limit = limit\n        self.seen = []\n\n",
        f"    def handle_{i:02d}(self, value):\n",
        f'        """Handle {_words(i + 2, 4)}."""\n',
        f"        out = step_{i:02d}_a(value)\n",
        "        self.seen.append(out)\n        return out\n\n",
        f"    def flush_{i:02d}(self):\n",
        f"        total = sum(self.seen) + {i}\n",
        "        self.seen.clear()\n        return total\n\n\n",
    ]
    for suffix, k in (("a", 1), ("b", 2), ("c", 3)):
        body.append(
            f"def step_{i:02d}_{suffix}(value):\n"
            f'    """Step {suffix} of module {i}: {_words(i + k, 5)}."""\n'
            f"    result = {call} + {k * (i + 1)}\n"
            f"    for n in range({k + 2}):\n        result = result * 2 - n\n"
            f"    return result\n\n\n"
        )
    return "".join(body) + extra


def _js(i: int, extra: str = "") -> str:
    head = f"import {{ part{i - 1}A }} from './part_{i - 1:02d}.js';\n\n" if i else ""
    call = f"part{i - 1}A(x)" if i else "x"
    return (
        f"// Part {i}: {_words(i + 3, 6)}\n{head}"
        f"export function part{i}A(x) {{\n  // {_words(i + 4, 4)}\n"
        f"  const y = {call} + {i};\n  return y * 2;\n}}\n\n"
        f"export function part{i}B(items) {{\n"
        f"  return items.map((v) => part{i}A(v) - {i + 1}).filter((v) => v > {i});\n}}\n\n"
        f"export class Widget{i} {{\n  constructor(name) {{\n    this.name = name;\n"
        f"    this.count = {i};\n  }}\n\n  render{i}() {{\n"
        f"    return `<div>${{this.name}} {_words(i + 5, 3)}</div>`;\n  }}\n\n"
        f"  bump{i}() {{\n    this.count = part{i}A(this.count);\n"
        "    return this.count;\n  }\n}\n"
        f"{extra}"
    )


def _go(i: int, extra: str = "") -> str:
    call = f"Go{i - 1}A(x)" if i else "x"
    return (
        f"// Package gosvc: file {i}, {_words(i + 6, 6)}.\npackage gosvc\n\n"
        f'import "fmt"\n\n'
        f"// Go{i}A {_words(i + 7, 4)}.\nfunc Go{i}A(x int) int {{\n"
        f"\ty := {call} + {i}\n\treturn y * 3\n}}\n\n"
        f"// Store{i} keeps {_words(i + 8, 3)}.\ntype Store{i} struct {{\n"
        f"\tName  string\n\tCount int\n}}\n\n"
        f"// Add{i} adds one item.\nfunc (s *Store{i}) Add{i}(v int) {{\n"
        f"\ts.Count += Go{i}A(v)\n}}\n\n"
        f"// Describe{i} prints the store.\nfunc (s *Store{i}) Describe{i}() string {{\n"
        f'\treturn fmt.Sprintf("%s {_words(i + 9, 2)} %d", s.Name, s.Count)\n}}\n'
        f"{extra}"
    )


def make_repo(root: Path) -> Path:
    """Write the base repository under ``root`` and return it."""
    for i in range(N_PY):
        _write(root / f"pyapp/mod_{i:02d}.py", _python(i))
    _write(root / "pyapp/__init__.py", '"""The pyapp package."""\n')
    for i in range(N_JS):
        _write(root / f"web/part_{i:02d}.js", _js(i))
    for i in range(N_GO):
        _write(root / f"gosvc/file_{i:02d}.go", _go(i))
    _write(root / "README.md", "# Fixture\n\nA generated repository for crash tests.\n")
    return root


def mutate(root: Path, rng: random.Random, round_no: int) -> list[str]:
    """Apply a few seeded edits (change, add, delete files); return what was done."""
    done: list[str] = []
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(("edit", "edit", "add", "delete"))
        if op == "edit":
            kind = rng.choice(("py", "js", "go"))
            i = rng.randrange({"py": N_PY, "js": N_JS, "go": N_GO}[kind])
            tag = f"r{round_no}_{rng.randrange(10**6)}"
            if kind == "py":
                path = root / f"pyapp/mod_{i:02d}.py"
                extra = f"\n\ndef extra_{tag}(v):\n    return step_{i:02d}_b(v) + 1\n"
                _write(path, _python(i, extra))
            elif kind == "js":
                path = root / f"web/part_{i:02d}.js"
                _write(path, _js(i, f"\nexport const extra_{tag} = (v) => part{i}B([v]);\n"))
            else:
                path = root / f"gosvc/file_{i:02d}.go"
                _write(path, _go(i, f"\nfunc Extra_{tag}(v int) int {{ return Go{i}A(v) }}\n"))
            done.append(f"edit {path.relative_to(root)}")
        elif op == "add":
            n = rng.randrange(1000)
            path = root / f"pyapp/added_{round_no}_{n}.py"
            _write(
                path,
                f'"""Added in round {round_no}."""\n\nfrom pyapp.mod_03 import step_03_c\n\n\n'
                f"def added_{round_no}_{n}(v):\n    return step_03_c(v) * {round_no + 2}\n",
            )
            done.append(f"add {path.relative_to(root)}")
        else:
            victims = sorted(root.glob("pyapp/added_*.py")) or sorted(root.glob("web/part_1*.js"))
            if victims:
                path = rng.choice(victims)
                path.unlink()
                done.append(f"delete {path.relative_to(root)}")
    return done


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
