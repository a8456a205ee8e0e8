"""Conversions to and from scipy.sparse, networkx and PyTorch Geometric."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
import torch_geometric.data as pyg_data

from vastgraph.errors import EmptyInputError, UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder, HeteroGraph
from vastgraph.graph.convert import from_networkx, from_scipy, to_networkx, to_scipy
from vastgraph.graph.convert_pyg import from_pyg, to_pyg


def _homo(directed: bool, seed: int = 0, duplicates: str = "sum") -> HeteroGraph:
    rng = np.random.default_rng(seed)
    n, m = 25, 120
    b = GraphBuilder(directed=directed, duplicates=duplicates, id_mode="dense")
    b.add_nodes("node", count=n, features=rng.normal(size=(n, 3)), labels=rng.integers(-1, 4, n))
    b.add_edges(rng.integers(0, n, m), rng.integers(0, n, m), weight=rng.integers(1, 6, m),
                time=rng.integers(0, 10**6, m))
    return b.build()


def _hetero(seed: int = 0) -> HeteroGraph:
    """user–item (undirected, cross-type, timed), user–user (undirected, weighted), item→shop (directed)."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder(directed=False, duplicates="sum")
    users = np.array([f"u{i}" for i in range(12)], dtype=object)
    b.add_nodes("user", ids=users, features=rng.normal(size=(12, 2)), labels=rng.integers(0, 3, 12))
    b.add_nodes("item", ids=np.arange(500, 520), labels=(rng.random((20, 4)) < 0.4).astype(np.uint8))
    b.add_edges(users[rng.integers(0, 12, 60)], 500 + rng.integers(0, 20, 60), etype=("user", "click", "item"),
                time=rng.integers(0, 1000, 60))
    b.add_edges(users[rng.integers(0, 12, 30)], users[rng.integers(0, 12, 30)], etype=("user", "knows", "user"),
                weight=rng.random(30) + 0.5)
    g = b.build()
    d = GraphBuilder(directed=True)
    d.add_nodes("item", ids=np.arange(500, 520))
    d.add_nodes("shop", count=3)
    d.add_edges(np.arange(500, 520), rng.integers(0, 3, 20), etype=("item", "sold_by", "shop"))
    d.add_edge_type(("shop", "owns", "shop"))  # stays empty
    directed = d.build()
    nodes = {nt: g.node_store(nt) for nt in g.node_types}
    nodes["shop"] = directed.node_store("shop")
    edges = {et: g.edge_store(et) for et in g.edge_types}
    edges.update({et: directed.edge_store(et) for et in directed.edge_types})
    return HeteroGraph(nodes, edges)


def assert_same_graph(a: HeteroGraph, b: HeteroGraph, *, ids: bool = True) -> None:
    assert a.node_types == b.node_types
    assert a.edge_types == b.edge_types
    for nt in a.node_types:
        assert a.num_nodes(nt) == b.num_nodes(nt), nt
        for get in (a.features, a.labels):
            other = getattr(b, get.__name__)(nt)
            if get(nt) is None:
                assert other is None, (nt, get.__name__)
            else:
                np.testing.assert_array_equal(get(nt), other, err_msg=f"{nt} {get.__name__}")
        if ids:
            np.testing.assert_array_equal(a.external_ids(nt), b.external_ids(nt))
    for et in a.edge_types:
        assert a.is_undirected(et) == b.is_undirected(et), et
        for reverse in (False, True):
            x, y = a.adjacency(et, reverse=reverse), b.adjacency(et, reverse=reverse)
            np.testing.assert_array_equal(x.indptr, y.indptr, err_msg=str(et))
            np.testing.assert_array_equal(x.indices, y.indices, err_msg=str(et))
            for name in ("weight", "time"):
                assert (getattr(x, name) is None) == (getattr(y, name) is None), (et, name)
            np.testing.assert_array_equal(_canonical(x), _canonical(y), err_msg=str(et))


