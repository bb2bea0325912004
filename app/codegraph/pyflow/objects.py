"""Program structure for the solver: modules, imports, class hierarchy and lookups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.codegraph.pyflow.names import BUILTIN_NAMES, ModuleIndex, absolute_import
from app.codegraph.pyflow.state import EMPTY, State, Vals


def _merge_c3(seqs: list[list[str]]) -> list[str] | None:
    out: list[str] = []
    seqs = [s[:] for s in seqs if s]
    while seqs:
        for s in seqs:
            head = s[0]
            if not any(head in t[1:] for t in seqs):
                break
        else:
            return None
        out.append(head)
        seqs = [t[1:] if t[0] == head else t for t in seqs]
        seqs = [t for t in seqs if t]
    return out


class Objects(State):
    """Module namespaces, star imports, class MROs and attribute lookup through them."""

    def __init__(self, facts: Mapping[str, Mapping[str, Any]],
                 root_package: str | None = None) -> None:
        super().__init__()
        self.mods: dict[str, dict[str, Any]] = {}
        self.classes: dict[str, set[str]] = {}
        for f in facts.values():
            m = self.mods.setdefault(f["module"], {"names": set(), "stars": [], "all": None,
                                                   "pkg": False, "raw_stars": []})
            m["names"].update(f.get("names", ()))
            m["pkg"] = m["pkg"] or bool(f.get("pkg"))
            m["raw_stars"].extend(f.get("stars", ()))
            if f.get("all") is not None:
                m["all"] = set(f["all"])
            for k, names in f.get("classes", {}).items():
                self.classes.setdefault(k, set()).update(names)
        self.index = ModuleIndex(self.mods, [m for m, i in self.mods.items() if i["pkg"]],
                                 root_package)
        for name, m in self.mods.items():
            for level, base in m["raw_stars"]:
                internal = self.resolve_from(name, level, base)
                if internal is not None:
                    m["stars"].append(internal)
        self.sources: dict[tuple[str, str], str] = {}
        self.methods: dict[str, list[str]] = {}
        self.bases: dict[str, list[set[str]]] = {}
        self.mro_cache: dict[str, list[str]] = {}
        self.mro_users: dict[str, set[str]] = {}

    # -- modules ----------------------------------------------------------------
    def resolve_from(self, module: str, level: int, name: str) -> str | None:
        """Return the internal module a ``from`` import in ``module`` refers to."""
        pkg = self.mods.get(module, {}).get("pkg", False)
        base = absolute_import(module, pkg, level, name)
        if base is None:
            return None
        if level:
            return base if base in self.index.known else None
        return self.index.resolve(base)

    def module_attr(self, mod: str, name: str) -> Vals:
        """Return ``mod.name``: a module-level binding, a star import, or a submodule."""
        src = self.name_source(mod, name)
        vals = self.read(("v", src, name))
        if vals:
            return vals
        sub = f"{mod}.{name}"
        if sub in self.index.known:
            return {"m:" + sub}
        return vals

    def name_source(self, mod: str, name: str) -> str:
        """Return the module whose namespace provides ``name`` to ``mod`` (star imports)."""
        key = (mod, name)
        found = self.sources.get(key)
        if found is None:
            found = self._find_source(mod, name, set()) or mod
            self.sources[key] = found
        return found

    def _find_source(self, mod: str, name: str, seen: set[str]) -> str | None:
        info = self.mods.get(mod)
        if info is None:
            return None
        if name in info["names"]:
            return mod
        seen.add(mod)
        for src in info["stars"]:
            if src in seen:
                continue
            allowed = self.mods.get(src, {}).get("all")
            if (name not in allowed) if allowed is not None else name.startswith("_"):
                continue
            found = self._find_source(src, name, seen)
            if found is not None:
                return found
        return None

    def global_lookup(self, mod: str, name: str) -> Vals:
        """Resolve a free name in module ``mod``: module binding, star import, builtin."""
        src = self.name_source(mod, name)
        vals = self.read(("v", src, name))
        if vals or src != mod or name in self.mods.get(mod, {}).get("names", ()):
            return vals
        if name in BUILTIN_NAMES:
            return {"B:" + name}
        return vals

    def import_value(self, module: str, name: str, bind_top: bool) -> str:
        """Return the value bound by ``import name`` (top package) or ``import name as x``."""
        found = self.index.resolve_import(name)
        if found is None:
            return "x:" + (name.split(".")[0] if bind_top else name)
        return "m:" + (found[1] if bind_top else found[0])

    def from_value(self, module: str, level: int, base: str, item: str) -> Vals:
        """Return the value bound by ``from <level><base> import item``."""
        internal = self.resolve_from(module, level, base)
        if internal is None:
            if level:
                return EMPTY
            return {f"x:{base}.{item}"}
        return self.module_attr(internal, item)

    # -- classes ----------------------------------------------------------------
    def set_bases(self, cls: str, bases: list[Vals]) -> None:
        """Record the base-class values of ``cls``; invalidate MROs when they grow."""
        old = self.bases.get(cls)
        if old is None:
            old = self.bases[cls] = []
        changed = False
        for i, vals in enumerate(bases):
            if i >= len(old):
                old.append(set())
            if not vals <= old[i]:
                old[i] |= vals
                changed = True
        if changed:
            users = self.mro_users.pop(cls, {cls}) | {cls}
            for k in sorted(users):
                self.mro_cache.pop(k, None)
                self.notify(("mro", k))
            for k in sorted(users):
                self.seed_receivers(k)

    def seed_receivers(self, cls: str) -> None:
        """Let instances of ``cls`` reach ``self`` of every inherited method up front.

        Subclass instances would arrive there anyway; seeding them at once saves
        the re-walks that one-by-one growth causes.
        """
        unit, self.unit = self.unit, "<seed>"
        for anc in self._mro(cls, set())[1:]:
            for q in self.methods.get(anc, ()):
                info = self.funcs[q]
                if info["pos"] and info["mk"] != "s":
                    recv = ("c:" if info["mk"] == "c" else "i:") + cls
                    self.write_owned(("v", q, info["pos"][0]), {recv})
        self.unit = unit

    def mro(self, cls: str) -> list[str]:
        """Return the C3 MRO of ``cls``; external bases appear as ``x:`` entries."""
        self.deps[("mro", cls)][self.unit] = None
        cached = self.mro_cache.get(cls)
        return cached if cached is not None else self._mro(cls, set())

    def _mro(self, cls: str, visiting: set[str]) -> list[str]:
        cached = self.mro_cache.get(cls)
        if cached is not None:
            return cached
        if cls in visiting:
            return [cls]
        visiting.add(cls)
        direct: list[str] = []
        for pos in self.bases.get(cls, ()):
            for v in sorted(pos):
                if v[0] == "c" and v[2:] != cls:
                    direct.append(v[2:])
                elif v[0] == "x":
                    direct.append(v)
        seqs = [self._mro(d, visiting) if d[:2] != "x:" else [d] for d in direct]
        merged = _merge_c3([*seqs, direct])
        if merged is None:
            merged = list(dict.fromkeys(c for s in seqs for c in s))
        result = [cls, *merged]
        visiting.discard(cls)
        self.mro_cache[cls] = result
        for c in result:
            self.mro_users.setdefault(c, set()).add(cls)
        return result

    def class_lookup(self, cls: str, name: str, skip: int = 0) -> tuple[Vals, str | None]:
        """Find class-level ``name`` along the MRO (first definition wins).

        Returns the values and, when an external base comes first, its dotted name.
        """
        deps, store, unit = self.deps, self.store, self.unit
        for c in self.mro(cls)[skip:]:
            if c[:2] == "x:":
                return EMPTY, c[2:]
            key = ("v", c, name)
            deps[key][unit] = None
            vals = store.get(key, EMPTY)
            if vals or name in self.classes.get(c, ()):
                return vals, None
        return EMPTY, None

    def instance_fields(self, cls: str, name: str) -> set[str]:
        """Union the instance attributes ``name`` stored on any class of the MRO."""
        deps, store, unit = self.deps, self.store, self.unit
        out: set[str] = set()
        for c in self.mro(cls):
            if c[:2] != "x:":
                key = ("a", c, name)
                deps[key][unit] = None
                vals = store.get(key)
                if vals:
                    out |= vals
        return out
