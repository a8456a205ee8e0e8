"""GATNE-T / GATNE-I: shapes, relation embeddings, determinism, features, errors, and a two-relation signal."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.embed.gatne import GATNE, skipgram_pairs
from vastgraph.embed.registry import get_embedder
from vastgraph.errors import NotFittedError, SchemaError, ValidationError
from vastgraph.graph.builder import GraphBuilder


def two_relation_graph(features: bool = False):
    """Relation 'a' links nodes within blocks {0..9} and {10..19}; relation 'b' links i to i+10."""
    rng = np.random.default_rng(0)
    b = GraphBuilder(directed=False)
    feats = rng.normal(size=(20, 4)).astype(np.float32) if features else None
    b.add_nodes("node", ids=np.arange(20), features=feats)
    src, dst = [], []
    for blk in (0, 10):
        for _ in range(40):
            u, v = rng.choice(10, 2, replace=False) + blk
            src.append(u)
            dst.append(v)
    b.add_edges(src, dst, etype=("node", "a", "node"))
    b.add_edges(np.arange(10), np.arange(10) + 10, etype=("node", "b", "node"))
    return b.build()


def fit(g, **kw):
    params = dict(dimensions=16, edge_dimensions=4, attention_dimensions=4, walks_per_node=10, walk_length=8,
                  window=3, epochs=3, batch_size=256, lr=0.02, num_threads=1, random_state=0)
    params.update(kw)
    validation = params.pop("validation", None)
    return GATNE(**params).fit(g, validation=validation)


def test_registry_and_not_fitted():
    assert get_embedder("gatne") is GATNE
    with pytest.raises(NotFittedError):
        GATNE().embedding_


def test_skipgram_pairs_window_and_padding():
    c, x = skipgram_pairs(np.array([[0, 1, 2, -1]]), 2)
    assert sorted(zip(c.tolist(), x.tolist())) == [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]


def test_per_relation_embeddings_capture_each_relation():
    g = two_relation_graph()
    m = fit(g)
    assert m.relations_ == ["a", "b"] and not m.inductive_
    assert m.relation_embeddings_.shape == (2, 20, 16) and m.embedding_.shape == (20, 16)
    assert np.allclose(np.linalg.norm(m.embedding("a"), axis=1), 1.0, atol=1e-5)
    assert set(m.keyed_by_relation_) == {"a", "b"}
    a, bb = m.embedding("a"), m.embedding(("node", "b", "node"))
    same_block = np.mean([a[i] @ a[j] for i in range(10) for j in range(10) if i != j])
    cross_block = np.mean([a[i] @ a[j + 10] for i in range(10) for j in range(10)])
    assert same_block > cross_block + 0.2
    partner = np.mean([bb[i] @ bb[i + 10] for i in range(10)])
    other = np.mean([bb[i] @ bb[(i + 3) % 10 + 10] for i in range(10)])
    assert partner > other + 0.2


def test_deterministic_with_one_thread():
    g = two_relation_graph()
    a, b = fit(g, epochs=1), fit(g, epochs=1)
    np.testing.assert_array_equal(a.relation_embeddings_, b.relation_embeddings_)


def test_gatne_i_uses_features():
    g = two_relation_graph(features=True)
    m = fit(g, epochs=1)
    assert m.inductive_ and m.keyed_.meta["method"] == "GATNE-I"
    assert not fit(g, epochs=1, features=False).inductive_
    with pytest.raises(ValidationError, match="features=True"):
        fit(two_relation_graph(False), features=True)


def test_bad_input():
    g = two_relation_graph()
    with pytest.raises(ValidationError, match="dimensions"):
        GATNE(dimensions=0).fit(g)
    with pytest.raises(ValidationError, match="relation"):
        fit(g, epochs=1).embedding("zz")
    b = GraphBuilder(directed=False)
    b.add_edges(["q"], ["x"], etype=("query", "click", "ad"))
    with pytest.raises(SchemaError, match="one node type"):
        GATNE().fit(b.build())


def test_adam_optimizer_and_cpu_reproducible_across_optimizers():
    g = two_relation_graph()
    m = fit(g, optimizer="adam", table_lr=0.02)
    a = m.embedding("a")
    same_block = np.mean([a[i] @ a[j] for i in range(10) for j in range(10) if i != j])
    cross_block = np.mean([a[i] @ a[j + 10] for i in range(10) for j in range(10)])
    assert same_block > cross_block + 0.2
    np.testing.assert_array_equal(m.relation_embeddings_,
                                  fit(g, optimizer="adam", table_lr=0.02).relation_embeddings_)


def test_validation_early_stopping_keeps_best_epoch():
    g = two_relation_graph()
    # relation a: true pairs inside a block vs pairs across blocks
    src = np.array([0, 1, 2, 3, 11, 12, 0, 1, 2, 3, 4, 5])
    dst = np.array([5, 6, 7, 8, 15, 16, 10, 11, 12, 13, 14, 15])
    val = {"src": src, "dst": dst, "etype": np.zeros(12, np.int64), "label": np.array([1] * 6 + [0] * 6)}
    m = fit(g, epochs=6, patience=1, validation=val)
    assert 1 <= m.epochs_run_ <= 6 and m.valid_auc_.shape == (m.epochs_run_,)
    assert m.valid_auc_[m.best_epoch_ - 1] == m.valid_auc_.max() > 0.8
    assert m.pairs_trained_ == m.epochs_run_ * m.walk_pairs_ and m.pairs_per_second_ > 0
    capped = fit(g, epochs=2, max_pairs=100)
    assert capped.pairs_trained_ == 200 and capped.keyed_.meta["pairs_per_epoch"] == 100
    with pytest.raises(ValidationError, match="validation"):
        fit(g, validation={"src": src})
    with pytest.raises(ValidationError, match="etype"):
        fit(g, validation={**val, "etype": np.full(12, 5)})


def test_device_option():
    import torch

    g = two_relation_graph()
    assert fit(g, epochs=1, device="auto").device_ in ("cpu", "cuda")
    with pytest.raises(ValidationError, match="device"):
        fit(g, device="tpu")
    with pytest.raises(ValidationError, match="optimizer"):
        fit(g, optimizer="rmsprop")
    if not torch.cuda.is_available():
        with pytest.raises(ValidationError, match="CUDA"):
            fit(g, device="cuda")


def test_alias_noise_and_epoch_plan():
    from vastgraph.embed.gatne_model import (
        alias_noise,
        draw_alias,
        epoch_batches,
        epoch_quota,
    )

    prob, alias = alias_noise(np.array([1.0, 0.0, 16.0]))
    d = draw_alias(prob, alias, 40000, np.random.default_rng(1))
    assert (d != 1).all() and abs((d == 2).mean() - 8 / 9) < 0.01
    assert epoch_quota([30, 10, 0], 20) == [15, 5, 0]
    batches = epoch_batches([30, 10], 20, 4, np.random.default_rng(0))
    assert sorted(r for r, _ in batches) == [0] * 4 + [1] * 2
    for r, idx in batches:
        assert idx.size <= 4 and idx.max() < (30 if r == 0 else 10)
    assert len(np.unique(np.concatenate([i for r, i in batches if r == 0]))) == 15
