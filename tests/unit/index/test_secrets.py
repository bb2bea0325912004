"""Secret masking: what is masked, what is left alone, and that nothing else moves.

Secrets are generated at run time (never written out in this file) so that the repository holds
no credential-shaped string and secret scanners do not flag the tests themselves.
"""

from __future__ import annotations

import random
import sqlite3
import string
from pathlib import Path

import pytest

from app.answer.verify import SourceReader
from app.index.indexer import Indexer
from app.index.records import SourceFile
from app.index.secrets.scan import MASK, Finding, redact, redact_source
from app.index.stores.db import IndexDB
from app.settings import Settings
from tests.conftest import FakeEmbedder, write_tree

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"


def rnd(n: int, alphabet: str = ALNUM, seed: int = 0) -> str:
    """A random string with upper case, lower case and digits (the shape of real keys)."""
    r = random.Random(f"{n}-{alphabet}-{seed}")
    while True:
        s = "".join(r.choice(alphabet) for _ in range(n))
        if n < 3 or alphabet != ALNUM or _mixed(s):
            return s


def _mixed(s: str) -> bool:
    return all(any(test(c) for c in s) for test in (str.islower, str.isupper, str.isdigit))


def pem(label: str = "RSA PRIVATE KEY", lines: int = 4, sep: str = "\n", seed: int = 0) -> str:
    body = sep.join(rnd(64, B64, seed + i) for i in range(lines))
    return f"-----BEGIN {label}-----{sep}{body}{sep}-----END {label}-----"


GITHUB = "gh" + "p_" + rnd(36, seed=1)
GITHUB_OAUTH = "gh" + "o_" + rnd(36, seed=2)
GITHUB_PAT = "github" + "_pat_" + rnd(22, seed=3) + "_" + rnd(59, seed=4)
SLACK = "xo" + "xb-" + rnd(12, string.digits, 5) + "-" + rnd(24, seed=6)
SLACK_USER = "xo" + "xp-" + rnd(12, string.digits, 7) + "-" + rnd(32, seed=8)
STRIPE = "sk" + "_live_" + rnd(24, seed=9)
OPENAI = "sk" + "-proj-" + rnd(48, seed=10)
OPENAI_LEGACY = "sk" + "-" + rnd(48, seed=11)
AWS_ID = "AK" + "IA" + rnd(16, string.ascii_uppercase + string.digits, 12)
AWS_SECRET = rnd(40, B64, 13)
AZURE_KEY = rnd(86, B64, 14) + "=="
GCP_API = "AI" + "za" + rnd(35, seed=15)
JWT = "ey" + "J" + rnd(20, seed=16) + ".ey" + "J" + rnd(40, seed=17) + "." + rnd(43, seed=18)
HEX40 = rnd(40, "0123456789abcdef", 19)
PASSWORD = "Tr0ub4dor&3"

