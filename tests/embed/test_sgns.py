"""The numba SGNS trainer: one batched step against numpy, tables, quality, determinism, bad input."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from vastgraph.embed.sgns import _SIG_TABLE, _SOFTPLUS_TABLE, _window_update, keep_probabilities, train_sgns, unigram_tables
from vastgraph.errors import EmptyInputError, ValidationError


def sbm_adjacency(blocks=4, size=100, p_in=0.1, p_out=0.005, seed=0):
    """Undirected planted-partition graph as (indptr, indices, labels)."""
    rng = np.random.default_rng(seed)
    n = blocks * size
    y = np.repeat(np.arange(blocks), size)
    u, v = np.triu_indices(n, k=1)
    keep = rng.random(u.size) < np.where(y[u] == y[v], p_in, p_out)
    src = np.concatenate([u[keep], v[keep]])
    dst = np.concatenate([v[keep], u[keep]])
    order = np.lexsort((dst, src))
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst[order], y


def numpy_walks(indptr, indices, walks_per_node=10, length=40, seed=0):
    """Uniform random walks in plain numpy (a test oracle, independent of the package's walker)."""
    rng = np.random.default_rng(seed)
    n = indptr.size - 1
    cur = np.tile(np.arange(n), walks_per_node)
    out = np.full((cur.size, length + 1), -1, dtype=np.int32)
    out[:, 0] = cur
    alive = np.ones(cur.size, dtype=bool)
    deg = np.diff(indptr)
    for step in range(1, length + 1):
        alive &= deg[cur] > 0
        pick = indptr[cur] + (rng.random(cur.size) * np.maximum(deg[cur], 1)).astype(np.int64)
        nxt = indices[np.minimum(pick, indices.size - 1)]
        cur = np.where(alive, nxt, cur)
        out[alive, step] = cur[alive]
    return out


def probe_accuracy(x, y):
    return cross_val_score(LogisticRegression(max_iter=2000), x, y, cv=5).mean()


# ------------------------------------------------------------------------------- one step
def test_window_update_matches_numpy_reference():
    rng = np.random.default_rng(1)
    n, d, m, kk, alpha = 30, 16, 5, 4, 0.05
    W = rng.normal(0, 0.5, (n, d)).astype(np.float32)
    C = rng.normal(0, 0.5, (n, d)).astype(np.float32)
    ctx = rng.choice(15, m, replace=False).astype(np.int64)
    outs = (15 + rng.choice(15, kk, replace=False)).astype(np.int64)
    f = W[ctx].astype(np.float64) @ C[outs].T.astype(np.float64)
    y = np.zeros((m, kk))
    y[:, 0] = 1.0
    g = (y - 1.0 / (1.0 + np.exp(-f))) * alpha
    want_c = C[outs] + g.T @ W[ctx]
    want_w = W[ctx] + g @ C[outs]
    want_loss = np.where(y == 1, np.log1p(np.exp(-f)), np.log1p(np.exp(f))).sum()
    gbuf = np.zeros((m, kk), np.float32)
    neu = np.zeros((m, d), np.float32)
    loss = _window_update(W, C, ctx, m, outs, kk, alpha, gbuf, neu, _SIG_TABLE, _SOFTPLUS_TABLE)
    # σ comes from a 4096-entry table on (-6, 6): error < 0.0015 per logit
    np.testing.assert_allclose(C[outs], want_c, atol=2e-3 * alpha * m * 2)
    np.testing.assert_allclose(W[ctx], want_w, atol=2e-3 * alpha * kk * 2)
    assert abs(loss - want_loss) < 3e-3 * m * kk


def test_window_update_single_context_is_word2vec_step():
    rng = np.random.default_rng(2)
    W = rng.normal(0, 0.3, (10, 8)).astype(np.float32)
    C = rng.normal(0, 0.3, (10, 8)).astype(np.float32)
    w0, c0 = W.copy(), C.copy()
    ctx = np.array([3], np.int64)
    outs = np.array([5, 7, 1], np.int64)
    _window_update(W, C, ctx, 1, outs, 3, 0.1, np.zeros((1, 3), np.float32), np.zeros((1, 8), np.float32),
                   _SIG_TABLE, _SOFTPLUS_TABLE)
    neu = np.zeros(8)
    for k, o in enumerate(outs):  # word2vec.c: neu1e += g·syn1neg[o]; syn1neg[o] += g·syn0[ctx]
        gk = ((1.0 if k == 0 else 0.0) - 1 / (1 + math.exp(-float(w0[3] @ c0[o])))) * 0.1
        neu += gk * c0[o]
        np.testing.assert_allclose(C[o], c0[o] + gk * w0[3], atol=2e-4)
    np.testing.assert_allclose(W[3], w0[3] + neu, atol=4e-4)
    untouched = [i for i in range(10) if i not in (3,)]
    np.testing.assert_array_equal(W[untouched], w0[untouched])


# ------------------------------------------------------------------------------- tables
def alias_distribution(prob, alias, a, k):
    p = prob[a:a + k].astype(np.float64) / k
    for j in range(k):
        p[alias[a + j]] += (1.0 - prob[a + j]) / k
    return p


def test_unigram_table_is_counts_to_the_three_quarters():
    counts = np.array([0, 1, 5, 100, 7, 0, 3], dtype=np.int64)
    indptr, nodes, prob, alias = unigram_tables(counts)
    assert indptr.tolist() == [0, 7]
    want = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(alias_distribution(prob, alias, 0, 7)[np.argsort(nodes)], want, atol=1e-6)


def test_unigram_tables_per_group_draw_only_within_the_group():
    counts = np.array([4, 1, 9, 2, 8, 8], dtype=np.int64)
    groups = np.array([1, 0, 1, 0, 2, 1])
    indptr, nodes, prob, alias = unigram_tables(counts, groups)
    for g in range(3):
        a, b = indptr[g], indptr[g + 1]
        members = nodes[a:b]
        assert set(members.tolist()) == set(np.flatnonzero(groups == g).tolist())
        want = counts[members] ** 0.75 / (counts[members] ** 0.75).sum()
        np.testing.assert_allclose(alias_distribution(prob, alias, a, b - a), want, atol=1e-6)


def test_keep_probabilities_follow_word2vec():
    counts = np.array([1000, 10, 1, 0, 2], dtype=np.int64)
    keep = keep_probabilities(counts, 1e-2, 2)
    total = counts[counts >= 2].sum()
    thr = 1e-2 * total
    for i in (0, 1):
        assert keep[i] == pytest.approx(min(1.0, (math.sqrt(counts[i] / thr) + 1) * thr / counts[i]), rel=1e-6)
    assert keep[0] < 1.0 and keep[1] == 1.0
    assert keep[2] == 0.0 and keep[4] == 1.0  # below min_count: dropped; rare: kept
    assert keep_probabilities(counts, 0.0, 0).tolist() == [1.0] * 5


# ------------------------------------------------------------------------------- quality
@pytest.mark.parametrize("shared", [True, False])
def test_recovers_planted_communities(shared, one_thread):
    indptr, indices, y = sbm_adjacency()
    walks = numpy_walks(indptr, indices)
    res = train_sgns(walks, y.size, dimensions=32, window=5, shared_negatives=shared, random_state=0)
    assert res.vectors.shape == (y.size, 32) and res.vectors.dtype == np.float32
    assert probe_accuracy(res.vectors, y) > 0.9
    assert res.losses[-1] < 0.8 * res.losses[0]


def test_noisy_communities_are_not_trivially_separable(one_thread):
    indptr, indices, y = sbm_adjacency(p_in=0.03, p_out=0.012, seed=5)
    walks = numpy_walks(indptr, indices)
    acc = probe_accuracy(train_sgns(walks, y.size, dimensions=32, window=5, random_state=0).vectors, y)
    assert 0.35 < acc < 1.0  # above chance (0.25), but the noise costs something


def test_vectors_follow_cooccurrence_not_ids(one_thread):
    # two disjoint cliques: nodes of one clique end up closer to each other than across
    walks = np.array([[0, 1, 2, 0, 2, 1, 0] if i % 2 == 0 else [3, 4, 5, 4, 3, 5, 4] for i in range(400)],
                     dtype=np.int64)
    v = train_sgns(walks, 6, dimensions=8, window=2, negative=3, epochs=3, random_state=1).vectors
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    sim = v @ v.T
    within = (sim[0, 1] + sim[1, 2] + sim[3, 4] + sim[4, 5]) / 4
    across = sim[:3, 3:].mean()
    assert within > across + 0.3


# ------------------------------------------------------------------------------- determinism
def test_same_seed_one_thread_is_identical(one_thread):
    indptr, indices, y = sbm_adjacency(size=30)
    walks = numpy_walks(indptr, indices, walks_per_node=4, length=20)
    a = train_sgns(walks, y.size, dimensions=16, random_state=7)
    b = train_sgns(walks, y.size, dimensions=16, random_state=7, block_fraction=0.5)
    c = train_sgns(walks, y.size, dimensions=16, random_state=8)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    np.testing.assert_array_equal(a.context, b.context)
    assert not np.array_equal(a.vectors, c.vectors)
    gen = train_sgns(walks, y.size, dimensions=16, random_state=np.random.default_rng(3))
    gen2 = train_sgns(walks, y.size, dimensions=16, random_state=np.random.default_rng(3))
    np.testing.assert_array_equal(gen.vectors, gen2.vectors)


def test_two_threads_train_as_well():
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two numba threads")
    old = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        indptr, indices, y = sbm_adjacency()
        res = train_sgns(numpy_walks(indptr, indices), y.size, dimensions=32, window=5, random_state=0)
    finally:
        numba.set_num_threads(old)
    assert probe_accuracy(res.vectors, y) > 0.9


def test_padding_ends_a_walk(one_thread):
    a = np.array([[0, 1, 2, 1, -1, 3, 3, 3], [2, 1, 0, -1, 3, 3, 3, 3]], dtype=np.int32)
    b = np.where(np.cumsum(a < 0, axis=1) > 0, -1, a).astype(np.int32)
    ra = train_sgns(a, 4, dimensions=8, window=2, random_state=0)
    rb = train_sgns(b, 4, dimensions=8, window=2, random_state=0)
    np.testing.assert_array_equal(ra.vectors, rb.vectors)
    assert ra.counts.tolist() == [2, 3, 2, 0]
    assert not ra.context[3].any()  # never a centre nor a negative: context row untouched (zeros)


def test_min_count_and_subsample(one_thread):
    walks = np.array([[0, 1, 0, 1, 0, 1, 2]] * 50 + [[0, 1, 0, 1, 3, 1, 0]], dtype=np.int64)
    res = train_sgns(walks, 4, dimensions=8, window=2, min_count=2, random_state=0)
    assert not res.context[3].any() and res.context[2].any()
    full = train_sgns(walks, 4, dimensions=8, window=2, random_state=0)
    sub = train_sgns(walks, 4, dimensions=8, window=2, subsample=1e-3, random_state=0)
    assert sub.pairs < 0.5 * full.pairs


def test_groups_restrict_negatives(one_thread):
    # nodes 4-7 (group 1) appear only as one-node walks: they are in the noise distribution but
    # never a centre or a context, so their context rows change only if drawn as negatives
    walks = np.array([[0, 1, 2, 3, 0, 1]] * 20 + [[k, -1, -1, -1, -1, -1] for k in range(4, 8)], dtype=np.int64)
    groups = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    plain = train_sgns(walks, 8, dimensions=4, window=2, random_state=0)
    typed = train_sgns(walks, 8, dimensions=4, window=2, groups=groups, random_state=0)
    assert plain.context[4:].any()  # drawn as negatives of group-0 centres
    assert not typed.context[4:].any()  # never drawn: negatives come from the centre's group
    assert typed.context[:4].any()


def test_progress_reports_fractions_and_losses():
    seen = []
    indptr, indices, y = sbm_adjacency(size=20)
    walks = numpy_walks(indptr, indices, walks_per_node=5, length=10)
    res = train_sgns(walks, y.size, dimensions=8, epochs=2, random_state=0, block_fraction=0.1,
                     progress=lambda f, loss: seen.append((f, loss)))
    fracs = [f for f, _ in seen]
    assert fracs == sorted(fracs) and fracs[-1] == pytest.approx(1.0) and len(seen) == 20
    assert all(np.isfinite(loss) and loss > 0 for _, loss in seen)
    assert res.losses.tolist() == [loss for _, loss in seen]


# ------------------------------------------------------------------------------- bad input
GOOD = np.array([[0, 1, 2]], dtype=np.int32)


@pytest.mark.parametrize("kwargs,match", [
    ({"dimensions": 0}, "dimensions=0"),
    ({"window": 0}, "window=0"),
    ({"negative": -1}, "negative=-1"),
    ({"epochs": 0}, "epochs=0"),
    ({"lr": float("nan")}, "lr=nan"),
    ({"lr": 0.0}, "lr=0.0"),
    ({"subsample": -1e-3}, "subsample"),
    ({"min_count": -1}, "min_count"),
    ({"block_fraction": 0.0}, "block_fraction"),
    ({"dimensions": 2.5}, "dimensions=2.5"),
    ({"progress": 3}, "progress"),
    ({"shared_negatives": "no"}, "shared_negatives"),
    ({"shuffle": 1}, "shuffle"),
    ({"groups": np.array([0, 1])}, "groups"),
    ({"groups": np.array([0.0, 1.0, 1.0])}, "groups"),
])
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        train_sgns(GOOD, 3, **kwargs)


def test_bad_walks():
    with pytest.raises(ValidationError, match="2-D"):
        train_sgns(np.array([0, 1, 2]), 3)
    with pytest.raises(ValidationError, match="dtype"):
        train_sgns(np.array([[0.0, 1.0]]), 3)
    with pytest.raises(ValidationError, match="walk 1 holds node id 7 >= n_nodes=3"):
        train_sgns(np.array([[0, 1], [2, 7]]), 3)
    with pytest.raises(ValidationError, match="-2"):
        train_sgns(np.array([[0, -2]]), 3)
    with pytest.raises(EmptyInputError):
        train_sgns(np.zeros((0, 5), np.int32), 3)
    with pytest.raises(EmptyInputError, match="every walk is empty"):
        train_sgns(np.full((2, 3), -1, np.int32), 3)
    with pytest.raises(ValidationError, match="n_nodes"):
        train_sgns(GOOD, 0)
