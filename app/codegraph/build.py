"""Build the code graph (files, modules, symbols; contains/imports/calls/inherits edges).

The graph is rebuilt from every stored ``ParsedFile`` on each index change, so an incremental
index equals a fresh one by construction; building is therefore kept to one linear pass over
sorted input (deterministic whatever the input order). For Python, the precise call facts of
``app.codegraph.pyflow`` replace the generic name resolution for the callers they cover.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from app.codegraph.queries import CallSite, CodeGraph, assemble, no_gc
from app.codegraph.resolve.resolver import Resolver, Target, split_expr
from app.index.records import ParsedFile, Symbol

__all__ = ["CallSite", "CodeGraph", "build_graph"]

_INIT_NAMES = ("__init__", "__new__", "__call__")


@dataclass(slots=True)
class _CallEdge:
    path: str
    status: str
    via: str
    lines: set[int] = field(default_factory=set)
    candidates: tuple[str, ...] = ()


class _Builder:
    """Accumulate nodes and edges in plain dicts, then hand them to NetworkX in one go."""

    def __init__(self, files: list[ParsedFile]) -> None:
        self.files = files
        self.resolver = Resolver(files)
        self.nodes: dict[str, dict[str, Any]] = {}
        self.edges: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.calls: dict[tuple[str, str], _CallEdge] = {}

    # ----------------------------------------------------------------- nodes
    def structure(self) -> None:
        """Add file, module and symbol nodes with their ``contains`` edges."""
        symbols = self.resolver.symbols
        for f in self.files:
            self.nodes[f"file:{f.path}"] = {"kind": "file", "path": f.path, "language": f.language}
            mod = f"mod:{f.module}"
            self.nodes.setdefault(mod, {"kind": "module", "name": f.module, "path": f.path})
            self.edges[(f"file:{f.path}", mod, "contains")] = {"kind": "contains"}
            for s in f.symbols:
                if symbols[s.qualname] is s:
                    self.nodes[f"sym:{s.qualname}"] = _symbol_attrs(s)
        for f in self.files:
            for s in f.symbols:
                if symbols[s.qualname] is s:
                    self.edges[
                        (
                            self.node_of(f, self.resolver.index.containers[s.qualname]),
                            f"sym:{s.qualname}",
                            "contains",
                        )
                    ] = {"kind": "contains"}

    def node_of(self, f: ParsedFile, qualname: str) -> str:
        """Return the node for a scope: the module for top-level code, else the symbol."""
        index = self.resolver.index
        if qualname == f.module or (qualname in index.modules and qualname not in index.symbols):
            return f"mod:{qualname}"
        chain = self.resolver.chain(qualname)
        return f"sym:{chain[0]}" if chain else f"mod:{f.module}"

    def target_node(self, target: Target) -> str:
        """Add the node for an external or unresolved target, if needed, and return its id."""
        if target.node.startswith("ext:"):
            attrs = self.nodes.setdefault(
                target.node, {"kind": target.status, "name": target.node[4:]}
            )
            if target.status == "external":
                attrs["kind"] = "external"
        return target.node

    # ----------------------------------------------------------------- edges
    def imports_and_inherits(self) -> None:
        """Add ``imports`` edges (module -> module/symbol) and ``inherits`` edges."""
        index = self.resolver.index
        for f in self.files:
            src = f"mod:{f.module}"
            for ref in f.references:
                if ref.kind == "import":
                    for target in _import_targets(
                        index, f, ref.target, index.import_entity(f, ref)[0]
                    ):
                        node = self.target_node(target)
                        if node != src:
                            self.edges.setdefault(
                                (src, node, "imports"), {"kind": "imports", "line": ref.line}
                            )
                elif ref.kind == "inherit":
                    owner = self.resolver.inheritor(f, ref)
                    if owner is None:
                        continue
                    ent = self.resolver.base_entity(f, owner, ref)
                    if ent and ent[0] == "sym":
                        target = Target(f"sym:{ent[1]}", "resolved")
                    elif ent and ent[0] == "ext":
                        target = Target(f"ext:{ent[1]}", "external")
                    else:
                        target = self.resolver.unresolved(ref.target)
                    self.edges.setdefault(
                        (f"sym:{owner}", self.target_node(target), "inherits"),
                        {
                            "kind": "inherits",
                            "line": ref.line,
                            "resolved": target.status == "resolved",
                        },
                    )

    def add_call(self, src: str, target: Target, path: str, lines: set[int], via: str) -> None:
        """Record call sites from ``src`` to ``target``; one edge per pair."""
        key = (src, self.target_node(target))
        edge = self.calls.get(key)
        if edge is None:
            edge = self.calls[key] = _CallEdge(path, target.status, via, set(), target.candidates)
        edge.lines |= lines

    def generic_calls(self, covered: set[str]) -> dict[str, list[tuple[str, Target, int]]]:
        """Resolve every call reference; add edges for callers pyflow did not cover.

        Returns, per covered caller node, its (expression, generic target, line) triples so
        that pyflow edges can be given lines and calls pyflow dropped stay visible.
        """
        seen: dict[str, list[tuple[str, Target, int]]] = {}
        for f in self.files:
            for ref in f.references:
                if ref.kind != "call":
                    continue
                src = self.node_of(f, ref.scope)
                target = self.resolver.resolve_call(f, ref.scope, ref.target)
                if src in covered and f.language == "python":
                    seen.setdefault(src, []).append((ref.target, target, ref.line))
                else:
                    self.add_call(src, target, f.path, {ref.line}, "generic")
        return seen

    def python_calls(self, calls: Mapping[str, set[str]]) -> None:
        """Add pyflow's call edges; keep generic ones only for callers it did not cover."""
        covered: dict[str, set[str]] = {}
        for caller in sorted(calls):
            node = self._caller_node(caller)
            if node is not None:
                covered.setdefault(node, set()).update(calls[caller])
        seen = self.generic_calls(set(covered))
        for src, callees in covered.items():
            sites = seen.get(src, [])
            path, start = self._where(src)
            by_node: dict[str, set[int]] = defaultdict(set)
            by_name: dict[str, set[int]] = defaultdict(set)
            for expr, t, ln in sites:
                by_node[t.node].add(ln)
                by_name[_last_name(expr)].add(ln)
            names: set[str] = set()
            for callee in sorted(callees):
                target = self._pyflow_target(callee)
                names.update(_match_names(callee))
                lines = by_node.get(target.node) or set().union(
                    *(by_name.get(n, set()) for n in _match_names(callee))
                )
                self.add_call(src, target, path, lines or {start}, "pyflow")
            for expr, target, line in sites:  # calls pyflow could not name stay explicit
                if target.status == "unresolved" and _last_name(expr) not in names:
                    self.add_call(src, target, path, {line}, "generic")

    def _caller_node(self, caller: str) -> str | None:
        """Map a pyflow caller to a node; lambdas and other unnamed scopes fold into their owner."""
        index = self.resolver.index
        cur = caller
        while cur:
            if cur in index.modules:
                return f"mod:{cur}"
            if cur in index.symbols:
                return f"sym:{cur}"
            cur = cur.rpartition(".")[0]
        return None

    def _where(self, node: str) -> tuple[str, int]:
        attrs = self.nodes[node]
        return attrs["path"], int(attrs.get("start_line", 1))

    def _pyflow_target(self, callee: str) -> Target:
        if callee.startswith("<builtin>."):
            return Target(f"ext:{callee[len('<builtin>.') :]}", "external")
        if callee.startswith("ext."):
            return Target(f"ext:{callee[4:]}", "external")
        if callee in self.resolver.symbols:
            return Target(f"sym:{callee}", "resolved")
        if callee in self.resolver.index.modules:
            return Target(f"mod:{callee}", "resolved")
        prefix = callee
        while prefix and prefix not in self.resolver.index.modules:
            prefix = prefix.rpartition(".")[0]
        # inside an internal module but no known symbol (``m.f.<lambda1>``): unresolved
        return self.resolver.unresolved(callee) if prefix else Target(f"ext:{callee}", "external")

    def finish(self) -> nx.MultiDiGraph:
        """Return the NetworkX graph with every node and edge in a deterministic order."""
        for (src, dst), e in self.calls.items():
            attrs: dict[str, Any] = {
                "kind": "calls",
                "path": e.path,
                "line": min(e.lines),
                "lines": tuple(sorted(e.lines)),
                "resolved": e.status == "resolved",
                "status": e.status,
                "via": e.via,
            }
            if e.candidates:
                attrs["candidates"] = e.candidates
            self.edges[(src, dst, "calls")] = attrs
        return assemble(self.nodes.items(), ((u, v, k, d) for (u, v, k), d in self.edges.items()))


