""":class:`LocalEngine`: the :class:`~vastgraph.sampling.engine.SamplingEngine` of the local CSR store.

It wraps the numba kernels of this package and owns every structure derived from the store's
arrays, built lazily once per graph instance and kept for the engine's (= the graph's) lifetime:
per-row alias tables, row weight sums, node2vec's edge Bloom filter and symmetry test, time-sorted
rows, degree and edge alias tables, merged out+in rows, and pooled relabelling maps. A new store
version is a new graph instance, hence a new engine: caches are never stale.

The engine holds its graph weakly (so the per-graph registry of
:func:`~vastgraph.sampling.engine.engine_for` does not keep graphs alive); keep the graph while
using the engine.

Example:
    >>> from vastgraph.graph import GraphBuilder
    >>> b = GraphBuilder(directed=True, id_mode="dense")
    >>> _ = b.add_edges([0, 0, 1, 2], [1, 2, 2, 0], weight=[1.0, 3.0, 1.0, 1.0])
    >>> g = b.build()
    >>> eng = LocalEngine(g)
    >>> eng.alias_tables(g.edge_type(), False)[0].shape
    (4,)
    >>> eng.sample_neighbors([0], 1, method="topk").indices.tolist()
    [2]
    >>> eng.node_degrees("node").tolist()
    [3, 2, 3]
"""

from __future__ import annotations

import math
import threading
import weakref
from typing import Any, Callable, Sequence

import numba
import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.view import GraphView
from vastgraph.sampling.engine import EdgeSample, HopResult, WalkResult, WalkSpec
from vastgraph.sampling.local.alias import build_alias
from vastgraph.seeding import seed_from

_EMPTY_F32, _EMPTY_I32 = np.zeros(0, np.float32), np.zeros(0, np.int32)


