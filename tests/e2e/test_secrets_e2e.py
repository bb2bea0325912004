"""Planted secrets never leave the files: not into any store, prompt, answer or read_span.

A repository with credentials of every kind (code, ``.env``, YAML, a service-account JSON, a PEM
key) is indexed by the real pipeline (MiniLM, Chroma, SQLite, code graph) and questioned through
the real question graph with a scripted chat model that records its prompts. Every byte the
index wrote, every prompt, every answer and every ``read_span`` is searched for every secret. The
same run with ``redact_secrets=False`` is the control: there the secrets must be found, which
shows the search would catch a leak.
"""

from __future__ import annotations

import json
import sqlite3
import string
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from app.assistant import Assistant
from app.index.stores.vectors import VectorStore
from app.index.tokens import code_tokens
from app.services import Services
from app.settings import Settings
from graphs import QuestionContext
from tests.conftest import write_tree
from tests.graph.fakes import ScriptedChatModel
from tests.unit.index.test_secrets import B64, dump_sqlite, pem, rnd
from tools.span import read_span

pytestmark = pytest.mark.slow

HEX = "0123456789abcdef"
SECRETS = {
    "stripe": "sk" + "_live_" + rnd(24, seed=101),
    "aws_id": "AK" + "IA" + rnd(16, string.ascii_uppercase + string.digits, 102),
    "aws_secret": rnd(40, B64, 103),
    "github": "gh" + "p_" + rnd(36, seed=104),
    "slack": "xo" + "xb-" + rnd(12, string.digits, 105) + "-" + rnd(24, seed=106),
    "openai": "sk" + "-proj-" + rnd(48, seed=107),
    "jwt": "ey"
    + "J"
    + rnd(24, seed=108)
    + ".ey"
    + "J"
    + rnd(40, seed=109)
    + "."
    + rnd(43, seed=110),
    "azure": rnd(86, B64, 111) + "==",
    "url_password": "Wh1sk3y-T4ngo-" + rnd(8, seed=112),
    "signing_secret": rnd(32, HEX, 113),
    "env_db_password": "pr0d-" + rnd(14, seed=114),
    "env_secret_key": rnd(50, seed=115),
    "env_github": "gh" + "p_" + rnd(36, seed=116),
    "yaml_password": "Y4ml-" + rnd(12, seed=117),
    "yaml_token": rnd(40, seed=118),
    "gcp_key_id": rnd(40, HEX, 119),
    "gcp_key_line": rnd(64, B64, 120),
    "pem_line_1": rnd(64, B64, 121),
    "pem_line_2": rnd(64, B64, 122),
}
S = SECRETS
GCP_KEY = f"-----BEGIN PRIVATE KEY-----\\n{S['gcp_key_line']}\\n{rnd(64, B64, 123)}==\\n"
PEM = (
    f"-----BEGIN RSA PRIVATE KEY-----\n{S['pem_line_1']}\n{S['pem_line_2']}\n"
    f"{pem().splitlines()[1]}\n-----END RSA PRIVATE KEY-----\n"
)
REPO = {
    "billing/__init__.py": "",
    "billing/payments.py": (
        '"""Charge customers through Stripe and notify the team on Slack."""\n\n'
        "import requests\n\n"
        f'STRIPE_KEY = "{S["stripe"]}"\n'
        f'AWS_ACCESS_KEY_ID = "{S["aws_id"]}"\n'
        f'aws_secret_access_key = "{S["aws_secret"]}"\n'
        f'DATABASE_URL = "postgresql://billing:{S["url_password"]}@db.internal:5432/billing"\n'
        f'STORAGE = "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={S["azure"]};"\n\n'
        "\n"
        f'def charge_card(card, amount, api_key="{S["stripe"]}"):\n'
        '    """Charge the card through the Stripe API, authenticated with the live key."""\n'
        '    headers = {"Authorization": "Bearer " + api_key}\n'
        '    return requests.post("https://api.stripe.com/v1/charges", headers=headers,\n'
        '                         data={"card": card, "amount": amount})\n\n\n'
        "def notify_slack(text):\n"
        '    """Post a message to the billing channel with the bot token."""\n'
        f'    token = "{S["slack"]}"\n'
        '    return requests.post("https://slack.com/api/chat.postMessage",\n'
        '        headers={"Authorization": f"Bearer {token}"}, json={"text": text})\n\n\n'
        "def summarise_invoice(text):\n"
        '    """Summarise an invoice with the OpenAI API."""\n'
        f'    client = OpenAI(api_key="{S["openai"]}")\n'
        "    return client.complete(text)\n\n\n"
        "def verify_webhook(payload, signature):\n"
        '    """Check the webhook signature with the signing secret and the service JWT."""\n'
        f'    signing_secret = "{S["signing_secret"]}"\n'
        f'    service_jwt = "{S["jwt"]}"\n'
        f'    gh = "{S["github"]}"\n'
        "    return hmac_ok(payload, signature, signing_secret, service_jwt, gh)\n"
    ),
    ".env": (
        "# local settings for the billing service\n"
        "DB_HOST=db.internal\n"
        f"DB_PASSWORD={S['env_db_password']}\n"
        f"SECRET_KEY={S['env_secret_key']}\n"
        f"GITHUB_TOKEN={S['env_github']}\n"
        "DEBUG=false\n"
    ),
    "config/settings.yaml": (
        "database:\n  host: db.internal\n  user: billing\n"
        f"  password: {S['yaml_password']}  # rotate monthly\n"
        f'slack:\n  channel: "#billing"\n  token: "{S["yaml_token"]}"\n'
    ),
    "config/service-account.json": json.dumps(
        {
            "type": "service_account",
            "project_id": "acme-billing",
            "private_key_id": S["gcp_key_id"],
            "private_key": "@@KEY@@",
            "client_email": "billing@acme-billing.iam.gserviceaccount.com",
        },
        indent=2,
    ).replace("@@KEY@@", GCP_KEY + "-----END PRIVATE KEY-----\\n")
    + "\n",
    "keys/deploy.pem": PEM,
    "README.md": "# Billing\n\nCharges cards, posts to Slack, deploys with keys/deploy.pem.\n",
}
QUESTIONS = [
    "how does charge_card authenticate with the Stripe API key?",
    "which token does notify_slack use to post to Slack?",
    "what is the database password and secret key in the .env settings?",
    "what are the database password and slack token in settings.yaml?",
    "what is the private key in the service account credentials json?",
    "show the RSA private key used to deploy",
    "how is the webhook signature verified with the signing secret?",
]
ANSWER = "It is configured in the code [1]."
NO_SUBJECT_CHECK = QuestionContext(check_subject=False)


