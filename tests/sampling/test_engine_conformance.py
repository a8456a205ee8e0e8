"""Conformance suite of :class:`vastgraph.sampling.engine.SamplingEngine`: what every backend must pass.

ADDING A BACKEND: append ONE entry to ``ENGINE_FACTORIES`` below, e.g.
``pytest.param(ray_engine, id="ray")``. A factory takes a local
:class:`~vastgraph.graph.hetero_graph.HeteroGraph` built by this suite and returns the backend's
engine serving the same graph (``engine.graph`` is the backend's GraphView, and
``engine_for(engine.graph) is engine``). Every test then runs on it: the engine satisfies the
protocol; seeded operations repeat exactly, equal the public functions on ``engine.graph`` and equal
the local engine's results on the local graph; sampled edges are real edges; walks follow the rules
of their kind; samples pass chi-square tests (fixed seeds, loose threshold p > 1e-4); bad input
raises ``vastgraph.errors`` errors.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chisquare

from vastgraph.errors import SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.graph.view import GraphView
from vastgraph.sampling.anonymous import anonymize
from vastgraph.sampling.engine import EdgeSample, SamplingEngine, WalkResult, WalkSpec, engine_for
from vastgraph.sampling.fanout import FanoutPlan, sample_fanout
from vastgraph.sampling.local.engine import LocalEngine
from vastgraph.sampling.metapath import metapath_walks
from vastgraph.sampling.negative import corrupt_edges, sample_negatives
from vastgraph.sampling.neighbors import sample_neighbors
from vastgraph.sampling.temporal import temporal_walks
from vastgraph.sampling.walks import random_walks
from vastgraph.distributed.testing import ray_engine_params

P_MIN = 1e-4


def local_engine(graph):
    """The local store's engine (the reference)."""
    return engine_for(graph)


ENGINE_FACTORIES = [
    pytest.param(local_engine, id="local"),
    *ray_engine_params(),  # the Ray engine at 2 and 4 shards (skipped without ray)
]


# ----------------------------------------------------------------------------- graphs
def _homogeneous(directed: bool, seed: int):
    rng = np.random.default_rng(seed)
    n, m = 30, 360
    b = GraphBuilder(directed=directed, id_mode="dense")
    b.add_nodes(count=n)
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    # node 0 is a hub with distinct neighbours 1..20 and very different weights
    src = np.concatenate([src, np.zeros(20, np.int64)])
    dst = np.concatenate([dst % (n - 1) + 1, np.arange(1, 21)])
    w = np.concatenate([rng.random(m) + 0.05, np.arange(1, 21, dtype=np.float64)]).astype(np.float32)
    t = rng.integers(0, 100, src.size)
    b.add_edges(src, dst, weight=w, time=t)
    return b.build()


def _hetero():
    rng = np.random.default_rng(3)
    b = GraphBuilder(id_mode="dense")
    b.add_edges(rng.integers(0, 25, 200), rng.integers(0, 15, 200), etype=("query", "click", "ad"),
                weight=rng.random(200) + 0.1)
    b.add_edges(rng.integers(0, 20, 120), rng.integers(0, 15, 120), etype=("user", "buy", "ad"))
    b.add_edges(rng.integers(0, 20, 50), rng.integers(0, 20, 50), etype=("user", "follows", "user"))
    return b.build()


@pytest.fixture(scope="module")
def local_graphs():
    return {"directed": _homogeneous(True, 1), "undirected": _homogeneous(False, 2), "hetero": _hetero()}


@pytest.fixture(scope="module", params=ENGINE_FACTORIES)
def engines(request, local_graphs):
    """``{name: engine}`` of the backend under test for every suite graph."""
    return {name: request.param(g) for name, g in local_graphs.items()}


@pytest.fixture(params=["directed", "undirected"])
def homo(request, engines, local_graphs):
    """``(engine, local reference graph)`` of one homogeneous graph."""
    return engines[request.param], local_graphs[request.param]


