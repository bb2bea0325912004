"""Packaged GGUF chat models: parts joined once, checked by size and SHA-256, never downloaded."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest

from app.llm import LLMUnavailableError, make_chat_model
from app.models import gguf
from app.models.errors import ModelMissingError
from app.models.gguf import QWEN_05B, PackagedGGUF, packaged_gguf_path
from app.settings import Settings


def fake_model(tmp_path: Path, pieces: list[bytes], **change: object) -> PackagedGGUF:
    whole = b"".join(pieces)
    model = dataclasses.replace(
        QWEN_05B, name="tiny", filename="tiny.gguf", parts=tuple(f"p{i}" for i in range(3)),
        size=len(whole), sha256=hashlib.sha256(whole).hexdigest(),
    )  # fmt: skip
    return dataclasses.replace(model, **change)  # type: ignore[arg-type]


@pytest.fixture
def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    pieces = [b"GGUF" + b"a" * 1000, b"b" * 5000, b"c" * 7]
    files = []
    for i, piece in enumerate(pieces):
        f = tmp_path / "site" / f"p{i}" / "data" / f"part{i + 1:02d}.bin"
        f.parent.mkdir(parents=True)
        f.write_bytes(piece)
        files.append(f)
    monkeypatch.setattr(gguf, "part_files", lambda model: files)
    return pieces


def test_parts_are_joined_once_into_the_home(tmp_path, parts):
    model = fake_model(tmp_path, parts)
    path = packaged_gguf_path(model, tmp_path / "home")
    assert path == tmp_path / "home" / "models" / "tiny.gguf"
    assert path.read_bytes() == b"".join(parts)
    mtime = path.stat().st_mtime_ns
    assert packaged_gguf_path(model, tmp_path / "home").stat().st_mtime_ns == mtime


def test_a_wrong_hash_leaves_no_model_behind(tmp_path, parts):
    model = fake_model(tmp_path, parts, sha256="0" * 64)
    with pytest.raises(ModelMissingError, match="not the published file.*reinstall the parts"):
        packaged_gguf_path(model, tmp_path / "home")
    assert list((tmp_path / "home" / "models").iterdir()) == []


def test_missing_parts_say_how_to_install(tmp_path):
    model = dataclasses.replace(QWEN_05B, parts=("coderag-no-such-part-1",))
    with pytest.raises(ModelMissingError, match="coderag-no-such-part-1 is not installed.*make"):
        gguf.part_files(model)


def test_a_missing_packaged_model_is_a_one_line_llm_error(monkeypatch):
    broken = dataclasses.replace(gguf.QWEN_15B, parts=("coderag-no-such-part-1",))
    monkeypatch.setitem(gguf.PACKAGED, "qwen-1.5b", broken)
    with pytest.raises(LLMUnavailableError, match="make llm-1.5b.*nothing is downloaded"):
        make_chat_model(Settings(llm="qwen-1.5b"))


def test_the_default_model_parts_are_installed():
    """The Makefile installs Qwen2.5-Coder-0.5B's six parts; their sizes add up to the file."""
    files = gguf.part_files(QWEN_05B)
    assert len(files) == 6 and sum(f.stat().st_size for f in files) == QWEN_05B.size
