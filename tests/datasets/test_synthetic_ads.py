"""Synthetic search-ads graph generator."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.datasets.synthetic_ads import DAY, DEFAULT_START, search_ads_graph
from vastgraph.errors import ValidationError

SMALL = dict(n_queries=600, n_ads=300, n_advertisers=30, n_days=5, n_categories=6)


@pytest.fixture(scope="module")
def ads():
    return search_ads_graph(**SMALL, random_state=3)


def test_deterministic_by_seed(ads):
    again = search_ads_graph(**SMALL, random_state=3)
    other = search_ads_graph(**SMALL, random_state=4)
    for et in ads.graph.edge_types:
        a, b = ads.graph.adjacency(et), again.graph.adjacency(et)
        np.testing.assert_array_equal(a.indptr, b.indptr)
        np.testing.assert_array_equal(a.indices, b.indices)
        if a.weight is not None:
            np.testing.assert_array_equal(a.weight, b.weight)
        if a.time is not None:
            np.testing.assert_array_equal(a.time, b.time)
    np.testing.assert_array_equal(ads.graph.features("query"), again.graph.features("query"))
    assert not np.array_equal(ads.graph.labels("query"), other.graph.labels("query"))


def test_schema(ads):
    g = ads.graph
    assert g.node_types == ["query", "ad", "advertiser"]
    assert [tuple(e) for e in g.edge_types] == [("query", "click", "ad"), ("advertiser", "owns", "ad"),
                                               ("ad", "cobid", "ad")]
    assert not g.is_undirected("click") and not g.is_undirected("owns") and g.is_undirected("cobid")
    assert [g.num_nodes(t) for t in g.node_types] == [600, 300, 30]
    assert g.external_ids("query", [0, 599]).tolist() == ["q0", "q599"]
    assert g.external_ids("ad", [7]).tolist() == ["ad7"] and g.external_ids("advertiser", [2]).tolist() == ["adv2"]
    for t in g.node_types:
        lab = g.labels(t)
        assert lab.dtype == np.int64 and lab.min() >= 0 and lab.max() < 6
    assert g.features("query").shape == (600, 16) and g.features("ad").dtype == np.float32


def test_clicks_weights_and_timestamps(ads):
    g = ads.graph
    adj = g.adjacency("click")
    assert adj.weight.dtype == np.float32 and adj.time.dtype == np.int64
    assert adj.weight.min() >= 1 and adj.weight.sum() == ads.info["click_events"] == 600 * 8
    assert adj.time.min() >= DEFAULT_START and adj.time.max() < DEFAULT_START + 5 * DAY
    days = (adj.time - DEFAULT_START) // DAY
    assert set(np.unique(days).tolist()) == set(range(5))
    assert g.adjacency("click", reverse=True).nnz == adj.nnz


def test_hidden_categories_drive_every_edge_type(ads):
    g = ads.graph
    ql, al, vl = g.labels("query"), g.labels("ad"), g.labels("advertiser")
    chance = float(np.sum(np.array(ads.info["category_popularity"]) ** 2))
    s, d = g.edge_index("click")
    w = g.adjacency("click").weight
    assert np.average(ql[s] == al[d], weights=w) > 0.8 > chance + 0.4
    s, d = g.edge_index("cobid")
    assert np.mean(al[s] == al[d]) > 0.75
    s, d = g.edge_index("owns")
    assert np.mean(vl[s] == al[d]) > 0.8
    # nearest category centroid recovers most query labels from the features
    f = g.features("query")
    cent = np.stack([f[ql == c].mean(0) for c in range(6)])
    pred = np.argmin(((f[:, None, :] - cent[None]) ** 2).sum(-1), axis=1)
    assert np.mean(pred == ql) > 0.8


def test_ownership_and_cobid_weights(ads):
    g = ads.graph
    owner = g.node_data("ad", "owner")
    assert (g.in_degree("owns") == 1).all()
    s, d = g.edge_index("owns")
    np.testing.assert_array_equal(owner[d], s)
    words = g.node_data("ad", "bid_words")
    s, d = g.edge_index("cobid")
    w = g.adjacency("cobid").weight
    for i in range(0, s.size, max(1, s.size // 50)):
        shared = len(set(words[s[i]].tolist()) & set(words[d[i]].tolist()))
        assert w[i] == shared >= 1
    assert not (s == d).any()


@pytest.mark.parametrize("kwargs,match", [
    ({"n_queries": 0}, "n_queries=0"),
    ({"n_ads": 5, "n_advertisers": 6}, "n_advertisers=6"),
    ({"noise": -0.1}, "noise=-0.1"),
    ({"clicks_per_query": 0}, "clicks_per_query=0"),
    ({"n_days": 2.5}, "n_days=2.5"),
])
def test_bad_parameters(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        search_ads_graph(**kwargs)
