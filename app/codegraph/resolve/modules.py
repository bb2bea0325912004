"""Find modules, packages and imported names the way each language's import system does.

Python: dotted modules, relative imports against the package, ``src``-layout roots (leading
directories without ``__init__.py`` may be dropped). JS/TS: paths relative to the file, with
extensions and ``index`` files. Go: an import path names a directory (matched by its trailing
segments). Java: a fully qualified name ends in a file's path (``com.x.Repo`` ->
``src/main/java/com/x/Repo.java``). Rust: ``crate::``/``self::``/``super::`` over the module tree.
"""

from __future__ import annotations

import builtins
import posixpath
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

from app.index.records import ParsedFile, Reference, Symbol

Entity = tuple[str, str]
"""(kind, value): 'mod' module, 'pkg' directory, 'sym' symbol, 'inst' instance of a class,
'super' the MRO after a class, 'ext' a name outside the repository."""

Bindings = list[tuple[str, "Entity | None"]]
ImportResult = tuple["Entity | None", Bindings, "Entity | None"]
"""(what an import points to, the local names it binds, a star-import source)."""


class AttributeLookup(Protocol):
    """Finds a member of an entity (the resolver, which knows classes and their MROs)."""

    def attribute(self, ent: Entity, name: str) -> Entity | None:
        """Return what ``ent.name`` is, or None."""
        ...


class ImportFollower(Protocol):
    """Turns one import reference into what it points to (``resolve.imports.import_entity``)."""

    def __call__(self, index: ModuleIndex, f: ParsedFile, ref: Reference) -> ImportResult:
        """Return (target, bound names, star source) for ``ref`` in ``f``."""
        ...


CLASS_KINDS = frozenset({"class", "interface", "struct", "enum", "trait"})
JS_FAMILY = frozenset({"javascript", "typescript", "tsx"})

BUILTINS: dict[str, frozenset[str]] = {
    "python": frozenset(dir(builtins)),
    "go": frozenset(
        "append cap clear close complex copy delete imag len make max min new panic print println"
        " real recover string int int32 int64 uint uint8 uint32 uint64 float32 float64 byte rune"
        " bool error any".split()
    ),
    "java": frozenset(
        "System String Math Integer Long Double Float Boolean Character Byte Short Object Objects"
        " Thread StringBuilder Exception RuntimeException IllegalArgumentException"
        " IllegalStateException NullPointerException UnsupportedOperationException Class".split()
    ),
    "rust": frozenset(
        "Some None Ok Err Box Vec String Option Result Default drop Into From".split()
    ),
}
_JS_GLOBALS = frozenset(
    "console Math JSON Object Array Promise String Number Boolean Date Error TypeError Map Set"
    " WeakMap Symbol RegExp parseInt parseFloat setTimeout setInterval clearTimeout clearInterval"
    " require fetch document window process Buffer globalThis encodeURIComponent"
    " decodeURIComponent isNaN structuredClone Reflect Proxy Intl BigInt".split()
)
for _lang in JS_FAMILY:
    BUILTINS[_lang] = _JS_GLOBALS


def _family(language: str) -> str:
    return "javascript" if language in JS_FAMILY else language


def _dir(path: str) -> str:
    return posixpath.dirname(path)


