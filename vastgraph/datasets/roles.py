"""Role-labelled synthetic graphs in struc2vec's style: nodes are labelled by their structural role.

L. Ribeiro, P. Saverese, D. Figueiredo, *struc2vec: Learning Node Representations from Structural
Identity*, KDD 2017, Section 4 (barbell graph, mirrored Karate network); C. Donnat, M. Zitnik,
D. Hallac, J. Leskovec, *Learning Structural Node Embeddings via Diffusion Wavelets* (GraphWave),
KDD 2018 (cycles and paths with attached "house" shapes).

In these graphs two nodes far apart can play the same role (the roof of every house, every bridge
node of a barbell, a node and its mirror twin), so a proximity embedding (DeepWalk) cannot find
the roles while a structural one should.

Labels. Houses: by construction, as GraphWave labels them: base node (0), base node with a house
(1), and the five house positions (2 attached bottom corner, 3 other bottom corner, 4 top corner
above 2, 5 top corner above 3, 6 roof). Barbell and mirrored karate: a node's role is its colour
under 1-WL colour refinement of the *noise-free* construction
(:func:`vastgraph.train.wl.wl_colors`), here the automorphism orbits (the two bridge nodes of a
barbell, a karate node and its mirror, ...). With
``noise > 0``, ``round(noise · m)`` random edges are then added (``m`` the construction's edges),
as GraphWave does to test robustness; the labels stay those of the construction.

* :func:`house_graph`: a cycle (or a path) of ``n_base`` nodes with ``n_houses`` five-node houses
  (a square with a roof) each attached by one bottom corner to a base node, evenly spaced.
* :func:`barbell_graph`: two ``K_clique`` joined by a path of ``path`` nodes (struc2vec Fig. 3).
* :func:`mirrored_karate`: Zachary's karate club, a copy of it, and ``bridges`` edges joining a
  node to its own mirror (struc2vec Fig. 4; the swap of the copies is an automorphism, so mirrored
  twins have identical structure and their embeddings should coincide). ``twins[v]`` is ``v``'s mirror.

Example:
    >>> rg = house_graph("cycle", n_base=12, n_houses=4)
    >>> rg.graph.num_nodes(), int(rg.labels.max()) + 1
    (32, 7)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vastgraph.datasets.expressiveness import graph_from_edges
from vastgraph.errors import ValidationError
from vastgraph.graph.hetero_graph import HeteroGraph
from vastgraph.seeding import seed_from
from vastgraph.validation import check_float, check_int

BASES = ("cycle", "path")


@dataclass
class RoleGraph:
    """A graph with a structural role per node.

    Attributes:
        name: a short description.
        graph: undirected homogeneous :class:`~vastgraph.graph.hetero_graph.HeteroGraph`.
        labels: int64 ``(n,)`` role of each node (``0..R-1``).
        twins: int64 ``(n,)`` mirror twin of each node (mirrored graphs), else None.
    """

    name: str
    graph: HeteroGraph
    labels: np.ndarray
    twins: np.ndarray | None = None

    @property
    def num_roles(self) -> int:
        return int(self.labels.max()) + 1


def _finish(name: str, src: list[int] | np.ndarray, dst: list[int] | np.ndarray, n: int, noise: float,
            random_state: Any, twins: np.ndarray | None = None, labels: np.ndarray | None = None) -> RoleGraph:
    from vastgraph.train.wl import wl_colors

    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    if labels is None:
        labels = wl_colors(graph_from_edges(src, dst, n))
    noise = check_float("noise", noise, low=0.0, low_open=False, high=1.0)
    extra = int(round(noise * src.size))
    if extra:
        rng = np.random.default_rng(seed_from(random_state))
        have = set(zip(np.minimum(src, dst).tolist(), np.maximum(src, dst).tolist()))
        add_s, add_d = [], []
        while len(add_s) < extra:
            u, v = (int(x) for x in rng.integers(0, n, size=2))
            key = (min(u, v), max(u, v))
            if u != v and key not in have:
                have.add(key)
                add_s.append(u)
                add_d.append(v)
        src, dst = np.concatenate([src, add_s]), np.concatenate([dst, add_d])
    return RoleGraph(name, graph_from_edges(src, dst, n), labels.astype(np.int64), twins)


def house_graph(base: str = "cycle", *, n_base: int = 30, n_houses: int = 10, noise: float = 0.0,
                random_state: Any = None) -> RoleGraph:
    """A cycle or path with houses attached at evenly spaced base nodes (GraphWave's benchmark).

    Args:
        base: ``"cycle"`` or ``"path"``. Default ``"cycle"``.
        n_base: base nodes (>= 3). Default 30.
        n_houses: houses (1 .. n_base), attached at base nodes ``⌊i · n_base / n_houses⌋``. Default 10.
        noise: random edges added, as a fraction of the construction's edges, in [0, 1]. Default 0.
        random_state: seed of the noise edges.

    Returns:
        :class:`RoleGraph` with ``n_base + 5 · n_houses`` nodes.

    Example:
        >>> house_graph("path", n_base=10, n_houses=2).graph.num_nodes()
        20
    """
    if base not in BASES:
        raise ValidationError(f"base={base!r}: expected one of {', '.join(BASES)}")
    nb = check_int("n_base", n_base, 3)
    nh = check_int("n_houses", n_houses, 1)
    if nh > nb:
        raise ValidationError(f"n_houses={nh}: expected at most n_base={nb}")
    src = list(range(nb - 1))
    dst = list(range(1, nb))
    if base == "cycle":
        src.append(nb - 1)
        dst.append(0)
    for h in range(nh):
        a = nb + 5 * h  # a b bottom (a attached), c d top, e roof
        b, c, d, e = a + 1, a + 2, a + 3, a + 4
        src += [a, b, d, c, c, d, (h * nb) // nh]
        dst += [b, d, c, a, e, e, a]
    labels = np.concatenate([np.zeros(nb, np.int64), np.tile(np.arange(2, 7), nh)])
    labels[[(h * nb) // nh for h in range(nh)]] = 1
    return _finish(f"{base} of {nb} with {nh} houses", src, dst, nb + 5 * nh, noise, random_state,
                   labels=labels)


def barbell_graph(clique: int = 10, path: int = 10, *, noise: float = 0.0, random_state: Any = None) -> RoleGraph:
    """Two ``K_clique`` joined by a path of ``path`` nodes (struc2vec's barbell, Fig. 3).

    Args:
        clique: nodes per clique (>= 3). Default 10.
        path: nodes on the joining path (>= 1). Default 10.
        noise, random_state: random edges added, as in :func:`house_graph`.

    Example:
        >>> rg = barbell_graph(5, 4)
        >>> rg.graph.num_nodes(), rg.num_roles  # clique interior, bridge, 2 path positions
        (14, 4)
    """
    k = check_int("clique", clique, 3)
    p = check_int("path", path, 1)
    src: list[int] = []
    dst: list[int] = []
    for off in (0, k + p):
        for i in range(k):
            for j in range(i + 1, k):
                src.append(off + i)
                dst.append(off + j)
    chain = [k - 1] + list(range(k, k + p)) + [k + p]  # bridge of clique 1, path, bridge of clique 2
    src += chain[:-1]
    dst += chain[1:]
    return _finish(f"barbell K{k}-P{p}-K{k}", src, dst, 2 * k + p, noise, random_state)


def mirrored_karate(bridges: int = 1, *, noise: float = 0.0, random_state: Any = None) -> RoleGraph:
    """Zachary's karate club and its mirror copy, joined by ``bridges`` edges ``v — v'`` (struc2vec Fig. 4).

    Nodes ``0..33`` are the original, ``34..67`` the copy (``v' = v + 34``); the bridges join the
    ``bridges`` highest-degree nodes to their mirrors. ``labels`` are the 1-WL roles of the noise-free
    graph; ``twins[v]`` is the mirror of ``v`` (structurally identical without noise).

    Args:
        bridges: mirror edges (1 .. 34). Default 1.
        noise, random_state: random edges added, as in :func:`house_graph`.

    Example:
        >>> rg = mirrored_karate()
        >>> rg.graph.num_nodes(), int(rg.twins[0]), bool(rg.labels[0] == rg.labels[34])
        (68, 34, True)
    """
    import networkx as nx

    nbr = check_int("bridges", bridges, 1)
    if nbr > 34:
        raise ValidationError(f"bridges={nbr}: expected at most 34")
    g = nx.karate_club_graph()
    e = np.array(sorted(g.edges()), dtype=np.int64)
    deg = np.bincount(e.ravel(), minlength=34)
    hubs = np.argsort(-deg, kind="stable")[:nbr]
    src = np.concatenate([e[:, 0], e[:, 0] + 34, hubs])
    dst = np.concatenate([e[:, 1], e[:, 1] + 34, hubs + 34])
    twins = np.concatenate([np.arange(34, 68), np.arange(34)]).astype(np.int64)
    return _finish(f"mirrored karate ({nbr} bridge{'s' if nbr > 1 else ''})", src, dst, 68, noise, random_state,
                   twins)


def role_graphs(noise: float = 0.0, random_state: Any = None) -> list[RoleGraph]:
    """The benchmark set: houses on a cycle and on a path, a barbell and the mirrored karate club.

    Example:
        >>> [rg.graph.num_nodes() for rg in role_graphs()]
        [80, 80, 30, 68]
    """
    rs = np.random.default_rng(seed_from(random_state))
    return [house_graph("cycle", n_base=30, n_houses=10, noise=noise, random_state=rs),
            house_graph("path", n_base=30, n_houses=10, noise=noise, random_state=rs),
            barbell_graph(10, 10, noise=noise, random_state=rs),
            mirrored_karate(1, noise=noise, random_state=rs)]


__all__ = ["RoleGraph", "barbell_graph", "house_graph", "mirrored_karate", "role_graphs"]
