"""End to end with the real MiniLM model, a real persistent Chroma store and the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app.index.stores.db import IndexDB
from app.index.stores.vectors import VectorStore
from app.models.embedder import Embedder
from app.models.errors import ModelMissingError
from app.services import Services
from app.settings import Settings
from tests.conftest import write_tree

pytestmark = pytest.mark.slow

REPO = {
    "shop/__init__.py": "",
    "shop/cart.py": (
        "from shop.pricing import apply_discount\n\n\n"
        'class Cart:\n    """A shopping cart holding items and computing totals."""\n\n'
        "    def __init__(self):\n        self.items = []\n\n"
        "    def add(self, price):\n        self.items.append(price)\n\n"
        "    def total(self):\n        return apply_discount(sum(self.items))\n"
    ),
    "shop/pricing.py": (
        'def apply_discount(amount):\n    """Take ten percent off orders above one hundred."""\n'
        "    if amount > 100:\n        return amount * 0.9\n    return amount\n"
    ),
    "shop/retry.py": (
        "import time\n\n\ndef with_retries(fn, attempts=3):\n"
        '    """Call fn again with exponential backoff when it raises."""\n'
        "    for i in range(attempts):\n        try:\n            return fn()\n"
        "        except Exception:\n            time.sleep(2 ** i)\n"
    ),
}


def test_real_embedder_and_chroma_find_the_right_chunk(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    services = Services(root, Settings(index_dir=tmp_path / "idx"))
    report = services.index()
    assert report.vectors == report.chunks > 0
    assert report.embedded == report.chunks
    emb = services.embedder
    store = VectorStore(tmp_path / "idx" / "chroma", emb.model_id)
    db = IndexDB(tmp_path / "idx" / "index.db")
    for question, expected in [
        ("how are failed calls retried with backoff", "shop/retry.py"),
        ("discount on large orders", "shop/pricing.py"),
    ]:
        best = store.query(emb.encode_query(question), 1)[0][0]
        assert db.chunks_by_ids([best])[0].path == expected
    # every chunk fits the model window, measured with the model's own tokenizer
    for chunk in db.all_chunks():
        assert emb.count_tokens(chunk.embed_text) <= 256
    graph = services.graph()
    callers = {c.qualname for c in graph.callers("shop.pricing.apply_discount")}
    assert callers == {"shop.cart.Cart.total"}


def test_missing_model_path_gives_clear_error(tmp_path):
    with pytest.raises(ModelMissingError, match="nothing is downloaded"):
        Embedder(str(tmp_path / "no-such-model"))


def test_cli_index_and_callers_json(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    env_idx = str(tmp_path / "idx")
    cmd = [sys.executable, "-m", "app.cli.main"]
    out = subprocess.run(
        [*cmd, "index", str(root), "--json", "--index-dir", env_idx],
        check=True,
        capture_output=True,
        text=True,
    )
    report = json.loads(out.stdout)
    assert report["files"] == 3 and report["vectors"] == report["chunks"]
    assert report["skipped"] == {"empty": 1}  # shop/__init__.py
    out = subprocess.run(
        [*cmd, "callers", "apply_discount", "--repo", str(root), "--json", "--index-dir", env_idx],
        check=True,
        capture_output=True,
        text=True,
    )
    data = json.loads(out.stdout)
    assert data["symbol"] == "shop.pricing.apply_discount"
    assert [c["qualname"] for c in data["callers"]] == ["shop.cart.Cart.total"]
    out = subprocess.run(
        [*cmd, "status", str(root), "--json", "--index-dir", env_idx],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(out.stdout)["fresh"] is True
    (root / "shop/pricing.py").write_text("def apply_discount(amount):\n    return amount\n")
    out = subprocess.run(
        [*cmd, "status", str(root), "--json", "--index-dir", env_idx],
        check=True,
        capture_output=True,
        text=True,
    )
    assert json.loads(out.stdout)["changed"] == ["shop/pricing.py"]
    bad = subprocess.run(
        [*cmd, "callers", "nope_nothing", "--repo", str(root), "--index-dir", env_idx],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0 and "no definition" in bad.stderr


def test_cli_help_is_fast_and_explains():
    out = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--help"], check=True, capture_output=True, text=True
    )
    assert "index" in out.stdout and "callers" in out.stdout
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, app.cli.main\n"
            "sys.argv = ['coderag', '--help']\n"
            "try:\n    app.cli.main.main()\nexcept SystemExit:\n    pass\n"
            "print(*(m in sys.modules for m in ('torch', 'chromadb', 'networkx')), "
            "file=sys.stderr)",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    assert probe.stderr.split() == ["False", "False", "False"]  # --help loads none of them
