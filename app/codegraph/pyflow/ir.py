"""Shared IR helpers for the lowering: scope records and constant folding."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from tree_sitter import Node

from app.codegraph.pyflow.binder import Bindings, text

IR = list[Any]

_PURE = frozenset({"n", "k"})


@dataclass
class Scope:
    """One lexical scope while lowering: module, class, function, lambda or comprehension."""

    kind: str
    qual: str
    b: Bindings
    named: str = ""
    gen: bool = False
    lambdas: int = 0
    comps: int = 0


def is_pure(e: IR) -> bool:
    """Tell whether evaluating ``e`` can neither call anything nor bind anything."""
    return e[0] in _PURE or (e[0] == "u" and not e[1])


def literal(node: Node) -> IR:
    """Return a constant IR for a str/int literal, an unknown value otherwise."""
    try:
        v = ast.literal_eval(text(node))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return ["u", []]
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        return ["u", []]
    r = repr(v)
    return ["k", r] if len(r) <= 200 else ["u", []]