class ModuleIndex:
    """Symbols, modules and directories of a file set, and per-file import bindings."""

    def __init__(
        self, files: Sequence[ParsedFile], resolver: AttributeLookup, follow: ImportFollower
    ) -> None:
        self.resolver = resolver
        self._follow = follow
        self.files = {f.path: f for f in files}
        self.modules: dict[str, ParsedFile] = {}
        self.symbols: dict[str, Symbol] = {}
        self.members: dict[str, dict[str, str]] = defaultdict(dict)
        self.containers: dict[str, str] = {}
        self.dir_modules: dict[str, list[str]] = defaultdict(list)
        self.dotted_dirs: dict[str, str] = {}
        self._aliases: dict[tuple[str, str], str | None] = {}
        self.go_tails: dict[str, list[str]] = defaultdict(list)
        self._rust: dict[str, str] = {}
        self._bindings: dict[str, dict[str, Entity | None]] = {}
        self._stars: dict[str, list[Entity]] = {}
        self._busy: set[str] = set()
        self._star_busy: set[tuple[str, str]] = set()
        self._star_memo: dict[tuple[str, str], Entity | None] = {}
        self._cycle_hits = 0
        for f in files:
            self._add_file(f)
        by_name: dict[str, list[str]] = defaultdict(list)
        orphans: list[tuple[ParsedFile, Symbol]] = []
        for f in files:
            for s in f.symbols:
                if self.symbols.get(s.qualname) is s:
                    by_name[s.name].append(s.qualname)
                    parent = s.parent or f.module
                    if parent in self.symbols or parent in self.modules:
                        self._attach(parent, s)
                    else:
                        orphans.append((f, s))
        for f, s in orphans:  # Go/Rust methods declared away from their type
            typ = self.type_in_package(f, (s.parent or "").rsplit(".", 1)[-1])
            self._attach(typ or f.module, s)
        self.by_name = {k: sorted(v) for k, v in by_name.items()}
        self._index_aliases(files)

    # ----------------------------------------------------------------- building
    def _add_file(self, f: ParsedFile) -> None:
        self.modules.setdefault(f.module, f)
        if self.modules[f.module] is f:
            self.dir_modules[_dir(f.path)].append(f.module)
        d = _dir(f.path)
        self.dotted_dirs.setdefault(d.replace("/", "."), d)
        for s in f.symbols:
            self.symbols.setdefault(s.qualname, s)
        if f.language == "go":
            segs = d.split("/") if d else []
            for k in range(1, len(segs) + 1):
                tail = "/".join(segs[-k:])
                if d not in self.go_tails[tail]:
                    self.go_tails[tail].append(d)
        if f.language == "rust":
            self._rust.setdefault(self.rust_logical(f), f.module)

    def _attach(self, parent: str, s: Symbol) -> None:
        self.containers[s.qualname] = parent
        self.members[parent].setdefault(s.name, s.qualname)

    def _index_aliases(self, files: Sequence[ParsedFile]) -> None:
        """Index the shorter names a module is imported by (src layouts, Java FQNs)."""
        paths = set(self.files)
        for f in files:
            parts = f.module.split(".")
            if f.language == "python":
                dirs = _dir(f.path).split("/") if _dir(f.path) else []
                k = 0
                while k < len(dirs) and "/".join(dirs[: k + 1]) + "/__init__.py" not in paths:
                    k += 1
                drops = range(1, min(k, len(parts) - 1) + 1)
            elif f.language == "java":
                drops = range(1, len(parts) - 1)
            else:
                continue
            for i in drops:
                key = (f.language, ".".join(parts[i:]))
                self._aliases[key] = None if key in self._aliases else f.module
        for dotted, d in self.dotted_dirs.items():
            parts = dotted.split(".")
            for i in range(1, len(parts) - 1):
                key = ("java-dir", ".".join(parts[i:]))
                self._aliases[key] = None if key in self._aliases else d

    # ----------------------------------------------------------------- lookups
    def language_of(self, qualname: str) -> str | None:
        """Return the language of the file defining ``qualname``."""
        sym = self.symbols.get(qualname)
        f = self.files.get(sym.path) if sym else None
        return f.language if f else None

    def mod_entity(self, module: str) -> Entity:
        """Return a module, or for Java the class that a file is named after."""
        f = self.modules[module]
        if f.language == "java":
            cls = self.members.get(module, {}).get(module.rsplit(".", 1)[-1])
            if cls:
                return ("sym", cls)
        return ("mod", module)

    def type_in_package(self, f: ParsedFile, name: str) -> str | None:
        """Find a type named ``name`` in ``f``'s module or another module of its directory."""
        for m in [f.module] + self.dir_modules.get(_dir(f.path), []):
            hit = self.members.get(m, {}).get(name)
            if hit and self.symbols[hit].kind in CLASS_KINDS:
                return hit
        return None

    def find_module(self, name: str, language: str) -> Entity | None:
        """Find a module or package directory by dotted name (exact, then unique alias)."""
        f = self.modules.get(name)
        if f is not None and _family(f.language) == _family(language):
            return self.mod_entity(name)
        alias = self._aliases.get((language, name))
        if alias:
            return self.mod_entity(alias)
        if name in self.dotted_dirs:
            return ("pkg", self.dotted_dirs[name])
        d = self._aliases.get(("java-dir", name)) if language == "java" else None
        return ("pkg", d) if d else None

    def find_dotted(self, name: str, language: str) -> tuple[Entity | None, bool]:
        """Resolve ``a.b.C.m``: the longest module prefix, then members; (entity, internal)."""
        parts = name.split(".")
        for i in range(len(parts), 0, -1):
            ent = self.find_module(".".join(parts[:i]), language)
            if ent is None:
                continue
            for part in parts[i:]:
                ent = self.resolver.attribute(ent, part) if ent else None
            return ent, True
        return None, False

    def module_member(self, ent: Entity, name: str) -> Entity | None:
        """Resolve ``module.name`` or ``package.name``."""
        kind, val = ent
        if kind == "mod":
            hit = self.members.get(val, {}).get(name)
            if hit:
                return ("sym", hit)
            f = self.modules[val]
            sub = self._child_module(val, f.language, name)
            if sub:
                return sub
            return self._exported(f, name)
        sub = self._child_module(val.replace("/", "."), None, name)
        if sub:
            return sub
        for m in self.dir_modules.get(val, []):
            if self.modules[m].language == "go":
                hit = self.members.get(m, {}).get(name)
                if hit:
                    return ("sym", hit)
        return None

    def _exported(self, f: ParsedFile, name: str) -> Entity | None:
        """Resolve a name another module re-exports by importing it (``__init__`` files)."""
        bound = self.bindings_of(f)
        return bound[name] if name in bound else self._from_stars(f, name)

    def _from_stars(self, f: ParsedFile, name: str) -> Entity | None:
        """Resolve ``name`` through ``f``'s star imports (memoised; cycle-safe)."""
        key = (f.path, name)
        if key in self._star_memo:
            return self._star_memo[key]
        if not self._stars.get(f.path):
            return None
        if key in self._star_busy:  # star imports that import each other
            self._cycle_hits += 1
            return None
        hits_before = self._cycle_hits
        self._star_busy.add(key)
        found = None
        try:
            for star in self._stars[f.path]:
                found = self.resolver.attribute(star, name) if star[0] != "ext" else None
                if found:
                    break
        finally:
            self._star_busy.discard(key)
        if found is not None or self._cycle_hits == hits_before:  # a miss inside a cycle may be
            self._star_memo[key] = found  # premature: keep it uncached
        return found

    def _child_module(self, dotted: str, language: str | None, name: str) -> Entity | None:
        child = f"{dotted}.{name}" if dotted else name
        if child in self.modules:
            return self.mod_entity(child)
        if language == "rust":
            logical = self.rust_logical(self.modules[dotted])
            mod = self._rust.get(f"{logical}.{name}" if logical else name)
            return ("mod", mod) if mod else None
        if language is None and child in self._rust:
            return ("mod", self._rust[child])
        if child in self.dotted_dirs:
            return ("pkg", self.dotted_dirs[child])
        return None

    def module_level_name(self, f: ParsedFile, name: str) -> Entity | None:
        """Resolve a bare name at module level: definitions, imports, package, star imports."""
        hit = self.members.get(f.module, {}).get(name)
        if hit:
            return ("sym", hit)
        bound = self.bindings_of(f)
        if name in bound:
            return bound[name]
        if f.language in ("go", "java"):
            for m in self.dir_modules.get(_dir(f.path), []):
                if m == f.module or self.modules[m].language != f.language:
                    continue
                if f.language == "go" and name in self.members.get(m, {}):
                    return ("sym", self.members[m][name])
                if f.language == "java" and m.rsplit(".", 1)[-1] == name:
                    return self.mod_entity(m)
        found = self._from_stars(f, name)
        if found:
            return found
        if f.language == "rust":
            return self.rust_child(f, name) or self.rust_path(f, [name])
        return None

    # ----------------------------------------------------------------- imports
    def bindings_of(self, f: ParsedFile) -> dict[str, Entity | None]:
        """Return the names ``f`` binds by importing (computed once, cycle-safe)."""
        if f.path in self._bindings:
            return self._bindings[f.path]
        if f.path in self._busy:
            return {}
        self._busy.add(f.path)
        bound: dict[str, Entity | None] = {}
        stars: list[Entity] = []
        self._stars[f.path] = stars
        for ref in f.references:
            if ref.kind != "import":
                continue
            _, names, star = self.import_entity(f, ref)
            if star is not None:
                stars.append(star)
            for name, ent in names:
                bound.setdefault(name, ent)
        self._busy.discard(f.path)
        self._bindings[f.path] = bound
        return bound

    def import_entity(self, f: ParsedFile, ref: Reference) -> ImportResult:
        """Return (what the import points to, the names it binds, a star-import source)."""
        return self._follow(self, f, ref)

    # ----------------------------------------------------------------- per-language paths
    def rust_logical(self, f: ParsedFile) -> str:
        """Return the Rust module path of a file: ``src/a/mod.rs`` and ``src/a.rs`` -> ``src.a``."""
        stem = posixpath.splitext(f.path)[0]
        parts = stem.split("/")
        if parts[-1] == "mod" or (parts[-1] in ("lib", "main") and len(parts) > 1):
            parts = parts[:-1]
        return ".".join(parts)

    def rust_crate(self, f: ParsedFile) -> str:
        """Return the logical path of ``f``'s crate root (the nearest ``lib.rs``/``main.rs``)."""
        d = _dir(f.path)
        while True:
            if any(f"{d}/{n}".lstrip("/") in self.files for n in ("lib.rs", "main.rs")):
                return d.replace("/", ".")
            if not d:
                return ""
            d = _dir(d)

    def rust_child(self, f: ParsedFile, name: str) -> Entity | None:
        """Return the child module ``name`` of a Rust file's module (``mod name;``)."""
        return self._child_module(f.module, "rust", name)

    def rust_root(self, f: ParsedFile, head: str) -> Entity | None:
        """Resolve the Rust path heads ``crate``, ``self`` and ``super``."""
        if head == "self":
            return ("mod", f.module)
        logical = self.rust_crate(f) if head == "crate" else self.rust_logical(f).rpartition(".")[0]
        mod = self._rust.get(logical)
        if mod:
            return ("mod", mod)
        d = logical.replace(".", "/")
        return ("pkg", d) if logical in self.dotted_dirs else None

    def rust_path(self, f: ParsedFile, parts: list[str]) -> Entity | None:
        """Resolve a Rust path without a ``crate``/``self``/``super`` head (crate-relative)."""
        crate = self.rust_crate(f)
        mod = self._rust.get(f"{crate}.{parts[0]}" if crate else parts[0])
        ent: Entity | None = ("mod", mod) if mod else None
        for part in parts[1:]:
            ent = self.resolver.attribute(ent, part) if ent else None
        return ent
