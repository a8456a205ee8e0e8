"""Tests of DNE (vastgraph.embed.dne) and its kernels (vastgraph.embed.dne_kernels)."""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import pytest

from vastgraph.embed.dne import DNE, UPDATE_SAMPLES_PER_ENTRY
from vastgraph.embed.dne_kernels import (FenwickNoise, GrowableRows, fenwick_build, fenwick_draw, fenwick_total,
                                         gather_rows)
from vastgraph.errors import CorruptStoreError, NotFittedError, UnknownIdError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.delta import GraphDelta
from vastgraph.seeding import stream


def small_graph():
    b = GraphBuilder(directed=False)
    b.add_edges([0, 1, 0, 2], [1, 2, 2, 3], weight=[2.0, 1.0, 1.0, 3.0])
    return b.build()


def growing_sbm(n=2000, init=0.9, steps=4, seed=0, mixing=0.35):
    """A block-model graph whose nodes arrive in random order: the first graph and one delta per step."""
    from vastgraph.datasets.synthetic_sbm import power_law_sbm

    g = power_law_sbm(n_nodes=n, n_blocks=4, avg_degree=10, mixing=mixing, random_state=seed).graph
    s, d = g.edge_index()
    keep = s < d
    s, d = g.external_ids(dense=s[keep]), g.external_ids(dense=d[keep])
    labels = np.empty(n, np.int64)
    labels[g.external_ids()] = g.labels()
    order = np.random.default_rng(seed).permutation(n)
    arrival = np.empty(n, np.int64)
    arrival[order] = np.arange(n)
    n0 = int(init * n)
    edge_t = np.maximum(arrival[s], arrival[d])
    b = GraphBuilder(directed=False)
    b.add_nodes("node", ids=order[:n0])
    b.add_edges(s[edge_t < n0], d[edge_t < n0])
    deltas = []
    bounds = np.linspace(n0, n, steps + 1).astype(int)
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        m = (edge_t >= lo) & (edge_t < hi)
        deltas.append(GraphDelta().add_nodes("node", order[lo:hi]).add_edges(s[m], d[m]))
    return b.build(), deltas, labels


@pytest.fixture(scope="module")
def sbm():
    return growing_sbm()


# ------------------------------------------------------------------------------ kernels
@nb.njit(cache=True)
def _draws(tree, total, n, count):  # pragma: no cover - numba
    hits = np.zeros(n)
    state = stream(np.uint64(7), 0)
    for _ in range(count):
        state, i = fenwick_draw(state, tree, total, n)
        hits[i] += 1
    return hits


def test_fenwick_draws_follow_weights():
    noise = FenwickNoise(np.array([1.0, 0.0, 16.0, 81.0]), capacity=8)
    assert math.isclose(noise.total(), 1 + 8 + 27, rel_tol=1e-12)  # counts^0.75
    noise.set(np.array([1, 3]), np.array([16.0, 0.0]))
    assert math.isclose(noise.total(), 1 + 8 + 8, rel_tol=1e-12)
    assert float(fenwick_total(fenwick_build(noise.weights))) == pytest.approx(noise.total())
    hits = _draws(noise.tree, noise.total(), 4, 17000)
    np.testing.assert_allclose(hits / hits.sum(), [1 / 17, 8 / 17, 8 / 17, 0.0], atol=0.015)


def test_gather_rows_and_growable_rows():
    indptr = np.array([0, 2, 2, 5])
    pos, owner = gather_rows(indptr, np.array([2, 0, 1]))
    assert pos.tolist() == [2, 3, 4, 0, 1] and owner.tolist() == [0, 0, 0, 1, 1]
    rows = GrowableRows(2, 2)
    rows.resize_layout(["a", "b"], {}, {"a": 1, "b": 1})
    rows.X[:] = [[1, 1], [2, 2]]
    assert rows.resize_layout(["a", "b"], {"a": 1, "b": 1}, {"a": 2, "b": 1})  # rows of "b" shift
    assert rows.X.tolist() == [[1, 1], [0, 0], [2, 2]]
    assert not rows.resize_layout(["a", "b"], {"a": 2, "b": 1}, {"a": 2, "b": 3})
    assert rows.X.tolist() == [[1, 1], [0, 0], [2, 2], [0, 0], [0, 0]] and rows.capacity >= 5


