"""Query analysis: is this a symbol lookup or a question, and which identifiers does it name?

A bare identifier (``APIRouter``, ``get_user``, ``Sinatra::Base``, ``_private``) is a symbol
lookup: the lexical and symbol lanes matter most and the chunk that *defines* it should win.
A natural-language query balances dense and lexical lanes; identifiers inside it still get a
(smaller) definition boost.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.index.tokens import STOP_WORDS, split_identifier

IDENT_TOKEN = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|#|->)[A-Za-z_$][\w$]*)*(?:\(\))?")
_QUERY_NOISE = frozenset(
    """code function functions method methods class classes file files implement implemented
    implementation implementations defined define definition work works handle handles handled
    used use uses using get gets find called call calls happen happens does logic where""".split()
)


@dataclass(frozen=True, slots=True)
class QueryInfo:
    """What a query names: its identifiers, its content words, and whether it is a lookup."""

    text: str
    identifiers: tuple[str, ...]
    """Code-like tokens, normalised to dots: ``Sinatra::Base`` -> ``Sinatra.Base``."""
    words: tuple[str, ...]
    """Lower-case content words (identifier parts included), stop words and filler removed."""
    is_symbol: bool
    """The whole query is identifiers only (a symbol lookup)."""

    @property
    def names(self) -> tuple[str, ...]:
        """The last segment of each identifier (``Base`` for ``Sinatra.Base``)."""
        return tuple(i.rsplit(".", 1)[-1] for i in self.identifiers)


def is_code_like(token: str, position: int) -> bool:
    """Return True when ``token`` looks like code (a capitalised word counts after the start)."""
    core = token.removesuffix("()")
    if core != token or any(s in core for s in (".", "::", "#", "->")):
        return True
    if "_" in core.strip("_") or core.startswith("_") or "$" in core:
        return True
    if any(c.isupper() for c in core[1:]) and any(c.islower() for c in core):
        return True  # camelCase, PascalCase with two humps
    return core[:1].isupper() and position > 0 and core.lower() not in STOP_WORDS


def normalise_identifier(token: str) -> str:
    """Write ``Sinatra::Base``, ``obj#method`` and ``call()`` as dotted names."""
    core = token.removesuffix("()")
    for sep in ("::", "#", "->"):
        core = core.replace(sep, ".")
    return core


def analyse(text: str) -> QueryInfo:
    """Classify ``text`` and extract its identifiers and content words."""
    stripped = text.strip().strip("`'\"?")
    tokens = [m.group(0) for m in IDENT_TOKEN.finditer(stripped)]
    bare = len(tokens) >= 1 and len(tokens) <= 2 and not re.search(r"[^\w$.:#()\->\s]", stripped)
    bare = bare and (len(tokens) == 1 or all(is_code_like(t, 1) for t in tokens))
    identifiers: list[str] = []
    for pos, tok in enumerate(tokens):
        if bare or is_code_like(tok, pos):
            norm = normalise_identifier(tok)
            if norm not in identifiers:
                identifiers.append(norm)
    words: list[str] = []
    for tok in tokens:
        for part in [
            normalise_identifier(tok).lower(),
            *split_identifier(normalise_identifier(tok).replace(".", "_")),
        ]:
            part = part.strip("_$().")
            if (
                len(part) >= 2
                and part not in STOP_WORDS
                and part not in _QUERY_NOISE
                and "." not in part
                and part not in words
            ):
                words.append(part)
    return QueryInfo(text=text, identifiers=tuple(identifiers), words=tuple(words), is_symbol=bare)
