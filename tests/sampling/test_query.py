"""The query language: fluent and text forms, plans, execution semantics and bad input."""

from __future__ import annotations

from collections import Counter, defaultdict

import numba
import numpy as np
import pytest
from scipy import stats

from vastgraph.errors import ParseError, SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.sampling.query import Traversal, query, run_query
from vastgraph.sampling.query_literals import gt, within
from vastgraph.sampling.query_parser import parse_query, tokenize
from vastgraph.sampling.query_plan import Has, Hop, Plan, VStep

CLICKS = [  # (query, ad, weight, time)
    ("q1", "a1", 1.0, 10), ("q1", "a2", 5.0, 20), ("q1", "a3", 2.0, 30),
    ("q2", "a3", 1.0, 40), ("q2", "a4", 3.0, 15),
    ("q3", "a5", 1.0, 50),
]
OWNED = [("a1", "v1"), ("a2", "v1"), ("a3", "v2"), ("a4", "v2"), ("a5", "v2"), ("a6", "v1")]
SIMILAR = [("a1", "a2", 1.0), ("a2", "a3", 1.0), ("a3", "a1", 4.0), ("a4", "a1", 1.0)]  # directed ad -> ad


@pytest.fixture(scope="module")
def graph():
    b = GraphBuilder()
    b.add_nodes("query", ids=["q1", "q2", "q3", "q4"], features=np.arange(8).reshape(4, 2),
                labels=[0, 1, 1, -1], data={"score": np.array([0.5, 1.5, 2.5, 3.5])})
    b.add_nodes("ad", ids=["a1", "a2", "a3", "a4", "a5", "a6"], features=np.arange(18).reshape(6, 3) / 10)
    b.add_nodes("advertiser", ids=["v1", "v2"])
    q, a, w, t = zip(*CLICKS)
    b.add_edges(list(q), list(a), etype=("query", "click", "ad"), weight=list(w), time=list(t))
    s, d = zip(*OWNED)
    b.add_edges(list(s), list(d), etype=("ad", "owned_by", "advertiser"))
    s, d, w = zip(*SIMILAR)
    b.add_edges(list(s), list(d), etype=("ad", "similar", "ad"), weight=list(w))
    return b.build()


@pytest.fixture(scope="module")
def hub():
    """One query with 100 ads: ads 0..69 weighted 1..70, ads 70..99 weight 0; times = index.

    The same edges again as a directed edge type within one node type (``item:link:item``), whose
    ``bothV`` runs over the merged out+in rows (the query module's own kernel)."""
    b = GraphBuilder()
    ads = [f"ad{i}" for i in range(100)]
    w = [float(i + 1) if i < 70 else 0.0 for i in range(100)]
    b.add_edges(["h"] * 100, ads, etype=("query", "click", "ad"), weight=w, time=list(range(100)))
    b.add_edges(["h"] * 100, ads, etype=("item", "link", "item"), weight=w, time=list(range(100)))
    return b.build()


def true_out(src):
    return sorted(a for q, a, _, _ in CLICKS if q == src)


def rows_by_origin(result, col="id"):
    out = defaultdict(list)
    for o, v in zip(result["origin"].tolist(), result[col].tolist()):
        out[o].append(v)
    return out


