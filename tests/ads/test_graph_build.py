"""Tests of search-ads graph construction and its day-by-day deltas (vastgraph.ads.graph_build)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from vastgraph.ads.graph_build import (CLICK, COBID, COCLICK, OWNS, SEMANTIC, USER_CLICK, build_ads_graph,
                                       daily_deltas, top_k_pairs)
from vastgraph.ads.world import AdsWorld
from vastgraph.errors import EmptyInputError, UnknownIdError, ValidationError
from vastgraph.graph.delta import apply_delta

T0 = 1_600_041_600


def events() -> pd.DataFrame:
    """Hand-written log: 2 days, 3 queries, 3 ads, 2 advertisers, 3 users."""
    rows = [  # time offset, day, query, text, ad, advertiser, bid words, user, click
        (10, 0, "q1", "red shoe", "a1", "v1", "shoe red", "u1", 1),
        (20, 0, "q1", "red shoe", "a2", "v1", "shoe boot", "u1", 1),
        (30, 0, "q2", "red shoes", "a1", "v1", "shoe red", "u2", 1),
        (40, 0, "q2", "red shoes", "a2", "v1", "shoe boot", "u2", 0),
        (86405, 1, "q2", "red shoes", "a2", "v1", "shoe boot", "u1", 1),
        (86406, 1, "q3", "blue hat", "a3", "v2", "hat", "u3", 1),
        (86407, 1, "q1", "red shoe", "a1", "v1", "shoe red", "u2", 1),
    ]
    df = pd.DataFrame(rows, columns=["time", "day", "query", "query_text", "ad", "advertiser", "bid_words", "user",
                                     "click"])
    df["time"] += T0
    return df


def edges(g, et) -> dict[tuple, tuple]:
    """``{(src ext, dst ext): (weight, time)}``, merging parallel copies (weights summed, latest time)."""
    s, d = g.edge_index(et)
    adj = g.adjacency(et)
    w = np.ones(s.size) if adj.weight is None else np.asarray(adj.weight, np.float64)
    t = np.zeros(s.size, np.int64) if adj.time is None else np.asarray(adj.time)
    df = pd.DataFrame({"s": g.external_ids(et.src)[s], "d": g.external_ids(et.dst)[d], "w": w, "t": t})
    agg = df.groupby(["s", "d"]).agg(w=("w", "sum"), t=("t", "max"))
    return {k: (round(float(v.w), 5), int(v.t)) for k, v in agg.iterrows()}


def test_hand_written_log_exact_edges():
    g = build_ads_graph(events(), max_df=1.0, min_cooccurrence=1)
    assert sorted(g.node_types) == ["ad", "advertiser", "query"]
    assert list(g.external_ids("query")) == ["q1", "q2", "q3"]
    assert edges(g, g.edge_type(CLICK)) == {
        ("q1", "a1"): (2.0, T0 + 86407), ("q1", "a2"): (1.0, T0 + 20), ("q2", "a1"): (1.0, T0 + 30),
        ("q2", "a2"): (1.0, T0 + 86405), ("q3", "a3"): (1.0, T0 + 86406)}
    assert not g.is_undirected(CLICK)
    # co-click: q1 and q2 both clicked a1 and a2
    assert edges(g, g.edge_type(COCLICK)) == {("a1", "a2"): (2.0, 0), ("a2", "a1"): (2.0, 0)}
    assert g.is_undirected(COCLICK)
    # semantic: TF-IDF cosine of "red shoe" / "red shoes" (smooth idf, n = 3)
    idf_red, idf_one = math.log(4 / 3) + 1, math.log(4 / 2) + 1
    cos = idf_red ** 2 / (idf_red ** 2 + idf_one ** 2)
    sem = edges(g, g.edge_type(SEMANTIC))
    assert set(sem) == {("q1", "q2"), ("q2", "q1")} and sem[("q1", "q2")][0] == pytest.approx(cos, abs=1e-5)
    assert edges(g, g.edge_type(COBID)) == {("a1", "a2"): (1.0, 0), ("a2", "a1"): (1.0, 0)}
    assert edges(g, g.edge_type(OWNS)) == {("v1", "a1"): (1.0, 0), ("v1", "a2"): (1.0, 0), ("v2", "a3"): (1.0, 0)}
    assert g.labels("query") is None and g.features("query") is None


def test_thresholds_users_days_and_features():
    g = build_ads_graph(events(), max_df=1.0, min_cooccurrence=3, semantic_threshold=0.5, include_users=True,
                        feature_dim=16)
    assert g.num_edges(COCLICK) == 0 and g.num_edges(SEMANTIC) == 0
    assert edges(g, g.edge_type(USER_CLICK))[("u2", "a1")] == (2.0, T0 + 86407)
    f = g.features("query")
    assert f.shape == (3, 16) and np.allclose(np.linalg.norm(f, axis=1), 1.0)
    assert g.features("advertiser") is None
    by_user = build_ads_graph(events(), coclick_by="user", min_cooccurrence=1)
    assert edges(by_user, by_user.edge_type(COCLICK)) == {("a1", "a2"): (1.0, 0), ("a2", "a1"): (1.0, 0)}
    day0 = build_ads_graph(events(), days=[0], max_df=1.0)
    assert list(day0.external_ids("ad")) == ["a1", "a2"] and day0.num_edges(CLICK) == 3
    steps = []
    build_ads_graph(events(), progress=lambda i, n: steps.append((i, n)))
    assert steps[-1] == (6, 6) and len(steps) == 6


def test_catalogs_give_labels_extra_nodes_and_check_ids():
    cat = {"queries": pd.DataFrame({"query": ["q0", "q1", "q2", "q3", "q9"], "text": ["x", "red shoe", "red shoes",
                                                                                    "blue hat", "late"],
                                    "label": [0, 1, 1, 2, 0], "first_day": [0, 0, 0, 1, 5]}),
           "ads": pd.DataFrame({"ad": ["a1", "a2", "a3"], "advertiser": ["v1", "v1", "v2"],
                                "bid_words": ["shoe red", "shoe boot", "hat"], "label": [1, 1, 2]})}
    g = build_ads_graph(events(), cat)
    assert list(g.external_ids("query")) == ["q0", "q1", "q2", "q3"]  # q9 is not live yet
    assert g.labels("query").tolist() == [0, 1, 1, 2] and g.labels("ad").tolist() == [1, 1, 2]
    bad = events()
    bad.loc[0, "ad"] = "a7"
    with pytest.raises(UnknownIdError, match="ad id 'a7'"):
        build_ads_graph(bad, cat)
    with pytest.raises(UnknownIdError, match="advertiser id 'v2'"):
        build_ads_graph(events(), {**cat, "advertisers": pd.DataFrame({"advertiser": ["v1"]})})
    with pytest.raises(ValidationError, match="expected a 'ad' column"):
        build_ads_graph(events(), {"ads": pd.DataFrame({"id": ["a1"]})})


def test_bad_inputs():
    with pytest.raises(ValidationError, match="DataFrame"):
        build_ads_graph([1, 2])
    with pytest.raises(ValidationError, match=r"\['click'\]"):
        build_ads_graph(events().drop(columns=["click"]))
    with pytest.raises(ValidationError, match=r"\['user'\]"):
        build_ads_graph(events().drop(columns=["user"]), include_users=True)
    with pytest.raises(ValidationError, match="coclick_by='item'"):
        build_ads_graph(events(), coclick_by="item")
    with pytest.raises(ValidationError, match="min_cooccurrence=0"):
        build_ads_graph(events(), min_cooccurrence=0)
    with pytest.raises(ValidationError, match="semantic_threshold"):
        build_ads_graph(events(), semantic_threshold=1.5)
    with pytest.raises(ValidationError, match="days"):
        build_ads_graph(events(), days=["x"])
    with pytest.raises(EmptyInputError, match="days"):
        build_ads_graph(events(), days=[7])
    with pytest.raises(ValidationError, match="world_or_catalogs"):
        build_ads_graph(events(), 42)
    with pytest.raises(ValidationError, match="progress"):
        build_ads_graph(events(), progress="bar")
    with pytest.raises(ValidationError, match="start_day"):
        next(daily_deltas(events(), start_day=-1))


def test_top_k_pairs_keeps_union_of_top_k():
    x = sp.csr_matrix(np.array([[1.0, 0, 0], [0.9, 0.1, 0], [0.8, 0.2, 0], [0, 0, 1.0]]))
    a, b, w = top_k_pairs(x, 1, 0.01)
    # S = X Xᵀ: s01 = 0.9, s02 = 0.8, s12 = 0.74. Best of row 0: 1; of rows 1 and 2: 0; row 3: none
    assert set(zip(a.tolist(), b.tolist())) == {(0, 1), (0, 2)}
    assert w.dtype == np.float32
    a, b, _ = top_k_pairs(x, 5, 0.85)
    assert set(zip(a.tolist(), b.tolist())) == {(0, 1)}


def test_hand_written_deltas():
    out = list(daily_deltas(events(), min_cooccurrence=1))
    assert [d for d, _ in out] == [1]
    delta = out[0][1]
    assert delta.time == T0 + 86407
    new = {b["ntype"]: list(b["ids"]) for b in delta.nodes}
    assert new == {"query": ["q3"], "ad": ["a3"], "advertiser": ["v2"]}
    g = build_ads_graph(events(), days=[0], min_cooccurrence=1)
    g2, summary = apply_delta(g, delta)
    full = build_ads_graph(events(), min_cooccurrence=1)
    for et in (CLICK, OWNS, COCLICK):
        assert edges(g2, g2.edge_type(et)) == edges(full, full.edge_type(et))
    assert summary.new_nodes["ad"].tolist() == [2]


@pytest.mark.parametrize("min_co", [1, 2])
def test_deltas_applied_in_order_reproduce_the_full_graph(min_co):
    w = AdsWorld.preset("tiny", random_state=2, n_days=3, events_per_day=800)
    opts = dict(min_cooccurrence=min_co, include_users=True, feature_dim=8 * (min_co - 1))
    full = build_ads_graph(w.events, w, **opts)
    g = build_ads_graph(w.events, w, days=[0], **opts)
    days = []
    for day, delta in daily_deltas(w.events, w, **opts):
        g, _ = apply_delta(g, delta)
        days.append(day)
    assert days == [1, 2]
    for nt in full.node_types:
        assert sorted(g.external_ids(nt)) == sorted(full.external_ids(nt))
    lab_full = dict(zip(full.external_ids("ad"), full.labels("ad")))
    assert dict(zip(g.external_ids("ad"), g.labels("ad"))) == lab_full
    for et in (CLICK, USER_CLICK, OWNS, COCLICK):
        assert edges(g, g.edge_type(et)) == edges(full, full.edge_type(et)), et
    assert full.num_edges(CLICK) > 0 and full.num_edges(COCLICK) > 0
    if opts["feature_dim"]:
        f_full = dict(zip(full.external_ids("query"), map(tuple, full.features("query"))))
        assert dict(zip(g.external_ids("query"), map(tuple, g.features("query")))) == f_full
