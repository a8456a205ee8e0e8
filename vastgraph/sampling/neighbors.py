"""One-hop neighbour sampling over a CSR: uniform, weighted, top-k or full, with time windows.

Every row (seed) draws from its own counter-based random stream (:mod:`vastgraph.seeding`),
so a result depends only on ``random_state`` and the seed's position, never on the thread count.
The row kernels (:mod:`vastgraph.sampling.local.neighbor_kernels` in the local engine) are shared
with multi-hop :func:`~vastgraph.sampling.fanout.sample_fanout`.

Algorithms per row of degree ``c`` (after time filtering) and ``k`` requested neighbours:

* uniform, with replacement: ``k`` independent uniform draws.
* uniform, without replacement: Floyd's algorithm (``k <= 64``; uniform over k-subsets, O(k²)
  comparisons, no buffer) or a partial Fisher–Yates shuffle on a ``c``-long buffer.
* weighted, with replacement: Walker/Vose alias tables (O(1) per draw, built once per edge type);
  inside a time window, an inverse-CDF binary search over the in-window weights.
* weighted, without replacement: *successive sampling* — each pick is drawn with probability
  proportional to the weight among the edges not yet picked. Rows much longer than ``k`` use alias
  draws with rejection of repeats (exact: a rejected repeat re-draws from the renormalised rest);
  otherwise, or after a bounded number of rejections, Efraimidis–Spirakis keys
  ``log(U)/w`` choose the remaining picks (the ``k`` largest keys are distributed exactly as
  successive sampling; Efraimidis & Spirakis, "Weighted random sampling with a reservoir",
  IPL 2006). Zero-weight edges are taken only once a row has no positive-weight edge left,
  uniformly among themselves; a row whose weights are all zero is sampled uniformly.
* top-k: the ``k`` heaviest edges (ties: lower neighbour id first).
* full: every edge (``k=-1`` means the same for any method).

Without replacement a row with ``c <= k`` returns all its (in-window) edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vastgraph.errors import UnknownIdError, ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.view import GraphView
from vastgraph.sampling.engine import engine_for

UNIFORM, WEIGHTED, TOPK, FULL = 0, 1, 2, 3  # kernel codes (vastgraph.sampling.local.neighbor_kernels)
METHODS = {"uniform": UNIFORM, "weighted": WEIGHTED, "topk": TOPK, "full": FULL}
_I64_MIN = np.iinfo(np.int64).min
_I64_MAX = np.iinfo(np.int64).max


@dataclass(frozen=True)
class SampledNeighbors:
    """Result of :func:`sample_neighbors`: a CSR over the query nodes.

    Attributes:
        nodes: int64 ``(n,)`` the query nodes (dense ids), as given.
        indptr: int64 ``(n + 1,)``; the neighbours of ``nodes[i]`` are
            ``indices[indptr[i]:indptr[i + 1]]``.
        indices: ``(m,)`` dense neighbour ids (the adjacency's index dtype, int32 or int64).
        edge_pos: int64 ``(m,)`` positions of the sampled edges in the edge type's out-edge order
            (in-edge order when ``reverse``), to fetch any per-edge array
            (``engine_for(graph).edge_attributes(etype, edge_pos, reverse=reverse)``).
        weights: float32 ``(m,)`` edge weights, or None for an unweighted edge type.
        times: int64 ``(m,)`` edge times, or None for an edge type without times.
        etype: the edge type sampled.
        reverse: whether the CSC (in-neighbours) was sampled.
    """

    nodes: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    edge_pos: np.ndarray
    weights: np.ndarray | None
    times: np.ndarray | None
    etype: EdgeType
    reverse: bool

    def counts(self) -> np.ndarray:
        """Number of sampled neighbours per query node, int64 ``(n,)``."""
        return np.diff(self.indptr)

    def __len__(self) -> int:
        return int(self.nodes.shape[0])



# ----------------------------------------------------------------------------- validation
def as_node_ids(graph: GraphView, ntype: str, ids: Any, name: str) -> np.ndarray:
    """Dense ids of ``ntype`` as a 1-D int64 array, or raise naming ``name``."""
    arr = np.asarray(ids)
    if arr.ndim > 1:
        raise ValidationError(f"{name}: shape {arr.shape}; expected a 1-D array of {ntype} node ids")
    arr = np.atleast_1d(arr)
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        raise ValidationError(f"{name}: dtype {arr.dtype}; expected integer dense {ntype} node ids")
    n = graph.num_nodes(ntype)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= n:
        bad = arr[(arr < 0) | (arr >= n)][:5].tolist()
        raise UnknownIdError(f"{name}: {ntype} node id(s) {bad} out of range [0, {n})")
    return arr.astype(np.int64, copy=False)


def check_count(k: Any, name: str, *, allow_zero: bool = False) -> int:
    """A sample size: an int >= 1, or -1 for "all" (0 too when ``allow_zero``)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValidationError(f"{name}={k!r}: expected an int (>= 1, or -1 for all neighbours)")
    k = int(k)
    if k < -1 or (k == 0 and not allow_zero):
        extra = ", 0 to skip" if allow_zero else ""
        raise ValidationError(f"{name}={k}: expected >= 1, or -1 for all neighbours{extra}")
    return k


def resolve_method(method: str, weighted: bool, replace: bool) -> int:
    """The kernel code of ``method`` (``weighted=True`` is shorthand for ``method='weighted'``)."""
    if method not in METHODS:
        raise ValidationError(f"method={method!r}: expected one of {', '.join(METHODS)}")
    if weighted:
        if method not in ("uniform", "weighted"):
            raise ValidationError(f"weighted=True with method={method!r}: weighted=True means "
                                  "method='weighted'; give one or the other")
        method = "weighted"
    code = METHODS[method]
    if replace and code in (TOPK, FULL):
        raise ValidationError(f"replace=True with method={method!r}: only 'uniform' and 'weighted' "
                              "sampling can draw with replacement")
    return code


def time_bounds(graph: GraphView, etype: EdgeType, time_window: Any, before: Any) -> tuple[bool, int, int]:
    """``(use_time, t_min, t_max)``: keep edges with ``t_min <= time < t_max``."""
    if time_window is None and before is None:
        return False, _I64_MIN, _I64_MAX
    if time_window is not None and before is not None:
        raise ValidationError(f"time_window={time_window!r} and before={before!r}: give one of them")
    if not graph.has_times(etype):
        raise ValidationError(f"edge type {etype} has no edge times; time_window/before need them")

    def _int(v: Any, what: str) -> int:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise ValidationError(f"{what}={v!r}: expected an integer time (seconds)")
        return int(v)

    if before is not None:
        return True, _I64_MIN, _int(before, "before")
    if not isinstance(time_window, (tuple, list)) or len(time_window) != 2:
        raise ValidationError(f"time_window={time_window!r}: expected a pair (t_min, t_max)")
    t_min, t_max = _int(time_window[0], "time_window[0]"), _int(time_window[1], "time_window[1]")
    if t_min > t_max:
        raise ValidationError(f"time_window={time_window!r}: t_min > t_max; expected t_min <= t_max")
    return True, t_min, t_max


def weight_tables(graph: GraphView, etype: EdgeType, reverse: bool, method: int) -> tuple[np.ndarray, ...]:
    """The local engine's ``(weight, prob, alias)`` arrays for the kernels (empty when not needed)."""
    return engine_for(graph).weight_tables(graph.edge_type(etype), bool(reverse), method)


# ----------------------------------------------------------------------------- public
def sample_neighbors(graph: GraphView, nodes: Any, k: int, *, etype: Any = None, reverse: bool = False,
                     replace: bool = False, weighted: bool = False, method: str = "uniform",
                     time_window: tuple[int, int] | None = None, before: int | None = None,
                     random_state: Any = None) -> SampledNeighbors:
    """Sample up to ``k`` neighbours of each node along one edge type.

    Row ``u`` of degree ``c`` (edges inside the time filter) returns:

    * ``method="uniform"``: ``k`` neighbours uniformly — with replacement ``k`` independent draws,
      without it a uniform k-subset (Floyd's algorithm / partial Fisher–Yates);
    * ``method="weighted"`` (or ``weighted=True``): ``P(v) = w_uv / Σ_v' w_uv'`` — with replacement
      by alias tables, without it by successive sampling (Efraimidis & Spirakis, IPL 2006);
    * ``method="topk"``: the ``k`` heaviest edges;
    * ``method="full"`` (or ``k=-1``): all ``c`` edges.

    Without replacement, rows with ``c <= k`` return all their edges; rows with ``c = 0`` return
    none (also with replacement). Each row draws from its own random stream, so the result for a
    given ``random_state`` is the same on any number of threads.

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView`.
        nodes: dense ids ``(n,)`` of ``etype``'s source type (destination type when ``reverse``).
            Repeats are sampled independently. Empty gives an empty result.
        k: neighbours per node, >= 1, or -1 for all (every edge once, even with ``replace``).
        etype: edge type (None: the graph's only one).
        reverse: sample in-neighbours from the CSC instead of out-neighbours. Default False.
        replace: draw with replacement (uniform/weighted only). Default False.
        weighted: shorthand for ``method="weighted"``. Weighted and top-k sampling on an edge type
            without weights raise :class:`~vastgraph.errors.ValidationError`. Default False.
        method: ``"uniform"`` | ``"weighted"`` | ``"topk"`` | ``"full"``. Default ``"uniform"``.
        time_window: ``(t_min, t_max)``: only edges with ``t_min <= time < t_max``. Default None.
        before: only edges with ``time < before``. Default None (give at most one of the two).
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        :class:`SampledNeighbors` (CSR over ``nodes``, with CSR positions, weights and times).

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=True, id_mode="dense")
        >>> _ = b.add_edges([0, 0, 0, 5, 5], [1, 2, 3, 1, 4], weight=[1.0, 2.0, 3.0, 1.0, 1.0])
        >>> g = b.build()
        >>> s = sample_neighbors(g, [0, 5], 2, random_state=0)
        >>> s.counts().tolist()
        [2, 2]
        >>> sorted(s.indices[s.indptr[1]:s.indptr[2]].tolist())  # the sampled neighbours of node 5
        [1, 4]
        >>> sample_neighbors(g, [0], 1, method="topk").indices.tolist()  # the heaviest edge
        [3]
    """
    return engine_for(graph).sample_neighbors(nodes, k, etype=etype, reverse=reverse, replace=replace,
                                              weighted=weighted, method=method, time_window=time_window,
                                              before=before, random_state=random_state)


def check_neighbors(graph: GraphView, nodes: Any, k: Any, etype: Any, reverse: bool, replace: bool,
                    weighted: bool, method: str, time_window: Any,
                    before: Any) -> tuple[EdgeType, np.ndarray, int, int, tuple[bool, int, int]]:
    """Validate a one-hop sample: ``(edge type, rows, k, method code, time filter)``."""
    et = graph.edge_type(etype)
    rows = as_node_ids(graph, et.dst if reverse else et.src, nodes, "nodes")
    k = check_count(k, "k")
    code = resolve_method(method, weighted, bool(replace))
    filt = time_bounds(graph, et, time_window, before)
    if code in (WEIGHTED, TOPK) and not graph.has_weights(et):
        name = "weighted" if code == WEIGHTED else "topk"
        raise ValidationError(f"edge type {et} has no edge weights; method={name!r} needs them "
                              "(use method='uniform')")
    return et, rows, k, code, filt
