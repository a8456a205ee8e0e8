"""Open-time checks of a store folder: ``meta.json`` field types, array checksums and CSR structure.

A store may come from elsewhere, damaged or tampered with. The sampling kernels index arrays with
the values of other arrays (``indptr[u]``, ``indices[j]``) and do not bounds-check, so opening a
store checks, before any kernel sees an array:

* ``meta.json``: every field has its type, every file name is a plain name inside the folder (no
  absolute path, no ``/``, no ``..``), every array has an allowed dtype and shape;
* every array file hashes to its ``meta.json`` checksum (a flipped byte is found);
* every adjacency is a valid CSR: ``indptr`` starts at 0, never decreases and ends at the entry
  count; every index lies in ``[0, n_cols)``; weights and times have one value per entry; the id
  index, features and labels have one row per node.

This is O(bytes + edges), done by a numba kernel, and done **once per version**: a small marker
``.verified.json`` in the store folder records, for each file, the ``(inode, size, mtime, ctime)``
it was checked at. A file that changes in any way gets a new ctime (which no user can set), and a
store copied from elsewhere gets new inodes, so the marker cannot vouch for files it did not see;
it is rewritten after each full check (best effort: a read-only folder is checked again on each
open, once per process). ``open_store(verify=True)`` ignores the marker and re-hashes every file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numba as nb
import numpy as np

from vastgraph.errors import CorruptStoreError

VALIDATED = ".verified.json"
CHECK_VERSION = 1
_SEEN: set[str] = set()  # keys verified in this process (covers read-only store folders)

_INT = ("<i4", "<i8")
_ROLE_DTYPES = {"indptr": _INT, "indices": _INT, "weight": ("<f4", "<f8"), "time": _INT}
_ID_DTYPES = {"ids": ("<i8",), "order": ("<i8",), "offsets": ("<i8",), "data": ("|u1",)}
_ID_KEYS = {"range": set(), "int": {"ids", "order"}, "str": {"offsets", "data"}}


# =========================================================================== kernels
@nb.njit(nogil=True, cache=True)
def csr_problem(indptr, indices, n_cols):  # pragma: no cover - numba
    """``(code, position)`` of the first structural fault of a CSR, ``(0, -1)`` if none.

    Codes: 1 ``indptr[0] != 0``; 2 ``indptr`` decreases at position; 3 ``indptr[-1]`` is not the
    entry count; 4 ``indices[position]`` is outside ``[0, n_cols)``. Reads only in bounds.
    """
    n = indptr.shape[0]
    if n == 0 or indptr[0] != 0:
        return 1, 0
    for i in range(1, n):
        if indptr[i] < indptr[i - 1]:
            return 2, i
    if indptr[n - 1] != indices.shape[0]:
        return 3, n - 1
    for j in range(indices.shape[0]):
        v = indices[j]
        if v < 0 or v >= n_cols:
            return 4, j
    return 0, -1


_CSR_MESSAGES = {1: "indptr does not start at 0", 2: "indptr decreases at position {pos}",
                 3: "indptr ends at {end} but the file holds {nnz} entries",
                 4: "index {val} at position {pos} is outside [0, {n})"}


def check_csr(indptr: np.ndarray, indices: np.ndarray, n_rows: int, n_cols: int, *, where: str,
              indptr_file: str, indices_file: str) -> None:
    """Raise :class:`CorruptStoreError` naming the file and the first bad position of a bad CSR.

    Example:
        >>> indptr, indices = np.array([0, 1, 2]), np.array([1, 7], dtype=np.int32)
        >>> try:
        ...     check_csr(indptr, indices, 2, 2, where="edge type e", indptr_file="p.npy", indices_file="i.npy")
        ... except CorruptStoreError as exc:
        ...     print(exc)
        i.npy: edge type e: index 7 at position 1 is outside [0, 2)
    """
    if indptr.ndim != 1 or indptr.shape[0] != n_rows + 1:
        raise CorruptStoreError(f"{indptr_file}: {where}: indptr has shape {list(indptr.shape)}, expected "
                                f"[{n_rows + 1}] (one more than the {n_rows} rows)")
    if indices.ndim != 1:
        raise CorruptStoreError(f"{indices_file}: {where}: indices has shape {list(indices.shape)}; expected 1-D")
    code, pos = csr_problem(np.asarray(indptr), np.asarray(indices), np.int64(n_cols))
    if code == 0:
        return
    end = int(indptr[-1]) if indptr.shape[0] else None
    msg = _CSR_MESSAGES[int(code)].format(pos=int(pos), end=end, nnz=indices.shape[0], n=n_cols,
                                          val=int(indices[pos]) if code == 4 else None)
    raise CorruptStoreError(f"{indices_file if code == 4 else indptr_file}: {where}: {msg}")


# =========================================================================== meta.json
def safe_name(name: Any, mp: Path) -> str:
    """A file name of ``meta.json`` that stays inside the store folder, or raise."""
    if (not isinstance(name, str) or not name or name in (".", "..") or "/" in name or "\\" in name
            or "\x00" in name or name.startswith(".") or os.path.isabs(name)):
        raise CorruptStoreError(f"{mp}: array file name {name!r} is not a plain file name inside the store "
                                "folder (absolute paths, '/', '..' and hidden names are refused)")
    return name


def _want(mp: Path, where: str, value: Any, kind: type | tuple[type, ...], what: str) -> Any:
    if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        ok = False
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise CorruptStoreError(f"{mp}: {where} is {value!r} ({type(value).__name__}); expected {what}")
    return value


def check_meta(meta: dict[str, Any], mp: Path) -> None:
    """Check the field types of a ``meta.json`` (already known to be a dict with the format name)."""
    table = meta["arrays"]
    for name, spec in table.items():
        safe_name(name, mp)
        _want(mp, f"arrays[{name!r}].dtype", spec["dtype"], str, "a numpy dtype string")
        try:
            dt = np.dtype(spec["dtype"])
        except TypeError:
            raise CorruptStoreError(f"{mp}: arrays[{name!r}].dtype {spec['dtype']!r} is not a numpy dtype") from None
        if dt.kind not in "biuf" or dt.str != spec["dtype"]:
            raise CorruptStoreError(f"{mp}: arrays[{name!r}].dtype {spec['dtype']!r}: only plain numeric "
                                    "dtypes are stored")
        shape = _want(mp, f"arrays[{name!r}].shape", spec["shape"], list, "a list of sizes")
        for s in shape:
            if isinstance(s, bool) or not isinstance(s, int) or s < 0:
                raise CorruptStoreError(f"{mp}: arrays[{name!r}].shape {shape!r}: sizes must be non-negative integers")
        _want(mp, f"arrays[{name!r}].bytes", spec["bytes"], int, "an integer")
        _want(mp, f"arrays[{name!r}].blake2b", spec["blake2b"], str, "a hex digest")
    names: set[str] = set()
    for i, nt in enumerate(meta["node_types"]):
        w = f"node_types[{i}]"
        _want(mp, w, nt, dict, "an object")
        name = _want(mp, f"{w}.name", nt.get("name"), str, "a node type name")
        if name in names:
            raise CorruptStoreError(f"{mp}: node type {name!r} is listed twice")
        names.add(name)
        count = _want(mp, f"{w}.count", nt.get("count"), int, "a node count")
        if count < 0:
            raise CorruptStoreError(f"{mp}: {w}.count is {count}; expected >= 0")
        kind = _want(mp, f"{w}.id_kind", nt.get("id_kind"), str, "'range', 'int' or 'str'")
        if kind not in _ID_KEYS:
            raise CorruptStoreError(f"{mp}: {w}.id_kind is {kind!r}; expected 'range', 'int' or 'str'")
        files = _want(mp, f"{w}.files", nt.get("files"), dict, "an object of file names")
        for key, fn in files.items():
            _want(mp, f"{w}.files[{key!r}]", fn, str, "a file name")
            if fn not in table:
                raise CorruptStoreError(f"{mp}: array {fn} is not listed in 'arrays' ({w}.files[{key!r}])")
            shape, dtype = table[fn]["shape"], table[fn]["dtype"]
            if key.startswith("ids_"):
                sub = key[4:]
                if sub not in _ID_KEYS[kind] or dtype not in _ID_DTYPES[sub] or len(shape) != 1:
                    raise CorruptStoreError(f"{mp}: {w}: id array {key!r} ({dtype}{shape}) does not fit "
                                            f"id_kind {kind!r}")
            elif key in ("features", "labels") or key.startswith("data:"):
                if not shape or shape[0] != count:
                    raise CorruptStoreError(f"{mp}: {w}: {key} has shape {shape}; expected {count} rows")
            else:
                raise CorruptStoreError(f"{mp}: {w}.files has an unknown entry {key!r}")
        missing = {f"ids_{k}" for k in _ID_KEYS[kind]} - set(files)
        if missing:
            raise CorruptStoreError(f"{mp}: {w}: id_kind {kind!r} needs {sorted(missing)}")
    seen: set[tuple[str, str, str]] = set()
    for j, e in enumerate(meta["edge_types"]):
        w = f"edge_types[{j}]"
        _want(mp, w, e, dict, "an object")
        key = tuple(_want(mp, f"{w}.{k}", e.get(k), str, "a name") for k in ("src", "rel", "dst"))
        for k, t in (("src", key[0]), ("dst", key[2])):
            if t not in names:
                raise CorruptStoreError(f"{mp}: {w}.{k} names node type {t!r}, which is not listed")
        if key in seen:
            raise CorruptStoreError(f"{mp}: edge type {':'.join(key)} is listed twice")
        seen.add(key)
        for k in ("undirected", "symmetric"):
            _want(mp, f"{w}.{k}", e.get(k), bool, "true or false")
        entries = _want(mp, f"{w}.entries", e.get("entries"), int, "an entry count")
        if entries < 0:
            raise CorruptStoreError(f"{mp}: {w}.entries is {entries}; expected >= 0")
        if e["symmetric"] and key[0] != key[2]:
            raise CorruptStoreError(f"{mp}: {w} is marked symmetric but joins two node types")
        for side in ("csr",) + (() if e["symmetric"] else ("csc",)):
            roles = adjacency_roles(e.get(side), mp, f"{w}.{side}")
            for role, fn in roles.items():
                if fn not in table:
                    raise CorruptStoreError(f"{mp}: array {fn} is not listed in 'arrays' ({w}.{side})")
                spec = table[fn]
                if spec["dtype"] not in _ROLE_DTYPES[role] or len(spec["shape"]) != 1:
                    raise CorruptStoreError(f"{mp}: {w}.{side}: {role} array {fn!r} is {spec['dtype']}"
                                            f"{spec['shape']}; expected 1-D {' or '.join(_ROLE_DTYPES[role])}")


def adjacency_roles(files: Any, mp: Path, where: str) -> dict[str, str]:
    """``{role: file}`` of one adjacency's file list (``edge<j>.<csr|csc>.<role>.npy``)."""
    _want(mp, where, files, list, "a list of file names")
    roles: dict[str, str] = {}
    for fn in files:
        _want(mp, f"{where} entry", fn, str, "a file name")
        parts = fn.split(".")
        role = parts[-2] if len(parts) >= 3 else ""
        if role not in _ROLE_DTYPES or role in roles:
            raise CorruptStoreError(f"{mp}: {where}: file {fn!r} is not an indptr/indices/weight/time array "
                                    "(or is listed twice)")
        roles[role] = fn
    for role in ("indptr", "indices"):
        if role not in roles:
            raise CorruptStoreError(f"{mp}: {where}: no {role} array")
    return roles