def test_pmi_deviation_score_hand_computed():
    model = DNE(dimensions=2, negative=4, samples=100, random_state=0).fit(small_graph())
    X = np.array([[0.1, 0.2], [0.3, -0.1], [0.0, 0.5], [-0.2, 0.4]], np.float32)
    C = np.array([[0.2, 0.1], [-0.1, 0.3], [0.4, 0.0], [0.1, 0.1]], np.float32)
    model._rows.X[:] = X
    model._rows.C[:] = C
    # weighted degrees: 0: 2+1, 1: 2+1, 2: 1+1+3, 3: 3; D = 2 * (2 + 1 + 1 + 3) = 14
    deg, D, lk = [3.0, 3.0, 5.0, 3.0], 14.0, math.log(4)
    adj = {0: [(1, 2.0), (2, 1.0)], 1: [(0, 2.0), (2, 1.0)], 2: [(0, 1.0), (1, 1.0), (3, 3.0)], 3: [(2, 3.0)]}
    want = []
    for u in range(4):
        s = sum(w * abs(float(X[u] @ C[v]) - (math.log(w * D / (deg[u] * deg[v])) - lk)) for v, w in adj[u])
        want.append(s / deg[u])
    # vertex 3 by hand: x3·c2 = -0.08, PMI = log(3·14/(3·5)) − log 4 = log(2.8/4)
    assert want[3] == pytest.approx(abs(-0.08 - math.log(2.8 / 4)), rel=1e-6)
    assert model.total_weight_ == pytest.approx(D)
    np.testing.assert_allclose(model.deviation_scores([0, 1, 2, 3]), want, rtol=1e-5)


# ------------------------------------------------------------------------------ updates
def test_frozen_vertices_bit_identical_and_new_near_neighbours(sbm, one_thread):
    base, deltas, _ = sbm
    model = DNE(dimensions=16, m=0.05, random_state=0).fit(base)
    X0, C0 = model.embedding_.copy(), model.context_.copy()
    n0 = X0.shape[0]
    kv = model.partial_fit(deltas[0]).keyed_
    rep = model.last_update_
    k = deltas[0].num_new_nodes
    assert kv.vectors.shape == (n0 + k, 16) and rep.new_vertices.tolist() == list(range(n0, n0 + k))
    moved = np.zeros(n0, bool)
    moved[rep.freed] = True
    assert 0 < moved.sum() <= math.ceil(0.05 * n0)
    np.testing.assert_array_equal(kv.vectors[:n0][~moved], X0[~moved])  # bit-identical
    np.testing.assert_array_equal(model.context_[:n0][~moved], C0[~moved])
    assert not np.array_equal(kv.vectors[rep.freed], X0[rep.freed])
    assert np.all(np.diff(rep.scores) <= 0)  # top-m by score
    # new vertices sit near their neighbours: cosine to neighbours beats cosine to random vertices
    g = model.graph_
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    near, far = [], []
    rng = np.random.default_rng(0)
    for u in rep.new_vertices[:50]:
        nb = g.neighbors(int(u))
        if nb.size:
            near.append(float((unit[nb] @ unit[u]).mean()))
            far.append(float((unit[rng.integers(0, n0, 20)] @ unit[u]).mean()))
    assert np.mean(near) > np.mean(far) + 0.05