# (path, text, secret, kind): the secret must vanish and be reported as ``kind``.
POSITIVES = [
    ("a.py", f'AWS_ACCESS_KEY_ID = "{AWS_ID}"\n', AWS_ID, "aws_access_key_id"),
    ("a.py", f"key_id = '{AWS_ID}'  # prod\n", AWS_ID, "aws_access_key_id"),
    ("a.py", f'aws_secret_access_key = "{AWS_SECRET}"\n', AWS_SECRET, "aws_secret_access_key"),
    ("creds", f"[default]\naws_secret_access_key = {AWS_SECRET}\n", AWS_SECRET,
     "aws_secret_access_key"),
    ("a.cs", f'var c = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={AZURE_KEY};'
     'EndpointSuffix=core.windows.net";\n', AZURE_KEY, "azure_account_key"),
    ("a.js", f"const maps = '{GCP_API}';\n", GCP_API, "gcp_api_key"),
    ("a.py", f'GH = "{GITHUB}"\n', GITHUB, "github_token"),
    ("a.sh", f"curl -H 'x: {GITHUB_OAUTH}' api\n", GITHUB_OAUTH, "github_token"),
    ("a.md", f"token {GITHUB_PAT} in prose\n", GITHUB_PAT, "github_token"),
    ("a.go", f'slack := "{SLACK}"\n', SLACK, "slack_token"),
    ("a.txt", f"{SLACK_USER}\n", SLACK_USER, "slack_token"),
    ("a.rb", f"Stripe.api_key = '{STRIPE}'\n", STRIPE, "stripe_key"),
    ("a.py", f'client = OpenAI(api_key="{OPENAI}")\n', OPENAI, "openai_key"),
    ("a.ts", f"const k = `{OPENAI_LEGACY}`;\n", OPENAI_LEGACY, "openai_key"),
    ("a.py", f'resp = get(url, cookies={{"session": "{JWT}"}})\n', JWT, "jwt"),
    ("a.py", f'headers = {{"Authorization": "Bearer {rnd(32, seed=20)}"}}\n',
     rnd(32, seed=20), "authorization_header"),
    ("a.py", f'DB = "postgresql://app:{PASSWORD}@db.internal:5432/prod"\n', PASSWORD,
     "url_password"),
    ("a.yaml", f"url: redis://:{rnd(16, seed=21)}@cache:6379/0\n", rnd(16, seed=21),
     "url_password"),
    # generic assignments, in many languages
    ("a.py", f'API_KEY = "{rnd(32, seed=22)}"\n', rnd(32, seed=22), "api_key"),
    ("a.py", f'db_password: str = "{PASSWORD}"\n', PASSWORD, "password"),
    ("a.py", f'connect(host="db", password="{PASSWORD}")\n', PASSWORD, "password"),
    ("a.py", f'settings["client_secret"] = "{rnd(24, seed=23)}"\n', rnd(24, seed=23),
     "secret"),
    ("a.py", f'if password == "{PASSWORD}":\n    pass\n', PASSWORD, "password"),
    ("a.js", f"const config = {{ apiKey: '{rnd(30, seed=24)}' }};\n", rnd(30, seed=24),
     "api_key"),
    ("a.js", f'fetch(u, {{headers: {{"X-Api-Key": "{rnd(30, seed=25)}"}}}})\n',
     rnd(30, seed=25), "api_key"),
    ("a.java", f'private static final String PASSWORD = "{PASSWORD}";\n', PASSWORD, "password"),
    ("a.go", f'authToken := "{rnd(30, seed=26)}"\n', rnd(30, seed=26), "token"),
    ("a.rb", f":password => '{PASSWORD}',\n", PASSWORD, "password"),
    ("a.php", f"$dbPass = '{PASSWORD}';\n", PASSWORD, "password"),
    ("a.rs", f'let secret_key = "{HEX40}";\n', HEX40, "secret_key"),
    ("a.py", f'os.environ.setdefault("SLACK_SIGNING_SECRET", "{HEX40}")\n', HEX40, "secret"),
    # config files: quoted and unquoted values
    (".env", f"DB_HOST=db\nDB_PASSWORD={PASSWORD}\n", PASSWORD, "password"),
    (".env.production", f"export SECRET_KEY={rnd(50, seed=27)}\n", rnd(50, seed=27),
     "secret_key"),
    ("conf/app.ini", f"[db]\npassword = {PASSWORD} ; prod\n", PASSWORD, "password"),
    ("setup.cfg", f"[upload]\npassword: {PASSWORD}\n", PASSWORD, "password"),
    ("config.yaml", f"db:\n  user: app\n  password: {PASSWORD}  # rotate\n", PASSWORD,
     "password"),
    ("config.yml", f'api:\n  token: "{rnd(32, seed=28)}"\n', rnd(32, seed=28), "token"),
    ("pyproject.toml", f'[tool.x]\napi_key = "{rnd(32, seed=29)}"\n', rnd(32, seed=29),
     "api_key"),
    ("app.properties", f"spring.datasource.password={PASSWORD}\n", PASSWORD, "password"),
    ("docker-compose.yml",
     f"services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD={PASSWORD}\n",
     PASSWORD, "password"),
    ("Dockerfile", f"FROM python\nENV API_TOKEN={rnd(30, seed=30)}\n", rnd(30, seed=30), "token"),
    ("settings.json", f'{{"db": {{"user": "app", "password": "{PASSWORD}"}}}}\n', PASSWORD,
     "password"),
    (".npmrc", f"//registry.npmjs.org/:_authToken={rnd(36, seed=31)}\n", rnd(36, seed=31),
     "npm_token"),
    (".netrc", f"machine api.example.com login bob password {PASSWORD}\n", PASSWORD, "password"),
]

