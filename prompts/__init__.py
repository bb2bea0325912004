"""Prompt templates as package data: ``prompts/*.md`` with ``{placeholders}``."""

from __future__ import annotations

import string
from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    """Return the template ``prompts/<name>.md``."""
    return resources.files(__package__).joinpath(f"{name}.md").read_text(encoding="utf-8")


def placeholders(name: str) -> set[str]:
    """Return the placeholder names of a template."""
    return {field for _, field, _, _ in string.Formatter().parse(load(name)) if field}


def render(name: str, **values: object) -> str:
    """Fill a template; every placeholder must be given and nothing else."""
    wanted = placeholders(name)
    missing, extra = wanted - set(values), set(values) - wanted
    if missing or extra:
        raise KeyError(f"prompt {name}: missing {sorted(missing)}, unexpected {sorted(extra)}")
    return load(name).format(**values)
