"""Per-edge-type directedness: one builder, directed and undirected edge types side by side."""

import numpy as np
import pytest

from vastgraph.errors import ValidationError
from vastgraph.graph import GraphBuilder


def test_mixed_directed_and_undirected_edge_types():
    b = GraphBuilder(directed=True)
    b.add_edges(["q1", "q2"], ["a1", "a2"], etype=("query", "click", "ad"))
    b.add_edges(["a1"], ["a2"], etype=("ad", "cobid", "ad"), directed=False)
    g = b.build()
    assert not g.is_undirected("click") and g.is_undirected("cobid")
    assert g.num_edges("click") == 2 and g.num_edges("cobid") == 2  # cobid stored both ways
    assert g.edge_store("cobid").symmetric and not g.edge_store("click").symmetric
    assert g.info["build"]["undirected_edge_types"] == ["ad:cobid:ad"]
    a2 = g.lookup("ad", ["a2"])[0]
    assert g.lookup("ad", ["a1"]).tolist() == g.neighbors(a2, "cobid").tolist()


def test_conflicting_directedness_is_refused():
    b = GraphBuilder()
    b.add_edges([0], [1], etype=("n", "r", "n"), directed=False)
    with pytest.raises(ValidationError, match="conflicts"):
        b.add_edges([1], [2], etype=("n", "r", "n"), directed=True)
    assert b.is_directed(("n", "r", "n")) is False
    assert np.array_equal(b.build().neighbors(1, "r"), [0])
