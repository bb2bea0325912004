"""``coderag eval``: the ladder on a small documented repository with a git history.

Fake embedder, scripted chat model (its structured replies parsed as JSON, as the graph tests
do); the real indexer, searcher, question graph and report.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from app.eval.runner import eval_dir
from app.services import Services
from app.settings import Settings
from tests.conftest import write_tree
from tests.graph.fakes import ScriptedChatModel, json_structured
from tests.unit.eval.test_eval_history import GitRepo, needs_git
from tests.unit.retrieval.test_retrieval_lanes import QueryEmbedder

runner = CliRunner()
RUNGS = ["bm25", "dense", "hybrid", "+graph", "+rerank"]

CART = '''"""Shopping cart arithmetic for the checkout of the web shop."""


class Cart:
    """Hold the products a customer wants to buy before paying."""

    def __init__(self):
        self.items = []

    def add_item(self, name, price):
        """Append one product with its unit price to the basket."""
        self.items.append((name, price))

    def total_price(self):
        """Sum the prices of every product currently in the basket."""
        return sum(price for _name, price in self.items)


def apply_discount(total, percent):
    """Reduce an amount by the given percentage of rebate."""
    return total * (100 - percent) / 100
'''
USERS = '''"""User accounts and the passwords stored for them."""

import hashlib


def hash_password(password, salt):
    """Turn a plain text secret into a salted digest string."""
    return hashlib.sha256((salt + password).encode()).hexdigest()


def check_login(name, password, table):
    """Compare the typed credentials against the stored account table."""
    salt, digest = table[name]
    return hash_password(password, salt) == digest
'''
MAILER = '''"""Outgoing mail for receipts and password resets."""


def send_receipt(address, cart):
    """Email the customer a summary of what they bought."""
    return f"to {address}: {cart.total_price()}"
'''
SHOP: dict[str, str | bytes] = {
    "shop/__init__.py": "",
    "shop/cart.py": CART,
    "shop/users.py": USERS,
}
"""The fixture repository's first two commits; ``shop/mailer.py`` comes in the third."""


def make_shop(root: Path) -> Path:
    """The fixture repository, committed in three steps."""
    repo = GitRepo(root)
    repo.commit("Add the shopping cart with discount arithmetic", {
        "shop/__init__.py": "", "shop/cart.py": CART,
    })  # fmt: skip
    repo.commit("feat(auth): hash passwords before storing user accounts", {
        "shop/users.py": USERS,
    })  # fmt: skip
    repo.commit("Send a receipt by email after checkout", {"shop/mailer.py": MAILER})
    return root


@pytest.fixture
def embedder(monkeypatch: pytest.MonkeyPatch) -> QueryEmbedder:
    """Every Services built by the CLI gets the fake embedder."""
    fake = QueryEmbedder()
    monkeypatch.setattr(Services, "embedder", property(lambda self: fake))
    return fake


@pytest.fixture
def chat(llm: ScriptedChatModel, monkeypatch: pytest.MonkeyPatch) -> ScriptedChatModel:
    """The conftest chat model, answering HyDE, decompose and rewrite; JSON structured calls."""
    llm.defaults.update({
        "hyde": "def add_item(cart, name, price):\n    cart.items.append((name, price))",
        "decompose": json.dumps({"sub_questions": ["which method puts a product in the cart"]}),
        "rewrite": "cart product price basket",
    })  # fmt: skip
    monkeypatch.setattr("app.llm.structured", json_structured)
    return llm


def table(stdout: str) -> dict[str, list[str]]:
    """The ladder table's rows (rung -> cells) from the printed Markdown."""
    rows: dict[str, list[str]] = {}
    for line in stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 9 and cells[0] != "rung":
            rows[cells[0]] = cells[1:]
    return rows


