"""Memory limits checked up front, and the clean-up of temporary folders that a killed run left.

* :func:`available_memory` is what the operating system says a process may still allocate
  (``MemAvailable``), so sizes that cannot fit (a dense id of 3e9, 1e12 walks) are refused with a
  clear error before anything is allocated.
* Temporary folders carry the pid of the process that made them (``vastgraph-read-<pid>-*``,
  ``.NAME.staging-<pid>-*``); :func:`remove_stale` removes the ones whose process is gone (or,
  for names without a pid, that are older than a day) at the next run.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from vastgraph.errors import ValidationError

STALE_AFTER_S = 24 * 3600
DENSE_BYTES_PER_ID = 48  # builder arrays per node slot: counts, indptr, cursor (int64) and headroom
_PID_RE = re.compile(r"-(\d+)-[^-]*$")


def available_memory() -> int:
    """Bytes of memory available to a new allocation (``MemAvailable``; physical memory elsewhere)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 34


def dense_id_limit() -> int:
    """The largest node count that id mode ``dense`` may create, from the available memory."""
    return max(available_memory() // DENSE_BYTES_PER_ID, 1 << 20)


def check_dense_count(count: int, where: str) -> None:
    """Refuse a dense id space of ``count`` nodes that cannot fit in memory."""
    limit = dense_id_limit()
    if count > limit:
        raise ValidationError(
            f"{where}: id {count - 1} in dense id mode means {count:,} nodes (ids 0..{count - 1}), which "
            f"needs about {count * DENSE_BYTES_PER_ID / 2**30:,.1f} GiB; the available memory allows at most "
            f"{limit:,} nodes. Use id mode 'map' (--id-mode map) for sparse or large ids")


def check_fits(nbytes: int, what: str, *, fraction: float = 0.8) -> None:
    """Refuse an allocation of ``nbytes`` that exceeds ``fraction`` of the available memory."""
    avail = available_memory()
    if nbytes > fraction * avail:
        raise ValidationError(f"{what} needs {nbytes / 2**30:,.1f} GiB but only {avail / 2**30:,.1f} GiB of "
                              "memory is available; ask for less")


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    except OSError:
        return False
    return True


def owner_pid(name: str) -> int | None:
    """The pid in a temporary folder name ``...-<pid>-<random>`` (None for names without one)."""
    m = _PID_RE.search(name)
    return int(m.group(1)) if m else None


def remove_stale(folder: str | os.PathLike, pattern: str, *, older_than: float = STALE_AFTER_S) -> list[str]:
    """Remove entries of ``folder`` matching ``pattern`` whose owning process is dead (or, without a
    pid in the name, whose last change is older than ``older_than`` seconds); returns their names.

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> os.mkdir(os.path.join(d, f"vastgraph-read-{os.getpid()}-x"))  # ours, alive: kept
        >>> remove_stale(d, "vastgraph-read-*")
        []
    """
    removed = []
    d = Path(folder)
    try:
        entries = list(d.glob(pattern))
    except OSError:
        return removed
    now = time.time()
    for p in entries:
        pid = owner_pid(p.name)
        if pid is not None:
            stale = pid != os.getpid() and not pid_alive(pid)
        else:
            try:
                stale = now - p.lstat().st_mtime > older_than
            except OSError:
                continue
        if stale:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                try:
                    p.unlink()
                except OSError:
                    continue
            removed.append(p.name)
    return removed
