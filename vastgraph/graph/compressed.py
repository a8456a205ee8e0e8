"""Compressed edge lists (gzip, bzip2, xz, zstd) read as if they were plain text.

The text reader memory-maps its input and names lines by byte offset, so a compressed file is
first streamed, decompressed, into a private temporary file (removed afterwards); errors then
name the original file. The format is found from the first bytes, whatever the file is called.
zstd needs the optional ``zstandard`` module; without it a ``.zst`` file is refused with a clear
message.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator

from vastgraph.errors import DatasetError, VastgraphError

MAGIC = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"\x28\xb5\x2f\xfd": "zstd"}


def compression_of(path: str | os.PathLike) -> str | None:
    """``"gzip"``, ``"bzip2"``, ``"xz"``, ``"zstd"`` or None (plain), from the file's first bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(6)
    except OSError:
        return None
    for magic, name in MAGIC.items():
        if head.startswith(magic):
            return name
    return None


def _opener(kind: str, path: str):
    if kind == "gzip":
        import gzip

        return gzip.open(path, "rb")
    if kind == "bzip2":
        import bz2

        return bz2.open(path, "rb")
    if kind == "xz":
        import lzma

        return lzma.open(path, "rb")
    try:
        import zstandard
    except ImportError:
        raise DatasetError(f"{path}: the file is zstd-compressed and the 'zstandard' module is not installed; "
                           "`pip install zstandard`, or decompress it first (`zstd -d`)") from None
    return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)


@contextlib.contextmanager
def plain_text(path: str | os.PathLike, *, tmp_dir: str | None = None) -> Iterator[str]:
    """The path of ``path``'s plain text: itself, or a decompressed temporary copy. Errors raised
    inside the block that name the temporary copy are reworded to name ``path``."""
    p = os.fspath(path)
    kind = compression_of(p) if os.path.isfile(p) else None
    if kind is None:
        yield p
        return
    folder = tempfile.mkdtemp(prefix=f"vastgraph-read-{os.getpid()}-", dir=tmp_dir)
    plain = os.path.join(folder, os.path.basename(p) + ".txt")
    try:
        try:
            with _opener(kind, p) as src, open(plain, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 22)
        except (OSError, EOFError, ValueError) as exc:
            raise DatasetError(f"{p}: cannot decompress this {kind} file ({exc})") from None
        try:
            yield plain
        except VastgraphError as exc:
            exc.args = tuple(a.replace(plain, p) if isinstance(a, str) else a for a in exc.args)
            if getattr(exc, "path", None) == plain:
                exc.path = p
            raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
