"""Per-file fact extraction: parse with tree-sitter and lower statements to the IR.

The facts of a file depend on that file alone, so an incremental indexer can
cache them by content hash and re-run only :func:`app.codegraph.pyflow.solver.solve`.
Statement IR (see ``exprs`` for expressions):
``["=", targets, e]``, ``["e", e]``, ``["r", e]``, ``["def", qual, target, decos, defaults]``,
``["cls", qual, target, bases, decos, body]``, ``["if", tests, blocks]``,
``["for", target, iter, body, orelse]``, ``["while", test, body, orelse]``,
``["try", body, handlers, orelse, final]``, ``["with", [[e, target]], body]``,
``["raise", e]``, ``["imp", target, name, bind_top]``, ``["from", level, name, [[n, target]]]``,
``["blk", body]`` (a block that may or may not run).
"""

from __future__ import annotations

from typing import Any

from tree_sitter import Node, Tree

from app.codegraph.pyflow.binder import collect, text
from app.codegraph.pyflow.exprs import ExprLowerer
from app.codegraph.pyflow.ir import IR, Scope, is_pure
from app.codegraph.pyflow.names import absolute_import, is_package_path
from app.index.parse.grammars import get_parser

_METHOD_KINDS = {"staticmethod": "s", "classmethod": "c", "property": "p",
                 "cached_property": "p", "functools.cached_property": "p"}


def extract_facts(module: str, path: str, text_: str, tree: Tree | None = None) -> dict[str, Any]:
    """Parse one file (unless the indexer already did) and return its JSON-serialisable facts.

    Args:
        module: Dotted module name derived from the path (``pkg/mod.py`` -> ``pkg.mod``).
        path: Path relative to the analysed root.
        text_: Source text.
        tree: The tree-sitter tree of ``text_`` encoded as UTF-8, when already parsed.
    """
    if tree is None:
        tree = get_parser("python").parse(text_.encode("utf-8", "replace"))
    low = Lowerer(module, path)
    return low.run(tree.root_node)


def _body(node: Node | None) -> list[Node]:
    if node is None:
        return []
    if node.type == "block":
        return [c for c in node.named_children if c.type != "comment"]
    return [node]