def _canonical(adj):
    """(row, col, weight, time) rows sorted: parallel edges between two nodes have no order."""
    rows = np.repeat(np.arange(adj.n_rows), adj.degree()).astype(np.float64)
    cols = [rows, np.asarray(adj.indices, np.float64)]
    cols += [np.asarray(a, np.float64) for a in (adj.weight, adj.time) if a is not None]
    table = np.stack(cols, axis=1)
    return table[np.lexsort(table.T[::-1])]


# --------------------------------------------------------------------------- scipy
@pytest.mark.parametrize("directed", [True, False])
def test_to_scipy_matches_edges_and_shares_memory(directed):
    g = _homo(directed)
    a = to_scipy(g)
    adj = g.adjacency()
    assert a.shape == (25, 25) and a.nnz == adj.nnz
    assert np.shares_memory(a.indices, adj.indices) and np.shares_memory(a.data, adj.weight)
    src, dst = g.edge_index()
    np.testing.assert_array_equal(a[src, dst], adj.weight)
    assert (to_scipy(g, reverse=True) != a.T).nnz == 0
    assert to_scipy(g, weighted=False).data.tolist() == [1.0] * adj.nnz


def test_to_scipy_on_memory_mapped_store(tmp_path):
    g = HeteroGraph.open(_hetero().save(str(tmp_path / "g")))
    a = to_scipy(g, "click")
    assert a.shape == (12, 20)
    assert np.shares_memory(a.indices, g.adjacency("click").indices)
    assert (to_scipy(g, "click", reverse=True) != a.T).nnz == 0
    assert to_scipy(g, "owns").shape == (3, 3) and to_scipy(g, "owns").nnz == 0


@pytest.mark.parametrize("directed", [True, False])
def test_scipy_round_trip(directed):
    g = _homo(directed)
    h = from_scipy(to_scipy(g), features=g.features(), labels=g.labels())
    assert_same_graph(g.__class__(g._nodes, {et: _without_time(g, et) for et in g.edge_types}), h)


def _without_time(g, et):
    from vastgraph.graph import EdgeTypeData
    from vastgraph.graph.store import Adjacency

    e = g.edge_store(et)
    strip = lambda a: None if a is None else Adjacency(a.indptr, a.indices, a.weight, None, a.n_cols)  # noqa: E731
    return EdgeTypeData(et, strip(e.csr), strip(e.csc), e.undirected)


def test_from_scipy_policies_and_inference():
    # duplicates: coo keeps repeated entries; "sum" merges, "keep" keeps them
    m = sp.coo_array(([1.0, 2.0, 5.0], ([0, 0, 1], [1, 1, 2])), shape=(3, 3))
    g = from_scipy(m)
    assert not g.is_undirected() and g.edge_weights([0], [1]).tolist() == [3.0]
    assert from_scipy(m, duplicates="keep").num_edges() == 3
    # all-ones weights are dropped; a symmetric matrix is undirected with each pair stored once per side
    s = sp.csr_array(np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0]]))
    u = from_scipy(s)
    assert u.is_undirected() and u.adjacency().weight is None and u.num_edges() == 3
    assert from_scipy(s, directed=True).edge_store().csc is not None
    assert from_scipy(s, self_loops="drop").num_edges() == 2
    # directed=False with a triangular matrix: every entry is one undirected edge
    t = from_scipy(sp.triu(sp.csr_array(np.array([[0, 2.0], [0, 0]]))), directed=False)
    assert t.neighbors(1).tolist() == [0] and t.edge_weights([1], [0]).tolist() == [2.0]


def test_from_scipy_bipartite_and_names():
    m = sp.csr_array(np.array([[0, 1, 1], [2, 0, 0]], dtype=np.float32))
    g = from_scipy(m, ntype=("user", "item"), rel="click", features={"item": np.eye(3)},
                   labels={"user": [0, 1]})
    assert g.edge_types == [("user", "click", "item")]
    assert g.num_nodes("user") == 2 and g.num_nodes("item") == 3
    assert g.neighbors(0, "click", reverse=True).tolist() == [1]
    assert g.features("user") is None and g.features("item").shape == (3, 3)
    assert g.labels("user").tolist() == [0, 1]
    h = from_scipy(m, ntype=("user", "item"), directed=False)
    assert h.is_undirected() and h.edge_store().csc is not None


