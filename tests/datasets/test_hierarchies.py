"""Tests of the tree and hierarchical graph generators."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components

from vastgraph.datasets.hierarchies import balanced_tree, hierarchical_sbm, random_tree
from vastgraph.errors import ValidationError
from vastgraph.graph.convert import to_scipy


def _is_tree(g) -> bool:
    n = g.num_nodes()
    ncomp, _ = connected_components(to_scipy(g), directed=False)
    return g.num_undirected_edges() == n - 1 and ncomp == 1


def test_balanced_tree_structure():
    g = balanced_tree(3, 3)
    assert g.num_nodes() == 1 + 3 + 9 + 27
    assert _is_tree(g)
    depth = g.node_data(None, "depth")
    parent = g.node_data(None, "parent")
    assert parent[0] == -1 and depth[0] == 0
    assert np.array_equal(parent[1:], (np.arange(1, 40) - 1) // 3)
    assert np.array_equal(depth[1:], depth[parent[1:]] + 1)
    assert np.bincount(depth).tolist() == [1, 3, 9, 27]
    deg = g.out_degree()
    assert deg[0] == 3 and (deg[depth == 3] == 1).all() and (deg[(depth > 0) & (depth < 3)] == 4).all()
    lab = g.labels()
    assert lab[0] == -1 and sorted(set(lab[1:].tolist())) == [0, 1, 2]
    # every node shares its label with its parent (below depth 1)
    deep = depth >= 2
    assert np.array_equal(lab[deep], lab[parent[deep]])
    assert g.info["tree"]["nodes"] == 40


def test_balanced_tree_unary_is_path():
    g = balanced_tree(1, 4)
    assert g.num_nodes() == 5 and _is_tree(g)
    assert g.out_degree().tolist() == [1, 2, 2, 2, 1]


@pytest.mark.parametrize("method", ["uniform", "recursive"])
def test_random_tree_is_tree_and_reproducible(method):
    g = random_tree(300, random_state=3, method=method)
    assert _is_tree(g)
    h = random_tree(300, random_state=3, method=method)
    assert np.array_equal(np.asarray(g.adjacency().indices), np.asarray(h.adjacency().indices))
    depth, parent = g.node_data(None, "depth"), g.node_data(None, "parent")
    assert parent[0] == -1 and (parent[1:] >= 0).all()
    assert np.array_equal(depth[1:], depth[parent[1:]] + 1)
    assert g.info["tree"]["height"] == depth.max()
    other = random_tree(300, random_state=4, method=method)
    assert not np.array_equal(np.asarray(g.adjacency().indices), np.asarray(other.adjacency().indices))


def test_random_tree_heights_differ_by_method():
    # uniform labelled trees are Θ(√n) deep, random recursive trees Θ(log n)
    uni = np.mean([random_tree(2000, random_state=s).info["tree"]["height"] for s in range(3)])
    rec = np.mean([random_tree(2000, random_state=s, method="recursive").info["tree"]["height"] for s in range(3)])
    assert uni > 2 * rec


def test_random_tree_uniform_degree_law():
    # in a uniform labelled tree, deg - 1 ~ Binomial(n - 2, 1/n) → P(leaf) ≈ 1/e
    g = random_tree(4000, random_state=0)
    leaf_fraction = float(np.mean(g.out_degree() == 1))
    assert abs(leaf_fraction - np.exp(-1)) < 0.03


def test_random_tree_two_nodes():
    g = random_tree(2, random_state=0)
    assert _is_tree(g)


def test_hierarchical_sbm_levels():
    g = hierarchical_sbm(2, 3, block_size=20, p_in=0.6, decay=0.1, random_state=0)
    n = 20 * 9
    assert g.num_nodes() == n
    path = g.node_data(None, "path")
    block = g.node_data(None, "block")
    assert path.shape == (n, 2)
    assert np.array_equal(path[:, 1], block) and np.array_equal(path[:, 0], block // 3)
    assert np.array_equal(g.labels(), path[:, 0])
    s, d = g.edge_index()
    same_leaf = block[s] == block[d]
    same_top = (path[s, 0] == path[d, 0]) & ~same_leaf
    other = ~same_leaf & ~same_top
    # observed densities per depth against p_ℓ = p_in · decay^(levels − ℓ)
    pairs = {"leaf": n * 19 / 2, "top": n * 40 / 2, "root": n * 120 / 2}
    dens = {"leaf": same_leaf.sum() / 2 / pairs["leaf"], "top": same_top.sum() / 2 / pairs["top"],
            "root": other.sum() / 2 / pairs["root"]}
    assert abs(dens["leaf"] - 0.6) < 0.05
    assert abs(dens["top"] - 0.06) < 0.02
    assert abs(dens["root"] - 0.006) < 0.004
    assert (s != d).all()
    assert g.info["hierarchy"]["edges"] == g.num_undirected_edges()
    # pairs are drawn without replacement: no edge is lost to merging
    assert g.num_undirected_edges() == sum(d["edges"] for d in g.info["hierarchy"]["per_depth"])


def test_hierarchical_sbm_reproducible_and_zero_decay():
    a = hierarchical_sbm(2, 2, block_size=8, random_state=5)
    b = hierarchical_sbm(2, 2, block_size=8, random_state=5)
    assert np.array_equal(np.asarray(a.adjacency().indices), np.asarray(b.adjacency().indices))
    g = hierarchical_sbm(2, 2, block_size=8, p_in=1.0, decay=0.0, random_state=0)
    s, d = g.edge_index()
    block = g.node_data(None, "block")
    assert (block[s] == block[d]).all()
    assert g.num_undirected_edges() <= 4 * 28


@pytest.mark.parametrize("call, match", [
    (lambda: balanced_tree(0, 3), "branching"),
    (lambda: balanced_tree(2, 0), "depth"),
    (lambda: balanced_tree(2.5, 3), "branching"),
    (lambda: balanced_tree(10, 9), "nodes"),
    (lambda: random_tree(1), "n="),
    (lambda: random_tree(10, method="prufer"), "method"),
    (lambda: random_tree(10, random_state=-1), "random_state"),
    (lambda: hierarchical_sbm(0, 2), "levels"),
    (lambda: hierarchical_sbm(2, 1), "branching"),
    (lambda: hierarchical_sbm(2, 2, block_size=0), "block_size"),
    (lambda: hierarchical_sbm(2, 2, p_in=0.0), "p_in"),
    (lambda: hierarchical_sbm(2, 2, p_in=1.5), "p_in"),
    (lambda: hierarchical_sbm(2, 2, decay=-0.1), "decay"),
    (lambda: hierarchical_sbm(1, 2, block_size=1, p_in=0.5), None),
])
def test_bad_input(call, match):
    if match is None:  # 2 nodes is the smallest valid graph
        assert call().num_nodes() == 2
        return
    with pytest.raises(ValidationError, match=match):
        call()


def test_hierarchical_block_model_registered():
    from vastgraph.datasets.registry import list_datasets, load_dataset

    assert "hierarchical-sbm" in list_datasets()
    ds = load_dataset("hierarchical-sbm", random_state=0)
    g = ds.graph
    path = g.node_data(None, "path")
    assert g.num_nodes() == 729 and path.shape == (729, 6)
    assert [len(np.unique(path[:, lv])) for lv in range(6)] == [3, 9, 27, 81, 243, 729]
    s, d = g.edge_index()
    # depth of the lowest common ancestor of every edge: edge density falls with it
    lca = (path[s] == path[d]).sum(axis=1)
    per = g.info["hierarchy"]["per_depth"]
    dens = {r["depth"]: r["edges"] / r["pairs"] for r in per if r["pairs"]}
    assert dens[5] > dens[3] > dens[1] > dens[0]
    assert np.bincount(lca, minlength=6)[:6].sum() == s.size
    assert ds.name == "hierarchical-sbm" and np.array_equal(g.labels(), path[:, 0])
    again = load_dataset("hierarchical-sbm", random_state=0).graph
    assert np.array_equal(np.asarray(again.edge_index()[0]), np.asarray(s))
