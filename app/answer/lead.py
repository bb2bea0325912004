"""A lead sentence from the evidence itself: which code does it, and what its docs say of it.

A small model often explains the mechanism without naming the function that implements it, or
writes nothing that survives the checks. After its prose the answer therefore gives a sentence
built without the model from the three best evidence blocks: the definitions they hold, with
their files, and the first sentence of the first documented one's own documentation (a
docstring or the comment above it), quoted. Every name and number in it stands in the block it
cites, so the checker keeps it; definitions the prose already names and cites are left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from app.answer.claims import has_word

LEAD_BLOCKS = 3
"""The lead names the definitions of this many of the best evidence blocks."""
MIN_DOC_WORDS = 4
"""A shorter doc sentence ("Receives a Response") says nothing the name does not."""
MAX_DOC_WORDS = 40
_COMMENT_LINE = re.compile(r"^\s*(?://+|/\*+|\*+(?!/)|#+(?![!\[]))\s?(.*)$")


def comment_text(line: str) -> str | None:
    """The text of a comment line (``//``, ``/*``, `` *``, ``#``), or None for another line.

    Linear in the line's length: a lazy group before optional trailing spaces took cubic time
    on a comment with a long run of spaces inside.
    """
    m = _COMMENT_LINE.match(line)
    if m is None:
        return None
    text = m[1].rstrip()
    return (text[:-2].rstrip("*") if text.endswith("*/") else text).strip()


_DOC_OPEN = re.compile(r"^\s*[rRuUbB]?(\"\"\"|''')(.*)$")
_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_SENTENCE_END = re.compile(r"(?<=[A-Za-z0-9)`'\"])[.!?](?=\s|$)")


def defines(block: Mapping[str, Any]) -> str:
    """The name of the definition ``block`` holds, or "" (module code, a bare fragment).

    A method keeps its class (``Session.get_adapter``): the qualified name is read after the
    module's own dotted path (``requests.sessions`` of ``requests/sessions.py``, or a tail of it).
    """
    parts = str(block.get("symbol") or "").split(".")
    name = parts[-1]
    if not name or not has_word(block["text"], name):
        return ""
    module = str(block["path"]).rsplit(".", 1)[0].split("/")
    inner = parts
    for i in range(len(module)):
        if parts[: len(module) - i] == module[i:]:
            inner = parts[len(module) - i :]
            break
    return ".".join(inner[-2:]) if len(inner) > 1 else name


def _comment_doc(lines: list[str]) -> list[str]:
    """The comment lines that open a block (JSDoc, Go and Rust doc comments, ``#`` comments)."""
    out: list[str] = []
    for line in lines:
        if not line.strip():
            if out:
                break
            continue
        body = comment_text(line)
        if body is None:
            break
        if body.startswith("@"):  # JSDoc tags: the prose is above them
            break
        ended = not out or out[-1].endswith((".", ":", ";", ",", "!", "?"))
        if out and not ended and not body:
            out[-1] += "."  # a summary line without its full stop (JSDoc), then a blank line
        if body:
            out.append(body)
    return out


def _docstring(lines: list[str]) -> list[str]:
    """The docstring under the first ``def``/``class`` line of a Python block."""
    for i, line in enumerate(lines[:12]):
        if not line.rstrip().endswith(":"):
            continue
        for j in range(i + 1, min(i + 3, len(lines))):
            m = _DOC_OPEN.match(lines[j])
            if m is None:
                continue
            quote, first = m[1], m[2]
            out = [first.split(quote, 1)[0]]
            if quote not in first:
                for more in lines[j + 1 :]:  # by position: an equal line may stand above
                    if quote in more or not more.strip():
                        out.append(more.split(quote, 1)[0])
                        break
                    out.append(more)
            return [x.strip() for x in out]
        return []
    return []


def doc_sentence(text: str) -> str:
    """The first sentence of a block's own documentation, in plain words, or ""."""
    lines = text.splitlines()
    doc = _comment_doc(lines) or _docstring(lines)
    words = " ".join(" ".join(doc).split())
    if not words:
        return ""
    words = _ROLE.sub(r"`\1`", words).replace("``", "`")
    end = _SENTENCE_END.search(words)
    sentence = words[: end.start()] if end else words
    if sentence.count("`") % 2 or not MIN_DOC_WORDS <= len(sentence.split()) <= MAX_DOC_WORDS:
        return ""
    if not re.search(r"[a-z]{3}", sentence) or ":param" in sentence:
        return ""
    return sentence.rstrip(" ,;:")


def _says(prose: str, name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return has_word(prose, last)


def lead_sentence(blocks: Sequence[Mapping[str, Any]], prose: str = "") -> str:
    """The opening sentence(s) for ``prose``, with ``[n]`` markers, or "" when it names them all.

    ``blocks`` are the numbered evidence records (``n``, ``path``, ``symbol``, ``text``), best
    first; their definitions that ``prose`` does not both name and cite the file of are
    introduced, and the first documented one's purpose quoted.
    """
    named: list[tuple[str, Mapping[str, Any]]] = []
    for block in blocks[:LEAD_BLOCKS]:
        name = defines(block)
        said = _says(prose, name) and str(block["path"]) in prose  # named and its file cited
        if name and name not in (n for n, _ in named) and not said:
            named.append((name, block))
    if not named:
        return ""
    by_path: dict[str, list[str]] = {}
    for name, block in named:
        by_path.setdefault(str(block["path"]), []).append(f"`{name}` [{block['n']}]")
    parts = [f"{' and '.join(names)} in {path}" for path, names in by_path.items()]
    lead = f"The most relevant code is {' and '.join(parts)}."
    documented = [(name, b, doc) for name, b in named if (doc := doc_sentence(str(b["text"])))]
    if not documented:
        return lead
    name, block, doc = documented[0]
    if doc.split()[0].strip("`") == name.rsplit(".", 1)[-1]:  # a Go-style doc comment
        rest = doc.split(None, 1)[1] if len(doc.split()) > 1 else ""
        return f"{lead} `{name}` {rest} [{block['n']}]."
    whose = "Its" if len(named) == 1 else f"`{name}`'s"
    return f'{lead} {whose} documentation says: "{doc}" [{block["n"]}].'