@pytest.mark.slow
def test_quality_close_to_retraining_and_above_new_only(sbm):
    from vastgraph.train.node_classification import evaluate_node_classification

    base, deltas, labels = sbm

    def f1(model):
        y = labels[model.graph_.external_ids()]
        return evaluate_node_classification(model.embedding_, y, train_ratios=(0.5,), repeats=3,
                                            random_state=0).micro(0.5)

    scores = {}
    for name, m in (("dne", 0.1), ("new_only", 0)):
        model = DNE(dimensions=32, m=m, random_state=0).fit(base)
        for dl in deltas:
            model.partial_fit(dl)
        scores[name] = f1(model)
    scores["retrain"] = f1(DNE(dimensions=32, random_state=0).fit(model.graph_))
    assert scores["dne"] >= scores["retrain"] - 0.03, scores
    assert scores["dne"] >= scores["new_only"] - 0.005, scores


def test_work_scales_with_the_delta(sbm):
    base, deltas, _ = sbm
    ext = base.external_ids()
    reports = {}
    for k in (5, 50):
        model = DNE(dimensions=8, m=0.1, samples=1000, random_state=0).fit(base)
        rng = np.random.default_rng(1)
        src, dst = rng.choice(ext, k), rng.choice(ext, k)
        model.partial_fit(GraphDelta().add_edges(src, dst))
        reports[k] = model.last_update_
    small, big = reports[5], reports[50]
    assert big.edges_trained > 4 * small.edges_trained
    assert big.samples == UPDATE_SAMPLES_PER_ENTRY * big.edges_trained
    assert small.samples == UPDATE_SAMPLES_PER_ENTRY * small.edges_trained
    # the same-size delta on a graph twice as large does not cost twice as much
    b2 = GraphBuilder(directed=False)
    s, d = base.edge_index()
    b2.add_edges(np.concatenate([ext[s], ext[s] + 10**6]), np.concatenate([ext[d], ext[d] + 10**6]))
    model = DNE(dimensions=8, m=0.1, samples=1000, random_state=0).fit(b2.build())
    rng = np.random.default_rng(1)
    model.partial_fit(GraphDelta().add_edges(rng.choice(ext, 5), rng.choice(ext, 5)))
    assert model.last_update_.edges_trained < 2 * small.edges_trained + 50


# ------------------------------------------------------------------------------ selection policy (m="auto")
def _relative_change(model, delta):
    """Relative degree change |d' - d| / max(d, d') of every old vertex under ``delta`` (computed apart)."""
    before = model.graph_
    deg0 = np.asarray(before.out_degree(), float) + np.asarray(before.in_degree(), float)
    from vastgraph.graph.delta import apply_delta

    after, _ = apply_delta(before, delta)
    n0 = deg0.size
    deg1 = (np.asarray(after.out_degree(), float) + np.asarray(after.in_degree(), float))[:n0]
    return np.abs(deg1 - deg0) / np.maximum(np.maximum(deg0, deg1), 1e-300)


def test_auto_frees_exactly_the_vertices_whose_degree_moved(sbm, one_thread):
    base, _, _ = sbm
    model = DNE(dimensions=8, samples=20_000, random_state=0).fit(base)
    assert model.m == "auto" and model.tau == 0.3
    ext = base.external_ids()
    deg = np.asarray(base.out_degree())
    low = ext[np.flatnonzero(deg <= 3)[:6]]  # +1 edge moves these by >= 1/4 of their degree...
    hub = ext[np.argsort(deg)[-4:]]  # ...and a hub (degree > 10) by < 1/10
    delta = GraphDelta().add_edges(low[:3], hub[:3]).add_edges(low[3:6], low[:3])
    rel = _relative_change(model, delta)
    X0 = model.embedding_.copy()
    model.partial_fit(delta)
    rep = model.last_update_
    assert rep.new_vertices.size == 0  # a delta touching only old vertices
    expect = np.flatnonzero(rel >= 0.3)
    np.testing.assert_array_equal(np.sort(rep.freed), expect)
    hub_g = base.id_index().lookup(hub[:3])
    assert not np.isin(hub_g, rep.freed).any() and rep.candidates == np.count_nonzero(rel > 0)
    moved = np.zeros(X0.shape[0], bool)
    moved[rep.freed] = True
    np.testing.assert_array_equal(model.embedding_[~moved], X0[~moved])  # everyone else bit-identical
    assert (np.abs(model.embedding_[moved] - X0[moved]).max(axis=1) > 0).all()
    assert rep.samples == UPDATE_SAMPLES_PER_ENTRY * rep.edges_trained
    # a lower tau frees a superset (the hubs too once tau is below their change)
    lower = DNE(dimensions=8, samples=20_000, tau=1e-4, random_state=0).fit(base)
    lower.partial_fit(delta)
    assert set(rep.freed.tolist()) < set(lower.last_update_.freed.tolist())
    assert np.isin(hub_g, lower.last_update_.freed).all()


