"""Statement execution for the abstract interpreter."""

from __future__ import annotations

from typing import Any

from app.codegraph.pyflow.interp import IR, Interp
from app.codegraph.pyflow.names import SILENT_DECORATORS
from app.codegraph.pyflow.state import EMPTY, Frame, Vals


class Walker(Interp):
    """Execute statement lists; nested blocks that may not run update names weakly."""

    in_loop = False

    def exec_block(self, fr: Frame, stmts: list[IR], strong: bool) -> None:
        """Execute ``stmts`` in order."""
        self.work += len(stmts)
        if self.work > self.max_work:
            self.over_budget()
        for s in stmts:
            t = s[0]
            self.strong = strong
            if t == "=":
                vals = self.eval(fr, s[2])
                for tgt in s[1]:
                    self.assign(fr, tgt, vals, strong)
            elif t == "e":
                self.eval(fr, s[1])
            elif t == "r":
                self.write(("r", self.unit), self.eval(fr, s[1]))
            elif t == "def":
                self.define(fr, s, strong)
            elif t == "cls":
                self.klass(fr, s, strong)
            elif t == "if":
                for c in s[1]:
                    self.eval(fr, c)
                for b in s[2]:
                    self.exec_block(fr, b, False)
            elif t in ("for", "while"):
                self.loop(fr, s)
            else:
                self.exec_rare(fr, s, t, strong)

    def exec_rare(self, fr: Frame, s: IR, t: str, strong: bool) -> None:
        """Execute the less frequent statement kinds."""
        if t == "try":
            self.exec_block(fr, s[1], False)
            for typ, tgt, body in s[2]:
                if typ is not None:
                    classes = self.eval(fr, typ)
                    if tgt is not None:
                        insts = {"i:" + c[2:] for c in classes if c[0] == "c"}
                        for tup in (c for c in classes if c[0] == "t"):
                            insts.update("i:" + c[2:] for c in self.heap_items(tup) if c[0] == "c")
                        self.assign(fr, tgt, insts, False)
                self.exec_block(fr, body, False)
            self.exec_block(fr, s[3], False)
            self.exec_block(fr, s[4], False)
        elif t == "with":
            for expr, tgt in s[1]:
                vals = self.enter(fr, self.eval(fr, expr))
                if tgt is not None:
                    self.assign(fr, tgt, vals, strong)
            self.exec_block(fr, s[2], strong)
        elif t == "raise":
            for v in sorted(self.eval(fr, s[1])):
                if v[0] == "c":
                    self.instantiate(fr, v[2:], [], {})
        elif t == "imp":
            if s[1] is not None:
                self.assign(fr, s[1], {self.import_value(fr.owner, s[2], s[3])}, strong)
        elif t == "from":
            for item, tgt in s[3]:
                if tgt is not None:
                    vals = self.from_value(self.module_of(fr), s[1], s[2], item)
                    self.assign(fr, tgt, vals, strong)
        elif t == "blk":
            self.exec_block(fr, s[1], False)

    def module_of(self, fr: Frame) -> str:
        """Return the module the walked scope belongs to."""
        return str(self.funcs.get(self.unit, {}).get("module", fr.owner))

    def loop(self, fr: Frame, s: IR) -> None:
        """Execute a loop body, twice when the first pass changed local bindings."""
        if s[0] == "for":
            vals = self.iterate(fr, self.eval(fr, s[2]))
            if s[1] is not None:
                self.assign(fr, s[1], vals, False)
            body, orelse = s[3], s[4]
        else:
            self.eval(fr, s[1])
            body, orelse = s[2], s[3]
        outer = not self.in_loop
        self.in_loop = True
        before = dict(fr.env) if outer else None
        self.exec_block(fr, body, False)
        if before is not None and any(fr.env[k] != v for k, v in before.items()):
            # A variable bound before the loop changed: the next iteration may see it.
            self.exec_block(fr, body, False)
        self.in_loop = not outer
        self.exec_block(fr, orelse, False)

    def enter(self, fr: Frame, vals: Vals) -> Vals:
        """Return what ``with x as y`` binds: ``__enter__``'s result when x defines it."""
        out: set[str] = set()
        for v in sorted(vals):
            if v[0] != "i":
                out.add(v)
                continue
            enter = {m for m in self.instance_attr(fr, v[2:], "__enter__") if m[0] in "fb"}
            exit_ = {m for m in self.instance_attr(fr, v[2:], "__exit__") if m[0] in "fb"}
            if exit_:
                self.call_values(fr, exit_, [], {})
            if enter:
                out |= self.call_values(fr, enter, [], {})
            else:
                out.add(v)
        return out

    def define(self, fr: Frame, s: IR, strong: bool) -> None:
        """Execute ``def``: evaluate defaults and decorators, then bind the name."""
        q = s[1]
        for p, d in s[4]:
            self.write_owned(("v", q, p), self.eval(fr, d))
        vals = self.decorate(fr, s[3], {"f:" + q})
        if s[2] is not None:
            self.assign(fr, s[2], vals, strong)

    def klass(self, fr: Frame, s: IR, strong: bool) -> None:
        """Execute ``class``: record bases, run the body inline, bind the name."""
        cls = s[1]
        self.set_bases(cls, [self.eval(fr, b) for b in s[3]])
        body = Frame(owner=cls, caller=fr.caller, kind="class")
        self.exec_block(body, s[5], True)
        self.strong = strong
        vals = self.decorate(fr, s[4], {"c:" + cls})
        if s[2] is not None:
            self.assign(fr, s[2], vals, strong)

    def decorate(self, fr: Frame, decos: list[Any], vals: Vals) -> Vals:
        """Apply decorators bottom-up; each application is a call from this scope."""
        for d in reversed(decos):
            dv = self.eval(fr, d)
            if not dv:
                continue
            new: set[str] = set()
            for x in sorted(dv):
                k = x[0]
                if k == "B":
                    if x[2:] not in SILENT_DECORATORS:
                        self.edge(fr.caller, "<builtin>." + x[2:])
                    new |= vals
                elif k == "x":
                    self.edge(fr.caller, x[2:])
                    new |= vals
                elif k in "fbci":
                    new |= self.call_values(fr, {x}, [vals], {})
            vals = new or EMPTY
        return vals
