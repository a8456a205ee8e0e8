"""Tests of growth schedules, the replay protocol and its plot (vastgraph.train.dynamic_eval)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from vastgraph.datasets.synthetic_sbm import power_law_sbm
from vastgraph.embed.dne import DNE
from vastgraph.errors import EmptyInputError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.delta import GraphDelta, apply_delta
from vastgraph.train.dynamic_eval import (Incremental, NewOnly, Retrain, growth_schedule, plot_replay,
                                          replay)


def _edge_multiset(graph, canonical: bool) -> Counter:
    """External-id edges (each undirected edge once) with weight and time."""
    out: Counter = Counter()
    for et in graph.edge_types:
        adj = graph.adjacency(et)
        s = np.repeat(np.arange(adj.n_rows), adj.degree())
        d = np.asarray(adj.indices)
        keep = s <= d if canonical else np.ones(s.size, bool)
        es, ed = graph.external_ids(et.src, s[keep]), graph.external_ids(et.dst, d[keep])
        w = np.ones(keep.sum()) if adj.weight is None else np.asarray(adj.weight)[keep]
        t = np.zeros(keep.sum(), np.int64) if adj.time is None else np.asarray(adj.time)[keep]
        for a, b, ww, tt in zip(map(str, es), map(str, ed), w.round(4).tolist(), t.tolist()):
            out[(*(sorted((a, b)) if canonical else (a, b)), ww, tt)] += 1
    return out


def _delta_edges(delta: GraphDelta, canonical: bool) -> list:
    out = []
    for b in delta.insertions:
        n = b["src"].size
        w = np.ones(n) if b["weight"] is None else b["weight"]
        t = np.zeros(n, np.int64) if b["time"] is None else b["time"]
        for s, d, ww, tt in zip(b["src"].tolist(), b["dst"].tolist(), w.round(4).tolist(), t.tolist()):
            a, b_ = str(s), str(d)
            out.append((*(sorted((a, b_)) if canonical else (a, b_)), ww, tt))
    return out


def _timed_graph(n_edges: int = 60, directed: bool = True):
    rng = np.random.default_rng(3)
    src = rng.integers(0, 25, n_edges)
    dst = (src + rng.integers(1, 24, n_edges)) % 25
    t = rng.permutation(n_edges) * 10  # distinct times, not in storage order
    b = GraphBuilder(directed=directed, duplicates="first")
    b.add_edges(src + 100, dst + 100, weight=rng.integers(1, 5, n_edges).astype(np.float32), time=t)
    return b.build()


@pytest.fixture(scope="module")
def sbm():
    return power_law_sbm(n_nodes=160, n_blocks=2, avg_degree=8, mixing=0.05, random_state=0).graph


# ---------------------------------------------------------------------------- schedules
def test_random_nodes_partitions_edges_and_respects_arrival(sbm):
    base, deltas = growth_schedule(sbm, steps=4, mode="random-nodes", initial_fraction=0.5, random_state=1)
    assert len(deltas) == 4
    assert base.num_nodes() == 80
    assert [d.num_new_nodes for d in deltas] == [20, 20, 20, 20]
    # edges: base + deltas == graph exactly (multiset in external ids), nothing twice
    parts = _edge_multiset(base, canonical=True)
    for d in deltas:
        parts.update(_delta_edges(d, canonical=True))
    assert parts == _edge_multiset(sbm, canonical=True)
    # arrival: every delta edge touches a node arriving with it, and both ends are present by then
    present = set(map(int, base.external_ids()))
    seen_new = set()
    for d in deltas:
        new = set(int(v) for b in d.nodes for v in b["ids"].tolist())
        assert not (new & present) and not (new & seen_new)
        for b in d.insertions:
            for s, t in zip(b["src"].tolist(), b["dst"].tolist()):
                assert (s in new or t in new) and {s, t} <= present | new
        present |= new
        seen_new |= new
    # replaying the deltas rebuilds the graph, labels included
    g = base
    for d in deltas:
        g, _ = apply_delta(g, d)
    assert g.num_nodes() == sbm.num_nodes() and g.num_edges() == sbm.num_edges()
    order = g.lookup(None, sbm.external_ids())
    np.testing.assert_array_equal(g.labels()[order], sbm.labels())


def test_random_nodes_is_reproducible(sbm):
    a = growth_schedule(sbm, steps=2, mode="random-nodes", random_state=7)[1]
    b = growth_schedule(sbm, steps=2, mode="random-nodes", random_state=7)[1]
    assert [d.nodes[0]["ids"].tolist() for d in a] == [d.nodes[0]["ids"].tolist() for d in b]


def test_time_mode_orders_by_timestamp():
    g = _timed_graph()
    base, deltas = growth_schedule(g, steps=3, mode="time", initial_fraction=0.5)
    n_edges = g.num_edges()
    assert base.num_edges() == 30 and [d.num_insertions for d in deltas] == [10, 10, 10]
    base_max = int(np.max(base.adjacency().time))
    times = [b["time"] for d in deltas for b in d.insertions]
    flat = np.concatenate(times)
    assert base_max < flat.min() and np.all(np.diff(flat) > 0)
    assert [d.time for d in deltas] == [int(t.max()) for t in times]
    parts = _edge_multiset(base, canonical=False)
    for d in deltas:
        parts.update(_delta_edges(d, canonical=False))
    assert parts == _edge_multiset(g, canonical=False) and sum(parts.values()) == n_edges
    # a node arrives with its first edge: new nodes of a delta are endpoints of that delta only
    present = set(map(int, base.external_ids()))
    for d in deltas:
        new = set(int(v) for b in d.nodes for v in b["ids"].tolist())
        ends = set(int(v) for b in d.insertions for v in b["src"].tolist() + b["dst"].tolist())
        assert not (new & present) and new <= ends and ends <= present | new
        present |= new
    cur = base
    for d in deltas:  # time never goes backwards: the default reject policy accepts every delta
        cur, _ = apply_delta(cur, d)
    assert cur.num_edges() == n_edges


def test_random_edges_undirected_and_weights_policy():
    g = _timed_graph(directed=False)
    base, deltas = growth_schedule(g, steps=2, mode="random-edges", initial_fraction=0.6, weights="drop",
                                   random_state=0)
    assert base.adjacency().weight is None
    assert all(b["weight"] is None for d in deltas for b in d.insertions)
    total = base.num_undirected_edges() + sum(d.num_insertions for d in deltas)
    assert total == g.num_undirected_edges()


def test_negative_weights_need_abs_or_drop():
    b = GraphBuilder(directed=True)
    b.add_edges([0, 1, 2, 3], [1, 2, 3, 0], weight=[1.0, -2.0, 3.0, 1.0], time=[1, 2, 3, 4])
    g = b.build()
    with pytest.raises(ValidationError, match="negative weights"):
        growth_schedule(g, steps=1)
    base, deltas = growth_schedule(g, steps=1, weights="abs")
    w = np.concatenate([np.asarray(base.adjacency().weight)] + [b["weight"] for b in deltas[0].insertions])
    assert sorted(w.tolist()) == [1.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 0}, "steps=0"),
    ({"steps": 1.5}, "steps=1.5"),
    ({"mode": "sorted"}, "mode='sorted'"),
    ({"initial_fraction": 1.0}, "initial_fraction=1.0"),
    ({"initial_fraction": 0.0}, "initial_fraction=0.0"),
    ({"weights": "log"}, "weights='log'"),
    ({"steps": 1000, "mode": "random-edges"}, "steps=1000"),
    ({"steps": 1000, "mode": "random-nodes"}, "steps=1000"),
])
def test_schedule_bad_input(sbm, kwargs, match):
    kw = {"mode": "random-nodes", **kwargs}
    with pytest.raises(ValidationError, match=match):
        growth_schedule(sbm, **kw)


def test_time_mode_without_timestamps_names_the_edge_type(sbm):
    with pytest.raises(ValidationError, match=r"node:edge:node.*no timestamps"):
        growth_schedule(sbm, mode="time")


def test_schedule_rejects_non_graph_and_empty_graph():
    with pytest.raises(ValidationError, match="graph"):
        growth_schedule([[0, 1]], steps=1)
    b = GraphBuilder(directed=False)
    b.add_nodes("node", count=3)
    b.add_edge_type(("node", "edge", "node"))
    with pytest.raises(EmptyInputError, match="no edges"):
        growth_schedule(b.build(), steps=1, mode="random-edges")


# ---------------------------------------------------------------------------- replay
@pytest.fixture(scope="module")
def replay_rows(sbm):
    base, deltas = growth_schedule(sbm, steps=2, mode="random-edges", initial_fraction=0.8, random_state=0)
    dne = DNE(dimensions=8, random_state=0)
    methods = {"dne": dne, "retrain": Retrain(dne), "new-only": NewOnly(dne)}
    rows = replay(base, deltas, methods, eval=("node-classification", "future-links"), random_state=0)
    return rows, dne


def test_replay_rows_per_method_and_step(replay_rows):
    rows, dne = replay_rows
    assert not hasattr(dne, "embedding_")  # the given model is cloned, not fitted
    assert [(r["step"], r["method"]) for r in rows] == [(s, m) for s in range(3) for m in ("dne", "retrain", "new-only")]
    for r in rows:
        assert 0.0 <= r["micro_f1"] <= 1.0 and 0.0 <= r["macro_f1"] <= 1.0
        assert r["seconds"] >= 0 and r["apply_seconds"] >= 0
        if r["step"] < 2:
            assert 0.0 <= r["auc"] <= 1.0 and r["n_links"] > 0
        else:
            assert math.isnan(r["auc"]) and r["n_links"] == 0
        if r["step"] == 0:
            assert math.isnan(r["drift_cosine"]) and r["inserted"] == 0
        else:
            assert r["inserted"] > 0 and -1.0 <= r["drift_cosine"] <= 1.0
    by = {(r["step"], r["method"]): r for r in rows}
    assert by[(1, "new-only")]["drift_cosine"] == pytest.approx(1.0)  # old vertices frozen
    assert by[(2, "dne")]["nodes"] == by[(2, "retrain")]["nodes"] == 160
    # the planted blocks are easy: every method classifies far above chance
    assert min(by[(2, m)]["micro_f1"] for m in ("dne", "retrain", "new-only")) > 0.7


def test_replay_random_nodes_and_eval_steps(sbm):
    base, deltas = growth_schedule(sbm, steps=2, mode="random-nodes", random_state=2)
    calls = []
    rows = replay(base, deltas, {"dne": Incremental(DNE(dimensions=4, samples=5000, random_state=0)),
                                 "retrain": Retrain(lambda: DNE(dimensions=4, samples=5000, random_state=1))},
                  eval_steps=[2], progress=lambda f, s: calls.append(f))
    assert [(r["step"], r["method"]) for r in rows] == [(2, "dne"), (2, "retrain")]
    assert rows[0]["new_nodes"] == 40 and math.isnan(rows[0]["drift_cosine"])
    assert calls[-1] == 1.0 and all(0.0 <= f <= 1.0 for f in calls)


def test_replay_bad_input(sbm):
    base, deltas = growth_schedule(sbm, steps=1, mode="random-nodes", random_state=0)
    dne = DNE(dimensions=4, samples=1000, random_state=0)
    with pytest.raises(ValidationError, match="methods"):
        replay(base, deltas, {})
    with pytest.raises(ValidationError, match="eval="):
        replay(base, deltas, {"dne": dne}, eval="ranking")
    with pytest.raises(ValidationError, match=r"schedule\[0\]"):
        replay(base, ["not a delta"], {"dne": dne})
    with pytest.raises(ValidationError, match="eval_steps"):
        replay(base, deltas, {"dne": dne}, eval_steps=[5])
    with pytest.raises(ValidationError, match="train_ratio"):
        replay(base, deltas, {"dne": dne}, train_ratio=1.0)
    with pytest.raises(ValidationError, match="operator"):
        replay(base, deltas, {"dne": dne}, operator="l2")
    with pytest.raises(ValidationError, match="progress"):
        replay(base, deltas, {"dne": dne}, progress=3)
    with pytest.raises(ValidationError, match="graph"):
        replay("base", deltas, {"dne": dne})
    with pytest.raises(ValidationError, match="methods\\['x'\\]"):
        replay(base, deltas, {"x": 42})
    with pytest.raises(ValidationError, match="no parameter m"):
        NewOnly(object())
    with pytest.raises(ValidationError, match="partial_fit"):
        Incremental(object())


def test_replay_node_classification_needs_labels():
    g = _timed_graph()
    base, deltas = growth_schedule(g, steps=1, mode="time")
    with pytest.raises(ValidationError, match="labelled node types"):
        replay(base, deltas, {"dne": DNE(dimensions=4, samples=1000, random_state=0)})


# ---------------------------------------------------------------------------- plot
def test_plot_replay(replay_rows, tmp_path):
    from vastgraph.report import HtmlReport

    fig = plot_replay(replay_rows[0], title="sbm")
    assert len(fig.axes) == 4
    assert {ln.get_label() for ln in fig.axes[0].get_lines()} == {"dne", "retrain", "new-only"}
    rep = HtmlReport("replay")
    rep.figure(fig, "F1 and time per step")
    out = rep.write(tmp_path / "r.html")
    assert "data:image/png;base64" in open(out).read()


def test_plot_replay_bad_rows():
    with pytest.raises(ValidationError, match="empty"):
        plot_replay([])
    with pytest.raises(ValidationError, match=r"rows\[0\]"):
        plot_replay([{"x": 1}])
    with pytest.raises(ValidationError, match="no finite"):
        plot_replay([{"step": 0, "method": "a", "micro_f1": float("nan")}])


# ---------------------------------------------------------------------------- link operators
class _Fixed:
    """A stand-in embedder: seeded random vertex vectors and context vectors ``sign · x``."""

    def __init__(self, sign: float = -1.0, context: bool = True) -> None:
        self.sign, self.context = sign, context

    def get_params(self) -> dict:
        return {"sign": self.sign, "context": self.context}

    def fit(self, graph) -> "_Fixed":
        x = np.random.default_rng(0).normal(size=(graph.num_nodes_total(), 4))
        self.embedding_ = x
        if self.context:
            self.context_ = self.sign * x
        return self


@pytest.mark.parametrize("directed", [True, False])
def test_replay_context_operator_scores_x_dot_c(directed):
    base, deltas = growth_schedule(_timed_graph(n_edges=120, directed=directed), steps=2, mode="time",
                                   initial_fraction=0.6)
    kw = dict(eval="future-links", random_state=0)
    dot = replay(base, deltas, {"m": Retrain(_Fixed())}, operator="dot", **kw)
    ctx = replay(base, deltas, {"m": Retrain(_Fixed())}, operator="context", **kw)
    same = replay(base, deltas, {"m": Retrain(_Fixed(sign=1.0))}, operator="context", **kw)
    measured = [i for i, r in enumerate(dot) if r["n_links"] > 0]
    assert measured
    for i in measured:  # c = −x: x_u·c_v (and its symmetrised form) is −x_u·x_v, so the AUC flips
        assert ctx[i]["auc"] == pytest.approx(1.0 - dot[i]["auc"])
        assert same[i]["auc"] == pytest.approx(dot[i]["auc"])


def test_replay_context_operator_needs_context_vectors():
    base, deltas = growth_schedule(_timed_graph(), steps=1, mode="time")
    with pytest.raises(ValidationError, match="context_"):
        replay(base, deltas, {"m": Retrain(_Fixed(context=False))}, eval="future-links", operator="context")
