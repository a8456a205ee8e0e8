"""On-disk store format: a folder with ``meta.json`` and one ``.npy`` per array.

* Arrays are memory-mapped on open, so opening a graph reads only ``meta.json`` and the ``.npy``
  headers, never the edges.
* Every write goes to a hidden staging folder beside the target, is fsynced, and is renamed into
  place only when complete. With ``overwrite`` the old store is moved aside first and removed only
  after the new one is in place; if a crash falls between the two renames, :func:`open_graph`
  restores the old store.
* ``meta.json`` records the format name and version, the schema, counts, dtype and shape of every
  array and its BLAKE2b checksum. Opening checks headers against it (a truncated or rewritten file
  is refused); ``verify=True`` also re-hashes every file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from vastgraph.errors import CorruptStoreError, FormatVersionError, StoreError, StoreExistsError
from vastgraph.graph.id_index import IdIndex
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.store import Adjacency
from vastgraph.graph.view import open_graph  # noqa: F401  (the URI-dispatching opener)

FORMAT_NAME = "vastgraph-store"
FORMAT_VERSION = 1
META = "meta.json"
CURRENT = "CURRENT"  # version pointer of a DynamicStore folder (vastgraph.graph.dynamic_store)


def file_checksum(path: str | os.PathLike, chunk: int = 1 << 22) -> str:
    """BLAKE2b-128 hex digest of a file, read in chunks."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def fsync_dir(path: str | os.PathLike) -> None:
    """fsync a folder so renames and new entries in it are durable (no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def is_store(path: str | os.PathLike) -> bool:
    return (Path(path) / META).is_file()


class StoreWriter:
    """Stage arrays in a hidden folder and rename it into place on :meth:`commit`.

    Example:
        >>> import tempfile
        >>> d = tempfile.mkdtemp()
        >>> with StoreWriter(d + "/g") as w:
        ...     _ = w.put("a.npy", np.arange(3))
        ...     _ = w.commit({"format": FORMAT_NAME, "version": FORMAT_VERSION})
    """

    def __init__(self, path: str | os.PathLike, *, overwrite: bool = False) -> None:
        self.target = Path(path).absolute()
        if self.target.exists():
            if not overwrite:
                raise StoreExistsError(f"{self.target} already exists; pass overwrite (--overwrite) "
                                       "to replace it (the old store is kept until the new one is complete)")
            if not is_store(self.target):
                raise StoreExistsError(f"{self.target} exists and is not a vastgraph store; "
                                       "refusing to replace it")
        self.target.parent.mkdir(parents=True, exist_ok=True)
        from vastgraph.graph.resources import remove_stale

        remove_stale(self.target.parent, f".{self.target.name}.staging-*")  # left by a killed writer
        self.staging = self.target.parent / f".{self.target.name}.staging-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.staging.mkdir()
        self.arrays: dict[str, dict[str, Any]] = {}
        self._open: dict[str, np.memmap] = {}
        self._done = False

    def __enter__(self) -> "StoreWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self._done:
            self.abort()

    def allocate(self, name: str, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """A writable memory-mapped array in the staging folder (filled by the caller)."""
        p = self.staging / name
        if int(np.prod(shape)) == 0:
            arr = np.zeros(shape, dtype=dtype)
            np.save(p, arr)
            self.arrays[name] = {}
            return arr
        mm = np.lib.format.open_memmap(p, mode="w+", dtype=dtype, shape=shape)
        self._open[name] = mm
        self.arrays[name] = {}
        return mm

    def discard(self, name: str) -> None:
        """Drop a staged array (a work array that the final store does not keep)."""
        mm = self._open.pop(name, None)
        if mm is not None:
            del mm
        self.arrays.pop(name, None)
        try:
            os.remove(self.staging / name)
        except FileNotFoundError:
            pass

    def put(self, name: str, array: np.ndarray) -> str:
        arr = np.ascontiguousarray(array)
        if arr.dtype == object:
            raise StoreError(f"array {name}: object dtype cannot be stored")
        with open(self.staging / name, "wb") as f:
            np.save(f, arr, allow_pickle=False)
        self.arrays[name] = {}
        return name

    def commit(self, meta: dict[str, Any]) -> str:
        """Checksum and fsync every array, write meta.json, and rename the folder into place."""
        for name, mm in self._open.items():
            mm.flush()
        self._open.clear()
        table = {}
        for name in self.arrays:
            p = self.staging / name
            with open(p, "rb") as f:
                os.fsync(f.fileno())
            arr = np.load(p, mmap_mode="r") if os.path.getsize(p) > 128 else np.load(p)
            table[name] = {"dtype": arr.dtype.str, "shape": list(arr.shape),
                           "bytes": os.path.getsize(p), "blake2b": file_checksum(p)}
            del arr
        meta = dict(meta)
        meta["arrays"] = table
        with open(self.staging / META, "w") as f:
            json.dump(meta, f, indent=1, default=_json_default)
            f.flush()
            os.fsync(f.fileno())
        if meta.get("format") == FORMAT_NAME:  # the files were just hashed: the first open need not
            from vastgraph.graph.validate import marker_for_written

            marker_for_written(self.staging, {n: t["blake2b"] for n, t in table.items()})
        fsync_dir(self.staging)
        backup = None
        if self.target.exists():
            backup = self.target.parent / f".{self.target.name}.old-{uuid.uuid4().hex[:8]}"
            os.rename(self.target, backup)
        os.rename(self.staging, self.target)
        fsync_dir(self.target.parent)
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
        self._done = True
        return str(self.target)

    def abort(self) -> None:
        self._open.clear()
        shutil.rmtree(self.staging, ignore_errors=True)
        self._done = True


def _json_default(o: Any) -> Any:
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


# --------------------------------------------------------------------------- save
def _adj_arrays(prefix: str, adj: Adjacency) -> dict[str, np.ndarray]:
    out = {f"{prefix}.indptr.npy": adj.indptr, f"{prefix}.indices.npy": adj.indices}
    if adj.weight is not None:
        out[f"{prefix}.weight.npy"] = adj.weight
    if adj.time is not None:
        out[f"{prefix}.time.npy"] = adj.time
    return out


def graph_meta(graph: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The meta.json body (without the array table) and the arrays of a graph, by file name."""
    arrays: dict[str, np.ndarray] = {}
    nodes = []
    for i, name in enumerate(graph.node_types):
        ns = graph.node_store(name)
        files: dict[str, str] = {}
        for key, arr in ns.ids.arrays.items():
            files[f"ids_{key}"] = fn = f"node{i}.ids_{key}.npy"
            arrays[fn] = arr
        if ns.features is not None:
            files["features"] = fn = f"node{i}.features.npy"
            arrays[fn] = ns.features
        if ns.labels is not None:
            files["labels"] = fn = f"node{i}.labels.npy"
            arrays[fn] = ns.labels
        for key, arr in ns.data.items():
            files[f"data:{key}"] = fn = f"node{i}.data{len(files)}.npy"
            arrays[fn] = arr
        nodes.append({"name": name, "count": ns.count, "id_kind": ns.ids.kind, "files": files})
    edges = []
    for j, et in enumerate(graph.edge_types):
        e = graph.edge_store(et)
        csr = _adj_arrays(f"edge{j}.csr", e.csr)
        csc = {} if e.csc is None else _adj_arrays(f"edge{j}.csc", e.csc)
        arrays.update(csr)
        arrays.update(csc)
        edges.append({"src": et.src, "rel": et.rel, "dst": et.dst, "undirected": e.undirected,
                      "symmetric": e.csc is None, "entries": e.csr.nnz,
                      "csr": sorted(csr), "csc": sorted(csc)})
    meta = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "node_types": nodes,
            "edge_types": edges, "info": graph.info}
    return meta, arrays