def test_auto_cost_grows_with_the_delta_not_the_graph(sbm):
    base, _, _ = sbm
    ext = base.external_ids()
    entries = {}
    for k in (10, 100):
        model = DNE(dimensions=8, samples=1000, random_state=0).fit(base)
        rng = np.random.default_rng(1)
        model.partial_fit(GraphDelta().add_edges(rng.choice(ext, k), rng.choice(ext, k)))
        entries[k] = model.last_update_.edges_trained
        # the bound of the rule: a freed vertex has degree <= its change / tau, so <= 2·|delta| / tau entries
        assert entries[k] <= 2 * 2 * k / model.tau
    assert entries[100] > 4 * entries[10]
    # the same delta on a graph twice as large (a disjoint copy added) stays under the same bound
    b2 = GraphBuilder(directed=False)
    s, d = base.edge_index()
    b2.add_edges(np.concatenate([ext[s], ext[s] + 10**6]), np.concatenate([ext[d], ext[d] + 10**6]))
    model = DNE(dimensions=8, samples=1000, random_state=0).fit(b2.build())
    rng = np.random.default_rng(1)
    model.partial_fit(GraphDelta().add_edges(rng.choice(ext, 10), rng.choice(ext, 10)))
    assert 0 < model.last_update_.edges_trained <= 2 * 2 * 10 / model.tau


def test_auto_updates_are_reproducible_with_a_seed(sbm, one_thread):
    base, deltas, _ = sbm
    runs = []
    for _ in range(2):
        model = DNE(dimensions=8, samples=20_000, random_state=3).fit(base)
        for dl in deltas[:2]:
            model.partial_fit(dl)
        runs.append((model.embedding_.copy(), model.context_.copy(), model.last_update_.freed.copy()))
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    other = DNE(dimensions=8, samples=20_000, random_state=4).fit(base)
    other.partial_fit(deltas[0])
    assert not np.array_equal(other.embedding_, runs[0][0][: other.embedding_.shape[0]])


def test_update_samples_parameter_and_m_count():
    model = DNE(dimensions=4, m=1, update_samples=123, samples=200, random_state=0).fit(small_graph())
    model.partial_fit(GraphDelta().add_edges([3], [0]))
    assert model.last_update_.samples == 123 and model.last_update_.freed.size == 1


# ------------------------------------------------------------------------------ bad input
def test_unknown_ids_leave_the_model_unchanged():
    model = DNE(dimensions=4, samples=200, random_state=0).fit(small_graph())
    X0, g0 = model.embedding_.copy(), model.graph_
    with pytest.raises(UnknownIdError, match="99"):
        model.partial_fit(GraphDelta().add_edges([0], [99]))
    assert model.graph_ is g0 and np.array_equal(model.embedding_, X0) and model._n_updates == 0
    with pytest.raises(ValidationError, match="GraphDelta"):
        model.partial_fit("not a delta")
    with pytest.raises(ValidationError, match="pair"):
        model.partial_fit((g0,))


