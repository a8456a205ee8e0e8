"""Persisted nearest-neighbour indexes saved beside embeddings: faiss flat / IVF / HNSW, and geodesic.

A :class:`VectorIndex` is built over the rows of a :class:`~vastgraph.embed.keyed_embeddings.
KeyedEmbeddings` (all rows, or one node type's) for one metric: ``"cosine"`` (inner product on
L2-normalised rows), ``"dot"`` (inner product) or ``"l2"`` (Euclidean). ``kind`` picks the faiss
structure: ``"flat"`` (exact), ``"ivf"`` (inverted lists over ``nlist`` k-means cells, ``nprobe``
cells searched; Jégou et al., TPAMI 2011) or ``"hnsw"`` (hierarchical navigable small-world graph,
``M`` links per node, ``ef_search`` candidates; Malkov & Yashunin, TPAMI 2018). For curvature
embeddings, :class:`GeodesicVectorIndex` persists a
:class:`~vastgraph.embed.geodesic_search.GeodesicIndex` (its faiss candidate stage, when it has one).

On disk (``KeyedEmbeddings.save`` writes it into the embeddings folder)::

    index/index.json   format, kind, metric, node type, parameters, row count, dimension,
                       the BLAKE2b of the vectors file it was built from, the BLAKE2b of index.bin
    index/index.bin    faiss.serialize_index bytes (empty for an exact geodesic index)

:func:`read_index` reloads it without rebuilding. An index whose recorded vectors digest, row count
or dimension no longer match the embeddings is *stale*: it is rebuilt from its recorded parameters
(``stale="rebuild"``, the default) or refused (``stale="raise"``: :class:`StaleIndexError`), never
used. A damaged ``index.bin`` or ``index.json`` raises :class:`~vastgraph.errors.CorruptStoreError`
naming the file.

Example:
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(200, 8)).astype(np.float32)
    >>> idx = VectorIndex("hnsw", "l2").build(x)
    >>> scores, rows = idx.search(x[:2], 1)
    >>> rows[:, 0].tolist()
    [0, 1]
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

from vastgraph.errors import CorruptStoreError, FormatVersionError, StoreError, ValidationError
from vastgraph.validation import check_int

INDEX_DIR = "index"
INDEX_FORMAT = "vastgraph-vector-index"
INDEX_VERSION = 1
KINDS = ("flat", "ivf", "hnsw")
METRICS = ("cosine", "dot", "l2")
STALE_POLICIES = ("rebuild", "raise")


class StaleIndexError(StoreError):
    """A saved index was built from other vectors than the embeddings it sits beside."""


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _as_rows(x: Any, dim: int | None, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise ValidationError(f"{name}: dtype {arr.dtype}; expected numbers")
    arr = np.atleast_2d(arr)
    if arr.ndim != 2 or (dim is not None and arr.shape[1] != dim):
        raise ValidationError(f"{name}: shape {np.shape(x)}; expected (n, {dim if dim is not None else 'd'})")
    if not np.isfinite(arr).all():
        raise ValidationError(f"{name}: holds NaN/inf")
    return np.ascontiguousarray(arr, dtype=np.float32)


class VectorIndex:
    """A faiss index over embedding rows for one metric (see the module docstring).

    Args:
        kind: ``"flat"``, ``"ivf"`` or ``"hnsw"``. Default "flat".
        metric: ``"cosine"``, ``"dot"`` (inner product) or ``"l2"``. Default "cosine".
        ntype: the node type whose rows it indexes (None: all rows). Default None.
        nlist: IVF cells; default ``round(4·√n)`` capped at ``n / 39`` (faiss's training minimum), ≥ 1.
        nprobe: IVF cells searched; default ``max(16, nlist / 4)`` (at most ``nlist``).
        m: HNSW links per node. Default 32.
        ef_construction: HNSW build candidates. Default 200.
        ef_search: HNSW search candidates (raised to ``k`` when smaller). Default 128.
        random_state: seed of the IVF k-means. Default 0.

    Search returns ``(scores float32 (q, k), rows int64 (q, k))`` with rows relative to the
    indexed span; scores are similarities (cosine, dot; descending) or distances (l2; ascending).
    """

    def __init__(self, kind: str = "flat", metric: str = "cosine", *, ntype: str | None = None,
                 nlist: int | None = None, nprobe: int | None = None, m: int = 32, ef_construction: int = 200,
                 ef_search: int = 128, random_state: int = 0) -> None:
        if kind not in KINDS:
            raise ValidationError(f"kind={kind!r}: expected one of {', '.join(KINDS)}")
        if metric not in METRICS:
            raise ValidationError(f"metric={metric!r}: expected one of {', '.join(METRICS)}")
        if ntype is not None and not isinstance(ntype, str):
            raise ValidationError(f"ntype={ntype!r}: expected None or a node type name")
        self.kind, self.metric, self.ntype = kind, metric, ntype
        self.nlist = None if nlist is None else check_int("nlist", nlist, 1)
        self.nprobe = None if nprobe is None else check_int("nprobe", nprobe, 1)
        self.m = check_int("m", m, 2)
        self.ef_construction = check_int("ef_construction", ef_construction, 1)
        self.ef_search = check_int("ef_search", ef_search, 1)
        self.random_state = check_int("random_state", random_state, 0)
        self._faiss: Any = None
        self.dim = 0

    # ------------------------------------------------------------------ build / search
    def params(self) -> dict[str, Any]:
        """The constructor arguments (what :func:`read_index` rebuilds a stale index from)."""
        return {"kind": self.kind, "metric": self.metric, "ntype": self.ntype, "nlist": self.nlist,
                "nprobe": self.nprobe, "m": self.m, "ef_construction": self.ef_construction,
                "ef_search": self.ef_search, "random_state": self.random_state}

    def _prep(self, x: np.ndarray) -> np.ndarray:
        if self.metric == "cosine":
            x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(x, dtype=np.float32)

    def build(self, vectors: Any) -> "VectorIndex":
        """Build the index over ``(n, d)`` rows; returns ``self``."""
        import faiss

        x = self._prep(_as_rows(vectors, None, "vectors"))
        n, d = x.shape
        self.dim = d
        fm = faiss.METRIC_L2 if self.metric == "l2" else faiss.METRIC_INNER_PRODUCT
        if self.kind == "flat" or n == 0:
            index = faiss.IndexFlatL2(d) if fm == faiss.METRIC_L2 else faiss.IndexFlatIP(d)
        elif self.kind == "hnsw":
            index = faiss.IndexHNSWFlat(d, self.m, fm)
            index.hnsw.efConstruction = self.ef_construction
        else:
            nlist = self.nlist if self.nlist is not None else int(round(4 * np.sqrt(n)))
            nlist = max(1, min(nlist, n // 39 if n >= 39 else 1, n))
            quant = faiss.IndexFlatL2(d) if fm == faiss.METRIC_L2 else faiss.IndexFlatIP(d)
            index = faiss.IndexIVFFlat(quant, d, nlist, fm)
            index.cp.seed = self.random_state
            index.train(x)  # faiss's Python wrapper keeps ``quant`` referenced by the index
        if n:
            index.add(x)
        self._faiss = index
        return self

    @property
    def ntotal(self) -> int:
        return 0 if self._faiss is None else int(self._faiss.ntotal)

    def search(self, queries: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` rows (relative to the indexed span) of each query."""
        import faiss

        if self._faiss is None:
            raise ValidationError("VectorIndex.search before build (call build(vectors) or read_index)")
        k = min(check_int("k", k, 1), self.ntotal)
        q = self._prep(_as_rows(queries, self.dim, "queries"))
        if k == 0:
            return np.zeros((q.shape[0], 0), np.float32), np.zeros((q.shape[0], 0), np.int64)
        index = self._faiss
        if isinstance(index, faiss.IndexHNSW):
            index.hnsw.efSearch = max(self.ef_search, k)
        elif isinstance(index, faiss.IndexIVF):
            probe = self.nprobe if self.nprobe is not None else max(16, index.nlist // 4)
            index.nprobe = min(probe, index.nlist)
        scores, rows = index.search(q, k)
        if self.metric == "l2":
            scores = np.sqrt(np.maximum(scores, 0.0))
        return scores.astype(np.float32), rows.astype(np.int64)

    # ------------------------------------------------------------------ bytes
    def to_bytes(self) -> bytes:
        import faiss

        return faiss.serialize_index(self._faiss).tobytes()

    def load_bytes(self, data: bytes, dim: int) -> "VectorIndex":
        import faiss

        self._faiss = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8).copy())
        self.dim = int(dim)
        return self

    def __repr__(self) -> str:
        return f"VectorIndex(kind={self.kind!r}, metric={self.metric!r}, ntype={self.ntype!r}, ntotal={self.ntotal})"