def _same(a, b) -> bool:
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if a is None or b is None:
        return a is None and b is None
    return np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b)


def _steps(walks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u, v = walks[:, :-1].ravel(), walks[:, 1:].ravel()
    keep = v >= 0
    return u[keep].astype(np.int64), v[keep].astype(np.int64)


def _dead_ends_stay_dead(walks: np.ndarray) -> bool:
    dead = np.cumsum(walks < 0, axis=1) > 0
    return bool((walks[dead] == -1).all())


# ----------------------------------------------------------------------------- protocol
def test_engine_satisfies_the_protocol(engines):
    for eng in engines.values():
        assert isinstance(eng, SamplingEngine)
        assert isinstance(eng.graph, GraphView)
        assert engine_for(eng.graph) is eng  # one engine per graph instance, reused


def test_walk_result_types(homo):
    eng, _ = homo
    res = eng.walks(WalkSpec("uniform", walks_per_node=2, walk_length=4), random_state=0)
    assert isinstance(res, WalkResult) and res.times is None
    assert res.nodes.shape == (2 * eng.graph.num_nodes(), 5)
    tw = eng.walks(WalkSpec("temporal", walks_per_node=1, walk_length=4), random_state=0)
    assert tw.times.shape == (eng.graph.num_nodes(), 4) and tw.times.dtype == np.int64
    e = eng.sample_edges(7, random_state=0)
    assert isinstance(e, EdgeSample) and len(e) == 7


# ----------------------------------------------------------------------------- seeded = identical
def _operations(eng):
    """Seeded operations of an engine over a homogeneous graph, by name, as plain arrays."""
    g = eng.graph
    seeds = np.arange(12)
    plan = FanoutPlan(g, [3, 2], weighted=True)
    sub = eng.sample_blocks(plan, {g.node_types[0]: seeds}, np.uint64(5))
    return {
        "uniform": eng.walks(WalkSpec("uniform", walks_per_node=2, walk_length=6), random_state=1).nodes,
        "weighted": eng.walks(WalkSpec("weighted", walks_per_node=2, walk_length=6), random_state=2).nodes,
        "node2vec": eng.walks(WalkSpec("node2vec", walks_per_node=2, walk_length=6, p=0.5, q=2.0),
                              random_state=3).nodes,
        "node2vec_unweighted": eng.walks(WalkSpec("node2vec", walks_per_node=2, walk_length=6, p=4.0, q=0.25,
                                                  weighted=False), random_state=3).nodes,
        "temporal": eng.walks(WalkSpec("temporal", walks_per_node=2, walk_length=6, time_bias="linear"),
                              random_state=4),
        "anonymous": eng.anonymous_walks(WalkSpec("node2vec", walks_per_node=1, walk_length=5, q=0.5),
                                         random_state=5),
        "neighbors": eng.sample_neighbors(seeds, 3, random_state=6),
        "neighbors_weighted": eng.sample_neighbors(seeds, 3, method="weighted", replace=True, random_state=6),
        "neighbors_reverse_time": eng.sample_neighbors(seeds, 2, reverse=True, time_window=(10, 80),
                                                       random_state=7),
        "fanout": sub,
        "negatives": eng.sample_negatives(200, distribution="degree", random_state=8),
        "negatives_excl": eng.sample_negatives(exclude_neighbors_of=seeds, random_state=9),
        "corrupt": eng.corrupt_edges(seeds, seeds[::-1], num_negatives=3, mode="both", random_state=10),
        "edges": eng.sample_edges(100, random_state=11),
        "edges_weighted": eng.sample_edges(100, weighted=True, random_state=12),
    }


def _as_arrays(x):
    if isinstance(x, WalkResult):
        return (x.nodes, x.times)
    if isinstance(x, EdgeSample):
        return (x.src, x.dst, x.positions)
    if hasattr(x, "edge_pos") and hasattr(x, "indptr"):  # SampledNeighbors
        return (x.nodes, x.indptr, x.indices, x.edge_pos, x.weights, x.times)
    if hasattr(x, "node_dict"):  # SampledSubgraph
        return (x.node_dict, {str(k): v for k, v in x.edge_index_dict.items()},
                {str(k): v for k, v in x.edge_pos_dict.items()}, x.num_sampled_nodes_dict)
    return x


def test_seeded_operations_repeat_exactly(homo):
    eng, _ = homo
    a, b = _operations(eng), _operations(eng)
    for name in a:
        assert _same(_as_arrays(a[name]), _as_arrays(b[name])), name


def test_seeded_operations_equal_the_local_engine(homo):
    eng, local = homo
    ref = LocalEngine(local)
    a, b = _operations(eng), _operations(ref)
    for name in a:
        assert _same(_as_arrays(a[name]), _as_arrays(b[name])), name


def test_engine_equals_the_public_functions(homo):
    eng, _ = homo
    g = eng.graph
    ops = _operations(eng)
    assert _same(ops["uniform"], random_walks(g, walks_per_node=2, walk_length=6, weighted=False, random_state=1))
    assert _same(ops["weighted"], random_walks(g, walks_per_node=2, walk_length=6, random_state=2))
    assert _same(ops["node2vec"], random_walks(g, walks_per_node=2, walk_length=6, p=0.5, q=2.0, random_state=3))
    assert _same(ops["node2vec_unweighted"], random_walks(g, walks_per_node=2, walk_length=6, p=4.0, q=0.25,
                                                          weighted=False, random_state=3))
    assert _same(_as_arrays(ops["temporal"]), temporal_walks(g, walks_per_node=2, walk_length=6,
                                                             time_bias="linear", random_state=4))
    assert _same(ops["anonymous"], anonymize(random_walks(g, walks_per_node=1, walk_length=5, q=0.5,
                                                          random_state=5)))
    seeds = np.arange(12)
    assert _same(_as_arrays(ops["neighbors"]), _as_arrays(sample_neighbors(g, seeds, 3, random_state=6)))
    assert _same(_as_arrays(ops["neighbors_weighted"]),
                 _as_arrays(sample_neighbors(g, seeds, 3, weighted=True, replace=True, random_state=6)))
    assert _same(_as_arrays(ops["neighbors_reverse_time"]),
                 _as_arrays(sample_neighbors(g, seeds, 2, reverse=True, time_window=(10, 80), random_state=7)))
    assert _same(ops["negatives"], sample_negatives(g, 200, distribution="degree", random_state=8))
    assert _same(ops["negatives_excl"], sample_negatives(g, exclude_neighbors_of=seeds, random_state=9))
    assert _same(ops["corrupt"], corrupt_edges(g, seeds, seeds[::-1], num_negatives=3, mode="both",
                                               random_state=10))
    sub = sample_fanout(g, seeds, [3, 2], weighted=True, random_state=5)
    assert _same(_as_arrays(ops["fanout"]), _as_arrays(sub))


def test_metapath_equals_public_and_local(engines, local_graphs):
    eng = engines["hetero"]
    spec = WalkSpec("metapath", walks_per_node=2, walk_length=7, metapath=("click", "~buy", "buy", "~click"))
    a = eng.walks(spec, random_state=0).nodes
    assert _same(a, eng.walks(spec, random_state=0).nodes)
    assert _same(a, metapath_walks(eng.graph, ["click", "~buy", "buy", "~click"], walks_per_node=2,
                                   walk_length=7, random_state=0))
    assert _same(a, LocalEngine(local_graphs["hetero"]).walks(spec, random_state=0).nodes)


# ----------------------------------------------------------------------------- structure
@pytest.mark.parametrize("spec", [WalkSpec("uniform", walks_per_node=3, walk_length=10),
                                  WalkSpec("weighted", walks_per_node=3, walk_length=10),
                                  WalkSpec("node2vec", walks_per_node=3, walk_length=10, p=0.25, q=4.0),
                                  WalkSpec("node2vec", walks_per_node=3, walk_length=10, p=2.0, q=0.5,
                                           weighted=True)],
                         ids=["uniform", "weighted", "node2vec", "node2vec-weighted"])
def test_every_walk_step_is_an_edge(homo, spec):
    eng, _ = homo
    w = eng.walks(spec, random_state=13).nodes
    u, v = _steps(w)
    assert u.min() >= 0 and eng.graph.has_edges(u, v).all()
    assert _dead_ends_stay_dead(w)
    assert np.array_equal(w[:eng.graph.num_nodes(), 0], np.arange(eng.graph.num_nodes()))


def test_metapath_walks_follow_the_type_pattern(engines):
    eng = engines["hetero"]
    g = eng.graph
    spec = WalkSpec("metapath", walks_per_node=3, walk_length=8, metapath=("click", "~click"))
    w = eng.walks(spec, random_state=1).nodes
    types = np.asarray(g.node_types)
    q, a = g.node_offsets()["query"], g.node_offsets()["ad"]
    for j in range(w.shape[1]):
        col = w[:, j]
        alive = col >= 0
        t_idx, dense = g.from_global(col[alive])
        assert (types[t_idx] == ("query" if j % 2 == 0 else "ad")).all()
        if j:
            prev = w[alive, j - 1]
            if j % 2 == 1:  # query -> ad along click
                assert g.has_edges(prev - q, dense, etype="click").all()
            else:  # ad -> query backwards along click
                assert g.has_edges(dense, prev - a, etype="click").all()
    assert _dead_ends_stay_dead(w)


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("bias", ["uniform", "linear", "exponential"])
def test_temporal_walks_are_time_monotone(homo, direction, bias):
    eng, _ = homo
    g = eng.graph
    res = eng.walks(WalkSpec("temporal", walks_per_node=3, walk_length=8, direction=direction, time_bias=bias),
                    random_state=21)
    w, t = res.nodes, res.times
    alive = w[:, 1:] >= 0
    assert (t[~alive] == -1).all()
    for r in range(w.shape[0]):
        k = int(alive[r].sum())
        ts = t[r, :k]
        assert (np.diff(ts) >= 0).all() if direction == "forward" else (np.diff(ts) <= 0).all()
    u, v = _steps(w)
    if direction == "forward":
        assert g.has_edges(u, v).all()
    else:
        assert g.has_edges(v, u).all()
    # every step's time is the time of an edge between its two nodes
    e = g.coo()
    stored = set(zip(e.src.tolist(), e.dst.tolist(), e.time.tolist()))
    uu, vv = (u, v) if direction == "forward" else (v, u)
    assert all((a, b, c) in stored for a, b, c in zip(uu.tolist(), vv.tolist(), t[alive].tolist()))


@pytest.mark.parametrize("weighted", [False, True])
def test_fanout_blocks_hold_real_edges_within_the_fanout(homo, weighted):
    eng, _ = homo
    g = eng.graph
    fan = [4, 3]
    plan = FanoutPlan(g, fan, weighted=weighted)
    sub = eng.sample_blocks(plan, {"node": np.arange(8)}, np.uint64(3))
    nodes = sub.nodes
    ei = sub.edge_index
    assert g.has_edges(nodes[ei[0]], nodes[ei[1]]).all()  # neighbour -> target is a stored edge
    first = 0
    for h, k in enumerate(fan):
        blk = sub.block(h)
        pos = sub.edge_pos[first:first + blk.shape[1]]
        first += blk.shape[1]
        assert np.bincount(blk[1], minlength=nodes.size).max(initial=0) <= k
        assert np.unique(pos).size == pos.size  # without replacement: distinct edges
        # positions index the in-edge order: the target's in-edge from the sampled neighbour
        csc = g.coo(reverse=True)
        assert np.array_equal(csc.src[pos], nodes[blk[1]]) and np.array_equal(csc.dst[pos], nodes[blk[0]])
        weights, times = eng.edge_attributes(None, pos, reverse=True)
        assert np.array_equal(weights, csc.weight[pos]) and np.array_equal(times, csc.time[pos])
    assert np.array_equal(nodes[:8], np.arange(8)) and len(np.unique(nodes)) == nodes.size


@pytest.mark.parametrize("distribution", ["uniform", "degree"])
def test_negatives_with_exclusion_never_hit_a_neighbour(homo, distribution):
    eng, _ = homo
    g = eng.graph
    anchors = np.repeat(np.arange(g.num_nodes()), 20)
    neg = eng.sample_negatives(exclude_neighbors_of=anchors, distribution=distribution, max_retries=2,
                               random_state=4)
    assert not g.has_edges(anchors, neg).any()
    src = np.arange(g.num_nodes())
    dst = np.array([g.neighbors(int(u))[0] if g.out_degree(nodes=[u])[0] else u for u in src])
    ns, nd = eng.corrupt_edges(src, dst, num_negatives=5, mode="both", distribution=distribution, random_state=5)
    assert not g.has_edges(ns, nd).any()


@pytest.mark.parametrize("weighted", [False, True])
def test_sample_edges_returns_real_edges(homo, weighted):
    eng, _ = homo
    g = eng.graph
    e = eng.sample_edges(500, weighted=weighted, random_state=6)
    assert g.has_edges(e.src, e.dst).all()
    coo = g.coo()
    assert np.array_equal(coo.src[e.positions], e.src) and np.array_equal(coo.dst[e.positions], e.dst)
    assert eng.sample_edges(0).src.size == 0


# ----------------------------------------------------------------------------- distributions
def _hub_edges(g):
    """Storage positions, neighbours and weights of node 0's out-edges."""
    e = g.coo()
    pos = np.flatnonzero(e.src == 0)
    return pos, e.dst[pos], e.weight[pos].astype(np.float64)


def _chi2(observed, expected_share) -> float:
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected_share, dtype=np.float64)
    expected = expected / expected.sum() * observed.sum()
    return float(chisquare(observed, expected).pvalue)


