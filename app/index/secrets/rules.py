"""The secret patterns of :mod:`app.index.secrets.scan`, and the placeholder tests.

Token formats follow the vendors' documented shapes (and gitleaks' rules for them). Generic
assignments are judged twice: the name must end in a secret word (``db_password``,
``clientSecret``, ``X-Api-Key``) and the value must look like a credential, not a placeholder,
a field name or a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath

Rule = tuple[str, re.Pattern[str], Callable[[str], bool], tuple[str, ...]]
"""(kind, pattern, is_real, needles): the secret is group ``v`` when the pattern has one, else
all of it; the pattern runs only on text that holds one of the needles (lower-cased)."""

_PLACEHOLDER_WORDS = frozenset("""
    changeme changeit password passwd pass pwd secret secrets token apikey api_key key none null
    nil undefined true false yes no on off todo tbd fixme test testing dummy example sample
    placeholder default required optional empty foo bar baz foobar redacted hidden masked
    string str value unset notset not_set n/a env mypassword my_password mysecret my_secret
    secret_key access_token refresh_token passphrase
""".split())
_PLACEHOLDER_PREFIXES = (
    "$", "{{", "%(", "#{", "%{", "<", "!", "*", "&", "/", "./", "../", "~/", "http:", "https:",
    "file:", "enc(", "env(", "env:", "vault:", "op://", "ref+", "arn:", "redacted", "test-",
    "test_", "mock", "fake",
)  # fmt: skip
_PLACEHOLDER_PARTS = (
    "your", "example", "placeholder", "changeme", "change_me", "change-me", "replace", "dummy",
    "fake", "sample", "xxxx", "****", "...", "insert", "<", ">", "{", "}", "%s", "%d",
    "api-key", "api_key", "apikey", "-token", "_token", "token-", "token_", "-secret", "_secret",
)  # fmt: skip
_DEMO_PASSWORDS = frozenset({"postgres", "root", "guest", "tiger"})
"""Documentation defaults in connection URLs (``postgres:postgres@``, ``scott:tiger@``)."""
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_WORDS = re.compile(r"[a-z]+(?:[_.:/-][a-z]+)*")
"""Lower-case words joined by separators: field names, modes and file names, not keys."""
_REPEAT = re.compile(r"(.)\1{7,}")
_UPPER_CAMEL = re.compile(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9]*")

_PASSWORD_TAILS = (("password",), ("passwd",), ("pwd",), ("pass",), ("passphrase",))
_SECRET_TAILS = (
    ("api", "key"), ("apikey",), ("secret", "key"), ("access", "key"), ("access", "key", "id"),
    ("private", "key"), ("private", "key", "id"), ("signing", "key"), ("encryption", "key"),
    ("master", "key"), ("account", "key"), ("app", "key"), ("token",), ("secret",),
)  # fmt: skip
_NOT_SECRET_BEFORE = frozenset(
    "eos bos pad unk mask sep cls start end stop special next page continuation cursor cancel"
    " sentinel split is has use no".split()
)
"""Words before ``token`` or ``secret`` that make the name something else (``eos_token``)."""

CONFIG_SUFFIXES = frozenset(
    ".env .ini .cfg .conf .cnf .yaml .yml .toml .properties .sh .bash .zsh .tfvars".split()
)
CONFIG_NAMES = frozenset(".envrc .npmrc .pypirc .netrc credentials dockerfile".split())


def is_placeholder(value: str) -> bool:
    """Return True for values that stand for a secret without being one (or are too short)."""
    v = value.strip()
    low = v.lower()
    if len(v) < 4 or len(set(low)) <= 2 or re.search(r"\s", v):
        return True
    if low.strip("<>[](){}'\"*_-.:!# ") in _PLACEHOLDER_WORDS:
        return True
    if low.startswith(_PLACEHOLDER_PREFIXES) or any(p in low for p in _PLACEHOLDER_PARTS):
        return True
    return bool(_ENV_NAME.fullmatch(v))


def is_dummy_token(value: str) -> bool:
    """Return True for a well-formed token that is obviously fake (``ghp_xxxx...``, EXAMPLE)."""
    low = value.lower()
    return bool(_REPEAT.search(value)) or any(
        p in low for p in ("example", "your_", "your-", "xxxxx", "placeholder", "dummy", "redacted")
    )


def _mixed(value: str) -> bool:
    """Return True when ``value`` has upper- and lower-case letters and digits (random keys)."""
    return all(re.search(p, value) for p in (r"[a-z]", r"[A-Z]", r"\d"))


def _any(_value: str) -> bool:
    return True


def _not_placeholder(value: str) -> bool:
    return not is_placeholder(value)


def _url_password(value: str) -> bool:
    return not is_placeholder(value) and value not in _DEMO_PASSWORDS


def _rule(kind: str, needles: str, pattern: str, is_real: Callable[[str], bool] = _any) -> Rule:
    return kind, re.compile(pattern), is_real, tuple(needles.split())


TOKEN_RULES: tuple[Rule, ...] = (
    _rule(
        "aws_access_key_id",
        "akia asia abia acca",
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
    ),
    _rule(
        "aws_secret_access_key",
        "secret",
        r"(?i)aws_?secret_?(?:access_?)?key[\"']?[ \t]*(?:=|:|=>)[ \t]*[\"']?"
        r"(?P<v>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])",
    ),
    _rule(
        "azure_account_key",
        "key=",
        r"(?i)\b(?:Account|SharedAccess)Key[ \t]*=[ \t]*(?P<v>[A-Za-z0-9+/=]{20,})",
    ),
    _rule("azure_sas_signature", "sig=", r"[?&]sig=(?P<v>[A-Za-z0-9%+/=]{20,})"),
    _rule("gcp_api_key", "aiza", r"\bAIza[0-9A-Za-z_-]{35}(?![\w-])"),
    _rule(
        "github_token",
        "ghp_ gho_ ghu_ ghs_ ghr_",
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b",
    ),
    _rule("github_token", "github_pat_", r"\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
    _rule("gitlab_token", "glpat-", r"\bglpat-[A-Za-z0-9_-]{20,}"),
    _rule("slack_token", "xox", r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    _rule(
        "slack_webhook",
        "hooks.slack.com",
        r"https://hooks\.slack\.com/services/(?P<v>[A-Za-z0-9/_-]{20,})",
    ),
    _rule("stripe_key", "_live_ _test_", r"\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b"),
    _rule("openai_key", "sk-", r"(?<![\w-])sk-[A-Za-z0-9_-]{20,}(?![\w-])", _mixed),
    _rule("npm_token", "npm_", r"\bnpm_[A-Za-z0-9]{36}\b"),
    _rule(
        "npm_token",
        "_auth",
        r"(?im)(?:^|:)_auth(?:Token)?[ \t]*=[ \t]*(?P<v>[^\s\"']+)",
        _not_placeholder,
    ),
    _rule("pypi_token", "pypi-", r"\bpypi-AgE[A-Za-z0-9_-]{50,}"),
    _rule("huggingface_token", "hf_", r"\bhf_[A-Za-z0-9]{34,}\b", _mixed),
    _rule("jwt", "eyj", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    _rule(
        "authorization_header",
        "authorization",
        r"(?i)\bauthorization[\"']?[ \t]*[:=][ \t]*[\"']?(?:bearer|basic|token)[ \t]+"
        r"(?P<v>[A-Za-z0-9._~+/=-]{12,})",
        _not_placeholder,
    ),
    _rule(
        "url_password",
        "://",
        r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@\"'<>\[\]]*:(?P<v>[^\s@/\"'<>\[\]]+)@",
        _url_password,
    ),
)

ASSIGNMENT = re.compile(
    r"""(?<![\w$@.-])(?P<name>[A-Za-z_$@][\w$@.-]*)
    (?P<close>["']\]?|\])?                             # end of a quoted key or a subscript
    [ \t]*(?::[ \t]*[A-Za-z_][\w\[\]., |]*?[ \t]*)?    # a type annotation
    (?P<op>={1,3}|!==?|:=|:|=>|<-|,)[ \t]*            # assignment, key, comparison, argument
    (?:[rRbBuUfF]{1,2}|@)?
    (?P<q>["'])(?P<value>(?:\\.|(?!(?P=q))[^\\\n])*)(?P=q)""",
    re.VERBOSE,
)
"""A quoted literal given to a name: ``api_key = "..."``, ``"password": "..."``, ``f(pw="...")``."""
CONFIG_LINE = re.compile(
    r"""(?m)^[ \t]*(?:export[ \t]+|ENV[ \t]+|set[ \t]+|-[ \t]+)?["']?(?P<name>[A-Za-z_][\w.-]*)["']?
    [ \t]*[=:][ \t]*(?P<value>[^\s"'`\#;][^\s]*)(?:[ \t]+(?:[\#;].*)?)?\r?$""",
    re.VERBOSE,
)
"""An unquoted value in a config file: ``DB_PASSWORD=...``, ``password: ...``, ``token = ...``."""
NETRC_PASSWORD = re.compile(r"\bpassword[ \t]+(?P<value>\S+)")
PEM_BEGIN = re.compile(r"-----BEGIN (?P<label>(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----")
_PEM_HEADER = re.compile(r"(?m)^[ \t\"'`]*[A-Za-z][\w-]*:[^\n]*$")
_PEM_NOISE = re.compile(r"\\[nrt]|[\s\"'`+,;]")
_PEM_TAIL = re.compile(r"(?:\\[nr]|[A-Za-z0-9+/=]|\r?\n[ \t]*)*")


def is_config_path(path: str) -> bool:
    """Return True for files whose unquoted ``name = value`` lines are configuration."""
    name = PurePosixPath(path).name.lower()
    return (
        name.startswith((".env", "docker-compose", "compose.", "dockerfile"))
        or name.endswith(".env")
        or PurePosixPath(name).suffix in CONFIG_SUFFIXES
        or name in CONFIG_NAMES
    )


def _words(name: str) -> list[str]:
    """Split ``clientSecret``, ``X-Api-Key``, ``db.password`` into lower-case words."""
    snake = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name))
    return [w for w in re.split(r"[^a-z0-9]+", snake.lower()) if w]


def name_kind(name: str) -> str | None:
    """Return the finding kind when ``name`` names a credential ('password', 'api_key', ...)."""
    words = _words(name)
    if {"public", "publishable"} & set(words):
        return None
    for tail in _PASSWORD_TAILS + _SECRET_TAILS:
        if tuple(words[-len(tail) :]) != tail:
            continue
        before = words[-len(tail) - 1] if len(words) > len(tail) else ""
        if tail == ("pass",) and (not before or _UPPER_CAMEL.fullmatch(name)):
            return None  # the word "Pass", a class such as ``LoweringPass``
        if tail in _PASSWORD_TAILS:
            return "password"
        return None if len(tail) == 1 and before in _NOT_SECRET_BEFORE else "_".join(tail)
    return None


def secret_like(value: str, kind: str) -> bool:
    """Return True when ``value``, given to a ``kind`` name, looks like a real credential."""
    if is_placeholder(value):
        return False
    if kind == "password":
        return True
    if len(value) < 8 or _WORDS.fullmatch(value) or _is_identifier(value):
        return False
    return bool(re.search(r"\d", value)) or (len(value) >= 16 and value.lower() != value)


def _is_identifier(value: str) -> bool:
    """Return True for a camel-case name (``V1SecretProjection``), unlike a random string.

    Names have few capitals, long lower-case runs with vowels and digits only at the end of a
    word; random keys are about half capitals, with digits and consonant runs anywhere.
    """
    if not _IDENT.fullmatch(value) or value.lower() == value or re.search(r"\d[a-z]", value):
        return False
    letters = [c for c in value if c.isalpha()]
    runs = re.findall(r"[a-z]+", value)
    if not runs or sum(c.isupper() for c in letters) > 0.3 * len(letters):
        return False
    wordy = all(re.search("[aeiouy]", r) for r in runs if len(r) >= 3)
    return wordy and sum(map(len, runs)) >= 3 * len(runs)


def pem_body_ok(body: str) -> bool:
    """Return True when the text between a key's BEGIN and END lines is key material only."""
    core = _PEM_NOISE.sub("", _PEM_HEADER.sub("", body))
    return len(core) >= 16 and re.fullmatch(r"[A-Za-z0-9/=]+", core) is not None


def pem_tail(text: str, pos: int) -> int | None:
    """Return where the key material after a BEGIN line without END ends, or None if none."""
    m = _PEM_TAIL.match(text, pos)
    material = re.sub(r"\\[nr]|\s", "", m.group()) if m else ""
    if m is None or len(material) < 32 or not re.search(r"\d", material):
        return None
    return pos + len(m.group().rstrip())
