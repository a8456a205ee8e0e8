""":class:`RayEngine`: the :class:`~vastgraph.sampling.engine.SamplingEngine` of a
:class:`~vastgraph.distributed.graph.DistributedGraph`.

Every seeded operation routes each item (walk, row, anchor, edge draw) to the shard that owns
the node it depends on, and the shard draws it from the same counter-based stream the local engine
uses for that item, so results equal the local engine's bit for bit:

* walks: :mod:`vastgraph.distributed.walks` (batched walker hand-off between shards);
* one-hop samples and fanout blocks: row ``i`` from ``stream(seed, i)`` on the owner of row ``i``
  (one request per shard and hop); the driver relabels like the local engine;
* negatives: candidates from the global (degree) distribution, exclusion checked by the anchor's
  owner; edge samples: positions drawn by the driver, endpoints fetched from their row's owner.

Example:
    >>> import tempfile, numpy as np
    >>> from vastgraph.graph import GraphBuilder
    >>> from vastgraph.sampling.engine import engine_for
    >>> from vastgraph.sampling.neighbors import sample_neighbors
    >>> from vastgraph.distributed import partition_graph, open_distributed
    >>> b = GraphBuilder(directed=True, id_mode="dense")
    >>> _ = b.add_edges([0, 0, 0, 1, 2, 3], [1, 2, 3, 2, 3, 0])
    >>> g = b.build()
    >>> out = tempfile.mkdtemp() + "/p"
    >>> _ = partition_graph(g, out, parts=2, method="hash")
    >>> dg = open_distributed(out, address="local", num_cpus=1)
    >>> type(engine_for(dg)).__name__
    'RayEngine'
    >>> a = sample_neighbors(dg, [0, 1, 3], 2, random_state=5)
    >>> b = sample_neighbors(g, [0, 1, 3], 2, random_state=5)
    >>> bool((a.edge_pos == b.edge_pos).all() and (a.indptr == b.indptr).all())
    True
    >>> dg.close()
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Callable, Sequence

import numpy as np

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.sampling.engine import EdgeSample, HopResult, WalkResult, WalkSpec
from vastgraph.seeding import seed_from

__all__ = ["RayEngine"]

_EMPTY_F32, _EMPTY_I32 = np.zeros(0, np.float32), np.zeros(0, np.int32)


class RayEngine:
    """Sampling over Ray shard actors; equal to the local engine for every seeded call.

    Args:
        graph: the :class:`~vastgraph.distributed.graph.DistributedGraph` (held weakly).
    """

    def __init__(self, graph: Any) -> None:
        self._ref = weakref.ref(graph)
        self._cache: dict[Any, Any] = {}
        self._lock = threading.Lock()
        self.walk_stats: Any = None

    def __repr__(self) -> str:
        g = self._ref()
        return f"RayEngine({'<collected graph>' if g is None else repr(g)})"

    @property
    def graph(self) -> Any:
        g = self._ref()
        if g is None:
            raise ValidationError("this RayEngine's graph was garbage-collected; keep the DistributedGraph "
                                  "while sampling from it")
        return g

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        try:
            return self._cache[key]
        except KeyError:
            pass
        value = build()
        with self._lock:
            return self._cache.setdefault(key, value)

    def simple_symmetric(self, et: EdgeType) -> bool:
        return bool(self.graph.edge_meta(et)["simple_symmetric"])

    # ------------------------------------------------------------------ walks
    def walks(self, spec: WalkSpec, start: Any = None, *, random_state: Any = None,
              progress: Callable[[int, int], None] | None = None) -> WalkResult:
        from vastgraph.distributed.walks import run_walks

        if not isinstance(spec, WalkSpec):
            raise ValidationError(f"spec={spec!r}: expected a WalkSpec")
        return run_walks(self, spec, start, seed_from(random_state), progress)

    def anonymous_walks(self, spec: WalkSpec, start: Any = None, *, random_state: Any = None) -> np.ndarray:
        from vastgraph.sampling.anonymous import anonymize

        return anonymize(self.walks(spec, start, random_state=random_state).nodes)

    # ------------------------------------------------------------------ rows
    def _check_weight_method(self, et: EdgeType, code: int) -> None:
        from vastgraph.sampling.local.neighbor_kernels import TOPK, WEIGHTED

        if code in (WEIGHTED, TOPK):
            wmin = self.graph.edge_meta(et)["weight_min"]
            if wmin is not None and wmin < 0:
                raise ValidationError(f"edge type {et} has negative edge weights; weighted sampling needs "
                                      "weights >= 0")

    def row_samples(self, et: EdgeType, reverse: bool, rows: np.ndarray, k: int, replace: bool, code: int,
                    filt: tuple, seed: Any) -> tuple:
        """The local one-hop kernel over ``rows``, each row on its owner: ``(indptr, global
        positions, neighbours, weights, times)``."""
        import ray

        g = self.graph
        self._check_weight_method(et, code)
        j = g.etype_index(et)
        rows = np.asarray(rows, dtype=np.int64)
        parts = g.route(et.dst if reverse else et.src, rows)
        rows_ref = ray.put(rows)
        res = ray.get([g.shards[s].row_samples.remote(j, bool(reverse), rows_ref, int(k), bool(replace), int(code),
                                                      tuple(filt), np.uint64(seed)) for s, _ in parts])
        counts = np.zeros(rows.size, dtype=np.int64)
        for mine, cnt, *_ in res:
            counts[mine] = cnt
        ptr = np.zeros(rows.size + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        m = int(ptr[-1])
        pos = np.empty(m, np.int64)
        nbr = np.empty(m, g.index_dtype(et, reverse))
        w = np.empty(m, np.float32) if g.has_weights(et) else None
        t = np.empty(m, np.int64) if g.has_times(et) else None
        from vastgraph.distributed.shard import _ranges

        for mine, cnt, gpos, nb, ww, tt in res:
            dest = _ranges(ptr[mine], cnt)
            pos[dest] = gpos
            nbr[dest] = nb
            if w is not None:
                w[dest] = ww
            if t is not None:
                t[dest] = tt
        return ptr, pos, nbr, w, t

    def sample_neighbors(self, nodes: Any, k: int, *, etype: Any = None, reverse: bool = False,
                         replace: bool = False, weighted: bool = False, method: str = "uniform",
                         time_window: tuple[int, int] | None = None, before: int | None = None,
                         random_state: Any = None) -> Any:
        from vastgraph.sampling.neighbors import SampledNeighbors, check_neighbors

        reverse = bool(reverse)
        et, rows, k, code, filt = check_neighbors(self.graph, nodes, k, etype, reverse, replace, weighted, method,
                                                  time_window, before)
        ptr, pos, nbr, w, t = self.row_samples(et, reverse, rows, k, bool(replace), code, filt,
                                               seed_from(random_state))
        return SampledNeighbors(rows, ptr, nbr, pos, w, t, et, reverse)

    def prepare_fanout(self, plan: Any) -> list:
        for et in plan.etypes:
            self._check_weight_method(et, plan.code)
        return [(et, filt) for et, filt in zip(plan.etypes, plan.filters)]

    def sample_blocks(self, plan: Any, seeds: dict[str, np.ndarray], seed: Any) -> Any:
        from vastgraph.distributed.blocks import sample_blocks

        return sample_blocks(self, plan, seeds, seed)

    def acquire_map(self, ntype: str) -> np.ndarray:
        pool = self._cache.setdefault(("fanout_map_pool", ntype), [])
        try:
            return pool.pop()
        except IndexError:
            return np.full(self.graph.num_nodes(ntype), -1, dtype=np.int32)

    def release_map(self, ntype: str, mapping: np.ndarray, used: np.ndarray) -> None:
        mapping[used] = -1
        self._cache.setdefault(("fanout_map_pool", ntype), []).append(mapping)

    # ------------------------------------------------------------------ draws
    def node_degrees(self, ntype: str, etypes: Sequence[EdgeType] | None = None) -> np.ndarray:
        g = self.graph
        ets = tuple(g.edge_types if etypes is None else (g.edge_type(e) for e in etypes))

        def build() -> np.ndarray:
            deg = np.zeros(g.num_nodes(ntype), dtype=np.int64)
            for et in ets:
                if et.src == ntype:
                    deg += g.out_degree(et)
                if et.dst == ntype and not g.edge_meta(et)["symmetric"]:
                    deg += g.in_degree(et)
            return deg
        return self.cached(("node_degrees", ntype, ets), build)

    def _tables(self, ntype: str, etypes: list, distribution: str, power: float) -> tuple:
        from vastgraph.sampling.local.alias import build_alias

        if distribution == "uniform":
            return False, _EMPTY_F32, _EMPTY_I32, _EMPTY_F32

        def build() -> Any:
            deg = self.node_degrees(ntype, etypes).astype(np.float64)
            w = np.where(deg > 0, deg ** power, 0.0).astype(np.float32)
            prob, alias = build_alias(np.array([0, w.size], dtype=np.int64), w)
            return True, prob, alias, w
        return self.cached(("negative_degree_alias", ntype, tuple(etypes), power), build)

    def _draw(self, ntype: str, n: int, tables: tuple, anchors: np.ndarray | None, et: EdgeType | None,
              reverse: bool, max_retries: int, seed: np.uint64, stream_ids: np.ndarray) -> np.ndarray:
        import ray

        from vastgraph.sampling.local.negative_kernels import draw_negatives

        g = self.graph
        n_cand = g.num_nodes(ntype)
        out = np.empty(n, dtype=np.int64)
        if n == 0:
            return out
        if n_cand == 0:
            raise ValidationError(f"node type {ntype!r} has no nodes to draw negatives from")
        use_alias, prob, alias, w = tables
        if anchors is None:
            draw_negatives(np.int64(n_cand), use_alias, prob, alias, w, np.zeros(0, np.int64), np.zeros(1, np.int64),
                           np.zeros(0, np.int32), False, max_retries, seed, stream_ids, out)
            return out
        tables_ref = ray.put(tables)
        parts = g.route(et.dst if reverse else et.src, anchors)
        res = ray.get([g.shards[k].negatives.remote(g.etype_index(et), bool(reverse), n_cand, tables_ref,
                                                    anchors[idx], stream_ids[idx], max_retries, seed)
                       for k, idx in parts])
        for (_, idx), r in zip(parts, res):
            out[idx] = r
        return out

    def sample_negatives(self, n: int | None = None, *, ntype: str | None = None, etype: Any = None,
                         distribution: str = "uniform", power: float = 0.75, exclude_neighbors_of: Any = None,
                         max_retries: int = 16, random_state: Any = None) -> np.ndarray:
        from vastgraph.sampling.negative import check_negatives

        n, ntype, et, anchors, etypes, power, max_retries = check_negatives(
            self.graph, n, ntype, etype, distribution, power, exclude_neighbors_of, max_retries)
        tables = self._tables(ntype, etypes, distribution, power)
        return self._draw(ntype, n, tables, anchors, et, False, max_retries, seed_from(random_state),
                          np.arange(n, dtype=np.int64))

    def corrupt_edges(self, src: Any, dst: Any, *, etype: Any = None, num_negatives: int = 1,
                      mode: str = "tail", filtered: bool = True, distribution: str = "uniform",
                      power: float = 0.75, max_retries: int = 16,
                      random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        from vastgraph.sampling.local.negative_kernels import coins
        from vastgraph.sampling.negative import check_corrupt
        from vastgraph.seeding import derive_seed

        et, s, d, q, power, max_retries = check_corrupt(self.graph, src, dst, etype, num_negatives, mode,
                                                        distribution, power, max_retries)
        neg_src, neg_dst = np.repeat(s, q), np.repeat(d, q)
        total = neg_src.size
        seed = seed_from(random_state)
        if mode == "tail":
            tail = np.ones(total, dtype=bool)
        elif mode == "head":
            tail = np.zeros(total, dtype=bool)
        else:
            tail = coins(derive_seed(seed, 0xC0), np.int64(total))
        ids = np.arange(total, dtype=np.int64)
        for is_tail in (True, False):
            sel = ids[tail] if is_tail else ids[~tail]
            if sel.size == 0:
                continue
            ntype = et.dst if is_tail else et.src
            tables = self._tables(ntype, [et], distribution, power)
            anchors = (neg_src if is_tail else neg_dst)[sel] if filtered else None
            draws = self._draw(ntype, sel.size, tables, anchors, et, not is_tail, max_retries, seed, sel)
            if is_tail:
                neg_dst[sel] = draws
            else:
                neg_src[sel] = draws
        return neg_src, neg_dst

    def _edge_alias(self, et: EdgeType) -> tuple[np.ndarray, np.ndarray]:
        """One alias table over all entries by weight (built once from the gathered weights)."""
        from vastgraph.sampling.local.alias import build_alias

        def build() -> Any:
            wmin = self.graph.edge_meta(et)["weight_min"]
            if wmin is not None and wmin < 0:
                raise ValidationError(f"edge type {et} has negative edge weights; weighted edge sampling "
                                      "needs weights >= 0")
            w = self.graph.coo(et).weight
            return build_alias(np.array([0, w.size], dtype=np.int64), w)
        return self.cached(("edge_alias", et), build)

    def sample_edges(self, n: int, *, etype: Any = None, weighted: bool | None = None,
                     random_state: Any = None) -> EdgeSample:
        from vastgraph.distributed.draws import draw_positions

        g = self.graph
        et = g.edge_type(etype)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValidationError(f"n={n!r}: expected an int >= 0")
        if weighted not in (None, True, False):
            raise ValidationError(f"weighted={weighted!r}: expected None, True or False")
        if weighted and not g.has_weights(et):
            raise ValidationError(f"weighted=True but edge type {str(et)!r} has no weights")
        use_w = g.has_weights(et) if weighted is None else bool(weighted)
        n = int(n)
        if n == 0:
            z = np.empty(0, np.int64)
            return EdgeSample(z, z.copy(), z.copy(), et)
        nnz = g.num_edges(et)
        if nnz == 0:
            raise EmptyInputError(f"edge type {et} has no edges to sample")
        prob, alias = self._edge_alias(et) if use_w else (_EMPTY_F32, _EMPTY_I32)
        pos = draw_positions(np.int64(nnz), use_w, prob, alias, seed_from(random_state), np.int64(n))
        starts = g.row_starts(et)
        src = np.searchsorted(starts, pos, side="right") - 1
        dst = self._entries(et, False, src, pos - starts[src])[0]
        return EdgeSample(src.astype(np.int64), dst.astype(np.int64), pos, et)

    def _entries(self, et: EdgeType, reverse: bool, rows: np.ndarray, offsets: np.ndarray) -> tuple:
        import ray

        g = self.graph
        m = rows.size
        nbr = np.empty(m, np.int64)
        w = np.empty(m, np.float32) if g.has_weights(et) else None
        t = np.empty(m, np.int64) if g.has_times(et) else None
        parts = g.route(et.dst if reverse else et.src, rows)
        res = ray.get([g.shards[k].entries.remote(g.etype_index(et), bool(reverse), rows[idx], offsets[idx])
                       for k, idx in parts])
        for (_, idx), (nb, ww, tt) in zip(parts, res):
            nbr[idx] = nb
            if w is not None:
                w[idx] = ww
            if t is not None:
                t[idx] = tt
        return nbr, w, t

    def edge_attributes(self, etype: Any, positions: Any, *,
                        reverse: bool = False) -> tuple[np.ndarray | None, np.ndarray | None]:
        g = self.graph
        et = g.edge_type(etype)
        pos = np.asarray(positions, dtype=np.int64)
        nnz = g.num_edges(et)
        if pos.size and (pos.min() < 0 or pos.max() >= nnz):
            raise ValidationError(f"positions: values outside [0, {nnz}) for edge type {etype}")
        if not (g.has_weights(et) or g.has_times(et)):
            return None, None
        starts = g.row_starts(et, bool(reverse))
        rows = np.searchsorted(starts, pos, side="right") - 1
        _, w, t = self._entries(et, bool(reverse), rows, pos - starts[rows])
        return w, t

    def hop(self, etype: Any, nodes: np.ndarray, direction: str, *, k: int | None = None,
            by: str = "uniform", replace: bool = False, seed: Any = 0) -> HopResult:
        from vastgraph.sampling.local.neighbor_kernels import FULL
        from vastgraph.sampling.neighbors import resolve_method

        g = self.graph
        et = g.edge_type(etype)
        if direction not in ("out", "in", "both"):
            raise ValidationError(f"direction={direction!r}: expected one of out, in, both")
        if by not in ("uniform", "weight", "topk", "latest"):
            raise ValidationError(f"by={by!r}: expected one of uniform, weight, topk, latest")
        if direction == "both" or (k is not None and by == "latest"):
            raise ValidationError(f"hop direction={direction!r} by={by!r}: merged out+in rows and by('latest') "
                                  "are not implemented on the Ray engine yet; use direction 'out' or 'in' with "
                                  "by uniform/weight/topk, or the local store")
        nodes = g.check_nodes(et.src if direction == "out" else et.dst, nodes)
        reverse = direction == "in" and not (et.src == et.dst and g.is_undirected(et))
        if k is None:
            code, kk = FULL, -1
        else:
            if by in ("weight", "topk") and not g.has_weights(et):
                raise ValidationError(f"hop along {et}: edge type {et} has no weights to sample by; "
                                      "use by('uniform')")
            code = resolve_method({"uniform": "uniform", "weight": "weighted", "topk": "topk"}[by], False,
                                  bool(replace))
            kk = int(k)
        ptr, pos, nbr, w, t = self.row_samples(et, reverse, nodes, kk, bool(replace), code, (False, 0, 0),
                                               np.uint64(seed))
        parent = np.repeat(np.arange(nodes.shape[0], dtype=np.int64), np.diff(ptr))
        return HopResult(parent, nbr.astype(np.int64), w, t)
