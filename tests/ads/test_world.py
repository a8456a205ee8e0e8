"""Tests of the synthetic search-ads world (vastgraph.ads.world)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vastgraph.ads.logs import EVENT_SCHEMA, read_events
from vastgraph.ads.world import PRESETS, AdsWorld, generate_world
from vastgraph.errors import StoreError, UnknownIdError, ValidationError


@pytest.fixture(scope="module")
def world() -> AdsWorld:
    return AdsWorld.preset("tiny", random_state=0)


def test_deterministic_by_seed(world):
    again = AdsWorld.preset("tiny", random_state=0)
    pd.testing.assert_frame_equal(world.events, again.events)
    pd.testing.assert_frame_equal(world.ads, again.ads)
    other = AdsWorld.preset("tiny", random_state=1)
    assert not world.events["query"].equals(other.events["query"])
    gen = generate_world(**PRESETS["tiny"], random_state=np.random.default_rng(5))
    assert len(gen.events) > 0


def test_events_follow_the_log_schema(world):
    ev, rep = read_events(world.events, queries=world.queries, ads=world.ads, advertisers=world.advertisers)
    assert rep.skipped == {} and rep.reordered == 0 and rep.empty_days == []
    assert rep.last_day == PRESETS["tiny"]["n_days"] - 1
    e = world.events
    assert list(e.columns) == EVENT_SCHEMA.names
    assert 0.5 * 4 * 2000 < len(e) <= 4 * 2000
    assert ((e["conversion"] == 1) <= (e["click"] == 1)).all()
    assert ((e["cost"] > 0) <= (e["click"] == 1)).all()
    assert (e["cost"] <= e["bid"] + 1e-9).all()
    assert ((e["conversion_value"] > 0) == (e["conversion"] == 1)).all()
    assert e["position"].between(1, world.params["slots"]).all()
    # no ad shown twice to one arrival
    assert not e.duplicated(["time", "user", "query", "ad"]).any()


def test_ctr_decreases_with_position(world):
    ctr = world.events.groupby("position")["click"].mean().to_numpy()
    assert (np.diff(ctr) < 0).all()


def test_relevant_pairs_are_clicked_more(world):
    e = world.events
    rel = world.relevance(e["query"], e["ad"])
    assert ((rel >= 0) & (rel <= 1)).all()
    assert e["click"][rel == 1].mean() > 2 * e["click"][rel == 0].mean()
    assert e["conversion"][rel == 1].mean() > e["conversion"][rel == 0].mean()


def test_popularity_is_heavy_tailed(world):
    arrivals = world.events.drop_duplicates(["time", "user", "query"])
    counts = arrivals["query"].value_counts().to_numpy()
    assert counts[: max(1, counts.size // 10)].sum() > 0.4 * counts.sum()  # top 10% of queries: > 40% of traffic
    assert counts.max() > 10 * np.median(counts)


def test_new_ads_and_queries_appear_on_later_days(world):
    e = world.events
    for table, col in ((world.ads, "ad"), (world.queries, "query")):
        first = table.set_index(col)["first_day"]
        assert (first > 0).any()
        seen = e.groupby(col)["day"].min()
        assert (seen >= first.reindex(seen.index)).all()  # never shown before its first day
        late = seen[first.reindex(seen.index) > 0]
        assert late.size > 0 and (late > 0).all()


def test_budgets_bound_daily_spend(world):
    spend = world.events.groupby(["day", "advertiser"])["cost"].sum().reset_index()
    spend = spend.merge(world.advertisers, on="advertiser")
    assert (spend["cost"] <= spend["daily_budget"] + world.ads["bid"].max()).all()


def test_hidden_model(world):
    q = world.queries.iloc[0]
    same = world.ads[world.ads["category"] == q["category"]]
    rel = world.relevance(q["query"], world.ads["ad"])
    assert set(world.relevant_ads(q["query"])) == set(same["ad"]) == set(world.ads["ad"][rel == 1])
    assert np.allclose(world.relevance(q["query"], same["ad"]), 1.0)
    later = world.relevant_ads(q["query"], 0.3, day=0)
    assert set(later) <= set(world.ads["ad"][(rel >= 0.3) & (world.ads["first_day"] == 0)])
    assert set(np.unique(np.round(rel, 6))) <= {0.0, 0.4, 1.0}  # decay 0.4, depth 2
    mat = world.relevance_matrix(world.queries["query"][:5])
    assert mat.shape == (5, len(world.ads)) and mat.dtype == np.float32
    np.testing.assert_allclose(mat[0], rel)
    sub = world.relevance_matrix(["q1", "q2"], ["ad3", "ad0"])
    np.testing.assert_allclose(sub.ravel(), world.relevance(["q1", "q1", "q2", "q2"], ["ad3", "ad0", "ad3", "ad0"]))
    deep = generate_world(n_queries=40, n_ads=30, n_advertisers=3, branching=2, depth=3, n_days=1,
                          events_per_day=100, relevance_decay=0.5)
    lv = set(np.unique(np.round(deep.relevance_matrix(), 6)))
    assert lv <= {0.0, 0.25, 0.5, 1.0} and 1.0 in lv
    table = deep._category_relevance()
    leaves = np.flatnonzero(deep._ancestors()[:, 3] >= 0)
    assert table[leaves[0], leaves[0]] == 1 and table[leaves[0], leaves[1]] == 0.5  # siblings
    assert table[leaves[0], leaves[2]] == 0.25 and table[leaves[0], leaves[-1]] == 0.0
    a = same["ad"].iloc[0]
    p = world.click_probability([q["query"]] * 4, [a] * 4, [1, 2, 3, 4])
    assert (np.diff(p) < 0).all() and ((p > 0) & (p <= 1)).all()
    assert world.conversion_probability(q["query"], a)[0] == pytest.approx(0.21)
    assert world.conversion_value([a])[0] == pytest.approx(float(same["value"].iloc[0]))


def test_traffic_reproduces_a_logged_day_and_extends_beyond(world):
    tr = world.traffic(1)
    assert list(tr.columns) == ["time", "day", "user", "query"] and tr["time"].is_monotonic_increasing
    logged = world.events_for_days(1).drop_duplicates(["time", "user", "query"])
    keys = set(zip(tr["time"], tr["user"], tr["query"]))
    assert set(zip(logged["time"], logged["user"], logged["query"])) <= keys
    future = world.traffic(10)
    assert (future["day"] == 10).all() and len(future) == len(tr)
    other = world.traffic(1, random_state=3)
    assert not other["query"].equals(tr["query"])
    assert world.events_for_days([0, 1])["day"].isin([0, 1]).all()


def test_progress_and_save_load(world, tmp_path):
    calls = []
    w = generate_world(n_queries=30, n_ads=20, n_advertisers=4, n_days=3, events_per_day=100,
                       progress=lambda d, n: calls.append((d, n)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    path = w.save(str(tmp_path / "w"))
    back = AdsWorld.load(path)
    pd.testing.assert_frame_equal(back.events, w.events, check_dtype=False)
    np.testing.assert_allclose(back.relevance(w.events["query"], w.events["ad"]),
                               w.relevance(w.events["query"], w.events["ad"]))
    with pytest.raises(StoreError, match="already exists"):
        w.save(path)
    w.save(path, overwrite=True)
    with pytest.raises(StoreError, match="world.json"):
        AdsWorld.load(str(tmp_path))


def test_bad_parameters(world):
    with pytest.raises(ValidationError, match="n_advertisers=5"):
        generate_world(n_queries=10, n_ads=3, n_advertisers=5)
    with pytest.raises(ValidationError, match="preset='huge'"):
        AdsWorld.preset("huge")
    with pytest.raises(ValidationError, match="vocab_size=10"):
        generate_world(n_queries=10, n_ads=10, n_advertisers=2, vocab_size=10)
    with pytest.raises(ValidationError, match="drift"):
        generate_world(drift=1.5)
    with pytest.raises(ValidationError, match="random_state"):
        generate_world(n_queries=10, n_ads=10, n_advertisers=2, random_state="x")
    with pytest.raises(ValidationError, match="progress"):
        generate_world(n_queries=10, n_ads=10, n_advertisers=2, progress=3)
    with pytest.raises(UnknownIdError, match="'nope'"):
        world.relevance(["nope"], ["ad0"])
    with pytest.raises(UnknownIdError, match="ad id 'zz'"):
        world.conversion_value(["zz"])
    with pytest.raises(ValidationError, match="positions"):
        world.click_probability(["q0"], ["ad0"], [0])
    with pytest.raises(ValidationError, match="threshold"):
        world.relevant_ads("q0", 0.0)
    with pytest.raises(ValidationError, match="day"):
        world.traffic(-1)
    with pytest.raises(ValidationError, match="days"):
        world.events_for_days(["x"])