@dataclass
class Run:
    """Where one indexed-and-questioned run left text behind."""

    places: dict[str, str] = field(default_factory=dict)
    """Name of a place (a file of the index, the prompts, an answer, ...) -> its text."""
    vocab: set[str] = field(default_factory=set)
    """Every term of the FTS5 index (its data is compressed, so bytes alone could miss one)."""
    prompt_paths: set[str] = field(default_factory=set)

    def leaks(self) -> dict[str, list[str]]:
        """Secret name -> the places that hold it."""
        found = {}
        for name, secret in SECRETS.items():
            where = [place for place, text in self.places.items() if secret in text]
            pieces = {t for t in code_tokens(secret) if len(t) >= 8}
            stems = {t for t in self.vocab if len(t) >= 8 and t in secret.lower()}
            if pieces & self.vocab or stems:
                where.append("fts5 vocabulary")
            if where:
                found[name] = where
        return found


def _index_files(index_dir: Path) -> dict[str, str]:
    """Every file under the index directory, decoded leniently (SQLite, WAL, Chroma, graph)."""
    return {
        str(p.relative_to(index_dir)): p.read_bytes().decode("utf-8", "replace")
        for p in sorted(index_dir.rglob("*"))
        if p.is_file()
    }


def _chroma_records(chroma_dir: Path, model_id: str) -> str:
    """Every record of every collection in the store, documents and metadata included."""
    client = VectorStore(chroma_dir, model_id).client  # Chroma allows one client per folder
    out = []
    for col in client.list_collections():
        got = col.get(include=["documents", "metadatas"])
        out.append(repr((col.name, got["ids"], got["documents"], got["metadatas"])))
    return "\n".join(out)