class LocalEngine:
    """Sampling over a :class:`~vastgraph.graph.store.GraphStore`'s CSR/CSC arrays (numba kernels).

    Args:
        graph: the local store (anything with ``adjacency(etype, reverse)``).
    """

    def __init__(self, graph: GraphView) -> None:
        self._ref = weakref.ref(graph)
        self._cache: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple:
        # pickles as "the engine of this graph": caches are rebuilt where it is unpickled
        from vastgraph.sampling.engine import engine_for

        return engine_for, (self.graph,)

    def __repr__(self) -> str:
        g = self._ref()
        return f"LocalEngine({'<collected graph>' if g is None else type(g).__name__ + ' ' + g.version})"

    # ------------------------------------------------------------------ graph and caches
    @property
    def graph(self) -> GraphView:
        g = self._ref()
        if g is None:
            raise ValidationError("this LocalEngine's graph was garbage-collected; keep a reference to the "
                                  "graph while sampling from it (engine_for(graph) per graph)")
        return g

    def adjacency(self, et: EdgeType, reverse: bool = False) -> Any:
        """The store's CSR of ``et`` (``reverse``: the CSC; the CSR itself when symmetric)."""
        return self.graph.adjacency(et, reverse=reverse)

    def symmetric(self, et: EdgeType) -> bool:
        """Whether one array serves both directions of ``et`` (an undirected type within one node type)."""
        return self.adjacency(et, True) is self.adjacency(et, False)

    def cached(self, key: Any, build: Callable[[], Any]) -> Any:
        try:
            return self._cache[key]
        except KeyError:
            pass
        value = build()
        with self._lock:
            return self._cache.setdefault(key, value)

    def alias_tables(self, et: EdgeType, reverse: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """Per-row alias tables of one direction of ``et``, or None for an unweighted edge type."""
        def build() -> Any:
            adj = self.adjacency(et, reverse)
            return None if adj.weight is None else build_alias(adj.indptr, np.asarray(adj.weight))
        return self.cached(("alias", et, bool(reverse)), build)

    def row_sums(self, et: EdgeType, reverse: bool = False) -> np.ndarray:
        """Per-row weight sums (float64) of one direction of ``et``; negative weights raise."""
        from vastgraph.sampling.local.walk_kernels import row_weight_sums

        key = ("walk_row_sums", et, bool(reverse))
        if key not in self._cache:
            adj = self.adjacency(et, reverse)
            sums, wmin = row_weight_sums(np.asarray(adj.indptr), np.asarray(adj.weight))
            if wmin < 0:
                raise ValidationError(f"edge type {str(et)!r} has negative weights (min {wmin}); weighted "
                                      "walks need weights >= 0 (pass weighted=False to ignore them)")
            self.cached(key, lambda: sums)
        return self._cache[key]

    def edge_filter(self, et: EdgeType) -> tuple[np.ndarray, np.uint64]:
        """Blocked Bloom filter of ``et``'s CSR entries (4-8 bits per entry) and its shift."""
        from vastgraph.sampling.local.walk_kernels import build_edge_filter

        def build() -> Any:
            adj = self.adjacency(et)
            log2_words = max(6, int(math.ceil(math.log2(adj.nnz / 16.0 + 1.0))))
            bits = build_edge_filter(np.asarray(adj.indptr), np.asarray(adj.indices), log2_words,
                                     max(1, numba.get_num_threads()))
            return bits, np.uint64(64 - log2_words)
        return self.cached(("walk_edge_filter", et), build)

    def simple_symmetric(self, et: EdgeType) -> bool:
        """Whether ``et``'s CSR is symmetric, weights included, without parallel edges.

        Then a node2vec step knows the return edge v → t and its weight without a search.
        """
        from vastgraph.sampling.local.walk_kernels import is_simple_symmetric

        if not (et.src == et.dst and self.graph.is_undirected(et)):
            return False

        def build() -> bool:
            adj = self.adjacency(et)
            w = _EMPTY_F32 if adj.weight is None else np.asarray(adj.weight)
            return bool(is_simple_symmetric(np.asarray(adj.indptr), np.asarray(adj.indices), w,
                                            adj.weight is not None))
        return self.cached(("walk_simple_symmetric", et), build)

    def time_sorted_rows(self, et: EdgeType, reverse: bool = False,
                         descending: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(indptr, indices, keys)`` of one direction of ``et`` with rows sorted by time
        (``keys``: the time, or minus the time when ``descending``; ties keep neighbour order)."""
        from vastgraph.sampling.local.temporal_kernels import sort_rows_by_key

        def build() -> Any:
            adj = self.adjacency(et, reverse)
            if adj.time is None:
                raise ValidationError(f"edge type {str(et)!r} has no timestamps; temporal walks need edge times")
            t = np.asarray(adj.time, dtype=np.int64)
            indptr = np.asarray(adj.indptr, dtype=np.int64)
            ind, keys = sort_rows_by_key(indptr, np.asarray(adj.indices), -t if descending else t)
            return indptr, ind, keys
        return self.cached(("time_sorted", et, bool(reverse), bool(descending)), build)

    def weight_tables(self, et: EdgeType, reverse: bool, method: int) -> tuple[np.ndarray, ...]:
        """``(weight, prob, alias)`` for the neighbour kernels (empty ones when ``method`` needs none)."""
        from vastgraph.sampling.local.neighbor_kernels import TOPK, WEIGHTED

        if method not in (WEIGHTED, TOPK):
            return _EMPTY_F32, _EMPTY_F32, _EMPTY_I32
        adj = self.adjacency(et, reverse)
        if adj.weight is None:
            name = "weighted" if method == WEIGHTED else "topk"
            raise ValidationError(f"edge type {et} has no edge weights; method={name!r} needs them "
                                  "(use method='uniform')")
        weight = np.asarray(adj.weight)
        if not self.cached(("nonneg_weights", et, bool(reverse)),
                           lambda: bool(weight.size == 0 or weight.min() >= 0)):
            raise ValidationError(f"edge type {et} has negative edge weights; weighted sampling needs "
                                  "weights >= 0")
        if method == TOPK:
            return weight, _EMPTY_F32, _EMPTY_I32
        prob, alias = self.alias_tables(et, bool(reverse) and not self.symmetric(et))
        return weight, prob, alias

    def node_degrees(self, ntype: str, etypes: Sequence[EdgeType] | None = None) -> np.ndarray:
        """Edge entries each ``ntype`` node takes part in over ``etypes`` (None: all edge types),
        out + in, a symmetric edge type once. int64, cached (do not modify)."""
        ets = tuple(self.graph.edge_types if etypes is None else (self.graph.edge_type(e) for e in etypes))

        def build() -> np.ndarray:
            deg = np.zeros(self.graph.num_nodes(ntype), dtype=np.int64)
            for et in ets:
                if et.src == ntype:
                    deg += self.adjacency(et).degree()
                if et.dst == ntype and not self.symmetric(et):
                    deg += self.adjacency(et, True).degree()
            return deg
        return self.cached(("node_degrees", ntype, ets), build)

    def degree_tables(self, ntype: str, etypes: Sequence[EdgeType], power: float) -> tuple[np.ndarray, ...]:
        """``(prob, alias, weights)`` of the distribution ``deg(v)^power / Σ deg^power``."""
        def build() -> Any:
            deg = self.node_degrees(ntype, etypes).astype(np.float64)
            w = np.where(deg > 0, deg ** power, 0.0).astype(np.float32)
            prob, alias = build_alias(np.array([0, w.size], dtype=np.int64), w)
            return prob, alias, w
        return self.cached(("negative_degree_alias", ntype, tuple(etypes), power), build)

    def edge_alias(self, et: EdgeType) -> tuple[np.ndarray, np.ndarray]:
        """One alias table over all of ``et``'s CSR entries by weight (negative weights raise)."""
        def build() -> Any:
            w = np.asarray(self.adjacency(et).weight)
            if w.size and w.min() < 0:
                raise ValidationError(f"edge type {et} has negative edge weights; weighted edge sampling "
                                      "needs weights >= 0")
            return build_alias(np.array([0, w.size], dtype=np.int64), w)
        return self.cached(("edge_alias", et), build)

    def acquire_map(self, ntype: str) -> np.ndarray:
        """A relabelling scratch map of ``ntype`` (all -1) from the pool."""
        pool = self._cache.setdefault(("fanout_map_pool", ntype), [])
        try:
            return pool.pop()
        except IndexError:
            return np.full(self.graph.num_nodes(ntype), -1, dtype=np.int32)

    def release_map(self, ntype: str, mapping: np.ndarray, used: np.ndarray) -> None:
        """Reset the ``used`` entries of a map and return it to the pool."""
        mapping[used] = -1
        self._cache.setdefault(("fanout_map_pool", ntype), []).append(mapping)

    # ------------------------------------------------------------------ SamplingEngine
    def walks(self, spec: WalkSpec, start: Any = None, *, random_state: Any = None,
              progress: Callable[[int, int], None] | None = None) -> WalkResult:
        from vastgraph.sampling.local.walk_runs import run_walks

        if not isinstance(spec, WalkSpec):
            raise ValidationError(f"spec={spec!r}: expected a WalkSpec")
        return run_walks(self, spec, start, seed_from(random_state), progress)

    def anonymous_walks(self, spec: WalkSpec, start: Any = None, *, random_state: Any = None) -> np.ndarray:
        from vastgraph.sampling.anonymous import anonymize

        return anonymize(self.walks(spec, start, random_state=random_state).nodes)

    def sample_neighbors(self, nodes: Any, k: int, *, etype: Any = None, reverse: bool = False,
                         replace: bool = False, weighted: bool = False, method: str = "uniform",
                         time_window: tuple[int, int] | None = None, before: int | None = None,
                         random_state: Any = None) -> Any:
        from vastgraph.sampling.local.blocks import sample_neighbors

        return sample_neighbors(self, nodes, k, etype, reverse, replace, weighted, method, time_window, before,
                                random_state)

    def prepare_fanout(self, plan: Any) -> Any:
        from vastgraph.sampling.local.blocks import prepare_fanout

        return prepare_fanout(self, plan)

    def sample_blocks(self, plan: Any, seeds: dict[str, np.ndarray], seed: Any) -> Any:
        from vastgraph.sampling.local.blocks import sample_blocks

        return sample_blocks(self, plan, seeds, seed)

    def sample_negatives(self, n: int | None = None, *, ntype: str | None = None, etype: Any = None,
                         distribution: str = "uniform", power: float = 0.75, exclude_neighbors_of: Any = None,
                         max_retries: int = 16, random_state: Any = None) -> np.ndarray:
        from vastgraph.sampling.local.draws import sample_negatives

        return sample_negatives(self, n, ntype, etype, distribution, power, exclude_neighbors_of, max_retries,
                                random_state)

    def corrupt_edges(self, src: Any, dst: Any, *, etype: Any = None, num_negatives: int = 1,
                      mode: str = "tail", filtered: bool = True, distribution: str = "uniform",
                      power: float = 0.75, max_retries: int = 16,
                      random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
        from vastgraph.sampling.local.draws import corrupt_edges

        return corrupt_edges(self, src, dst, etype, num_negatives, mode, filtered, distribution, power,
                             max_retries, random_state)

    def sample_edges(self, n: int, *, etype: Any = None, weighted: bool | None = None,
                     random_state: Any = None) -> EdgeSample:
        from vastgraph.sampling.local.draws import sample_edges

        return sample_edges(self, n, etype, weighted, random_state)

    def edge_attributes(self, etype: Any, positions: Any, *,
                        reverse: bool = False) -> tuple[np.ndarray | None, np.ndarray | None]:
        adj = self.adjacency(self.graph.edge_type(etype), bool(reverse))
        pos = np.asarray(positions, dtype=np.int64)
        if pos.size and (pos.min() < 0 or pos.max() >= adj.nnz):
            raise ValidationError(f"positions: values outside [0, {adj.nnz}) for edge type {etype}")
        return (None if adj.weight is None else np.asarray(adj.weight)[pos],
                None if adj.time is None else np.asarray(adj.time)[pos])

    def hop(self, etype: Any, nodes: np.ndarray, direction: str, *, k: int | None = None,
            by: str = "uniform", replace: bool = False, seed: Any = 0) -> HopResult:
        from vastgraph.sampling.local.hops import hop

        return hop(self, etype, nodes, direction, k, by, replace, seed)
