"""Negative sampling: random nodes (uniform or unigram^0.75) and corrupted edges for link prediction.

Draws come from per-item counter-based streams, so they depend only on ``random_state``. Degree
draws use one alias table over the node degrees, built once and cached by the graph's sampling
engine.
Exclusion of true neighbours re-draws up to ``max_retries`` times (binary search in the sorted
CSR row each time), then falls back to an exact draw over the allowed nodes only, so an excluded
node is returned only where no other node is possible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph.schema import EdgeType
from vastgraph.graph.view import GraphView
from vastgraph.sampling.engine import engine_for
from vastgraph.sampling.neighbors import as_node_ids

DISTRIBUTIONS = ("uniform", "degree")
MODES = ("tail", "head", "both")


# ----------------------------------------------------------------------------- helpers
def _check_choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValidationError(f"{name}={value!r}: expected one of {', '.join(allowed)}")
    return value


def _check_power(power: Any) -> float:
    if isinstance(power, bool) or not isinstance(power, (int, float, np.integer, np.floating)) \
            or not np.isfinite(power) or power < 0:
        raise ValidationError(f"power={power!r}: expected a finite number >= 0")
    return float(power)


def _check_retries(max_retries: Any) -> int:
    if isinstance(max_retries, bool) or not isinstance(max_retries, (int, np.integer)) or max_retries < 0:
        raise ValidationError(f"max_retries={max_retries!r}: expected an int >= 0")
    return int(max_retries)


def node_degrees(graph: GraphView, ntype: str, etypes: list[EdgeType]) -> np.ndarray:
    """Edge entries each node of ``ntype`` takes part in over ``etypes`` (out + in, symmetric once)."""
    return engine_for(graph).node_degrees(ntype, list(etypes)).copy()


# ----------------------------------------------------------------------------- public
def sample_negatives(graph: GraphView, n: int | None = None, *, ntype: str | None = None, etype: Any = None,
                     distribution: str = "uniform", power: float = 0.75, exclude_neighbors_of: Any = None,
                     max_retries: int = 16, random_state: Any = None) -> np.ndarray:
    """Draw ``n`` random nodes of one type, uniformly or from the smoothed unigram distribution.

    Mikolov et al., "Distributed Representations of Words and Phrases", NeurIPS 2013 (unigram^0.75).
    ``distribution="degree"`` draws ``v`` with ``P(v) = deg(v)^power / Σ_u deg(u)^power``, where
    ``deg`` counts the edge entries of ``etype`` (or of every edge type) that ``v`` takes part in;
    a graph without edges falls back to uniform. With ``exclude_neighbors_of=src``, draw ``i`` is
    not a neighbour of ``src[i]`` along ``etype`` (re-drawn up to ``max_retries`` times, then drawn
    exactly among the allowed nodes; kept only if ``src[i]`` is adjacent to every node).

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView`.
        n: number of draws (>= 0); None with ``exclude_neighbors_of``: one per source.
        ntype: node type to draw (None: ``etype``'s destination type, or the only node type).
        etype: edge type for degrees and exclusion (None: all edge types for degrees; the only edge
            type for exclusion).
        distribution: ``"uniform"`` | ``"degree"``. Default ``"uniform"``.
        power: exponent of the degree distribution. Default 0.75.
        exclude_neighbors_of: ``(n,)`` dense source ids of ``etype``. Default None.
        max_retries: re-draws before the exact fallback. Default 16.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        int64 ``(n,)`` dense ids of ``ntype``.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(directed=True, id_mode="dense")
        >>> _ = b.add_edges([0, 0, 0, 1], [1, 2, 3, 2])
        >>> g = b.build()
        >>> neg = sample_negatives(g, 1000, distribution="degree", random_state=0)
        >>> neg.shape, neg.dtype
        ((1000,), dtype('int64'))
        >>> neg = sample_negatives(g, exclude_neighbors_of=[0, 0], random_state=0)
        >>> neg.tolist()  # node 0's only non-neighbour
        [0, 0]
    """
    return engine_for(graph).sample_negatives(n, ntype=ntype, etype=etype, distribution=distribution,
                                              power=power, exclude_neighbors_of=exclude_neighbors_of,
                                              max_retries=max_retries, random_state=random_state)


def check_negatives(graph: GraphView, n: Any, ntype: str | None, etype: Any, distribution: str, power: Any,
                    exclude_neighbors_of: Any, max_retries: Any) -> tuple:
    """Validate :func:`sample_negatives`' arguments: ``(n, ntype, edge type or None, anchors or None,
    degree edge types, power, max_retries)``."""
    _check_choice(distribution, "distribution", DISTRIBUTIONS)
    power = _check_power(power)
    max_retries = _check_retries(max_retries)
    et = None
    if etype is not None or exclude_neighbors_of is not None:
        et = graph.edge_type(etype)
    if ntype is None:
        if et is not None:
            ntype = et.dst
        elif len(graph.node_types) == 1:
            ntype = graph.node_types[0]
        else:
            raise SchemaError(f"ntype: the graph has node types {', '.join(graph.node_types)}; name one")
    elif ntype not in graph.node_types:
        raise SchemaError(f"unknown node type {ntype!r}; known node types: {', '.join(graph.node_types)}")
    if et is not None and ntype not in (et.src, et.dst):
        raise ValidationError(f"ntype={ntype!r} is not an endpoint of edge type {et}")
    anchors = None
    if exclude_neighbors_of is not None:
        if ntype != et.dst:
            raise ValidationError(f"exclude_neighbors_of: negatives of type {ntype!r} cannot be neighbours "
                                  f"along {et}, whose destination type is {et.dst!r}")
        anchors = as_node_ids(graph, et.src, exclude_neighbors_of, "exclude_neighbors_of")
        if n is None:
            n = anchors.size
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValidationError(f"n={n!r}: expected an int >= 0")
    n = int(n)
    if anchors is not None and anchors.size != n:
        raise ValidationError(f"exclude_neighbors_of has {anchors.size} ids but n={n}; expected one per draw")
    etypes = [et] if et is not None else list(graph.edge_types)
    if n and graph.num_nodes(ntype) == 0:
        raise ValidationError(f"node type {ntype!r} has no nodes to draw negatives from")
    return n, ntype, et, anchors, etypes, power, max_retries


def corrupt_edges(graph: GraphView, src: Any, dst: Any, *, etype: Any = None, num_negatives: int = 1,
                  mode: str = "tail", filtered: bool = True, distribution: str = "uniform",
                  power: float = 0.75,
                  max_retries: int = 16, random_state: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Corrupt each edge ``num_negatives`` times for link prediction (TransE-style corruption).

    Bordes et al., "Translating Embeddings for Modeling Multi-relational Data", NeurIPS 2013.
    ``mode="tail"`` replaces ``dst`` by a random node of ``etype``'s destination type,
    ``"head"`` replaces ``src`` by one of its source type, ``"both"`` picks head or tail with
    probability 1/2 per negative. ``filtered=True`` never produces an existing edge of ``etype``
    (where any other node is possible). Replacements follow ``distribution`` over the degrees in
    ``etype``.

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView`.
        src, dst: ``(m,)`` dense ids of the positive edges.
        etype: edge type (None: the only one).
        num_negatives: negatives per edge, >= 1. Default 1.
        mode: ``"tail"`` | ``"head"`` | ``"both"``. Default ``"tail"``.
        filtered: exclude true edges. Default True.
        distribution: ``"uniform"`` | ``"degree"``. Default ``"uniform"``.
        power: exponent of the degree distribution. Default 0.75.
        max_retries: re-draws before the exact fallback. Default 16.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        ``(neg_src, neg_dst)`` int64 ``(m * num_negatives,)``; negatives of edge ``i`` are at
        ``[i * num_negatives, (i + 1) * num_negatives)``.

    Example:
        >>> from vastgraph.graph import GraphBuilder
        >>> b = GraphBuilder(id_mode="dense")
        >>> _ = b.add_edges([0, 1, 2], [0, 1, 1], etype=("query", "click", "ad"))
        >>> g = b.build()
        >>> ns, nd = corrupt_edges(g, [0, 1], [0, 1], etype="click", num_negatives=5, random_state=0)
        >>> ns.tolist(), nd.tolist()  # tails replaced by the other ad: never a true edge
        ([0, 0, 0, 0, 0, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0, 0, 0, 0])
    """
    return engine_for(graph).corrupt_edges(src, dst, etype=etype, num_negatives=num_negatives, mode=mode,
                                           filtered=filtered, distribution=distribution, power=power,
                                           max_retries=max_retries, random_state=random_state)


def check_corrupt(graph: GraphView, src: Any, dst: Any, etype: Any, num_negatives: Any, mode: str,
                  distribution: str, power: Any, max_retries: Any) -> tuple:
    """Validate :func:`corrupt_edges`' arguments: ``(edge type, src, dst, num_negatives, power,
    max_retries)``."""
    et = graph.edge_type(etype)
    _check_choice(mode, "mode", MODES)
    _check_choice(distribution, "distribution", DISTRIBUTIONS)
    power = _check_power(power)
    max_retries = _check_retries(max_retries)
    if (isinstance(num_negatives, bool) or not isinstance(num_negatives, (int, np.integer))
            or num_negatives < 1):
        raise ValidationError(f"num_negatives={num_negatives!r}: expected an int >= 1")
    s = as_node_ids(graph, et.src, src, "src")
    d = as_node_ids(graph, et.dst, dst, "dst")
    if s.shape != d.shape:
        raise ValidationError(f"src has {s.size} ids but dst has {d.size}; expected one per edge")
    return et, s, d, int(num_negatives), power, max_retries