# ------------------------------------------------------------------ plans and round trips
QUERIES = [
    ('g.V("query", ["q1", "q2"]).outV("click").sample(2).by("weight").as("ads").values("id", "feature")',
     lambda g: g.V("query", ["q1", "q2"]).outV("click").sample(2).by("weight").as_("ads").values("id", "feature")),
    ('g.V("query").outE("click").has("weight", ">=", 2.0).order_by("time", desc=true).limit(1, per="origin")',
     lambda g: g.V("query").outE("click").has("weight", ">=", 2.0).order_by("time", desc=True).limit(1, per="origin")),
    ('g.V("ad").as("a").inV("click").dedup(per="origin").as("q").select("a", "q").by("id")',
     lambda g: g.V("ad").as_("a").inV("click").dedup(per="origin").as_("q").select("a", "q").by("id")),
    ('g.sampleN("ad", 7).by("degree").outV("owned_by").count(per="origin")',
     lambda g: g.sampleN("ad", 7).by("degree").outV("owned_by").count(per="origin")),
    ('g.V("query", ["q1"]).outV("click").sampleN("ad", 3).has("id", "not_in", ["a1", "a2"]).count()',
     lambda g: g.V("query", ["q1"]).outV("click").sampleN("ad", 3).has("id", "not_in", ["a1", "a2"]).count()),
    ('g.E("query:click:ad").inV().bothV("similar").sample(3, replace=true).values("degree")',
     lambda g: g.E(("query", "click", "ad")).inV().bothV("similar").sample(3, replace=True).values("degree")),
    ('g.V("query").has("degree", ">", 1).values("id")',
     lambda g: g.V("query").has("degree", gt(1)).values("id")),
    ('g.V("query").has("score", "in", [0.5, 2.5]).outE("click").sample(1).by("latest").outV()',
     lambda g: g.V("query").has("score", within([0.5, 2.5])).outE("click").sample(1).by("latest").outV()),
]


@pytest.mark.parametrize("i", range(len(QUERIES)))
def test_text_and_fluent_give_equal_plans_and_results(graph, i):
    text, fluent = QUERIES[i]
    g = Traversal(graph)
    plan = parse_query(text)
    assert fluent(g).plan == plan
    assert str(plan) == text  # these are written in canonical form
    assert parse_query(str(plan)) == plan
    a = run_query(graph, text, random_state=7)
    b = fluent(g).execute(random_state=7)
    assert a.keys() == b.keys()
    for k in a.keys():
        np.testing.assert_array_equal(a[k], b[k])


def test_text_accepts_variants_that_print_canonically():
    plan = parse_query(" V( 'query' , [ 'q1' ] ) . outV('click') . sample( k = 3 ) . by('uniform')"
                       ".has('degree', gt(1)).has('label', 1).orderBy('id', True).as_('x')")
    assert str(plan) == ('g.V("query", ["q1"]).outV("click").sample(3).by("uniform").has("degree", ">", 1)'
                         '.has("label", "==", 1).order_by("id", desc=true).as("x")')
    assert parse_query(str(plan)) == plan
    assert isinstance(plan.steps[0], VStep) and plan.steps[0].ids == ("q1",)
    assert plan.steps[1] == Hop("out", "V", "click", 3, False, "uniform")
    assert plan.steps[2] == Has("degree", ">", 1)


def test_literals_round_trip():
    text = 'g.V("n", ["a\\"b", "c\\\\d", "e\\nf", 3, -4]).has("x", "in", [1.5, -2.5e-07, true, false])'
    plan = parse_query(text)
    assert plan.steps[0].ids == ('a"b', "c\\d", "e\nf", 3, -4)
    assert plan.steps[1].value == (1.5, -2.5e-07, True, False)
    assert parse_query(str(plan)) == plan
    assert [t.kind for t in tokenize("x(1, 2.0)")] == ["name", "(", "number", ",", "number", ")", "end"]


def test_fluent_normalises_numpy_inputs(graph):
    g = Traversal(graph)
    a = g.V("query", np.array(["q1", "q2"])).outV("click").sample(np.int64(2)).plan
    b = parse_query('g.V("query", ["q1", "q2"]).outV("click").sample(2)')
    assert a == b
    assert query(graph, str(a)).plan == a


def test_plan_is_immutable_and_inspectable(graph):
    g = Traversal(graph)
    base = g.V("query", ["q1"])
    t1, t2 = base.outV("click"), base.outE("click")
    assert len(base.plan) == 1 and len(t1.plan) == 2 and t1.plan != t2.plan
    with pytest.raises(AttributeError):
        t1.plan.steps[1].k = 3
    assert isinstance(Plan().add("V", "ad"), Plan)