class GeodesicVectorIndex:
    """A :class:`~vastgraph.embed.geodesic_search.GeodesicIndex` that can be saved beside its embeddings.

    Args:
        ntype: node type of the indexed rows (None: all). Other keyword arguments go to
            :class:`GeodesicIndex` (``exact_threshold``, ``candidates``, ``mapping``, ``index``,
            ``weights``, ``batch_size``).
    """

    kind = "geodesic"
    metric = "geodesic"

    def __init__(self, *, ntype: str | None = None, **params: Any) -> None:
        if ntype is not None and not isinstance(ntype, str):
            raise ValidationError(f"ntype={ntype!r}: expected None or a node type name")
        allowed = {"exact_threshold", "candidates", "mapping", "index", "weights", "batch_size"}
        bad = sorted(set(params) - allowed)
        if bad:
            raise ValidationError(f"geodesic index: unknown parameter(s) {bad}; expected {sorted(allowed)}")
        if params.get("weights") is not None:
            params["weights"] = [float(w) for w in np.asarray(params["weights"], dtype=np.float64).ravel()]
        self.ntype, self._params = ntype, dict(params)
        self.geo: Any = None
        self.dim = 0

    def params(self) -> dict[str, Any]:
        return {"kind": "geodesic", "ntype": self.ntype, **self._params}

    def build(self, vectors: Any, space: Any) -> "GeodesicVectorIndex":
        from vastgraph.embed.geodesic_search import GeodesicIndex

        self.geo = GeodesicIndex(vectors, space, **self._params)
        self.dim = self.geo.dim
        if not self.geo.exact and len(self.geo):
            self.geo._candidate_index()
        return self

    @property
    def ntotal(self) -> int:
        return 0 if self.geo is None else len(self.geo)

    def search(self, queries: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
        dist, rows = self.geo.search(queries, k)
        return dist.astype(np.float32), rows

    def to_bytes(self) -> bytes:
        import faiss

        return b"" if self.geo is None or self.geo._faiss is None else faiss.serialize_index(self.geo._faiss).tobytes()

    def load_bytes(self, data: bytes, vectors: Any, space: Any) -> "GeodesicVectorIndex":
        import faiss

        from vastgraph.embed.geodesic_search import GeodesicIndex

        self.geo = GeodesicIndex(vectors, space, **self._params)
        self.dim = self.geo.dim
        if data:
            self.geo._faiss = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8).copy())
        elif not self.geo.exact and len(self.geo):
            raise CorruptStoreError("geodesic index: index.bin is empty but the index needs a candidate stage")
        return self


