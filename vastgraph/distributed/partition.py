"""Partition a graph into shard folders: METIS, LDG (streaming) or hash ownership of nodes.

A partition folder ``OUT`` holds:

* ``manifest.json``: the schema (node and edge types, counts, weights/times, undirected flags),
  the source store's version, the method and the quality figures (edge cut, balance, halo);
* ``owner.npy``: the shard of every node, over global ids (``node_offsets()[ntype] + dense``);
* ``ids/``: the global external-id map of every node type (the store's ``IdIndex`` arrays);
* ``degrees/``: global out- and in-degrees of every edge type (so positions map back);
* ``shard-K/``: a normal store (``GraphBuilder`` + save) that keeps GLOBAL dense ids, with every
  edge incident to an owned node (so an owned node's out-row and in-column are complete and in
  the same order as in the source) plus the node2vec membership cache (see below);
  ``owned.npy`` (the owned global ids, sorted) and ``attrs/`` (features, labels and node data of
  the owned nodes, in owned order).

node2vec's second-order test "is x a neighbour of t?" is asked where the walker is, at the owner
of the current node ``v``, about the previous node ``t`` that may live on another shard. It is
answered locally from a **halo membership cache**: each shard also stores the edges ``t → y``
between two non-owned nodes that close a triangle ``t → v → y`` through an owned ``v`` (the only
pairs the test can ask about). The manifest reports their number beside the shard's own edges.

Example:
    >>> import tempfile, numpy as np
    >>> from vastgraph.graph import GraphBuilder
    >>> b = GraphBuilder(directed=False, id_mode="dense")
    >>> _ = b.add_edges(np.arange(9), np.arange(1, 10))
    >>> out = tempfile.mkdtemp()
    >>> m = partition_graph(b.build(), out + "/p", parts=2, method="ldg")
    >>> m["parts"], m["stats"]["edge_cut"], sorted(m["stats"]["nodes_per_shard"])
    (2, 2, [5, 5])
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import numba as nb
import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.view import GraphView
from vastgraph.validation import check_int

__all__ = ["METHODS", "partition_graph", "assign_owners", "read_manifest", "FORMAT"]

METHODS = ("metis", "ldg", "hash")
FORMAT = "vastgraph-partition/1"


# ----------------------------------------------------------------------------- global structure
def _global_edges(graph: GraphView) -> tuple[np.ndarray, np.ndarray]:
    """All edges of all edge types as global ids (one direction per stored entry)."""
    offs = graph.node_offsets()
    srcs, dsts = [], []
    for et in graph.edge_types:
        for ch in graph.iter_edges(et):
            srcs.append(ch.src + offs[et.src])
            dsts.append(ch.dst + offs[et.dst])
    if not srcs:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(srcs), np.concatenate(dsts)


def _undirected_csr(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric, simple (no self-loops, no duplicates) CSR of the edges, int64 ``(indptr, indices)``."""
    import scipy.sparse as sp

    keep = src != dst
    r = np.concatenate([src[keep], dst[keep]])
    c = np.concatenate([dst[keep], src[keep]])
    m = sp.csr_matrix((np.ones(r.size, np.int8), (r, c)), shape=(n, n))
    m.sum_duplicates()
    m.sort_indices()
    return m.indptr.astype(np.int64), m.indices.astype(np.int64)


@nb.njit(nogil=True, cache=True)
def _ldg(indptr, indices, k, capacity):  # pragma: no cover - numba
    """Linear deterministic greedy (Stanton & Kliot, KDD 2012) in id order: node v goes to the
    shard maximising |N(v) ∩ P_i| · (1 − |P_i| / capacity), ties to the smallest shard."""
    n = indptr.shape[0] - 1
    owner = np.full(n, -1, dtype=np.int32)
    sizes = np.zeros(k, dtype=np.int64)
    counts = np.zeros(k, dtype=np.int64)
    for v in range(n):
        counts[:] = 0
        for e in range(indptr[v], indptr[v + 1]):
            o = owner[indices[e]]
            if o >= 0:
                counts[o] += 1
        best = 0
        best_score = -1.0
        for i in range(k):
            if sizes[i] >= capacity:
                continue
            score = counts[i] * (1.0 - sizes[i] / capacity)
            if score > best_score or (score == best_score and sizes[i] < sizes[best]):
                best = i
                best_score = score
        owner[v] = best
        sizes[best] += 1
    return owner