@pytest.mark.parametrize("matrix, kwargs, match", [
    (np.eye(3), {}, "expected a scipy.sparse"),
    (sp.csr_array(np.ones((2, 3))), {}, "not square"),
    (sp.csr_array(np.array([[0, 1j], [0, 0]])), {}, "expected real numbers"),
    (sp.csr_array(np.array([[0, np.nan], [1, 0]])), {}, r"entry \(0, 1\) is nan"),
    (sp.csr_array(np.array([[0, 1.0], [2.0, 0]])), {"directed": False}, "neither symmetric"),
    (sp.csr_array(np.eye(2)), {"features": np.ones((3, 2))}, r"features: shape \(3, 2\)"),
    (sp.csr_array(np.eye(2)), {"ntype": ("a", "b", "c")}, "row_type, col_type"),
    (sp.csr_array(np.ones((2, 3))), {"ntype": ("a", "b"), "features": np.ones((2, 2))}, "give a dict"),
    (sp.csr_array(np.eye(2)), {"features": {"user": np.ones((2, 2))}}, "not among"),
    (sp.csr_array(np.eye(2)), {"duplicates": "max"}, "duplicates='max'"),
])
def test_from_scipy_bad_input(matrix, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        from_scipy(matrix, **kwargs)


# --------------------------------------------------------------------------- networkx
@pytest.mark.parametrize("directed", [True, False])
def test_networkx_round_trip_homogeneous(directed):
    g = _homo(directed)
    G = to_networkx(g)
    assert isinstance(G, nx.DiGraph if directed else nx.Graph) and not G.is_multigraph()
    assert G.is_directed() == directed
    assert G.number_of_nodes() == 25
    assert G.number_of_edges() == (g.num_edges() if directed else g.num_undirected_edges() +
                                   int((np.repeat(np.arange(25), g.out_degree()) == g.adjacency().indices).sum()))
    u, v = (int(x[0]) for x in g.edge_index())
    assert G.edges[u, v]["weight"] == g.edge_weights([u], [v])[0]
    assert_same_graph(g, from_networkx(G))


def test_networkx_parallel_edges_give_multigraph():
    g = _homo(False, duplicates="keep")
    G = to_networkx(g)
    assert isinstance(G, nx.MultiGraph)
    assert_same_graph(g, from_networkx(G))


def test_networkx_round_trip_heterogeneous():
    g = _hetero()
    G = to_networkx(g)
    assert isinstance(G, nx.MultiDiGraph)
    offs = g.node_offsets()
    node = G.nodes[offs["user"] + 3]
    assert (node["ntype"], node["id"], node["y"]) == ("user", "u3", int(g.labels("user")[3]))
    np.testing.assert_array_equal(node["x"], g.features("user")[3])
    assert G.nodes[offs["item"]]["id"] == 500 and G.nodes[offs["item"]]["y"].tolist() == g.labels("item")[0].tolist()
    rels = [d["rel"] for _, _, d in G.edges(data=True)]
    assert rels.count("click") == g.num_edges("click") and rels.count("knows") == g.num_edges("knows")
    h = from_networkx(G)  # the node types come back from the metadata to_networkx wrote
    assert_same_graph(g, h)
    assert h.lookup("user", ["u3"]).tolist() == [3]


def test_from_plain_networkx_graphs():
    G = nx.Graph()
    G.add_edge("a", "b", weight=2.0)
    G.add_edge("b", "c")
    g = from_networkx(G)
    assert g.is_undirected() and g.external_ids().tolist() == ["a", "b", "c"]
    assert g.edge_weights(g.lookup(None, ["c"]), g.lookup(None, ["b"])).tolist() == [1.0]
    assert g.edge_weights([0], [1]).tolist() == [2.0]
    D = nx.DiGraph()
    D.add_node(10, kind="q")
    D.add_node(20, kind="ad")
    D.add_edge(10, 20, rel="click", time=5)
    D.add_edge(20, 20, rel="cobid")
    h = from_networkx(D, node_type_attr="kind")
    assert h.edge_types == [("q", "click", "ad"), ("ad", "cobid", "ad")]
    assert h.adjacency("click").time.tolist() == [5] and h.adjacency("click").weight is None
    assert h.external_ids("q").tolist() == [10] and not h.is_undirected("click")
    assert from_networkx(D, time=None).adjacency("click").time is None


def test_from_undirected_networkx_cross_type_orients_by_schema():
    G = nx.Graph()
    G.add_node("u", t="user")
    G.add_node("i", t="item")
    G.add_node("j", t="item")
    G.add_edge("i", "u", rel="click")  # listed item-first
    G.add_edge("u", "j", rel="click")
    g = from_networkx(G, node_type_attr="t")
    assert g.edge_types == [("user", "click", "item")]
    assert g.neighbors(0, "click").tolist() == [0, 1] and g.is_undirected("click")


@pytest.mark.parametrize("make, kwargs, match", [
    (lambda: [(0, 1)], {}, "expected a networkx graph"),
    (lambda: nx.Graph([((0, 1), (1, 2))]), {}, "expected all int or all str"),
    (lambda: nx.Graph([(0, "a")]), {}, "expected all int or all str"),
    (lambda: _typed_graph(missing_type=True), {"node_type_attr": "t"}, "has no attribute 't'"),
    (lambda: _typed_graph(partial_x=True), {"node_type_attr": "t"}, "has no 'x' attribute"),
    (lambda: nx.Graph([(0, 1, {"time": 3}), (1, 2)]), {}, "has no 'time' attribute"),
    (lambda: nx.Graph([(0, 1, {"weight": "heavy"})]), {}, "weight has dtype"),
    (lambda: nx.Graph([(0, 1, {"weight": float("nan")})]), {}, "weight is nan"),
])
def test_from_networkx_bad_input(make, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        from_networkx(make(), **kwargs)


def _typed_graph(missing_type=False, partial_x=False):
    G = nx.Graph()
    G.add_node(0, t="a", x=[1.0])
    G.add_node(1, **({} if missing_type else {"t": "a"}), **({} if partial_x else {"x": [2.0]}))
    G.add_edge(0, 1)
    return G


def test_from_networkx_empty_raises():
    with pytest.raises(EmptyInputError):
        from_networkx(nx.Graph())


# --------------------------------------------------------------------------- PyG
@pytest.mark.parametrize("directed", [True, False])
def test_pyg_round_trip_homogeneous(directed):
    g = _homo(directed)
    data = to_pyg(g)
    assert isinstance(data, pyg_data.Data)
    assert data.edge_index.dtype == torch.int64 and data.edge_index.shape == (2, g.num_edges())
    assert data.num_nodes == 25 and data.x.dtype == torch.float32 and data.y.dtype == torch.int64
    assert data.edge_weight.dtype == torch.float32 and data.edge_time.dtype == torch.int64
    assert data.is_undirected() == (not directed)  # undirected: both directions listed, as PyG expects
    assert_same_graph(g, from_pyg(data), ids=False)


def test_pyg_round_trip_heterogeneous():
    g = _hetero()
    data = to_pyg(g)
    assert isinstance(data, pyg_data.HeteroData)
    assert data["user"].num_nodes == 12 and data["shop"].num_nodes == 3
    assert data["item"].y.dtype == torch.float32 and data["item"].y.shape == (20, 4)
    assert data["user", "click", "item"].time.shape == (g.num_edges("click"),)
    assert data["user", "knows", "user"].edge_weight.shape == (g.num_edges("knows"),)
    assert data["shop", "owns", "shop"].edge_index.shape == (2, 0)
    assert data.undirected_edge_types == [("user", "click", "item"), ("user", "knows", "user")]
    assert_same_graph(g, from_pyg(data), ids=False)


def test_from_pyg_plain_objects():
    ei = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    g = from_pyg(pyg_data.Data(edge_index=ei, num_nodes=4, edge_attr=torch.tensor([[2.0], [2.0], [1.0], [1.0]]),
                               y=torch.tensor([[1], [0], [2], [1]])))
    assert g.is_undirected() and g.num_edges() == 4 and g.num_nodes() == 4
    assert g.edge_weights([0], [1]).tolist() == [2.0] and g.labels().tolist() == [1, 0, 2, 1]
    assert g.edge_types == [("node", "edge", "node")]
    d = from_pyg(pyg_data.Data(edge_index=ei, num_nodes=3), directed=True)
    assert not d.is_undirected() and d.edge_store().csc is not None
    one_way = from_pyg(pyg_data.Data(edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=3))
    assert not one_way.is_undirected()
    both = from_pyg(pyg_data.Data(edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=3), directed=False)
    assert both.is_undirected() and both.neighbors(1).tolist() == [0, 2]
    h = pyg_data.HeteroData()
    h["a"].x = torch.ones(2, 3)
    h["b"].num_nodes = 1
    h["a", "to", "b"].edge_index = torch.tensor([[0, 1], [0, 0]])
    hg = from_pyg(h)
    assert hg.num_nodes("a") == 2 and hg.in_degree("to").tolist() == [2] and not hg.is_undirected("to")
    assert hg.features("a").dtype == np.float32


def _pyg_bad(case):
    Data, HeteroData = pyg_data.Data, pyg_data.HeteroData
    if case == "type":
        return {"edge_index": [[0], [1]]}
    if case == "shape":
        return Data(edge_index=torch.tensor([0, 1]), num_nodes=2)
    if case == "float":
        return Data(edge_index=torch.tensor([[0.0], [1.0]]), num_nodes=2)
    if case == "weight":
        return Data(edge_index=torch.tensor([[0], [1]]), edge_weight=torch.ones(2), num_nodes=2)
    if case == "time":
        return Data(edge_index=torch.tensor([[0], [1]]), edge_time=torch.ones(3, dtype=torch.long), num_nodes=2)
    if case == "y":
        return Data(edge_index=torch.tensor([[0], [1]]), y=torch.tensor([1]), num_nodes=2)
    if case == "y_float":
        return Data(edge_index=torch.tensor([[0], [1]]), y=torch.tensor([0.5, 1.0]), num_nodes=2)
    if case == "nan":
        return Data(edge_index=torch.tensor([[0], [1]]), edge_weight=torch.tensor([float("nan")]), num_nodes=2)
    if case == "asym":
        return Data(edge_index=torch.tensor([[0, 1], [1, 0]]), edge_weight=torch.tensor([1.0, 2.0]), num_nodes=2)
    h = HeteroData()
    h["a"].num_nodes = 1
    h["a", "to", "b"].edge_index = torch.tensor([[0], [0]])
    return h


@pytest.mark.parametrize("case, kwargs, match", [
    ("type", {}, "expected torch_geometric.data.Data or HeteroData"),
    ("shape", {}, r"expected an integer tensor of shape \(2, num_edges\)"),
    ("float", {}, "expected an integer tensor"),
    ("weight", {}, "expected one per edge"),
    ("time", {}, r"edge_time has shape \(3,\)"),
    ("y", {}, "graph-level labels"),
    ("y_float", {}, "labels: dtype"),
    ("nan", {}, "weight is nan"),
    ("asym", {"directed": False}, "neither symmetric"),
    ("hetero_missing_type", {}, "names node type 'b'"),
])
def test_from_pyg_bad_input(case, kwargs, match):
    with pytest.raises(ValidationError, match=match):
        from_pyg(_pyg_bad(case), **kwargs)


def test_from_pyg_ids_out_of_range():
    data = pyg_data.Data(edge_index=torch.tensor([[0], [5]]), num_nodes=3)
    with pytest.raises(UnknownIdError, match=r"5 out of range \[0, 3\)"):
        from_pyg(data)


def test_to_functions_reject_non_graphs():
    for fn in (to_scipy, to_networkx, to_pyg):
        with pytest.raises(ValidationError, match="expected a vastgraph HeteroGraph"):
            fn(nx.Graph())