# Code and text that must come back unchanged.
NEGATIVES = [
    ("a.py", "password = get_password()\n"),
    ("a.py", 'token = request.headers["x"]\n'),
    ("a.py", 'token = os.environ["GITHUB_TOKEN"]\n'),
    ("a.py", 'api_key = os.getenv("API_KEY", "")\n'),
    ("a.py", 'password = "changeme"\nsecret = "xxx"\napi_key = "<your-key>"\n'),
    ("a.py", 'token = ""\npassword = \'\'\nSECRET_KEY = "${SECRET_KEY}"\n'),
    ("a.py", 'api_key = "your-api-key-here"\npassword = "********"\n'),
    ("a.py", 'password = "{password}"\ntoken = f"{prefix}{token}"\n'),
    ("a.py", 'password_hash = "' + HEX40 + '"\nmax_tokens = "256"\n'),
    ("a.py", 'eos_token = "</s>"\npad_token = "[PAD]"\nunk_token = "<unk>"\n'),
    ("a.py", 'token_type = "bearer"\ngrant = {"token": "refresh_token"}\n'),
    ("a.py", 'raise ValueError("invalid token: expired")\nmsg = "password is wrong"\n'),
    ("a.py", 'secret_name = "prod/db"\nkey = "user:42:profile"\n'),
    ("a.py", 'if kind == "token":\n    pass\nlabels = ("password", "secret")\n'),
    ("a.py", 'PASSWORD_FIELD = "password"\nTOKEN_ENV = "GITHUB_TOKEN"\n'),
    ("a.py", 'is_secret = "yes"\nself._auth = auth\n'),
    ("a.py", 'HEADER = "-----BEGIN RSA PRIVATE KEY-----"\nif text.startswith(HEADER):\n    ok()\n'),
    ("a.py", 'url = "postgres://user:${DB_PASSWORD}@db/app"\nu = "https://example.com/a:b@c"\n'),
    ("a.py", 'dsn = "postgres://user:password@localhost/db"\n'),
    ("a.py", "aws = 'AKIAIOSFODNN7EXAMPLE'\n"),
    # false positives met in site-packages, now rejected
    ("a.py", 'engine = create_engine("postgresql+psycopg2://scott:tiger@localhost/test")\n'),
    ("a.py", "__slots__ = ('scheme', 'user', 'password', 'host', 'port')\n"),
    ("a.py", '"""Pass :func:`~pkg.scores` to it, or (`SpecPropPass`, `DeadCodePass`)."""\n'),
    ("a.xml", '<assemblyIdentity name="x" publicKeyToken="1fc8b3b9a1e18e3b"/>\n'),
    ("a.py", 'sig = "%s, %s" % (api_key, "hmac-sha256")\n'),
    ("a.py", 'types = {"secret": "V1SecretProjection", "token": "ServiceAccountToken"}\n'),
    ("a.md", "Use `git://[path-to-repo[:]][ref@]path/to/file`.\n"),
    ("a.py", "gh = 'ghp_" + "x" * 36 + "'\n"),
    ("a.js", "import skLearnThing from 'sk-learn-something-long-name';\n"),
    ("a.js", "const password = form.password.value;\nconst token = await getToken();\n"),
    ("a.go", 'password := os.Getenv("DB_PASSWORD")\n'),
    ("README.md", "Set `API_KEY` in your environment; see the token docs.\n"),
    (".env", "DB_PASSWORD=\nAPI_KEY=${API_KEY}\nSECRET=changeme\nTOKEN=<token>\n"),
    ("config.yaml", "db:\n  password: !vault |\n  token: ${TOKEN}\n  secret: db-secret\n"),
    ("config.yaml", "tokenizer: bert\nmax_tokens: 512\npassword_min_length: 8\n"),
    ("a.ini", "[auth]\npassword_file = /run/secrets/db\n"),
    ("package.json", '{"integrity": "sha512-' + rnd(86, B64, 40) + '=="}\n'),
    ("requirements.txt", f"requests==2.31 --hash=sha256:{HEX40}{HEX40[:24]}\n"),
]