@pytest.mark.parametrize("method", ["uniform", "weighted"])
def test_neighbour_sampling_distribution(homo, method):
    eng, _ = homo
    pos, _, w = _hub_edges(eng.graph)
    n = 40_000
    s = eng.sample_neighbors(np.zeros(n, np.int64), 1, method=method, random_state=17)
    assert s.counts().min() == 1
    observed = np.array([(s.edge_pos == p).sum() for p in pos])
    assert observed.sum() == n
    assert _chi2(observed, np.ones(pos.size) if method == "uniform" else w) > P_MIN


def test_weighted_walk_first_steps_follow_the_weights(homo):
    eng, _ = homo
    _, nbr, w = _hub_edges(eng.graph)
    walks = eng.walks(WalkSpec("weighted", walks_per_node=40_000, walk_length=1), start=[0],
                      random_state=23).nodes
    ids = np.unique(nbr)
    share = np.array([w[nbr == v].sum() for v in ids])
    observed = np.array([(walks[:, 1] == v).sum() for v in ids])
    assert observed.sum() == walks.shape[0]
    assert _chi2(observed, share) > P_MIN
    # and the uniform walk's first step is uniform over the out-edges (parallel edges count apart)
    walks = eng.walks(WalkSpec("uniform", walks_per_node=40_000, walk_length=1), start=[0],
                      random_state=24).nodes
    mult = np.array([(nbr == v).sum() for v in ids])
    assert _chi2([(walks[:, 1] == v).sum() for v in ids], mult) > P_MIN


