"""Tests of the click-through-rate model (vastgraph.ads.click_model)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vastgraph.ads.click_model import ClickModel, text_overlap
from vastgraph.ads.graph_build import build_ads_graph
from vastgraph.ads.world import AdsWorld
from vastgraph.embed.metapath2vec import Metapath2Vec
from vastgraph.errors import EmptyInputError, NotFittedError, SchemaError, ValidationError


@pytest.fixture(scope="module")
def world() -> AdsWorld:
    return AdsWorld.preset("tiny", random_state=0)


@pytest.fixture(scope="module")
def graph_embedding(world):
    # graph of days 0-1 only: the click model trains on day 2 and is tested on day 3
    g = build_ads_graph(world.events_for_days([0, 1]), world)
    return Metapath2Vec(["click", "~click"], dimensions=16, walks_per_node=5, walk_length=20, window=3,
                        random_state=0).fit(g).keyed_


def test_text_overlap_hand_computed():
    shared, jac = text_overlap(["red shoe shoe", "a b", "", "x"], ["shoe red heel", "c", "a", "x"])
    assert shared.tolist() == [2.0, 0.0, 0.0, 1.0]
    assert jac == pytest.approx([2 / 3, 0.0, 0.0, 1.0])


def test_auc_above_chance_on_tiny_world(world):
    tr, te = world.events_for_days([0, 1, 2]), world.events_for_days([3])
    m = ClickModel(random_state=0).fit(tr)
    res = m.evaluate(te)
    assert res["auc"] > 0.6 and res["n"] == len(te)
    assert 0 < res["logloss"] < 0.69  # better than a coin
    assert abs(res["mean_prediction"] - res["ctr"]) < 0.05
    assert m.train_days_ == [0, 1, 2] and "query_ctr" in m.feature_names_
    p = m.predict_proba(te)
    assert p.shape == (len(te),) and ((p > 0) & (p < 1)).all()


def test_graph_features_help_and_do_not_leak(world, graph_embedding):
    tr, te = world.events_for_days([2]), world.events_for_days([3])
    base = ClickModel(random_state=0).fit(tr).evaluate(te)
    m = ClickModel(graph_features=graph_embedding, graph_last_day=1, random_state=0).fit(tr)
    res = m.evaluate(te)
    assert res["auc"] > 0.6 and res["auc"] > base["auc"]
    assert "graph_cosine" in m.feature_names_ and "graph_hadamard_15" in m.feature_names_
    # predictions never read the test labels
    flipped = te.assign(click=1 - te["click"])
    assert np.array_equal(m.predict_proba(te), m.predict_proba(flipped))
    # a graph that saw the training or the test day is refused
    with pytest.raises(ValidationError, match="graph_last_day"):
        ClickModel(graph_features=graph_embedding, graph_last_day=2, random_state=0).fit(tr)
    late = ClickModel(graph_features=graph_embedding, graph_last_day=1, random_state=0).fit(tr)
    late.graph_last_day = 3
    with pytest.raises(ValidationError, match="leak"):
        late.evaluate(te)
    with pytest.raises(ValidationError, match="used by fit"):
        m.evaluate(tr)


def test_historic_ctr_is_out_of_fold_for_training_rows():
    ev = pd.DataFrame({"day": [0, 1, 0, 1], "query": ["q1", "q1", "q2", "q2"], "ad": ["a", "a", "b", "b"],
                       "position": [1, 1, 2, 2], "click": [1, 0, 0, 1]})
    m = ClickModel(prior_strength=2.0).fit(ev)
    X = m._features(ev, training=True)
    col = m.feature_names_.index("query_ctr")
    # mu = 0.5; q1's day-0 row sees only its day-1 row (0 clicks / 1 impression)
    assert X[:, col] == pytest.approx([(0 + 1) / 3, (1 + 1) / 3, (1 + 1) / 3, (0 + 1) / 3])
    X_test = m._features(ev, training=False)
    assert X_test[:, col] == pytest.approx([(1 + 1) / 4] * 4)
    unseen = ev.assign(query="new", ad="new2")
    assert m._features(unseen, training=False)[:, col] == pytest.approx([0.5] * 4)


def test_mlp_kind(world):
    res = ClickModel("mlp", hidden=(8,), max_iter=50, random_state=0).fit(world.events_for_days([0, 1])).evaluate(
        world.events_for_days([3]))
    assert res["auc"] > 0.55


def test_bad_input(world):
    ev = world.events_for_days([0])
    with pytest.raises(ValidationError, match="kind"):
        ClickModel("svm").fit(ev)
    with pytest.raises(ValidationError, match="hidden"):
        ClickModel("mlp", hidden=(0,)).fit(ev)
    with pytest.raises(ValidationError, match="prior_strength"):
        ClickModel(prior_strength=-1).fit(ev)
    with pytest.raises(ValidationError, match="missing"):
        ClickModel().fit(ev.drop(columns=["position"]))
    with pytest.raises(EmptyInputError):
        ClickModel().fit(ev.iloc[:0])
    with pytest.raises(ValidationError, match="both clicks"):
        ClickModel().fit(ev.assign(click=0))
    with pytest.raises(ValidationError, match="position"):
        ClickModel().fit(ev.assign(position=0))
    with pytest.raises(ValidationError, match="0/1"):
        ClickModel().fit(ev.assign(click=2))
    with pytest.raises(ValidationError, match="DataFrame"):
        ClickModel().fit([1, 2])
    with pytest.raises(NotFittedError):
        ClickModel().predict_proba(ev)
    with pytest.raises(ValidationError, match="graph_features"):
        ClickModel(graph_features=np.ones((2, 2))).fit(ev)


def test_graph_features_node_type_checked(world, graph_embedding):
    with pytest.raises(SchemaError, match="ad_type"):
        ClickModel(graph_features=graph_embedding, ad_type="item").fit(world.events_for_days([2]))
    # ids without vectors get zero graph features and a 0 indicator
    m = ClickModel(graph_features=graph_embedding, random_state=0).fit(world.events_for_days([2]))
    ev = world.events_for_days([3]).iloc[:5].assign(query="never-seen")
    X = m._features(ev, training=False)
    assert (X[:, m.feature_names_.index("graph_known")] == 0).all()
    assert (X[:, m.feature_names_.index("graph_cosine")] == 0).all()
