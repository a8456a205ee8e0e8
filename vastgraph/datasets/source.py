"""Where dataset files come from: a local folder, or a checksummed download into a cache.

Resolution order for dataset ``name`` (see :func:`locate_files`):

1. ``root`` given: ``root/<name>/`` (or ``root`` itself when it directly holds the files);
2. else ``$VASTGRAPH_DATA/<name>/`` when that variable is set (a folder like ``shared/datasets``);
3. else the cache ``$VASTGRAPH_CACHE/<name>/`` (default ``~/.cache/vastgraph/<name>/``), into
   which missing files are downloaded from their canonical public URLs (raw GitHub files at a
   pinned commit; SNAP for bitcoin-alpha) and verified against a SHA-256 (or git blob id) before
   they are moved into place. A file that fails its check is deleted and reported.

Local folders are read as they are (their files are not re-hashed); cached files are verified.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from vastgraph.errors import DatasetError

ENV_DATA = "VASTGRAPH_DATA"
ENV_CACHE = "VASTGRAPH_CACHE"
_CHUNK = 1 << 20

class _ChecksumError(DatasetError):
    """A downloaded file whose size or checksum differs from its spec."""


Fetcher = Callable[[str, str], None]
"""``fetcher(url, dest_path)`` writes the bytes at ``url`` to ``dest_path`` (raises ``OSError``)."""


@dataclass(frozen=True)
class FileSpec:
    """One file of a dataset: its local name, where to get it and how to check it.

    Args:
        name: file name inside the dataset folder.
        urls: canonical URL first, then mirrors; a URL ending in ``.gz`` is gunzipped after download
            (the checksum is of the uncompressed file).
        sha256: hex SHA-256 of the file, or None.
        size: size in bytes, or None.
        git_blob: git blob id (SHA-1 of ``"blob <size>\\0" + bytes``), used when no SHA-256 is known.
        optional: the loader can work without it (it then reports the gap in ``Dataset.missing``).
    """

    name: str
    urls: tuple[str, ...]
    sha256: str | None = None
    size: int | None = None
    git_blob: str | None = None
    optional: bool = False


def github_raw(repo: str, commit: str, path: str) -> str:
    """Raw-file URL of ``path`` in GitHub ``repo`` at ``commit``."""
    return f"https://raw.githubusercontent.com/{repo}/{commit}/{path}"


def cache_dir() -> Path:
    """The download cache: ``$VASTGRAPH_CACHE`` or ``~/.cache/vastgraph``."""
    env = os.environ.get(ENV_CACHE)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vastgraph"


def fetch_url(url: str, dest: str, timeout: float = 60.0) -> None:
    """Default fetcher: stream ``url`` (http(s) or ``file://``) to ``dest`` with urllib."""
    req = urllib.request.Request(url, headers={"User-Agent": "vastgraph-datasets"})
    with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as out:
        shutil.copyfileobj(resp, out, _CHUNK)


def file_digests(path: str | os.PathLike) -> tuple[str, str]:
    """``(sha256 hex, git blob sha1 hex)`` of a file, read in chunks."""
    size = os.path.getsize(path)
    h256 = hashlib.sha256()
    hblob = hashlib.sha1(f"blob {size}\0".encode())
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h256.update(chunk)
            hblob.update(chunk)
    return h256.hexdigest(), hblob.hexdigest()


def check_file(spec: FileSpec, path: str | os.PathLike) -> str | None:
    """None when ``path`` matches ``spec``'s size and checksum, else a sentence saying what differs."""
    size = os.path.getsize(path)
    if spec.size is not None and size != spec.size:
        return f"{spec.name}: size {size} bytes, expected {spec.size}"
    if spec.sha256 is None and spec.git_blob is None:
        return None
    sha, blob = file_digests(path)
    if spec.sha256 is not None and sha != spec.sha256:
        return f"{spec.name}: sha256 expected {spec.sha256}, got {sha}"
    if spec.sha256 is None and spec.git_blob is not None and blob != spec.git_blob:
        return f"{spec.name}: git blob id expected {spec.git_blob}, got {blob}"
    return None


def _no_network_hint(dataset: str) -> str:
    return (f"if this machine has no network, download the files yourself and set {ENV_DATA} to a "
            f"folder holding '{dataset}/' (or pass root=...)")


def download_file(spec: FileSpec, dest_dir: str | os.PathLike, *, dataset: str = "dataset",
                  fetcher: Fetcher | None = None) -> Path:
    """Download ``spec`` into ``dest_dir``, verify it, and move it into place atomically.

    Mirrors in ``spec.urls`` are tried in order when a URL cannot be fetched; a checksum mismatch
    is an error at once (the bad file is deleted).

    Raises:
        DatasetError: no URL could be fetched (the message tells how to work offline), or the
            file's checksum differs (names the file, the expected and the actual digest).
    """
    fetch = fetcher if fetcher is not None else fetch_url
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / spec.name
    tag = f".{os.getpid()}"  # concurrent downloads of the same file do not share temporaries
    part = dest_dir / (spec.name + tag + ".part")
    raw = dest_dir / (spec.name + tag + ".download")
    failures = []
    for url in spec.urls:
        try:
            try:
                fetch(url, str(raw))
            except (OSError, ValueError) as exc:  # URLError/HTTPError are OSErrors; bad URL is ValueError
                reason = getattr(exc, "reason", None) or exc
                failures.append(f"{url}: {reason}")
                continue
            if url.endswith(".gz"):
                try:
                    with gzip.open(raw, "rb") as src, open(part, "wb") as out:
                        shutil.copyfileobj(src, out, _CHUNK)
                except (OSError, EOFError) as exc:
                    failures.append(f"{url}: not a valid gzip file ({exc})")
                    continue
            else:
                os.replace(raw, part)
            problem = check_file(spec, part)
            if problem is not None:
                raise _ChecksumError(f"dataset {dataset!r}: download from {url} failed its check: "
                                     f"{problem}; the downloaded file was deleted")
            os.replace(part, final)
            return final
        finally:
            for p in (raw, part):
                if p.exists():
                    p.unlink()
    raise DatasetError(f"dataset {dataset!r}: could not download {spec.name} "
                       f"({'; '.join(failures) or 'no URL known'}); {_no_network_hint(dataset)}")


def _local_folder(name: str, base: Path, files: tuple[FileSpec, ...]) -> Path:
    """``base/<name>`` when it exists, else ``base`` itself when it directly holds a required file."""
    sub = base / name
    if sub.is_dir():
        return sub
    if any((base / f.name).is_file() for f in files if not f.optional):
        return base
    return sub


def locate_files(name: str, files: tuple[FileSpec, ...], root: str | os.PathLike | None = None, *,
                 download: bool = True, fetcher: Fetcher | None = None) -> tuple[Path, dict[str, Path]]:
    """Find (or download) the files of dataset ``name``.

    Args:
        name: dataset name (the sub-folder name).
        files: the dataset's file specs.
        root: a folder holding ``<name>/`` (or the dataset folder itself). Default None: use
            ``$VASTGRAPH_DATA``, else the cache.
        download: allow downloading missing files into the cache. Default True.
        fetcher: replaces :func:`fetch_url` (tests, proxies).

    Returns:
        ``(folder, {file name: path})``; optional files that are absent are left out of the dict.

    Raises:
        DatasetError: a required file is absent from a local folder (names folder and file), or
            cannot be downloaded or verified.
    """
    env = os.environ.get(ENV_DATA)
    if root is not None or env:
        base = Path(root if root is not None else env).expanduser()  # type: ignore[arg-type]
        via = "root" if root is not None else ENV_DATA
        if not base.is_dir():
            raise DatasetError(f"dataset {name!r}: {via} folder {str(base)!r} does not exist")
        folder = _local_folder(name, base, files)
        found = {}
        for spec in files:
            path = folder / spec.name
            if path.is_file():
                found[spec.name] = path
            elif not spec.optional:
                raise DatasetError(f"dataset {name!r}: file {spec.name!r} is missing from folder "
                                   f"{str(folder)!r} (given by {via}); expected files: "
                                   f"{', '.join(f.name for f in files if not f.optional)}")
        return folder, found

    folder = cache_dir() / name
    found = {}
    fetched_any = False
    for spec in files:
        path = folder / spec.name
        if path.is_file():
            problem = check_file(spec, path)
            if problem is None:
                found[spec.name] = path
                continue
            if not download:
                raise DatasetError(f"dataset {name!r}: cached file {str(path)!r} is corrupt ({problem}); "
                                   "delete it or load with download=True to fetch it again")
            path.unlink()
        if spec.optional:
            continue
        if not download:
            raise DatasetError(f"dataset {name!r}: file {spec.name!r} is not in the cache {str(folder)!r} "
                               f"and download=False; set {ENV_DATA} to a folder holding '{name}/', pass "
                               "root=..., or allow download=True")
        found[spec.name] = download_file(spec, folder, dataset=name, fetcher=fetcher)
        fetched_any = True
    if fetched_any:
        # optional files are tried once, together with the first download of the required ones
        for spec in files:
            if spec.optional and spec.name not in found:
                try:
                    found[spec.name] = download_file(spec, folder, dataset=name, fetcher=fetcher)
                except _ChecksumError:
                    raise
                except DatasetError:
                    pass  # unavailable optional file: the loader reports it in Dataset.missing
    return folder, found
