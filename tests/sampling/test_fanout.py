"""Multi-hop fanout sampling: PyG-style relabelled subgraphs, hops, types, determinism, bad input."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from vastgraph.errors import EmptyInputError, SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import EdgeType, GraphBuilder
from vastgraph.sampling.fanout import SampledSubgraph, sample_fanout


@pytest.fixture(scope="module")
def graph():
    rng = np.random.default_rng(3)
    n, m = 500, 5000
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges(rng.integers(0, n, m), rng.integers(0, n, m), weight=rng.random(m) + 0.1,
                time=rng.integers(0, 100, m))
    return b.build()


@pytest.fixture(scope="module")
def directed_graph():
    rng = np.random.default_rng(4)
    n, m = 200, 1500
    b = GraphBuilder(directed=True, id_mode="dense")
    b.add_edges(rng.integers(0, n, m), rng.integers(0, n, m))
    return b.build()


@pytest.fixture(scope="module")
def hetero():
    rng = np.random.default_rng(5)
    b = GraphBuilder(directed=True, id_mode="dense")
    nu, ni = 60, 40
    b.add_nodes("user", count=nu)
    b.add_nodes("item", count=ni)
    us, it = rng.integers(0, nu, 400), rng.integers(0, ni, 400)
    b.add_edges(us, it, etype=("user", "click", "item"))
    b.add_edges(it, us, etype=("item", "clicked_by", "user"))
    b.add_edges(rng.integers(0, ni, 100), rng.integers(0, ni, 100), etype=("item", "sim", "item"))
    return b.build()


def check_subgraph(g, sub: SampledSubgraph, seeds, fanouts, *, replace=False):
    """Every structural property PyG's NeighborLoader output has."""
    for et, ei in sub.edge_index_dict.items():
        src_nodes, dst_nodes = sub.node_dict[et.src], sub.node_dict[et.dst]
        assert ei.dtype == np.int64 and ei.shape[0] == 2
        assert ei[0].max(initial=-1) < src_nodes.size and ei[1].max(initial=-1) < dst_nodes.size
        # neighbour -> target is a stored edge src -> dst, at the reported CSC position
        assert g.has_edges(src_nodes[ei[0]], dst_nodes[ei[1]], etype=et).all()
        csc = g.adjacency(et, reverse=True)
        assert (np.asarray(csc.indices)[sub.edge_pos_dict[et]] == src_nodes[ei[0]]).all()
        rows = np.searchsorted(csc.indptr, sub.edge_pos_dict[et], side="right") - 1
        assert (rows == dst_nodes[ei[1]]).all()
        assert sum(sub.num_sampled_edges_dict[et]) == ei.shape[1]
    for nt, nodes in sub.node_dict.items():
        assert np.unique(nodes).size == nodes.size  # each node once
        assert sum(sub.num_sampled_nodes_dict[nt]) == nodes.size
    (st, sd), = seeds.items()
    assert np.array_equal(sub.node_dict[st][:sd.size], sd)
    # hop h edges point at the nodes first reached at hop h-1 and sample min(k, deg) of them
    for et in sub.edge_index_dict:
        bounds = np.cumsum([0] + sub.num_sampled_nodes_dict[et.dst])
        for h, k in enumerate(fanouts):
            blk = sub.block(h, et)
            assert ((blk[1] >= bounds[h]) & (blk[1] < bounds[h + 1])).all()
            deg = g.in_degree(et, sub.node_dict[et.dst][bounds[h]:bounds[h + 1]])
            got = np.bincount(blk[1] - bounds[h], minlength=deg.size)
            want = np.where(deg > 0, k, 0) if replace else np.minimum(deg, k)
            assert np.array_equal(got, want)
    # nodes after the seeds appear in order of discovery along the edge list
    if len(sub.edge_index_dict) == 1:
        ei = sub.edge_index
        first = ei[0][np.sort(np.unique(ei[0], return_index=True)[1])]
        assert np.array_equal(first[first >= sd.size], np.arange(sd.size, sub.nodes.size))