def test_degree_negatives_follow_degree_to_the_075(homo):
    eng, _ = homo
    g = eng.graph
    deg = g.out_degree().astype(np.float64)
    if not g.is_undirected():
        deg = deg + g.in_degree()
    n = 60_000
    neg = eng.sample_negatives(n, distribution="degree", random_state=29)
    observed = np.bincount(neg, minlength=g.num_nodes())
    assert (observed[deg == 0] == 0).all()
    keep = deg > 0
    assert _chi2(observed[keep], deg[keep] ** 0.75) > P_MIN
    uni = eng.sample_negatives(n, random_state=30)
    assert _chi2(np.bincount(uni, minlength=g.num_nodes()), np.ones(g.num_nodes())) > P_MIN


def test_weighted_edge_samples_follow_the_weights(homo):
    eng, _ = homo
    g = eng.graph
    w = g.coo().weight.astype(np.float64)
    e = eng.sample_edges(100_000, weighted=True, random_state=31)
    # pool edges into 10 weight buckets so that every expected count is large
    order = np.argsort(w)
    bucket = np.empty(w.size, np.int64)
    bucket[order] = np.arange(w.size) * 10 // w.size
    observed = np.bincount(bucket[e.positions], minlength=10)
    assert _chi2(observed, np.bincount(bucket, weights=w, minlength=10)) > P_MIN