def build_graph(
    parsed: Mapping[str, ParsedFile], python_calls: Mapping[str, set[str]] | None = None
) -> CodeGraph:
    """Build the code graph of a repository from its parsed files (and pyflow's Python calls)."""
    files = [parsed[k] for k in sorted(parsed, key=lambda k: (parsed[k].path, k))]
    with no_gc():  # only acyclic containers are built; the GC would rescan them repeatedly
        builder = _Builder(files)
        builder.structure()
        builder.imports_and_inherits()
        if python_calls:
            builder.python_calls(python_calls)
        else:
            builder.generic_calls(set())
        return CodeGraph(builder.finish())


def _symbol_attrs(s: Symbol) -> dict[str, Any]:
    return {
        "kind": s.kind,
        "name": s.name,
        "qualname": s.qualname,
        "path": s.path,
        "start_line": s.start_line,
        "end_line": s.end_line,
        "signature": s.signature,
        "parent": s.parent,
    }


def _import_targets(index: Any, f: ParsedFile, raw: str, ent: Any) -> list[Target]:
    if ent is None:
        return [Target(f"ext:{' '.join(raw.split())}", "unresolved")]
    kind, val = ent
    if kind == "sym":
        return [Target(f"sym:{val}", "resolved")]
    if kind == "mod":
        return [Target(f"mod:{val}", "resolved")]
    if kind == "pkg":
        mods = index.dir_modules.get(val, [])
        return [Target(f"mod:{m}", "resolved") for m in mods] or [
            Target(f"ext:{raw}", "unresolved")
        ]
    return [Target(f"ext:{val}", "external")]


def _last_name(expr: str) -> str:
    parts = split_expr(expr)
    return parts[-1].name if parts else ""


def _match_names(callee: str) -> set[str]:
    """Return the written names that a pyflow callee can appear as (``C()`` for ``C.__init__``)."""
    parts = callee.split(".")
    names = {parts[-1]}
    if parts[-1] in _INIT_NAMES and len(parts) > 1:
        names.add(parts[-2])
    return names
