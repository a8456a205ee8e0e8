"""The merge machinery behind :func:`vastgraph.graph.delta.apply_delta`.

Numba kernels that mark deleted entries and merge sorted insertions into CSR rows, and the growth
of node types (id indexes, features, labels) by a delta's new nodes. Cost is O(E + delta) per
changed edge type with no Python loop over edges; untouched edge types keep their arrays.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numba as nb
import numpy as np

from vastgraph.errors import UnknownIdError, ValidationError
from vastgraph.graph.csr_kernels import compact_rows, lower_bound, unique_counts
from vastgraph.graph.hetero_graph import EdgeTypeData, HeteroGraph, NodeTypeData
from vastgraph.graph.id_index import IdIndex
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.store import Adjacency

if TYPE_CHECKING:
    from vastgraph.graph.delta import GraphDelta

INT32_MAX = np.iinfo(np.int32).max


def _show(x: Any) -> str:
    """repr of an external id without numpy's type wrapper (np.int64(5) → 5)."""
    return repr(x.item() if isinstance(x, np.generic) else x)


# =========================================================================== kernels
@nb.njit(nogil=True, parallel=True, cache=True)
def _mark_deleted(indptr, indices, src, dst, keep):  # pragma: no cover - numba
    """Clear ``keep`` on every copy of (src[i], dst[i]) in a row-sorted CSR; returns found flags."""
    m = src.shape[0]
    found = np.zeros(m, dtype=np.bool_)
    for i in nb.prange(m):
        b = indptr[src[i] + 1]
        v = dst[i]
        lo = lower_bound(indices, indptr[src[i]], b, v)
        while lo < b and indices[lo] == v:
            keep[lo] = False
            found[i] = True
            lo += 1
    return found


@nb.njit(nogil=True, parallel=True, cache=True)
def _merge_rows(indptr, indices, w, t, keep, kept_rows, ins_ptr, ins_col, ins_w, ins_t, out_ptr, out_idx, out_w,
                out_t, has_w, has_t, has_del):  # pragma: no cover - numba
    """Merge each kept (``keep``, if ``has_del``), sorted old row with its sorted insertions (old first on ties)."""
    n_old = indptr.shape[0] - 1
    n = out_ptr.shape[0] - 1
    for u in nb.prange(n):
        o = out_ptr[u]
        j = indptr[u] if u < n_old else 0
        b = indptr[u + 1] if u < n_old else 0
        i = ins_ptr[u]
        ie = ins_ptr[u + 1]
        if i == ie and kept_rows[u] == b - j:  # untouched row: one block copy
            out_idx[o:o + b - j] = indices[j:b]
            if has_w:
                out_w[o:o + b - j] = w[j:b]
            if has_t:
                out_t[o:o + b - j] = t[j:b]
            continue
        while True:
            while has_del and j < b and not keep[j]:
                j += 1
            if j < b and (i >= ie or indices[j] <= ins_col[i]):
                out_idx[o] = indices[j]
                if has_w:
                    out_w[o] = w[j]
                if has_t:
                    out_t[o] = t[j]
                j += 1
            elif i < ie:
                out_idx[o] = ins_col[i]
                if has_w:
                    out_w[o] = ins_w[i]
                if has_t:
                    out_t[o] = ins_t[i]
                i += 1
            else:
                break
            o += 1


# =========================================================================== apply: nodes
def _grow_index(idx: IdIndex, new: np.ndarray, ntype: str) -> IdIndex:
    """``idx`` with external ids ``new`` appended as dense ids n, n+1, ..."""
    n, k = idx.n, new.shape[0]
    if idx.kind == "str":
        enc = [s.encode("utf-8") for s in new.astype(str).tolist()]
        lengths = np.fromiter((len(b) for b in enc), dtype=np.int64, count=k)
        old_off = np.asarray(idx.arrays["offsets"])
        offsets = np.concatenate([old_off, old_off[-1] + np.cumsum(lengths)])
        data = np.concatenate([np.asarray(idx.arrays["data"]), np.frombuffer(b"".join(enc), np.uint8)])
        out = IdIndex("str", n + k, {"offsets": offsets, "data": data})
        carry_string_cache(idx, out, new.astype(str))
        return out
    if new.dtype.kind not in "iu":
        raise ValidationError(f"new {ntype} ids {new[:3].tolist()}: node type {ntype!r} has integer ids")
    if idx.kind == "range":
        if np.array_equal(new, np.arange(n, n + k)):
            return IdIndex.range(n + k)
        ext_old, order_old = np.arange(n, dtype=np.int64), np.arange(n, dtype=np.int64)
    else:
        ext_old, order_old = np.asarray(idx.arrays["ids"]), np.asarray(idx.arrays["order"])
    new_order = np.argsort(new, kind="stable")
    pos = np.searchsorted(ext_old[order_old], new[new_order], side="right")
    order = np.insert(order_old, pos, n + new_order)
    return IdIndex("int", n + k, {"ids": np.concatenate([ext_old, new]), "order": order.astype(np.int64)})