def save_graph(graph: Any, path: str | os.PathLike, *, overwrite: bool = False) -> str:
    """Write ``graph`` to the store folder ``path`` atomically; returns the absolute path."""
    meta, arrays = graph_meta(graph)
    with StoreWriter(path, overwrite=overwrite) as w:
        for name, arr in arrays.items():
            w.put(name, np.asarray(arr))
        return w.commit(meta)


# --------------------------------------------------------------------------- open
def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``meta.json`` (format name and version)."""
    p = Path(path)
    if not p.exists():
        olds = sorted(p.parent.glob(f".{p.name}.old-*")) if p.parent.exists() else []
        if olds:  # a crash between the two renames of an overwrite: put the old store back
            os.rename(olds[-1], p)
        else:
            raise StoreError(f"{p}: no such store folder")
    mp = p / META
    if not mp.is_file():
        raise StoreError(f"{p}: not a vastgraph store (no {META})")
    try:
        meta = json.loads(mp.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CorruptStoreError(f"{mp}: not valid JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise FormatVersionError(f"{mp}: format {meta.get('format') if isinstance(meta, dict) else None!r} "
                                 f"is not {FORMAT_NAME!r}")
    version = meta.get("version")
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise FormatVersionError(f"{mp}: store format version {version!r} is not supported; this "
                                 f"vastgraph reads versions 1..{FORMAT_VERSION} (upgrade vastgraph to open it)")
    for key, kind in (("node_types", list), ("edge_types", list), ("arrays", dict)):
        if not isinstance(meta.get(key), kind):
            raise CorruptStoreError(f"{mp}: {key!r} is missing or not a {kind.__name__}")
    for name, spec in meta["arrays"].items():
        if not isinstance(spec, dict) or not {"dtype", "shape", "bytes", "blake2b"} <= set(spec):
            raise CorruptStoreError(f"{mp}: entry of array {name} lacks dtype/shape/bytes/blake2b")
    return meta


def load_array(path: Path, spec: dict[str, Any], *, verify: bool, mmap: bool) -> np.ndarray:
    """Load one array and check it against its meta.json entry."""
    if not path.is_file():
        raise CorruptStoreError(f"{path}: array file is missing")
    if os.path.getsize(path) != spec["bytes"]:
        raise CorruptStoreError(f"{path}: size {os.path.getsize(path)} bytes, meta.json says {spec['bytes']}")
    if verify and file_checksum(path) != spec["blake2b"]:
        raise CorruptStoreError(f"{path}: checksum mismatch (file changed or corrupted since it was written)")
    try:
        empty = int(np.prod(spec["shape"])) == 0
        arr = np.load(path, mmap_mode=None if (empty or not mmap) else "r", allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - a damaged header can fail in the header parser in many ways
        raise CorruptStoreError(f"{path}: unreadable .npy ({type(exc).__name__}: {exc})") from None
    if arr.dtype.str != spec["dtype"] or list(arr.shape) != list(spec["shape"]):
        raise CorruptStoreError(f"{path}: holds {arr.dtype.str}{list(arr.shape)}, meta.json says "
                                f"{spec['dtype']}{spec['shape']}")
    return arr


def current_version(path: str | os.PathLike) -> Path:
    """``path`` itself, or for a DynamicStore folder the version its ``CURRENT`` pointer names."""
    p = Path(path).absolute()
    if (p / CURRENT).is_file():
        try:
            rel = json.loads((p / CURRENT).read_text())["path"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CorruptStoreError(f"{p / CURRENT}: unreadable version pointer ({exc})") from None
        parts = Path(rel).parts if isinstance(rel, str) and rel else ()
        if (not parts or Path(rel).is_absolute() or any(x in ("..", ".") for x in parts)
                or "\x00" in rel):
            raise CorruptStoreError(f"{p / CURRENT}: version pointer {rel!r} does not name a folder inside "
                                    f"the store (absolute paths and '..' are refused)")
        target = p / rel
        try:
            inside = target.resolve().is_relative_to(p.resolve())
        except OSError:
            inside = False
        if not inside:
            raise CorruptStoreError(f"{p / CURRENT}: version pointer {rel!r} leads outside the store folder")
        return target
    return p


def open_store(path: str | os.PathLike, *, verify: bool = False, mmap: bool = True):
    """Open a store folder (a DynamicStore folder: its current version) as a :class:`HeteroGraph`.

    The first open of a version checks ``meta.json``, every array's checksum and the CSR structure
    (see :mod:`vastgraph.graph.validate`); later opens reuse that check while the files are
    unchanged. ``verify=True`` re-hashes every file regardless. A damaged or tampered store raises
    :class:`~vastgraph.errors.CorruptStoreError` naming the file and the first bad position.
    :func:`vastgraph.graph.view.open_graph` (also importable from here) dispatches folders to this.
    """
    from vastgraph.graph import validate as V
    from vastgraph.graph.hetero_graph import EdgeTypeData, HeteroGraph, NodeTypeData

    p = current_version(path)
    meta = read_meta(p)
    mp = p / META
    V.check_meta(meta, mp)
    table = meta["arrays"]
    check = V.Verification(p, sorted(table), force=verify)
    loaded: dict[str, np.ndarray] = {}

    def get(name: str) -> np.ndarray:
        if name in loaded:
            return loaded[name]
        if name not in table:
            raise CorruptStoreError(f"{mp}: array {name} is not listed")
        spec = table[name]
        arr = load_array(p / name, spec, verify=False, mmap=mmap)
        if not check.hashed(name, spec["blake2b"]):
            if file_checksum(p / name) != spec["blake2b"]:
                raise CorruptStoreError(f"{p / name}: checksum mismatch (file changed or corrupted since "
                                        "it was written)")
            check.record(name, spec["blake2b"])
        loaded[name] = arr
        return arr

    nodes = {}
    for nt in meta["node_types"]:
        files, where = nt["files"], f"node type {nt['name']!r}"
        ids_arrays = {k[4:]: get(v) for k, v in files.items() if k.startswith("ids_")}
        if not check.structure_ok:
            V.check_ids(nt["id_kind"], nt["count"], ids_arrays, files, folder=p, where=where)
        data = {k[5:]: get(v) for k, v in files.items() if k.startswith("data:")}
        nodes[nt["name"]] = NodeTypeData(
            name=nt["name"], ids=IdIndex(nt["id_kind"], nt["count"], ids_arrays),
            features=get(files["features"]) if "features" in files else None,
            labels=get(files["labels"]) if "labels" in files else None, data=data)

    def adj(files: list[str], n_rows: int, n_cols: int, entries: int, where: str) -> Adjacency:
        roles = V.adjacency_roles(files, mp, where)
        by = {role: get(f) for role, f in roles.items()}
        if not check.structure_ok:
            V.check_adjacency(by, roles, n_rows, n_cols, entries, folder=p, where=where)
        elif by["indptr"].shape[0] != n_rows + 1 or by["indices"].shape[0] != entries:
            raise CorruptStoreError(f"{p}: {where} has {by['indptr'].shape[0] - 1} rows/"
                                    f"{by['indices'].shape[0]} entries, meta.json says {n_rows}/{entries}")
        return Adjacency(by["indptr"], by["indices"], by.get("weight"), by.get("time"), n_cols)

    edges = {}
    for e in meta["edge_types"]:
        et = EdgeType(e["src"], e["rel"], e["dst"])
        n_src, n_dst = nodes[et.src].count, nodes[et.dst].count
        csr = adj(e["csr"], n_src, n_dst, e["entries"], f"edge type {et} (csr)")
        csc = None if e["symmetric"] else adj(e["csc"], n_dst, n_src, e["entries"], f"edge type {et} (csc)")
        if csc is not None and ((csr.weight is None) != (csc.weight is None)
                                or (csr.time is None) != (csc.time is None)):
            raise CorruptStoreError(f"{mp}: edge type {et}: its CSR and CSC disagree on weights/times")
        edges[et] = EdgeTypeData(et, csr, csc, undirected=e["undirected"])
    check.structure_ok = True
    check.done()
    info = meta.get("info", {})
    return HeteroGraph(nodes, edges, info=info if isinstance(info, dict) else {}, path=str(p),
                       version=_version_name(Path(path).absolute(), p, meta))


def _version_name(root: Path, p: Path, meta: dict[str, Any]) -> str:
    """``v<k>`` for a DynamicStore version, else ``0``, with the store's content digest."""
    sums = "".join(str(a.get("blake2b", "")) for _, a in sorted(meta.get("arrays", {}).items()))
    digest = hashlib.blake2b(sums.encode(), digest_size=6).hexdigest()
    # a DynamicStore version opened through its root or directly (``versions/v…k``) has one name
    name = p.name if (p != root or p.parent.name == "versions") else "0"
    return f"{name}-{digest}"


def verify_store(path: str | os.PathLike) -> dict[str, str]:
    """Re-hash every array of a store; returns ``{file: 'ok'}`` or raises :class:`CorruptStoreError`."""
    p = current_version(path)
    meta = read_meta(p)
    for name, spec in meta["arrays"].items():
        load_array(p / name, spec, verify=True, mmap=True)
    return {name: "ok" for name in meta["arrays"]}
