"""Expressiveness suite: GIN is stuck at 1-WL, anonymous walks separate what 1-WL cannot."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.datasets.expressiveness import csl_graphs, decalin_bicyclopentyl, regular_pairs
from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.sampling.anonymous import walk_type_distribution
from vastgraph.train.graph_classification import (anonymous_walk_features, classify_graphs,
                                                  pooled_representations)
from vastgraph.train.wl import wl_colors


@pytest.fixture(scope="module")
def pairs():
    fam = regular_pairs(1, random_state=0)
    dec = decalin_bicyclopentyl()
    return fam.graphs + dec.graphs, fam.pairs + [(len(fam.graphs), len(fam.graphs) + 1)]


@pytest.mark.parametrize("seed", [0, 1])
def test_gin_embeddings_coincide_for_wl_equivalent_pairs(pairs, seed):
    graphs, idx = pairs
    emb = pooled_representations(graphs, "gin", hidden=16, random_state=seed)
    for i, j in idx:
        assert np.allclose(emb[i], emb[j], rtol=1e-5, atol=1e-4)
    assert np.abs(emb).sum() > 0


def test_anonymous_walks_separate_wl_equivalent_pairs(pairs):
    graphs, idx = pairs
    # rook 4x4 vs Shrikhande (pair 0) are cospectral strongly regular graphs: short walks' revisit
    # statistics coincide; separating them needs walks that cover the 12-edge ego nets
    emb = pooled_representations(graphs, walk_length=8, walks_per_node=200, random_state=0)
    again = pooled_representations(graphs, walk_length=8, walks_per_node=200, random_state=1)
    for i, j in (idx[1], idx[-1]):  # C6 vs 2xC3, decalin vs bicyclopentyl
        noise = np.abs(emb[[i, j]] - again[[i, j]]).max()  # resampling the same graphs
        gap = np.abs(emb[i] - emb[j]).max()
        assert gap > 0.02 and gap > 3 * noise, (i, j, gap, noise)


def test_revisit_profile_of_triangles_and_hexagon(pairs):
    graphs, _ = pairs
    c6, tri = graphs[2], graphs[3]
    f6, f3 = anonymous_walk_features([c6, tri], walk_length=3, walks_per_node=400, random_state=0)
    assert np.all(f6[:, 2] == 0)  # a 3-step walk never closes on a hexagon
    assert abs(f3[:, 2].mean() - 0.25) < 0.03  # a triangle walk returns after 3 steps w.p. 1/4
    assert np.allclose(f6[:, 1].mean(), 0.5, atol=0.03) and np.allclose(f3[:, 1].mean(), 0.5, atol=0.03)


def test_node_level_same_wl_colour_different_walk_distribution(pairs):
    graphs, _ = pairs
    c6, tri = graphs[2], graphs[3]
    assert wl_colors(c6)[0] == wl_colors(tri)[0] and len(set(wl_colors(tri).tolist())) == 1
    d6, vocab = walk_type_distribution(c6, walks_per_node=200, walk_length=4, random_state=0)
    d3, _ = walk_type_distribution(tri, walks_per_node=200, walk_length=4, vocabulary=vocab, random_state=0)
    _, vocab3 = walk_type_distribution(tri, walks_per_node=200, walk_length=4, random_state=0)
    # the closed triangle walk (0, 1, 2, 0, ...) exists only on the triangles
    assert not [t for t in vocab.types.tolist() if t[:4] == [0, 1, 2, 0]]
    assert [t for t in vocab3.types.tolist() if t[:4] == [0, 1, 2, 0]]
    assert np.abs(d6.toarray().mean(axis=0) - d3.toarray().mean(axis=0)).max() > 0.02


def test_csl_anonymous_walk_model_beats_chance_gin_does_not():
    fam = csl_graphs(4, random_state=0)
    res = classify_graphs(fam.graphs, fam.labels, folds=4, epochs=150, walks_per_node=150, random_state=0)
    assert res.accuracy["gin"] <= 0.2  # 1-WL bound: all CSL graphs look alike
    assert res.accuracy["anonymous-walk"] >= 0.5  # chance is 0.1
    assert {r["model"] for r in res.rows()} == {"gin", "anonymous-walk"}


def test_bad_input(pairs):
    graphs, _ = pairs
    with pytest.raises(EmptyInputError):
        classify_graphs([], [])
    with pytest.raises(ValidationError, match="labels"):
        classify_graphs(graphs[:2], [0])
    with pytest.raises(ValidationError, match="models"):
        classify_graphs(graphs[:4], [0, 1, 0, 1], models=["gcn"], folds=2)
    with pytest.raises(ValidationError, match="folds"):
        classify_graphs(graphs[:4], [0, 1, 0, 1], folds=3)
    with pytest.raises(ValidationError, match="walk_length"):
        anonymous_walk_features(graphs[:1], walk_length=0)
    with pytest.raises(ValidationError, match="GraphView"):
        anonymous_walk_features(["g"])
    with pytest.raises(ValidationError, match="model"):
        pooled_representations(graphs[:1], "gat")