# =========================================================================== the marker
def _stat(path: Path) -> list[int]:
    st = os.stat(path)
    return [st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


class Verification:
    """What a store folder's marker says was already checked, and the record of this open's checks."""

    def __init__(self, folder: Path, names: list[str], *, force: bool) -> None:
        self.folder = folder
        self.stats = {}
        for name in ["meta.json"] + names:
            try:
                self.stats[name] = _stat(folder / name)
            except OSError:
                self.stats[name] = None
        h = hashlib.blake2b(digest_size=16)
        h.update(json.dumps([CHECK_VERSION, str(folder), sorted(self.stats.items(), key=lambda kv: kv[0])]).encode())
        self.key = h.hexdigest()
        old: dict[str, Any] = {}
        if not force:
            try:
                old = json.loads((folder / VALIDATED).read_text())
                if not isinstance(old, dict) or not isinstance(old.get("files"), dict):
                    old = {}
            except (OSError, ValueError):
                old = {}
        self.force = force
        self._old_files = old.get("files", {})
        self._old_structure = old.get("structure")
        self.structure_ok = not force and (self.key in _SEEN or old.get("structure") == self.key)
        self.files: dict[str, Any] = {}

    def hashed(self, name: str, checksum: str) -> bool:
        """Whether ``name`` was already hashed, unchanged since, to ``checksum``."""
        st = self.stats.get(name)
        ok = (not self.force and st is not None and self._old_files.get(name) == st + [checksum])
        if ok:
            self.files[name] = st + [checksum]
        return ok

    def record(self, name: str, checksum: str) -> None:
        st = self.stats.get(name)
        if st is not None:
            self.files[name] = st + [checksum]

    def done(self) -> None:
        """Remember a complete check (in this process, and in the marker where the folder is writable)."""
        _SEEN.add(self.key)
        if self.structure_ok and self._old_files == self.files and self._old_structure == self.key:
            return  # the marker already vouches for this check (a just-written store's does not)
        write_marker(self.folder, {"version": CHECK_VERSION, "structure": self.key, "files": self.files})


def write_marker(folder: Path, body: dict[str, Any]) -> None:
    """Write the marker atomically; a folder that cannot be written keeps no marker."""
    tmp = folder / f"{VALIDATED}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w") as f:
            json.dump(body, f)
        os.replace(tmp, folder / VALIDATED)
    except OSError:
        try:
            os.remove(tmp)
        except OSError:
            pass


