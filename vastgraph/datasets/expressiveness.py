"""Graph families that the 1-WL test (and so GIN) cannot tell apart, for expressiveness checks.

* Non-isomorphic regular pairs of equal size and degree: the 4×4 rook's graph vs the Shrikhande
  graph (both strongly regular srg(16, 6, 2, 2)), the 6-cycle vs two triangles, and random
  d-regular pairs verified non-isomorphic with networkx. Every d-regular graph on n nodes gets
  the same 1-WL colouring.
* Circular skip link graphs CSL(n, s) (R. Murphy, B. Srinivasan, V. Rao, B. Ribeiro, "Relational
  Pooling for Graph Representations", ICML 2019): the n-cycle plus the chords ``i — i+s mod n``;
  all are 4-regular, so the 10 classes s ∈ {2, 3, 4, 5, 6, 9, 11, 12, 13, 16} of CSL(41, s)
  are one class for 1-WL (chance accuracy 10%). Copies are randomly relabelled.
* Decalin vs bicyclopentyl (two fused hexagons vs two pentagons joined by a bond; both 10 atoms,
  11 bonds, degree sequence 3², 2⁸): 1-WL equivalent (C. Morris et al., "Weisfeiler and Leman Go
  Neural", AAAI 2019; R. Sato, "A Survey on the Expressive Power of GNNs", 2020).

Each generator returns a :class:`GraphFamily` of small undirected homogeneous
:class:`~vastgraph.graph.hetero_graph.HeteroGraph` s with integer labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from vastgraph.validation import check_int
from vastgraph.errors import ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.hetero_graph import HeteroGraph

CSL_SKIPS = (2, 3, 4, 5, 6, 9, 11, 12, 13, 16)


@dataclass
class GraphFamily:
    """A list of small graphs with one integer label each.

    Attributes:
        name: family name.
        graphs: the graphs (undirected, one node type ``node``, one edge type).
        labels: int64 ``(len(graphs),)`` class of each graph.
        pairs: index pairs ``(i, j)`` of 1-WL-equivalent, non-isomorphic graphs (pair families).
        names: a short description of each graph.
    """

    name: str
    graphs: list[HeteroGraph]
    labels: np.ndarray
    pairs: list[tuple[int, int]] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.graphs)


def graph_from_edges(src: Any, dst: Any, n: int) -> HeteroGraph:
    """An undirected homogeneous graph on nodes ``0..n-1`` (dense ids) with the given edges.

    Example:
        >>> graph_from_edges([0, 1, 2], [1, 2, 0], 3).num_edges()  # each edge stored both ways
        6
    """
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes("node", count=int(n))
    b.add_edges(np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64))
    return b.build()


def _from_nx(g: nx.Graph) -> HeteroGraph:
    g = nx.convert_node_labels_to_integers(g)
    e = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    return graph_from_edges(e[:, 0], e[:, 1], g.number_of_nodes())


def _rng(random_state: Any) -> np.random.Generator:
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool)
                                and int(random_state) >= 0):
        return np.random.default_rng(random_state)
    raise ValidationError(f"random_state={random_state!r}: expected None, an int >= 0 or a numpy Generator")



def rook_graph() -> nx.Graph:
    """The 4×4 rook's graph K4 □ K4: cells of a 4×4 board, adjacent when in one row or column."""
    return nx.cartesian_product(nx.complete_graph(4), nx.complete_graph(4))


def shrikhande_graph() -> nx.Graph:
    """The Shrikhande graph: Z4×Z4, (a, b) ~ (a', b') when the difference is ±(1,0), ±(0,1), ±(1,1)."""
    g = nx.Graph()
    for a in range(4):
        for b in range(4):
            for da, db in ((1, 0), (0, 1), (1, 1)):
                g.add_edge((a, b), ((a + da) % 4, (b + db) % 4))
    return g


