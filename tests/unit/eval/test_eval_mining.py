"""Query mining for coderag eval: file queries come from source modules, never from tests."""

from pathlib import Path

from app.eval.mining import build
from app.eval.strip import checked_strip
from tests.conftest import write_tree

FILES = {
    "shop/cart.py": '"""Shopping carts: adding items, applying discounts, computing totals."""\n'
    "\ndef total(items):\n    return sum(items)\n",
    "tests/test_cart.py": '"""Tests for shopping carts: adding items and computing totals."""\n'
    "\ndef test_total():\n    assert True\n",
}


def test_file_queries_target_source_modules_not_their_tests(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", FILES)
    copy = write_tree(
        tmp_path / "copy", {path: checked_strip(path, text) for path, text in FILES.items()}
    )
    records = build("shop", "python", repo, copy)
    files = [r for r in records if r["type"] == "file"]
    assert [r["targets"] for r in files] == [[{"path": "shop/cart.py"}]]
    assert files[0]["query"].startswith("Shopping carts")
