"""Tests of the offline GSP auction replay (vastgraph.ads.auction)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from vastgraph.ads.auction import AuctionResult, compare, replay_auction
from vastgraph.ads.retrieval import RandomRetriever, RelevanceRetriever, Retrieved
from vastgraph.ads.world import AdsWorld
from vastgraph.errors import UnknownIdError, ValidationError


@pytest.fixture(scope="module")
def world() -> AdsWorld:
    return AdsWorld.preset("tiny", random_state=0)


class _Fixed:
    """Returns the same ads for every query."""

    def __init__(self, ads):
        self.ads = np.asarray(ads, dtype=object)

    def retrieve(self, query_ids, k):
        n = len(query_ids)
        return Retrieved(np.tile(self.ads[:k], (n, 1)), np.zeros((n, min(k, self.ads.size))))


class _ConstCTR:
    def __init__(self, table):
        self.table = table

    def predict_proba(self, events):
        assert (events["position"] == 1).all()
        return events["ad"].map(self.table).to_numpy(dtype=float)


def _three_ad_world(world):
    w = copy.copy(world)
    w.ads = world.ads.copy()
    w.ads.loc[:2, "bid"] = [2.0, 3.0, 1.0]
    w.ads.loc[:2, "first_day"] = 0
    return w


def _one_arrival(world, n=1):
    q = world.queries.loc[world.queries["first_day"] == 0, "query"].iloc[0]
    return pd.DataFrame({"time": np.arange(n), "query": [q] * n})


def test_gsp_prices_hand_computed(world):
    w = _three_ad_world(world)
    a, b, c = w.ads["ad"].iloc[:3]
    cm = _ConstCTR({a: 0.5, b: 0.2, c: 0.1})  # eCPM: a 1.0, b 0.6, c 0.1
    kw = dict(click_model=cm, budgets=np.inf, traffic=_one_arrival(w), k_candidates=3)
    res = replay_auction(w, 1, _Fixed([c, b, a]), slots=2, reserve_price=0.05, **kw)
    log = res.log
    assert log["ad"].tolist() == [a, b] and log["position"].tolist() == [1, 2]
    assert log["price"].to_numpy() == pytest.approx([0.6 / 0.5, 0.1 / 0.2])
    assert (log["cost"] == np.where(log["click"] == 1, log["price"], 0.0)).all()
    res = replay_auction(w, 1, _Fixed([c, b, a]), slots=3, reserve_price=0.05, **kw)
    assert res.log["price"].to_numpy() == pytest.approx([1.2, 0.5, 0.05])  # the last pays the reserve
    res = replay_auction(w, 1, _Fixed([c, b, a]), slots=3, reserve_price=0.8, **kw)
    assert res.log["price"].to_numpy() == pytest.approx([1.2, 0.8, 0.8])  # reserve lifts b's price
    res = replay_auction(w, 1, _Fixed([c, b, a]), slots=3, reserve_price=1.5, **kw)
    # c (bid 1 < reserve) leaves; a pays max(1.5, 0.6 / 0.5), b (no next bidder) the reserve
    assert res.log["ad"].tolist() == [a, b] and res.log["price"].to_numpy() == pytest.approx([1.5, 1.5])


def test_budgets_are_never_exceeded(world):
    budgets = world.advertisers["daily_budget"].to_numpy() * 0.2
    res = replay_auction(world, 4, RelevanceRetriever(world, day=4), budgets=budgets, random_state=3)
    assert (res.advertiser_spend.to_numpy() <= budgets + 1e-9).all()
    assert res.exhausted_advertisers > 0
    # once an advertiser is at its budget it shows no more ads
    log = res.log
    cum = log.groupby("advertiser")["cost"].cumsum().to_numpy()
    bud = pd.Series(budgets, index=world.advertisers["advertiser"]).reindex(log["advertiser"]).to_numpy()
    at_budget = cum >= bud - 1e-9
    first = pd.Series(np.where(at_budget, log["arrival"], np.iinfo(np.int64).max)).groupby(log["advertiser"].to_numpy()).min()
    later = log["arrival"].to_numpy() > first.reindex(log["advertiser"]).to_numpy()
    assert not later.any()
    assert res.spend == pytest.approx(res.advertiser_spend.sum())


def test_perfect_retriever_beats_random_with_common_random_numbers(world):
    oracle = RelevanceRetriever(world, day=4)
    rnd = RandomRetriever(world.queries["query"], world.ads["ad"], random_state=0)
    kw = dict(k_candidates=4, budgets=np.inf, random_state=7)
    good = replay_auction(world, 4, oracle, method="oracle", **kw)
    bad = replay_auction(world, 4, rnd, method="random", **kw)
    assert good.clicks > bad.clicks and good.gmv > bad.gmv and good.mean_relevance > bad.mean_relevance
    assert good.arrivals == bad.arrivals == len(world.traffic(4))
    again = replay_auction(world, 4, oracle, method="oracle", **kw)
    assert again.to_dict() == good.to_dict()
    other = replay_auction(world, 4, oracle, k_candidates=4, budgets=np.inf, random_state=8)
    assert other.clicks != good.clicks
    table = compare({"random": bad, "oracle": good}, baseline="random")
    assert table.loc["oracle", "clicks_ratio"] == pytest.approx(good.clicks / bad.clicks)
    assert table.loc["random", "gmv_ratio"] == 1.0
    assert good.roi == pytest.approx(good.gmv / good.spend) and good.ctr == pytest.approx(good.clicks / good.impressions)


def test_empty_day_gives_zero_results(world):
    empty = pd.DataFrame({"time": np.zeros(0, np.int64), "query": np.zeros(0, object)})
    res = replay_auction(world, 4, RelevanceRetriever(world), traffic=empty)
    assert (res.arrivals, res.impressions, res.clicks, res.spend, res.gmv, res.roi, res.ctr) == (0, 0, 0, 0.0, 0.0, 0.0, 0.0)
    assert len(res.log) == 0 and isinstance(res, AuctionResult)


def test_unknown_queries_of_a_retriever_get_no_ads(world):
    w = _three_ad_world(world)
    known = _one_arrival(w)["query"].iloc[0]
    other = w.queries["query"].iloc[-1]
    r = RandomRetriever([known], w.ads["ad"].iloc[:3])
    traffic = pd.DataFrame({"time": [0, 1], "query": [other, known]})
    res = replay_auction(w, 1, r, traffic=traffic, budgets=np.inf)
    assert res.arrivals == 2 and res.served == 1 and set(res.log["arrival"]) == {1}


def test_bad_input(world):
    r = RelevanceRetriever(world)
    with pytest.raises(ValidationError, match="k_candidates"):
        replay_auction(world, 4, r, k_candidates=0)
    with pytest.raises(ValidationError, match="day"):
        replay_auction(world, -1, r)
    with pytest.raises(UnknownIdError, match="nope"):
        replay_auction(world, 4, r, traffic=pd.DataFrame({"time": [0], "query": ["nope"]}))
    with pytest.raises(UnknownIdError, match="catalog"):
        replay_auction(world, 4, _Fixed(["not-an-ad"]), traffic=_one_arrival(world))
    with pytest.raises(ValidationError, match="budgets"):
        replay_auction(world, 4, r, budgets=np.ones(3))
    with pytest.raises(ValidationError, match="budgets"):
        replay_auction(world, 4, r, budgets=-1.0)
    with pytest.raises(UnknownIdError, match="budget"):
        replay_auction(world, 4, r, budgets={"adv0": 1.0})
    with pytest.raises(ValidationError, match="traffic"):
        replay_auction(world, 4, r, traffic=pd.DataFrame({"q": [1]}))
    with pytest.raises(ValidationError, match="click_model"):
        replay_auction(world, 4, r, click_model=object())
    with pytest.raises(ValidationError, match="retriever"):
        replay_auction(world, 4, object())
    res = replay_auction(world, 4, r, traffic=_one_arrival(world))
    with pytest.raises(ValidationError, match="baseline"):
        compare([res], baseline="coclick")
    with pytest.raises(ValidationError, match="metrics"):
        compare({"a": res}, baseline="a", metrics=("nope",))
    with pytest.raises(ValidationError, match="empty"):
        compare([])
