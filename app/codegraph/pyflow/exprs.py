"""Lower tree-sitter expressions to the small JSON IR the solver interprets.

IR expressions are lists whose first item is a tag:
``["n", owner, name]`` name read (owner = scope that binds it), ``["a", obj, attr]``,
``["c", callee, args, kwargs]``, ``["s", obj, key]``, ``["sl", obj, lo, hi, site]``,
``["k", repr]`` str/int constant, ``["L"|"T"|"E", site, elems]`` list/tuple/set literal,
``["D", site, [[k, v], ...]]``, ``["f", qualname, defaults]`` lambda,
``["cp", site, clauses, elt]`` comprehension, ``["o", [..]]`` union of values,
``["u", [..]]`` unknown value (children evaluated for their calls), ``["w", e]`` await,
``["y", e]`` / ``["yf", e]`` yield, ``["ne", target, e]`` walrus, ``["*", e, site]`` splat.
"""

from __future__ import annotations

from typing import Any

from tree_sitter import Node

from app.codegraph.pyflow.binder import Bindings, collect, target_names, text
from app.codegraph.pyflow.ir import IR, Scope, is_pure, literal

_LITERALS = {"list": "L", "tuple": "T", "expression_list": "T", "set": "E"}
_COMPS = {"list_comprehension": "l", "generator_expression": "l",
          "set_comprehension": "e", "dictionary_comprehension": "d"}
_SKIP = frozenset({"comment", "type", "keyword_separator", "positional_separator"})