def test_partial_fit_before_fit():
    with pytest.raises(NotFittedError):
        DNE().partial_fit(GraphDelta())
    with pytest.raises(NotFittedError):
        DNE().save_state("/nonexistent")


@pytest.mark.parametrize("params, name", [({"m": -1}, "m="), ({"m": 1.5}, "m="), ({"m": "all"}, "m="),
                                          ({"lam": -0.1}, "lam="), ({"tau": 0}, "tau="), ({"tau": 1.5}, "tau="), ({"dimensions": 0}, "dimensions="),
                                          ({"negative": 0}, "negative="), ({"order": 3}, "order="),
                                          ({"joint": "yes"}, "joint="), ({"samples": 0}, "samples="),
                                          ({"update_samples": -5}, "update_samples="), ({"lr": 0}, "lr=")])
def test_bad_params(params, name):
    with pytest.raises(ValidationError, match=name):
        DNE(**params).fit(small_graph())


def test_bad_params_at_update_leave_model_unchanged():
    model = DNE(dimensions=4, samples=200, random_state=0).fit(small_graph())
    model.set_params(m=-2)
    with pytest.raises(ValidationError, match="m="):
        model.partial_fit(GraphDelta().add_edges([3], [0]))
    assert model._n_updates == 0 and model.graph_.num_edges() == 8


def test_empty_graph():
    from vastgraph.errors import EmptyInputError

    b = GraphBuilder(directed=False)
    b.add_nodes("node", count=3)
    with pytest.raises(EmptyInputError):
        DNE().fit(b.build())


# ------------------------------------------------------------------------------ state
def _store(tmp_path, g=None, name="store"):
    from vastgraph.graph.dynamic_store import DynamicStore

    return DynamicStore.create(tmp_path / name, small_graph() if g is None else g)


def test_state_round_trip_and_same_updates(tmp_path, one_thread):
    ds = _store(tmp_path)
    a = DNE(dimensions=4, samples=300, random_state=3, joint=True).fit(ds.graph)
    a.save_state(tmp_path / "s")
    b = DNE.load_state(tmp_path / "s")  # reopens version 0 of the store the state names
    np.testing.assert_array_equal(a.embedding_, b.embedding_)
    assert b.total_weight_ == a.total_weight_ and b.get_params()["joint"] is True
    assert b.follows_ == {"store": str(ds.path), "version": 0, "digest": None}
    delta = GraphDelta().add_nodes("node", [7]).add_edges([7, 7], [0, 3])
    summary = ds.apply(delta)
    ka, kb = a.partial_fit(delta).keyed_, b.partial_fit((ds.graph, summary)).keyed_
    np.testing.assert_array_equal(ka.vectors, kb.vectors)
    assert kb.index_of([7]).tolist() == [4]
    b.save_state(tmp_path / "s")  # overwrite in place; b's graph is store version 1
    c = DNE.load_state(tmp_path / "s")
    assert c._n_updates == 1 and c.follows_["version"] == 1 and c.graph_.num_nodes() == 5
    with pytest.raises(ValidationError, match="built in memory"):
        a.save_state(tmp_path / "t")  # a's graph was changed in memory: no store version to name
    a.save_state(tmp_path / "t", follows={"store": str(ds.path), "version": 1})
    np.testing.assert_array_equal(DNE.load_state(tmp_path / "t").embedding_, ka.vectors)


