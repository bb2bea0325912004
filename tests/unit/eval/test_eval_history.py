"""Commit-subject queries for ``coderag eval``: subject cleaning and mining a real git history.

``GitRepo`` (a git work tree built commit by commit, deterministic) is reused by the CLI and
end-to-end tests of ``coderag eval``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.eval.history import clean_subject, commit_queries, git_log

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


class GitRepo:
    """A git work tree in ``root``; each :meth:`commit` writes or deletes files, then commits."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.count = 0
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q")

    def git(self, *args: str) -> str:
        when = f"2024-01-01T00:{self.count:02d}:00+00:00"
        env = {
            **os.environ,
            "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com",
            "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when,
        }  # fmt: skip
        done = subprocess.run(
            ["git", "-c", "init.defaultBranch=main", "-C", str(self.root), *args],
            env=env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    def commit(self, subject: str, files: dict[str, str | None]) -> str:
        """Write (text) or delete (None) ``files``, commit them all; return the sha."""
        for rel, text in files.items():
            path = self.root / rel
            if text is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        self.count += 1
        self.git("add", "-A")
        self.git("commit", "-q", "-m", subject)
        return self.git("rev-parse", "HEAD").strip()

    def present(self, under: str = "") -> set[str]:
        """Files in the work tree (relative to ``under``), ``.git`` left out."""
        base = self.root / under
        return {
            p.relative_to(base).as_posix()
            for p in base.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(self.root).parts
        }


@pytest.mark.parametrize(
    ("subject", "query"),
    [
        ("fix(parser): handle unicode escapes in string literals",
         "handle unicode escapes in string literals"),
        ("feat(api)!: drop the legacy session cookie format",
         "drop the legacy session cookie format"),
        ("[core] Retry failed uploads with exponential backoff (#123)",
         "Retry failed uploads with exponential backoff"),
        ("parser: resolve relative imports in packages", "resolve relative imports in packages"),
        ("Cache parsed files between runs (gh-77)", "Cache parsed files between runs"),
        ("Add the shopping cart with discount arithmetic.",
         "Add the shopping cart with discount arithmetic"),
    ],
)  # fmt: skip
def test_clean_subject_strips_prefixes_and_refs(subject, query):
    assert clean_subject(subject) == query


@pytest.mark.parametrize(
    "subject",
    [
        "Merge pull request #5 from someone/retry-uploads",
        "Merge branch 'main' into feature/retry-uploads",
        'Revert "Retry failed uploads with exponential backoff"',
        "Bump requests from 2.31.0 to 2.32.0 in the lock file",
        "Release 2.4.0 with the new upload client",
        "1.2.3",
        "Fix typo in the upload handler docs",
        "Update changelog for the next release",
        "Run pre-commit on every file in the repository",
        "Fix bug",
        "fix: add retries",  # three words once the prefix is gone
        " ".join(["word"] * 26),
        "x = y + 1; z = (a*b) / 2 -> 3 == 4",  # not prose
    ],
)
def test_clean_subject_rejects_what_is_not_a_question(subject):
    assert clean_subject(subject) == ""


def code(name: str) -> str:
    return f"def {name}():\n    return 1\n"


@needs_git
def test_commit_queries_from_a_real_history(tmp_path: Path):
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Add the shopping cart with discount arithmetic", {
        "src/cart.py": code("total"), "tests/test_cart.py": code("test_total"),
        "README.md": "# Shop\n",
    })  # fmt: skip
    only_tests = repo.commit("Cover the login check with unit tests", {
        "tests/test_users.py": code("test_login"),
    })  # fmt: skip
    repo.commit("Add the legacy price importer module", {
        "src/legacy.py": code("load"), "src/cart.py": code("total1"),
    })  # fmt: skip
    repo.commit("Explain the checkout flow in the readme", {"README.md": "# Shop\n\nFlow.\n"})
    repo.commit("Split the pricing helpers into four modules", {
        f"src/price_{i}.py": code(f"price_{i}") for i in range(4)
    })  # fmt: skip
    repo.commit("Remove the legacy price importer entirely", {"src/legacy.py": None})
    repo.commit("Fix typo in the cart totals", {"src/cart.py": code("total2")})
    users = repo.commit("feat(auth): hash passwords before storing accounts (#12)", {
        "src/users.py": code("hash_password"), "src/cart.py": code("total3"),
        "tests/test_users.py": code("test_hash"),
    })  # fmt: skip
    newest = repo.commit("Add the shopping cart with discount arithmetic", {
        "src/cart.py": code("total4"),
    })  # fmt: skip

    present = repo.present()
    assert "src/legacy.py" not in present
    records = commit_queries(repo.root, present, corpus="shop")
    by_query = {r["query"]: r for r in records}
    assert set(by_query) == {
        "Add the shopping cart with discount arithmetic",  # once: duplicates are dropped
        "Cover the login check with unit tests",
        "hash passwords before storing accounts",
    }
    cart = by_query["Add the shopping cart with discount arithmetic"]
    assert cart["id"] == f"shop:commit:{newest[:12]}"  # the newest of the duplicates
    assert cart["targets"] == [{"path": "src/cart.py"}]
    # a test file is dropped when the commit changed a non-test file too ...
    assert by_query["hash passwords before storing accounts"] == {
        "id": f"shop:commit:{users[:12]}", "corpus": "shop", "type": "commit",
        "query": "hash passwords before storing accounts",
        "targets": [{"path": "src/cart.py"}, {"path": "src/users.py"}],
    }  # fmt: skip
    # ... and kept when it is all the commit changed
    tests_only = by_query["Cover the login check with unit tests"]
    assert tests_only["targets"] == [{"path": "tests/test_users.py"}]
    assert tests_only["id"] == f"shop:commit:{only_tests[:12]}"
    # the too-broad commit qualifies once max_files allows it; deleted files never do
    broad = commit_queries(repo.root, present, corpus="shop", max_files=4)
    split = [r for r in broad if r["query"] == "Split the pricing helpers into four modules"]
    assert [t["path"] for t in split[0]["targets"]] == [f"src/price_{i}.py" for i in range(4)]
    assert not any("legacy" in r["query"] for r in broad)
    # deterministic: same history, same seed, same sample; limit and max_commits bound it
    assert commit_queries(repo.root, present, corpus="shop") == records
    assert len(commit_queries(repo.root, present, corpus="shop", limit=2)) == 2
    latest = commit_queries(repo.root, present, corpus="shop", max_commits=1)
    assert [r["id"] for r in latest] == [cart["id"]]