def regular_pairs(n_random: int = 0, *, n: int = 10, degree: int = 3, random_state: Any = None) -> GraphFamily:
    """Pairs of non-isomorphic regular graphs of equal size and degree (1-WL cannot separate them).

    Always: rook 4×4 vs Shrikhande (16 nodes, 6-regular) and the 6-cycle vs two triangles; then
    ``n_random`` pairs of random ``degree``-regular graphs on ``n`` nodes, each pair checked
    non-isomorphic with :func:`networkx.is_isomorphic`.

    Args:
        n_random: random pairs to add (>= 0). Default 0.
        n: nodes of the random graphs (``n·degree`` even, ``n > degree``). Default 10.
        degree: degree of the random graphs (>= 2). Default 3.
        random_state: None, an int or a ``numpy.random.Generator``.

    Returns:
        :class:`GraphFamily`; graph ``2i`` has label 0 and ``2i + 1`` label 1; ``pairs[i] = (2i, 2i+1)``.

    Example:
        >>> fam = regular_pairs()
        >>> [g.num_nodes() for g in fam.graphs]
        [16, 16, 6, 6]
    """
    n_random = check_int("n_random", n_random, 0)
    degree = check_int("degree", degree, 2)
    n = check_int("n", n, degree + 1)
    if (n * degree) % 2:
        raise ValidationError(f"n={n}, degree={degree}: n·degree must be even for a regular graph")
    rng = _rng(random_state)
    nx_pairs = [(rook_graph(), shrikhande_graph(), "rook 4x4", "Shrikhande"),
                (nx.cycle_graph(6), nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)), "C6", "2xC3")]
    tries = 0
    while len(nx_pairs) < 2 + n_random:
        tries += 1
        if tries > 100 * (n_random + 1):
            raise ValidationError(f"n={n}, degree={degree}: could not draw non-isomorphic regular pairs; "
                                  "expected a size with more than one regular graph")
        a = nx.random_regular_graph(degree, n, seed=int(rng.integers(2**31)))
        b = nx.random_regular_graph(degree, n, seed=int(rng.integers(2**31)))
        if not nx.is_isomorphic(a, b):
            k = len(nx_pairs) - 2
            nx_pairs.append((a, b, f"random {degree}-regular #{k}a", f"random {degree}-regular #{k}b"))
    graphs, names, pairs = [], [], []
    for a, b, na, nb_ in nx_pairs:
        pairs.append((len(graphs), len(graphs) + 1))
        graphs += [_from_nx(a), _from_nx(b)]
        names += [na, nb_]
    labels = np.tile(np.array([0, 1], dtype=np.int64), len(pairs))
    return GraphFamily("regular-pairs", graphs, labels, pairs, names)


def csl_edges(n: int, skip: int) -> tuple[np.ndarray, np.ndarray]:
    """Edges of CSL(n, skip): the cycle ``i — i+1`` and the chords ``i — i+skip`` (mod n)."""
    i = np.arange(n, dtype=np.int64)
    return np.concatenate([i, i]), np.concatenate([(i + 1) % n, (i + skip) % n])


def csl_graphs(copies: int = 15, *, n: int = 41, skips: Any = CSL_SKIPS, random_state: Any = None) -> GraphFamily:
    """Circular skip link graphs CSL(n, s), ``copies`` randomly relabelled copies per skip length.

    Murphy et al. (ICML 2019): class ``k`` is CSL(n, skips[k]); all graphs are 4-regular on ``n``
    nodes (for 1 < s < n/2), so 1-WL and GIN see one class.

    Args:
        copies: graphs per class (>= 1). Default 15 (150 graphs, as in Murphy et al.).
        n: nodes per graph (>= 5). Default 41.
        skips: skip lengths, each in ``[2, n/2)``. Default (2, 3, 4, 5, 6, 9, 11, 12, 13, 16).
        random_state: None, an int or a ``numpy.random.Generator`` (node relabelling).

    Returns:
        :class:`GraphFamily` ordered class by class; ``labels[i]`` is the index of its skip.

    Example:
        >>> fam = csl_graphs(copies=2, random_state=0)
        >>> len(fam), sorted(set(fam.labels.tolist())) == list(range(10))
        (20, True)
    """
    copies = check_int("copies", copies, 1)
    n = check_int("n", n, 5)
    skips = [int(s) for s in np.atleast_1d(np.asarray(skips))]
    if not skips or any(s < 2 or 2 * s >= n for s in skips):
        raise ValidationError(f"skips={skips!r}: expected skip lengths s with 2 <= s < n/2 (n={n})")
    rng = _rng(random_state)
    graphs, labels, names = [], [], []
    for k, s in enumerate(skips):
        src, dst = csl_edges(n, s)
        for c in range(copies):
            perm = rng.permutation(n)
            graphs.append(graph_from_edges(perm[src], perm[dst], n))
            labels.append(k)
            names.append(f"CSL({n},{s}) copy {c}")
    return GraphFamily("csl", graphs, np.asarray(labels, dtype=np.int64), [], names)