def _hash_owner(n: int, k: int) -> np.ndarray:
    g = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = (g * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(33)
    return (h % np.uint64(k)).astype(np.int32)


def assign_owners(n: int, src: np.ndarray, dst: np.ndarray, parts: int, method: str,
                  seed: int = 0) -> np.ndarray:
    """The shard (int32) of each of ``n`` global nodes given the global edge list."""
    if method == "hash" or parts == 1:
        return _hash_owner(n, parts) if parts > 1 else np.zeros(n, np.int32)
    indptr, indices = _undirected_csr(n, src, dst)
    if method == "ldg":
        return _ldg(indptr, indices, parts, float(-(-n // parts)))
    try:
        import pymetis
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ValidationError("method='metis' needs pymetis (pip install 'vastgraph[distributed]'); "
                              "use method='ldg' for a streaming partitioner") from exc
    opts = pymetis.Options()
    try:
        opts.seed = int(seed)
    except Exception:  # pragma: no cover - older pymetis
        pass
    if hasattr(pymetis, "CSRAdjacency"):
        _, member = pymetis.part_graph(parts, adjacency=pymetis.CSRAdjacency(indptr, indices), options=opts)
    else:  # pragma: no cover - pymetis < 2025.2
        _, member = pymetis.part_graph(parts, xadj=indptr, adjncy=indices, options=opts)
    return np.asarray(member, dtype=np.int32)


@nb.njit(nogil=True, cache=True)
def _halo_mask(indptr, indices, owner, me, off):  # pragma: no cover - numba
    """Entries ``t → y`` (both not owned by ``me``) closing a triangle ``t → v → y`` through an
    owned ``v``: what node2vec's membership test may ask about a previous node ``t`` held elsewhere."""
    n = indptr.shape[0] - 1
    stamp = np.zeros(n, dtype=np.int64)
    mask = np.zeros(indices.shape[0], dtype=np.bool_)
    for t in range(n):
        if owner[off + t] == me:
            continue
        marked = False
        for e in range(indptr[t], indptr[t + 1]):
            v = indices[e]
            if owner[off + v] == me:
                marked = True
                for f in range(indptr[v], indptr[v + 1]):
                    stamp[indices[f]] = t + 1
        if not marked:
            continue
        for e in range(indptr[t], indptr[t + 1]):
            y = indices[e]
            if owner[off + y] != me and stamp[y] == t + 1:
                mask[e] = True
    return mask


# ----------------------------------------------------------------------------- writing
def _save_ids(graph: GraphView, out: str) -> list[dict[str, Any]]:
    types = []
    for nt in graph.node_types:
        idx = graph.id_index(nt)
        folder = os.path.join(out, "ids", nt)
        os.makedirs(folder, exist_ok=True)
        for name, arr in idx.arrays.items():
            np.save(os.path.join(folder, f"{name}.npy"), np.asarray(arr))
        lab = graph.labels(nt)
        types.append({"name": nt, "count": graph.num_nodes(nt), "id_kind": idx.kind,
                      "id_arrays": sorted(idx.arrays), "features": graph.features(nt) is not None,
                      "labels": lab is not None, "multilabel": graph.is_multilabel(nt),
                      "num_classes": graph.num_classes(nt), "data": graph.node_data_names(nt)})
    return types


def _simple_symmetric(graph: GraphView, et: Any) -> bool:
    """Whether node2vec may take the return edge's weight from the walk (see the local engine)."""
    from vastgraph.sampling.engine import engine_for

    eng = engine_for(graph)
    fn = getattr(eng, "simple_symmetric", None)
    return bool(fn(et)) if fn is not None else False


def _weight_min(graph: GraphView, et: Any) -> float | None:
    if not graph.has_weights(et):
        return None
    return min((float(ch.weight.min()) for ch in graph.iter_edges(et) if ch.weight.size), default=None)


def _time_range(graph: GraphView, et: Any) -> list[int] | None:
    if not graph.has_times(et):
        return None
    lo = [int(ch.time.min()) for ch in graph.iter_edges(et) if ch.time.size]
    hi = [int(ch.time.max()) for ch in graph.iter_edges(et) if ch.time.size]
    return [min(lo), max(hi)] if lo else None


def _edge_meta(graph: GraphView) -> list[dict[str, Any]]:
    out = []
    for et in graph.edge_types:
        symmetric = et.src == et.dst and graph.is_undirected(et)
        out.append({"name": str(et), "src": et.src, "rel": et.rel, "dst": et.dst,
                    "undirected": graph.is_undirected(et), "symmetric": symmetric,
                    "weighted": graph.has_weights(et), "timed": graph.has_times(et),
                    "entries": graph.num_edges(et), "simple_symmetric": _simple_symmetric(graph, et),
                    "weight_min": _weight_min(graph, et), "time_range": _time_range(graph, et)})
    return out


def _write_shard(graph: GraphView, folder: str, k: int, owner: np.ndarray,
                 emeta: list[dict[str, Any]]) -> dict[str, int]:
    """Build shard ``k``'s store (global dense ids) and its owned nodes' attributes."""
    from vastgraph.graph import GraphBuilder

    offs = graph.node_offsets()
    b = GraphBuilder(directed=True, id_mode="dense", duplicates="keep", self_loops="keep")
    for nt in graph.node_types:
        b.add_nodes(nt, count=graph.num_nodes(nt))
    own_entries = halo_entries = 0
    for et, em in zip(graph.edge_types, emeta):
        e = graph.coo(et)
        so, do = offs[et.src], offs[et.dst]
        incident = (owner[e.src + so] == k) | (owner[e.dst + do] == k)
        halo = np.zeros(e.src.size, dtype=bool)
        if et.src == et.dst and e.src.size:
            indptr = np.zeros(graph.num_nodes(et.src) + 1, dtype=np.int64)
            np.cumsum(graph.out_degree(et), out=indptr[1:])
            halo = _halo_mask(indptr, e.dst, owner, np.int32(k), np.int64(so))
        if em["symmetric"]:
            # each undirected edge once (the builder stores both directions), in storage order
            lo, hi = np.minimum(e.src, e.dst), np.maximum(e.src, e.dst)
            n_nodes = max(graph.num_nodes(et.src), 1)
            key = lo * n_nodes + hi
            halo_keys = np.unique(key[halo])
            halo = np.isin(key, halo_keys) & ~incident
            sel = (incident | halo) & (e.src <= e.dst)
            own_entries += int((incident & (e.src <= e.dst)).sum())
            halo_entries += int((halo & (e.src <= e.dst)).sum())
        else:
            halo &= ~incident
            sel = incident | halo
            own_entries += int(incident.sum())
            halo_entries += int(halo.sum())
        b.add_edge_type((et.src, et.rel, et.dst), directed=not em["undirected"])
        b.add_edges(e.src[sel], e.dst[sel], etype=(et.src, et.rel, et.dst),
                    weight=None if e.weight is None else e.weight[sel],
                    time=None if e.time is None else e.time[sel], directed=not em["undirected"])
    b.build(os.path.join(folder, "store"))
    owned = np.flatnonzero(owner == k).astype(np.int64)
    np.save(os.path.join(folder, "owned.npy"), owned)
    attrs = os.path.join(folder, "attrs")
    os.makedirs(attrs, exist_ok=True)
    for nt in graph.node_types:
        lo, n = offs[nt], graph.num_nodes(nt)
        dense = owned[(owned >= lo) & (owned < lo + n)] - lo
        f = graph.features(nt)
        if f is not None:
            np.save(os.path.join(attrs, f"{nt}.features.npy"), np.asarray(f[dense]))
        lab = graph.labels(nt)
        if lab is not None:
            np.save(os.path.join(attrs, f"{nt}.labels.npy"), np.asarray(lab[dense]))
        for name in graph.node_data_names(nt):
            np.save(os.path.join(attrs, f"{nt}.data.{name}.npy"), np.asarray(graph.node_data(nt, name)[dense]))
    return {"entries": own_entries, "halo_entries": halo_entries, "nodes": int(owned.size)}


def partition_graph(graph: GraphView, out: str | os.PathLike, *, parts: int, method: str = "metis",
                    overwrite: bool = False, seed: int = 0) -> dict[str, Any]:
    """Partition ``graph`` into ``parts`` shard folders under ``out``; returns the manifest.

    Args:
        graph: any GraphView (typically a local store).
        out: the partition folder (must not exist unless ``overwrite``).
        parts: number of shards (>= 1).
        method: ``"metis"`` (pymetis, multilevel), ``"ldg"`` (streaming linear deterministic
            greedy) or ``"hash"`` (the baseline).
        seed: METIS's seed (the others are deterministic).
    """
    parts = check_int("parts", parts, 1)
    if method not in METHODS:
        raise ValidationError(f"method={method!r}: expected one of {', '.join(METHODS)}")
    out = os.fspath(out)
    if os.path.exists(out):
        if not overwrite:
            raise ValidationError(f"{out}: exists; pass overwrite=True (--overwrite) to replace it")
        shutil.rmtree(out)
    tmp = out + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    try:
        n = graph.num_nodes_total()
        src, dst = _global_edges(graph)
        owner = assign_owners(n, src, dst, parts, method, seed)
        np.save(os.path.join(tmp, "owner.npy"), owner)
        os.makedirs(os.path.join(tmp, "degrees"))
        for j, et in enumerate(graph.edge_types):
            np.save(os.path.join(tmp, "degrees", f"e{j}.out.npy"), graph.out_degree(et).astype(np.int64))
            np.save(os.path.join(tmp, "degrees", f"e{j}.in.npy"), graph.in_degree(et).astype(np.int64))
        ntypes = _save_ids(graph, tmp)
        emeta = _edge_meta(graph)
        shards = [_write_shard(graph, os.path.join(tmp, f"shard-{k}"), k, owner, emeta) for k in range(parts)]
        cut = int((owner[src] != owner[dst]).sum()) if src.size else 0
        sizes = np.bincount(owner, minlength=parts)
        entries = np.array([s["entries"] for s in shards], dtype=np.float64)
        halo_nodes = _halo_nodes(owner, src, dst, parts)
        stats = {"edge_cut": cut, "edge_cut_fraction": cut / max(src.size, 1), "edges": int(src.size),
                 "nodes_per_shard": sizes.tolist(),
                 "balance_nodes": float(sizes.max() / max(sizes.mean(), 1e-12)),
                 "balance_edges": float(entries.max() / max(entries.mean(), 1e-12)),
                 "halo_nodes": halo_nodes, "halo_nodes_total": int(sum(halo_nodes)),
                 "entries_per_shard": [s["entries"] for s in shards],
                 "membership_cache_entries": [s["halo_entries"] for s in shards]}
        manifest = {"format": FORMAT, "parts": parts, "method": method, "seed": int(seed),
                    "source_version": graph.version, "node_types": ntypes, "edge_types": emeta,
                    "stats": stats}
        with open(os.path.join(tmp, "manifest.json"), "w") as fh:
            json.dump(manifest, fh, indent=1)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _halo_nodes(owner: np.ndarray, src: np.ndarray, dst: np.ndarray, parts: int) -> list[int]:
    """Per shard: distinct non-owned nodes adjacent (either direction) to an owned node."""
    out = []
    cut = owner[src] != owner[dst]
    s, d = src[cut], dst[cut]
    for k in range(parts):
        a = d[owner[s] == k]
        b = s[owner[d] == k]
        out.append(int(np.unique(np.concatenate([a, b])).size))
    return out


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a partition folder (raises naming the file when it is not one)."""
    f = os.path.join(os.fspath(path), "manifest.json")
    try:
        with open(f) as fh:
            m = json.load(fh)
    except FileNotFoundError:
        raise ValidationError(f"{path}: not a partition folder (no manifest.json); create one with "
                              "`vastgraph partition STORE OUT --parts N`") from None
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{f}: not valid JSON ({exc})") from None
    if m.get("format") != FORMAT:
        raise ValidationError(f"{f}: format {m.get('format')!r}, expected {FORMAT!r}")
    return m
