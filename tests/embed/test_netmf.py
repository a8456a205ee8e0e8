"""NetMF: the matrix against a plain dense numpy computation, the factorisation, both methods."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.embed import netmf as netmf_mod
from vastgraph.embed.netmf import NetMF, netmf_matrix, symmetric_adjacency
from vastgraph.errors import EmptyInputError, NotFittedError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.train.node_classification import evaluate_node_classification


def sbm(blocks=4, size=25, p_in=0.4, p_out=0.02, seed=0, weighted=False):
    rng = np.random.default_rng(seed)
    n = blocks * size
    y = np.repeat(np.arange(blocks), size)
    u, v = np.triu_indices(n, k=1)
    p = np.where(y[u] == y[v], p_in, p_out)
    keep = rng.random(u.size) < p
    u, v = u[keep], v[keep]
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=n, labels=y)
    w = rng.uniform(0.5, 2.0, u.size) if weighted else None
    b.add_edges(u, v, weight=w)
    return b.build(), y


def reference_matrix(a: np.ndarray, window: int, negative: float) -> np.ndarray:
    """The paper's formula, literally: vol/(bT) (Σ_r (D⁻¹A)^r) D⁻¹, then log(max(M, 1))."""
    deg = a.sum(axis=1)
    d_inv = np.diag(1.0 / deg)
    p = d_inv @ a
    s = sum(np.linalg.matrix_power(p, r) for r in range(1, window + 1))
    m = a.sum() / (negative * window) * s @ d_inv
    return np.log(np.maximum(m, 1.0))


def gram_of_reference(ref: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
    u, s, _ = np.linalg.svd(ref)
    assert s[d - 1] - s[d] > 1e-3 * s[0]  # a spectral gap, so the rank-d subspace is unique
    return (u[:, :d] * s[:d]) @ u[:, :d].T, s[:d]


@pytest.mark.parametrize("window,negative,weighted", [(1, 1.0, False), (3, 1.0, True), (10, 2.5, False)])
def test_matrix_matches_dense_reference(window, negative, weighted):
    g, _ = sbm(weighted=weighted, seed=window)
    a = symmetric_adjacency(g)
    ref = reference_matrix(a.toarray(), window, negative)
    got = netmf_matrix(a, window, negative)
    assert ref.max() > 0 and (ref == 0).any()  # partly truncated
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("force_arpack", [False, True])
def test_exact_embedding_matches_reference_svd(monkeypatch, force_arpack):
    if force_arpack:
        monkeypatch.setattr(netmf_mod, "DENSE_EIG_MAX_NODES", 10)
    g, _ = sbm(seed=3)
    ref = reference_matrix(symmetric_adjacency(g).toarray(), 5, 1.0)
    gram, s = gram_of_reference(ref, 4)
    model = NetMF(dimensions=4, window=5, negative=1.0, random_state=0).fit(g)
    e = model.embedding_.astype(np.float64)
    assert model.embedding_.shape == (100, 4) and model.embedding_.dtype == np.float32
    np.testing.assert_allclose(model.singular_values_, s, rtol=1e-6)
    np.testing.assert_allclose(e @ e.T, gram, atol=1e-5 * np.abs(gram).max())


def test_approx_with_full_rank_equals_exact():
    g, _ = sbm(seed=4)
    exact = NetMF(dimensions=4, window=4, random_state=0).fit(g)
    approx = NetMF(dimensions=4, window=4, method="approx", rank=1000, random_state=0).fit(g)
    np.testing.assert_allclose(approx.singular_values_, exact.singular_values_, rtol=1e-8)
    ee, ea = exact.embedding_.astype(float), approx.embedding_.astype(float)
    np.testing.assert_allclose(ea @ ea.T, ee @ ee.T, atol=1e-5 * np.abs(ee @ ee.T).max())


def test_approx_low_rank_is_close_to_exact():
    g, _ = sbm(blocks=4, size=40, p_in=0.3, p_out=0.01, seed=5)
    exact = NetMF(dimensions=4, window=10, random_state=0).fit(g)
    approx = NetMF(dimensions=4, window=10, method="approx", rank=32, random_state=0).fit(g)
    np.testing.assert_allclose(approx.singular_values_, exact.singular_values_, rtol=0.05)


def test_approx_blockwise_randomized_path_matches_dense_path(monkeypatch):
    g, _ = sbm(blocks=4, size=40, p_in=0.3, p_out=0.01, seed=6)
    dense = NetMF(dimensions=4, window=10, method="approx", rank=40, random_state=0).fit(g)
    monkeypatch.setattr(netmf_mod, "APPROX_DENSE_MAX_NODES", 0)
    monkeypatch.setattr(netmf_mod, "_BLOCK_ELEMENTS", 7 * 160)  # 7-row blocks
    blocked = NetMF(dimensions=4, window=10, method="approx", rank=40, random_state=0).fit(g)
    again = NetMF(dimensions=4, window=10, method="approx", rank=40, random_state=0).fit(g)
    np.testing.assert_array_equal(blocked.embedding_, again.embedding_)
    np.testing.assert_allclose(blocked.singular_values_, dense.singular_values_, rtol=1e-5)
    eb, ed = blocked.embedding_.astype(float), dense.embedding_.astype(float)
    np.testing.assert_allclose(eb @ eb.T, ed @ ed.T, atol=1e-4 * np.abs(ed @ ed.T).max())


@pytest.mark.parametrize("method", ["exact", "approx"])
def test_blocks_are_separable(method):
    g, y = sbm(blocks=4, size=50, p_in=0.2, p_out=0.02, seed=7)
    e = NetMF(dimensions=8, window=5, method=method, rank=64, random_state=1).fit_transform(g)
    res = evaluate_node_classification(e, y, train_ratios=(0.5,), repeats=3)
    assert res.micro(0.5) > 0.9


def test_isolated_node_gets_zero_row_and_keyed_artifact():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=6)
    b.add_edges([0, 1, 2, 3, 0], [1, 2, 3, 0, 2])
    model = NetMF(dimensions=2, window=1, random_state=0).fit(b.build())
    assert np.all(model.embedding_[4:] == 0) and np.abs(model.embedding_[:4]).sum() > 0
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    assert isinstance(model.keyed_, KeyedEmbeddings)