def marker_for_written(folder: Path, checksums: dict[str, str]) -> None:
    """Marker of a store just written by this process (files hashed at commit; structure unchecked)."""
    files = {}
    for name, checksum in checksums.items():
        try:
            files[name] = _stat(folder / name) + [checksum]
        except OSError:
            return
    write_marker(folder, {"version": CHECK_VERSION, "structure": None, "files": files})


# =========================================================================== structure
def check_adjacency(arrays: dict[str, np.ndarray], files: dict[str, str], n_rows: int, n_cols: int,
                    entries: int, *, folder: Path, where: str) -> None:
    """Check one CSR (or CSC) of a store: shape, entry count, structure, weight/time lengths."""
    indptr, indices = arrays["indptr"], arrays["indices"]
    check_csr(indptr, indices, n_rows, n_cols, where=where, indptr_file=str(folder / files["indptr"]),
              indices_file=str(folder / files["indices"]))
    if indices.shape[0] != entries:
        raise CorruptStoreError(f"{folder / files['indices']}: {where}: {indices.shape[0]} entries, "
                                f"meta.json says {entries}")
    for role in ("weight", "time"):
        if role in arrays and arrays[role].shape != indices.shape:
            raise CorruptStoreError(f"{folder / files[role]}: {where}: {role} has {arrays[role].shape[0]} "
                                    f"values for {indices.shape[0]} entries")


