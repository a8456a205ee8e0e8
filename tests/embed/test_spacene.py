"""Tests of SpaceNE and its community trees."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.datasets.hierarchies import hierarchical_sbm
from vastgraph.embed.community_tree import read_tree_file, recursive_louvain, recursive_spectral, tree_from_paths
from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
from vastgraph.embed.spacene import SpaceNE, level_dimensions, load_state
from vastgraph.errors import ParseError, ValidationError


@pytest.fixture(autouse=True)
def torch_one_thread():
    """One torch thread: bit-exact reproducibility and no oversubscription of a shared machine."""
    torch = pytest.importorskip("torch")
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture(scope="module")
def graph():
    return hierarchical_sbm(2, 3, block_size=8, p_in=0.8, decay=0.15, random_state=0)


def _fit(graph, **kw):
    params = dict(dimensions=12, tree="data:path", epochs=6, batch_size=256, window=2, walks_per_node=2,
                  walk_length=10, random_state=0)
    params.update(kw)
    return SpaceNE(**params).fit(graph)


def test_objective_decreases_and_outputs(graph):
    m = _fit(graph, epochs=15, lr=0.05)
    assert m.losses_[-1] < 0.9 * m.losses_[0]
    assert m.embedding_.shape == (72, 12) and m.embedding_.dtype == np.float32
    assert set(m.terms_) == {"proximity", "cross", "sibling", "low_rank"}
    assert [z.shape for z in m.coordinates_] == [(72, 12), (72, 9), (72, 7)]
    assert len(m.effective_dims_) == 2
    for lv, eff in enumerate(m.effective_dims_, start=1):
        assert 0 < eff <= m.level_dims_[lv]


def test_dimensions_shrink_with_depth(graph):
    m = _fit(graph, level_dims=[8, 5])
    assert m.level_dims_ == [12, 8, 5]
    assert [b.shape for b in m.bases_] == [(3, 12, 8), (9, 8, 5)]
    assert m.basis(2, 4).shape == (12, 5)
    assert level_dimensions(64, 3, shrink=0.5) == [64, 32, 16, 8]
    with pytest.raises(ValidationError, match="shrink with depth"):
        _fit(graph, level_dims=[8, 8])
    with pytest.raises(ValidationError, match="2 level"):
        _fit(graph, level_dims=[8])


def test_bases_orthonormal_and_nested(graph):
    m = _fit(graph)
    for B in m.bases_:
        gram = np.einsum("cij,cik->cjk", B.astype(np.float64), B.astype(np.float64))
        assert np.abs(gram - np.eye(B.shape[2])).max() < 1e-5
    U_child, U_parent = m.basis(2, 5), m.basis(1, int(m.tree_.parents[1][5]))
    assert np.abs(U_child.T @ U_child - np.eye(U_child.shape[1])).max() < 1e-5
    # the child's subspace lies inside its parent's: projecting onto the parent changes nothing
    assert np.abs(U_parent @ (U_parent.T @ U_child) - U_child).max() < 1e-5


def test_seeded_run_is_reproducible(graph):
    a, b = _fit(graph), _fit(graph)
    assert np.array_equal(a.embedding_, b.embedding_)
    assert all(np.array_equal(x, y) for x, y in zip(a.bases_, b.bases_))
    c = _fit(graph, random_state=1)
    assert not np.array_equal(a.embedding_, c.embedding_)


def test_hierarchy_is_learned_with_true_tree(graph):
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    m = _fit(graph, epochs=30, lr=0.05, window=3, walks_per_node=5)
    leaf = graph.node_data(None, "path")[:, 1]
    pred = KMeans(9, n_init=4, random_state=0).fit_predict(m.embedding_)
    assert adjusted_rand_score(leaf, pred) > 0.6


def test_auto_tree_and_levels(graph):
    t = recursive_louvain(graph, levels=2, branching=3, random_state=0)
    assert t.levels == 2 and t.sizes[0] <= 3 and t.sizes[1] <= 9
    assert (t.parents[1][t.paths[:, 1]] == t.paths[:, 0]).all()
    m = _fit(graph, tree="auto", levels=2, branching=3)
    assert m.tree_.levels == 2
    assert _fit(graph, tree="louvain", levels=2).tree_.levels == 2
    m1 = _fit(graph, levels=1)   # a given tree is cut below `levels`
    assert m1.tree_.levels == 1 and len(m1.bases_) == 1


def test_tree_from_paths_nests_labels():
    t = tree_from_paths(np.array([[0, 0], [0, 0], [1, 0], [1, 1]]))
    assert t.sizes == [2, 3]   # label 0 under parent 1 is a different community from label 0 under parent 0
    assert t.paths[:, 1].tolist() == [0, 0, 1, 2]
    with pytest.raises(ValidationError, match="negative"):
        tree_from_paths(np.array([0, -1]))


def test_tree_file(graph, tmp_path):
    path = graph.node_data(None, "path")
    f = tmp_path / "tree.txt"
    f.write_text("# node path\n" + "".join(f"{v} top{p[0]}/mid{p[1]}\n" for v, p in enumerate(path)))
    t = read_tree_file(f, graph)
    assert t.sizes == [3, 9]
    assert t.names[0] == ("top0", "top1", "top2")
    m = _fit(graph, tree=str(f))
    assert m.tree_.sizes == [3, 9]
    # paths of different depth are padded with their last community
    lines = [f"{v} a/b\n" if v else "0 a\n" for v in range(72)]
    f.write_text("".join(lines))
    assert read_tree_file(f, graph).sizes == [1, 2]


@pytest.mark.parametrize("text, match", [
    ("0 a/b\n1 a b\n", "line 2.*3 field"),
    ("0 a/b\nx a/b\n", "line 2.*not an integer"),
    ("0 a/b\n999 a/b\n", "line 2.*unknown node"),
    ("0 a/b\n\n0 a/c\n", "line 3.*given twice \\(first on line 1\\)"),
    ("0 a//b\n", "line 1.*empty community"),
    ("0 a/b\n", "71 node\\(s\\) of the graph have no line"),
])
def test_tree_file_errors_name_the_line(graph, tmp_path, text, match):
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(ParseError, match=match):
        read_tree_file(f, graph)


@pytest.mark.parametrize("kw, match", [
    ({"dimensions": 1}, "dimensions"),
    ({"dimensions": 2.5}, "dimensions"),
    ({"epochs": 0}, "epochs"),
    ({"negative": -1}, "negative"),
    ({"lr": 0.0}, "lr"),
    ({"shrink": 1.0}, "shrink"),
    ({"cross": -1.0}, "cross"),
    ({"level_weight": 1.0}, "level_weight"),
    ({"detail": -0.1}, "detail"),
    ({"huber_delta": 0}, "huber_delta"),
    ({"rank_every": 0}, "rank_every"),
    ({"window": -1}, "window"),
    ({"levels": 0}, "levels"),
    ({"tree": "auto", "branching": 1}, "branching"),
    ({"tree": "data:nope"}, "no node data 'nope'"),
    ({"tree": "/no/such/file"}, "tree file"),
    ({"tree": np.zeros(5, np.int64)}, "covers 5 nodes"),
    ({"level_dims": "8,4"}, "level_dims"),
    ({"dimensions": 2, "levels": 2}, "too small"),
])
def test_bad_parameters(graph, kw, match):
    with pytest.raises(ValidationError, match=match):
        _fit(graph, **kw)


def test_save_load_round_trip(graph, tmp_path):
    m = _fit(graph)
    path = m.keyed_.save(tmp_path / "emb")
    k = KeyedEmbeddings.load(path)
    assert np.array_equal(np.asarray(k.vectors), m.embedding_)
    assert k.meta["method"] == "SpaceNE" and k.meta["level_dims"] == m.level_dims_
    m.save_state(tmp_path / "emb" / "state")
    st = load_state(tmp_path / "emb" / "state")
    assert st["level_dims"] == m.level_dims_
    assert np.array_equal(st["tree"].paths, m.tree_.paths)
    assert all(np.array_equal(a, b) for a, b in zip(st["bases"], m.bases_))
    with pytest.raises(ValidationError, match="no SpaceNE state"):
        load_state(tmp_path)


def test_registry_entry():
    from vastgraph.embed.registry import get_embedder

    assert get_embedder("spacene") is SpaceNE


def test_spectral_tree_recovers_planted_hierarchy():
    from sklearn.metrics import adjusted_rand_score

    g = hierarchical_sbm(2, 3, block_size=12, p_in=0.7, decay=0.1, random_state=1)
    path = g.node_data(None, "path")
    t = recursive_spectral(g, levels=2, branching=3, random_state=0)
    assert t.sizes == [3, 9]
    assert (t.parents[1][t.paths[:, 1]] == t.paths[:, 0]).all()
    assert adjusted_rand_score(path[:, 0], t.paths[:, 0]) > 0.95
    assert adjusted_rand_score(path[:, 1], t.paths[:, 1]) > 0.9
    free = recursive_spectral(g, levels=1, random_state=0)   # branching from the eigengap
    assert free.sizes == [3]
    # no part under min_size is created: the 12-node leaves split into at most 2 parts of >= 5
    small = recursive_spectral(g, levels=3, branching=3, min_size=5, random_state=0)
    assert np.bincount(small.paths[:, 2]).min() >= 5 and small.sizes[2] <= 18


def test_output_is_coarse_to_fine(graph):
    """k-means on the output recovers the true tree's top level exactly and the level weights
    order the components: the depth-1 part of a vector dominates its norm."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    m = _fit(graph, epochs=10, lr=0.05)
    path = graph.node_data(None, "path")
    pred = KMeans(3, n_init=4, random_state=0).fit_predict(m.embedding_)
    assert adjusted_rand_score(path[:, 0], pred) == 1.0
    U1 = np.stack([m.basis(1, c) for c in range(3)])
    x = m.embedding_.astype(np.float64)
    z0 = m.coordinates_[0].astype(np.float64)
    rest = x - m.detail * z0 / np.sqrt(np.mean(np.sum(z0 ** 2, axis=1)))
    # beyond the root detail β·ẑ^0, every vector lies in its depth-1 community's subspace
    U = U1[m.tree_.paths[:, 0]]
    proj = np.einsum("nij,nj->ni", U, np.einsum("nji,nj->ni", U, rest))
    assert np.abs(rest - proj).max() < 1e-4
    flat = _fit(graph, epochs=10, lr=0.05, level_weight=0.1)
    a = np.linalg.norm(flat.embedding_ - m.embedding_, axis=1)
    assert a.mean() > 0.1   # the level weight changes the composition
