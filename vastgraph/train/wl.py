"""1-WL colour refinement (the Weisfeiler–Leman test), the reference for expressiveness tests.

B. Weisfeiler, A. Leman, "The reduction of a graph to canonical form and the algebra which appears
therein", 1968; its link to GNNs: K. Xu, W. Hu, J. Leskovec, S. Jegelka, "How Powerful are Graph
Neural Networks?", ICLR 2019 (message-passing GNNs such as GIN are at most as discriminative as
1-WL). Anonymous-walk models (GraLSP, GraphSTONE) separate graphs that 1-WL cannot.

Refinement. Every node starts with colour ``c⁰(v)`` (0, or given initial colours); then

    c^{t+1}(v) = id( c^t(v), {{ c^t(u) : u ∈ N(v) }} )

where ``{{·}}`` is a multiset and ``id`` numbers the distinct signatures. Refinement stops when
the partition into colour classes no longer splits (the stable colouring), or after
``iterations`` rounds. For directed edge types the multiset holds out- and in-neighbour colours
tagged by direction.

The implementation is exact (no hashing): signatures of nodes with equal degree form the rows of
one integer matrix ``[c(v), sorted neighbour colours]`` and ``numpy.unique(axis=0)`` numbers them;
new ids are ordered by ``(degree, signature)``, so colour ids depend only on the graph's
structure, never on node order — colourings of isomorphic graphs have equal histograms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.view import GraphView


def _neighbour_lists(graph: GraphView, etype: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """``(rows, tagged neighbour ids, n)`` of the refinement's multisets (tag = 2·id + direction)."""
    if not isinstance(graph, GraphView):
        raise ValidationError(f"graph={type(graph).__name__}: expected a vastgraph GraphView (e.g. HeteroGraph)")
    if etype is None and len(graph.edge_types) != 1:
        raise ValidationError(f"etype=None: the graph has {len(graph.edge_types)} edge types; "
                              "name the edge type to refine along")
    et = graph.edge_type(etype)
    if et.src != et.dst:
        raise ValidationError(f"etype={et}: 1-WL refinement needs an edge type within one node type")
    n = graph.num_nodes(et.src)
    if n == 0:
        raise EmptyInputError(f"graph: node type {et.src!r} has no nodes; expected at least one")
    fwd = graph.coo(et)
    rows, cols = fwd.src, fwd.dst * 2
    if not graph.is_undirected(et):
        rev = graph.coo(et, reverse=True)
        rows = np.concatenate([rows, rev.src])
        cols = np.concatenate([cols, rev.dst * 2 + 1])
    return rows, cols, n


def _check_iterations(iterations: Any) -> int | None:
    if iterations is None:
        return None
    if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or iterations < 0:
        raise ValidationError(f"iterations={iterations!r}: expected None (until stable) or an integer >= 0")
    return int(iterations)