def test_homogeneous_structure(graph):
    seeds = np.array([5, 17, 300, 2, 99])
    sub = sample_fanout(graph, seeds, [4, 3, 2], random_state=0)
    check_subgraph(graph, sub, {"node": seeds}, [4, 3, 2])
    assert sub.is_homogeneous and sub.batch_size == 5 and sub.num_hops == 3
    assert sub.num_sampled_nodes[0] == 5 and len(sub.num_sampled_edges) == 3
    assert sub.num_sampled_edges[0] == 20  # 5 seeds x 4 (every node has degree >= 4 here)
    assert np.array_equal(sub.block(0), sub.edge_index[:, :20])


def test_replacement_and_weighted(graph):
    seeds = np.arange(0, 500, 7)
    sub = sample_fanout(graph, seeds, [3, 2], replace=True, weighted=True, random_state=1)
    check_subgraph(graph, sub, {"node": seeds}, [3, 2], replace=True)


def test_all_neighbours_hop(graph):
    sub = sample_fanout(graph, [10], [-1], random_state=0)
    assert sorted(sub.nodes[sub.edge_index[0]].tolist()) == sorted(graph.neighbors(10).tolist())


def test_directed_graph_samples_in_neighbours(directed_graph):
    g = directed_graph
    seeds = np.arange(0, 200, 9)
    sub = sample_fanout(g, seeds, [5, 5], random_state=2)
    check_subgraph(g, sub, {"node": seeds}, [5, 5])


def test_duplicate_seeds_keep_positions(graph):
    sub = sample_fanout(graph, [3, 3, 4], [2], random_state=0)
    assert sub.nodes[:3].tolist() == [3, 3, 4] and sub.batch_size == 3
    assert np.bincount(sub.edge_index[1], minlength=3)[:3].tolist() == [2, 2, 2]
    assert not np.isin(sub.nodes[3:], [3, 4]).any()  # neighbours 3/4 map to locals 0/2
    assert (sub.edge_index[0] != 1).all()  # local 1 (the repeat) is never a message source


def test_time_window(graph):
    sub = sample_fanout(graph, np.arange(50), [5, 5], time_window=(20, 60), random_state=0)
    t = np.asarray(graph.adjacency(reverse=True).time)[sub.edge_pos]
    assert ((t >= 20) & (t < 60)).all() and t.size > 0


def test_deterministic_and_thread_independent(graph):
    seeds = np.arange(500)
    before = numba.get_num_threads()
    try:
        res = []
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            res.append(sample_fanout(graph, seeds, [30, 10], random_state=42))  # > 2**17 draws: parallel
    finally:
        numba.set_num_threads(before)
    a, b = res
    assert np.array_equal(a.nodes, b.nodes) and np.array_equal(a.edge_index, b.edge_index)
    assert np.array_equal(a.edge_pos, b.edge_pos)
    c = sample_fanout(graph, seeds, [30, 10], random_state=43)
    assert not np.array_equal(a.edge_pos, c.edge_pos)


def test_scratch_map_is_reset(graph):
    sample_fanout(graph, np.arange(100), [5, 5], random_state=0)
    from vastgraph.sampling.engine import engine_for

    pool = engine_for(graph).cached(("fanout_map_pool", "node"), list)
    assert pool and all((m == -1).all() for m in pool)
    assert not graph.__dict__.get("_derived")  # the engine, not the graph, holds derived data


def test_heterogeneous_follows_pyg_convention(hetero):
    g = hetero
    seeds = np.array([0, 3, 7])
    sub = sample_fanout(g, ("item", seeds), [4, 3], random_state=0)
    check_subgraph(g, sub, {"item": seeds}, [4, 3])
    assert not sub.is_homogeneous
    click, rev = EdgeType("user", "click", "item"), EdgeType("item", "clicked_by", "user")
    assert set(sub.edge_index_dict) == {click, rev, EdgeType("item", "sim", "item")}
    # hop 1 has item frontier only: users come in via click, items via sim; nothing via clicked_by
    assert sub.num_sampled_edges_dict[rev][0] == 0 and sub.num_sampled_edges_dict[click][0] > 0
    assert sub.num_sampled_nodes_dict["user"][0] == 0 and sub.num_sampled_nodes_dict["user"][1] > 0
    assert sub.num_sampled_edges_dict[rev][1] > 0  # hop 2: user frontier samples items
    with pytest.raises(SchemaError, match="use node_dict"):
        sub.nodes


