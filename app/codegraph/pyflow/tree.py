"""Analyse a directory of Python files into a call graph."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.codegraph.pyflow.facts import extract_facts
from app.codegraph.pyflow.names import module_name
from app.codegraph.pyflow.solver import solve

_SKIP_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})


def python_files(root: Path) -> list[Path]:
    """Return the ``*.py`` files under ``root`` (sorted), skipping hidden and cache dirs."""
    out = []
    for p in sorted(root.rglob("*.py")):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") or part in _SKIP_DIRS for part in rel[:-1]):
            continue
        out.append(p)
    return out


def root_package(root: Path) -> str | None:
    """Return the package name of ``root`` when the folder itself is a package."""
    return root.resolve().name if (root / "__init__.py").is_file() else None


def extract_tree(root: Path) -> dict[str, dict[str, Any]]:
    """Extract the facts of every Python file under ``root``, keyed by relative path.

    A root ``__init__.py`` is named after the folder, so ``import <folder>`` works.
    """
    facts: dict[str, dict[str, Any]] = {}
    pkg = root_package(root)
    for p in python_files(root):
        rel = p.relative_to(root).as_posix()
        mod = module_name(rel) or pkg
        if not mod:
            continue
        text = p.read_text(encoding="utf-8", errors="replace")
        facts[rel] = extract_facts(mod, rel, text)
    return facts


def analyze_tree(root: Path) -> dict[str, set[str]]:
    """Return caller -> callees for all Python code under ``root``."""
    return solve(extract_tree(root), root_package=root_package(root))


def export_pycg(root: Path) -> dict[str, list[str]]:
    """Return the call graph of ``root`` in PyCG's JSON shape (sorted callee lists)."""
    return {k: sorted(v) for k, v in sorted(analyze_tree(root).items())}
