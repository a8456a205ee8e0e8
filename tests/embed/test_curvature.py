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


def test_learned_curvature_becomes_negative_on_tree():
    g = _tree(depth=3)
    m = MixedCurvature(dimensions=2, manifold="learned", epochs=8, batch_size=16, lr=0.1, curvature_lr=0.05,
                       num_threads=1, random_state=0).fit(g)
    assert m.curvature_history_[0, 0] == 0.0
    assert m.curvatures_[0] < -0.05


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
    assert mixed.curvatures_[1] >= mixed.min_curvature * (1 - 1e-6) and np.isfinite(mixed.curvature_history_).all()
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