# ------------------------------------------------------------------ semantics
def test_outV_returns_exactly_the_neighbours(graph):
    r = Traversal(graph).V("query", ["q1", "q2", "q3", "q4"]).outV("click").execute()
    by = rows_by_origin(r)
    for o, q in enumerate(["q1", "q2", "q3", "q4"]):
        assert sorted(by.get(o, [])) == true_out(q)
    assert r.keys() == ["origin", "id"]


def test_inV_uses_the_reverse_direction(graph):
    r = run_query(graph, 'g.V("ad", ["a3", "a6"]).inV("click")')
    assert rows_by_origin(r) == {0: ["q1", "q2"]}
    with pytest.raises(SchemaError, match="use inV"):
        run_query(graph, 'g.V("ad").outV("click")')


def test_bothV_on_directed_same_type_edges(graph):
    r = run_query(graph, 'g.V("ad", ["a1"]).bothV("similar")')
    assert sorted(r["id"].tolist()) == ["a2", "a3", "a4"]  # out: a2; in: a3, a4
    r = run_query(graph, 'g.V("ad", ["a3"]).bothV("click")')  # query-ad type: the in side
    assert sorted(r["id"].tolist()) == ["q1", "q2"]


def test_undirected_graph_bothV_and_E():
    b = GraphBuilder(directed=False)
    b.add_edges([0, 0, 1], [1, 2, 2])
    g = b.build()
    r = Traversal(g).V("node", [0]).bothV().execute()
    assert sorted(r["id"].tolist()) == [1, 2]  # once, not twice
    assert Traversal(g).E().count().execute()["count"].tolist() == [6]


def test_outE_and_edge_fields(graph):
    r = run_query(graph, 'g.V("query", ["q2"]).outE("click")')
    assert r.keys() == ["origin", "src", "dst", "weight", "time"]
    got = sorted(zip(r["dst"].tolist(), r["weight"].tolist(), r["time"].tolist()))
    assert got == [("a3", 1.0, 40), ("a4", 3.0, 15)]
    r = run_query(graph, 'g.V("ad", ["a3"]).inE("click").outV()')
    assert sorted(r["id"].tolist()) == ["q1", "q2"]


def test_sample_draws_at_most_k_distinct_true_neighbours(graph):
    ids = ["q1", "q2", "q3", "q4"] * 50
    for by in ("uniform", "weight"):
        r = Traversal(graph).V("query", ids).outV("click").sample(2).by(by).execute(random_state=3)
        by_o = rows_by_origin(r)
        for o, q in enumerate(ids):
            got = by_o.get(o, [])
            assert len(got) == min(2, len(true_out(q))) and len(set(got)) == len(got)
            assert set(got) <= set(true_out(q))


def test_sample_with_replacement_draws_exactly_k(graph):
    r = run_query(graph, 'g.V("query", ["q1", "q4"]).outV("click").sample(5, replace=true).by("weight")', 1)
    by = rows_by_origin(r)
    assert len(by[0]) == 5 and set(by[0]) <= set(true_out("q1")) and 1 not in by


def test_uniform_sample_is_uniform(hub):
    r = Traversal(hub).V("query", ["h"] * 600).outV("click").sample(10).execute(random_state=11)
    counts = Counter(r["id"].tolist())
    obs = np.array([counts.get(f"ad{i}", 0) for i in range(100)])
    assert obs.sum() == 6000
    assert stats.chisquare(obs).pvalue > 1e-4


def test_weighted_sample_favours_heavy_edges(graph):
    # q1's clicks weigh a1:1, a2:5, a3:2. One draw: P = w / 8.
    n = 4000
    r = Traversal(graph).V("query", ["q1"] * n).outV("click").sample(1).by("weight").execute(random_state=5)
    c = Counter(r["id"].tolist())
    assert stats.chisquare([c["a1"], c["a2"], c["a3"]], np.array([1, 5, 2]) / 8 * n).pvalue > 1e-4
    # Two without replacement (successive sampling): inclusion P(a1)=.375, P(a2)=.9226, P(a3)=.7024
    r = Traversal(graph).V("query", ["q1"] * n).outV("click").sample(2).by("weight").execute(random_state=6)
    c = Counter(r["id"].tolist())
    for ad, p in (("a1", 0.375), ("a2", 1 - 1 / 28 - 1 / 24), ("a3", 0.7024)):
        assert abs(c[ad] / n - p) < 4 * np.sqrt(p * (1 - p) / n)


