"""Per-language knobs for the tag extractor: wrappers, comments, callee text, signatures."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import tree_sitter as ts

from app.index.parse.text import (
    callee_text,
    clip,
    strip_generics,
    strip_subscripts,
    text,
)

#: Callee node types that are anonymous expressions, not names worth recording.
_ANONYMOUS_CALLEES = frozenset(
    {
        "lambda",
        "parenthesized_expression",
        "arrow_function",
        "function_expression",
        "function",
        "generator_function",
        "closure_expression",
        "func_literal",
        "import",
        "template_string",
    }
)
_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "generator_function"})
_CALLEE_MAX = 200
_JAVA_TYPE_ARGS = re.compile(r"\.\s*<[^()]*?>\s*")


def _skip_none(_node: ts.Node, _src: bytes) -> bool:
    return True


def _callee_plain(call: ts.Node, callee: ts.Node, src: bytes) -> str | None:
    if callee.type in _ANONYMOUS_CALLEES:
        return None
    value = callee_text(text(src, callee))
    return value if 0 < len(value) <= _CALLEE_MAX else None


def _callee_js(call: ts.Node, callee: ts.Node, src: bytes) -> str | None:
    value = _callee_plain(call, callee, src)
    return None if value == "require" else value


def _callee_ts(call: ts.Node, callee: ts.Node, src: bytes) -> str | None:
    value = _callee_js(call, callee, src)
    return strip_generics(value) if value else None


def _callee_generic(call: ts.Node, callee: ts.Node, src: bytes) -> str | None:
    value = _callee_plain(call, callee, src)
    return strip_generics(value) if value else None


def _callee_java(call: ts.Node, name: ts.Node, src: bytes) -> str | None:
    """Join ``object.name`` for a Java method invocation (the query captures only the name)."""
    value = _JAVA_TYPE_ARGS.sub(
        ".", src[call.start_byte : name.end_byte].decode("utf-8", "replace")
    )
    value = callee_text(value)
    return value if 0 < len(value) <= _CALLEE_MAX else None


def _base_python(node: ts.Node, src: bytes) -> str | None:
    if node.type in ("keyword_argument", "list_splat", "dictionary_splat", "comment"):
        return None
    return strip_subscripts(text(src, node)) or None


def _base_typed(node: ts.Node, src: bytes) -> str | None:
    if node.type == "comment":
        return None
    return strip_generics(text(src, node)) or None


def _js_constant(node: ts.Node, _src: bytes) -> bool:
    """Keep only top-level ``const NAME = <non-function>`` declarators."""
    value = node.child_by_field_name("value")
    decl = node.parent
    if value is None or value.type in _FUNCTION_VALUES or decl is None:
        return False
    if decl.type != "lexical_declaration" or decl.child(0).type != "const":
        return False
    top = decl.parent
    if top is not None and top.type == "export_statement":
        top = top.parent
    return top is not None and top.type == "program"


def _start_js(node: ts.Node) -> int:
    parent = node.parent
    if node.type == "variable_declarator" and parent is not None:
        if parent.named_child_count == 1:
            return parent.start_byte
    return node.start_byte


def _start_java(node: ts.Node) -> int:
    """Start the signature after leading annotations (they are part of the span, not the header)."""
    if node.type == "variable_declarator" and node.parent is not None:
        node = node.parent
    for child in node.children:
        if child.type == "modifiers":
            for mod in child.children:
                if mod.type not in ("annotation", "marker_annotation") and not mod.is_extra:
                    return mod.start_byte
            continue
        if not child.is_extra:
            return child.start_byte
    return node.start_byte


def _start_go(node: ts.Node) -> int:
    parent = node.parent
    if parent is not None and parent.type in ("type_declaration", "const_declaration"):
        if parent.named_child_count == 1:
            return parent.start_byte
    return node.start_byte


def _start_node(node: ts.Node) -> int:
    return node.start_byte


def _kind_go(kind: str, node: ts.Node) -> str:
    if node.type == "type_spec":
        inner = node.child_by_field_name("type")
        if inner is not None and inner.type == "struct_type":
            return "struct"
        if inner is not None and inner.type == "interface_type":
            return "interface"
    return kind


def _kind_same(kind: str, _node: ts.Node) -> str:
    return kind


@dataclass(frozen=True, slots=True)
class LangSpec:
    """How one language's tree maps onto symbols and references."""

    wrappers: frozenset[str] = frozenset()
    """Node types that wrap a single definition (decorators, ``export``, ``type (...)``)."""
    comments: frozenset[str] = frozenset({"comment"})
    attributes: frozenset[str] = frozenset()
    """Sibling nodes before a definition that belong to its span (``#[...]``, ``@dec``)."""
    docstrings: bool = False
    callee: Callable[[ts.Node, ts.Node, bytes], str | None] = _callee_plain
    base: Callable[[ts.Node, bytes], str | None] = _base_typed
    keep_constant: Callable[[ts.Node, bytes], bool] = _skip_none
    signature_start: Callable[[ts.Node], int] = _start_node
    refine_kind: Callable[[str, ts.Node], str] = _kind_same


_JS = LangSpec(
    wrappers=frozenset({"export_statement", "lexical_declaration", "variable_declaration"}),
    attributes=frozenset({"decorator"}),
    keep_constant=_js_constant,
    signature_start=_start_js,
    callee=_callee_js,
)
_TS = LangSpec(
    wrappers=frozenset(
        {"export_statement", "lexical_declaration", "variable_declaration", "ambient_declaration"}
    ),
    attributes=frozenset({"decorator"}),
    keep_constant=_js_constant,
    signature_start=_start_js,
    callee=_callee_ts,
)

SPECS: dict[str, LangSpec] = {
    "python": LangSpec(
        wrappers=frozenset({"decorated_definition", "expression_statement"}),
        docstrings=True,
        base=_base_python,
    ),
    "javascript": _JS,
    "typescript": _TS,
    "tsx": _TS,
    "go": LangSpec(
        wrappers=frozenset({"type_declaration", "const_declaration"}),
        signature_start=_start_go,
        refine_kind=_kind_go,
    ),
    "java": LangSpec(
        wrappers=frozenset({"field_declaration"}),
        comments=frozenset({"line_comment", "block_comment"}),
        callee=_callee_java,
        signature_start=_start_java,
    ),
    "rust": LangSpec(
        comments=frozenset({"line_comment", "block_comment"}),
        attributes=frozenset({"attribute_item"}),
        callee=_callee_generic,
    ),
}


def find_body(node: ts.Node) -> ts.Node | None:
    """Return the node where a definition's body starts (None for bodiless definitions)."""
    body = node.child_by_field_name("body")
    if body is not None:
        return body
    value = node.child_by_field_name("value")
    if value is not None and value.type in _FUNCTION_VALUES:
        return value.child_by_field_name("body")
    inner = node.child_by_field_name("type")
    if inner is not None and inner.type in ("struct_type", "interface_type"):
        for child in inner.children:
            if child.type in ("field_declaration_list", "{"):
                return child
    return None


def signature(node: ts.Node, spec: LangSpec, src: bytes) -> str:
    """Return the header of a definition: its text from the keyword up to the body."""
    start = spec.signature_start(node)
    body = find_body(node)
    end = body.start_byte if body is not None else node.end_byte
    header = src[start:end].decode("utf-8", "replace").rstrip().removesuffix(";")
    return clip(header)
