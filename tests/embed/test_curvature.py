"""Tests of the MixedCurvature (AMCAD) embedder."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vastgraph.datasets.hierarchies import balanced_tree
from vastgraph.embed.curvature import MixedCurvature
from vastgraph.embed.manifold_keyed import ManifoldKeyedEmbeddings
from vastgraph.errors import NotFittedError, SchemaError, ValidationError
from vastgraph.graph.builder import GraphBuilder


def _tree(branch=3, depth=3):
    src, dst, nxt, frontier = [], [], 1, [0]
    for _ in range(depth):
        new = []
        for p in frontier:
            for _ in range(branch):
                src.append(p)
                dst.append(nxt)
                new.append(nxt)
                nxt += 1
        frontier = new
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges(np.array(src), np.array(dst))
    return b.build()


def _hetero():
    b = GraphBuilder(directed=True)
    b.add_edges([f"q{i}" for i in range(8)], [f"a{i % 5}" for i in range(8)], etype=("query", "click", "ad"))
    b.add_edges([f"a{i}" for i in range(5)], [f"a{(i + 1) % 5}" for i in range(5)], etype=("ad", "cobid", "ad"))
    return b.build()


FAST = dict(epochs=3, batch_size=32, lr=0.05, num_threads=1)


def test_fit_shapes_artifact_and_scores(tmp_path):
    g = _hetero()
    m = MixedCurvature(dimensions=6, manifold="mixed", random_state=0, **FAST).fit(g)
    assert m.embedding_.shape == (g.num_nodes_total(), 6) and m.embedding_.dtype == np.float32
    assert isinstance(m.keyed_, ManifoldKeyedEmbeddings) and len(m.curvatures_) == 3
    assert m.curvature_history_.shape == (4, 3) and np.isfinite(m.losses_).all()
    u, v = np.array([0, 1, 2]), np.array([3, 4, 5])
    s_click = m.score(u, v, etype=("query", "click", "ad"))
    assert s_click.shape == (3,) and (s_click <= 0).all()
    assert np.allclose(m.score(u, v, etype="click"), s_click)
    assert np.allclose(m.score(v, u, etype="click"), s_click, rtol=1e-5)  # symmetric projector
    w = m.block_weights(u, v, "cobid")
    assert np.allclose(w.sum(1), 1.0, atol=1e-6)
    assert np.allclose(m.distance(u, v), m.keyed_.space.dist(torch.from_numpy(m.embedding_[u]).double(),
                                                             torch.from_numpy(m.embedding_[v]).double()).detach().numpy(),
                       rtol=1e-4)
    back = ManifoldKeyedEmbeddings.load(m.keyed_.save(tmp_path / "e"))
    assert back.curvatures() == pytest.approx(m.curvatures_)
    with pytest.raises(SchemaError, match="etype"):
        m.score(u, v, etype="purchase")
    with pytest.raises(ValidationError, match="out of range"):
        m.distance([0], [10_000])


def test_reproducible_and_walk_samples():
    g = _tree(depth=2)
    a = MixedCurvature(dimensions=4, manifold="h2,e2", random_state=3, **FAST).fit(g)
    b = MixedCurvature(dimensions=4, manifold="h2,e2", random_state=3, **FAST).fit(g)
    assert np.allclose(a.embedding_, b.embedding_)
    w = MixedCurvature(dimensions=4, manifold="poincare", samples="walks", walks_per_node=2, walk_length=5,
                       random_state=0, **FAST).fit(g)
    assert np.isfinite(w.embedding_).all() and w.curvatures_ == [-1.0]


def test_learned_curvature_crosses_zero_on_tree_and_stays_finite():
    """A stereographic block that starts spherical (κ = +0.05) must pass through 0 to hyperbolic on a tree."""
    g = _tree(depth=3)
    m = MixedCurvature(dimensions=2, manifold="k2:0.05", epochs=8, batch_size=16, lr=0.1, curvature_lr=0.05,
                       num_threads=1, random_state=0).fit(g)
    hist = m.curvature_history_[:, 0]
    assert hist[0] == pytest.approx(0.05) and m.curvatures_[0] < -0.05
    assert np.isfinite(hist).all() and np.isfinite(m.embedding_).all() and np.isfinite(m.losses_).all()
    assert MixedCurvature(dimensions=2, manifold="learned", epochs=1, num_threads=1).fit(g).curvature_history_[0, 0] == -1.0


def test_curvature_gradient_finite_through_zero():
    from vastgraph.geometry.block_ops import BlockGeometry
    from vastgraph.geometry.manifolds import ProductSpace

    space = ProductSpace.parse("k3:0,e2", dtype=torch.float64)
    geo = BlockGeometry(space)
    x = space.random_points(6, scale=0.3, generator=torch.Generator().manual_seed(0)).detach()
    values = []
    for k0 in (-1e-4, 0.0, 1e-4):
        k = torch.tensor([k0, 0.0], dtype=torch.float64, requires_grad=True)
        d2 = geo.dist2(x, x.flip(0), k)[:, 0].sum()
        d2.backward()
        assert torch.isfinite(d2) and torch.isfinite(k.grad).all()
        values.append((float(d2.detach()), float(k.grad[0])))
    assert values[0][0] == pytest.approx(values[1][0], rel=1e-3) == pytest.approx(values[2][0], rel=1e-3)
    assert values[0][1] == pytest.approx(values[2][1], rel=1e-2)  # smooth derivative across κ = 0


def test_points_stay_in_ball_and_float64():
    g = _tree(depth=2)
    m = MixedCurvature(dimensions=2, manifold="h2:-4.0", lr=0.5, init_scale=0.4, dtype="float64",
                       random_state=0, **{k: v for k, v in FAST.items() if k != "lr"}).fit(g)
    radius = 1.0 / np.sqrt(-m.curvatures_[0])
    assert (np.linalg.norm(m.embedding_, axis=1) < radius).all()


def test_nan_loss_names_epoch_and_step(monkeypatch):
    g = _tree(depth=2)
    real = MixedCurvature._loss
    calls = []

    def poisoned(*args):
        rows, leaf, loss = real(*args)
        calls.append(1)
        return rows, leaf, loss * float("nan") if len(calls) == 8 else loss

    monkeypatch.setattr(MixedCurvature, "_loss", staticmethod(poisoned))
    with pytest.raises(ValidationError, match=r"loss became nan at epoch 1, step 1"):
        MixedCurvature(dimensions=2, manifold="euclidean", random_state=0, epochs=3, batch_size=4,
                       num_threads=1).fit(g)


def test_bad_parameters_and_not_fitted():
    g = _tree(depth=1)
    with pytest.raises(NotFittedError):
        MixedCurvature().embedding_
    with pytest.raises(ValidationError, match="manifold="):
        MixedCurvature(dimensions=4, manifold="torus").fit(g)
    for bad in [dict(samples="pairs"), dict(dtype="float16"), dict(negative=-1), dict(lr=0.0),
                dict(curvature_lr=float("inf")), dict(relation_aware="yes"), dict(num_threads=0),
                dict(boundary_eps=0.9), dict(max_curvature=0.0), dict(loss="hinge"), dict(optimizer="lbfgs"),
                dict(burn_in=-1), dict(negative_power=1.5), dict(min_curvature=0.0), dict(projector_lr=0.0),
                dict(max_curvature=1e-3, min_curvature=1e-2)]:
        name = next(iter(bad))
        with pytest.raises(ValidationError, match=f"{name}="):
            MixedCurvature(dimensions=4, manifold="poincare", **bad).fit(g)
    with pytest.raises(ValidationError, match="burn_in=3: expected fewer than epochs=3"):
        MixedCurvature(dimensions=4, manifold="poincare", epochs=3, burn_in=3).fit(g)
    empty = GraphBuilder(directed=False)
    empty.add_nodes("node", count=3)
    with pytest.raises(ValidationError, match="no edges"):
        MixedCurvature(dimensions=2, manifold="poincare").fit(empty.build())


TREE = dict(batch_size=32, negative=20, negative_power=0.0, lr=0.1, curvature_lr=0.05, dtype="float64",
            num_threads=1, random_state=0)


def _map(model, g):
    from vastgraph.train.distortion import reconstruction_map

    return reconstruction_map(lambda u, v: np.sqrt(np.maximum(-model.score(u, v), 0.0)), g)


def test_poincare_beats_euclidean_on_tree_at_d2():
    """Nickel & Kiela's setup (softmax loss, uniform negatives, burn-in): hyperbolic wins clearly in 2-D."""
    g = balanced_tree(3, 4)
    maps = {man: _map(MixedCurvature(dimensions=2, manifold=man, epochs=100, burn_in=5, **TREE).fit(g), g)
            for man in ("poincare", "euclidean")}
    assert maps["poincare"] > maps["euclidean"] + 0.08, maps


