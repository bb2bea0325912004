"""Call semantics: binding arguments, attribute access, builtins and iteration."""

from __future__ import annotations

from app.codegraph.pyflow.objects import Objects
from app.codegraph.pyflow.state import EMPTY, Frame, Vals

Args = list[Vals | None]
Kwargs = dict[str, Vals]

_TYPES = {"d": ("PyDict", dict), "l": ("PyList", list), "t": ("PyTuple", tuple),
          "e": ("PySet", set), "k": ("PyStr", str)}
_PASS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "reversed", "iter"})
_SITES = frozenset("ldtegrvp")
_MAX_EXT_DEPTH = 6
#: ``d.update(x)`` copies items only when x is one of this few dicts (else it costs too much).
_MAX_UPDATE_SOURCES = 2


class Calls(Objects):
    """Dispatch calls on abstract values and bind their arguments."""

    strong = True

    def fn_result(self, q: str) -> Vals:
        """Return what calling function ``q`` evaluates to (a generator for generators)."""
        info = self.funcs.get(q)
        if info is not None and info["gen"]:
            return {"g:" + q}
        return self.read(("r", q))

    def bind(self, q: str, recv: str | None, pos: Args, kw: Kwargs) -> None:
        """Flow receiver, positional and keyword argument values into q's parameters."""
        info = self.funcs.get(q)
        if info is None:
            return
        plist: list[str] = info["pos"]
        i = 0
        if recv is not None:
            if plist:
                self.write_owned(("v", q, plist[0]), {recv})
            i = 1
        for vals in pos:
            if vals is None:
                break
            if i < len(plist):
                self.write_owned(("v", q, plist[i]), vals)
            elif info["star"]:
                self.heap_write(f"t:{q}#*", "*", vals)
            i += 1
        for name, vals in kw.items():
            if name in info["named"]:
                self.write_owned(("v", q, name), vals)
            elif info["dstar"]:
                self.heap_write(f"d:{q}#**", repr(name), vals)

    def call_values(self, fr: Frame, callees: Vals, pos: Args, kw: Kwargs) -> set[str]:
        """Call every value in ``callees``; record edges and return the results."""
        res: set[str] = set()
        for v in sorted(callees):
            t = v[0]
            if t == "f":
                q = v[2:]
                self.edge(fr.caller, q)
                self.bind(q, None, pos, kw)
                res |= self.fn_result(q)
            elif t == "b":
                q, _, recv = v[2:].partition("@")
                self.edge(fr.caller, q)
                self.bind(q, recv, pos, kw)
                res |= self.fn_result(q)
            elif t == "c":
                res |= self.instantiate(fr, v[2:], pos, kw)
            elif t == "i":
                meth = {m for m in self.instance_attr(fr, v[2:], "__call__") if m[0] in "fb"}
                if meth:
                    res |= self.call_values(fr, meth, pos, kw)
            elif t == "x":
                self.edge(fr.caller, v[2:])
                res.add(v)
            elif t == "B":
                self.edge(fr.caller, "<builtin>." + v[2:])
                res |= self.builtin_call(fr, v[2:], pos, kw)
            elif t == "y":
                res |= self.type_method(fr, v, pos, kw)
        return res

    def instantiate(self, fr: Frame, cls: str, pos: Args, kw: Kwargs) -> set[str]:
        """Create an instance: call ``__init__`` found on the MRO (PyCG's convention)."""
        inst = "i:" + cls
        init, ext = self.class_lookup(cls, "__init__")
        for f in sorted(init):
            if f[0] == "f":
                self.edge(fr.caller, f[2:])
                self.bind(f[2:], inst, pos, kw)
        if not init and ext:
            self.edge(fr.caller, ext + ".__init__")
        return {inst}

    def method_value(self, fr: Frame, f: str, cls: str, recv: str | None) -> set[str]:
        """Turn a class-level value into what attribute access yields (bound, static...)."""
        if f[0] != "f":
            return {f}
        q = f[2:]
        mk = self.funcs.get(q, {}).get("mk", "")
        if mk == "s":
            return {f}
        if mk == "c":
            return {f"b:{q}@c:{cls}"}
        if recv is None:
            return {f}
        if mk == "p":
            self.edge(fr.caller, q)
            self.bind(q, recv, [], {})
            return set(self.fn_result(q))
        return {f"b:{q}@{recv}"}

    def instance_attr(self, fr: Frame, cls: str, name: str) -> set[str]:
        """Look ``name`` up on an instance of ``cls``: instance fields, then the class."""
        out = self.instance_fields(cls, name)
        vals, ext = self.class_lookup(cls, name)
        for f in sorted(vals):
            out |= self.method_value(fr, f, cls, "i:" + cls)
        if not out and ext:
            out.add(f"x:{ext}.{name}")
        return out

    def get_attr(self, fr: Frame, objs: Vals, name: str) -> set[str]:
        """Evaluate ``obj.name`` for every value of ``obj``."""
        out: set[str] = set()
        for v in sorted(objs):
            t = v[0]
            if t == "i":
                out |= self.instance_attr(fr, v[2:], name)
            elif t == "m":
                out |= self.module_attr(v[2:], name)
            elif t == "c":
                vals, ext = self.class_lookup(v[2:], name)
                for f in sorted(vals):
                    out |= self.method_value(fr, f, v[2:], None)
                if not vals and ext:
                    out.add(f"x:{ext}.{name}")
            elif t == "x":
                if v.count(".") < _MAX_EXT_DEPTH:
                    out.add(f"{v}.{name}")
            elif t == "u":
                vals, ext = self.class_lookup(v[2:], name, skip=1)
                for f in sorted(vals):
                    out |= self.method_value(fr, f, v[2:], "i:" + v[2:])
                if not vals and ext:
                    out.add(f"x:{ext}.{name}")
            elif t in _TYPES:
                tname, typ = _TYPES[t]
                if t == "k" and v[2] not in "'\"":
                    continue
                if hasattr(typ, name):
                    out.add(f"y:{tname}.{name}|{v if t != 'k' else ''}")
        return out

    def builtin_call(self, fr: Frame, name: str, pos: Args, kw: Kwargs) -> set[str]:
        """Model the few builtins whose result or callbacks matter for calls."""
        first = pos[0] if pos and pos[0] is not None else EMPTY
        if name == "super":
            if pos:
                return {"u:" + v[2:] for v in first if v[0] == "c"}
            cls = self.funcs.get(self.unit, {}).get("cls")
            return {"u:" + cls} if cls else set()
        if name in ("map", "filter"):
            fns = {v for a in pos if a for v in a if v[0] in "fb"}
            data = [a for a in pos if a and not any(v[0] in "fb" for v in a)]
            elems = self.iterate(fr, set().union(*data)) if data else set()
            for fn in sorted(fns):
                self.call_values(fr, {fn}, [elems], {})
            if name == "filter":
                return {v for a in data if a for v in a if v[0] in _SITES}
            return {"r:" + fn[2:].partition("@")[0] for fn in fns}
        if name in _PASS or name in ("min", "max"):
            key = kw.get("key")
            if key:
                self.call_values(fr, key, [self.iterate(fr, first)], {})
            if name in ("min", "max"):
                return self.iterate(fr, first) if len(pos) == 1 else set()
            return {v for v in first if v[0] in _SITES}
        if name == "next":
            return self.iterate(fr, first)
        if name == "getattr" and len(pos) >= 2 and pos[1]:
            out: set[str] = set()
            for k in sorted(pos[1]):
                if k[0] == "k" and k[2] in "'\"":
                    out |= self.get_attr(fr, first, k[3:-1])
            if len(pos) > 2 and pos[2]:
                out |= pos[2]
            return out
        return set()

    def iterate(self, fr: Frame, vals: Vals) -> set[str]:
        """Return the values produced by iterating over ``vals``."""
        out: set[str] = set()
        for v in sorted(vals):
            t = v[0]
            if t in "lte":
                out |= self.heap_items(v)
            elif t == "d":
                out.update("k:" + k for k in self.read(("hk", v)) if k != "*")
            elif t == "g":
                out |= self.read(("y", v[2:]))
            elif t == "r":
                out |= self.read(("r", v[2:]))
            elif t == "v":
                out |= self.heap_items(v[2:])
            elif t == "p":
                out.add("q:" + v[2:])
            elif t == "i":
                out |= self.iter_protocol(fr, v[2:])
        return out

    def iter_protocol(self, fr: Frame, cls: str) -> set[str]:
        """Call ``__iter__`` then ``__next__`` on an instance, as a ``for`` loop does."""
        out: set[str] = set()
        its = {m for m in self.instance_attr(fr, cls, "__iter__") if m[0] in "fb"}
        if not its:
            return out
        for w in sorted(self.call_values(fr, its, [], {})):
            if w[0] == "i":
                nxt = {m for m in self.instance_attr(fr, w[2:], "__next__") if m[0] in "fb"}
                out |= self.call_values(fr, nxt, [], {})
            else:
                out |= self.iterate(fr, {w})
        return out

    def type_method(self, fr: Frame, v: str, pos: Args, kw: Kwargs) -> set[str]:
        """Call a builtin-type method such as ``dict.get`` or ``list.append``."""
        tname, _, rest = v[2:].partition(".")
        mname, _, site = rest.partition("|")
        self.edge(fr.caller, f"<**{tname}**>.{mname}")
        if not site:
            return set()
        first = pos[0] if pos and pos[0] is not None else EMPTY
        if mname in ("append", "add"):
            self.heap_write(site, "*", first)
        elif mname == "insert" and len(pos) > 1 and pos[1] is not None:
            self.heap_write(site, "*", pos[1])
        elif mname == "extend":
            self.heap_write(site, "*", self.iterate(fr, first))
        elif mname == "update":
            self.dict_update(fr, site, first, kw)
        elif mname == "setdefault" and len(pos) > 1 and pos[1] is not None:
            for k in sorted(first):
                if k[0] == "k":
                    self.heap_write(site, k[2:], pos[1])
            return self.item_get(fr, site, first)
        elif mname in ("get", "pop"):
            out = self.item_get(fr, site, first) if site[0] == "d" else self.heap_items(site)
            return out | pos[1] if len(pos) > 1 and pos[1] else out
        elif mname == "values":
            return {"v:" + site}
        elif mname == "items":
            return {"p:" + site}
        elif mname in ("keys", "copy"):
            return {site}
        return set()

    def dict_update(self, fr: Frame, site: str, other: Vals, kw: Kwargs) -> None:
        """Copy the items of ``other`` (and keyword arguments) into dict ``site``."""
        writes: list[tuple[str, Vals]] = [(repr(k), v) for k, v in kw.items()]
        sources = [o for o in sorted(other) if o[0] == "d"]
        for o in sources if len(sources) <= _MAX_UPDATE_SOURCES else ():
            if o[0] == "d":
                for k in sorted(self.read(("hk", o))):
                    writes.append((k, self.heap_get(fr, o, k)))
        for k, vals in writes:
            self.heap_write(site, k, vals)
            if self.strong and len(other) <= 1 and k != "*":
                fr.overlay[(site, k)] = vals

    def heap_get(self, fr: Frame, site: str, key: str) -> Vals:
        """Read item ``key`` of ``site``, honouring this walk's strong updates."""
        ov = fr.overlay.get((site, key))
        if ov is None:
            return self.read(("h", site, key))
        return self.read_local(("h", site, key), ov)

    def item_get(self, fr: Frame, site: str, keys: Vals) -> set[str]:
        """Read ``site[key]`` for constant keys, or every item when the key is unknown."""
        consts = [k[2:] for k in sorted(keys) if k[0] == "k"]
        if not consts:
            return self.heap_items(site)
        out = set(self.heap_get(fr, site, "*"))
        for c in consts:
            out |= self.heap_get(fr, site, c)
        return out
