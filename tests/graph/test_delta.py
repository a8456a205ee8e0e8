"""GraphDelta and apply_delta: agreement with a rebuild from scratch, id stability, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from vastgraph.errors import CorruptStoreError, ParseError, SchemaError, UnknownIdError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.delta import DeltaSummary, GraphDelta, apply_delta

ET = "user:click:item"


def _arrays(g):
    out = {}
    for et in g.edge_types:
        e = g.edge_store(et)
        for side, adj in (("csr", e.csr), ("csc", e.csc)):
            if adj is None:
                continue
            for k in ("indptr", "indices", "weight", "time"):
                a = getattr(adj, k)
                out[f"{et}.{side}.{k}"] = None if a is None else np.array(a)
    for nt in g.node_types:
        ns = g.node_store(nt)
        out[f"{nt}.ids"] = np.array(ns.ids.values())
        for k in ("features", "labels"):
            a = getattr(ns, k)
            out[f"{nt}.{k}"] = None if a is None else np.array(a)
    return out


def _same(a, b):
    assert a.keys() == b.keys()
    for k in a:
        if a[k] is None or b[k] is None:
            assert a[k] is None and b[k] is None, k
        else:
            assert a[k].dtype == b[k].dtype and np.array_equal(a[k], b[k]), k


def _hetero(rng, n_users=30, n_items=20, m=120):
    b = GraphBuilder()
    b.add_nodes("user", ids=np.arange(100, 100 + n_users))
    b.add_nodes("item", ids=np.array([f"i{k}" for k in range(n_items)]), features=rng.random((n_items, 3)))
    s = rng.integers(100, 100 + n_users, m)
    d = np.array([f"i{k}" for k in rng.integers(0, n_items, m)])
    b.add_edges(s, d, etype=ET, weight=rng.random(m) + 0.1, time=np.sort(rng.integers(0, 1000, m)))
    b.add_edges(rng.integers(100, 100 + n_users, 40), rng.integers(100, 100 + n_users, 40),
                etype="user:follows:user", directed=False)
    return b.build()


def test_matches_rebuild_from_scratch():
    rng = np.random.default_rng(0)
    g = _hetero(rng)
    src, dst = g.edge_index(ET)
    w, t = np.array(g.adjacency(ET).weight), np.array(g.adjacency(ET).time)
    # delete 10 existing pairs (all their copies), insert 30 edges incl. two new users and a new item
    pick = rng.choice(src.size, 10, replace=False)
    del_s, del_d = src[pick], dst[pick]
    new_users, new_item = np.array([500, 501]), np.array(["new"])
    ins_s = np.concatenate([rng.integers(100, 130, 28), new_users])
    ins_d = np.concatenate([np.array([f"i{k}" for k in rng.integers(0, 20, 29)]), new_item])
    ins_w = rng.random(30).astype(np.float32) + 1
    ins_t = rng.integers(1000, 2000, 30)
    ext_u, ext_i = g.external_ids("user"), g.external_ids("item")
    delta = (GraphDelta(time=1500).add_nodes("user", new_users).add_nodes("item", new_item, features=np.ones((1, 3)))
             .add_edges(ins_s, ins_d, etype=ET, weight=ins_w, time=ins_t)
             .delete_edges(ext_u[del_s], ext_i[del_d], etype=("user", "click", "item")))
    before = _arrays(g)
    g2, summary = apply_delta(g, delta)
    _same(before, _arrays(g))  # the input graph is untouched
    # reference: a builder fed the surviving old edges (in CSR order) and then the insertions
    gone = np.isin(src * 1000 + dst, del_s * 1000 + del_d)
    b = GraphBuilder()
    b.add_nodes("user", ids=np.concatenate([ext_u, new_users]))
    b.add_nodes("item", ids=np.concatenate([ext_i, new_item]), features=np.concatenate(
        [np.array(g.features("item")), np.ones((1, 3), np.float32)]))
    b.add_edges(ext_u[src[~gone]], ext_i[dst[~gone]], etype=ET, weight=w[~gone], time=t[~gone])
    b.add_edges(ins_s, ins_d, etype=ET, weight=ins_w, time=ins_t)
    fs, fd = g.edge_index("follows")
    b.add_edges(ext_u[fs], ext_u[fd], etype="user:follows:user", directed=True)
    ref = b.build()
    got, want = _arrays(g2), _arrays(ref)
    for k in want:
        if "follows" in k:  # symmetric type: same CSR (the reference stores both directions as given)
            continue
        if want[k] is None:
            assert got[k] is None, k
        else:
            assert got[k] is not None and np.array_equal(got[k], want[k]), k
    ff = g2.edge_store("follows")
    assert ff.csc is None and np.array_equal(ff.csr.indices, g.edge_store("follows").csr.indices)
    assert ff.csr.n_rows == 32 and ff.csr.indices is g.edge_store("follows").csr.indices  # reused, only rows grew
    # summary
    assert isinstance(summary, DeltaSummary) and summary.time == 1500
    assert summary.new_nodes["user"].tolist() == [30, 31] and summary.new_nodes["item"].tolist() == [20]
    e = g2.edge_type(ET)
    s_in, d_in, w_in = summary.inserted[e]
    assert np.array_equal(g2.external_ids("user", s_in), ins_s) and np.allclose(w_in, ins_w)
    assert np.array_equal(g2.external_ids("item", d_in), ins_d)
    assert len(summary.deleted[e][0]) == 10
    assert set(summary.touched) == set(summary.new_nodes) == {"user", "item"}
    want_touched = np.unique(np.concatenate([s_in, summary.deleted[e][0], [30, 31]]))
    assert np.array_equal(summary.touched["user"], want_touched)
    # existing dense ids never change
    assert np.array_equal(g2.lookup("user", ext_u), np.arange(30))
    assert np.array_equal(g2.lookup("item", ext_i), np.arange(20))
    assert g2.lookup("user", [501]).tolist() == [31] and g2.lookup("item", ["new"]).tolist() == [20]


def test_undirected_insert_and_delete_both_directions():
    b = GraphBuilder(directed=False)
    b.add_edges([0, 1, 2], [1, 2, 3])
    g = b.build()
    g2, s = apply_delta(g, GraphDelta().add_edges([3, 0], [0, 0]).delete_edges([2], [1]))
    assert sorted(g2.neighbors(0).tolist()) == [0, 1, 3]
    assert g2.neighbors(1).tolist() == [0] and g2.neighbors(2).tolist() == [3]
    assert g2.num_edges() == 2 * 3 + 1  # (0,1),(2,3),(3,0) both ways + self-loop once
    assert s.inserted[g2.edge_type()][0].tolist() == [3, 0]


def test_duplicate_policy_sum_is_kept():
    b = GraphBuilder(directed=True, duplicates="sum")
    b.add_edges([0, 0], [1, 1], weight=[1.0, 2.0])
    g = b.build()
    g2, _ = apply_delta(g, GraphDelta().add_edges([0, 1], [1, 0], weight=[4.0, 1.0]))
    assert g2.num_edges() == 2 and g2.edge_weights([0], [1]).tolist() == [7.0]
    assert g2.adjacency(reverse=True).weight.tolist() == [1.0, 7.0]


def test_weights_upgrade_and_new_int_ids_and_labels():
    b = GraphBuilder()
    b.add_nodes("node", ids=[0, 1, 2], labels=[0, 1, 1])
    b.add_edges([0, 1], [1, 2])
    g = b.build()
    d = GraphDelta().add_nodes("node", [10, 7]).add_edges([10], [7], weight=[2.5])
    g2, s = apply_delta(g, d)
    assert g2.external_ids().tolist() == [0, 1, 2, 10, 7] and g2.lookup(None, [7, 10]).tolist() == [4, 3]
    assert g2.labels().tolist() == [0, 1, 1, -1, -1]
    assert g2.edge_weights([0, 3], [1, 4]).tolist() == [1.0, 2.5]
    g3, _ = apply_delta(g2, GraphDelta().add_nodes("node", [3], labels=[2]))
    assert g3.labels().tolist()[-1] == 2 and g3.lookup(None, [3]).tolist() == [5]


def test_empty_delta_and_progress():
    b = GraphBuilder()
    b.add_edges([0], [1])
    g = b.build()
    seen = []
    g2, s = apply_delta(g, GraphDelta(), progress=lambda f, st: seen.append(f))
    assert GraphDelta().is_empty and g2.adjacency() is g.adjacency() and seen[-1] == 1.0
    assert list(s.touched) == ["node"] and s.touched["node"].size == 0 and s.new_nodes["node"].size == 0


# ------------------------------------------------------------------ bad input
@pytest.fixture
def small():
    return _hetero(np.random.default_rng(1))


def _unchanged(g, fn):
    before = _arrays(g)
    fn()
    _same(before, _arrays(g))


def test_unknown_endpoint_names_id_type_and_edge_type(small):
    d = GraphDelta(time=2000).add_edges([100, 999], ["i1", "i2"], etype=ET)
    with pytest.raises(UnknownIdError) as exc:
        _unchanged(small, lambda: apply_delta(small, d))
    msg = str(exc.value)
    assert "999" in msg and "'user'" in msg and ET in msg
    with pytest.raises(UnknownIdError, match="zzz"):
        apply_delta(small, GraphDelta(time=2000).add_edges([100], ["zzz"], etype=ET))


def test_unknown_types(small):
    with pytest.raises(SchemaError, match="unknown node type 'shop'"):
        apply_delta(small, GraphDelta().add_nodes("shop", [1]))
    with pytest.raises(SchemaError, match="unknown edge type"):
        apply_delta(small, GraphDelta().add_edges([100], [101], etype="user:likes:user"))
    with pytest.raises(SchemaError, match="name one"):
        apply_delta(small, GraphDelta().add_edges([100], [101]))


def test_duplicate_new_ids(small):
    with pytest.raises(ValidationError, match="appears 2 times"):
        apply_delta(small, GraphDelta().add_nodes("user", [7, 7]))
    with pytest.raises(ValidationError, match="appears 2 times"):
        apply_delta(small, GraphDelta().add_nodes("user", [7]).add_nodes("user", [7]))
    with pytest.raises(ValidationError, match="id 105 already exists"):
        apply_delta(small, GraphDelta().add_nodes("user", [105]))
    with pytest.raises(ValidationError, match="'i3' already exists"):
        apply_delta(small, GraphDelta().add_nodes("item", ["i3"], features=np.zeros((1, 3))))


def test_time_policy(small):
    latest = int(np.max(small.adjacency(ET).time))
    d = GraphDelta().add_edges([100], ["i1"], etype=ET, time=[latest - 5])
    with pytest.raises(ValidationError, match=f"earlier than the latest time {latest}"):
        _unchanged(small, lambda: apply_delta(small, d))
    g2, _ = apply_delta(small, d, time_policy="allow")
    assert g2.num_edges(ET) == small.num_edges(ET) + 1
    with pytest.raises(ValidationError, match="time_policy='sometimes'"):
        apply_delta(small, d, time_policy="sometimes")
    with pytest.raises(ValidationError, match="timestamped"):
        apply_delta(small, GraphDelta().add_edges([100], ["i1"], etype=ET))
    with pytest.raises(ValidationError, match="stores no times"):
        apply_delta(small, GraphDelta().add_edges([100], [101], etype="follows", time=[5]))
    g3, _ = apply_delta(small, GraphDelta(time=latest).add_edges([100], ["i1"], etype=ET))
    assert int(np.max(g3.adjacency(ET).time)) == latest


@pytest.mark.parametrize("w", [[np.nan], [np.inf], [-1.0]])
def test_bad_weights(w):
    with pytest.raises(ValidationError, match="finite weight >= 0"):
        GraphDelta().add_edges([1], [2], weight=w)


def test_bad_shapes_and_dtypes(small):
    with pytest.raises(ValidationError, match="src has 2 ids but dst has 1"):
        GraphDelta().add_edges([1, 2], [3])
    with pytest.raises(ValidationError, match="src has 1 ids but dst has 2"):
        GraphDelta().delete_edges([1], [3, 4])
    with pytest.raises(ValidationError, match=r"expected \(2,\)"):
        GraphDelta().add_edges([1, 2], [3, 4], weight=[1.0])
    with pytest.raises(ValidationError, match="expected int or str"):
        GraphDelta().add_edges([1.5], [2.0])
    with pytest.raises(ValidationError, match="integer seconds"):
        GraphDelta().add_edges([1], [2], time=[1.5])
    with pytest.raises(ValidationError, match="NaN"):
        GraphDelta().add_nodes("item", ["x"], features=[[np.nan, 0, 0]])
    with pytest.raises(ValidationError, match=r"shape \(1, d\)"):
        GraphDelta().add_nodes("item", ["x"], features=[1.0, 2.0])
    with pytest.raises(ValidationError, match=r"new rows have shape \(2,\) per node, the graph has \(3,\)"):
        apply_delta(small, GraphDelta().add_nodes("item", ["x"], features=np.zeros((1, 2))))
    with pytest.raises(ValidationError, match="give features"):
        apply_delta(small, GraphDelta().add_nodes("item", ["x"]))
    with pytest.raises(ValidationError, match="has no features"):
        apply_delta(small, GraphDelta().add_nodes("user", [1], features=np.zeros((1, 2))))
    with pytest.raises(ValidationError, match="has integer ids"):
        apply_delta(small, GraphDelta().add_nodes("user", ["abc"]))
    with pytest.raises(ValidationError, match="time=1.5"):
        GraphDelta(time=1.5)
    with pytest.raises(ValidationError, match="expected a GraphDelta"):
        apply_delta(small, "delta")


def test_delete_missing_edge(small):
    d = GraphDelta().delete_edges([100], ["i19"], etype=ET)
    if small.has_edges([0], [19], ET)[0]:
        d = GraphDelta().delete_edges([100, 101], ["i19", "i18"], etype=ET)
    with pytest.raises(ValidationError, match=r"edge \(100, 'i1[89]'\) of user:click:item does not exist"):
        _unchanged(small, lambda: apply_delta(small, d))
    g2, s = apply_delta(small, d, missing="ignore")
    assert g2.num_edges(ET) <= small.num_edges(ET)
    with pytest.raises(ValidationError, match="missing='never'"):
        apply_delta(small, d, missing="never")


# ------------------------------------------------------------------ files
def test_save_load_roundtrip_and_corruption(tmp_path, small):
    d = (GraphDelta(time=3000).add_nodes("item", ["n1", "n2"], features=np.ones((2, 3)))
         .add_edges([100, 101], ["n1", "n2"], etype=ET, weight=[0.5, 2.0], time=[3000, 3001])
         .delete_edges([100], ["i1"], etype=ET))
    p = tmp_path / "d.vgd"
    d.save(p)
    d2 = GraphDelta.load(p)
    assert (d2.time, d2.num_new_nodes, d2.num_insertions, d2.num_deletions) == (3000, 2, 2, 1)
    a, _ = apply_delta(small, d, missing="ignore")
    b, _ = apply_delta(small, d2, missing="ignore")
    _same(_arrays(a), _arrays(b))
    raw = p.read_bytes()
    bad = bytearray(raw)
    bad[len(raw) // 2] ^= 0xFF
    (tmp_path / "flip.vgd").write_bytes(bytes(bad))
    with pytest.raises(CorruptStoreError, match="flip.vgd.*checksum"):
        GraphDelta.load(tmp_path / "flip.vgd")
    (tmp_path / "cut.vgd").write_bytes(raw[: len(raw) - 40])
    with pytest.raises(CorruptStoreError, match="cut.vgd"):
        GraphDelta.load(tmp_path / "cut.vgd")
    (tmp_path / "text.vgd").write_text("1 2\n")
    with pytest.raises(ParseError, match="text.vgd.*not a vastgraph delta"):
        GraphDelta.load(tmp_path / "text.vgd")


def test_from_edgelist(tmp_path, small):
    p = tmp_path / "ins.tsv"
    p.write_text("# src dst w t\n100\ti1\t2.0\t5000\n101\ti2\t1.0\t5001\n")
    d = GraphDelta.from_edgelist(p, etype=ET)
    g2, s = apply_delta(small, d)
    assert s.inserted[g2.edge_type(ET)][2].tolist() == [2.0, 1.0]
    q = tmp_path / "del.txt"
    q.write_text("100 i1\n")
    dd = GraphDelta.from_edgelist(q, etype=ET, deletions=True)
    assert dd.num_deletions == 1
    bad = tmp_path / "bad.txt"
    bad.write_text("100 i1 1.0 5\n101 i2 x 6\n")
    with pytest.raises(ParseError, match="bad.txt, line 2, field 'weight'"):
        GraphDelta.from_edgelist(bad, etype=ET)


def test_declare_new_endpoints(small):
    from vastgraph.graph.delta import declare_new_endpoints

    d = GraphDelta(time=5000).add_nodes("user", [900]).add_edges([900, 901, 901, 100], ["i1", "i2", "i3", "i4"],
                                                                 etype=ET)
    declare_new_endpoints(small, d)
    assert [b["ids"].tolist() for b in d.nodes] == [[900], [901]]
    g2, s = apply_delta(small, d)
    assert g2.lookup("user", [900, 901]).tolist() == [30, 31] and s.new_nodes["user"].tolist() == [30, 31]
    d2 = GraphDelta(time=5000).add_edges([100], ["zz"], etype=ET)
    with pytest.raises(ValidationError, match="give features"):
        apply_delta(small, declare_new_endpoints(small, d2))


@pytest.mark.parametrize("make, match", [
    (lambda: GraphDelta().add_edges([[1, 2]], [[3, 4]]), "expected a 1-D array"),
    (lambda: GraphDelta().add_edges(np.array([1, "a"], dtype=object), [3, 4]), "neither int nor str"),
    (lambda: GraphDelta().add_edges([1], [2], weight=["x"]), "expected numbers"),
    (lambda: GraphDelta().add_edges([1], [2], time=[1, 2]), r"expected \(1,\)"),
    (lambda: GraphDelta().add_edges([1], [2], time=["x"]), "integer seconds"),
    (lambda: GraphDelta().add_edges([1], [2], etype=5), "etype=5"),
    (lambda: GraphDelta().add_nodes("", [1]), "ntype=''"),
    (lambda: GraphDelta().add_nodes("user", [1, 2], labels=[0]), r"labels: int64\(1,\)"),
])
def test_bad_batches(make, match):
    with pytest.raises(ValidationError, match=match):
        make()


def test_bad_label_and_etype_spellings(small):
    with pytest.raises(ValidationError, match="has no labels"):
        apply_delta(small, GraphDelta().add_nodes("user", [1], labels=[0]))
    b = GraphBuilder()
    b.add_nodes("node", ids=[0, 1], labels=[0, 1])
    b.add_edges([0], [1])
    g = b.build()
    with pytest.raises(ValidationError, match="labels: 2-D, the graph's are 1-D"):
        apply_delta(g, GraphDelta().add_nodes("node", [5], labels=[[0, 1]]))
    with pytest.raises(ValidationError, match="three non-empty parts"):
        apply_delta(g, GraphDelta().add_edges([0], [1], etype="node:edge"))
    with pytest.raises(ValidationError, match="progress=3"):
        apply_delta(g, GraphDelta(), progress=3)


def test_malformed_delta_headers():
    from vastgraph.errors import FormatVersionError
    from vastgraph.graph.delta import DELTA_MAGIC
    from vastgraph.graph.delta_log import pack

    with pytest.raises(CorruptStoreError, match="blob: delta header lacks 'nodes'"):
        GraphDelta.from_bytes(pack(DELTA_MAGIC, {"format": "vastgraph-delta", "version": 1}, {}), source="blob")
    with pytest.raises(FormatVersionError, match="version 2"):
        GraphDelta.from_bytes(pack(DELTA_MAGIC, {"format": "vastgraph-delta", "version": 2}, {}))


def test_undirected_random_matches_rebuild():
    rng = np.random.default_rng(3)
    n, m = 40, 150
    s, d = rng.integers(0, n, m), rng.integers(0, n, m)
    w, t = rng.random(m).astype(np.float32) + 0.1, np.sort(rng.integers(0, 100, m))
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes("node", count=n)
    b.add_edges(s, d, weight=w, time=t)
    g = b.build()
    gone = rng.choice(m, 20, replace=False)
    ins_s, ins_d = rng.integers(0, n + 2, 30), rng.integers(0, n + 2, 30)
    ins_w, ins_t = rng.random(30).astype(np.float32) + 1, rng.integers(100, 200, 30)
    delta = (GraphDelta().add_nodes("node", [n, n + 1]).add_edges(ins_s, ins_d, weight=ins_w, time=ins_t)
             .delete_edges(s[gone], d[gone]))
    g2, summary = apply_delta(g, delta)
    pairs = set(zip(s[gone].tolist(), d[gone].tolist())) | set(zip(d[gone].tolist(), s[gone].tolist()))
    keep = np.array([(a, c) not in pairs for a, c in zip(s.tolist(), d.tolist())])
    ref = GraphBuilder(directed=False, id_mode="dense")
    ref.add_nodes("node", count=n + 2)
    ref.add_edges(np.concatenate([s[keep], ins_s]), np.concatenate([d[keep], ins_d]),
                  weight=np.concatenate([w[keep], ins_w]), time=np.concatenate([t[keep], ins_t]))
    r = ref.build()

    def rows(g):
        a = g.adjacency()
        src = np.repeat(np.arange(a.n_rows), a.degree())
        return sorted(zip(src.tolist(), a.indices.tolist(), a.weight.tolist(), a.time.tolist()))

    assert rows(g2) == rows(r) and g2.edge_store().csc is None
    assert np.array_equal(g2.adjacency().indptr, r.adjacency().indptr)
    assert len(summary.deleted[g2.edge_type()][0]) == 20
