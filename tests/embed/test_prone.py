"""ProNE: the SMF matrix, the Chebyshev filter against an exact eigen-filter, the embedder."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from vastgraph.embed.netmf import symmetric_adjacency
from vastgraph.embed.prone import (ProNE, randomized_svd_sparse, smf_matrix, spectral_filter_coefficients,
                                   spectral_propagation)
from vastgraph.errors import EmptyInputError, NotFittedError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.train.node_classification import evaluate_node_classification


def sbm(blocks=4, size=25, p_in=0.4, p_out=0.02, seed=0, weighted=False):
    rng = np.random.default_rng(seed)
    n = blocks * size
    y = np.repeat(np.arange(blocks), size)
    u, v = np.triu_indices(n, k=1)
    keep = rng.random(u.size) < np.where(y[u] == y[v], p_in, p_out)
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=n, labels=y)
    b.add_edges(u[keep], v[keep], weight=rng.uniform(0.5, 2.0, keep.sum()) if weighted else None)
    return b.build(), y


def g_filter(lam, mu, theta):
    return np.exp(-0.5 * theta * ((lam - mu) ** 2 - 1.0))


@pytest.mark.parametrize("negative_ratio", [1.0, 3.0])
def test_smf_matrix_matches_dense_formula(negative_ratio):
    g, _ = sbm(weighted=True, seed=1)
    a = symmetric_adjacency(g)
    dense = a.toarray()
    p = dense / dense.sum(axis=1, keepdims=True)
    col = p.sum(axis=0) ** 0.75
    neg = col / col.sum()
    ref = np.where(dense > 0, np.log(np.where(p > 0, p, 1.0)) - np.log(negative_ratio * neg)[None, :], 0.0)
    got = smf_matrix(a, negative_ratio)
    assert got.nnz == a.nnz
    np.testing.assert_allclose(got.toarray(), ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mu,theta", [(0.2, 0.5), (1.0, 1.5), (0.0, 0.1)])
def test_chebyshev_coefficients_reproduce_the_filter(mu, theta):
    lam = np.linspace(0.0, 2.0, 101)
    x = 0.5 * (lam - mu) ** 2 - 1.0
    cheb = np.polynomial.chebyshev.chebval(x, spectral_filter_coefficients(30, theta))
    np.testing.assert_allclose(cheb, g_filter(lam, mu, theta), rtol=1e-12)
    short = np.polynomial.chebyshev.chebval(x, spectral_filter_coefficients(10, theta))
    np.testing.assert_allclose(short, g_filter(lam, mu, theta), rtol=1e-6)


def test_spectral_propagation_equals_exact_eigen_filter():
    g, _ = sbm(weighted=True, seed=2)
    a = symmetric_adjacency(g)
    n = a.shape[0]
    at = a.toarray() + np.eye(n)
    deg = at.sum(axis=1)
    # L = I − D̃⁻¹Ã = D̃^-1/2 (I − S) D̃^1/2 with symmetric S = D̃^-1/2 Ã D̃^-1/2
    s = at / np.sqrt(deg)[:, None] / np.sqrt(deg)[None, :]
    lam, v = np.linalg.eigh(np.eye(n) - s)
    assert lam.min() > -1e-9 and lam.max() < 2.0
    mu, theta = 0.2, 0.5
    gl = (np.diag(1 / np.sqrt(deg)) @ v @ np.diag(g_filter(lam, mu, theta)) @ v.T @ np.diag(np.sqrt(deg)))
    r = np.random.default_rng(0).standard_normal((n, 5))
    ref = at @ (r - gl @ r)
    got = spectral_propagation(a, r, step=30, mu=mu, theta=theta)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * np.abs(ref).max())
    ten = spectral_propagation(a, r, step=10, mu=mu, theta=theta)
    assert np.abs(ten - ref).max() < 1e-5 * np.abs(ref).max()
    f32 = spectral_propagation(a, r.astype(np.float32), step=30, mu=mu, theta=theta)
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32, ref, atol=1e-4 * np.abs(ref).max())


def test_randomized_svd_recovers_a_low_rank_sparse_matrix():
    rng = np.random.default_rng(0)
    left = sp.random(300, 6, density=0.3, random_state=1, format="csr")
    right = sp.random(6, 200, density=0.3, random_state=2, format="csr")
    f = sp.csr_matrix(left @ right)
    u, s = randomized_svd_sparse(f, 4, rng)
    _, s_ref, _ = np.linalg.svd(f.toarray())
    np.testing.assert_allclose(s, s_ref[:4], rtol=1e-10)
    np.testing.assert_allclose(u.T @ u, np.eye(4), atol=1e-10)
    assert np.linalg.norm(f.toarray().T @ u, axis=0) == pytest.approx(s, rel=1e-10)


def test_blocks_are_separable_and_rows_have_unit_norm():
    g, y = sbm(blocks=4, size=50, p_in=0.2, p_out=0.02, seed=3)
    model = ProNE(dimensions=16, random_state=0).fit(g)
    e = model.embedding_
    assert e.shape == (200, 16) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, rtol=1e-5)
    assert evaluate_node_classification(e, y, train_ratios=(0.5,), repeats=3).micro(0.5) > 0.9
    assert model.smf_embedding_.shape == e.shape
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    assert isinstance(model.keyed_, KeyedEmbeddings)


def test_propagation_improves_on_smf_for_a_noisy_block_model():
    g, y = sbm(blocks=5, size=60, p_in=0.06, p_out=0.01, seed=4)
    model = ProNE(dimensions=16, random_state=0).fit(g)
    prop = evaluate_node_classification(model.embedding_, y, train_ratios=(0.5,), repeats=3).micro(0.5)
    smf = evaluate_node_classification(model.smf_embedding_, y, train_ratios=(0.5,), repeats=3).micro(0.5)
    assert prop > smf


def test_step_zero_is_the_smf_embedding_and_seed_determinism():
    g, _ = sbm(seed=5)
    a = ProNE(dimensions=8, step=0, random_state=7).fit(g)
    np.testing.assert_array_equal(a.embedding_, a.smf_embedding_)
    b1 = ProNE(dimensions=8, random_state=7).fit(g).embedding_
    b2 = ProNE(dimensions=8, random_state=7).fit(g).embedding_
    b3 = ProNE(dimensions=8, random_state=np.random.default_rng(7)).fit(g).embedding_
    np.testing.assert_array_equal(b1, b2)
    assert b3.shape == b1.shape and np.isfinite(b3).all()


def test_isolated_nodes_get_zero_rows():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=8)
    b.add_edges([0, 1, 2, 3, 0], [1, 2, 3, 0, 2])
    e = ProNE(dimensions=2, random_state=0).fit(b.build()).embedding_
    assert np.all(e[4:] == 0) and np.all(np.abs(np.linalg.norm(e[:4], axis=1) - 1) < 1e-5)


def test_not_fitted():
    with pytest.raises(NotFittedError):
        ProNE().check_is_fitted()


@pytest.mark.parametrize("kwargs,match", [
    ({"dimensions": 0}, "dimensions=0"),
    ({"step": -1}, "step=-1"),
    ({"mu": 2.5}, "mu=2.5"),
    ({"mu": -0.1}, "mu=-0.1"),
    ({"theta": 0.0}, "theta=0.0"),
    ({"negative_ratio": 0}, "negative_ratio=0"),
    ({"dimensions": 101}, "dimensions=101: larger than the graph's 100 nodes"),
])
def test_bad_parameters(kwargs, match):
    g, _ = sbm(seed=6)
    with pytest.raises(ValidationError, match=match):
        ProNE(**kwargs).fit(g)


def test_bad_inputs_to_functions():
    g, _ = sbm(seed=7)
    a = symmetric_adjacency(g)
    with pytest.raises(ValidationError, match="vectors: shape"):
        spectral_propagation(a, np.zeros((5, 2)))
    with pytest.raises(ValidationError, match="step=0"):
        spectral_propagation(a, np.zeros((100, 2)), step=0)
    with pytest.raises(EmptyInputError, match="no edges"):
        smf_matrix(sp.csr_matrix((4, 4)))
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=3)
    b.add_edge_type(("node", "edge", "node"))
    with pytest.raises(EmptyInputError, match="no edges"):
        ProNE(dimensions=2).fit(b.build())