@needs_git
def test_a_file_on_disk_but_not_indexed_is_no_target_and_sinks_nothing(tmp_path: Path):
    repo = GitRepo(tmp_path / "repo")
    repo.commit("Add the pricing package with tax rules", {
        "pricing/__init__.py": "", "pricing/tax.py": code("vat"),
    })  # fmt: skip
    indexed = repo.present() - {"pricing/__init__.py"}  # the walker skips empty files
    (record,) = commit_queries(repo.root, indexed, corpus="p")
    assert record["targets"] == [{"path": "pricing/tax.py"}]
    # a commit that changed only files the index leaves out has no target at all
    repo.commit("Keep the package marker in place for tools", {"pricing/__init__.py": "\n"})
    assert commit_queries(repo.root, indexed, corpus="p", max_commits=1) == []
    assert [r["query"] for r in commit_queries(repo.root, indexed, corpus="p")] == [
        "Add the pricing package with tax rules"
    ]


@needs_git
def test_a_sub_folder_gets_paths_relative_to_it(tmp_path: Path):
    repo = GitRepo(tmp_path / "mono")
    repo.commit("Add the payment service with card checks", {
        "services/pay/api.py": code("charge"), "services/pay/cards.py": code("check"),
    })  # fmt: skip
    repo.commit("Add the mail service that sends receipts", {
        "services/mail/send.py": code("send"),
    })  # fmt: skip
    repo.commit("Share the retry helper between both services", {
        "services/pay/api.py": code("charge2"), "services/mail/send.py": code("send2"),
    })  # fmt: skip
    sub = repo.root / "services" / "pay"
    log = git_log(sub, 100)
    assert [subject for _sha, subject, _names in log] == [
        "Share the retry helper between both services",
        "Add the payment service with card checks",
    ]  # commits that touched nothing under the folder are not listed
    assert log[0][2] == ["api.py"]  # paths outside the folder are left out
    records = commit_queries(sub, repo.present("services/pay"), corpus="pay")
    targets = {r["query"]: [t["path"] for t in r["targets"]] for r in records}
    assert targets == {
        "Share the retry helper between both services": ["api.py"],
        "Add the payment service with card checks": ["api.py", "cards.py"],
    }


def test_a_folder_outside_git_gives_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never look above it
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.py").write_text(code("a"))
    assert git_log(plain, 10) == []
    assert commit_queries(plain, {"a.py"}, corpus="plain") == []
