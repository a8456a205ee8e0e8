"""KeyedEmbeddings: the immutable artifact that training produces and serving loads (gensim's ``wv``).

Rows are node vectors in global-id order (``graph.node_offsets()``): node type ``t`` owns rows
``offsets[t]:offsets[t+1]`` and its external ids map to those rows through an
:class:`~vastgraph.graph.id_index.IdIndex`. Nearest neighbours come from an exact faiss index built
on first use (inner product on L2-normalised rows for cosine, inner product for dot, L2 for l2) and
cached per (metric, node type). A persisted index (:mod:`vastgraph.embed.vector_index`: faiss
flat / IVF / HNSW) attached with :meth:`KeyedEmbeddings.build_index` serves the searches of its
metric and node type, is saved beside the vectors by :meth:`~KeyedEmbeddings.save` and reloaded
by :meth:`~KeyedEmbeddings.load` without rebuilding (a stale one is rebuilt or refused, never used).

On disk an artifact is a folder: ``meta.json`` (format name and version, node types, counts, the
training metadata and a BLAKE2b checksum per array), ``vectors.npy`` and the id arrays, written to a
staging folder and renamed into place only when complete (the graph store's :class:`StoreWriter`).
Text exports: word2vec format (key ``"ntype:id"`` when there are several node types, the bare id
otherwise) and Parquet (columns ``ntype``, ``id``, ``vector`` as a fixed-size list).

Example:
    >>> kv = KeyedEmbeddings(np.eye(3, dtype=np.float32), ["node"], np.array([0, 3]),
    ...                      {"node": np.array([10, 20, 30])})
    >>> kv[20].tolist()
    [0.0, 1.0, 0.0]
    >>> kv.most_similar(np.array([0.0, 1.0, 0.1], dtype=np.float32), topn=1)[0][0]
    20
"""

from __future__ import annotations

import copy
import json
import os
import re
import threading
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from vastgraph.errors import (FormatVersionError, ParseError, SchemaError, StoreError, StoreExistsError,
                              ValidationError)
from vastgraph.graph.id_index import IdIndex
from vastgraph.graph.storage import StoreWriter, load_array

FORMAT_NAME = "vastgraph-embeddings"
FORMAT_VERSION = 1
METRICS = ("cosine", "dot", "l2")
_INT_RE = re.compile(r"^-?\d+$")


def _readonly(arr: np.ndarray) -> np.ndarray:
    v = arr.view()
    v.flags.writeable = False
    return v


def _as_index(ntype: str, ids: Any, n: int) -> IdIndex:
    if isinstance(ids, IdIndex):
        idx = ids
    else:
        arr = np.asarray(ids)
        if arr.ndim != 1:
            raise ValidationError(f"ids[{ntype!r}]: shape {arr.shape}; expected a 1-D array of external ids")
        idx = IdIndex.from_values(arr) if arr.size else IdIndex.range(0)
    if idx.n != n:
        raise ValidationError(f"ids[{ntype!r}]: {idx.n} ids but offsets give node type {ntype!r} {n} rows")
    return idx


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