def test_symmetric_adjacency_of_directed_and_heterogeneous_graphs():
    b = GraphBuilder(directed=True)
    b.add_edges(["u0", "u1"], ["i0", "i0"], etype=("user", "click", "item"), weight=[2.0, 3.0])
    b.add_edges(["u0"], ["u1"], etype=("user", "follows", "user"))
    g = b.build()
    a = symmetric_adjacency(g).toarray()
    off = g.node_offsets()
    i0 = off["item"]
    assert a.shape == (3, 3)
    assert a[off["user"], i0] == a[i0, off["user"]] == 2.0
    assert a[off["user"] + 1, i0] == 3.0 and a[0, 1] == a[1, 0] == 1.0
    np.testing.assert_array_equal(a, a.T)


def test_hetero_graph_embeds_all_nodes():
    b = GraphBuilder(directed=False)
    rng = np.random.default_rng(0)
    b.add_edges(rng.integers(0, 30, 200), rng.integers(0, 20, 200), etype=("user", "click", "item"))
    g = b.build()
    e = NetMF(dimensions=3, window=3, random_state=0).fit_transform(g)
    assert e.shape == (g.num_nodes_total(), 3) and np.isfinite(e).all()


def test_deterministic_given_seed():
    g, _ = sbm(seed=8)
    a = NetMF(dimensions=6, window=3, random_state=5).fit(g).embedding_
    b = NetMF(dimensions=6, window=3, random_state=np.random.default_rng(5)).fit(g).embedding_
    np.testing.assert_array_equal(a, NetMF(dimensions=6, window=3, random_state=5).fit(g).embedding_)
    np.testing.assert_allclose(a, b, atol=1e-6)  # the dense path does not use randomness


def test_not_fitted_and_params():
    m = NetMF(dimensions=3)
    with pytest.raises(NotFittedError):
        m.check_is_fitted()
    assert m.get_params()["dimensions"] == 3 and "window=10" in repr(m)


@pytest.mark.parametrize("kwargs,match", [
    ({"dimensions": 0}, "dimensions=0"),
    ({"dimensions": 2.5}, "dimensions=2.5"),
    ({"window": 0}, "window=0"),
    ({"negative": 0.0}, "negative=0.0"),
    ({"negative": float("nan")}, "negative=nan"),
    ({"method": "svd"}, "method='svd': expected 'exact', 'approx' or 'sparse'"),
    ({"rank": 0}, "rank=0"),
    ({"dimensions": 500}, "dimensions=500: larger than the graph's 100 nodes"),
])
def test_bad_parameters(kwargs, match):
    g, _ = sbm(seed=9)
    with pytest.raises(ValidationError, match=match):
        NetMF(**kwargs).fit(g)


