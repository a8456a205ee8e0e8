"""Role-labelled synthetic graphs (struc2vec / GraphWave style)."""

import numpy as np
import pytest

from vastgraph.datasets.roles import barbell_graph, house_graph, mirrored_karate
from vastgraph.errors import ValidationError


def test_house_roles_and_noise_are_seeded():
    rg = house_graph("cycle", n_base=12, n_houses=4)
    assert rg.graph.num_nodes() == 32 and rg.num_roles == 7
    assert np.bincount(rg.labels).tolist() == [8, 4, 4, 4, 4, 4, 4]
    a = house_graph("path", n_base=12, n_houses=4, noise=0.2, random_state=1)
    b = house_graph("path", n_base=12, n_houses=4, noise=0.2, random_state=1)
    assert a.graph.num_edges() == b.graph.num_edges() > house_graph("path", n_base=12, n_houses=4).graph.num_edges()
    assert np.array_equal(a.graph.coo().src, b.graph.coo().src)


def test_barbell_and_mirrored_twins_share_roles():
    rg = barbell_graph(5, 4)
    assert rg.num_roles == 4 and rg.graph.num_nodes() == 14
    km = mirrored_karate()
    assert np.array_equal(km.labels, km.labels[km.twins])
    assert np.array_equal(km.twins[km.twins], np.arange(68))


def test_bad_arguments():
    with pytest.raises(ValidationError, match="base"):
        house_graph("tree")
    with pytest.raises(ValidationError, match="n_houses"):
        house_graph(n_base=4, n_houses=5)
