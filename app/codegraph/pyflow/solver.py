"""Whole-program call-graph resolution over the facts of every file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.codegraph.pyflow.state import Frame
from app.codegraph.pyflow.walker import Walker

#: Upper bound on scope walks, as a multiple of the number of scopes.
WALKS_PER_SCOPE = 40


def _func_info(module: str, sc: Mapping[str, Any]) -> dict[str, Any]:
    params: list[list[str]] = sc["params"]
    return {
        "module": module,
        "kind": sc["k"],
        "pos": [n for n, k in params if k == "p"],
        "named": {n for n, k in params if k in ("p", "k")},
        "star": next((n for n, k in params if k == "*" and n), None),
        "dstar": next((n for n, k in params if k == "**" and n), None),
        "mk": sc.get("mk", ""),
        "gen": bool(sc.get("gen")),
        "cls": sc.get("cls"),
        "body": list(sc["body"]),
    }


class Engine(Walker):
    """Run the worklist fixpoint until no scope's inputs change."""

    def __init__(self, facts: Mapping[str, Mapping[str, Any]],
                 root_package: str | None = None) -> None:
        super().__init__(facts, root_package)
        self.module_order = self._module_order(facts)
        for f in facts.values():
            for q, sc in f["scopes"].items():
                old = self.funcs.get(q)
                if old is None:
                    self.funcs[q] = _func_info(f["module"], sc)
                else:
                    old["body"].append(["blk", list(sc["body"])])
        self.unit = "<seed>"
        for q, info in self.funcs.items():
            cls = info["cls"]
            if cls:
                self.methods.setdefault(cls, []).append(q)
            if cls and info["pos"] and info["mk"] != "s":
                recv = ("c:" if info["mk"] == "c" else "i:") + cls
                self.write_owned(("v", q, info["pos"][0]), {recv})
            if info["star"]:
                self.write_owned(("v", q, info["star"]), {f"t:{q}#*"})
            if info["dstar"]:
                self.write_owned(("v", q, info["dstar"]), {f"d:{q}#**"})

    def _module_order(self, facts: Mapping[str, Mapping[str, Any]]) -> list[str]:
        """Order modules so that imported ones are walked first (fewer re-walks)."""
        deps: dict[str, list[str]] = {}
        for f in facts.values():
            targets = (self.index.resolve(i) for i in f.get("imports", ()))
            deps.setdefault(f["module"], []).extend(t for t in targets if t)
        order: list[str] = []
        seen: set[str] = set()
        for root in sorted(deps):
            stack: list[tuple[str, int]] = [(root, 0)]
            while stack:
                node, i = stack.pop()
                if i == 0:
                    if node in seen:
                        continue
                    seen.add(node)
                kids = deps.get(node, [])
                if i < len(kids):
                    stack.append((node, i + 1))
                    if kids[i] not in seen:
                        stack.append((kids[i], 0))
                elif node in deps:
                    order.append(node)
        return order

    def run(self) -> int:
        """Walk every scope, then re-walk scopes whose inputs grew; return the walk count."""
        self.priority = {q for q, info in self.funcs.items() if info["kind"] == "m"}
        for q in self.module_order:
            if q in self.funcs:
                self.enqueue(q)
        for q in self.funcs:
            self.enqueue(q)
        limit = WALKS_PER_SCOPE * len(self.funcs) + 100
        walks = 0
        while (self.first or self.queue) and walks < limit:
            q = self.first.popleft() if self.first else self.queue.popleft()
            self.queued.discard(q)
            self.walk(q)
            walks += 1
        return walks

    def walk(self, q: str) -> None:
        """Interpret one scope body from a fresh flow-sensitive frame."""
        info = self.funcs[q]
        self.unit = q
        kind = "module" if info["kind"] == "m" else "function"
        self.exec_block(Frame(owner=q, caller=q, kind=kind), info["body"], True)

    def result(self) -> dict[str, set[str]]:
        """Return caller -> callees for every scope (scopes without calls map to an empty set)."""
        out = {q: set(self.edges.get(q, ())) for q in self.funcs}
        for caller, callees in self.edges.items():
            out.setdefault(caller, set()).update(callees)
        return out


def solve(facts: Mapping[str, Mapping[str, Any]],
          root_package: str | None = None, *,
          max_work: int | None = None) -> dict[str, set[str]]:
    """Resolve calls across all files' facts (keyed by path) into a call graph.

    Callers and callees use PyCG naming: ``mod`` for module-level code, ``mod.f``,
    ``mod.C.m``, ``mod.f.<lambda1>``; ``<builtin>.len`` and dotted external names
    for code outside the analysed files. Unresolvable calls produce no edge.

    Args:
        facts: ``extract_facts`` results keyed by path.
        root_package: Name of the analysed folder when it is itself a package, so
            that ``import root_package.mod`` resolves to the module ``mod``.
        max_work: Most work units (statements executed plus call expressions
            evaluated) to spend; None means unbounded. The count depends only on
            ``facts``, so a budget cuts off the same solves on every machine.

    The result depends only on the contents of ``facts``: paths are processed in
    sorted order and value sets are iterated sorted, so neither the mapping's order
    nor ``PYTHONHASHSEED`` changes which values the size caps keep.

    Raises:
        SolveBudgetExceeded: When ``max_work`` units are spent before the fixpoint.
    """
    facts = {path: facts[path] for path in sorted(facts)}
    eng = Engine(facts, root_package)
    if max_work is not None:
        eng.max_work = max_work
    eng.run()
    return eng.result()