def make_index(params: dict[str, Any]) -> Any:
    """An unbuilt index from :meth:`params` output (``kind`` selects the class)."""
    p = dict(params)
    kind = p.pop("kind", None)
    if kind == "geodesic":
        return GeodesicVectorIndex(**p)
    return VectorIndex(kind, **p)


# ---------------------------------------------------------------------------- persistence
def write_index(folder: str | os.PathLike, index: Any, vectors_digest: str, *, space_spec: Any = None) -> str:
    """Write ``folder/index/`` atomically (staging folder + rename); returns its path."""
    if index is None or index.ntotal is None:
        raise ValidationError("write_index: no index")
    root = Path(folder)
    data = index.to_bytes()
    head = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "params": index.params(), "count": index.ntotal,
            "dim": index.dim, "vectors_blake2b": vectors_digest, "bin_blake2b": _digest(data),
            "space": space_spec}
    target = root / INDEX_DIR
    staging = root / f".{INDEX_DIR}.staging-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        for name, blob in (("index.bin", data), ("index.json", json.dumps(head, indent=1).encode())):
            with open(staging / name, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
        if target.exists():
            shutil.rmtree(target)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return str(target)


def read_index_meta(folder: str | os.PathLike) -> dict[str, Any] | None:
    """The ``index.json`` of an embeddings folder (None when it has no index)."""
    mp = Path(folder) / INDEX_DIR / "index.json"
    if not mp.is_file():
        return None
    try:
        head = json.loads(mp.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise CorruptStoreError(f"{mp}: not valid JSON ({exc})") from None
    if not isinstance(head, dict) or head.get("format") != INDEX_FORMAT:
        raise CorruptStoreError(f"{mp}: not a {INDEX_FORMAT} description")
    if head.get("version") != INDEX_VERSION:
        raise FormatVersionError(f"{mp}: index format version {head.get('version')!r}; this vastgraph reads "
                                 f"version {INDEX_VERSION}")
    for key, kind in (("params", dict), ("count", int), ("dim", int), ("vectors_blake2b", str), ("bin_blake2b", str)):
        if not isinstance(head.get(key), kind):
            raise CorruptStoreError(f"{mp}: field {key!r} is missing or not a {kind.__name__}")
    return head


def read_index(folder: str | os.PathLike, vectors: np.ndarray, vectors_digest: str, *, stale: str = "rebuild",
               space: Any = None, space_spec: Any = None) -> tuple[Any, bool] | None:
    """Reload the index saved in ``folder`` for these ``vectors`` (the rows of its span).

    Returns ``(index, rebuilt)`` or None when the folder has no index. A stale index is rebuilt
    (``stale="rebuild"``) or refused with :class:`StaleIndexError` (``stale="raise"``); a damaged one
    raises :class:`CorruptStoreError`.
    """
    if stale not in STALE_POLICIES:
        raise ValidationError(f"stale={stale!r}: expected one of {', '.join(STALE_POLICIES)}")
    head = read_index_meta(folder)
    if head is None:
        return None
    where = Path(folder) / INDEX_DIR
    try:
        index = make_index(head["params"])
    except (ValidationError, TypeError) as exc:
        raise CorruptStoreError(f"{where / 'index.json'}: bad index parameters ({exc})") from None
    rows = np.asarray(vectors)
    why = []
    if head["vectors_blake2b"] != vectors_digest:
        why.append("the vectors changed since it was built (digest mismatch)")
    if head["count"] != rows.shape[0] or head["dim"] != rows.shape[1]:
        why.append(f"it holds {head['count']}×{head['dim']} rows, the embeddings {rows.shape[0]}×{rows.shape[1]}")
    if index.kind == "geodesic" and head.get("space") != space_spec:
        why.append("the manifold changed since it was built")
    if why:
        if stale == "raise":
            raise StaleIndexError(f"{where}: stale index: {'; '.join(why)}; rebuild it (load with stale='rebuild' "
                                  "or build_index + save)")
        return (index.build(rows, space) if index.kind == "geodesic" else index.build(rows)), True
    try:
        data = (where / "index.bin").read_bytes()
    except OSError as exc:
        raise CorruptStoreError(f"{where / 'index.bin'}: unreadable ({exc})") from None
    if _digest(data) != head["bin_blake2b"]:
        raise CorruptStoreError(f"{where / 'index.bin'}: checksum mismatch (truncated or corrupted index file); "
                                "delete the index folder or rebuild the index")
    try:
        if index.kind == "geodesic":
            index.load_bytes(data, rows, space)
        else:
            index.load_bytes(data, head["dim"])
    except RuntimeError as exc:
        raise CorruptStoreError(f"{where / 'index.bin'}: faiss cannot read it ({str(exc).splitlines()[0]})") from None
    if index.ntotal != head["count"]:
        raise CorruptStoreError(f"{where / 'index.bin'}: holds {index.ntotal} rows, index.json says {head['count']}")
    return index, False
