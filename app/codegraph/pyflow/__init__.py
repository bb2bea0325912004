"""Static call graphs for Python: per-file facts (tree-sitter) plus a global points-to solve."""

from app.codegraph.pyflow.facts import extract_facts
from app.codegraph.pyflow.solver import solve
from app.codegraph.pyflow.state import SolveBudgetExceeded
from app.codegraph.pyflow.tree import analyze_tree, export_pycg

__all__ = ["SolveBudgetExceeded", "analyze_tree", "export_pycg", "extract_facts", "solve"]
