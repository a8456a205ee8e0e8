"""Edge splits, link-prediction evaluation and the ranking metrics."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.train import link_prediction as lp
from vastgraph.train.link_prediction import EdgeSplit, edge_features, evaluate_link_prediction, split_edges
from vastgraph.train.metrics import average_precision, hits_at_k, mrr, ranks_against_negatives, roc_auc


def sbm(blocks=4, size=30, p_in=0.4, p_out=0.02, seed=0, directed=False, weighted=False):
    rng = np.random.default_rng(seed)
    n = blocks * size
    y = np.repeat(np.arange(blocks), size)
    if directed:
        u, v = np.nonzero(~np.eye(n, dtype=bool))
    else:
        u, v = np.triu_indices(n, k=1)
    keep = rng.random(u.size) < np.where(y[u] == y[v], p_in, p_out)
    b = GraphBuilder(directed=directed, id_mode="dense")
    b.add_nodes(count=n, labels=y, features=rng.standard_normal((n, 3)))
    b.add_edges(u[keep], v[keep], weight=rng.uniform(1, 2, keep.sum()) if weighted else None)
    return b.build(), y


def keys(graph, etype=None):
    s, d = graph.edge_index(etype)
    return set(zip(s.tolist(), d.tolist()))


# ----------------------------------------------------------------------------------- split_edges
def test_split_removes_exactly_the_test_edges_both_directions():
    g, y = sbm(weighted=True)
    split = split_edges(g, test_fraction=0.2, random_state=0)
    train, pos, neg = split
    m = g.num_undirected_edges()
    assert pos.shape == neg.shape == (round(0.2 * m), 2)
    full, kept = keys(g), keys(train)
    held = {(int(u), int(v)) for u, v in pos} | {(int(v), int(u)) for u, v in pos}
    assert held <= full and not (held & kept)
    assert kept == full - held  # nothing else removed
    assert np.all(pos[:, 0] < pos[:, 1])
    # weights, features and labels survive the rebuild
    s, d = train.edge_index()
    np.testing.assert_array_equal(train.edge_weights(s, d), g.edge_weights(s, d))
    np.testing.assert_array_equal(train.labels(), y)
    np.testing.assert_array_equal(train.features(), g.features())
    assert train.info["edge_split"]["test"] == pos.shape[0]


def test_negatives_are_unique_non_edges_of_the_full_graph():
    g, _ = sbm(seed=1)
    split = split_edges(g, test_fraction=0.1, valid_fraction=0.1, random_state=1)
    for negs in (split.test_neg, split.valid_neg):
        assert not g.has_edges(negs[:, 0], negs[:, 1]).any()
        assert np.all(negs[:, 0] < negs[:, 1])
    both = np.concatenate([split.test_neg, split.valid_neg])
    assert np.unique(both, axis=0).shape[0] == both.shape[0]  # unique, test/valid disjoint
    pos = np.concatenate([split.test_pos, split.valid_pos])
    assert np.unique(pos, axis=0).shape[0] == pos.shape[0]
    assert split.valid_pos.shape == split.valid_neg.shape and split.valid_pos.shape[0] > 0
    assert not split.train_graph.has_edges(pos[:, 0], pos[:, 1]).any()


def test_rejection_sampler_gives_unique_non_edges():
    rng = np.random.default_rng(0)
    edge_keys = np.unique(rng.integers(0, 50 * 50, 300))
    for kind in ("sym", "dir", "bip"):
        out = lp._sample_non_edges(400, 50, 50, kind, edge_keys, np.random.default_rng(1), enumerate_limit=0)
        u, v = out // 50, out % 50
        assert out.size == 400 and np.unique(out).size == 400 and not np.isin(out, edge_keys).any()
        if kind == "sym":
            assert np.all(u < v)
        if kind == "dir":
            assert np.all(u != v)


def test_directed_split_keeps_the_reverse_edge():
    g, _ = sbm(directed=True, p_in=0.5, seed=2)
    split = split_edges(g, test_fraction=0.2, random_state=0)
    pos = split.test_pos
    assert not split.train_graph.has_edges(pos[:, 0], pos[:, 1]).any()
    held = {(int(u), int(v)) for u, v in pos}
    rev = g.has_edges(pos[:, 1], pos[:, 0]) & np.array([(int(v), int(u)) not in held for u, v in pos])
    assert rev.sum() > 10
    assert split.train_graph.has_edges(pos[rev, 1], pos[rev, 0]).all()
    assert not g.has_edges(split.test_neg[:, 0], split.test_neg[:, 1]).any()
    assert split.train_graph.num_edges() == g.num_edges() - pos.shape[0]


def test_bipartite_split_with_string_ids_and_global_offsets():
    rng = np.random.default_rng(3)
    b = GraphBuilder(directed=False)
    u = rng.integers(0, 40, 400)
    v = rng.integers(0, 30, 400)
    b.add_edges([f"q{i}" for i in u], [f"a{i}" for i in v], etype=("query", "click", "ad"))
    b.add_edges(["q0", "q1"], ["q1", "q2"], etype=("query", "similar", "query"))
    g = b.build()
    et = ("query", "click", "ad")
    split = split_edges(g, et, test_fraction=0.25, random_state=0)
    train = split.train_graph
    assert train.num_nodes("query") == g.num_nodes("query")
    np.testing.assert_array_equal(train.external_ids("ad"), g.external_ids("ad"))
    assert keys(train, "similar") == keys(g, "similar")
    held = {(int(a), int(c)) for a, c in split.test_pos}
    assert keys(train, et) == keys(g, et) - held
    assert not g.has_edges(split.test_neg[:, 0], split.test_neg[:, 1], et).any()
    off = g.node_offsets()
    np.testing.assert_array_equal(split.to_global(split.test_pos),
                                  split.test_pos + [off["query"], off["ad"]])


def test_keep_connected_preserves_components():
    from scipy.sparse.csgraph import connected_components

    from vastgraph.embed.netmf import symmetric_adjacency

    g, _ = sbm(p_in=0.15, p_out=0.005, seed=4)
    split = split_edges(g, test_fraction=0.4, keep_connected=True, random_state=0)
    n_full, lab_full = connected_components(symmetric_adjacency(g))
    n_train, lab_train = connected_components(symmetric_adjacency(split.train_graph))
    assert n_full == n_train
    loose = split_edges(g, test_fraction=0.4, random_state=0)
    assert connected_components(symmetric_adjacency(loose.train_graph))[0] > n_full  # the check can fail
    assert split.train_graph.num_undirected_edges() >= g.num_nodes() - n_full  # a spanning forest


def test_split_is_deterministic_by_seed():
    g, _ = sbm(seed=5)
    a = split_edges(g, random_state=7)
    b = split_edges(g, random_state=7)
    c = split_edges(g, random_state=8)
    np.testing.assert_array_equal(a.test_pos, b.test_pos)
    np.testing.assert_array_equal(a.test_neg, b.test_neg)
    assert not np.array_equal(a.test_pos, c.test_pos)


def test_split_bad_inputs():
    g, _ = sbm(seed=6)
    for kw, match in [({"test_fraction": 0.0}, r"test_fraction=0.0: expected a number in \(0, 1\)"),
                      ({"test_fraction": 1.2}, "test_fraction=1.2"),
                      ({"valid_fraction": -0.1}, "valid_fraction=-0.1"),
                      ({"test_fraction": 0.6, "valid_fraction": 0.4}, "expected < 1")]:
        with pytest.raises(ValidationError, match=match):
            split_edges(g, **kw)
    small = GraphBuilder(directed=False)
    small.add_edges([0, 1, 2], [1, 2, 3])
    with pytest.raises(ValidationError, match="too few edges to split"):
        split_edges(small.build(), test_fraction=0.1)
    tree = GraphBuilder(directed=False)
    tree.add_edges([0, 0, 0, 0], [1, 2, 3, 4])
    with pytest.raises(ValidationError, match="without disconnecting"):
        split_edges(tree.build(), test_fraction=0.5, keep_connected=True)
    complete = GraphBuilder(directed=False)
    u, v = np.triu_indices(6, k=1)
    complete.add_edges(u, v)
    with pytest.raises(ValidationError, match="non-adjacent pairs"):
        split_edges(complete.build(), test_fraction=0.2)
    with pytest.raises(SchemaError):
        split_edges(g, etype="nope")


# ----------------------------------------------------------------------------------- evaluation
def block_vectors(y, noise, seed):
    rng = np.random.default_rng(seed)
    return np.eye(y.max() + 1)[y] + noise * rng.standard_normal((y.size, y.max() + 1))


def test_good_embedding_scores_high_random_at_chance():
    g, y = sbm(p_in=0.3, p_out=0.01, seed=7)
    split = split_edges(g, test_fraction=0.3, random_state=0)
    good = block_vectors(y, 0.2, 0)
    rand = np.random.default_rng(1).standard_normal((y.size, 8))
    for mode, op in (("score", "dot"), ("score", "cosine"), ("classifier", "hadamard"), ("classifier", "l2")):
        r = evaluate_link_prediction(good, split.test_pos, split.test_neg, operator=op, mode=mode)
        assert r.auc > 0.75 and r.ap > 0.7 and r.mode == mode, (mode, op, r)
        r = evaluate_link_prediction(rand, split.test_pos, split.test_neg, operator=op, mode=mode)
        assert abs(r.auc - 0.5) < 0.12, (mode, op, r)
    r = evaluate_link_prediction(good, split.test_pos, split.test_neg, ks=(1, 10, 10_000))
    assert r.hits[10_000] == 1.0 and r.hits[1] <= r.hits[10] and r.mrr > 0.1
    assert set(r.as_dict()) >= {"auc", "ap", "mrr", "hits@10", "n_pos", "n_neg"}


def test_classifier_with_given_training_pairs_and_scorer():
    g, y = sbm(p_in=0.3, p_out=0.01, seed=8)
    split = split_edges(g, test_fraction=0.2, valid_fraction=0.2, random_state=0)
    good = block_vectors(y, 0.2, 1)
    r = evaluate_link_prediction(good, split.test_pos, split.test_neg, operator="hadamard", mode="classifier",
                                 train_pairs=(split.valid_pos, split.valid_neg))
    assert r.n_pos == split.test_pos.shape[0] and r.auc > 0.8
    same_block = lambda s, d: (y[s] == y[d]).astype(float)  # noqa: E731
    r = evaluate_link_prediction(same_block, split.test_pos, split.test_neg)
    labels = np.r_[np.ones(r.n_pos), np.zeros(r.n_neg)]
    scores = np.r_[same_block(*split.test_pos.T), same_block(*split.test_neg.T)]
    assert r.auc == pytest.approx(roc_auc(labels, scores)) and r.operator == "scorer"


def test_link_evaluation_is_deterministic():
    g, y = sbm(seed=9)
    split = split_edges(g, random_state=0)
    x = block_vectors(y, 1.0, 2)
    a = evaluate_link_prediction(x, split.test_pos, split.test_neg, operator="l1", random_state=3)
    b = evaluate_link_prediction(x, split.test_pos, split.test_neg, operator="l1", random_state=3)
    assert a == b


def test_edge_features():
    x = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 0.0]])
    p = np.array([[0, 1], [0, 2]])
    np.testing.assert_allclose(edge_features(x, p, "hadamard"), [[3, -2], [0, 0]])
    np.testing.assert_allclose(edge_features(x, p, "average"), [[2, 0.5], [0.5, 1]])
    np.testing.assert_allclose(edge_features(x, p, "l1"), [[2, 3], [1, 2]])
    np.testing.assert_allclose(edge_features(x, p, "l2"), [[4, 9], [1, 4]])
    np.testing.assert_allclose(edge_features(x, p, "dot"), [[1], [0]])
    np.testing.assert_allclose(edge_features(x, p, "cosine"), [[1 / np.sqrt(50)], [0]])


def test_evaluation_bad_inputs():
    x = np.random.default_rng(0).standard_normal((10, 3))
    pos, neg = np.array([[0, 1], [2, 3]]), np.array([[0, 5], [4, 6]])
    with pytest.raises(ValidationError, match="operator='cos': expected one of hadamard, average, l1, l2"):
        evaluate_link_prediction(x, pos, neg, operator="cos")
    with pytest.raises(ValidationError, match="mode='score': expected one of dot, cosine"):
        evaluate_link_prediction(x, pos, neg, operator="hadamard", mode="score")
    with pytest.raises(ValidationError, match="mode='rank'"):
        evaluate_link_prediction(x, pos, neg, mode="rank")
    with pytest.raises(ValidationError, match="NaN"):
        evaluate_link_prediction(np.where(x > 1, np.nan, x), pos, neg)
    with pytest.raises(ValidationError, match=r"pos_pairs: shape \(2, 3\)"):
        evaluate_link_prediction(x, np.zeros((2, 3), int), neg)
    with pytest.raises(SchemaError, match=r"neg_pairs: node id\(s\) outside \[0, 10\)"):
        evaluate_link_prediction(x, pos, np.array([[0, 10]]))
    with pytest.raises(ValidationError, match="needs node vectors"):
        evaluate_link_prediction(lambda s, d: s * 1.0, pos, neg, mode="classifier")
    with pytest.raises(ValidationError, match="scorer: returned shape"):
        evaluate_link_prediction(lambda s, d: np.zeros(1), pos, neg)
    with pytest.raises(ValidationError, match="ks: 0"):
        evaluate_link_prediction(x, pos, neg, ks=(0,))
    with pytest.raises(ValidationError, match="cannot be split by train_fraction"):
        evaluate_link_prediction(x, pos[:1], neg, operator="hadamard")
    with pytest.raises(ValidationError, match="train_fraction=1.0"):
        evaluate_link_prediction(x, pos, neg, operator="hadamard", train_fraction=1.0)


# ----------------------------------------------------------------------------------- metrics
def test_metrics_agree_with_sklearn_and_brute_force():
    from sklearn.metrics import average_precision_score, roc_auc_score

    rng = np.random.default_rng(10)
    labels = rng.integers(0, 2, 500)
    scores = np.round(rng.standard_normal(500) + labels, 1)  # many ties
    assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert average_precision(labels, scores) == pytest.approx(average_precision_score(labels, scores), abs=1e-12)
    pos, neg = scores[labels == 1], scores[labels == 0]
    brute = np.array([1 + (neg > p).sum() + 0.5 * (neg == p).sum() for p in pos])
    np.testing.assert_allclose(ranks_against_negatives(pos, neg), brute)
    assert mrr(pos, neg) == pytest.approx(np.mean(1 / brute))
    assert hits_at_k(pos, neg, 20) == pytest.approx(np.mean(brute <= 20))
    own = rng.standard_normal((pos.size, 7))
    brute_own = np.array([1 + (own[i] > p).sum() + 0.5 * (own[i] == p).sum() for i, p in enumerate(pos)])
    np.testing.assert_allclose(ranks_against_negatives(pos, own), brute_own)


def test_metric_bad_inputs():
    with pytest.raises(ValidationError, match="both positive and negative"):
        roc_auc([1, 1], [0.1, 0.2])
    with pytest.raises(ValidationError, match="labels must be 0/1"):
        average_precision([0, 2], [0.1, 0.2])
    with pytest.raises(ValidationError, match="must be equal"):
        roc_auc([0, 1], [0.1])
    with pytest.raises(ValidationError, match="no negatives"):
        mrr([0.5], [])
    with pytest.raises(ValidationError, match=r"neg_scores: shape \(3, 2\)"):
        ranks_against_negatives([0.1, 0.2], np.zeros((3, 2)))
    with pytest.raises(ValidationError, match="k=0"):
        hits_at_k([0.1], [0.2], 0)


def test_edge_split_unpacks():
    s = EdgeSplit(None, None, np.zeros((1, 2)), np.ones((1, 2)), np.zeros((0, 2)), np.zeros((0, 2)))
    g, p, n = s
    assert g is None and p[0, 0] == 0 and n[0, 0] == 1


def test_split_edges_on_graph_mixing_directed_and_undirected_types():
    from vastgraph.graph import GraphBuilder

    rng = np.random.default_rng(0)
    b = GraphBuilder(directed=True)
    q = rng.integers(0, 30, 200)
    a = rng.integers(0, 20, 200)
    b.add_edges([f"q{i}" for i in q], [f"a{i}" for i in a], etype=("query", "click", "ad"))
    b.add_edges([f"a{i}" for i in rng.integers(0, 20, 40)], [f"a{i}" for i in rng.integers(0, 20, 40)],
                etype=("ad", "cobid", "ad"), directed=False)
    g = b.build()
    split = split_edges(g, "click", test_fraction=0.2, random_state=0)
    t = split.train_graph
    assert t.is_undirected("cobid") and not t.is_undirected("click")
    assert t.num_edges("cobid") == g.num_edges("cobid")
    assert not t.has_edges(split.test_pos[:, 0], split.test_pos[:, 1], "click").any()
    assert g.has_edges(split.test_pos[:, 0], split.test_pos[:, 1], "click").all()