def test_weighted_sample_never_takes_zero_weight_edges_when_enough_others(hub):
    for k in (10, 70):  # rejection path and the Efraimidis-Spirakis path
        r = Traversal(hub).V("query", ["h"] * 20).outV("click").sample(k).by("weight").execute(random_state=k)
        idx = np.array([int(s[2:]) for s in r["id"]])
        assert len(idx) == 20 * k and idx.max() < 70
        for o in range(20):
            assert len(set(idx[r["origin"] == o])) == k
    r = Traversal(hub).V("query", ["h"] * 400).outV("click").sample(5).by("weight").execute(random_state=2)
    idx = np.array([int(s[2:]) for s in r["id"]])
    assert (idx >= 35).sum() > (idx < 35).sum() * 2  # weights 36..70 outweigh 1..35


def test_weighted_sample_over_merged_out_and_in_rows(graph, hub):
    # a1's similar-neighbours both ways: a2 (out, w1), a3 (in, w4), a4 (in, w1)
    n = 3000
    t = Traversal(graph).V("ad", ["a1"] * n).bothV("similar")
    c = Counter(t.sample(1).by("weight").execute(random_state=1)["id"].tolist())
    assert stats.chisquare([c["a2"], c["a3"], c["a4"]], np.array([1, 4, 1]) / 6 * n).pvalue > 1e-4
    r = t.sample(2).by("weight").execute(random_state=2)
    assert len(r) == 2 * n and all(len(set(r["id"][r["origin"] == o])) == 2 for o in range(20))
    c = Counter(r["id"].tolist())
    for ad, p in (("a2", 8 / 15), ("a3", 14 / 15), ("a4", 8 / 15)):
        assert abs(c[ad] / n - p) < 4 * np.sqrt(p * (1 - p) / n)
    for k in (10, 70):  # rejection path and the Efraimidis-Spirakis path
        r = Traversal(hub).V("item", ["h"] * 20).bothV("link").sample(k).by("weight").execute(random_state=k)
        idx = np.array([int(x[2:]) for x in r["id"]])
        assert len(idx) == 20 * k and idx.max() < 70
        assert all(len(set(idx[r["origin"] == o])) == k for o in range(20))
    r = Traversal(hub).V("item", ["h"] * 5).bothV("link").sample(80).execute(random_state=0)
    assert all(len(set(r["id"][r["origin"] == o].tolist())) == 80 for o in range(5))
    r = run_query(hub, 'g.V("item", ["ad3"]).bothV("link").sample(2)')
    assert r["id"].tolist() == ["h"]


def test_negative_weights_are_refused_for_weighted_sampling():
    b = GraphBuilder()
    b.add_edges(["x", "x"], ["y", "z"], etype=("n", "r", "n"), weight=[1.0, -1.0])
    g = b.build()
    with pytest.raises(ValidationError, match="negative"):
        run_query(g, 'g.V("n", ["x"]).outV("r").sample(1).by("weight")')
    with pytest.raises(ValidationError, match="negative weights"):
        run_query(g, 'g.V("n", ["x"]).bothV("r").sample(1).by("weight")')


def test_large_k_uniform_sample_is_distinct(hub):
    r = Traversal(hub).V("query", ["h"] * 3).outV("click").sample(80).execute(random_state=0)
    for o in range(3):
        assert len(set(r["id"][r["origin"] == o].tolist())) == 80


def test_topk_and_latest(graph, hub):
    r = run_query(hub, 'g.V("query", ["h"]).outE("click").sample(3).by("topk")')
    assert sorted(r["weight"].tolist()) == [68.0, 69.0, 70.0]
    r = run_query(hub, 'g.V("query", ["h"]).outE("click").sample(4).by("latest")')
    assert sorted(r["time"].tolist()) == [96, 97, 98, 99]
    r = run_query(graph, 'g.V("query", ["q1", "q2"]).outV("click").sample(1).by("topk")')
    assert r["id"].tolist() == ["a2", "a4"]


