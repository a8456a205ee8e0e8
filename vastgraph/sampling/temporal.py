"""Temporal random walks: each step follows an edge no earlier than the one before (CTDNE)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from vastgraph.errors import ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.view import GraphView
from vastgraph.sampling.engine import WalkSpec, engine_for
from vastgraph.sampling.walks import walk_edge_type

TIME_BIASES = ("uniform", "exponential", "linear")
DIRECTIONS = ("forward", "backward")
_BIAS_CODE = {"uniform": 0, "exponential": 1, "linear": 2}  # as in local.temporal_kernels
_NO_TIME = np.iinfo(np.int64).min


def time_sorted_rows(graph: GraphView, etype: Any, reverse: bool = False,
                     descending: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cached ``(indptr, indices, keys)`` of one direction of ``etype`` with rows sorted by time.

    ``keys`` is the edge time (``descending=False``) or minus the time (``descending=True``),
    ascending within each row (ties keep neighbour-id order). O(edges) extra memory, built once
    per graph instance and kept by its (local) sampling engine.
    """
    return engine_for(graph).time_sorted_rows(graph.edge_type(etype), bool(reverse), bool(descending))


def temporal_walks(graph: GraphView, *, start: Any = None, walks_per_node: int = 10, walk_length: int = 80,
                   etype: Any = None, direction: str = "forward", time_bias: str = "uniform",
                   time_scale: float | None = None, start_time: int | None = None,
                   strict: bool = False, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Time-respecting random walks (CTDNE: Nguyen et al., WWW 2018 companion).

    A forward walk's step ``i`` follows an out-edge whose time is >= the time of step ``i − 1``
    (non-decreasing: edges with equal times may follow each other, so on an undirected edge
    type a walk may go back and forth over one edge; ``strict=True`` asks for increasing times);
    the first step may use any edge, or only those at or after ``start_time``.
    ``direction="backward"`` walks edges in reverse (the CSC; the CSR itself for undirected types)
    with non-increasing times, i.e. back through history. Among the candidate edges of a step (a suffix of the current node's row,
    sorted by time once per graph and cached, found by binary search):

    * ``uniform``: each candidate equally likely;
    * ``linear``: the ``k``-th earliest candidate (k = 0..m−1) has weight ``m − k`` — closer in
      time is likelier (ties ordered by neighbour id);
    * ``exponential``: weight ``exp(−Δ/s)`` with ``Δ`` the candidate's delay after the earliest
      candidate and ``s = time_scale`` (default: the mean Δ over the candidates; all-equal times
      fall back to uniform).

    A walk without a candidate edge stops; the rest of its row is -1. Row order: repetition-major;
    one random stream per walk (thread-count independent).

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView` whose edge type has times.
        start: dense start node ids; default all nodes of the edge type's node type.
        walks_per_node: walks per start node (>= 1). Default 10.
        walk_length: steps per walk (>= 1). Default 80.
        etype: the edge type (same node type at both ends); default the only one.
        direction: ``"forward"`` (default) or ``"backward"``.
        time_bias: ``"uniform"`` (default), ``"linear"`` or ``"exponential"``.
        time_scale: the exponential bias's scale in time units (> 0); default per step as above.
        start_time: earliest (forward) / latest (backward) time of the first edge; default none.
        strict: times strictly increasing (forward) / decreasing (backward). Default False.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        ``(walks, times)``: walks int32 ``(n_walks, walk_length + 1)`` dense ids (-1 padded) and
        times int64 ``(n_walks, walk_length)``, the time of the edge taken at each step (-1 where
        the walk has ended: read the end from ``walks``, since -1 can also be a real time).

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder()
        >>> _ = b.add_edges([0, 1, 1], [1, 2, 0], time=[5, 7, 3])
        >>> w, t = temporal_walks(b.build(), start=[0], walks_per_node=1, walk_length=3, random_state=0)
        >>> w.tolist(), t.tolist()
        ([[0, 1, 2, -1]], [[5, 7, -1]])
    """
    et = walk_edge_type(graph, etype, "temporal_walks")
    spec = WalkSpec("temporal", walks_per_node=walks_per_node, walk_length=walk_length, etype=et,
                    direction=direction, time_bias=time_bias, time_scale=time_scale,
                    start_time=start_time, strict=strict)
    res = engine_for(graph).walks(spec, start, random_state=random_state)
    return res.nodes, res.times


def check_temporal(graph: GraphView, spec: WalkSpec) -> tuple[EdgeType, bool, int, float, int]:
    """Validate a temporal walk: ``(edge type, backward, start key, time scale (0: per step),
    bias code)``; the edge type must have times."""
    et = walk_edge_type(graph, spec.etype, "temporal_walks")
    direction, time_bias, time_scale, start_time, strict = (spec.direction, spec.time_bias, spec.time_scale,
                                                           spec.start_time, spec.strict)
    if direction not in DIRECTIONS:
        raise ValidationError(f"direction={direction!r}: expected one of {', '.join(DIRECTIONS)}")
    if time_bias not in TIME_BIASES:
        raise ValidationError(f"time_bias={time_bias!r}: expected one of {', '.join(TIME_BIASES)}")
    scale = 0.0
    if time_scale is not None:
        try:
            scale = float(time_scale)
        except (TypeError, ValueError):
            scale = float("nan")
        if not math.isfinite(scale) or scale <= 0.0:
            raise ValidationError(f"time_scale={time_scale!r}: expected None or a finite number > 0")
    if start_time is None:
        start_key = _NO_TIME
    elif isinstance(start_time, bool) or not isinstance(start_time, (int, np.integer)):
        raise ValidationError(f"start_time={start_time!r}: expected None or an integer time")
    else:
        start_key = int(start_time) if direction == "forward" else -int(start_time)
    if strict not in (True, False):
        raise ValidationError(f"strict={strict!r}: expected True or False")
    if not graph.has_times(et):
        raise ValidationError(f"edge type {str(et)!r} has no timestamps; temporal walks need edge times")
    return et, direction == "backward", start_key, scale, _BIAS_CODE[time_bias]
