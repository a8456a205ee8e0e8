"""Tests of the auto-bidding replay, baselines and generative bidders (vastgraph.ads.bidding)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vastgraph.ads.bidding.baselines import BehaviourMix, FixedMultiplier, OnlineLP, PIDPacing  # noqa: E402
from vastgraph.ads.bidding.diffusion import DiffusionBidder  # noqa: E402
from vastgraph.ads.bidding.dt import DecisionTransformerBidder  # noqa: E402
from vastgraph.ads.bidding.episodes import (EpisodeSpec, advertiser_graph_features, collect_episodes,  # noqa: E402
                                            episode_specs, rollout)
from vastgraph.ads.bidding.evaluate import run_bidding, summarize  # noqa: E402
from vastgraph.ads.bidding.generative import load_bidder  # noqa: E402
from vastgraph.ads.bidding.market import BiddingMarket  # noqa: E402
from vastgraph.ads.world import generate_world  # noqa: E402
from vastgraph.errors import NotFittedError, StoreError, UnknownIdError, ValidationError  # noqa: E402

STEPS = 8


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def world():
    return generate_world(n_queries=80, n_ads=50, n_advertisers=8, n_days=3, events_per_day=1200, random_state=1)


@pytest.fixture(scope="module")
def markets(world):
    return [BiddingMarket(world, d, steps=STEPS, k_candidates=8, random_state=d) for d in range(3)]


@pytest.fixture(scope="module")
def graph_feats(world):
    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings

    rng = np.random.default_rng(0)
    ads = world.ads["ad"].to_numpy(dtype=object)
    keyed = KeyedEmbeddings(rng.normal(size=(ads.size, 6)).astype(np.float32), ["ad"], [0, ads.size], {"ad": ads})
    return advertiser_graph_features(world, keyed, dim=3)


@pytest.fixture(scope="module")
def logged(markets, graph_feats):
    specs = [episode_specs(mk, random_state=0) for mk in markets[:2]]
    return collect_episodes(markets[:2], specs, rollouts_per_day=2, graph_features=graph_feats, random_state=0)


@pytest.fixture(scope="module")
def models(logged):
    dt = DecisionTransformerBidder(d_model=16, heads=2, layers=1, context=4, epochs=3, random_state=0).fit(logged)
    df = DiffusionBidder(channels=16, blocks=2, diffusion_steps=4, epochs=3, random_state=0).fit(logged)
    return {"dt": dt, "diffusion": df}


def _tight(mk, budget=0.5):
    sp = episode_specs(mk, random_state=0)
    return EpisodeSpec(sp.agents, np.full(sp.agents.size, budget), sp.target_cpa, sp.scale)


def test_every_policy_respects_the_budget(markets, graph_feats, models):
    mk = markets[2]
    for spec in (episode_specs(mk, random_state=0), _tight(mk)):
        for pol in (FixedMultiplier(20.0), PIDPacing(5.0, kp=10.0), OnlineLP(0.0), BehaviourMix(3),
                    models["dt"], models["diffusion"]):
            roll = rollout(mk, pol, spec, graph_features=graph_feats)
            assert (roll.spend <= roll.budget + 1e-9).all(), pol
            assert summarize(roll)["over_budget"] == 0.0
    # the tight budget binds for an aggressive bidder: spend reaches it and nothing more
    roll = rollout(mk, FixedMultiplier(20.0), _tight(mk))
    assert roll.spend.max() == pytest.approx(0.5)


def test_replay_with_multiplier_zero_wins_nothing_and_higher_bids_win_more(markets):
    mk = markets[1]
    sp = episode_specs(mk, random_state=0)
    zero = rollout(mk, FixedMultiplier(0.0), sp)
    assert zero.spend.sum() == 0 and zero.value.sum() == 0
    rich = EpisodeSpec(sp.agents, np.full(sp.agents.size, 1e9), sp.target_cpa, sp.scale)
    lo, hi = rollout(mk, FixedMultiplier(0.1), rich), rollout(mk, FixedMultiplier(3.0), rich)
    assert hi.outcomes[:, :, 1].sum() > lo.outcomes[:, :, 1].sum()


def test_seeded_run_is_reproducible(world):
    kw = dict(bidders=["fixed", "online-lp", "dt"], train_days=[0, 1], test_days=[2], steps=STEPS,
              rollouts_per_day=1, epochs_scale=0.05, random_state=4)
    a, b = run_bidding(world, **kw), run_bidding(world, **kw)
    strip = lambda t: [{k: v for k, v in r.items() if k != "train_s"} for r in t]  # noqa: E731
    assert strip(a.table) == strip(b.table)
    for key in a.rollouts:
        np.testing.assert_array_equal(a.rollouts[key].actions, b.rollouts[key].actions)


@pytest.mark.parametrize("kind", ["dt", "diffusion"])
def test_model_round_trips_through_save_load(models, markets, graph_feats, tmp_path, kind):
    model = models[kind]
    path = model.save(tmp_path / f"{kind}.pt")
    back = load_bidder(path)
    assert type(back) is type(model) and back.name == model.name
    mk = markets[2]
    sp = episode_specs(mk, random_state=0)
    r1 = rollout(mk, model, sp, graph_features=graph_feats)
    r2 = rollout(mk, back, sp, graph_features=graph_feats)
    np.testing.assert_allclose(r1.actions, r2.actions, rtol=1e-6)


def test_graph_ablation_ignores_graph_features(logged, markets, graph_feats):
    m = DecisionTransformerBidder(d_model=16, heads=2, layers=1, context=4, epochs=1, use_graph=False).fit(logged)
    mk = markets[2]
    sp = episode_specs(mk, random_state=0)
    r1 = rollout(mk, m, sp, graph_features=graph_feats)
    r2 = rollout(mk, m, sp, graph_features=-graph_feats)
    np.testing.assert_array_equal(r1.actions, r2.actions)


def test_bad_inputs_raise(markets, world, tmp_path):
    mk = markets[2]
    sp = episode_specs(mk, random_state=0)
    nan_budget = EpisodeSpec(sp.agents, np.full(sp.agents.size, np.nan), sp.target_cpa, sp.scale)
    with pytest.raises(ValidationError, match="budget"):
        rollout(mk, FixedMultiplier(1.0), nan_budget)
    with pytest.raises(UnknownIdError, match="advertiser"):
        episode_specs(mk, advertisers=["adv_nope"])
    with pytest.raises(ValidationError, match="multiplier"):
        FixedMultiplier(-1.0)
    with pytest.raises(ValidationError, match="multipliers"):
        mk.run_step(0, sp.agents, -np.ones(sp.agents.size), mk.fresh_budgets(sp.agents, sp.budget))

    class Negative:
        name = "neg"

        def reset(self, roll):
            pass

        def act(self, roll, t):
            return -np.ones(roll.agents.size)

    with pytest.raises(ValidationError, match="multipliers >= 0"):
        rollout(mk, Negative(), sp)
    with pytest.raises(ValidationError, match="bidders"):
        run_bidding(world, bidders=["nope"])
    with pytest.raises(ValidationError, match="overlap"):
        run_bidding(world, bidders=["fixed"], train_days=[1], test_days=[1])
    with pytest.raises(NotFittedError):
        DecisionTransformerBidder().reset(rollout(mk, FixedMultiplier(1.0), sp))
    with pytest.raises(StoreError):
        load_bidder(tmp_path / "missing.pt")
    with pytest.raises(ValidationError, match="budget_scale"):
        episode_specs(mk, budget_scale=float("nan"))
