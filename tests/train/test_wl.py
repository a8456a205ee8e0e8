"""1-WL colour refinement: stable colourings, equivalence of the expressiveness families, errors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from vastgraph.datasets.expressiveness import csl_graphs, decalin_bicyclopentyl, graph_from_edges, regular_pairs
from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.train.wl import wl_colors, wl_equivalent


def _path(n):
    return graph_from_edges(np.arange(n - 1), np.arange(1, n), n)


def test_path_colours_are_distance_to_end():
    c = wl_colors(_path(5))
    assert c[0] == c[4] and c[1] == c[3]
    assert len({int(c[0]), int(c[1]), int(c[2])}) == 3


def test_iterations_limit_and_stability():
    g = _path(7)
    assert len(set(wl_colors(g, iterations=0).tolist())) == 1
    assert len(set(wl_colors(g, iterations=1).tolist())) == 2  # degree 1 vs 2
    full = wl_colors(g)
    assert np.array_equal(full, wl_colors(g, iterations=100))
    assert len(set(full.tolist())) == 4


def test_colours_are_canonical_under_relabelling():
    g = nx.karate_club_graph()
    e = np.array(g.edges())
    perm = np.random.default_rng(0).permutation(34)
    c1 = wl_colors(graph_from_edges(e[:, 0], e[:, 1], 34))
    c2 = wl_colors(graph_from_edges(perm[e[:, 0]], perm[e[:, 1]], 34))
    assert np.array_equal(c1, c2[perm])


def test_matches_networkx_wl_hash_partition():
    g = nx.les_miserables_graph() if hasattr(nx, "les_miserables_graph") else nx.karate_club_graph()
    g = nx.convert_node_labels_to_integers(g)
    e = np.array(g.edges())
    ours = wl_colors(graph_from_edges(e[:, 0], e[:, 1], g.number_of_nodes()))
    hashes = nx.weisfeiler_lehman_subgraph_hashes(g, iterations=g.number_of_nodes())
    theirs = [h[-1] for _, h in sorted(hashes.items())]
    # same partition: two nodes share our colour iff they share networkx's final hash
    same_ours = ours[:, None] == ours[None, :]
    t = np.array(theirs)
    assert np.array_equal(same_ours, t[:, None] == t[None, :])


@pytest.mark.parametrize("family", ["regular", "decalin"])
def test_pair_families_are_wl_equivalent(family):
    fam = regular_pairs(1, random_state=0) if family == "regular" else decalin_bicyclopentyl()
    for i, j in fam.pairs:
        assert wl_equivalent(fam.graphs[i], fam.graphs[j])
        ci, cj = wl_colors(fam.graphs[i]), wl_colors(fam.graphs[j])
        assert np.array_equal(np.sort(ci), np.sort(cj))


def test_csl_classes_are_wl_equivalent():
    fam = csl_graphs(1, random_state=0)
    assert all(wl_equivalent(fam.graphs[0], g) for g in fam.graphs[1:])


def test_non_equivalent_graphs():
    star = graph_from_edges([0, 0, 0], [1, 2, 3], 4)
    assert not wl_equivalent(star, _path(4))
    assert not wl_equivalent(_path(4), _path(5))


def test_directed_graph_uses_in_and_out_neighbours():
    b = GraphBuilder(directed=True)
    b.add_edges([0, 1], [1, 2])
    c = wl_colors(b.build())
    assert len(set(c.tolist())) == 3  # source, middle, sink


def test_bad_input():
    g = _path(4)
    with pytest.raises(ValidationError, match="iterations"):
        wl_colors(g, iterations=-1)
    with pytest.raises(ValidationError, match="initial"):
        wl_colors(g, initial=[0, 1])
    with pytest.raises(ValidationError, match="GraphView"):
        wl_colors("not a graph")
    b = GraphBuilder()
    b.add_edges([0], [1], etype="a")
    b.add_edges([0], [1], etype="b")
    with pytest.raises(ValidationError, match="edge types"):
        wl_colors(b.build())
    b = GraphBuilder()
    b.add_edges([0], [1], etype=("user", "clicks", "item"))
    with pytest.raises(ValidationError, match="within one node type"):
        wl_colors(b.build())
    b = GraphBuilder()
    b.add_edge_type(("node", "edge", "node"))
    b.add_nodes("node", count=0)
    try:
        empty = b.build()
    except EmptyInputError:
        return
    with pytest.raises(EmptyInputError):
        wl_colors(empty)
