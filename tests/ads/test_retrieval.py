"""Tests of query→ad retrievers and retrieval metrics (vastgraph.ads.retrieval)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from vastgraph.ads.graph_build import build_ads_graph
from vastgraph.ads.retrieval import (CoClickRetriever, EmbeddingRetriever, RandomRetriever, RelevanceRetriever,
                                     Retriever, ScoreRetriever, evaluate_retrieval, top_k)
from vastgraph.ads.world import AdsWorld
from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
from vastgraph.errors import EmptyInputError, SchemaError, UnknownIdError, ValidationError


@pytest.fixture(scope="module")
def world() -> AdsWorld:
    return AdsWorld.preset("tiny", random_state=0)


def _events(rows):
    q, a, c = zip(*rows)
    n = len(rows)
    return pd.DataFrame({"time": np.arange(n), "day": 0, "query": q, "ad": a, "advertiser": "v", "click": c})


def _ordered(ads=("a", "b", "c", "d", "e"), queries=("q1", "q2")):
    # every query ranks the ads in catalog order
    return ScoreRetriever(lambda u, v: -v.astype(float), list(queries), list(ads))


def test_top_k_orders_pads_and_breaks_ties_by_column():
    s = np.array([[0.1, 0.5, 0.5, -np.inf], [-np.inf, -np.inf, 2.0, -np.inf]])
    idx, val = top_k(s, 3)
    assert idx.tolist() == [[1, 2, 0], [2, -1, -1]]
    assert val[1, 1] == -np.inf and val[0, 0] == 0.5
    idx, _ = top_k(s, 6)
    assert idx.shape == (2, 6) and idx[0, 3:].tolist() == [-1, -1, -1]


def test_recall_and_ndcg_hand_computed():
    table = pd.DataFrame({"query": ["q1", "q1", "q1"], "ad": ["b", "c", "e"], "gain": [1.0, 0.4, 1.0]})
    m = evaluate_retrieval(_ordered(), ["q1", "q2"], k_values=(2, 4), relevance=table)
    # q1 ranks a, b, c, d, e; relevant (gain >= 1) = {b, e}; q2 has no relevant ad and is not averaged
    assert m["n_queries"] == 1
    assert m["recall@2"] == pytest.approx(0.5) and m["recall@4"] == pytest.approx(0.5)
    l3 = math.log2(3)
    assert m["ndcg@2"] == pytest.approx((1 / l3) / (1 + 1 / l3))
    assert m["ndcg@4"] == pytest.approx((1 / l3 + 0.4 / 2) / (1 + 1 / l3 + 0.4 / 2))
    # a lower threshold makes c relevant too
    m = evaluate_retrieval(_ordered(), ["q1"], k_values=(4,), relevance=table, threshold=0.4)
    assert m["recall@4"] == pytest.approx(2 / 3)


def test_next_day_click_metrics_hand_computed():
    clicks = pd.DataFrame({"query": ["q1", "q1", "q1", "q2", "q2"], "ad": ["c", "c", "zz", "a", "b"],
                           "click": [1, 1, 1, 0, 1]})
    m = evaluate_retrieval(_ordered(), ["q1", "q2"], k_values=(3,), next_day_clicks=clicks)
    # q1 clicked c twice and zz (an ad the retriever cannot return) once; q2 clicked b once
    assert m["n_click_queries"] == 2
    assert m["click_recall@3"] == pytest.approx((1 / 2 + 1) / 2)
    ndcg_q1 = (2 / 2) / (2 + 1 / math.log2(3))
    ndcg_q2 = (1 / math.log2(3)) / 1
    assert m["click_ndcg@3"] == pytest.approx((ndcg_q1 + ndcg_q2) / 2)
    assert "recall@3" not in m


def test_relevance_function_matches_world_table(world):
    qs = world.queries["query"].to_numpy()[:30]
    oracle = RelevanceRetriever(world)
    a = evaluate_retrieval(oracle, qs, (5, 200), relevance=world)
    b = evaluate_retrieval(oracle, qs, (5, 200), relevance=world.relevance)
    assert a == pytest.approx(b)
    assert a["recall@200"] == pytest.approx(1.0) and a["ndcg@5"] == pytest.approx(1.0)
    rnd = evaluate_retrieval(RandomRetriever(world.queries["query"], world.ads["ad"]), qs, (5,), relevance=world)
    assert rnd["ndcg@5"] < 0.9 and rnd["recall@5"] < a["recall@5"]


def test_coclick_tiers_direct_then_coclicked_then_popular():
    ev = _events([("q1", "a", 1), ("q1", "a", 1), ("q1", "b", 1), ("q2", "b", 1), ("q2", "c", 1),
                  ("q3", "c", 1), ("q4", "d", 1), ("q4", "d", 1), ("q4", "d", 1), ("cold", "e", 0)])
    g = build_ads_graph(ev, min_cooccurrence=1)
    r = CoClickRetriever(g)
    assert isinstance(r, Retriever)
    out = r.retrieve(["q3", "q1", "cold"], 5)
    # q3 clicked c; c is co-clicked with b (via q2); then popular ads by clicks: d (3), a (2), e (0)
    assert out.ads[0].tolist() == ["c", "b", "d", "a", "e"]
    assert out.ads[1, :2].tolist() == ["a", "b"] and out.ads[1, 2] == "c"
    assert out.ads[2].tolist() == ["d", "a", "b", "c", "e"]  # cold query: popularity (ties by catalog order)
    assert (out.scores[0, 0] > 2) and (1 < out.scores[0, 1] <= 2) and (out.scores[0, 2] < 1)
    assert np.all(np.diff(out.scores, axis=1) <= 0)


def test_coclick_beats_random_on_world(world):
    nd = world.params["n_days"]
    g = build_ads_graph(world.events_for_days(range(nd - 1)), world, days=range(nd - 1))
    qs = g.external_ids("query")
    nxt = world.events_for_days([nd - 1])
    co = evaluate_retrieval(CoClickRetriever(g), qs, (10, 50), relevance=world, next_day_clicks=nxt)
    rnd = evaluate_retrieval(RandomRetriever(qs, g.external_ids("ad")), qs, (10, 50), relevance=world,
                             next_day_clicks=nxt)
    assert co["recall@50"] > rnd["recall@50"] and co["click_recall@10"] > rnd["click_recall@10"]


def test_embedding_retriever_matches_brute_force():
    rng = np.random.default_rng(0)
    qv, av = rng.normal(size=(6, 5)), rng.normal(size=(20, 5))
    qids, aids = [f"q{i}" for i in range(6)], [f"a{i}" for i in range(20)]
    kv = KeyedEmbeddings(np.vstack([av, qv]), ["ad", "query"], [0, 20, 26], {"ad": aids, "query": qids})
    for metric in ("cosine", "dot"):
        out = EmbeddingRetriever(kv, metric=metric).retrieve(qids, 4)
        a = av / np.linalg.norm(av, axis=1, keepdims=True) if metric == "cosine" else av
        q = qv / np.linalg.norm(qv, axis=1, keepdims=True) if metric == "cosine" else qv
        s = q @ a.T
        want = np.argsort(-s, axis=1)[:, :4]
        assert out.ads.tolist() == np.asarray(aids, dtype=object)[want].tolist()
        assert out.scores == pytest.approx(np.take_along_axis(s, want, axis=1), abs=1e-5)
    r2 = EmbeddingRetriever.from_vectors(qids, qv, aids, av)
    assert r2.retrieve(["q3"], 3).ads.tolist() == EmbeddingRetriever(kv).retrieve(["q3"], 3).ads.tolist()


def test_score_retriever_from_graph_uses_global_ids():
    g = build_ads_graph(_events([("q1", "a", 1), ("q2", "b", 1), ("q2", "c", 1)]))
    offs = g.node_offsets()
    target = offs["ad"] + 2  # the third ad
    seen = {}

    def score(u, v):
        seen["u"], seen["v"] = u, v
        return -np.abs(v - target).astype(float)

    r = ScoreRetriever.from_graph(score, g, batch_pairs=4)
    out = r.retrieve(["q2", "q1"], 2)
    assert out.ads[:, 0].tolist() == [g.external_ids("ad")[2]] * 2
    assert set(np.unique(seen["u"])) <= {offs["query"], offs["query"] + 1}


def test_bad_input(world):
    r = _ordered()
    with pytest.raises(ValidationError, match="k=0"):
        r.retrieve(["q1"], 0)
    with pytest.raises(UnknownIdError, match="nope"):
        r.retrieve(["q1", "nope"], 2)
    out = r.retrieve(["q1", "nope"], 2, unknown="empty")
    assert out.ads[1].tolist() == [None, None] and np.isneginf(out.scores[1]).all()
    with pytest.raises(ValidationError, match="unknown="):
        r.retrieve(["q1"], 2, unknown="skip")
    with pytest.raises(ValidationError, match="1-D"):
        r.retrieve([["q1"]], 2)
    table = pd.DataFrame({"query": ["q1"], "ad": ["a"], "gain": [1.0]})
    with pytest.raises(EmptyInputError):
        evaluate_retrieval(r, [], relevance=table)
    with pytest.raises(ValidationError, match="k_values"):
        evaluate_retrieval(r, ["q1"], k_values=(0,), relevance=table)
    with pytest.raises(ValidationError, match="both None"):
        evaluate_retrieval(r, ["q1"])
    with pytest.raises(ValidationError, match="relevance"):
        evaluate_retrieval(r, ["q1"], relevance=3)
    with pytest.raises(ValidationError, match="relevance table"):
        evaluate_retrieval(r, ["q1"], relevance=pd.DataFrame({"query": ["q1"]}))
    with pytest.raises(ValidationError, match="next_day_clicks"):
        evaluate_retrieval(r, ["q1"], next_day_clicks=pd.DataFrame({"query": ["q1"]}))
    with pytest.raises(UnknownIdError):
        evaluate_retrieval(r, ["zz"], relevance=table)
    assert evaluate_retrieval(r, ["zz", "q1"], (1,), relevance=table, unknown="empty")["recall@1"] == 1.0
    with pytest.raises(ValidationError, match="retriever"):
        evaluate_retrieval(object(), ["q1"], relevance=table)
    kv = KeyedEmbeddings(np.ones((2, 2)), ["query", "ad"], [0, 1, 2], {"query": ["q"], "ad": ["a"]})
    with pytest.raises(ValidationError, match="metric"):
        EmbeddingRetriever(kv, metric="l1")
    with pytest.raises(SchemaError, match="ad_type"):
        EmbeddingRetriever(kv, ad_type="item")
    with pytest.raises(ValidationError, match="score_fn"):
        ScoreRetriever(None, ["q"], ["a"])
    with pytest.raises(ValidationError, match="shape"):
        ScoreRetriever(lambda u, v: np.zeros(1), ["q"], ["a", "b"]).retrieve(["q"], 1)
    with pytest.raises(SchemaError, match="click_etype"):
        CoClickRetriever(build_ads_graph(_events([("q", "a", 1)])), click_etype=("query", "view", "ad"))