def _vocabulary(db: Path) -> set[str]:
    conn = sqlite3.connect(str(db))
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, lexical, row)")
        return {row[0] for row in conn.execute("SELECT term FROM temp.vocab")}
    finally:
        conn.close()


def index_and_ask(tmp: Path, *, redact: bool) -> Run:
    root = write_tree(tmp / "repo", REPO)
    index_dir = tmp / "idx"
    services = Services(root, Settings(index_dir=index_dir, redact_secrets=redact))
    report = services.index()
    assert report.files == len(REPO) - 1 and report.vectors == report.chunks  # __init__ empty
    run = Run()
    llm = ScriptedChatModel(defaults={"answer": ANSWER})
    assistant = Assistant(services, llm=llm, checkpointer=InMemorySaver())
    for i, question in enumerate(QUESTIONS):
        # every question must reach the LLM's prompt (the subject check could answer one
        # without drafting): the prompts are among the places searched for leaks
        result = assistant.ask(question, thread_id=f"t{i}", context=NO_SUBJECT_CHECK)
        run.places[f"answer {i}"] = json.dumps(result.to_json())
        state = assistant.graph.get_state({"configurable": {"thread_id": f"t{i}"}}).values
        run.places[f"graph state {i}"] = repr(state)
    run.places["prompts"] = "\n".join(llm.calls())
    run.prompt_paths = {p for p in REPO if any(f"] {p} lines " in c for c in llm.calls())}
    indexed = services_indexed(assistant)
    for path in sorted(indexed):
        run.places[f"read_span {path}"] = read_span(root, path, 1, 200, indexed=indexed)
    run.places.update({f"index file {k}": v for k, v in _index_files(index_dir).items()})
    run.places["index.db rows"] = dump_sqlite(index_dir / "index.db")
    run.places["chroma records"] = _chroma_records(index_dir / "chroma", services.embedder.model_id)
    run.vocab = _vocabulary(index_dir / "index.db")
    return run


def services_indexed(assistant: Assistant) -> set[str]:
    return set(assistant.searcher.indexed_paths())


def test_no_planted_secret_leaks_anywhere(tmp_path: Path) -> None:
    run = index_and_ask(tmp_path, redact=True)
    # the questions did reach every secret-bearing file, masked
    secret_files = {p for p in REPO if p.endswith((".py", ".env", ".yaml", ".json", ".pem"))}
    assert secret_files - {"billing/__init__.py"} <= run.prompt_paths, run.prompt_paths
    assert "REDACTED" in run.places["prompts"]
    assert "def charge_card(card, amount, api_key=" in run.places["prompts"]
    assert "read_span keys/deploy.pem" in run.places
    assert {k for k in run.places if k.startswith("index file graph")}, "no graph.pkl written"
    assert run.leaks() == {}, f"{len(run.leaks())} of {len(SECRETS)} secrets leaked"


def test_control_without_redaction_the_same_checks_find_the_secrets(tmp_path: Path) -> None:
    run = index_and_ask(tmp_path, redact=False)
    leaks = run.leaks()
    assert set(leaks) == set(SECRETS)  # every planted secret is caught by the checks
    # ... in the stores themselves, and in what the model is shown (read back from the index)
    for name, where in leaks.items():
        assert any(w.startswith("index file index.db") for w in where), (name, where)
    assert sum("prompts" in where for where in leaks.values()) >= len(SECRETS) // 2
    assert any("index file graph.pkl" in where for where in leaks.values())