def test_heterogeneous_fanout_dict_skips_with_zero(hetero):
    sub = sample_fanout(hetero, ("item", [1, 2]), {"click": [3, 0], "clicked_by": [0, 2]}, random_state=0)
    assert set(sub.edge_index_dict) == {("user", "click", "item"), ("item", "clicked_by", "user")}
    assert sub.num_sampled_edges_dict[("user", "click", "item")][1] == 0
    assert sub.num_sampled_edges_dict[("item", "clicked_by", "user")][0] == 0
    assert sub.num_sampled_edges_dict[("item", "clicked_by", "user")][1] > 0
    # several seed types at once
    both = sample_fanout(hetero, {"item": [1], "user": [4, 5]}, [2], etype=["click", "clicked_by"],
                         random_state=0)
    assert both.node_dict["user"][:2].tolist() == [4, 5] and both.node_dict["item"][0] == 1
    assert both.seed_types == ("item", "user")


def test_plain_seed_array_type_inferred_from_edge_type(hetero):
    sub = sample_fanout(hetero, [0, 1], [2], etype="click", random_state=0)
    assert list(sub.node_dict) == ["item", "user"] and sub.batch_size == 2


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fanouts,msg", [
    ([5, 0], r"fanouts\[1\]=0: expected >= 1, or -1"),
    ([5, -3], r"fanouts\[1\]=-3"),
    ([2.5], r"fanouts\[0\]=2.5"),
    ([], "expected at least one hop"),
    (5, "expected a list of ints"),
    ("15,10", "expected a list of ints"),
])
def test_bad_fanouts(graph, fanouts, msg):
    with pytest.raises(ValidationError, match=msg):
        sample_fanout(graph, [0], fanouts)


def test_bad_fanout_dicts(hetero):
    with pytest.raises(ValidationError, match="different lengths"):
        sample_fanout(hetero, ("item", [0]), {"click": [2, 2], "sim": [1]})
    with pytest.raises(ValidationError, match="both given"):
        sample_fanout(hetero, ("item", [0]), {"click": [2]}, etype="click")
    with pytest.raises(SchemaError, match="unknown edge type 'buy'; known edge types: user:click:item"):
        sample_fanout(hetero, ("item", [0]), {"buy": [2]})
    with pytest.raises(ValidationError, match=r"fanouts\['click'\]\[0\]=-5"):
        sample_fanout(hetero, ("item", [0]), {"click": [-5]})


def test_bad_seeds(graph, hetero):
    with pytest.raises(EmptyInputError, match="no seed nodes"):
        sample_fanout(graph, [], [2])
    with pytest.raises(UnknownIdError, match=r"\[500\] out of range"):
        sample_fanout(graph, [1, 500], [2])
    with pytest.raises(ValidationError, match="expected integer"):
        sample_fanout(graph, [1.0], [2])
    with pytest.raises(SchemaError, match="unknown node type 'shop'; known node types: user, item"):
        sample_fanout(hetero, ("shop", [0]), [2])
    with pytest.raises(SchemaError, match=r"give seeds as \(ntype, ids\)"):
        sample_fanout(hetero, [0], [2])
    with pytest.raises(SchemaError, match="unknown edge type"):
        sample_fanout(graph, [0], [2], etype="nope")


def test_weighted_fanout_on_unweighted_type_is_an_error(hetero):
    with pytest.raises(ValidationError, match="no edge weights"):
        sample_fanout(hetero, ("item", [0]), [2], weighted=True)


def test_block_bad_hop(graph):
    sub = sample_fanout(graph, [0], [2], random_state=0)
    with pytest.raises(ValidationError, match="hop=1"):
        sub.block(1)