def _check_masked(text: str, path: str, secret: str, kind: str) -> list[Finding]:
    out, found = redact(text, path)
    assert secret not in out, out
    assert kind in {f.kind for f in found}, found
    assert len(out) == len(text) and out.count("\n") == text.count("\n")
    changed = [i for i, (a, b) in enumerate(zip(text, out, strict=True)) if a != b]
    start = text.index(secret)
    assert changed and start <= changed[0] and changed[-1] < start + len(secret)
    return found


@pytest.mark.parametrize(("path", "text", "secret", "kind"), POSITIVES)
def test_secret_is_masked_in_place(path: str, text: str, secret: str, kind: str) -> None:
    found = _check_masked(text, path, secret, kind)
    f = next(f for f in found if f.kind == kind)
    line, col = text.count("\n", 0, text.index(secret)) + 1, text.index(secret)
    col -= text.rfind("\n", 0, col) + 1
    assert (f.line, f.column, f.length) == (line, col, len(secret))
    assert redact(redact(text, path)[0], path) == (redact(text, path)[0], [])  # idempotent


@pytest.mark.parametrize(("path", "text"), NEGATIVES)
def test_ordinary_code_and_placeholders_are_left_alone(path: str, text: str) -> None:
    assert redact(text, path) == (text, [])


def test_mask_marks_long_secrets_and_stars_short_ones() -> None:
    out, _ = redact(f'api_key = "{rnd(32, seed=50)}"\npassword = "Ab3!x"\n', "a.py")
    assert out == f'api_key = "{MASK}{"*" * 24}"\npassword = "*****"\n'


def test_unquoted_values_count_only_in_config_files() -> None:
    text = f"password = {PASSWORD}\n"
    assert redact(text, "notes.txt") == (text, [])
    assert PASSWORD not in redact(text, "app.ini")[0]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("id_rsa", pem() + "\n"),
        ("key.pem", "Bag Attributes\n" + pem("PRIVATE KEY", 6) + "\n"),
        ("k.pem", pem("ENCRYPTED PRIVATE KEY") + "\n"),
        ("k.asc", pem("PGP PRIVATE KEY BLOCK", 3) + "\n"),
        ("k.key", pem("OPENSSH PRIVATE KEY") + "\n"),
        ("legacy.pem", pem().replace("KEY-----\n", "KEY-----\nProc-Type: 4,ENCRYPTED\n"
                                     "DEK-Info: AES-128-CBC,0A1B2C\n\n", 1) + "\n"),
        ("keys.py", f'KEY = """{pem("EC PRIVATE KEY")}"""\n\n\ndef f():\n    return KEY\n'),
        ("sa.json", '{"type": "service_account", "private_key": "'
         + pem("PRIVATE KEY", 3, sep="\\n") + '\\n", "client_email": "a@b.iam"}\n'),
        ("k.js", 'const k = "-----BEGIN RSA PRIVATE KEY-----\\n" +\n  "'
         + rnd(64, B64, 60) + '\\n" +\n  "-----END RSA PRIVATE KEY-----";\n'),
        ("cut.pem", "-----BEGIN RSA PRIVATE KEY-----\n" + rnd(64, B64, 61) + "\n"
         + rnd(64, B64, 62) + "\n"),
    ],
)
def test_private_key_material_is_masked_and_markers_stay(path: str, text: str) -> None:
    out, found = redact(text, path)
    assert "private_key" in {f.kind for f in found}
    material = [w for w in text.replace("\\n", "\n").split() if len(w) >= 40]
    assert material and not any(w in out for w in material)
    assert "PRIVATE KEY" in out  # the BEGIN line is kept: a reader sees what was there
    assert len(out) == len(text) and out.count("\n") == text.count("\n")
    assert redact(out, path) == (out, [])


def test_gcp_service_account_file_masks_key_and_key_id_only() -> None:
    text = (
        '{\n  "type": "service_account",\n  "project_id": "acme-prod",\n'
        f'  "private_key_id": "{HEX40}",\n'
        f'  "private_key": "{pem("PRIVATE KEY", 2, sep=chr(92) + "n")}\\n",\n'
        '  "client_email": "indexer@acme-prod.iam.gserviceaccount.com",\n'
        '  "client_id": "1234567890"\n}\n'
    )
    out, found = redact(text, "creds/sa.json")
    assert {f.kind: f.line for f in found} == {"private_key_id": 4, "private_key": 5}
    assert HEX40 not in out and "acme-prod" in out and "indexer@acme-prod" in out
    assert [len(line) for line in out.split("\n")] == [len(line) for line in text.split("\n")]