def triangular_graph(n: int = 8) -> nx.Graph:
    """The triangular graph T(n): the line graph of K_n (T(8) is strongly regular srg(28, 12, 6, 4))."""
    return nx.line_graph(nx.complete_graph(int(n)))


def chang_graphs() -> list[nx.Graph]:
    """The three Chang graphs: srg(28, 12, 6, 4) like T(8) but not isomorphic to it.

    Seidel switching of T(8) (vertices = edges of K_8) with respect to the edges of a perfect
    matching, of C_3 + C_5 and of C_8 (L.-C. Chang, 1959): the adjacency between the switching set
    and the rest is complemented. T(8) has 280 four-cliques, the Chang graphs 248, 240 and 240.
    """
    def pairs(edges: list[tuple[int, int]]) -> set[tuple[int, int]]:
        return {tuple(sorted(e)) for e in edges}

    sets = [pairs([(0, 1), (2, 3), (4, 5), (6, 7)]),
            pairs([(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 6), (6, 7), (7, 3)]),
            pairs([(i, (i + 1) % 8) for i in range(8)])]
    t8 = triangular_graph(8)
    out = []
    for sw in sets:
        g = t8.copy()
        inside = [v for v in t8.nodes() if tuple(sorted(v)) in sw]
        outside = [v for v in t8.nodes() if tuple(sorted(v)) not in sw]
        for u in inside:
            for v in outside:
                if g.has_edge(u, v):
                    g.remove_edge(u, v)
                else:
                    g.add_edge(u, v)
        out.append(g)
    return out


def strongly_regular_pairs() -> GraphFamily:
    """Strongly regular graphs with equal parameters: rook 4×4 vs Shrikhande (srg(16, 6, 2, 2)) and
    T(8) vs each Chang graph (srg(28, 12, 6, 4)).

    Equal parameters give equal closed-walk counts at every vertex (and equal counts of every
    pattern of treewidth <= 2), so revisit profiles cannot separate them; they differ in their
    ``K_4`` s (rook 8 vs Shrikhande 0; T(8) 280 vs Chang 248 / 240 / 240).

    Example:
        >>> fam = strongly_regular_pairs()
        >>> fam.names
        ['rook 4x4', 'Shrikhande', 'T(8)', 'Chang 1', 'Chang 2', 'Chang 3']
        >>> fam.pairs
        [(0, 1), (2, 3), (2, 4), (2, 5)]
    """
    graphs = [_from_nx(rook_graph()), _from_nx(shrikhande_graph()), _from_nx(triangular_graph(8))]
    graphs += [_from_nx(g) for g in chang_graphs()]
    return GraphFamily("strongly-regular", graphs, np.array([0, 1, 2, 3, 4, 5], dtype=np.int64),
                       [(0, 1), (2, 3), (2, 4), (2, 5)],
                       ["rook 4x4", "Shrikhande", "T(8)", "Chang 1", "Chang 2", "Chang 3"])


def decalin_bicyclopentyl() -> GraphFamily:
    """Decalin (label 0) vs bicyclopentyl (label 1): 10 nodes, 11 edges each, 1-WL equivalent.

    Example:
        >>> fam = decalin_bicyclopentyl()
        >>> [g.num_edges() // 2 for g in fam.graphs]
        [11, 11]
    """
    # decalin: ring 0-1-2-3-4-5-0 and ring 0-6-7-8-9-5 sharing the bond 0-5
    dec = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 6), (6, 7), (7, 8), (8, 9), (9, 5)]
    # bicyclopentyl: pentagons 0-1-2-3-4-0 and 5-6-7-8-9-5 joined by the bond 0-5
    bic = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (5, 6), (6, 7), (7, 8), (8, 9), (9, 5), (0, 5)]
    graphs = [graph_from_edges(*np.array(e).T, 10) for e in (dec, bic)]
    return GraphFamily("decalin-bicyclopentyl", graphs, np.array([0, 1], dtype=np.int64), [(0, 1)],
                       ["decalin", "bicyclopentyl"])