def carry_string_cache(old: IdIndex, out: IdIndex, new: np.ndarray | None = None) -> None:
    """Give ``out`` (the ids of ``old`` plus ``new``) the string hash index that ``old`` already built.

    Saves the O(n) Python decode of every string id on the next lookup; a no-op for non-string
    indexes or when ``old`` never built it.
    """
    if old.kind != "str" or out.kind != "str" or old._str_index is None:
        return
    if new is None or new.size == 0:
        out._str_index, out._str_values = old._str_index, old._str_values
        return
    import pandas as pd  # only here: string ids whose hash index was built (keeps CLI start-up light)

    out._str_index = old._str_index.append(pd.Index(new.tolist(), dtype=object))
    if old._str_values is not None:
        out._str_values = np.concatenate([old._str_values, new.astype(object)])


def _pad(old: np.ndarray, rows: np.ndarray | None, k: int, fill: Any, what: str) -> np.ndarray:
    if rows is None:
        rows = np.full((k,) + old.shape[1:], fill, dtype=old.dtype)
    elif rows.shape[1:] != old.shape[1:]:
        raise ValidationError(f"{what}: new rows have shape {rows.shape[1:]} per node, the graph has "
                              f"{old.shape[1:]}")
    return np.concatenate([np.asarray(old), rows.astype(old.dtype, copy=False)])


def _grow_nodes(graph: HeteroGraph, delta: GraphDelta) -> tuple[dict[str, NodeTypeData], dict[str, np.ndarray],
                                                                 dict[str, IdIndex]]:
    """New NodeTypeData of the types that gain nodes, their new dense ids, and an index of their new ids."""
    by_type: dict[str, list[dict[str, Any]]] = {}
    for b in delta.nodes:
        by_type.setdefault(graph.node_type(b["ntype"]), []).append(b)
    nodes = {nt: graph.node_store(nt) for nt in graph.node_types}
    new_ids: dict[str, np.ndarray] = {}
    new_index: dict[str, IdIndex] = {}
    for nt, batches in by_type.items():
        ns = nodes[nt]
        ids = np.concatenate([b["ids"].astype(str) if ns.ids.kind == "str" else b["ids"] for b in batches])
        k = ids.shape[0]
        if ids.dtype.kind not in "iu" and ns.ids.kind != "str":
            raise ValidationError(f"new {nt} ids {ids[:3].tolist()}: node type {nt!r} has integer ids")
        srt = np.sort(ids)
        dup = srt[1:][srt[1:] == srt[:-1]]
        if dup.size:
            raise ValidationError(f"new {nt} id {_show(dup[0])} appears {int((ids == dup[0]).sum())} times "
                                  "in the delta; expected each new node once")
        have = ns.ids.lookup(ids, ntype=nt, missing="-1")
        if (have >= 0).any():
            i = int(np.flatnonzero(have >= 0)[0])
            raise ValidationError(f"new {nt} id {_show(ids[i])} already exists in the graph (dense id {int(have[i])})")
        feats = None
        if ns.features is not None:
            if any(b["features"] is None for b in batches):
                raise ValidationError(f"add_nodes({nt!r}): node type {nt!r} has features of width "
                                      f"{ns.features.shape[1]}; give features for its new nodes")
            feats = _pad(ns.features, np.concatenate([b["features"] for b in batches]), k, 0,
                         f"{nt} features")
        elif any(b["features"] is not None for b in batches):
            raise ValidationError(f"add_nodes({nt!r}) features: node type {nt!r} has no features")
        labels = None
        if ns.labels is not None:
            fill = -1 if ns.labels.ndim == 1 else 0
            parts = [b["labels"] if b["labels"] is not None else
                     np.full((b["ids"].shape[0],) + ns.labels.shape[1:], fill, ns.labels.dtype) for b in batches]
            if any(p.ndim != ns.labels.ndim for p in parts):
                raise ValidationError(f"add_nodes({nt!r}) labels: {parts[0].ndim}-D, the graph's are "
                                      f"{ns.labels.ndim}-D")
            labels = _pad(ns.labels, np.concatenate(parts), k, fill, f"{nt} labels")
        elif any(b["labels"] is not None for b in batches):
            raise ValidationError(f"add_nodes({nt!r}) labels: node type {nt!r} has no labels")
        data = {key: _pad(arr, None, k, 0, f"{nt} data {key!r}") for key, arr in ns.data.items()}
        nodes[nt] = NodeTypeData(nt, _grow_index(ns.ids, ids, nt), feats, labels, data)
        new_ids[nt] = np.arange(ns.count, ns.count + k, dtype=np.int64)
        new_index[nt] = IdIndex.from_values(ids)
    return nodes, new_ids, new_index