class ExprLowerer:
    """Expression half of the lowering; statements live in ``facts.Lowerer``."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.chain: list[Scope] = []
        self.scopes: dict[str, dict[str, Any]] = {}
        self.sites = 0

    # -- scopes ---------------------------------------------------------------
    def resolve(self, name: str) -> str:
        """Return the qualname of the scope that owns ``name`` as seen from here."""
        last = len(self.chain) - 1
        for i in range(last, -1, -1):
            s = self.chain[i]
            if s.kind == "class" and i != last:
                continue
            if s.kind == "module":
                return s.qual
            if name in s.b.globals:
                return self.module
            if name in s.b.nonlocals:
                continue
            if name in s.b.bound:
                return s.qual
        return self.module

    def named_qual(self) -> str:
        """Return the qualname that nested definitions are named under."""
        return self.chain[-1].named

    def site(self, kind: str) -> str:
        """Return a fresh allocation-site id of container ``kind`` (l, t, d, e)."""
        self.sites += 1
        return f"{kind}:{self.module}:{self.sites}"

    def mark_generator(self) -> None:
        """Record that the innermost function scope yields."""
        for s in reversed(self.chain):
            if s.kind in ("function", "lambda"):
                s.gen = True
                return

    # -- expressions ----------------------------------------------------------
    def ex(self, node: Node | None) -> IR:
        """Lower one expression node."""
        if node is None:
            return ["u", []]
        t = node.type
        if t == "identifier":
            name = text(node)
            return ["n", self.resolve(name), name]
        if t == "attribute":
            return ["a", self.ex(node.child_by_field_name("object")),
                    text(node.child_by_field_name("attribute"))]
        if t == "call":
            return self.call(node)
        if t in ("string", "concatenated_string"):
            return self.string(node)
        if t == "integer":
            return literal(node)
        if t == "parenthesized_expression":
            kids = [c for c in node.named_children if c.type != "comment"]
            return self.ex(kids[0]) if len(kids) == 1 else ["u", []]
        if t == "subscript":
            return self.subscript(node)
        if t in _LITERALS:
            return [_LITERALS[t], self.site(_LITERALS[t].lower()),
                    [self.elem(c) for c in node.named_children if c.type not in _SKIP]]
        if t == "dictionary":
            return self.dictionary(node)
        if t in _COMPS:
            return self.comprehension(node, _COMPS[t])
        if t == "lambda":
            return self.lambda_(node)
        return self.ex_misc(node, t)

    def ex_misc(self, node: Node, t: str) -> IR:
        """Lower the less common expression kinds."""
        if t == "conditional_expression":
            kids = [self.ex(c) for c in node.named_children if c.type not in _SKIP]
            return ["o", kids[:1] + kids[2:] + [["u", kids[1:2]]]]
        if t == "boolean_operator":
            return ["o", [self.ex(node.child_by_field_name("left")),
                          self.ex(node.child_by_field_name("right"))]]
        if t == "await":
            return ["w", self.ex(node.named_children[0] if node.named_children else None)]
        if t == "yield":
            self.mark_generator()
            inner = [c for c in node.named_children if c.type not in _SKIP]
            is_from = any(c.type == "from" for c in node.children)
            return ["yf" if is_from else "y", self.ex(inner[0]) if inner else ["u", []]]
        if t == "named_expression":
            return ["ne", self.target(node.child_by_field_name("name")),
                    self.ex(node.child_by_field_name("value"))]
        if t in ("true", "false", "none", "float", "ellipsis", "comment"):
            return ["u", []]
        kids = [self.ex(c) for c in node.named_children if c.type not in _SKIP]
        return ["u", [k for k in kids if not is_pure(k)]]

    def elem(self, node: Node) -> IR:
        """Lower a container element, keeping ``*x`` splats."""
        if node.type in ("list_splat", "parenthesized_list_splat"):
            inner = node.named_children[0] if node.named_children else None
            return ["*", self.ex(inner), ""]
        return self.ex(node)

    def string(self, node: Node) -> IR:
        """Lower a string: a constant unless it interpolates."""
        interps: list[IR] = []
        stack = [node]
        while stack:
            n = stack.pop()
            for c in n.named_children:
                if c.type == "interpolation":
                    interps.append(self.ex(c.child_by_field_name("expression")))
                elif c.type in ("string", "string_content", "format_specifier"):
                    stack.append(c)
        if interps:
            return ["u", [k for k in interps if not is_pure(k)]]
        return literal(node)

    def call(self, node: Node) -> IR:
        """Lower a call with its positional, starred and keyword arguments."""
        fn = self.ex(node.child_by_field_name("function"))
        args_node = node.child_by_field_name("arguments")
        pos: list[IR] = []
        kws: list[list[Any]] = []
        if args_node is not None and args_node.type == "generator_expression":
            pos.append(self.ex(args_node))
        elif args_node is not None:
            for a in args_node.named_children:
                if a.type == "keyword_argument":
                    kws.append([text(a.child_by_field_name("name")),
                                self.ex(a.child_by_field_name("value"))])
                elif a.type == "dictionary_splat":
                    kws.append([None, self.ex(a.named_children[0] if a.named_children else None)])
                elif a.type == "list_splat":
                    inner = a.named_children[0] if a.named_children else None
                    pos.append(["*", self.ex(inner), ""])
                elif a.type not in _SKIP:
                    pos.append(self.ex(a))
        return ["c", fn, pos, kws]

    def subscript(self, node: Node) -> IR:
        """Lower ``x[k]`` and ``x[lo:hi]`` (constant bounds only)."""
        value = self.ex(node.child_by_field_name("value"))
        subs = node.children_by_field_name("subscript")
        if len(subs) == 1 and subs[0].type == "slice":
            bounds: list[int | None] = [None, None]
            idx = 0
            for c in subs[0].children:
                if c.type == ":":
                    idx += 1
                elif idx < 2:
                    lit = literal(c)
                    bounds[idx] = int(lit[1]) if lit[0] == "k" and lit[1][0] != "'" else None
            return ["sl", value, bounds[0], bounds[1], self.site("l")]
        if len(subs) == 1:
            return ["s", value, self.ex(subs[0])]
        return ["s", value, ["u", [k for k in (self.ex(s) for s in subs) if not is_pure(k)]]]

    def dictionary(self, node: Node) -> IR:
        """Lower a dict display, keeping ``**other`` merges as a None key."""
        pairs: list[list[Any]] = []
        for c in node.named_children:
            if c.type == "pair":
                pairs.append([self.ex(c.child_by_field_name("key")),
                              self.ex(c.child_by_field_name("value"))])
            elif c.type == "dictionary_splat":
                pairs.append([None, self.ex(c.named_children[0] if c.named_children else None)])
        return ["D", self.site("d"), pairs]

    def comprehension(self, node: Node, kind: str) -> IR:
        """Lower a comprehension in its own scope; its calls belong to the enclosing one."""
        cur = self.chain[-1]
        cur.comps += 1
        b = Bindings()
        for c in node.named_children:
            if c.type == "for_in_clause":
                target_names(c.child_by_field_name("left"), b.bound)
        self.chain.append(Scope("comp", f"{cur.qual}#c{cur.comps}", b, named=cur.named))
        clauses: list[list[Any]] = []
        for c in node.named_children:
            if c.type == "for_in_clause":
                right = c.child_by_field_name("right")
                clauses.append(["for", self.target(c.child_by_field_name("left")), self.ex(right)])
            elif c.type == "if_clause":
                kids = c.named_children
                clauses.append(["if", self.ex(kids[0] if kids else None)])
        body = node.child_by_field_name("body")
        if body is not None and body.type == "pair":
            elt: IR = ["pair", self.ex(body.child_by_field_name("key")),
                       self.ex(body.child_by_field_name("value"))]
        else:
            elt = self.ex(body)
        self.chain.pop()
        return ["cp", self.site(kind), clauses, elt]

    def lambda_(self, node: Node) -> IR:
        """Lower a lambda into its own scope named ``<lambdaN>`` like PyCG."""
        cur = self.chain[-1]
        owner = next(s for s in reversed(self.chain) if s.kind != "comp")
        owner.lambdas += 1
        qual = f"{cur.named}.<lambda{owner.lambdas}>"
        params, defaults = self.parameters(node.child_by_field_name("parameters"))
        self.chain.append(Scope("lambda", qual, collect([], [p[0] for p in params]), named=qual))
        body = self.ex(node.child_by_field_name("body"))
        scope = self.chain.pop()
        self.add_scope(qual, {"k": "l", "params": params, "mk": "", "gen": scope.gen,
                              "cls": None, "body": [["r", body]]})
        return ["f", qual, defaults]

    def parameters(self, node: Node | None) -> tuple[list[list[str]], list[list[Any]]]:
        """Return ([[name, kind]], [[name, default IR]]); kinds: p, k, *, **."""
        params: list[list[str]] = []
        defaults: list[list[Any]] = []
        if node is None:
            return params, defaults
        kw_only = False
        for c in node.named_children:
            t = c.type
            inner = c
            if t == "typed_parameter" and c.named_children:
                inner = c.named_children[0]
                t = inner.type if inner.type != "identifier" else "identifier"
            if t == "identifier":
                params.append([text(inner), "k" if kw_only else "p"])
            elif t in ("default_parameter", "typed_default_parameter"):
                name = text(c.child_by_field_name("name"))
                params.append([name, "k" if kw_only else "p"])
                val = self.ex(c.child_by_field_name("value"))
                if not (val[0] == "u" and not val[1]):
                    defaults.append([name, val])
            elif t == "list_splat_pattern":
                kw_only = True
                params.append([text(inner.named_children[0]) if inner.named_children else "", "*"])
            elif t == "dictionary_splat_pattern":
                params.append([text(inner.named_children[0]) if inner.named_children else "", "**"])
            elif t == "keyword_separator":
                kw_only = True
        return params, defaults

    def add_scope(self, qual: str, info: dict[str, Any]) -> None:
        """Register a function scope, merging same-named redefinitions (PyCG merges them)."""
        old = self.scopes.get(qual)
        if old is None:
            self.scopes[qual] = info
            return
        old["body"] = [*old["body"], ["blk", info["body"]]]
        old["gen"] = old["gen"] or info["gen"]
        if len(info["params"]) > len(old["params"]):
            old["params"] = info["params"]

    def target(self, node: Node | None) -> IR | None:
        """Lower an assignment target (None when it binds nothing we model)."""
        if node is None:
            return None
        t = node.type
        if t in ("identifier", "attribute"):
            return self.ex(node)
        if t == "subscript":
            sub = self.subscript(node)
            return sub if sub[0] == "s" else None
        if t in ("pattern_list", "tuple_pattern", "list_pattern", "tuple", "list",
                 "expression_list"):
            return ["T", [self.target(c) for c in node.named_children if c.type not in _SKIP]]
        if t in ("parenthesized_expression", "as_pattern_target"):
            kids = [c for c in node.named_children if c.type != "comment"]
            return self.target(kids[0]) if len(kids) == 1 else None
        if t in ("list_splat_pattern", "list_splat"):
            kids = node.named_children
            return ["*", self.target(kids[0] if kids else None), self.site("l")]
        return None