def check_ids(kind: str, n: int, arrays: dict[str, np.ndarray], files: dict[str, str], *, folder: Path,
              where: str) -> None:
    """Check an id index's arrays: a sorted permutation (int ids) or monotone offsets (str ids)."""
    if kind == "int":
        ids, order = np.asarray(arrays["ids"]), np.asarray(arrays["order"])
        if ids.shape != (n,) or order.shape != (n,):
            raise CorruptStoreError(f"{folder / files['ids_ids']}: {where}: ids/order hold {ids.shape[0]}/"
                                    f"{order.shape[0]} values for {n} nodes")
        bad = np.flatnonzero((order < 0) | (order >= n))
        if bad.size:
            raise CorruptStoreError(f"{folder / files['ids_order']}: {where}: order[{int(bad[0])}] = "
                                    f"{int(order[bad[0]])} is outside [0, {n})")
        srt = ids[order]
        bad = np.flatnonzero(srt[1:] <= srt[:-1])
        if bad.size:
            raise CorruptStoreError(f"{folder / files['ids_order']}: {where}: the ids are not sorted by "
                                    f"'order' (or repeat) at position {int(bad[0]) + 1}")
    elif kind == "str":
        offsets, data = np.asarray(arrays["offsets"]), np.asarray(arrays["data"])
        if offsets.shape != (n + 1,):
            raise CorruptStoreError(f"{folder / files['ids_offsets']}: {where}: {offsets.shape[0]} offsets "
                                    f"for {n} nodes (expected {n + 1})")
        code, pos = csr_problem(offsets, np.zeros(data.shape[0], np.int64), np.int64(1))
        if code:
            raise CorruptStoreError(f"{folder / files['ids_offsets']}: {where}: string offsets are not "
                                    f"0..{data.shape[0]} non-decreasing (position {int(pos)})")