def test_state_names_the_store_version_and_stays_small(tmp_path, one_thread):
    """The state holds O(nodes × d) arrays, no graph copy: 10 updates later it is no larger (per node)."""
    from vastgraph.embed.updater import Updater, write_embeddings

    b = GraphBuilder(directed=False)
    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, 300, 3000), rng.integers(0, 300, 3000)
    b.add_edges(src[src != dst], dst[src != dst])
    ds = _store(tmp_path, b.build())
    write_embeddings(DNE(dimensions=8, samples=20000, update_samples=2000, random_state=0).fit(ds.graph),
                     tmp_path / "emb")
    up = Updater.open(ds.path, tmp_path / "emb")

    def state_bytes():
        return sum(f.stat().st_size for f in (tmp_path / "emb" / "state").rglob("*") if f.is_file())

    sizes, nodes = [], []
    for i in range(10):
        e = rng.integers(0, 300, (200, 2))
        up.apply(GraphDelta().add_nodes("node", [1000 + i]).add_edges(np.r_[e[:, 0], 1000 + i], np.r_[e[:, 1], 0]))
        sizes.append(state_bytes())
        nodes.append(up.model.graph_.num_nodes())
    assert not (tmp_path / "emb" / "state" / "graph").exists()
    assert up.state["embedding_version"] == up.state["store_version"] == 10
    edges = up.model.graph_.num_edges()
    print(f"DNE state bytes after 1 update: {sizes[0]} ({nodes[0]} nodes), after 10: {sizes[-1]} ({nodes[-1]} nodes, "
          f"{edges} edge entries)")
    row = 2 * 8 * 4 + 2 * 8  # X and C rows (float32 × d) and two float64 degrees per node
    assert sizes[-1] - sizes[0] <= (nodes[-1] - nodes[0]) * row + 64  # + a few digits of meta.json
    assert sizes[0] < nodes[0] * row + 4096  # O(nodes × d): the ~10,000 edge entries are not in it


def test_corrupt_state_is_refused(tmp_path):
    from vastgraph.errors import FormatVersionError, StoreError

    ds = _store(tmp_path)
    DNE(dimensions=4, samples=100, random_state=0).fit(ds.graph).save_state(tmp_path / "s")
    p = tmp_path / "s" / "X.npy"
    data = bytearray(p.read_bytes())
    data[-1] ^= 0xFF
    p.write_bytes(bytes(data))
    with pytest.raises(CorruptStoreError, match="checksum"):
        DNE.load_state(tmp_path / "s")
    with pytest.raises(StoreError, match="no meta.json"):
        DNE.load_state(tmp_path / "missing")
    DNE(dimensions=4, samples=100, random_state=0).fit(ds.graph).save_state(tmp_path / "v1")
    meta = (tmp_path / "v1" / "meta.json").read_text().replace('"version": 2', '"version": 1', 1)
    (tmp_path / "v1" / "meta.json").write_text(meta)
    with pytest.raises(FormatVersionError, match="copy of the graph"):
        DNE.load_state(tmp_path / "v1")
    with pytest.raises(CorruptStoreError, match="4 rows but the graph it follows has 3"):
        b = GraphBuilder(directed=False)
        b.add_edges([0, 1], [1, 2])
        DNE.load_state(_fresh_state(tmp_path), graph=b.build())


def _fresh_state(tmp_path):
    ds = _store(tmp_path, name="store2")
    return DNE(dimensions=4, samples=100, random_state=0).fit(ds.graph).save_state(tmp_path / "s3")


def test_heterogeneous_growth_relayout(one_thread):
    b = GraphBuilder()
    b.add_edges(["a", "b"], ["x", "y"], etype=("user", "click", "item"))
    b.add_edges(["x"], ["y"], etype=("item", "co", "item"))
    g = b.build()
    assert g.node_types == ["user", "item"]  # a new user shifts the item rows (re-layout path)
    model = DNE(dimensions=4, samples=300, random_state=0).fit(g)
    before = {k: model.keyed_.get(k, "item").copy() for k in ("x", "y")}
    assert model.partial_fit(GraphDelta().add_nodes("user", ["c"]).add_edges(["c"], ["x"], etype="user:click:item")) is model
    kv = model.keyed_
    assert kv.vectors.shape[0] == 5 and kv.index_of(["c"], "user").tolist() == [2]
    freed = set(kv.key_of(model.last_update_.freed))
    for k, v in before.items():
        if ("item", k) not in freed:
            np.testing.assert_array_equal(kv.get(k, "item"), v)