def test_results_are_deterministic_and_independent_of_threads(graph, hub):
    t = Traversal(hub).V("query", ["h"] * 50).outV("click").sample(7).by("weight").sampleN("ad", 2)
    a = t.execute(random_state=42)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        b = t.execute(random_state=42)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(a["id"], b["id"])
    c = t.execute(random_state=43)
    assert not np.array_equal(a["id"], c["id"])
    g1 = t.execute(random_state=np.random.default_rng(9))
    g2 = t.execute(random_state=np.random.default_rng(9))
    np.testing.assert_array_equal(g1["id"], g2["id"])


def test_sampleN_uniform_and_by_degree(graph):
    r = run_query(graph, 'g.sampleN("ad", 3000)', random_state=1)
    assert r["origin"].tolist() == list(range(3000))
    c = Counter(r["id"].tolist())
    assert set(c) == {"a1", "a2", "a3", "a4", "a5", "a6"}
    # degree over all types: a1: click1 + owned1 + similar3 = 5; a2 4; a3 5; a4 3; a5 2; a6 1
    deg = {"a1": 5, "a2": 4, "a3": 5, "a4": 3, "a5": 2, "a6": 1}
    r = run_query(graph, 'g.V("ad").values("degree")')
    assert dict(zip("a1 a2 a3 a4 a5 a6".split(), r["degree"].tolist())) == deg
    r = run_query(graph, 'g.sampleN("ad", 4000).by("degree")', random_state=2)
    c = Counter(r["id"].tolist())
    exp = np.array([deg[k] for k in sorted(deg)]) / 20 * 4000
    assert stats.chisquare([c[k] for k in sorted(deg)], exp).pvalue > 1e-4
    r = run_query(graph, 'g.V("query", ["q1", "q2"]).sampleN("advertiser", 3)', random_state=1)
    assert r["origin"].tolist() == [0, 0, 0, 1, 1, 1] and set(r["id"]) <= {"v1", "v2"}


def test_has_ops(graph):
    def ids(text):
        return sorted(run_query(graph, text)["id"].tolist())
    assert ids('g.V("query").has("label", 1)') == ["q2", "q3"]
    assert ids('g.V("query").has("label", "!=", 1)') == ["q1", "q4"]
    assert ids('g.V("query").has("score", "<", 1.5)') == ["q1"]
    assert ids('g.V("query").has("score", "<=", 1.5)') == ["q1", "q2"]
    assert ids('g.V("query").has("degree", ">", 1)') == ["q1", "q2"]
    assert ids('g.V("query").has("degree", gte(1))') == ["q1", "q2", "q3"]
    assert ids('g.V("query").has("id", "in", ["q2", "q9", "q4"])') == ["q2", "q4"]
    assert ids('g.V("query").has("id", without(["q2"]))') == ["q1", "q3", "q4"]
    assert ids('g.V("query").has("id", ">", "q2")') == ["q3", "q4"]
    assert ids('g.V("query").has("feature[1]", "==", 3)') == ["q2"]
    assert ids('g.V("ad").has("degree:similar", 3)') == ["a1"]
    assert ids('g.V("query").has("id", "in", [])') == []
    r = run_query(graph, 'g.E("click").has("time", "<", 30).has("dst", neq("a4"))')
    assert sorted(r["dst"].tolist()) == ["a1", "a2"]


def test_order_by_is_stable_and_limit_per_origin(graph):
    r = run_query(graph, 'g.V("query").outE("click").order_by("weight", desc=true)')
    assert r["weight"].tolist() == [5.0, 3.0, 2.0, 1.0, 1.0, 1.0]
    assert list(zip(r["src"][3:], r["dst"][3:])) == [("q1", "a1"), ("q2", "a3"), ("q3", "a5")]  # ties in order
    r = run_query(graph, 'g.V("query").outE("click").order_by("weight").limit(1, per="origin")')
    assert sorted(zip(r["origin"].tolist(), r["dst"].tolist())) == [(0, "a1"), (1, "a3"), (2, "a5")]
    r = run_query(graph, 'g.V("query").outE("click").order_by("time").limit(2)')
    assert r["time"].tolist() == [10, 15]
    assert len(run_query(graph, 'g.V("ad").limit(0)')) == 0
    r = run_query(graph, 'g.V("query").order_by("id", desc=true).values("id")')
    assert r["id"].tolist() == ["q4", "q3", "q2", "q1"]