# ----------------------------------------------------------------------------- bad input
def test_bad_input_raises_vastgraph_errors(homo):
    eng, _ = homo
    n = eng.graph.num_nodes()
    with pytest.raises(SchemaError):
        eng.walks(WalkSpec("uniform", etype="nope"))
    with pytest.raises(SchemaError):
        eng.sample_neighbors([0], 2, etype="nope")
    with pytest.raises(SchemaError):
        eng.sample_edges(3, etype="nope")
    with pytest.raises(UnknownIdError):
        eng.walks(WalkSpec("uniform", walk_length=2), start=[0, n])
    with pytest.raises(UnknownIdError):
        eng.sample_neighbors([-1], 2)
    with pytest.raises(UnknownIdError):
        eng.sample_negatives(exclude_neighbors_of=[n + 5])
    with pytest.raises(UnknownIdError):
        eng.corrupt_edges([0], [n])
    for bad in ({"p": float("nan")}, {"q": float("nan")}, {"p": 0.0}, {"q": -1.0}, {"walks_per_node": 0},
                {"walk_length": -3}, {"kind": "levy"}):
        with pytest.raises(ValidationError):
            WalkSpec(**{"kind": "node2vec", **bad})
    with pytest.raises(ValidationError):
        eng.sample_negatives(-1)
    with pytest.raises(ValidationError):
        eng.sample_neighbors([0], -2)
    with pytest.raises(ValidationError):
        eng.sample_edges(-1)
    with pytest.raises(ValidationError):
        eng.corrupt_edges([0], [1], num_negatives=0)
    with pytest.raises(ValidationError):
        eng.walks("uniform")


def test_bad_metapath_and_temporal_input(engines):
    eng = engines["hetero"]
    with pytest.raises(ValidationError):
        WalkSpec("metapath", metapath=[])
    with pytest.raises(SchemaError):
        eng.walks(WalkSpec("metapath", metapath=("nope",)))
    with pytest.raises(ValidationError):  # click then buy do not chain (ad -> user)
        eng.walks(WalkSpec("metapath", walk_length=2, metapath=("click", "buy")))
    with pytest.raises(ValidationError):  # a temporal walk stays on one node type
        eng.walks(WalkSpec("temporal", etype="click"))


def test_temporal_walks_need_times(engines):
    eng = engines["hetero"]
    with pytest.raises(ValidationError, match="timestamps"):
        eng.walks(WalkSpec("temporal", etype="follows"))
    with pytest.raises(ValidationError):
        eng.sample_neighbors([0], 2, etype="follows", before=10)