def _dense(graph: HeteroGraph, new_index: dict[str, IdIndex], ntype: str, ext: np.ndarray,
           et: EdgeType, role: str) -> np.ndarray:
    """Dense ids of ``ext`` among the old nodes, then the delta's new nodes of ``ntype``."""
    old = graph.node_store(ntype).ids
    out = old.lookup(ext, ntype=ntype, missing="-1")
    miss = out < 0
    if miss.any() and ntype in new_index:
        found = new_index[ntype].lookup(ext[miss], ntype=ntype, missing="-1")
        out[miss] = np.where(found >= 0, found + old.n, -1)
        miss = out < 0
    if miss.any():
        i = int(np.flatnonzero(miss)[0])
        raise UnknownIdError(f"edge type {et}: {role} id {_show(ext[i])} (row {i}) is not a {ntype!r} node of the "
                             f"graph ({int(miss.sum())} unknown in all); declare new nodes with add_nodes "
                             "in the same delta")
    return out


# =========================================================================== apply: edges
def _resolve_etype(graph: HeteroGraph, key: Any) -> EdgeType:
    return graph.edge_type(EdgeType.parse(key) if isinstance(key, str) and ":" in key else key)


def _extend_adj(adj: Adjacency, n_rows: int, n_cols: int) -> Adjacency:
    """``adj`` with empty rows appended up to ``n_rows`` and ``n_cols`` columns (arrays reused)."""
    indptr = adj.indptr
    if n_rows > adj.n_rows:
        indptr = np.concatenate([np.asarray(indptr), np.full(n_rows - adj.n_rows, indptr[-1], np.int64)])
    indices = adj.indices
    if n_cols > INT32_MAX and indices.dtype != np.int64:
        indices = np.asarray(indices, dtype=np.int64)
    return Adjacency(indptr, indices, adj.weight, adj.time, n_cols)


