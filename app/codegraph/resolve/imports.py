"""Turn one import reference into what it points to and the local names it binds.

Target formats are the parser's (see ``Reference`` in :mod:`app.index.records`): Python
``.models.User`` alias ``U``; JS ``./util.a`` alias ``b``; Go ``fmt`` alias ``f``; Java
``a.b.C`` alias ``C``; Rust ``crate::a::b`` alias ``c``. An import of something outside the
repository binds an external name (``np`` -> ``numpy``), so calls through it are external rather
than unresolved; an internal import that cannot be followed binds nothing certain (None).
"""

from __future__ import annotations

import posixpath
import re

from app.codegraph.resolve.modules import Entity, ImportResult, ModuleIndex
from app.index.records import ParsedFile, Reference

_GO_VERSION = re.compile(r"v\d+$")
_JS_EXTS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts", ".d.ts")


def import_entity(index: ModuleIndex, f: ParsedFile, ref: Reference) -> ImportResult:
    """Return (what the import points to, the names it binds, a star-import source)."""
    target = " ".join(ref.target.split())
    lang = f.language
    if lang == "python":
        return _python(index, f, target, ref.alias)
    if lang in ("javascript", "typescript", "tsx"):
        return _javascript(index, f, target, ref.alias)
    if lang == "go":
        return _go(index, target, ref.alias)
    if lang == "rust":
        return _rust(index, f, target, ref.alias)
    return _dotted(index, lang, target, ref.alias)


def _star(target: str) -> tuple[str, bool]:
    for suffix in (".*", "::*", "*"):
        if target.endswith(suffix):
            return target[: -len(suffix)], True
    return target, False


def _python(index: ModuleIndex, f: ParsedFile, target: str, alias: str | None) -> ImportResult:
    base, star = _star(target)
    if not base.startswith("."):
        ent, internal = index.find_dotted(base, "python")
        if not internal:
            ent = ("ext", base)
        if star:
            return ent, [], ent
        if alias:
            return ent, [(alias, ent)], None
        if ent is not None and ent[0] == "sym":  # ``from a import b`` reported without alias
            return ent, [(base.rsplit(".", 1)[-1], ent)], None
        head = base.split(".", 1)[0]
        head_ent, head_internal = index.find_dotted(head, "python")
        return ent, [(head, head_ent if head_internal else ("ext", head))], None
    dots = len(base) - len(base.lstrip("."))
    package = f.module.split(".")
    if not f.path.rsplit("/", 1)[-1].startswith("__init__."):
        package = package[:-1]
    if dots - 1 > len(package):
        return None, [(alias, None)] if alias else [], None
    parts = package[: len(package) - (dots - 1)] + ([base[dots:]] if base[dots:] else [])
    ent, _ = index.find_dotted(".".join(parts), "python") if parts else (None, False)
    if star:
        return ent, [], ent
    name = alias or base[dots:].rsplit(".", 1)[-1]
    return ent, [(name, ent)] if name else [], None


def _javascript(index: ModuleIndex, f: ParsedFile, target: str, alias: str | None) -> ImportResult:
    ent: Entity | None
    if not target.startswith((".", "/")):
        ent = ("ext", target)
        return ent, [(alias, ent)] if alias else [], None
    whole = js_module(index, f, target)
    spec, _, name = target.rpartition(".")
    split = js_module(index, f, spec) if spec and "/" not in name else None
    if split and name not in ("", "*"):
        members = index.members.get(split, {})
        hit = members.get(name) or (members.get(alias) if name == "default" and alias else None)
        if hit or whole is None:
            ent = ("sym", hit) if hit else None
            return ent or ("mod", split), [(alias or name, ent)], None
    module = whole or split
    ent = ("mod", module) if module else None
    if target.endswith("*") and ent is not None:
        return ent, [], ent
    return ent, [(alias, ent)] if alias else [], None


def _go(index: ModuleIndex, target: str, alias: str | None) -> ImportResult:
    path = target.strip('"')
    found = go_package(index, path)
    ent = found if found is not None else ("ext", path)
    if alias == ".":
        return ent, [], ent
    if alias == "_":
        return ent, [], None
    segs = path.split("/")
    name = alias or (segs[-2] if len(segs) > 1 and _GO_VERSION.fullmatch(segs[-1]) else segs[-1])
    return ent, [(name, ent)], None


def _dotted(index: ModuleIndex, lang: str, target: str, alias: str | None) -> ImportResult:
    base, star = _star(target)
    ent, internal = index.find_dotted(base, lang)
    if not internal:
        ent = ("ext", base)
    if star:
        return ent, [], ent
    return ent, [(alias or base.rsplit(".", 1)[-1], ent)], None


def _rust(index: ModuleIndex, f: ParsedFile, target: str, alias: str | None) -> ImportResult:
    base, star = _star(target.replace("::", "."))
    parts = [p for p in base.split(".") if p]
    if parts and parts[-1] == "self":  # ``use a::b::{self}``
        parts = parts[:-1]
    if not parts:
        return None, [], None
    ent: Entity | None
    if parts[0] in ("crate", "self", "super"):
        ent = index.rust_root(f, parts[0])
        rest = parts[1:]
        while rest and rest[0] == "super" and ent is not None and ent[0] == "mod":
            ent = index.rust_root(index.modules[ent[1]], "super")
            rest = rest[1:]
        ent = _walk(index, ent, rest)
    else:
        ent = index.rust_path(f, parts) or _walk(index, index.rust_child(f, parts[0]), parts[1:])
        if ent is None and not (index.rust_path(f, parts[:1]) or index.rust_child(f, parts[0])):
            ent = ("ext", ".".join(parts))
    if star:
        return ent, [], ent
    return ent, [(alias or parts[-1], ent)], None


def _walk(index: ModuleIndex, ent: Entity | None, parts: list[str]) -> Entity | None:
    for part in parts:
        ent = index.resolver.attribute(ent, part) if ent else None
    return ent


def js_module(index: ModuleIndex, f: ParsedFile, spec: str) -> str | None:
    """Find the module a relative JS/TS import specifier names (extensions, ``index`` files)."""
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(f.path), spec))
    if joined.startswith(".."):
        return None
    cands = [joined] + [joined + e for e in _JS_EXTS] + [f"{joined}/index{e}" for e in _JS_EXTS]
    stem, ext = posixpath.splitext(joined)
    if ext in (".js", ".jsx", ".mjs", ".cjs"):  # TS sources imported by their emitted name
        cands += [stem + e for e in _JS_EXTS]
    for c in cands:
        hit = index.files.get(c)
        if hit is not None and hit.language in ("javascript", "typescript", "tsx"):
            return hit.module
    return None


def go_package(index: ModuleIndex, import_path: str) -> Entity | None:
    """Find the directory a Go import path names, by its trailing segments."""
    segs = import_path.strip("/").split("/")
    for k in range(len(segs), 0, -1):
        dirs = index.go_tails.get("/".join(segs[-k:]))
        if not dirs:
            continue
        if k < 2 and k < len(segs) and "." not in segs[0]:
            return None  # one shared segment of a standard-library path is no evidence
        return ("pkg", dirs[0]) if len(dirs) == 1 else None
    return None
