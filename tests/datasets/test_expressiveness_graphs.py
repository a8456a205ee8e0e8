"""Expressiveness families: sizes, regularity, non-isomorphism, labels and bad input."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from vastgraph.datasets.expressiveness import (CSL_SKIPS, csl_edges, csl_graphs, decalin_bicyclopentyl,
                                               regular_pairs)
from vastgraph.errors import ValidationError


def _nx(g):
    s, d = g.edge_index()
    h = nx.Graph()
    h.add_nodes_from(range(g.num_nodes()))
    h.add_edges_from(zip(s.tolist(), d.tolist()))
    return h


def test_regular_pairs_are_regular_equal_sized_and_non_isomorphic():
    fam = regular_pairs(2, n=10, degree=3, random_state=1)
    assert len(fam) == 8 and fam.labels.tolist() == [0, 1] * 4
    assert fam.names[:4] == ["rook 4x4", "Shrikhande", "C6", "2xC3"]
    for i, j in fam.pairs:
        a, b = _nx(fam.graphs[i]), _nx(fam.graphs[j])
        assert a.number_of_nodes() == b.number_of_nodes() and a.number_of_edges() == b.number_of_edges()
        da, db = {d for _, d in a.degree()}, {d for _, d in b.degree()}
        assert len(da) == 1 and da == db
        assert not nx.is_isomorphic(a, b)
    assert {d for _, d in _nx(fam.graphs[0]).degree()} == {6}


def test_csl_structure_and_relabelling():
    fam = csl_graphs(2, random_state=0)
    assert len(fam) == 20 and np.bincount(fam.labels).tolist() == [2] * 10
    for g, lab in zip(fam.graphs, fam.labels):
        h = _nx(g)
        assert h.number_of_nodes() == 41 and h.number_of_edges() == 82
        assert {d for _, d in h.degree()} == {4}
        ref = nx.Graph(list(zip(*[x.tolist() for x in csl_edges(41, CSL_SKIPS[lab])])))
        assert nx.is_isomorphic(h, ref)
    # copies are relabelled, not identical edge lists
    assert not np.array_equal(fam.graphs[0].edge_index()[1], fam.graphs[1].edge_index()[1])
    assert not nx.is_isomorphic(_nx(fam.graphs[0]), _nx(fam.graphs[2]))


def test_decalin_bicyclopentyl():
    fam = decalin_bicyclopentyl()
    a, b = (_nx(g) for g in fam.graphs)
    assert a.number_of_nodes() == b.number_of_nodes() == 10
    assert a.number_of_edges() == b.number_of_edges() == 11
    assert sorted(d for _, d in a.degree()) == sorted(d for _, d in b.degree())
    assert sorted(len(c) for c in nx.minimum_cycle_basis(a)) == [6, 6]
    assert sorted(len(c) for c in nx.minimum_cycle_basis(b)) == [5, 5]


def test_bad_input():
    with pytest.raises(ValidationError, match="copies"):
        csl_graphs(0)
    with pytest.raises(ValidationError, match="skips"):
        csl_graphs(1, n=11, skips=[6])
    with pytest.raises(ValidationError, match="even"):
        regular_pairs(1, n=7, degree=3)
    with pytest.raises(ValidationError, match="n_random"):
        regular_pairs(-1)
    with pytest.raises(ValidationError, match="random_state"):
        csl_graphs(1, random_state="x")
