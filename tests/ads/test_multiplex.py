import numpy as np
import pytest

from vastgraph.ads.multiplex import (coneighbour_scorer, embedding_scorer, evaluate_multiplex_retrieval,
                                     pair_scorer)
from vastgraph.errors import ValidationError
from vastgraph.graph.builder import GraphBuilder


def _graph():
    b = GraphBuilder(directed=False)
    b.add_nodes("node", ids=np.arange(6))
    b.add_edges([0, 0, 3, 3, 4], [1, 2, 1, 2, 5], etype=("node", "r", "node"))
    b.add_edges([0], [5], etype=("node", "s", "node"))
    return b.build()


SPLIT = {"src": np.array([0, 1, 0]), "dst": np.array([3, 4, 4]), "etype": np.array([0, 0, 1]),
         "label": np.array([1, 0, 1])}


def test_coneighbour_recovers_the_shared_neighbour_pair_and_excludes_known_items():
    g = _graph()
    m = evaluate_multiplex_retrieval(g, SPLIT, {"co": coneighbour_scorer(g)}, k_values=(1, 3))
    r = m["co"]["r"]
    assert r["n_queries"] == 2  # 0 and 3 (the label-0 row is ignored)
    assert r["recall@1"] == 1.0 and r["ndcg@1"] == 1.0
    assert "s" in m["co"]  # relation s: query 0 → 4 and 4 → 0


def test_embedding_scores_rank_by_vector_similarity():
    g = _graph()
    good = np.eye(6)
    good[3] = good[0]  # 0 and 3 identical: each retrieves the other first
    bad = np.eye(6)
    bad[5] = bad[0]
    bad[4] = bad[3]  # 0's nearest unknown item is 5, 3's is 4: the held-out pair ranks below them
    res = evaluate_multiplex_retrieval(g, SPLIT, {"good": embedding_scorer(good), "bad": embedding_scorer(bad)},
                                       k_values=(1,))
    assert res["good"]["r"]["recall@1"] == 1.0
    assert res["bad"]["r"]["recall@1"] == 0.0


def test_pair_scorer_matches_an_equivalent_matrix_scorer():
    g = _graph()
    x = np.random.default_rng(0).normal(size=(6, 4))
    a = evaluate_multiplex_retrieval(g, SPLIT, {"m": embedding_scorer(x, "dot")}, k_values=(2,))
    b = evaluate_multiplex_retrieval(g, SPLIT, {"m": pair_scorer(lambda u, v, et: (x[u] * x[v]).sum(1), 6)},
                                     k_values=(2,))
    assert a == b


def test_bad_input():
    g = _graph()
    with pytest.raises(ValidationError, match="k_values"):
        evaluate_multiplex_retrieval(g, SPLIT, {}, k_values=(0,))
    with pytest.raises(ValidationError, match="equal lengths"):
        evaluate_multiplex_retrieval(g, {**SPLIT, "dst": np.array([3])}, {})
    with pytest.raises(ValidationError, match="shape"):
        evaluate_multiplex_retrieval(g, SPLIT, {"x": lambda q, et: np.zeros((1, 1))}, k_values=(1,))
    with pytest.raises(ValidationError, match="metric"):
        embedding_scorer(np.eye(3), "l1")
