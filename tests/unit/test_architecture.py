"""The package layout's rules: no import cycle among the product's modules, small modules.

Imports are read with ``ast`` from the source, deferred ones inside functions and
``TYPE_CHECKING`` blocks included: a cycle hidden behind a deferred import is still a boundary
drawn in the wrong place.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "graphs", "tools")
MAX_LINES = 420
"""Modules past this many lines are split where a real seam allows (the issue's ~400)."""


def product_modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            mods[".".join(parts)] = path
    return mods


def imported(module: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """The product modules ``module`` imports anywhere in its file (parent packages left out)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                here = module.split(".")
                keep = len(here) - node.level + (1 if path.name == "__init__.py" else 0)
                base = ".".join(here[:keep] + ([node.module] if node.module else []))
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base for a in node.names]
        for name in names:
            while name and name not in mods and "." in name:
                name = name.rsplit(".", 1)[0]
            if name in mods and name != module:
                out.add(name)
    return out


def import_graph() -> nx.DiGraph:
    mods = product_modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(mods)
    for module, path in mods.items():
        graph.add_edges_from((module, dep) for dep in imported(module, path, mods))
    return graph


def test_no_import_cycles_among_product_modules():
    graph = import_graph()
    assert graph.number_of_nodes() > 100 and graph.number_of_edges() > 200
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert cycles == []


def test_the_cycle_finder_sees_a_deferred_import(tmp_path):
    """A deferred import inside a function counts: the checker would report this cycle."""
    mods = {"a": tmp_path / "a.py", "b": tmp_path / "b.py"}
    mods["a"].write_text("import b\n")
    mods["b"].write_text("def f():\n    from a import g\n    return g\n")
    assert imported("a", mods["a"], mods) == {"b"}
    assert imported("b", mods["b"], mods) == {"a"}


def test_codegraph_does_not_reach_into_retrieval_or_the_question_graph():
    """Lower layers never import upper ones: the code graph is consulted, it consults nothing."""
    graph = import_graph()
    upper = ("app.retrieval", "app.answer", "app.cli", "app.chat", "graphs", "tools")
    for module in graph:
        if module.startswith(("app.codegraph", "app.index", "app.models")):
            bad = [d for d in graph.successors(module) if d.startswith(upper)]
            assert bad == [], module


def test_modules_stay_small():
    big = {
        str(path.relative_to(ROOT)): n
        for path in product_modules().values()
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert big == {}
