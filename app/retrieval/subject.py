"""Is the repository about what the question asks? Find the subject words it never mentions.

A question names its subject in a few content words ("telemetry", "GraphQL", "WebSocket",
"`merge_setting`"). Retrieval always returns *something*, the nearest code, and a small model
then describes that code as if it answered. Before drafting, each subject word is looked up in
the whole lexical index (code, comments and docs) by its stem's prefix (``telemet*``,
``redirec*``): a word no indexed file mentions means the repository does not do what was asked,
and the answer says so instead of describing the nearest code.

Words every code question uses ("how", "function", "handle", "work", ...) are not subjects,
and neither are participles and adverbs ("failed", "quickly"): they describe the subject
("how are *failed* calls retried?") and a repository that does the thing often never uses them.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from app.index.tokens import STOP_WORDS, stem
from app.retrieval.query import analyse

GENERIC = frozenset(
    """able about after again also anything around back based before being best between both
    call called calls calling case code codebase come comes compute computed computes could
    create created creates creating data default defined define defines does doing done each
    else every example exist exists explain file files find first function functions gets
    give given goes going handle handled handles handling happen happens help here implement
    implementation implemented implements into just keep kind know like look make makes many
    method methods module modules more most much must need needs next other part parts place
    places project provide provided provides really repo repository return returned returns
    same show shown some something still such sure take takes tell than that them then there
    these they thing things this those through under used uses using value values very want
    ways well were what when where whether which while with within without work works would
    write written library package packages program class classes object objects type types
    logic mechanism process processed processes support supported supports system feature
    features main another other others whole part whose done happen should over across
    upon via react reacts answer answers respond responds behave behaves deal deals treat
    treats choose chooses decide decides pick picks know knows care cares tells ensure ensures
    prevent prevents allow allows enable enables manage manages control controls affect
    affects change changes apply applies mean means""".split()
)
"""Words of the question's frame, not of its subject: never required in the index."""

ACTION_VERBS = frozenset(
    """attach appear appears click clicking double open opens close closes start starts stop
    stops show shows hide hides read reads write writes print prints remove removes delete
    deletes update updates save saves load loads move moves copy copies check checks test
    tests build builds wrap wraps pass passes put puts turn turns begin begins trigger
    triggers fire fires raise raises throw throws catch catches wait waits keep keeps hold
    holds contain contains include includes exclude excludes ignore ignores skip skips join
    joins split splits combine combines match matches compare compares convert converts
    transform transforms display displays happen happens occur occurs reach reaches enter
    enters leave leaves finish finishes fail fails succeed succeeds break breaks follow
    follows produce produces generate generates register registers invoke invokes trace
    traces emit emits look looks find finds""".split()
)
"""Common action verbs: a question uses them to say what happens ("attach the header", "appear
twice", "double-clicking it"), and code often says the same thing in other words."""

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]{3,}")
SHORT_STEM = 7
"""Stems up to this long are looked up whole; longer ones lose two letters (``authentica*``
finds ``authenticate`` and ``authentication``)."""


def subject_words(question: str) -> list[str]:
    """Return the question's subject words (lower case, in order): content words and names."""
    info = analyse(question)
    words = [w.lower() for w in _WORD.findall(question)]
    names = [n.lower() for ident in info.identifiers for n in re.split(r"[._:]+", ident) if n]
    out: list[str] = []
    for w in [*words, *names]:
        if len(w) < 4 or w in STOP_WORDS or w in GENERIC or stem(w) in GENERIC or w in out:
            continue
        if (w.endswith(("ed", "ly")) or w in ACTION_VERBS) and w not in names:
            continue
        out.append(w)
    return out


def lookup_prefix(word: str) -> str:
    """The prefix a subject word is looked up by: its stem, cut by two letters when long."""
    s = stem(word.lower())
    return s if len(s) <= SHORT_STEM else s[:-2]


def unmentioned(question: str, mentions: Callable[[str, str], bool]) -> list[str]:
    """Return the subject words of ``question`` that ``mentions(word, prefix)`` finds nowhere.

    A question that names code the index has (``HTTPDigestAuth``, ``merge_setting``) is about
    that code, whatever other words it uses: nothing is returned for it.
    """
    for ident in analyse(question).identifiers:
        versioned = _VERSIONED.fullmatch(ident)  # IPv6 is not code, though cased like it
        if is_code_name(ident) and not versioned and mentions(ident.rsplit(".", 1)[-1], ""):
            return []
    terms = versioned_terms(question, mentions)
    said = {t.lower() for t in terms}
    words = [w for w in subject_words(question) if w not in said]
    return [*terms, *(w for w in words if not mentions(w, lookup_prefix(w)))]


_VERSIONED = re.compile(r"(?<![\w/.])([A-Za-z]{2,6})/?(\d+(?:\.\d+)*)(?![\w/])")
"""A name with its version or number: ``HTTP/2``, ``HTTP2``, ``IPv6``, ``OAuth2``."""


def versioned_terms(question: str, mentions: Callable[[str, str], bool]) -> list[str]:
    """The versioned names of ``question`` (``HTTP/2``) no indexed file mentions.

    Their words alone are everywhere ("HTTP"): the name counts only as written together, as
    the phrase ``http 2`` (``HTTP/2``, ``HTTP 2``) or the token ``http2``.
    """
    out = []
    for m in _VERSIONED.finditer(question):
        name, number = m[1].lower(), m[2].replace(".", " ")
        if not mentions(f"{name} {number}", "") and not mentions(f"{name}{m[2]}", ""):
            out.append(m[0])
    return out


def is_code_name(token: str) -> bool:
    """``HTTPDigestAuth``, ``merge_setting``, ``Session.send``: a name only code would use."""
    bare = token.rsplit(".", 1)[-1]
    return "_" in bare or "." in token or bool(re.search(r"[a-z][A-Z]|[A-Z]{2,}[a-z]", bare))