def test_dedup_global_and_per_origin(graph):
    r = run_query(graph, 'g.V("query", ["q1", "q2"]).outV("click").outV("owned_by").dedup()')
    assert r["id"].tolist() == ["v1", "v2"] and r["origin"].tolist() == [0, 0]
    r = run_query(graph, 'g.V("query", ["q1", "q2"]).outV("click").outV("owned_by").dedup(per="origin")')
    assert sorted(zip(r["origin"].tolist(), r["id"].tolist())) == [(0, "v1"), (0, "v2"), (1, "v2")]
    r = run_query(graph, 'g.V("query", ["q1", "q1"]).outE("click").dedup()')
    assert len(r) == 3 and set(r["origin"].tolist()) == {0}


def test_select_named_frontiers(graph):
    r = run_query(graph, 'g.V("query", ["q1", "q2"]).as("q").outV("click").as("ad").outV("owned_by")'
                         '.as("adv").select("q", "ad", "adv")')
    got = sorted(zip(r["q"].tolist(), r["ad"].tolist(), r["adv"].tolist()))
    owner = dict(OWNED)
    assert got == sorted((q, a, owner[a]) for q, a, _, _ in CLICKS if q in ("q1", "q2"))
    r = run_query(graph, 'g.V("query", ["q2"]).outE("click").as("e").inV().select("e")')
    assert sorted(zip(r["e.src"], r["e.dst"])) == [("q2", "a3"), ("q2", "a4")]
    r = run_query(graph, 'g.V("query", ["q2"]).as("q").outV("click").select("q").by("score")')
    assert r["q.score"].tolist() == [1.5, 1.5]


def test_values_fields(graph):
    r = run_query(graph, 'g.V("query", ["q2", "q1"]).values("id", "label", "feature", "feature[0]", "score")')
    assert r["id"].tolist() == ["q2", "q1"] and r["label"].tolist() == [1, 0]
    np.testing.assert_array_equal(r["feature"], [[2, 3], [0, 1]])
    assert r["feature[0]"].tolist() == [2, 0] and r["score"].tolist() == [1.5, 0.5]
    assert r.keys() == ["origin", "id", "label", "feature", "feature[0]", "score"]
    df = run_query(graph, 'g.V("query", ["q2", "q1"]).values("id", "feature")').to_pandas()
    assert list(df.columns) == ["origin", "id", "feature[0]", "feature[1]"]
    assert df["feature[1]"].tolist() == [3.0, 1.0]
    assert r.to_dict(as_lists=True)["feature"] == [[2.0, 3.0], [0.0, 1.0]]
    assert r.to_dict()["score"] is r["score"]


def test_count_global_and_per_origin(graph):
    assert run_query(graph, 'g.V("query").outV("click").count()')["count"].tolist() == [6]
    r = run_query(graph, 'g.V("query", ["q4", "q1", "q2"]).outV("click").count(per="origin")')
    assert r["origin"].tolist() == [0, 1, 2] and r["count"].tolist() == [0, 3, 2]


def test_empty_start(graph):
    r = run_query(graph, 'g.V("query", []).outV("click").sample(3).by("weight")', 0)
    assert len(r) == 0 and r.keys() == ["origin", "id"]


# ------------------------------------------------------------------ bad input
def test_unknown_types_and_ids(graph):
    with pytest.raises(SchemaError, match="unknown node type 'user'; known node types: query, ad, advertiser"):
        run_query(graph, 'g.V("user")')
    with pytest.raises(SchemaError, match="unknown edge type 'buy'; known edge types: query:click:ad"):
        run_query(graph, 'g.V("query").outV("buy")')
    with pytest.raises(UnknownIdError, match=r"unknown query id\(s\) \['zz', 'yy'\]"):
        Traversal(graph).V("query", ["q1", "zz", "yy"]).execute()
    with pytest.raises(SchemaError, match="leaves 'ad' nodes but the frontier holds 'query'"):
        run_query(graph, 'g.V("query").outV("owned_by")')