def _merge_side(adj: Adjacency, n_rows: int, n_cols: int, del_r: np.ndarray, del_c: np.ndarray,
                ins_r: np.ndarray, ins_c: np.ndarray, ins_w: np.ndarray | None, ins_t: np.ndarray | None,
                has_w: bool, duplicates: str) -> tuple[Adjacency, np.ndarray]:
    """One direction (CSR or CSC) after deletions then insertions; returns it and per-deletion found flags.

    Rows of the old CSR are merged with the insertions sorted by ``(row, col)`` (a stable sort, so
    parallel copies keep old-then-given order on both sides); deleted entries are skipped.
    """
    has_t = adj.time is not None
    indptr, indices = np.asarray(adj.indptr), np.asarray(adj.indices)
    nnz = indices.shape[0]
    has_del = del_r.size > 0
    keep = np.ones(nnz if has_del else 0, dtype=np.bool_)
    found = np.zeros(0, dtype=np.bool_)
    kept_rows = np.zeros(n_rows, dtype=np.int64)
    if has_del:
        found = _mark_deleted(indptr, indices, del_r, del_c.astype(indices.dtype), keep)
        ck = np.zeros(nnz + 1, dtype=np.int64)
        np.cumsum(keep, out=ck[1:])
        kept_rows[:adj.n_rows] = ck[indptr[1:]] - ck[indptr[:-1]]
    else:
        kept_rows[:adj.n_rows] = np.diff(indptr)
    if n_rows * max(n_cols, 1) < 2 ** 62:  # one stable argsort of a combined key beats lexsort
        order = np.argsort(ins_r.astype(np.int64) * max(n_cols, 1) + ins_c, kind="stable")
    else:
        order = np.lexsort((ins_c, ins_r))
    idx_dtype = np.int32 if n_cols <= INT32_MAX else np.int64
    ins_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(ins_r, minlength=n_rows), out=ins_ptr[1:])
    out_ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(kept_rows + np.diff(ins_ptr), out=out_ptr[1:])
    total = int(out_ptr[-1])
    empty_w, empty_t = np.empty(0, np.float32), np.empty(0, np.int64)
    w_old = (np.asarray(adj.weight) if adj.weight is not None else np.ones(nnz, np.float32)) if has_w else empty_w
    w_ins = (ins_w[order] if ins_w is not None else np.ones(order.size, np.float32)) if has_w else empty_w
    t_ins = ins_t[order] if (has_t and ins_t is not None) else empty_t
    out_idx = np.empty(total, idx_dtype)
    out_w = np.empty(total if has_w else 0, np.float32)
    out_t = np.empty(total if has_t else 0, np.int64)
    _merge_rows(indptr, indices.astype(idx_dtype, copy=False), w_old, np.asarray(adj.time) if has_t else empty_t,
                keep, kept_rows, ins_ptr, ins_c[order].astype(idx_dtype), w_ins, t_ins, out_ptr, out_idx, out_w, out_t,
                has_w, has_t, has_del)
    if duplicates in ("sum", "first"):
        ucount = unique_counts(out_ptr, out_idx)
        new_ptr = np.zeros(n_rows + 1, dtype=np.int64)
        np.cumsum(ucount, out=new_ptr[1:])
        m = int(new_ptr[-1])
        n_idx, n_w, n_t = np.empty(m, idx_dtype), np.empty(m if has_w else 0, np.float32), \
            np.empty(m if has_t else 0, np.int64)
        compact_rows(out_ptr, out_idx, out_w, out_t, new_ptr, n_idx, n_w, n_t, has_w, has_t, duplicates == "sum")
        out_ptr, out_idx, out_w, out_t = new_ptr, n_idx, n_w, n_t
    return Adjacency(out_ptr, out_idx, out_w if has_w else None, out_t if has_t else None, n_cols), found


def _rebuild(e: EdgeTypeData, n_src: int, n_dst: int, del_s: np.ndarray, del_d: np.ndarray,
             ins_s: np.ndarray, ins_d: np.ndarray, ins_w: np.ndarray | None, ins_t: np.ndarray | None,
             duplicates: str) -> tuple[EdgeTypeData, np.ndarray]:
    """New CSR (and CSC) of one edge type after deletions then insertions; returns (data, found flags)."""
    has_w = e.csr.weight is not None or ins_w is not None
    k = del_s.size
    if e.symmetric:  # both directions live in one CSR: delete both, insert each edge and its reverse
        del_s, del_d = np.concatenate([del_s, del_d]), np.concatenate([del_d, del_s])
        if ins_s.size:
            two = np.ones(2 * ins_s.size, dtype=bool)
            two[1::2] = ins_s != ins_d
            ins_s, ins_d = np.stack([ins_s, ins_d], 1).ravel()[two], np.stack([ins_d, ins_s], 1).ravel()[two]
            ins_w = None if ins_w is None else np.repeat(ins_w, 2)[two]
            ins_t = None if ins_t is None else np.repeat(ins_t, 2)[two]
    csr, found = _merge_side(e.csr, n_src, n_dst, del_s, del_d, ins_s, ins_d, ins_w, ins_t, has_w, duplicates)
    csc = None
    if not e.symmetric:
        csc, _ = _merge_side(e.csc, n_dst, n_src, del_d, del_s, ins_d, ins_s, ins_w, ins_t, has_w, duplicates)
    return EdgeTypeData(e.etype, csr, csc, undirected=e.undirected), found[:k]