@needs_git
def test_eval_runs_the_ladder_and_writes_the_report(tmp_path, embedder, chat):
    repo = make_shop(tmp_path / "shop")
    out = tmp_path / "results"
    res = runner.invoke(app, [
        "eval", "--repo", str(repo), "--out", str(out), "--llm-queries", "3", "--quiet",
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    rows = table(res.stdout)
    assert list(rows) == [*RUNGS, "+llm steps", "+rerank (same 3)"]
    # the printed Markdown is not hard-wrapped (``coderag eval > eval.md`` stays a table)
    (head,) = [line for line in res.stdout.splitlines() if line.startswith("Retrieval on")]
    assert head.endswith(".") and "queries (" in head and "k=10" in head
    printed = res.stdout[: res.stdout.index(f"        json: {out / 'eval.json'}")]
    assert (out / "eval.md").read_text() == "# coderag eval\n\n" + printed.removesuffix("\n")
    total = rows["bm25"][0]
    assert all(rows[r][0] == total for r in RUNGS) and int(total) >= 10
    assert rows["+llm steps"][0] == "3" and rows["+rerank (same 3)"][0] == "3"
    for cells in rows.values():
        assert all(0.0 <= float(v) <= 1.0 for v in cells[1:6])
    assert float(rows["bm25"][1]) > 0.5  # symbols and doc sentences are found by words
    for name in ("eval.json", "eval.md", "eval.png", "eval_latency.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert (out / "eval.png").read_bytes().startswith(b"\x89PNG")
    # the LLM steps ran on each query of the sample (the answer itself is never drafted)
    assert len(chat.calls("decompose")) == 3 and len(chat.calls("hyde")) >= 3
    assert chat.calls("answer") == []
    doc = json.loads((out / "eval.json").read_text())
    assert list(doc["rungs"]) == [*RUNGS, "+llm steps"]
    assert doc["llm"]["queries"] == 3 and doc["llm"]["baseline_rung"] == "+rerank"
    sample = {r["id"] for r in doc["rungs"]["+llm steps"]["queries"]}
    assert len(sample) == 3
    types = {r["id"]: r["type"] for r in doc["records"]}
    assert {types[i] for i in sample} <= {"nl", "mixed", "file", "commit"}
    assert {"nl", "symbol", "file", "commit"} <= set(doc["queries"]["by_type"])
    commits = {r["query"]: r["targets"] for r in doc["records"] if r["type"] == "commit"}
    assert commits == {
        "hash passwords before storing user accounts": [{"path": "shop/users.py"}],
        "Send a receipt by email after checkout": [{"path": "shop/mailer.py"}],
        # it added an empty __init__.py too, which is not indexed: no target, no reason to skip
        "Add the shopping cart with discount arithmetic": [{"path": "shop/cart.py"}],
    }
    # the searched copy has no docs left, the original keeps them
    copy = Path(doc["corpus"]["index_dir"]).parent / "copy"
    assert "Append one product" not in (copy / "shop/cart.py").read_text()
    assert "Append one product" in (repo / "shop/cart.py").read_text()
    assert doc["corpus"]["stripped_files"] == 3 and doc["corpus"]["unstripped"] == []
    assert (out / "eval.md").read_text().startswith("# coderag eval")

    # again, --json and --no-llm: nothing changed, so nothing is embedded again
    res = runner.invoke(app, ["eval", "--repo", str(repo), "--out", str(out), "--json", "--no-llm"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert [r["rung"] for r in summary["rungs"]] == RUNGS
    assert summary["llm"] == {}
    assert summary["queries"]["total"] == int(total)
    assert summary["corpus"]["embedded"] == 0
    assert summary["files"]["json"] == str(out / "eval.json")
    assert all(0.0 <= r["ndcg@10"] <= 1.0 and r["n"] == int(total) for r in summary["rungs"])
    assert "+llm steps" not in json.loads((out / "eval.json").read_text())["rungs"]


def test_eval_of_a_repository_with_nothing_to_mine_fails_clearly(tmp_path, embedder):
    repo = write_tree(tmp_path / "docs", {"README.md": "# Notes\n\nJust some prose here.\n"})
    res = runner.invoke(app, ["eval", "--repo", str(repo), "--no-llm", "--quiet"])
    assert res.exit_code == 1
    err = " ".join(res.stderr.split())
    assert "error: no queries could be mined from" in err
    assert "documented functions or classes" in err and "git history" in err


def test_eval_of_a_path_that_is_no_directory_fails(tmp_path, embedder):
    missing = tmp_path / "nowhere"
    res = runner.invoke(app, ["eval", "--repo", str(missing), "--no-llm"])
    assert res.exit_code == 1 and "is not a directory" in res.stderr
    file = write_tree(tmp_path, {"notes.txt": "hello\n"}) / "notes.txt"
    res = runner.invoke(app, ["eval", "--repo", str(file), "--no-llm"])
    assert res.exit_code != 0 and "is a file" in " ".join(res.output.replace("│", " ").split())


def test_eval_names_the_valid_rungs_for_a_bogus_one(tmp_path, embedder):
    repo = write_tree(tmp_path / "shop", SHOP)
    res = runner.invoke(app, ["eval", "--repo", str(repo), "--rungs", "bm25,bogus", "--no-llm"])
    assert res.exit_code == 1
    err = " ".join(res.stderr.split())
    assert "unknown rung(s) bogus" in err
    for name in RUNGS:
        assert repr(name) in err
    assert not eval_dir(Settings(), repo).exists()  # refused before any work
