"""Map file names to the language names used across the index."""

from __future__ import annotations

from pathlib import PurePosixPath

#: Languages parsed structurally with tree-sitter.
CODE_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx", "go", "java", "rust"})

_BY_SUFFIX: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".mts": "typescript",
    ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".java": "java",
    ".rs": "rust",
    ".md": "markdown",
    ".markdown": "markdown",
    ".rst": "markdown",
    ".toml": "config",
    ".yaml": "config",
    ".yml": "config",
    ".json": "config",
    ".ini": "config",
    ".cfg": "config",
    ".conf": "config",
    ".xml": "config",
    ".properties": "config",
    ".gradle": "config",
    ".env": "config",
}

_BY_NAME: dict[str, str] = {
    "Dockerfile": "config",
    "Makefile": "config",
    "CMakeLists.txt": "config",
    "go.mod": "config",
    "Cargo.toml": "config",
    "package.json": "config",
    "pom.xml": "config",
}


def language_for(path: str) -> str:
    """Return the language of ``path`` (a relative POSIX path); ``'text'`` when unknown."""
    p = PurePosixPath(path)
    if p.name in _BY_NAME:
        return _BY_NAME[p.name]
    return _BY_SUFFIX.get(p.suffix.lower(), "text")


def is_code(language: str) -> bool:
    """Return True when ``language`` has a tree-sitter grammar here."""
    return language in CODE_LANGUAGES
