"""``coderag search`` end to end: real MiniLM vectors, a real Chroma store, the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import write_tree
from tests.e2e.test_index_e2e import REPO as BASE_REPO

pytestmark = pytest.mark.slow

REPO: dict[str, str | bytes] = {
    **BASE_REPO,
    "shop/mailer.py": (
        "import smtplib\n\n\ndef send_receipt(address, body):\n"
        '    """Email the customer a receipt for their purchase."""\n'
        "    with smtplib.SMTP('localhost') as s:\n        s.sendmail('shop@example.com', "
        "[address], body)\n"
    ),
    "tests/test_pricing.py": (
        "from shop.pricing import apply_discount\n\n\ndef test_discount():\n"
        "    assert apply_discount(200) == 180\n"
    ),
}


def coderag_search(*args: str) -> list[dict]:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "search", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def test_natural_language_question_finds_the_function(tmp_path):
    root = write_tree(tmp_path / "repo", REPO)
    idx = str(tmp_path / "idx")
    common = ("--repo", str(root), "--json", "-k", "3", "--index-dir", idx)
    hits = coderag_search("how are failed calls retried with exponential backoff", *common)
    assert len(hits) == 3
    assert "shop.retry.with_retries" in [h["symbol"] for h in hits]
    top = next(h for h in hits if h["symbol"] == "shop.retry.with_retries")
    assert top["path"] == "shop/retry.py" and top["start_line"] == 4
    assert "dense" in top["lanes"]
    # no word in common with the code: only the dense lane can find it
    hits = coderag_search("wait longer between tries when something breaks", *common)
    top = next(h for h in hits if h["symbol"] == "shop.retry.with_retries")
    assert top["lanes"] == ["dense"]
    assert all(
        set(h) == {"path", "start_line", "end_line", "symbol", "score", "lanes"} for h in hits
    )