def test_windows_line_endings_keep_their_carriage_returns() -> None:
    text = f"DB_USER=app\r\nDB_PASSWORD={PASSWORD}\r\n" + pem().replace("\n", "\r\n") + "\r\n"
    out, found = redact(text, ".env")
    assert [(f.kind, f.line) for f in found] == [("password", 2), ("private_key", 4)]
    assert PASSWORD not in out and out.count("\r\n") == text.count("\r\n")
    assert out.startswith("DB_USER=app\r\nDB_PASSWORD=REDACTED***\r\n")


def test_several_secrets_on_one_line_and_across_lines() -> None:
    text = f'a = "{GITHUB}"; b = "{STRIPE}"\n\nc = "{AWS_ID}"\n'
    out, found = redact(text, "x.py")
    assert [(f.kind, f.line) for f in found] == [
        ("github_token", 1), ("stripe_key", 1), ("aws_access_key_id", 3)
    ]
    assert not any(s in out for s in (GITHUB, STRIPE, AWS_ID))
    assert out.count("REDACTED") == 3


def test_lock_files_are_never_touched() -> None:
    text = f'{{"token": "{rnd(32, seed=70)}", "resolved": "{GITHUB}"}}\n'
    for name in ("package-lock.json", "poetry.lock", "deps/Cargo.lock", "yarn.lock"):
        assert redact(text, name) == (text, [])
    assert redact(text, "package.json")[1]


def test_redact_source_keeps_identity_fields_and_same_object_when_clean() -> None:
    clean = SourceFile("a.py", "python", "x = 1\n", "sha", 6)
    assert redact_source(clean) == (clean, [])
    dirty = SourceFile("a.py", "python", f'k = "{GITHUB}"\n', "sha1", 99, 5, False)
    masked, found = redact_source(dirty)
    assert GITHUB not in masked.text and len(found) == 1
    assert (masked.path, masked.sha, masked.size, masked.mtime_ns) == ("a.py", "sha1", 99, 5)


def test_source_reader_masks_what_it_reads(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(f'x = 1\nGH = "{GITHUB}"\ny = 2\n')
    lines = SourceReader(tmp_path).lines("app.py")
    assert len(lines) == 3 and lines[0] == "x = 1" and lines[2] == "y = 2"
    assert GITHUB not in lines[1] and lines[1].startswith('GH = "REDACTED')


def dump_sqlite(path: Path) -> str:
    """Every row of every table of a SQLite file (FTS shadow tables included), as text."""
    conn = sqlite3.connect(str(path))
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = [repr(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"')]
        return "\n".join(rows)
    finally:
        conn.close()


def test_indexer_stores_only_masked_text_and_counts_findings(tmp_path: Path) -> None:
    token = rnd(32, seed=80)
    root = write_tree(tmp_path / "repo", {
        "svc.py": f'def connect(password="{PASSWORD}"):\n    return open_db(password)\n',
        "settings.py": f'API_TOKEN = "{token}"\n',
        ".env": f"DB_PASSWORD={PASSWORD}x\n",
    })  # fmt: skip
    settings = Settings(index_dir=tmp_path / "idx", redact_secrets=False)
    Indexer(root, settings, embedder=FakeEmbedder()).run()
    assert PASSWORD in dump_sqlite(tmp_path / "idx" / "index.db")  # the control: it would leak

    # switching redaction on re-cuts unchanged files too (the chunking key names the rules)
    indexer = Indexer(root, Settings(index_dir=tmp_path / "idx"), embedder=FakeEmbedder())
    report = indexer.run()
    assert report.changed == 3 and indexer.secrets_masked == 3 == report.secrets_masked
    dump = dump_sqlite(tmp_path / "idx" / "index.db")
    assert PASSWORD not in dump and token not in dump and "REDACTED" in dump
    db = IndexDB(tmp_path / "idx" / "index.db")
    (connect,) = [s for s in db.parsed_files()["svc.py"].symbols if s.name == "connect"]
    assert connect.signature.startswith('def connect(password="REDACTED')  # from masked text
    assert (connect.start_line, connect.end_line) == (1, 2)