def test_memory_guard_names_estimate_limit_and_alternative():
    g, _ = sbm(seed=10)
    need = netmf_mod.netmf_memory("exact", 100, int(g.num_edges()), dimensions=2)
    assert need > 8 * 3 * 100 * 100  # the dense buffers are counted
    with pytest.raises(ValidationError) as err:
        NetMF(dimensions=2, memory_limit=need // 2).fit(g)
    msg = str(err.value)
    assert "needs about" in msg and netmf_mod._gib(need) in msg and "memory_limit=" in msg
    assert "method='sparse'" in msg and "ProNE" in msg
    ok = NetMF(dimensions=2, memory_limit=need, random_state=0).fit(g)
    assert ok.memory_estimate_ == need and ok.embedding_.shape == (100, 2)


def test_memory_estimate_grows_quadratically_for_exact_only():
    small = netmf_mod.netmf_memory("exact", 10_000, 600_000)
    big = netmf_mod.netmf_memory("exact", 40_000, 2_400_000)
    assert 1.5 * 2**30 < small < 3 * 2**30 and big > 15 * small
    sparse = netmf_mod.netmf_memory("sparse", 100_000, 2_000_000, window=10, samples=10)
    assert sparse < 4 * 2**30 < netmf_mod.netmf_memory("exact", 100_000, 2_000_000)


def test_default_memory_limit_comes_from_available_memory(monkeypatch):
    import vastgraph.graph.resources as res

    monkeypatch.setattr(res, "available_memory", lambda: 1000)
    g, _ = sbm(seed=11)
    with pytest.raises(ValidationError, match=r"80% of the available memory"):
        NetMF(dimensions=2).fit(g)


# ---------------------------------------------------------------------------- method="sparse" (NetSMF)
def polynomial(a: np.ndarray, window: int) -> np.ndarray:
    """Σ_{r≤T} (1/T) D (D⁻¹A)^r, the matrix NetSMF's path samples estimate."""
    d = a.sum(axis=1)
    x, out = np.eye(len(d)), np.zeros_like(a)
    for _ in range(window):
        x = x @ (a / d[:, None])
        out += np.diag(d) @ x / window
    return out


@pytest.mark.parametrize("weighted", [False, True])
def test_path_sparsifier_is_unbiased(weighted):
    from vastgraph.embed.netsmf import path_sparsifier

    g, _ = sbm(seed=12, weighted=weighted)
    a = symmetric_adjacency(g)
    u = path_sparsifier(a, 4, samples=400, random_state=0)
    assert u.indices.dtype == np.int32 and u.data.dtype == np.float32
    rows = np.repeat(np.arange(u.shape[0]), np.diff(u.indptr))
    assert (u.indices >= rows).all()  # upper triangle only
    got = (u + u.T).toarray()
    ref = polynomial(a.toarray(), 4)
    np.testing.assert_allclose(got.sum(), ref.sum(), rtol=1e-3)  # each sample carries vol / S
    assert np.abs(got - ref).sum() / ref.sum() < 0.06
    again = path_sparsifier(a, 4, samples=400, random_state=0)
    np.testing.assert_array_equal(again.data, u.data)


def test_sparse_matrix_approaches_exact():
    from vastgraph.embed.netsmf import netsmf_matrix

    g, _ = sbm(seed=13)
    a = symmetric_adjacency(g)
    exact = netmf_matrix(a, 5, 1.0)
    m = netsmf_matrix(a, 5, 1.0, samples=1000, random_state=0)
    assert m.format == "csr" and abs(m - m.T).max() < 1e-5 and (m.data > 0).all()
    err = np.abs(m.toarray() - exact).sum() / exact.sum()
    coarse = np.abs(netsmf_matrix(a, 5, 1.0, samples=10, random_state=0).toarray() - exact).sum() / exact.sum()
    assert err < 0.05 and err < coarse / 3


def test_sparse_embedding_close_to_exact_and_deterministic():
    g, y = sbm(blocks=4, size=40, p_in=0.3, p_out=0.01, seed=14)
    exact = NetMF(dimensions=4, window=5, random_state=0).fit(g)
    sparse = NetMF(dimensions=4, window=5, method="sparse", samples=1000, random_state=0).fit(g)
    np.testing.assert_allclose(sparse.singular_values_, exact.singular_values_, rtol=0.02)
    ee, es = exact.embedding_.astype(float), sparse.embedding_.astype(float)
    assert np.abs(es @ es.T - ee @ ee.T).max() < 0.05 * np.abs(ee @ ee.T).max()
    again = NetMF(dimensions=4, window=5, method="sparse", samples=1000, random_state=0).fit(g)
    np.testing.assert_array_equal(again.embedding_, sparse.embedding_)
    res = evaluate_node_classification(sparse.embedding_, y, train_ratios=(0.5,), repeats=3)
    assert res.micro(0.5) > 0.9


@pytest.mark.parametrize("kwargs,match", [
    ({"samples": 0}, "samples=0"),
    ({"samples": -1.0}, "samples=-1.0"),
    ({"samples": float("inf")}, "samples=inf"),
    ({"samples": "many"}, "samples='many'"),
    ({"memory_limit": 0}, "memory_limit=0"),
    ({"memory_limit": "4G"}, "memory_limit='4G'"),
])
def test_bad_sparse_and_memory_parameters(kwargs, match):
    g, _ = sbm(seed=15)
    with pytest.raises(ValidationError, match=match):
        NetMF(dimensions=2, method="sparse", **kwargs).fit(g)


def test_graph_without_edges_and_negative_weights():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=5)
    b.add_edge_type(("node", "edge", "node"))
    with pytest.raises(EmptyInputError, match="no edges"):
        NetMF(dimensions=2).fit(b.build())
    b = GraphBuilder(directed=False)
    b.add_edges([0, 1], [1, 2], weight=[1.0, -1.0])
    with pytest.raises(ValidationError, match="negative edge weight"):
        NetMF(dimensions=2).fit(b.build())