def test_mixed_does_not_collapse_and_keeps_up_with_euclidean():
    """Regression: mixed products with 1-dim blocks gave NaN, and the projector locked onto one block."""
    g = balanced_tree(3, 3)
    eu = MixedCurvature(dimensions=6, manifold="euclidean", epochs=60, burn_in=5, **TREE).fit(g)
    mixed = MixedCurvature(dimensions=6, manifold="mixed", epochs=60, burn_in=5, **TREE).fit(g)
    assert _map(mixed, g) >= _map(eu, g) - 0.05
    assert [b.kind for b in mixed.manifold_.blocks] == ["k", "k", "e"]  # no floor traps the spherical block
    assert np.isfinite(mixed.curvature_history_).all()
    tiny = MixedCurvature(dimensions=3, manifold="h1,s1,e1", epochs=5, batch_size=16, lr=0.1, curvature_lr=0.2,
                          num_threads=1, random_state=0).fit(g)
    assert np.isfinite(tiny.embedding_).all() and np.isfinite(tiny.losses_).all()
    assert np.isfinite(tiny.curvature_history_).all()
    floor = tiny.min_curvature * (1 - 1e-6)  # float32 curvature
    assert tiny.curvatures_[0] <= -floor and tiny.curvatures_[1] >= floor


def test_fermi_dirac_loss_and_sgd_optimizer():
    g = _tree(depth=2)
    m = MixedCurvature(dimensions=4, manifold="h2,e2", loss="fermi_dirac", optimizer="sgd", burn_in=1,
                       random_state=0, **FAST).fit(g)
    assert np.isfinite(m.losses_).all() and m.losses_[-1] < m.losses_[0]
    assert m.pairs_per_second_ > 0