def refine(rows: np.ndarray, cols: np.ndarray, n: int, colors: np.ndarray,
           iterations: int | None = None) -> np.ndarray:
    """1-WL refinement on a multiset adjacency given as ``(rows, tagged cols)`` pairs.

    Args:
        rows: int64 ``(m,)`` node of each entry.
        cols: int64 ``(m,)`` ``2·neighbour + direction`` (direction 0 = out / undirected, 1 = in).
        n: number of nodes.
        colors: int64 ``(n,)`` initial colours (any integers).
        iterations: rounds at most; ``None`` until the partition is stable.

    Returns:
        int64 ``(n,)`` stable colours, numbered ``0..C-1`` canonically (see module docstring).
    """
    _, colors = np.unique(colors, return_inverse=True)
    colors = colors.reshape(-1).astype(np.int64)
    deg = np.bincount(rows, minlength=n)
    order_deg = np.argsort(deg, kind="stable")
    degrees, starts = np.unique(deg[order_deg], return_index=True)
    bounds = np.append(starts, n)
    entry_order = np.argsort(rows, kind="stable")
    rows_s, cols_s = rows[entry_order], cols[entry_order]
    indptr = np.concatenate([[0], np.cumsum(deg)])
    n_colors = int(colors.max()) + 1
    done = 0
    while iterations is None or done < iterations:
        tagged = colors[cols_s // 2] * 2 + cols_s % 2
        # sort each node's neighbour colours: lexsort by (colour, row)
        o = np.lexsort((tagged, rows_s))
        sorted_tags = tagged[o]
        new = np.empty(n, dtype=np.int64)
        offset = 0
        for gi, d in enumerate(degrees):
            nodes = order_deg[bounds[gi]:bounds[gi + 1]]
            sig = np.empty((nodes.size, int(d) + 1), dtype=np.int64)
            sig[:, 0] = colors[nodes]
            if d:
                pos = indptr[nodes][:, None] + np.arange(int(d))[None, :]
                sig[:, 1:] = sorted_tags[pos]
            _, inv = np.unique(sig, axis=0, return_inverse=True)
            inv = inv.reshape(-1)
            new[nodes] = inv + offset
            offset += int(inv.max()) + 1
        # keep canonical, gap-free ids
        _, new = np.unique(new, return_inverse=True)
        new = new.reshape(-1).astype(np.int64)
        done += 1
        stable = int(new.max()) + 1 == n_colors
        colors, n_colors = new, int(new.max()) + 1
        if stable:
            break
    return colors


def wl_colors(graph: GraphView, iterations: int | None = None, *, etype: Any = None,
              initial: Any = None) -> np.ndarray:
    """Stable 1-WL colours of the nodes of one edge type's node type.

    Args:
        graph: a :class:`~vastgraph.graph.view.GraphView` (one edge type, or name ``etype``).
        iterations: refinement rounds at most; ``None`` (default) refines until no class splits.
        etype: the edge type (source type = destination type); default the graph's only one.
        initial: optional ``(n,)`` integer initial colours (e.g. node labels); default all equal.

    Returns:
        int64 ``(n,)`` colours ``0..C-1``; ids depend only on structure (canonical across graphs).

    Example:
        >>> from vastgraph.graph.builder import GraphBuilder
        >>> b = GraphBuilder(directed=False)
        >>> _ = b.add_edges([0, 1, 2], [1, 2, 3])  # a path of 4 nodes
        >>> wl_colors(b.build()).tolist()
        [0, 1, 1, 0]
    """
    its = _check_iterations(iterations)
    rows, cols, n = _neighbour_lists(graph, etype)
    if initial is None:
        colors = np.zeros(n, dtype=np.int64)
    else:
        colors = np.asarray(initial)
        if colors.shape != (n,) or colors.dtype.kind not in "iu":
            raise ValidationError(f"initial: shape {colors.shape} dtype {colors.dtype}; expected ({n},) integers")
        colors = colors.astype(np.int64)
    return refine(rows, cols, n, colors, its)


def wl_equivalent(g1: GraphView, g2: GraphView, iterations: int | None = None, *,
                  etype: Any = None) -> bool:
    """Whether 1-WL fails to tell ``g1`` and ``g2`` apart.

    Both graphs are refined together as one disjoint union (so their colours share one numbering)
    until the union's partition is stable; the graphs are 1-WL equivalent when their colour
    histograms are equal.

    Args:
        g1, g2: graphs with one edge type each (or both holding ``etype``).
        iterations: refinement rounds at most; ``None`` (default) until stable.
        etype: the edge type in both graphs; default each graph's only one.

    Returns:
        ``True`` when the colour histograms coincide (isomorphic graphs always are).

    Example:
        >>> from vastgraph.datasets.expressiveness import graph_from_edges
        >>> six_cycle = graph_from_edges([0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 0], 6)
        >>> two_triangles = graph_from_edges([0, 1, 2, 3, 4, 5], [1, 2, 0, 4, 5, 3], 6)
        >>> wl_equivalent(six_cycle, two_triangles)  # both 2-regular on 6 nodes
        True
    """
    its = _check_iterations(iterations)
    r1, c1, n1 = _neighbour_lists(g1, etype)
    r2, c2, n2 = _neighbour_lists(g2, etype)
    if n1 != n2:
        return False
    rows = np.concatenate([r1, r2 + n1])
    cols = np.concatenate([c1, c2 + 2 * n1])
    colors = refine(rows, cols, n1 + n2, np.zeros(n1 + n2, dtype=np.int64), its)
    k = int(colors.max()) + 1
    return bool(np.array_equal(np.bincount(colors[:n1], minlength=k), np.bincount(colors[n1:], minlength=k)))
