"""Abstract interpretation of the statement/expression IR over points-to sets."""

from __future__ import annotations

from typing import Any

from app.codegraph.pyflow.calls import Args, Calls, Kwargs
from app.codegraph.pyflow.state import EMPTY, Frame, Vals

IR = list[Any]


class Interp(Calls):
    """Walk scope bodies; straight-line code updates names strongly, branches weakly."""

    def eval(self, fr: Frame, e: IR) -> Vals:
        """Return the abstract values of expression ``e``."""
        t = e[0]
        if t == "n":
            return self.name(fr, e[1], e[2])
        if t == "a":
            return self.get_attr(fr, self.eval(fr, e[1]), e[2])
        if t == "c":
            return self.call(fr, e)
        if t == "k":
            return {"k:" + e[1]}
        if t == "u":
            for c in e[1]:
                self.eval(fr, c)
            return EMPTY
        if t == "o":
            out: set[str] = set()
            for c in e[1]:
                out |= self.eval(fr, c)
            return out
        if t in ("L", "T", "E"):
            return self.sequence(fr, e[1], e[2])
        if t == "D":
            return self.dict_display(fr, e[1], e[2])
        return self.eval_rare(fr, e, t)

    def eval_rare(self, fr: Frame, e: IR, t: str) -> Vals:
        """Evaluate the less frequent expression kinds."""
        if t == "s":
            return self.subscript(fr, self.eval(fr, e[1]), self.eval(fr, e[2]))
        if t == "f":
            q = e[1]
            for p, d in e[2]:
                self.write_owned(("v", q, p), self.eval(fr, d))
            return {"f:" + q}
        if t == "w" or t == "*":
            return self.eval(fr, e[1])
        if t == "y":
            self.write(("y", self.unit), self.eval(fr, e[1]))
            return EMPTY
        if t == "yf":
            self.write(("y", self.unit), self.iterate(fr, self.eval(fr, e[1])))
            return EMPTY
        if t == "ne":
            vals = self.eval(fr, e[2])
            if e[1] is not None:
                self.assign(fr, e[1], vals, False)
            return vals
        if t == "cp":
            return self.comprehension(fr, e[1], e[2], e[3])
        if t == "sl":
            return self.slice(fr, self.eval(fr, e[1]), e[2], e[3], e[4])
        return EMPTY

    def name(self, fr: Frame, owner: str, name: str) -> Vals:
        """Read a name: flow-sensitive inside its own scope, accumulated elsewhere."""
        key = ("v", owner, name)
        if owner == fr.owner:
            v = fr.env.get(name)
            if v is not None:
                return self.read_local(key, v)
            if fr.kind == "module":
                return self.global_lookup(owner, name)
            return self.read(key)
        if owner in self.mods:
            return self.global_lookup(owner, name)
        return self.read(key)

    def call(self, fr: Frame, e: IR) -> Vals:
        """Evaluate a call expression."""
        self.work += 1
        if self.work > self.max_work:
            self.over_budget()
        callees = self.eval(fr, e[1])
        pos: Args = []
        for a in e[2]:
            if a[0] == "*":
                self.eval(fr, a[1])
                pos.append(None)
            else:
                pos.append(self.eval(fr, a))
        kw: Kwargs = {}
        for k, a in e[3]:
            vals = self.eval(fr, a)
            if k is not None:
                kw[k] = vals
        if not callees:
            return EMPTY
        return self.call_values(fr, callees, pos, kw)

    def sequence(self, fr: Frame, site: str, elems: list[IR]) -> Vals:
        """Evaluate a list/tuple/set display into its allocation site."""
        starred = False
        for i, el in enumerate(elems):
            if el[0] == "*":
                starred = True
                self.heap_write(site, "*", self.iterate(fr, self.eval(fr, el[1])))
            else:
                self.heap_write(site, "*" if starred else str(i), self.eval(fr, el))
        return {site}

    def dict_display(self, fr: Frame, site: str, pairs: list[list[Any]]) -> Vals:
        """Evaluate a dict display into its allocation site."""
        for k, v in pairs:
            vals = self.eval(fr, v)
            if k is None:
                for o in sorted(vals):
                    if o[0] == "d":
                        for hk in sorted(self.read(("hk", o))):
                            self.heap_write(site, hk, self.read(("h", o, hk)))
                continue
            consts = [c[2:] for c in sorted(self.eval(fr, k)) if c[0] == "k"]
            for c in consts or ["*"]:
                self.heap_write(site, c, vals)
        return {site}

    def subscript(self, fr: Frame, objs: Vals, keys: Vals) -> Vals:
        """Evaluate ``obj[key]``."""
        out: set[str] = set()
        for o in sorted(objs):
            t = o[0]
            if t in "ldte":
                out |= self.item_get(fr, o, keys)
            elif t == "q":
                idx = {k[2:] for k in keys if k[0] == "k"}
                if not idx or "0" in idx:
                    out.update("k:" + k for k in self.read(("hk", o[2:])) if k != "*")
                if not idx or "1" in idx:
                    out |= self.heap_items(o[2:])
            elif t == "i":
                get = {m for m in self.instance_attr(fr, o[2:], "__getitem__") if m[0] in "fb"}
                if get:
                    out |= self.call_values(fr, get, [keys], {})
        return out

    def slice(self, fr: Frame, objs: Vals, lo: int | None, hi: int | None, new: str) -> Vals:
        """Evaluate ``obj[lo:hi]`` into a fresh list site with re-indexed items."""
        exact = (lo is None or lo >= 0) and (hi is None or hi >= 0)
        start = lo or 0
        for o in sorted(objs):
            if o[0] not in "lt":
                continue
            for k in sorted(self.read(("hk", o))):
                vals = self.heap_get(fr, o, k)
                if not exact or not k.isdigit():
                    self.heap_write(new, "*", vals)
                elif start <= int(k) and (hi is None or int(k) < hi):
                    self.heap_write(new, str(int(k) - start), vals)
        return {new}

    def comprehension(self, fr: Frame, site: str, clauses: list[IR], elt: IR) -> Vals:
        """Evaluate a comprehension; its loop variables live in their own scope."""
        vals: Vals
        for cl in clauses:
            if cl[0] == "for":
                vals = self.iterate(fr, self.eval(fr, cl[2]))
                if cl[1] is not None:
                    self.assign(fr, cl[1], vals, False)
            else:
                self.eval(fr, cl[1])
        if elt[0] == "pair":
            vals = self.eval(fr, elt[2])
            for c in [c[2:] for c in sorted(self.eval(fr, elt[1])) if c[0] == "k"] or ["*"]:
                self.heap_write(site, c, vals)
        else:
            self.heap_write(site, "*", self.eval(fr, elt))
        return {site}

    # -- assignment ---------------------------------------------------------------
    def assign(self, fr: Frame, tgt: IR, vals: Vals, strong: bool) -> None:
        """Bind ``vals`` to an assignment target."""
        t = tgt[0]
        if t == "n":
            owner, name = tgt[1], tgt[2]
            self.write_owned(("v", owner, name), vals)
            if owner == fr.owner:
                if strong:
                    fr.env[name] = vals
                else:
                    fr.env[name] = fr.env.get(name, EMPTY) | vals
        elif t == "a":
            for o in sorted(self.eval(fr, tgt[1])):
                k = o[0]
                if k == "i":
                    self.write_owned(("a", o[2:], tgt[2]), vals)
                elif k in "cm":
                    self.write_owned(("v", o[2:], tgt[2]), vals)
        elif t == "s":
            self.store_item(fr, self.eval(fr, tgt[1]), self.eval(fr, tgt[2]), vals, strong)
        elif t == "T":
            self.unpack(fr, tgt[1], vals, strong)
        elif t == "*" and tgt[1] is not None:
            self.heap_write(tgt[2], "*", vals)
            self.assign(fr, tgt[1], {tgt[2]}, strong)

    def store_item(self, fr: Frame, objs: Vals, keys: Vals, vals: Vals, strong: bool) -> None:
        """Evaluate ``obj[key] = vals``; a single known cell is updated strongly."""
        consts = [k[2:] for k in sorted(keys) if k[0] == "k"] or ["*"]
        sites = [o for o in sorted(objs) if o[0] in "ldte"]
        for s in sites:
            for c in consts:
                self.heap_write(s, c, vals)
        if strong and len(sites) == 1 and len(consts) == 1 and consts[0] != "*":
            fr.overlay[(sites[0], consts[0])] = vals
        for o in sorted(objs):
            if o[0] == "i":
                meth = {m for m in self.instance_attr(fr, o[2:], "__setitem__") if m[0] in "fb"}
                if meth:
                    self.call_values(fr, meth, [keys, vals], {})

    def unpack(self, fr: Frame, targets: list[IR | None], vals: Vals, strong: bool) -> None:
        """Destructure ``vals`` into ``targets`` (tuples by index, iterables wholesale)."""
        n = len(targets)
        star = next((i for i, t in enumerate(targets) if t is not None and t[0] == "*"), -1)
        parts: list[set[str]] = [set() for _ in targets]
        for v in sorted(vals):
            t = v[0]
            if t in "lt":
                keys = self.read(("hk", v))
                length = max((int(k) + 1 for k in keys if k.isdigit()), default=0)
                anyv = self.heap_get(fr, v, "*")
                for i in range(n):
                    if i == star:
                        mids = range(star, length - (n - 1 - star))
                        for j in mids:
                            parts[i] |= self.heap_get(fr, v, str(j))
                        parts[i] |= anyv
                        continue
                    j = i if star < 0 or i < star else length - (n - i)
                    parts[i] |= self.heap_get(fr, v, str(j)) | anyv
            elif t == "q" and n == 2:
                parts[0].update("k:" + k for k in self.read(("hk", v[2:])) if k != "*")
                parts[1] |= self.heap_items(v[2:])
            else:
                items = self.iterate(fr, {v})
                for p in parts:
                    p |= items
        for tgt, p in zip(targets, parts, strict=True):
            if tgt is None:
                continue
            if tgt[0] == "*":
                self.heap_write(tgt[2], "*", p)
                if tgt[1] is not None:
                    self.assign(fr, tgt[1], {tgt[2]}, strong)
            else:
                self.assign(fr, tgt, p, strong)
