"""Static call graphs for Python: per-file facts (tree-sitter) plus a global points-to solve."""

from app.index.pyflow.facts import extract_facts
from app.index.pyflow.solver import solve
from app.index.pyflow.state import SolveBudgetExceeded
from app.index.pyflow.tree import analyze_tree, export_pycg

__all__ = ["SolveBudgetExceeded", "analyze_tree", "export_pycg", "extract_facts", "solve"]
