"""Assembling the mpnet model from its split packages (fake pieces; the real one is slow)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from app.models import mpnet as models_mpnet
from app.models.embedder import Embedder, resolve_model_path
from app.models.errors import ModelMissingError


def split_archive(tmp_path: Path, files: dict[str, bytes], pieces: int = 5) -> list[Path]:
    """Zip ``files`` and cut the archive into ``pieces`` parts, as the PyPI packages do."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    blob = buf.getvalue()
    size = -(-len(blob) // pieces)
    out = []
    for i in range(pieces):
        p = tmp_path / "parts" / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(blob[i * size : (i + 1) * size])
        out.append(p)
    return out


FILES = {
    "all-mpnet-base-v2/modules.json": b"[]",
    "all-mpnet-base-v2/config.json": b"{}",
    "all-mpnet-base-v2/desktop.ini": b"junk",
    "all-mpnet-base-v2/1_Pooling/config.json": b'{"pooling_mode_mean_tokens": true}',
    "all-mpnet-base-v2/model.safetensors": bytes(range(256)) * 4000,
}


def test_split_pieces_are_joined_and_unpacked_once(tmp_path, monkeypatch):
    parts = split_archive(tmp_path, FILES)
    monkeypatch.setattr(models_mpnet, "part_files", lambda: parts)
    monkeypatch.setattr(models_mpnet, "parts_version", lambda: "9.9")
    path = resolve_model_path("mpnet", home=tmp_path / "home")
    assert path == tmp_path / "home" / "models" / "all-mpnet-base-v2-9.9"
    assert (path / "model.safetensors").read_bytes() == FILES["all-mpnet-base-v2/model.safetensors"]
    assert (path / "1_Pooling" / "config.json").is_file()
    assert not (path / "desktop.ini").exists()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left behind
    stamp = (path / "model.safetensors").stat().st_mtime_ns
    assert models_mpnet.mpnet_model_path(tmp_path / "home") == path
    assert (path / "model.safetensors").stat().st_mtime_ns == stamp  # reused, not unpacked again


def test_a_broken_piece_fails_and_leaves_no_model(tmp_path, monkeypatch):
    parts = split_archive(tmp_path, FILES)
    parts[2].write_bytes(parts[2].read_bytes()[:-10])  # a truncated piece: offsets are off
    monkeypatch.setattr(models_mpnet, "part_files", lambda: parts)
    monkeypatch.setattr(models_mpnet, "parts_version", lambda: "9.9")
    with pytest.raises(Exception):  # noqa: B017 - zipfile raises BadZipFile or a CRC error
        models_mpnet.mpnet_model_path(tmp_path / "home")
    assert list((tmp_path / "home" / "models").iterdir()) == []


def test_missing_packages_say_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(models_mpnet, "PARTS", ("coderag-no-such-package-part-001",))
    with pytest.raises(ModelMissingError, match="make mpnet"):
        Embedder("mpnet", home=tmp_path)


def test_concat_reader_seeks_across_pieces(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    a.write_bytes(b"0123")
    b.write_bytes(b"")
    c.write_bytes(b"456789")
    with models_mpnet.ConcatReader([a, b, c]) as raw:
        f = io.BufferedReader(raw, buffer_size=3)
        assert f.read() == b"0123456789"
        f.seek(2)
        assert f.read(5) == b"23456"
        f.seek(-2, io.SEEK_END)
        assert f.read() == b"89"


@pytest.mark.slow
def test_real_mpnet_when_installed(tmp_path):
    try:
        emb = Embedder("mpnet", home=tmp_path)
    except ModelMissingError:
        pytest.skip("mpnet parts not installed (`make mpnet`)")
    assert emb.model_id == "mpnet" and emb.max_tokens == 384
    text = "def getUserById(user_id: int) -> User:\n    return db.query(User).get(user_id)\n"
    assert emb.count_tokens(text) == emb.count_tokens_exact(text)
    vecs = emb.encode(["parse the config file", text])
    assert vecs.shape == (2, 768)
