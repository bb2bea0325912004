"""Prompt templates as package data: ``prompts/*.md`` with ``{placeholders}``.

Templates wrap what they are given (the question, retrieved code, the conversation) in tags such
as ``<code>...</code>``; :func:`render` escapes those tags inside the values, so text from the
repository cannot close its block and pose as the template's own instructions.
"""

from __future__ import annotations

import re
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


@cache
def _delimiter(name: str) -> re.Pattern[str] | None:
    """Match the template's own tags (``<code>``, ``</code>``, spaced or not, any case)."""
    tags = sorted(set(re.findall(r"</?([A-Za-z_][\w-]*)>", load(name))))
    if not tags:
        return None
    return re.compile(rf"<(?=\s*/?\s*(?:{'|'.join(tags)})\s*>)", re.IGNORECASE)


def escape_delimiters(name: str, value: str) -> str:
    """Return ``value`` with the delimiter tags of template ``name`` escaped (``&lt;/code>``)."""
    pattern = _delimiter(name)
    return pattern.sub("&lt;", value) if pattern else value


def render(name: str, **values: object) -> str:
    """Fill a template; every placeholder must be given and nothing else.

    Values are inserted as they are, except that the template's delimiter tags inside a value
    are escaped (see :func:`escape_delimiters`).
    """
    wanted = placeholders(name)
    missing, extra = wanted - set(values), set(values) - wanted
    if missing or extra:
        raise KeyError(f"prompt {name}: missing {sorted(missing)}, unexpected {sorted(extra)}")
    safe = {k: escape_delimiters(name, v) if isinstance(v, str) else v for k, v in values.items()}
    return load(name).format(**safe)