def test_bad_arguments_fluent(graph):
    g = Traversal(graph)
    with pytest.raises(ValidationError, match=r"sample\(\) k=0: expected an integer >= 1"):
        g.V("query").outV("click").sample(0)
    with pytest.raises(ValidationError, match=r"limit\(\) n=-1: expected an integer >= 0"):
        g.V("query").limit(-1)
    with pytest.raises(ValidationError, match="unknown operator '~'; valid: ==, !=, <, <=, >, >=, in, not_in"):
        g.V("query").has("degree", "~", 3)
    with pytest.raises(ValidationError, match=r"must follow outV/inV/bothV/outE/inE"):
        g.V("query").sample(3)
    with pytest.raises(ValidationError, match=r"by\('weight'\) modulates sample\(\)"):
        g.V("query").by("weight")
    with pytest.raises(ValidationError, match=r"expected one of uniform, weight, topk, latest"):
        g.V("query").outV("click").sample(2).by("heavy")
    with pytest.raises(ValidationError, match=r"cannot follow count\(\)"):
        g.V("query").count().outV("click")
    with pytest.raises(ValidationError, match=r"V\(\) starts a traversal"):
        g.V("query").V("ad")
    with pytest.raises(SchemaError, match="no frontier was named 'x'; named: q"):
        g.V("query").as_("q").select("x")
    with pytest.raises(ValidationError, match="already used"):
        g.V("query").as_("q").outV("click").as_("q")
    with pytest.raises(ValidationError, match=r"limit\(per='query'\): expected 'origin'"):
        g.V("query").limit(3, per="query")
    with pytest.raises(ValidationError, match="expected a list of values"):
        g.V("query").has("id", "in", "q1")
    with pytest.raises(ValidationError, match="not a finite number"):
        g.V("query").has("score", "<", float("nan"))
    with pytest.raises(ValidationError, match=r"outE\(\) needs a node frontier"):
        g.E("click").outE("click")


def test_bad_fields_at_execution(graph):
    with pytest.raises(SchemaError, match="'query' nodes have no field 'colour'; valid fields: id, degree, "
                                          "degree:<edge type>, label, feature, feature\\[i\\], score"):
        run_query(graph, 'g.V("query").has("colour", 1)')
    with pytest.raises(SchemaError, match="'advertiser' nodes have no field 'feature'"):
        run_query(graph, 'g.V("advertiser").values("feature")')
    with pytest.raises(SchemaError, match="query:click:ad edges have no field 'label'; valid fields: src, dst, "
                                          "weight, time"):
        run_query(graph, 'g.E("click").values("label")')
    with pytest.raises(SchemaError, match="ad:owned_by:advertiser has no weight"):
        run_query(graph, 'g.V("ad").outE("owned_by").values("weight")')
    with pytest.raises(ValidationError, match="features have 2 components"):
        run_query(graph, 'g.V("query").has("feature[5]", ">", 0)')
    with pytest.raises(ValidationError, match="holds a vector per row"):
        run_query(graph, 'g.V("query").order_by("feature")')
    with pytest.raises(ValidationError, match="value 'x' is a str; the field holds numbers"):
        run_query(graph, 'g.V("query").has("degree", ">", "x")')
    with pytest.raises(ValidationError, match="ad:owned_by:advertiser has no weights to sample by"):
        run_query(graph, 'g.V("ad").outV("owned_by").sample(1).by("weight")')
    with pytest.raises(SchemaError, match="does not touch 'query' nodes"):
        run_query(graph, 'g.V("query").has("degree:similar", 1)')


