"""Module naming and import resolution shared by extraction and solving."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from pathlib import PurePosixPath

#: Names that resolve to ``<builtin>.NAME`` when no module binding shadows them.
BUILTIN_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("__"))

#: Builtins that decorate without being reported as a call (PyCG does not report them).
SILENT_DECORATORS = frozenset({"staticmethod", "classmethod", "property"})


def module_name(path: str) -> str:
    """Return the dotted module name of a relative path (``pkg/__init__.py`` -> ``pkg``).

    The indexer's naming (:func:`app.index.parse.parser.module_name`), except that a root
    ``__init__.py`` has no name of its own: the caller names it after the analysed folder.

    Args:
        path: POSIX path of a ``.py`` file relative to the analysed root.
    """
    from app.index.parse.parser import module_name as indexed_name

    return "" if path == "__init__.py" else indexed_name(path, "python")


def is_package_path(path: str) -> bool:
    """Tell whether ``path`` is a package's ``__init__.py``."""
    return PurePosixPath(path).name == "__init__.py"


def package_of(module: str, is_package: bool) -> str:
    """Return the package a relative import in ``module`` is relative to."""
    if is_package:
        return module
    return module.rpartition(".")[0]


def absolute_import(module: str, is_package: bool, level: int, name: str) -> str | None:
    """Turn ``from <level dots><name> import ...`` into an absolute dotted name.

    Returns None when the dots climb above the top-level package.
    """
    if level == 0:
        return name
    base = package_of(module, is_package)
    parts = base.split(".") if base else []
    up = level - 1
    if up > len(parts):
        return None
    if up:
        parts = parts[:-up]
    if name:
        parts.append(name)
    return ".".join(parts) or None


class ModuleIndex:
    """Resolve imported dotted names to internal modules, including src layouts.

    An absolute import ``pkg.mod`` matches the module ``pkg.mod`` or, when no
    such module exists, the unique module ``<root>.pkg.mod`` whose prefix
    ``<root>`` is not itself a package (a source root such as ``src``). When the
    analysed folder is itself the package ``root_package``, ``root_package.mod``
    names the module ``mod``.
    """

    def __init__(self, modules: Iterable[str], packages: Iterable[str],
                 root_package: str | None = None) -> None:
        self.root_package = root_package
        self.modules = set(modules)
        self.packages = set(packages)
        self.known: set[str] = set()
        for m in self.modules:
            parts = m.split(".")
            for i in range(1, len(parts) + 1):
                self.known.add(".".join(parts[:i]))
        self._suffix: dict[str, list[str]] = {}
        for full in self.known:
            parts = full.split(".")
            for i in range(1, len(parts)):
                prefix = ".".join(parts[:i])
                if prefix in self.packages:
                    continue
                self._suffix.setdefault(".".join(parts[i:]), []).append(full)
        self._cache: dict[str, str | None] = {}

    def resolve(self, name: str) -> str | None:
        """Return the internal module (or namespace package) for ``name``, else None."""
        if name in self._cache:
            return self._cache[name]
        found: str | None = None
        root = self.root_package
        if name == root:
            found = name if name in self.known else None
        elif root and name.startswith(root + ".") and name[len(root) + 1:] in self.known:
            found = name[len(root) + 1:]
        elif name in self.known:
            found = name
        else:
            cands = self._suffix.get(name, [])
            if len(cands) == 1:
                found = cands[0]
        self._cache[name] = found
        return found

    def resolve_import(self, name: str) -> tuple[str, str] | None:
        """Resolve ``import a.b.c``: return (internal name of ``a.b.c``, of the bound ``a``).

        The bound top-level name follows the same source-root mapping as the
        full name, so ``import pkg.mod`` binds ``pkg`` to ``src.pkg``.
        """
        full = self.resolve(name)
        if full is None:
            return None
        depth = name.count(".")
        top = full.rsplit(".", depth)[0] if depth else full
        return full, top
