"""Anonymous walks: encoding, walk types, vocabularies, per-node distributions, radius."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.sampling.anonymous import (AnonymousWalkVocabulary, anonymize, receptive_radius,
                                          walk_type_distribution, walk_types)
from vastgraph.sampling.walks import random_walks


def reference_anonymize(row):
    first = {}
    return [-1 if x < 0 else first.setdefault(x, len(first)) for x in row]


def path_graph(n=5):
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges(np.arange(n - 1), np.arange(1, n))
    return b.build()


def test_anonymize_example_and_padding():
    out = anonymize(np.array([[10, 11, 12, 13, 11], [4, 4, 9, -1, -1], [7, -1, -1, -1, -1]]))
    assert out.dtype == np.int8
    assert out.tolist() == [[0, 1, 2, 3, 1], [0, 0, 1, -1, -1], [0, -1, -1, -1, -1]]


@pytest.mark.parametrize("length,dtype", [(6, np.int8), (200, np.int16)])
def test_anonymize_matches_reference(length, dtype):
    rng = np.random.default_rng(length)
    walks = rng.integers(0, length // 2 + 2, (300, length))
    walks[::7, length // 2:] = -1
    out = anonymize(walks)
    assert out.dtype == dtype
    assert out.tolist() == [reference_anonymize(r) for r in walks.tolist()]
    assert anonymize(walks.astype(np.int32)).tolist() == out.tolist()


def test_anonymize_bad_input():
    with pytest.raises(ValidationError, match="2-D"):
        anonymize([1, 2, 3])
    with pytest.raises(ValidationError, match="dtype"):
        anonymize(np.ones((2, 3)))
    with pytest.raises(ValidationError, match="at least one node"):
        anonymize(np.empty((2, 0), np.int64))
    assert anonymize(np.empty((0, 4), np.int64)).shape == (0, 4)


@pytest.mark.parametrize("length", [5, 30, 300])  # int64 keys, one-byte keys, two-byte keys
def test_walk_types_lexicographic_and_consistent(length):
    rng = np.random.default_rng(length)
    walks = rng.integers(0, 4, (500, length))
    walks[::5, length - 2:] = -1
    anon = anonymize(walks)
    ids, vocab = walk_types(anon)
    assert ids.dtype == np.int32 and vocab.dtype == anon.dtype
    assert np.array_equal(vocab[ids], anon)
    ref = sorted(set(map(tuple, anon.tolist())))
    assert [tuple(r) for r in vocab.tolist()] == ref  # lexicographic, -1 first
    perm = rng.permutation(anon.shape[0])
    ids_p, vocab_p = walk_types(anon[perm])
    assert np.array_equal(vocab_p, vocab) and np.array_equal(ids_p, ids[perm])
    n_half = anon.shape[0] // 2
    half = AnonymousWalkVocabulary(anon[:n_half])
    enc = half.encode(anon)
    known = np.isin(ids, ids[:n_half])  # types that occur in the first half
    assert np.array_equal(enc >= 0, known)
    assert np.array_equal(half.types[enc[known]], anon[known])


def test_walk_types_rejects_non_anonymous():
    for bad in ([[1, 2, 3]], [[0, 2, 1]], [[0, -1, 1]], [[0, 1, -2]]):
        with pytest.raises(ValidationError, match="anonymi"):
            walk_types(np.array(bad))


def test_vocabulary_encodes_other_walks_stably():
    g = path_graph(6)
    walks_a = random_walks(g, walks_per_node=50, walk_length=4, random_state=0)
    anon_a = anonymize(walks_a)
    ids_a, types_a = walk_types(anon_a)
    vocab = AnonymousWalkVocabulary.from_walks(anon_a)
    assert len(vocab) == types_a.shape[0] and vocab.walk_length == 5
    assert np.array_equal(vocab.encode(anon_a), ids_a)
    # a triangle has walk types a path does not: (0, 1, 2, 0, ...) never occurs on a path
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges([0, 1, 2], [1, 2, 0])
    anon_b = anonymize(random_walks(b.build(), walks_per_node=100, walk_length=4, random_state=1))
    enc = vocab.encode(anon_b)
    known = enc >= 0
    assert known.any() and (~known).any()
    assert np.array_equal(vocab.types[enc[known]], anon_b[known])
    for row in anon_b[~known]:  # a path is bipartite: only a triangle returns after an odd count
        assert any(row[i] == row[j] and (j - i) % 2 for i in range(5) for j in range(i + 1, 5))
    other = vocab.encode(anon_b, unknown_id=len(vocab))
    assert (other[~known] == len(vocab)).all() and np.array_equal(other[known], enc[known])
    with pytest.raises(ValidationError, match="5 nodes"):
        vocab.encode(anon_b[:, :4])
    with pytest.raises(EmptyInputError):
        AnonymousWalkVocabulary(np.empty((0, 3), np.int8))


def test_distribution_rows_sum_to_one_and_counts():
    g = path_graph(5)
    walks = random_walks(g, start=[0, 1, 2], walks_per_node=40, walk_length=3, random_state=2)
    dist, vocab = walk_type_distribution(walks, n_nodes=6)
    assert dist.shape == (6, len(vocab))
    sums = np.asarray(dist.sum(axis=1)).ravel()
    assert np.allclose(sums[:3], 1.0) and np.allclose(sums[3:], 0.0)
    counts, vocab2 = walk_type_distribution(walks, normalize=False)
    assert counts.shape == (3, len(vocab2))
    assert np.array_equal(np.asarray(counts.sum(axis=1)).ravel(), [40, 40, 40])
    assert np.allclose(counts.toarray() / 40.0, dist.toarray()[:3])


def test_structural_positions_differ():
    """On the path 0-1-2-3-4, walks of 3 steps from the end (0) and the middle (2) differ exactly:
    end: (0,1,0,1) 1/2, (0,1,2,1) 1/4, (0,1,2,3) 1/4; middle: (0,1,2,1) 1/2, (0,1,0,1) 1/4,
    (0,1,0,2) 1/4."""
    g = path_graph(5)
    dist, vocab = walk_type_distribution(g, walks_per_node=20_000, walk_length=3, random_state=4)
    col = {tuple(t): i for i, t in enumerate(vocab.types.tolist())}
    d = dist.toarray()
    expect_end = {(0, 1, 0, 1): 0.5, (0, 1, 2, 1): 0.25, (0, 1, 2, 3): 0.25}
    expect_mid = {(0, 1, 2, 1): 0.5, (0, 1, 0, 1): 0.25, (0, 1, 0, 2): 0.25}
    for node, expect in ((0, expect_end), (4, expect_end), (2, expect_mid)):
        row = d[node]
        assert set(np.flatnonzero(row)) == {col[t] for t in expect}
        for t, pr in expect.items():
            assert abs(row[col[t]] - pr) < 0.02
    assert np.abs(d[0] - d[2]).sum() > 0.9
    assert np.abs(d[0] - d[4]).sum() < 0.05


def test_distribution_with_fixed_vocabulary():
    g = path_graph(5)
    base = anonymize(np.array([[0, 1, 0, 1], [0, 1, 2, 1]]))
    vocab = AnonymousWalkVocabulary(base)
    dist, same = walk_type_distribution(g, vocabulary=vocab, walks_per_node=500, walk_length=3,
                                        random_state=0)
    assert same is vocab and dist.shape == (5, 2)
    sums = np.asarray(dist.sum(axis=1)).ravel()
    assert np.allclose(sums, 1.0)  # unknown types are left out of the normalisation
    counts, _ = walk_type_distribution(g, vocabulary=vocab, normalize=False, walks_per_node=500,
                                       walk_length=3, random_state=0)
    assert (np.asarray(counts.sum(axis=1)).ravel() < 500).any()


def test_distribution_bad_input():
    walks = np.array([[0, 1, 0], [1, 0, 1]])
    with pytest.raises(ValidationError, match="n_nodes"):
        walk_type_distribution(walks, n_nodes=1)
    with pytest.raises(ValidationError, match="vocabulary"):
        walk_type_distribution(walks, vocabulary=[[0, 1, 0]])
    with pytest.raises(ValidationError, match="start node"):
        walk_type_distribution(np.array([[-1, -1]]))
    with pytest.raises(EmptyInputError):
        walk_type_distribution(np.empty((0, 3), np.int64))
    with pytest.raises(ValidationError, match="walk_length"):
        walk_type_distribution(path_graph(3), walk_length=0)


def test_receptive_radius():
    anon = anonymize(np.array([[1, 2, 1, 2], [1, 2, 3, 4], [5, 6, 7, -1], [5, -1, -1, -1]]))
    assert receptive_radius(anon).tolist() == [4, 2, 2, 8]
    assert receptive_radius(anon, 8).tolist() == [8, 4, 5, 16]
    assert receptive_radius(anon).dtype == np.int32
    with pytest.raises(ValidationError, match="l="):
        receptive_radius(anon, 0)
    with pytest.raises(ValidationError, match="anonymi"):
        receptive_radius(np.array([[3, 4]]))


def test_traced_pattern_profile_sees_k4_beyond_closed_walks():
    from vastgraph.datasets.expressiveness import strongly_regular_pairs
    from vastgraph.sampling.anonymous import traced_pattern_columns, traced_pattern_profile
    from vastgraph.sampling.walks import random_walks

    assert traced_pattern_columns(4)[-1] == (4, 3)
    fam = strongly_regular_pairs()
    rook, shrikhande = fam.graphs[0], fam.graphs[1]
    rates = [traced_pattern_profile(random_walks(g, walks_per_node=500, walk_length=8, random_state=0),
                                    16, max_nodes=4)[:, -1].mean() for g in (rook, shrikhande)]
    assert rates[0] > 2e-4 and rates[1] == 0.0  # rook has K4s, the Shrikhande graph none