@pytest.mark.parametrize("text, column, message", [
    ('g.V("query").outV("click"',                       26, "expected ',' or ')' at column 26, found end of query"),
    ('g.V("query").outV("click" "x")',                  27, "expected ',' or ')' at column 27, found string 'x'"),
    ('g.V("query").limit(3,,)',                         22, "expected a value"),
    ('g.V("query")..count()',                           14, "expected a step name at column 14, found '.'"),
    ('g.V("query").count() x',                          22, "expected '.' or end of query at column 22, found name 'x'"),
    ('g.V("query).count()',                              5, "unterminated string starting at column 5"),
    ('g.V("query").has("id", "==", "a\\q")',            32, "unknown escape '\\q'"),
    ('g.V("query").has("degree", @)',                   28, "unexpected character '@' at column 28"),
    ('g.V("query").has("degree", foo(3))',              28, "unknown predicate 'foo' at column 28; valid predicates: eq"),
    ('g.V("query").has("degree", gt(1, 2))',            28, "takes exactly one value, got 2"),
    ('g.V("query").limit(3x)',                          21, "malformed number '3x'"),
    ('g.V("query").limit(n=1, n=2)',                    25, "argument 'n' given twice"),
    ('g.V("query").limit(per="origin", 3)',             34, "a keyword argument"),
    ('g.V("query").outV("click").sample(0)',            28, "sample() k=0: expected an integer >= 1"),
    ('g.V("query").limit(-2)',                          14, "limit() n=-2: expected an integer >= 0"),
    ('g.V("query").sample()',                           14, "missing a required argument: 'k'; expected sample(k, replace=False)"),
    ('g.V("query").walk(3)',                            14, "unknown step 'walk' at column 14; valid steps: V, E, sampleN, outV"),
    ('g.V("query").has("degree", "=~", 3)',             14, "unknown operator '=~'; valid: ==, !="),
    ('',                                                 1, "expected a query"),
    ('g',                                                2, "expected '.' after 'g' at column 2, found end of query"),
])
def test_parse_errors_name_the_column(text, column, message):
    with pytest.raises(ParseError) as info:
        parse_query(text)
    err = info.value
    assert err.column == column
    assert message in str(err)
    lines = str(err).split("\n")
    assert lines[-2] == "  " + text and lines[-1] == "  " + " " * (column - 1) + "^"
    assert isinstance(err, ValueError)


def test_run_query_rejects_non_text(graph):
    with pytest.raises(ValidationError, match="expected a string"):
        run_query(graph, 42)


def test_first_occurrences_packed_and_lexsorted_paths_agree():
    from vastgraph.sampling.query_kernels import first_occurrences

    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 5, 500), rng.integers(0, 7, 500)
    small = first_occurrences([(a, 5), (b, 7)])
    huge = first_occurrences([(a, 2**40), (b, 2**40)])  # spans too large to pack: lexsort
    seen, expect = set(), []
    for i, key in enumerate(zip(a.tolist(), b.tolist())):
        if key not in seen:
            seen.add(key)
            expect.append(i)
    assert small.tolist() == expect and huge.tolist() == expect


def test_more_bad_input_at_execution(graph):
    with pytest.raises(SchemaError, match=r"bothV\(\) on query:click:ad edges would mix 'query' and 'ad'"):
        run_query(graph, 'g.E("click").bothV()')
    with pytest.raises(SchemaError, match="this graph has edge types .*; name one"):
        run_query(graph, 'g.E()')
    with pytest.raises(ValidationError, match="has no times to sample by"):
        run_query(graph, 'g.V("ad").outV("owned_by").sample(1).by("latest")')
    with pytest.raises(SchemaError, match="edge type ad:similar:ad does not touch 'query' nodes"):
        run_query(graph, 'g.V("query").bothV("similar")')
    b = GraphBuilder()
    b.add_nodes("lonely", count=3)
    b.add_edges([0], [1], etype=("n", "r", "n"))
    g = b.build()
    with pytest.raises(ValidationError, match="every 'lonely' node has degree 0"):
        run_query(g, 'g.sampleN("lonely", 2).by("degree")')
    assert run_query(g, 'g.sampleN("lonely", 2)', 0)["id"].shape == (2,)
