"""Find the names a Python scope binds, so that reads can be resolved statically."""

from __future__ import annotations

from dataclasses import dataclass, field

from tree_sitter import Node

#: Nodes whose bodies open a new scope: their insides bind nothing here.
_SCOPE_NODES = frozenset({
    "function_definition", "class_definition", "lambda", "list_comprehension",
    "set_comprehension", "dictionary_comprehension", "generator_expression",
})

_TARGET_CONTAINERS = frozenset({
    "pattern_list", "tuple_pattern", "list_pattern", "tuple", "list", "expression_list",
    "parenthesized_expression", "list_splat_pattern", "list_splat", "as_pattern_target",
})


@dataclass
class Bindings:
    """Names bound in one scope and its ``global`` / ``nonlocal`` declarations."""

    bound: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    nonlocals: set[str] = field(default_factory=set)


def text(node: Node | None) -> str:
    """Return the source text of ``node`` ('' for None)."""
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", "replace")


def target_names(node: Node | None, out: set[str]) -> None:
    """Add the plain names an assignment target binds (attributes and items bind none)."""
    if node is None:
        return
    if node.type == "identifier":
        out.add(text(node))
    elif node.type in _TARGET_CONTAINERS:
        for child in node.named_children:
            target_names(child, out)


def collect(nodes: list[Node], params: list[str] | None = None) -> Bindings:
    """Collect the bindings of a scope whose statements are ``nodes``."""
    b = Bindings()
    if params:
        b.bound.update(params)
    for n in nodes:
        _visit(n, b)
    b.bound -= b.globals
    b.bound -= b.nonlocals
    return b


def _visit(node: Node, b: Bindings) -> None:
    t = node.type
    if t in ("function_definition", "class_definition"):
        b.bound.add(text(node.child_by_field_name("name")))
        return
    if t in _SCOPE_NODES:
        return
    if t == "decorated_definition":
        defn = node.child_by_field_name("definition")
        if defn is not None:
            _visit(defn, b)
        return
    if t in ("assignment", "augmented_assignment"):
        target_names(node.child_by_field_name("left"), b.bound)
        right = node.child_by_field_name("right")
        if right is not None:
            _visit(right, b)
        return
    if t == "for_statement":
        target_names(node.child_by_field_name("left"), b.bound)
    elif t == "as_pattern":
        target_names(node.child_by_field_name("alias"), b.bound)
    elif t == "named_expression":
        target_names(node.child_by_field_name("name"), b.bound)
    elif t == "import_statement":
        for name in node.children_by_field_name("name"):
            _bind_import(name, b, dotted_top=True)
        return
    elif t == "import_from_statement":
        for name in node.children_by_field_name("name"):
            _bind_import(name, b, dotted_top=False)
        return
    elif t == "global_statement":
        b.globals.update(text(c) for c in node.named_children if c.type == "identifier")
        return
    elif t == "nonlocal_statement":
        b.nonlocals.update(text(c) for c in node.named_children if c.type == "identifier")
        return
    for child in node.named_children:
        _visit(child, b)


def _bind_import(node: Node, b: Bindings, dotted_top: bool) -> None:
    if node.type == "aliased_import":
        b.bound.add(text(node.child_by_field_name("alias")))
        return
    name = text(node)
    b.bound.add(name.split(".")[0] if dotted_top else name.rsplit(".", 1)[-1])
