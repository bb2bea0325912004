"""Cut a file into retrievable chunks that fit the embedder's window, enrichment included.

Code is cut along its structure: a chunk per function or method, small classes whole, big
classes into a header chunk plus their methods, big functions at statement boundaries with the
signature repeated; the code between definitions becomes 'module' chunks. Markdown is cut by
heading sections, config and text by blank-line paragraphs. Every non-blank line lands in a
chunk, spans never overlap (but for the repeated header), and the output is deterministic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.index.chunk.code import chunk_code
from app.index.chunk.pack import Doc, Draft
from app.index.chunk.prose import chunk_markdown, chunk_plain
from app.index.chunk.tokens import estimate_tokens
from app.index.languages import is_code
from app.index.records import Chunk, ParsedFile, SourceFile

if TYPE_CHECKING:
    from tree_sitter import Tree

__all__ = ["chunk_file", "estimate_tokens"]

def chunk_file(
    src: SourceFile,
    parsed: ParsedFile,
    tree: Tree | None = None,
    *,
    max_tokens: int = 256,
    count_tokens: Callable[[str], int] | None = None,
) -> list[Chunk]:
    """Return the chunks of one file, sorted by line.

    Args:
        src: The file and its text.
        parsed: What the parser found; its symbols drive the code layout.
        tree: The tree-sitter tree of ``src.text``, when parsed structurally; it supplies the
            statement boundaries used to cut big definitions (lines are used without it).
        max_tokens: The embedder's window; every ``embed_text`` fits it unless the path alone
            does not.
        count_tokens: The embedder's token counter (special tokens included); defaults to
            :func:`estimate_tokens`.
    """
    lines = [line.removesuffix("\r") for line in src.text.split("\n")]
    counter = count_tokens or estimate_tokens
    doc = Doc(src.path, parsed.module, lines, counter, max_tokens, counter is estimate_tokens)
    language = src.language
    if is_code(language) and parsed.structural:
        drafts = chunk_code(doc, parsed.symbols, tree)
    elif language == "markdown":
        drafts = chunk_markdown(doc)
    elif language == "config":
        drafts = chunk_plain(doc, "config")
    else:
        drafts = chunk_plain(doc, "text")
    return [_render(doc, draft, language) for draft in drafts]


def _render(doc: Doc, draft: Draft, language: str) -> Chunk:
    text = doc.text(draft)
    embed_text = doc.enrichment(draft) + text
    return Chunk(
        path=doc.path,
        start_line=draft.start,
        end_line=draft.end,
        kind=draft.kind,
        language=language,
        text=text,
        symbol=draft.symbol.qualname if draft.symbol else None,
        header=draft.header,
        content_hash=hashlib.sha1(embed_text.encode("utf-8")).hexdigest(),
        embed_text=embed_text,
    )