class KeyedEmbeddings:
    """Immutable node vectors keyed by ``(node type, external id)``.

    Args:
        vectors: ``(N, d)`` finite numbers (stored as float32, read-only).
        node_types: node type names, in row order.
        offsets: int ``(len(node_types) + 1,)``: node type ``t`` owns rows ``offsets[t]:offsets[t+1]``.
        ids: ``{node type: external ids}`` (int or str arrays, or :class:`IdIndex`), one per row.
        meta: JSON-able training metadata (method, hyperparameters, ...). Default ``{}``.
        copy: copy ``vectors`` (True) or keep a read-only view of them (False). Default True.

    Example:
        >>> kv = KeyedEmbeddings(np.ones((2, 4)), ["user"], [0, 2], {"user": ["a", "b"]})
        >>> kv.get("b").shape, kv.dim, len(kv)
        ((4,), 4, 2)
    """

    def __init__(self, vectors: Any, node_types: list[str], offsets: Any, ids: dict[str, Any],
                 meta: dict[str, Any] | None = None, *, copy: bool = True) -> None:
        arr = np.asarray(vectors)
        if arr.ndim != 2:
            raise ValidationError(f"vectors: shape {arr.shape}; expected a 2-D (N, d) array")
        if arr.dtype.kind not in "fiu":
            raise ValidationError(f"vectors: dtype {arr.dtype}; expected numbers")
        arr = np.array(arr, dtype=np.float32, order="C", copy=True if copy else None)
        bad = ~np.isfinite(arr).all(axis=1)
        if bad.any():
            raise ValidationError(f"vectors: row {int(np.flatnonzero(bad)[0])} holds NaN/inf "
                                  f"({int(bad.sum())} such rows)")
        types = list(node_types)
        if not all(isinstance(t, str) and t for t in types) or len(set(types)) != len(types):
            raise ValidationError(f"node_types={types!r}: expected distinct non-empty strings")
        offs = np.asarray(offsets)
        if offs.dtype.kind not in "iu" or offs.shape != (len(types) + 1,):
            raise ValidationError(f"offsets: {offs.dtype}{offs.shape}; expected {len(types) + 1} integers")
        offs = offs.astype(np.int64)
        if offs[0] != 0 or offs[-1] != arr.shape[0] or np.any(np.diff(offs) < 0):
            raise ValidationError(f"offsets={offs.tolist()}: expected non-decreasing from 0 to the "
                                  f"number of vector rows {arr.shape[0]}")
        if not isinstance(ids, dict) or set(ids) != set(types):
            got = sorted(ids) if isinstance(ids, dict) else type(ids).__name__
            raise ValidationError(f"ids: keys {got}; expected one entry per node type {types}")
        index = {t: _as_index(t, ids[t], int(offs[i + 1] - offs[i])) for i, t in enumerate(types)}
        try:
            meta_copy = json.loads(json.dumps(dict(meta or {})))
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"meta: not JSON-serialisable ({exc})") from None
        self._init(arr, types, offs, index, meta_copy)

    def _init(self, vectors: np.ndarray, types: list[str], offsets: np.ndarray,
              index: dict[str, IdIndex], meta: dict[str, Any]) -> None:
        self._vectors = _readonly(vectors)
        self._types = types
        self._offsets = _readonly(offsets)
        self._index = index
        self._meta = meta
        self._faiss: dict[tuple[str, str | None], tuple[Any, np.ndarray | None]] = {}
        self._lock = threading.Lock()
        self._vindex: Any = None
        self.index_rebuilt_ = False

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_lock", None)
        state["_faiss"] = {}
        state["_vindex"] = None  # faiss objects do not pickle; save() persists an index
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @classmethod
    def _trusted(cls, vectors: np.ndarray, types: list[str], offsets: np.ndarray,
                 index: dict[str, IdIndex], meta: dict[str, Any]) -> "KeyedEmbeddings":
        out = cls.__new__(cls)
        out._init(vectors, types, offsets, index, meta)
        return out

    @classmethod
    def from_graph(cls, graph: Any, vectors: Any, meta: dict[str, Any] | None = None, *,
                   copy: bool = True) -> "KeyedEmbeddings":
        """Key ``vectors`` (rows in the graph's global-id order) by the graph's node types and ids."""
        types = list(graph.node_types)
        offs = np.zeros(len(types) + 1, dtype=np.int64)
        for i, t in enumerate(types):
            offs[i + 1] = offs[i] + graph.num_nodes(t)
        n = np.shape(vectors)[0] if np.ndim(vectors) >= 1 else 0
        if np.ndim(vectors) != 2 or n != offs[-1]:
            raise ValidationError(f"vectors: shape {np.shape(vectors)}; the graph has {int(offs[-1])} nodes, "
                                  f"so expected ({int(offs[-1])}, d)")
        store = getattr(graph, "node_store", None)
        ids = {t: (store(t).ids if store is not None else graph.external_ids(t)) for t in types}
        return cls(vectors, types, offs, ids, meta, copy=copy)

    # ------------------------------------------------------------------ basic access
    @property
    def vectors(self) -> np.ndarray:
        """All vectors, float32 ``(N, d)``, read-only."""
        return self._vectors

    @property
    def node_types(self) -> list[str]:
        return list(self._types)

    @property
    def offsets(self) -> np.ndarray:
        return self._offsets

    @property
    def meta(self) -> dict[str, Any]:
        return copy.deepcopy(self._meta)

    @property
    def dim(self) -> int:
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return int(self._vectors.shape[0])

    def __repr__(self) -> str:
        counts = ", ".join(f"{t}={int(self._offsets[i + 1] - self._offsets[i])}" for i, t in enumerate(self._types))
        return f"KeyedEmbeddings({counts}; dim={self.dim})"

    def _ntype(self, ntype: str | None) -> str:
        if ntype is None:
            if len(self._types) != 1:
                raise SchemaError(f"these embeddings have node types {', '.join(self._types)}; name one (ntype=...)")
            return self._types[0]
        if ntype not in self._index:
            raise SchemaError(f"unknown node type {ntype!r}; known node types: {', '.join(self._types) or '(none)'}")
        return ntype

    def _span(self, ntype: str) -> tuple[int, int]:
        i = self._types.index(ntype)
        return int(self._offsets[i]), int(self._offsets[i + 1])

    def ids_for(self, ntype: str | None = None) -> np.ndarray:
        """External ids of ``ntype``'s rows, in row order."""
        return self._index[self._ntype(ntype)].values()

    def vectors_for(self, ntype: str | None = None) -> np.ndarray:
        """Read-only view of ``ntype``'s vectors ``(n_ntype, d)``."""
        a, b = self._span(self._ntype(ntype))
        return self._vectors[a:b]

    def index_of(self, ext_ids: Any, ntype: str | None = None) -> np.ndarray:
        """Global row numbers (int64) of external ids (raises :class:`UnknownIdError` naming them)."""
        nt = self._ntype(ntype)
        return self._index[nt].lookup(ext_ids, ntype=nt) + self._span(nt)[0]

    def key_of(self, rows: Any) -> list[Any]:
        """Keys of global rows: the external id (one node type) or ``(ntype, id)``."""
        r = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        if r.size and (r.min() < 0 or r.max() >= len(self)):
            raise ValidationError(f"rows: out of range [0, {len(self)})")
        t = np.searchsorted(self._offsets, r, side="right") - 1
        out: list[Any] = [None] * r.size
        for ti in np.unique(t):
            sel = np.flatnonzero(t == ti)
            nt = self._types[ti]
            ext = self._index[nt].external(r[sel] - self._offsets[ti])
            for j, e in zip(sel.tolist(), ext.tolist()):
                out[j] = _py(e) if len(self._types) == 1 else (nt, _py(e))
        return out

    def get(self, ext_id: Any, ntype: str | None = None) -> np.ndarray:
        """Vector ``(d,)`` of one external id, or ``(n, d)`` for a list of ids."""
        rows = self.index_of(ext_id, ntype)
        return self._vectors[rows[0]] if np.ndim(ext_id) == 0 else self._vectors[rows]

    def _split_key(self, key: Any) -> tuple[Any, str | None]:
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str) and key[0] in self._index:
            return key[1], key[0]
        return key, None

    def __getitem__(self, key: Any) -> np.ndarray:
        ext, nt = self._split_key(key)
        return self.get(ext, nt)

    def __contains__(self, key: Any) -> bool:
        ext, nt = self._split_key(key)
        try:
            nt = self._ntype(nt)
        except SchemaError:
            return False
        return bool(self._index[nt].lookup([ext], ntype=nt, missing="-1")[0] >= 0)

    # ------------------------------------------------------------------ nearest neighbours
    def _faiss_index(self, metric: str, ntype: str | None) -> tuple[Any, int]:
        import faiss

        key = (metric, ntype)
        with self._lock:
            if key not in self._faiss:
                a, b = self._span(ntype) if ntype is not None else (0, len(self))
                base = np.ascontiguousarray(self._vectors[a:b], dtype=np.float32)
                if metric == "cosine":
                    base = base / np.maximum(np.linalg.norm(base, axis=1, keepdims=True), 1e-12)
                    base = base.astype(np.float32)
                index = faiss.IndexFlatL2(self.dim) if metric == "l2" else faiss.IndexFlatIP(self.dim)
                if base.shape[0]:
                    index.add(base)
                self._faiss[key] = (index, a)
            return self._faiss[key]

    # ------------------------------------------------------------------ persisted index
    def _index_rows(self, ntype: str | None) -> tuple[np.ndarray, int]:
        a, b = self._span(ntype) if ntype is not None else (0, len(self))
        return np.asarray(self._vectors[a:b]), a

    def build_index(self, kind: str = "flat", metric: str = "cosine", *, ntype: str | None = None,
                    **params: Any) -> Any:
        """Build and attach the persisted nearest-neighbour index (saved by :meth:`save`).

        Args:
            kind: ``"flat"``, ``"ivf"`` or ``"hnsw"`` (see :class:`~vastgraph.embed.vector_index.VectorIndex`).
            metric: ``"cosine"``, ``"dot"`` or ``"l2"``: the searches of this metric (and node type) use it.
            ntype: index only this node type's rows. Default all rows.
            params: ``nlist``, ``nprobe``, ``m``, ``ef_construction``, ``ef_search``, ``random_state``.

        Example:
            >>> kv = KeyedEmbeddings(np.eye(3, dtype=np.float32), ["n"], [0, 3], {"n": ["a", "b", "c"]})
            >>> kv.build_index("hnsw", "l2").ntotal
            3
        """
        from vastgraph.embed.vector_index import VectorIndex

        nt = None if ntype is None else self._ntype(ntype)
        rows, _ = self._index_rows(nt)
        index = VectorIndex(kind, metric, ntype=nt, **params).build(rows)
        self._vindex = index
        return index

    @property
    def index(self) -> Any:
        """The attached persisted index (None when there is none)."""
        return self._vindex

    def _saved_index_spec(self) -> Any:
        return None

    def search(self, queries: Any, topn: int = 10, *, ntype: str | None = None,
               metric: str = "cosine") -> tuple[np.ndarray, np.ndarray]:
        """Exact top-``topn`` rows for each query vector.

        Args:
            queries: ``(q, d)`` or ``(d,)`` vectors.
            topn: neighbours per query (fewer when fewer candidates). Default 10.
            ntype: only rows of this node type. Default: all rows.
            metric: ``"cosine"`` (similarity, descending), ``"dot"`` (descending) or ``"l2"``
                (Euclidean distance, ascending). Default ``"cosine"``.

        Returns:
            ``(scores float32 (q, k), rows int64 (q, k))``, rows being global row numbers.
        """
        if metric not in METRICS:
            raise ValidationError(f"metric={metric!r}: expected one of {', '.join(METRICS)}")
        if isinstance(topn, bool) or not isinstance(topn, (int, np.integer)) or topn < 1:
            raise ValidationError(f"topn={topn!r}: expected an integer >= 1")
        nt = None if ntype is None else self._ntype(ntype)
        q = np.asarray(queries)
        if q.dtype.kind not in "fiu":
            raise ValidationError(f"query vector: dtype {q.dtype}; expected numbers")
        q = np.atleast_2d(q).astype(np.float32)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValidationError(f"query vector: shape {np.shape(queries)}; expected ({self.dim},) or (q, {self.dim})")
        if not np.isfinite(q).all():
            raise ValidationError("query vector holds NaN/inf")
        vi = self._vindex
        if vi is not None and vi.metric == metric and vi.ntype == nt:
            scores, rows = vi.search(q, int(topn))
            start = self._span(nt)[0] if nt is not None else 0
            return scores, np.where(rows >= 0, rows + start, -1)
        index, start = self._faiss_index(metric, nt)
        k = min(int(topn), index.ntotal)
        if k == 0:
            return np.zeros((q.shape[0], 0), np.float32), np.zeros((q.shape[0], 0), np.int64)
        if metric == "cosine":
            q = (q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)).astype(np.float32)
        scores, rows = index.search(np.ascontiguousarray(q), k)
        if metric == "l2":
            scores = np.sqrt(np.maximum(scores, 0.0))
        return scores.astype(np.float32), rows.astype(np.int64) + start

    def most_similar(self, query: Any, topn: int = 10, ntype: str | None = None,
                     metric: str = "cosine") -> list[Any]:
        """The ``topn`` nearest keys of a key or a vector, as ``[(key, score), ...]``.

        A key query (an external id, or ``(ntype, id)``) leaves the key itself out of the result,
        as gensim does; a vector query ranks every row (so a node's own vector returns it first
        under cosine and l2). A ``(q, d)`` matrix of queries returns one list per row. Scores are
        cosine similarity, dot product, or Euclidean distance (``metric="l2"``, ascending).
        Keys are external ids when there is one node type, ``(ntype, id)`` otherwise.

        Example:
            >>> kv = KeyedEmbeddings(np.eye(2), ["n"], [0, 2], {"n": ["a", "b"]})
            >>> kv.most_similar("a", topn=1)
            [('b', 0.0)]
        """
        own = -1
        if isinstance(query, np.ndarray) or isinstance(query, list):
            vec = np.asarray(query)
        else:
            ext, nt = self._split_key(query)
            own = int(self.index_of(ext, nt)[0])
            vec = self._vectors[own]
        scores, rows = self.search(vec, topn + (own >= 0), ntype=ntype, metric=metric)
        out = []
        for s_row, r_row in zip(scores, rows):
            keep = r_row != own
            r_row, s_row = r_row[keep][:topn], s_row[keep][:topn]
            out.append(list(zip(self.key_of(r_row), [float(s) for s in s_row])))
        return out if (own < 0 and np.ndim(vec) == 2) else out[0]

    # ------------------------------------------------------------------ folder format
    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> str:
        """Write the artifact folder atomically; returns its absolute path.

        Raises :class:`StoreExistsError` if ``path`` exists (unless ``overwrite``) or holds
        something other than an embedding folder. An attached index (:meth:`build_index`) is
        written into ``index/`` with the digest of the vectors file it indexes.
        """
        from vastgraph.embed.vector_index import write_index
        from vastgraph.graph.storage import file_checksum

        target = Path(path)
        if target.exists() and overwrite:
            if not (target / "meta.json").is_file() or _folder_format(target) != FORMAT_NAME:
                raise StoreExistsError(f"{target.absolute()} exists and is not a vastgraph embedding "
                                       "folder; refusing to replace it")
        node_meta = []
        with StoreWriter(target, overwrite=overwrite) as w:
            w.put("vectors.npy", np.asarray(self._vectors))
            w.put("offsets.npy", np.asarray(self._offsets))
            for i, t in enumerate(self._types):
                idx = self._index[t]
                files = {}
                for key, arr in idx.arrays.items():
                    files[key] = w.put(f"ids{i}.{key}.npy", np.asarray(arr))
                node_meta.append({"name": t, "count": idx.n, "id_kind": idx.kind, "files": files})
            meta = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "count": len(self), "dim": self.dim,
                    "node_types": node_meta, "meta": self._meta}
            if self._vindex is not None:
                write_index(w.staging, self._vindex, file_checksum(w.staging / "vectors.npy"),
                            space_spec=self._saved_index_spec())
            return w.commit(meta)

    @classmethod
    def load(cls, path: str | os.PathLike, *, mmap: bool = True, verify: bool = False,
             index: str = "rebuild") -> "KeyedEmbeddings":
        """Open an artifact folder (arrays memory-mapped; ``verify=True`` re-hashes every file).

        ``index``: what to do with a saved index (``index/``): ``"rebuild"`` (default) reloads it,
        or rebuilds it in memory when it is stale (``index_rebuilt_`` tells); ``"raise"`` refuses a
        stale one (:class:`~vastgraph.embed.vector_index.StaleIndexError`); ``"ignore"`` skips it.
        A damaged index file raises :class:`~vastgraph.errors.CorruptStoreError`.
        """
        if index not in ("rebuild", "raise", "ignore"):
            raise ValidationError(f"index={index!r}: expected 'rebuild', 'raise' or 'ignore'")
        p = Path(path).absolute()
        if not p.is_dir():
            raise StoreError(f"{p}: no such embedding folder")
        meta = _read_meta(p)
        table = meta.get("arrays", {})

        def get(name: str) -> np.ndarray:
            if name not in table:
                raise StoreError(f"{p / 'meta.json'}: array {name} is not listed")
            return load_array(p / name, table[name], verify=verify, mmap=mmap)

        try:
            vectors = get("vectors.npy")
            offsets = get("offsets.npy")
            types, index_of = [], {}
            for nt in meta["node_types"]:
                types.append(nt["name"])
                arrays = {k: get(v) for k, v in nt["files"].items()}
                index_of[nt["name"]] = IdIndex(nt["id_kind"], nt["count"], arrays)
        except (KeyError, TypeError) as exc:
            raise StoreError(f"{p / 'meta.json'}: malformed embedding metadata ({exc!r})") from None
        if (vectors.ndim != 2 or vectors.dtype != np.float32 or offsets.shape != (len(types) + 1,)
                or int(offsets[-1]) != vectors.shape[0]
                or any(int(offsets[i + 1] - offsets[i]) != index_of[t].n for i, t in enumerate(types))):
            raise StoreError(f"{p}: vectors {vectors.dtype}{vectors.shape}, offsets {offsets.tolist()} and "
                             "node counts in meta.json disagree")
        out = cls._trusted(vectors, types, np.asarray(offsets), index_of, dict(meta.get("meta", {})))
        if index != "ignore":
            out._attach_saved_index(p, str(table["vectors.npy"].get("blake2b", "")), index)
        return out

    def _attach_saved_index(self, folder: Path, digest: str, stale: str) -> None:
        from vastgraph.embed.vector_index import read_index, read_index_meta

        head = read_index_meta(folder)
        if head is None:
            return
        nt = head["params"].get("ntype")
        if nt is not None and nt not in self._index:
            from vastgraph.errors import CorruptStoreError
            raise CorruptStoreError(f"{folder / 'index' / 'index.json'}: node type {nt!r} is not in the embeddings")
        rows, _ = self._index_rows(nt)
        got = read_index(folder, rows, digest, stale=stale, space=getattr(self, "_space", None),
                         space_spec=self._saved_index_spec())
        if got is not None:
            self._vindex, self.index_rebuilt_ = got

    # ------------------------------------------------------------------ exports
    def _keys_text(self) -> list[str]:
        keys: list[str] = []
        multi = len(self._types) > 1
        for t in self._types:
            for e in self._index[t].values().tolist():
                s = str(e)
                if not s or any(c.isspace() for c in s):
                    raise ValidationError(f"node {t!r} id {s!r}: word2vec keys cannot be empty or hold whitespace")
                keys.append(f"{t}:{s}" if multi else s)
        return keys

    def save_word2vec_format(self, path: str | os.PathLike) -> str:
        """Write word2vec text format: ``"N d"``, then ``key v_1 ... v_d`` per row (``%.9g``, exact for float32).

        Keys are ``"ntype:id"`` with several node types and the bare id with one.
        """
        keys = self._keys_text()
        p = Path(path)
        tmp = p.parent / f".{p.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(f"{len(self)} {self.dim}\n")
                for a in range(0, len(self), 2048):
                    block = np.char.mod("%.9g", np.asarray(self._vectors[a:a + 2048])).tolist()
                    f.write("".join(f"{k} {' '.join(row)}\n" for k, row in zip(keys[a:a + 2048], block)))
            os.replace(tmp, p)
        finally:
            if tmp.exists():
                tmp.unlink()
        return str(p.absolute())

    @classmethod
    def load_word2vec_format(cls, path: str | os.PathLike, *, ntype: str = "node",
                             typed: bool | None = None) -> "KeyedEmbeddings":
        """Read word2vec text format (as written by :meth:`save_word2vec_format` or gensim).

        Args:
            path: the text file.
            ntype: node type name for untyped keys. Default ``"node"``.
            typed: keys are ``"ntype:id"`` (True), bare ids (False), or decide from the file: typed
                when every key holds a ``:`` (None, default). Ids that all parse as integers become
                int64, others stay strings.

        Raises:
            ParseError: naming the line of a malformed header, a wrong field count, a value that is
                not a finite number, or a repeated key.
        """
        p = str(path)
        with open(p, encoding="utf-8") as f:
            header = f.readline()
            parts = header.split()
            if len(parts) != 2 or not all(_INT_RE.match(x) for x in parts) or int(parts[1]) < 1 or int(parts[0]) < 0:
                raise ParseError(f"expected a header 'count dim' of two non-negative integers, got {header.strip()!r}",
                                 path=p, line=1)
            n, d = int(parts[0]), int(parts[1])
            keys: list[str] = []
            values: list[list[str]] = []
            lines: list[int] = []
            lineno = 1
            for lineno, line in enumerate(f, start=2):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) != d + 1:
                    raise ParseError(f"expected a key and {d} values, found {len(fields) - 1} values",
                                     path=p, line=lineno)
                keys.append(fields[0])
                values.append(fields[1:])
                lines.append(lineno)
                if len(keys) > n:
                    raise ParseError(f"more vectors than the {n} the header announces", path=p, line=lineno)
        if len(keys) != n:
            raise ParseError(f"header announces {n} vectors but the file holds {len(keys)}", path=p, line=lineno)
        vec = _parse_floats(values, lines, d, p)
        if typed is None:
            typed = n > 0 and all(":" in k for k in keys)
        if typed:
            split = [k.partition(":") for k in keys]
            bad = next((i for i, s in enumerate(split) if not s[0] or not s[2]), None)
            if bad is not None:
                raise ParseError(f"key {keys[bad]!r}: expected 'ntype:id'", path=p, line=lines[bad])
            tkeys = [s[0] for s in split]
            ids = [s[2] for s in split]
        else:
            tkeys = [ntype] * n
            ids = keys
        seen: dict[tuple[str, str], int] = {}
        for i, tk in enumerate(zip(tkeys, ids)):
            if tk in seen:
                raise ParseError(f"key {keys[i]!r} repeats line {lines[seen[tk]]}", path=p, line=lines[i])
            seen[tk] = i
        types = list(dict.fromkeys(tkeys))
        tcode = np.array([types.index(t) for t in tkeys], dtype=np.int64) if n else np.zeros(0, np.int64)
        order = np.argsort(tcode, kind="stable")
        offsets = np.zeros(len(types) + 1, dtype=np.int64)
        np.cumsum(np.bincount(tcode, minlength=len(types)), out=offsets[1:])
        id_arrays = {}
        for ti, t in enumerate(types):
            sel = [ids[j] for j in order[offsets[ti]:offsets[ti + 1]].tolist()]
            id_arrays[t] = (np.array([int(s) for s in sel], dtype=np.int64) if all(_INT_RE.match(s) for s in sel)
                            else np.array(sel, dtype=object))
        if not types:
            types, offsets, id_arrays = [ntype], np.zeros(2, np.int64), {ntype: np.zeros(0, np.int64)}
        return cls(vec[order], types, offsets, id_arrays, {"source": os.path.abspath(p)}, copy=False)

    def to_parquet(self, path: str | os.PathLike) -> str:
        """Write a Parquet table: ``ntype`` (string), ``id`` (int64, or string if any node type has
        string ids), ``vector`` (fixed-size list of float32), one row per node in row order."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        ids = [self._index[t].values() for t in self._types]
        all_int = all(i.dtype.kind in "iu" for i in ids)
        flat = (np.concatenate([i.astype(np.int64) for i in ids]) if all_int
                else np.concatenate([i.astype(str).astype(object) for i in ids]) if ids else np.zeros(0, np.int64))
        counts = np.diff(np.asarray(self._offsets))
        ntype_col = pa.DictionaryArray.from_arrays(
            pa.array(np.repeat(np.arange(len(self._types), dtype=np.int32), counts)), pa.array(self._types))
        values = pa.array(np.asarray(self._vectors).reshape(-1), type=pa.float32())
        table = pa.table({"ntype": ntype_col,
                          "id": pa.array(flat, type=pa.int64() if all_int else pa.string()),
                          "vector": pa.FixedSizeListArray.from_arrays(values, self.dim)})
        p = Path(path)
        tmp = p.parent / f".{p.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            pq.write_table(table, tmp)
            os.replace(tmp, p)
        finally:
            if tmp.exists():
                tmp.unlink()
        return str(p.absolute())


# ---------------------------------------------------------------------------------- helpers
def _folder_format(p: Path) -> Any:
    try:
        meta = json.loads((p / "meta.json").read_text())
    except (OSError, ValueError):
        return None
    return meta.get("format") if isinstance(meta, dict) else None


def _read_meta(p: Path) -> dict[str, Any]:
    mp = p / "meta.json"
    if not mp.is_file():
        raise StoreError(f"{p}: not a vastgraph embedding folder (no meta.json)")
    try:
        meta = json.loads(mp.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{mp}: not valid JSON ({exc})") from None
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt == "vastgraph-store":
        raise StoreError(f"{p}: is a vastgraph graph store, not an embedding folder (open it with HeteroGraph.open)")
    if fmt != FORMAT_NAME:
        raise FormatVersionError(f"{mp}: format {fmt!r} is not {FORMAT_NAME!r}")
    version = meta.get("version")
    if not isinstance(version, int) or version < 1 or version > FORMAT_VERSION:
        raise FormatVersionError(f"{mp}: embedding format version {version!r} is not supported; this vastgraph "
                                 f"reads versions 1..{FORMAT_VERSION} (upgrade vastgraph to open it)")
    return meta


def _parse_floats(values: list[list[str]], lines: list[int], d: int, path: str) -> np.ndarray:
    if not values:
        return np.zeros((0, d), dtype=np.float32)
    try:
        vec = np.array(values, dtype=np.float64).astype(np.float32)
    except ValueError:
        vec = None
    if vec is not None:
        bad = ~np.isfinite(vec).all(axis=1)
        if not bad.any():
            return vec
        i = int(np.flatnonzero(bad)[0])
        raise ParseError("value is not a finite number", path=path, line=lines[i])
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            try:
                float(v)
            except ValueError:
                raise ParseError(f"value {v!r} is not a number", path=path, line=lines[i], field=f"v{j + 1}") from None
    raise ParseError("values are not numbers", path=path)  # pragma: no cover - unreachable
