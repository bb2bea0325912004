"""Resolve the names written in calls and base lists to definitions, for every language.

The resolver answers one question: what does this expression, written in this scope of this
file, refer to? The answer is an internal module or symbol, an external name (a library, a
builtin) or nothing. It never picks one of several same-named definitions: a guess would give
the call graph edges that do not exist, so an unresolvable name stays unresolved and the
same-named definitions travel along only as ``candidates``.

Module and import lookup (Python packages, JS paths, Go packages, Java FQNs, Rust paths) lives in
:mod:`app.codegraph.resolve.modules`; this module adds scopes, members, MROs and expressions.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from app.codegraph.resolve.imports import import_entity
from app.codegraph.resolve.modules import (
    BUILTINS,
    CLASS_KINDS,
    JS_FAMILY,
    Entity,
    ModuleIndex,
)
from app.index.records import ParsedFile, Reference, Symbol

Status = Literal["resolved", "external", "unresolved"]

_IDENT = re.compile(r"[A-Za-z_$][\w$]*!?")
_SIMPLE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_GO_RECEIVER = re.compile(r"^func\s*\(\s*(\w+)\s+\*?\s*(\w+)")
_CTOR_NAMES = {"python": ("__init__",), "javascript": ("constructor",)}
_MAX_CANDIDATES = 20
_OBJECT_ATTRS = frozenset(dir(object))


@dataclass(frozen=True, slots=True)
class Target:
    """Where a reference points: a graph node id and how sure we are."""

    node: str
    """``sym:<qualname>``, ``mod:<module>`` or ``ext:<name>``."""
    status: Status
    candidates: tuple[str, ...] = ()
    """For unresolved calls: same-named definitions, never chosen among."""


@dataclass(frozen=True, slots=True)
class _Part:
    name: str
    """Identifier, or '' when the part is not a plain name (a literal, a parenthesised expr)."""
    suffix: str
    """'call' after ``(...)``, 'index' after ``[...]``, '' otherwise."""


@lru_cache(maxsize=65536)
def split_expr(expr: str) -> tuple[_Part, ...]:
    """Split a callee expression into dotted parts, normalising ``::``, ``?.`` and ``new``."""
    if _SIMPLE.fullmatch(expr):
        return tuple(_Part(name, "") for name in expr.split("."))
    text = " ".join(expr.split())
    for prefix in ("await ", "new "):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = text.replace("?.", ".").replace("::", ".").replace("->", ".")
    raw: list[str] = []
    depth, start = 0, 0
    for i, ch in enumerate(text):
        if ch in "([{<":
            depth += 1
        elif ch in ")]}>":
            depth -= 1
        elif ch == "." and depth == 0:
            raw.append(text[start:i])
            start = i + 1
    raw.append(text[start:])
    parts = []
    for chunk in raw:
        chunk = chunk.strip()
        if chunk.startswith("<"):  # Rust turbofish ``Vec::<u8>::new``
            continue
        match = _IDENT.match(chunk)
        rest = _drop_generics(chunk[match.end() :]).strip() if match else ""
        if not match or (rest and rest[0] not in "(["):
            parts.append(_Part("", ""))
            continue
        parts.append(_Part(match.group(), {")": "call", "]": "index"}.get(rest[-1:], "")))
    return tuple(parts)


def _drop_generics(text: str) -> str:
    """Remove a leading ``<...>`` type argument list."""
    if not text.startswith("<"):
        return text
    depth = 0
    for i, ch in enumerate(text):
        depth += {"<": 1, ">": -1}.get(ch, 0)
        if depth == 0:
            return text[i + 1 :]
    return ""


class Resolver:
    """Answer 'what does this name mean here?' over a fixed set of parsed files."""

    def __init__(self, files: Sequence[ParsedFile]) -> None:
        self.index = ModuleIndex(files, self, import_entity)
        self.symbols = self.index.symbols
        self.members = self.index.members
        self._class_refs: dict[str, list[tuple[ParsedFile, Reference]]] = defaultdict(list)
        self._bases: dict[str, list[str]] = {}
        self._mro: dict[str, list[str]] = {}
        self._chains: dict[str, list[str]] = {}
        self._members: dict[tuple[str, str, bool], str | None] | None = None
        for f in files:
            self._collect_inherits(f)
        for cls in sorted(self._class_refs):  # eagerly, so cycles resolve the same every time
            self.mro(cls)
        self._members = {}

    # ----------------------------------------------------------------- classes and MRO
    def _collect_inherits(self, f: ParsedFile) -> None:
        classes = [s for s in f.symbols if s.kind in CLASS_KINDS and s.qualname in self.symbols]
        for ref in f.references:
            if ref.kind != "inherit":
                continue
            owner = self.inheritor(f, ref, classes)
            if owner:
                self._class_refs[owner].append((f, ref))

    def inheritor(
        self, f: ParsedFile, ref: Reference, classes: Sequence[Symbol] | None = None
    ) -> str | None:
        """Return the class that declares base ``ref``: the innermost class around its line."""
        pool = classes if classes is not None else [s for s in f.symbols if s.kind in CLASS_KINDS]
        best = None
        for s in pool:
            if s.start_line <= ref.line <= s.end_line and (
                best is None or s.end_line - s.start_line < best.end_line - best.start_line
            ):
                best = s
        if best is not None:
            return str(best.qualname)
        scope = self.symbols.get(ref.scope)
        return ref.scope if scope is not None and scope.kind in CLASS_KINDS else None

    def base_entity(self, f: ParsedFile, owner: str, ref: Reference) -> Entity | None:
        """Resolve a base expression in the scope around the class that declares it."""
        parent = self.symbols[owner].parent or f.module
        return self.resolve_expr(f, parent, ref.target)

    def bases(self, cls: str) -> list[str]:
        """Return the internal base classes of ``cls`` in declaration order."""
        if cls in self._bases:
            return self._bases[cls]
        self._bases[cls] = []  # guards cyclic or self-referential bases
        found: list[str] = []
        for f, ref in self._class_refs.get(cls, []):
            ent = self.base_entity(f, cls, ref)
            if ent and ent[0] == "sym" and ent[1] != cls and ent[1] not in found:
                if self.symbols[ent[1]].kind in CLASS_KINDS:
                    found.append(ent[1])
        self._bases[cls] = found
        return found

    def mro(self, cls: str) -> list[str]:
        """Return the method resolution order: C3 for Python, depth-first elsewhere."""
        if cls in self._mro:
            return self._mro[cls]
        self._mro[cls] = [cls]  # cycle guard
        order = None
        if self.index.language_of(cls) == "python":
            order = _c3(cls, [self.mro(b) for b in self.bases(cls)], self.bases(cls))
        if order is None:
            order = [cls]
            for b in self.bases(cls):
                order += [c for c in self.mro(b) if c not in order]
        self._mro[cls] = order
        return order

    def member(self, cls: str, name: str, skip_self: bool = False) -> str | None:
        """Find ``name`` on ``cls`` or the first class of its MRO that defines it."""
        key = (cls, name, skip_self)
        if self._members is not None and key in self._members:
            return self._members[key]
        found = None
        for c in self.mro(cls)[1 if skip_self else 0 :]:
            found = self.members.get(c, {}).get(name)
            if found:
                break
        if self._members is not None:  # only once every MRO is final
            self._members[key] = found
        return found

    def constructor(self, cls: str) -> str:
        """Return what instantiating ``cls`` runs: ``__init__``/``constructor``, else the class."""
        lang = self.index.language_of(cls)
        if lang == "java":
            own = self.members.get(cls, {}).get(self.symbols[cls].name)
            return own or cls
        names = _CTOR_NAMES.get("javascript" if lang in JS_FAMILY else lang or "", ())
        for name in names:
            hit = self.member(cls, name)
            if hit:
                return hit
        return cls

    # ----------------------------------------------------------------- scopes
    def chain(self, scope: str) -> list[str]:
        """Return the known symbols enclosing ``scope``, innermost first."""
        hit = self._chains.get(scope)
        if hit is not None:
            return hit
        out: list[str] = []
        cur: str | None = scope
        while cur and cur not in self.symbols and "." in cur and cur not in self.index.modules:
            cur = cur.rsplit(".", 1)[0]
        while cur and cur in self.symbols and cur not in out:
            out.append(cur)
            cur = self.symbols[cur].parent
        self._chains[scope] = out
        return out

    def enclosing_class(self, scope: str) -> str | None:
        """Return the innermost class-like symbol around ``scope``."""
        for q in self.chain(scope):
            if self.symbols[q].kind in CLASS_KINDS:
                return q
        return None

    def go_receiver(self, f: ParsedFile, scope: str) -> tuple[str, str] | None:
        """Return (receiver variable, receiver type qualname) of the Go method around ``scope``."""
        for q in self.chain(scope):
            sym = self.symbols[q]
            match = _GO_RECEIVER.match(sym.signature)
            if match:
                typ = self.index.type_in_package(f, match.group(2))
                return (match.group(1), typ) if typ else None
        return None

    def lookup_name(self, f: ParsedFile, scope: str, name: str) -> Entity | None:
        """Resolve a bare name: enclosing definitions, the module, imports, the package."""
        java = f.language == "java"
        for q in self.chain(scope):
            if self.symbols[q].kind in CLASS_KINDS:
                hit = self.member(q, name) if java else None
                if hit is None and q == scope:
                    hit = self.members.get(q, {}).get(name)
            else:
                hit = self.members.get(q, {}).get(name)
            if hit:
                return ("sym", hit)
        return self.index.module_level_name(f, name)

    # ----------------------------------------------------------------- expressions
    def _head(self, f: ParsedFile, scope: str, part: _Part, text: str) -> Entity | None:
        name, lang = part.name, f.language
        if name in ("self", "this", "cls", "Self") and not (lang == "rust" and "self::" in text):
            cls = self.enclosing_class(scope)
            if cls:
                return ("inst", cls) if name in ("self", "this") else ("sym", cls)
        if name == "super" and lang != "rust":
            cls = self.enclosing_class(scope)
            return ("super", cls) if cls else None
        if lang == "rust" and name in ("crate", "self", "super"):
            return self.index.rust_root(f, name)
        if lang == "go":
            recv = self.go_receiver(f, scope)
            if recv and recv[0] == name:
                return ("inst", recv[1])
        ent = self.lookup_name(f, scope, name)
        if ent is None and (name in BUILTINS.get(lang, ()) or name.endswith("!")):
            return ("ext", name)
        return ent

    def attribute(self, ent: Entity, name: str) -> Entity | None:
        """Resolve ``ent.name``."""
        kind, val = ent
        if kind == "ext":
            return ("ext", f"{val}.{name}")
        if kind in ("inst", "super") or (kind == "sym" and self.symbols[val].kind in CLASS_KINDS):
            hit = self.member(val, name, skip_self=kind == "super")
            if hit:
                return ("sym", hit)
            if name in _OBJECT_ATTRS and self.index.language_of(val) == "python":
                return ("ext", f"object.{name}")  # not defined in the repo: object's own
            return None
        if kind in ("mod", "pkg"):
            return self.index.module_member(ent, name)
        return None

    def call_result(self, ent: Entity) -> Entity | None:
        """Return what calling ``ent`` gives, when that is knowable (an instance)."""
        kind, val = ent
        if kind == "super":  # Python's ``super()``
            return ent
        if kind == "ext":
            return ("ext", f"{val}()")
        if kind == "sym" and self.symbols[val].kind in CLASS_KINDS:
            return ("inst", val)
        return None

    def resolve_expr(self, f: ParsedFile, scope: str, expr: str) -> Entity | None:
        """Resolve a dotted expression (``a.b.c``, ``Foo().bar``, ``Type::new``) to an entity."""
        parts = split_expr(expr)
        if not parts or not parts[0].name:
            return None
        ent = self._head(f, scope, parts[0], expr)
        for prev, part in zip(parts, parts[1:], strict=False):
            if ent is not None and prev.suffix == "call":
                ent = self.call_result(ent)
            elif ent is not None and prev.suffix == "index":
                ent = ("ext", f"{ent[1]}[]") if ent[0] == "ext" else None
            if ent is None or not part.name:
                return None
            ent = self.attribute(ent, part.name)
        if ent is not None and parts[-1].suffix == "call":
            ent = self.call_result(ent)
        return ent

    def resolve_call(self, f: ParsedFile, scope: str, expr: str) -> Target:
        """Resolve a call's callee to a graph target; unresolvable calls say so."""
        ent = self.resolve_expr(f, scope, expr)
        if ent is not None:
            kind, val = ent
            if kind == "ext":
                return Target(f"ext:{val}", "external")
            if kind == "sym":
                sym = self.symbols[val]
                if sym.kind in CLASS_KINDS:
                    val = self.constructor(val)
                return Target(f"sym:{val}", "resolved")
            if kind == "inst" and f.language == "python":
                hit = self.member(val, "__call__")
                if hit:
                    return Target(f"sym:{hit}", "resolved")
            if kind == "super":
                return self._super_call(f, val)
        return self.unresolved(expr)

    def _super_call(self, f: ParsedFile, cls: str) -> Target:
        """Resolve a bare ``super(...)`` call: the builtin in Python, else the base constructor."""
        if f.language == "python":
            return Target("ext:super", "external")
        bases = self.bases(cls)
        if bases:
            return Target(f"sym:{self.constructor(bases[0])}", "resolved")
        refs = self._class_refs.get(cls, [])
        first = self.base_entity(refs[0][0], cls, refs[0][1]) if refs else ("ext", "super")
        if first is not None and first[0] == "ext":  # an external base's constructor
            return Target(f"ext:{first[1]}", "external")
        return self.unresolved("super")

    def unresolved(self, expr: str) -> Target:
        """Return an explicit unresolved target with same-named definitions as candidates."""
        label = " ".join(expr.split())
        parts = split_expr(label)
        last = parts[-1].name if parts else ""
        cands = tuple(self.index.by_name.get(last, ())[:_MAX_CANDIDATES])
        return Target(f"ext:{label}", "unresolved", cands)


def _c3(cls: str, mros: list[list[str]], bases: list[str]) -> list[str] | None:
    """Merge base MROs by C3; None when the hierarchy is inconsistent."""
    seqs = [list(m) for m in mros] + [list(bases)]
    out = [cls]
    while True:
        seqs = [s for s in seqs if s]
        if not seqs:
            return out
        for seq in seqs:
            head = seq[0]
            if not any(head in other[1:] for other in seqs):
                break
        else:
            return None
        out.append(head)
        seqs = [s[1:] if s[0] == head else s for s in seqs]