def test_mixed_block_weights_are_learned_and_normalised():
    g = _tree(depth=3)
    kw = dict(dimensions=6, manifold="mixed", epochs=4, batch_size=16, lr=0.05, projector_lr=0.05, num_threads=1,
              random_state=0)
    m = MixedCurvature(**kw).fit(g)
    start = MixedCurvature(**dict(kw, epochs=1, lr=1e-9, projector_lr=1e-9, curvature_lr=1e-9)).fit(g)
    u, v = np.array([0, 0, 1, 5]), np.array([1, 7, 2, 20])
    w, w0 = m.block_weights(u, v), start.block_weights(u, v)
    assert np.allclose(w0, 1 / 3, atol=0.02) and np.abs(w - w0).max() > 0.01  # moved away from uniform
    changed = [not torch.equal(a, b) for a, b in zip(m.projector_.parameters(), start.projector_.parameters())]
    assert all(changed)
    # score = −B Σ_b a_b d_b²: uniform weights give the plain product distance −Σ_b d_b²
    flat = MixedCurvature(**dict(kw, relation_aware=False)).fit(g)
    assert np.allclose(flat.score(u, v), -flat.distance(u, v) ** 2, rtol=1e-4)


def _split_pairs(g, seed=0):
    from vastgraph.train.link_prediction import split_edges

    sp = split_edges(g, test_fraction=0.1, valid_fraction=0.1, random_state=seed)
    pairs = np.concatenate([sp.to_global(sp.valid_pos), sp.to_global(sp.valid_neg)])
    return sp, pairs, np.r_[np.ones(len(sp.valid_pos)), np.zeros(len(sp.valid_neg))]


def test_early_stopping_keeps_best_validation_state_and_is_reproducible():
    from vastgraph.train.metrics import roc_auc

    sp, pairs, labels = _split_pairs(_tree(branch=3, depth=4))
    kw = dict(dimensions=4, manifold="mixed", epochs=12, batch_size=32, patience=2, num_threads=1, random_state=5)
    a = MixedCurvature(**kw).fit(sp.train_graph, validation=(pairs, labels))
    b = MixedCurvature(**kw).fit(sp.train_graph, validation=(pairs, labels))
    assert np.array_equal(a.embedding_, b.embedding_) and a.curvatures_ == b.curvatures_
    assert np.array_equal(a.validation_auc_, b.validation_auc_)
    assert 1 <= len(a.validation_auc_) <= 12 and a.best_epoch_ == int(np.argmax(a.validation_auc_))
    assert len(a.validation_auc_) == 12 or len(a.validation_auc_) - 1 - a.best_epoch_ == 2
    assert a.curvatures_ == pytest.approx(list(a.curvature_history_[a.best_epoch_ + 1]), abs=1e-6)
    assert roc_auc(labels, a.score(pairs[:, 0], pairs[:, 1])) == pytest.approx(a.validation_auc_.max(), abs=1e-6)
    c = MixedCurvature(**dict(kw, random_state=6)).fit(sp.train_graph, validation=(pairs, labels))
    assert not np.array_equal(a.embedding_, c.embedding_)


@pytest.mark.parametrize("bad,match", [((np.zeros((3, 3), np.int64), np.ones(3)), "pairs of shape"),
                                       ((np.array([[0, 1], [1, 2]]), np.array([1, 1])), "both classes"),
                                       ((np.array([[0, 1], [1, 99]]), np.array([1, 0])), "out of range"),
                                       ((np.array([[0, 1], [1, 2]]), np.array([1, 2])), "0/1"),
                                       (np.array([[0, 1]]), "tuple")])
def test_bad_validation_input(bad, match):
    with pytest.raises(ValidationError, match=match):
        MixedCurvature(dimensions=2, manifold="euclidean", epochs=1).fit(_tree(depth=2), validation=bad)