class Lowerer(ExprLowerer):
    """Statement half of the lowering; one instance per file."""

    def __init__(self, module: str, path: str) -> None:
        super().__init__(module)
        self.path = path
        self.classes: dict[str, list[str]] = {}
        self.stars: list[list[Any]] = []
        self.imports: set[str] = set()
        self.all_names: list[str] | None = None

    def run(self, root: Node) -> dict[str, Any]:
        """Lower the whole module and assemble the facts dict."""
        stmts = _body(root) if root.type == "block" else [
            c for c in root.named_children if c.type != "comment"]
        b = collect(stmts)
        self.chain.append(Scope("module", self.module, b, named=self.module))
        body = self.block(stmts)
        self.chain.pop()
        self.scopes[self.module] = {"k": "m", "params": [], "mk": "", "gen": False,
                                    "cls": None, "body": body}
        return {"module": self.module, "path": self.path, "pkg": is_package_path(self.path),
                "names": sorted(b.bound), "stars": self.stars, "all": self.all_names,
                "imports": sorted(self.imports), "classes": self.classes,
                "scopes": self.scopes}

    def block(self, nodes: list[Node]) -> list[IR]:
        """Lower a statement list, dropping statements without effects."""
        out: list[IR] = []
        for n in nodes:
            out.extend(self.stmt(n))
        return out

    def stmt(self, node: Node) -> list[IR]:
        """Lower one statement to zero or more IR statements."""
        t = node.type
        if t == "expression_statement":
            return [s for c in node.named_children for s in self.expr_stmt(c)]
        if t == "return_statement":
            kids = [c for c in node.named_children if c.type != "comment"]
            return [["r", self.ex(kids[0])]] if kids else []
        if t == "function_definition":
            return [self.func(node, [])]
        if t == "class_definition":
            return [self.klass(node, [])]
        if t == "decorated_definition":
            decos = [self.ex(d.named_children[0]) for d in node.named_children
                     if d.type == "decorator" and d.named_children]
            defn = node.child_by_field_name("definition")
            if defn is None:
                return []
            if defn.type == "class_definition":
                return [self.klass(defn, decos)]
            return [self.func(defn, decos, node)]
        if t == "if_statement":
            return [self.if_(node)]
        if t in ("for_statement", "while_statement"):
            return [self.loop(node, t)]
        if t == "try_statement":
            return [self.try_(node)]
        if t == "with_statement":
            return [self.with_(node)]
        if t in ("import_statement", "import_from_statement"):
            return self.import_(node)
        if t == "match_statement":
            return [self.match(node)]
        if t in ("pass_statement", "break_statement", "continue_statement", "global_statement",
                 "nonlocal_statement", "future_import_statement", "comment"):
            return []
        if t == "raise_statement":
            raised = [self.ex(c) for c in node.named_children if c.type != "comment"]
            if not raised:
                return []
            return [["raise", raised[0]]] + [["e", k] for k in raised[1:] if not is_pure(k)]
        parts = [self.ex(c) for c in node.named_children if c.type != "comment"]
        parts = [k for k in parts if not is_pure(k)]
        return [["e", ["u", parts]]] if parts else []

    def expr_stmt(self, node: Node) -> list[IR]:
        """Lower the expression inside an expression statement (incl. assignments)."""
        if node.type == "assignment":
            targets: list[IR | None] = []
            cur: Node | None = node
            while cur is not None and cur.type == "assignment":
                targets.append(self.target(cur.child_by_field_name("left")))
                cur = cur.child_by_field_name("right")
            if cur is None:
                return []
            value = self.ex(cur)
            self.note_all(targets, value)
            return [["=", [t for t in targets if t is not None], value]]
        if node.type == "augmented_assignment":
            right = self.ex(node.child_by_field_name("right"))
            tgt = self.target(node.child_by_field_name("left"))
            op = text(node.child_by_field_name("operator"))
            if tgt is not None and tgt[0] in ("n", "a") and op in ("+=", "|="):
                return [["=", [tgt], ["o", [tgt, right]]]]
            return [] if is_pure(right) else [["e", right]]
        e = self.ex(node)
        return [] if is_pure(e) else [["e", e]]

    def note_all(self, targets: list[IR | None], value: IR) -> None:
        """Remember a literal module-level ``__all__`` for star imports."""
        if len(self.chain) != 1 or value[0] not in ("L", "T"):
            return
        if any(t and t[0] == "n" and t[2] == "__all__" for t in targets):
            names = [e[1][1:-1] for e in value[2] if e[0] == "k" and e[1][:1] in "'\""]
            self.all_names = names

    def func(self, node: Node, decos: list[IR], outer: Node | None = None) -> IR:
        """Lower a function definition; its body becomes a separate scope."""
        name = text(node.child_by_field_name("name"))
        qual = f"{self.named_qual()}.{name}"
        cur = self.chain[-1]
        mk = ""
        if outer is not None:
            for d in outer.named_children:
                if d.type == "decorator" and d.named_children:
                    mk = _METHOD_KINDS.get(text(d.named_children[0]), mk)
        params, defaults = self.parameters(node.child_by_field_name("parameters"))
        body_nodes = _body(node.child_by_field_name("body"))
        b = collect(body_nodes, [p[0] for p in params])
        self.chain.append(Scope("function", qual, b, named=qual))
        body = self.block(body_nodes)
        scope = self.chain.pop()
        self.add_scope(qual, {"k": "f", "params": params, "mk": mk, "gen": scope.gen,
                              "cls": cur.qual if cur.kind == "class" else None, "body": body,
                              "line": node.start_point[0] + 1})
        return ["def", qual, self.target(node.child_by_field_name("name")), decos, defaults]

    def klass(self, node: Node, decos: list[IR]) -> IR:
        """Lower a class definition; its body runs inline in the enclosing scope."""
        name = text(node.child_by_field_name("name"))
        qual = f"{self.named_qual()}.{name}"
        bases: list[IR] = []
        sup = node.child_by_field_name("superclasses")
        if sup is not None:
            bases = [self.ex(c) for c in sup.named_children
                     if c.type not in ("keyword_argument", "comment", "dictionary_splat")]
        target = self.target(node.child_by_field_name("name"))
        body_nodes = _body(node.child_by_field_name("body"))
        b = collect(body_nodes)
        self.chain.append(Scope("class", qual, b, named=qual))
        body = self.block(body_nodes)
        self.chain.pop()
        self.classes[qual] = sorted(b.bound | set(self.classes.get(qual, [])))
        return ["cls", qual, target, bases, decos, body]

    def if_(self, node: Node) -> IR:
        """Lower ``if``/``elif``/``else``: every branch is a block that may run."""
        tests = [self.ex(node.child_by_field_name("condition"))]
        blocks = [self.block(_body(node.child_by_field_name("consequence")))]
        for alt in node.children_by_field_name("alternative"):
            if alt.type == "elif_clause":
                tests.append(self.ex(alt.child_by_field_name("condition")))
                blocks.append(self.block(_body(alt.child_by_field_name("consequence"))))
            else:
                blocks.append(self.block(_body(alt.child_by_field_name("body"))))
        return ["if", [t for t in tests if not is_pure(t)], blocks]

    def loop(self, node: Node, t: str) -> IR:
        """Lower ``for`` and ``while`` loops with their ``else`` blocks."""
        body = self.block(_body(node.child_by_field_name("body")))
        alt = node.child_by_field_name("alternative")
        orelse = self.block(_body(alt.child_by_field_name("body"))) if alt is not None else []
        if t == "while_statement":
            return ["while", self.ex(node.child_by_field_name("condition")), body, orelse]
        return ["for", self.target(node.child_by_field_name("left")),
                self.ex(node.child_by_field_name("right")), body, orelse]

    def try_(self, node: Node) -> IR:
        """Lower ``try`` with its handlers, ``else`` and ``finally`` blocks."""
        body = self.block(_body(node.child_by_field_name("body")))
        handlers: list[list[Any]] = []
        orelse: list[IR] = []
        final: list[IR] = []
        for c in node.named_children:
            if c.type in ("except_clause", "except_group_clause"):
                typ: IR | None = None
                tgt: IR | None = None
                hbody: list[IR] = []
                for k in c.named_children:
                    if k.type == "block":
                        hbody = self.block(_body(k))
                    elif k.type == "as_pattern":
                        typ = self.ex(k.named_children[0]) if k.named_children else None
                        tgt = self.target(k.child_by_field_name("alias"))
                    elif k.type != "comment" and typ is None:
                        typ = self.ex(k)
                handlers.append([typ, tgt, hbody])
            elif c.type == "else_clause":
                orelse = self.block(_body(c.child_by_field_name("body")))
            elif c.type == "finally_clause":
                final = self.block([b for k in c.named_children for b in _body(k)])
        return ["try", body, handlers, orelse, final]

    def with_(self, node: Node) -> IR:
        """Lower ``with`` items (``as`` targets bind ``__enter__`` results)."""
        items: list[list[Any]] = []
        for clause in node.named_children:
            if clause.type != "with_clause":
                continue
            for item in clause.named_children:
                v = item.child_by_field_name("value")
                if v is None:
                    continue
                if v.type == "as_pattern" and v.named_children:
                    items.append([self.ex(v.named_children[0]),
                                  self.target(v.child_by_field_name("alias"))])
                else:
                    items.append([self.ex(v), None])
        return ["with", items, self.block(_body(node.child_by_field_name("body")))]

    def match(self, node: Node) -> IR:
        """Lower ``match`` as branches over the subject."""
        subject = [self.ex(c) for c in node.children_by_field_name("subject")]
        blocks: list[list[IR]] = []
        body = node.child_by_field_name("body")
        for case in (body.named_children if body is not None else []):
            if case.type == "case_clause":
                blocks.append(self.block(_body(case.child_by_field_name("consequence"))))
        return ["if", subject, blocks]

    def import_(self, node: Node) -> list[IR]:
        """Lower imports; star imports are recorded for name lookup at solve time."""
        out: list[IR] = []
        if node.type == "import_statement":
            for n in node.children_by_field_name("name"):
                if n.type == "aliased_import":
                    full = text(n.child_by_field_name("name"))
                    out.append(["imp", self.target(n.child_by_field_name("alias")), full, False])
                else:
                    full = text(n)
                    top = full.split(".")[0]
                    out.append(["imp", ["n", self.resolve(top), top], full, True])
                self.imports.add(full)
            return out
        mod = node.child_by_field_name("module_name")
        level, name = 0, text(mod)
        if mod is not None and mod.type == "relative_import":
            prefix = next((c for c in mod.named_children if c.type == "import_prefix"), None)
            level = text(prefix).count(".")
            dotted = next((c for c in mod.named_children if c.type == "dotted_name"), None)
            name = text(dotted)
        if any(c.type == "wildcard_import" for c in node.named_children):
            self.stars.append([level, name])
            base = absolute_import(self.module, is_package_path(self.path), level, name)
            if base:
                self.imports.add(base)
            return out
        names: list[list[Any]] = []
        for n in node.children_by_field_name("name"):
            if n.type == "aliased_import":
                names.append([text(n.child_by_field_name("name")),
                              self.target(n.child_by_field_name("alias"))])
            else:
                names.append([text(n), self.target(n.named_children[-1] if n.named_children
                                                   else n)])
        out.append(["from", level, name, names])
        base = absolute_import(self.module, is_package_path(self.path), level, name)
        if base:
            self.imports.add(base)
            self.imports.update(f"{base}.{n[0]}" for n in names)
        return out
