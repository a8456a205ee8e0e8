"""Candidate generators, the learned ranker, and the guarantee that it never trains on evaluated pairs/days."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.ads.candidates import RetrievalContext
from vastgraph.ads.ranker import MultiplexRanker, _pair_keys, evaluate_ranked, holdout_split, ranked_retriever
from vastgraph.ads.retrieval import EmbeddingRetriever
from vastgraph.errors import ValidationError
from vastgraph.graph.builder import GraphBuilder

N = 80


def planted(times: bool = False, seed: int = 0):
    """Two relations over 8 communities of 10 nodes; relation 'b' mostly mirrors 'a'. Edge times 0..9 (days)."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder(directed=False, duplicates="first")
    b.add_nodes("node", ids=np.arange(N))
    comm = np.arange(N) // 10
    for rel, m in (("a", 500), ("b", 300)):
        u = rng.integers(0, N, m)
        v = np.where(rng.random(m) < 0.9, comm[u] * 10 + rng.integers(0, 10, m), rng.integers(0, N, m))
        keep = u != v
        t = rng.integers(0, 10, m)[keep] * 86400 if times else None
        b.add_edges(u[keep], v[keep], etype=("node", rel, "node"), time=t)
    return b.build(), comm


def test_generators_exclude_known_and_self():
    g, _ = planted()
    vec = np.random.default_rng(0).normal(size=(N, 8))
    ctx = RetrievalContext(g, {"rand": vec}, candidates=15)
    assert ctx.generator_names == ["coneighbour", "coneighbour-all", "rand"]
    q = np.arange(10)
    for name in ctx.generator_names:
        idx, sc = ctx.generate(name, q, 0)
        assert idx.shape == (10, 15)
        for i, u in enumerate(q):
            got = idx[i][idx[i] >= 0]
            assert u not in got and len(set(got)) == got.size
            assert not np.isin(got, g.neighbors(u, etype=("node", "a", "node"))).any()
            assert np.all(np.diff(sc[i][np.isfinite(sc[i])]) <= 1e-9)
    X = ctx.features(np.array([0, 1]), np.array([5, 70]), 0)
    assert X.shape == (2, len(ctx.feature_names())) and np.isfinite(X).all()


def test_holdout_split_random_and_time():
    g, _ = planted(times=True)
    hist, lab = holdout_split(g, 0.2, random_state=0)
    for r, et in enumerate(g.edge_types):
        assert hist.num_edges(et) + 2 * int((lab["etype"] == r).sum()) == g.num_edges(et)
    ctx = RetrievalContext(hist)
    hk = np.concatenate([_pair_keys(np.full(a.nnz, r), a.tocoo().row, a.tocoo().col, N) for r, a in enumerate(ctx.adj)])
    assert not np.isin(_pair_keys(lab["etype"], lab["src"], lab["dst"], N), hk).any()
    hist_t, lab_t = holdout_split(g, 0.3, by="time")
    for et in g.edge_types:
        t_hist = hist_t.coo(et).time
        assert lab_t["time"][lab_t["etype"] == g.edge_types.index(et)].min() >= t_hist.max()
    with pytest.raises(ValidationError, match="edge times"):
        holdout_split(planted(False)[0], 0.2, by="time")


def test_ranker_beats_coneighbour_on_planted_graph():
    g, comm = planted(seed=1)
    train, test = holdout_split(g, 0.2, random_state=1)
    hist, lab = holdout_split(train, 0.2, random_state=2)
    onehot = np.eye(8)[comm] + 0.05 * np.random.default_rng(0).normal(size=(N, 8))
    rk = MultiplexRanker(max_iter=50, random_state=0).fit(RetrievalContext(hist, {"comm": onehot}, candidates=20), lab)
    assert rk.n_positive_rows_ > 0 and rk.feature_names_[0] == "relation"
    res = evaluate_ranked(rk, RetrievalContext(train, {"comm": onehot}, candidates=20), test, k=10,
                          importance_repeats=2)
    for rel in ("a", "b"):
        assert res["retrieval"]["ranked"][rel]["recall@10"] >= res["retrieval"]["gen:coneighbour"][rel]["recall@10"]
    assert res["importance"]["cos[comm]"] > 0
    with pytest.raises(ValidationError, match="features"):
        rk.rank(RetrievalContext(train, candidates=20), np.array([0]), 0, 5)


def test_ranker_never_trains_on_evaluated_pairs_or_days(monkeypatch):
    g, _ = planted(times=True)
    # days 0-7 are the training graph; the ranker learns days 6-7 from days 0-5; evaluation is days 8-9
    train, test = holdout_split(g, by="time", cutoff=8 * 86400)
    hist, lab = holdout_split(train, by="time", cutoff=6 * 86400)
    assert lab["time"].min() == 6 * 86400 and test["time"].min() == 8 * 86400
    assert lab["time"].max() < test["time"].min()
    seen = {}
    orig = MultiplexRanker.training_rows

    def spy(self, ctx, labels):
        out = orig(self, ctx, labels)
        seen["rows"] = out
        return out

    monkeypatch.setattr(MultiplexRanker, "training_rows", spy)
    rk = MultiplexRanker(max_iter=20, random_state=0).fit(RetrievalContext(hist, candidates=20), lab)
    _, y, r, u, v = seen["rows"]
    test_keys = _pair_keys(test["etype"], test["src"], test["dst"], N)
    assert not np.isin(_pair_keys(r[y == 1], u[y == 1], v[y == 1], N), test_keys).any()
    assert rk.label_time_max_ < test["time"].min()
    eval_ctx = RetrievalContext(train, candidates=20)
    rk.check_disjoint(test, eval_ctx)  # later days: fine
    with pytest.raises(ValidationError, match="leakage"):
        rk.check_disjoint(lab, RetrievalContext(hist))  # its own label days
    early = dict(test, time=np.zeros_like(test["time"]))
    with pytest.raises(ValidationError, match="not after"):
        rk.check_disjoint(early, eval_ctx)
    with pytest.raises(ValidationError, match="leakage"):
        evaluate_ranked(rk, RetrievalContext(hist, candidates=20), lab, k=5)


def test_ranked_retriever_merges_retrievers():
    rng = np.random.default_rng(0)
    qids, aids = [f"q{i}" for i in range(30)], [f"a{i}" for i in range(40)]
    qv, av = rng.normal(size=(30, 4)), rng.normal(size=(40, 4))
    r1 = EmbeddingRetriever.from_vectors(qids, qv, aids, av)
    r2 = EmbeddingRetriever.from_vectors(qids, rng.normal(size=(30, 4)), aids, av)
    top = r1.retrieve(qids, 3).ads
    lq = np.repeat(qids, 3)
    rr = ranked_retriever({"good": r1, "noise": r2}, lq, top.ravel(), candidates=10, max_iter=20)
    got = rr.retrieve(qids[:5], 3)
    assert got.ads.shape == (5, 3) and np.all(np.diff(got.scores, axis=1) <= 0)
    hit = np.mean([len(set(got.ads[i]) & set(top[i])) / 3 for i in range(5)])
    assert hit > 0.6
