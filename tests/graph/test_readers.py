"""Round trips of the text edge-list reader, build policies, streaming and atomic output."""

from __future__ import annotations

import os

import numpy as np
import pytest

from vastgraph.errors import ParseError, StoreExistsError
from vastgraph.graph import GraphBuilder, HeteroGraph
from vastgraph.graph.readers import add_edgelist, read_edgelist
from helpers import edge_tuples as edges


def write(tmp_path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_bytes(text.encode())
    return str(p)




def test_whitespace_with_comments_blank_lines_tabs_and_inline_comments(tmp_path):
    p = write(tmp_path, "e.txt", "# a comment\n\n1 2\n  2\t3  \n# mid comment\n3    1 # inline\n\n")
    g = read_edgelist(p)
    assert edges(g) == [(1, 2), (2, 3), (3, 1)]
    assert g.adjacency().weight is None and g.adjacency().time is None
    assert g.info["sources"][0]["rows"] == 3


def test_csv_with_header_names_weights_and_time(tmp_path):
    p = write(tmp_path, "e.csv", "time,u,v,w\n100,a,b,0.5\n200,b,c,1.5\n300,c,a,2\n")
    g = read_edgelist(p, delimiter=",", header=True, columns={"src": "u", "dst": "v", "weight": "w", "time": "time"})
    assert edges(g) == [("a", "b", 0.5, 100), ("b", "c", 1.5, 200), ("c", "a", 2.0, 300)]


def test_tsv_positional_weight_and_time_by_convention(tmp_path):
    p = write(tmp_path, "e.tsv", "1\t2\t0.25\t10\n2\t3\t4e-1\t-5\n")
    g = read_edgelist(p, delimiter="\t")
    assert edges(g) == [(1, 2, 0.25, 10), (2, 3, np.float32(0.4).item(), -5)]
    g2 = read_edgelist(p, delimiter="\t", weighted=False, timestamped=False)
    assert edges(g2) == [(1, 2), (2, 3)]


def test_csv_numbers_may_have_spaces_around_them(tmp_path):
    p = write(tmp_path, "e.csv", "1, 2, 0.5\n2 ,3 ,1\n")
    assert edges(read_edgelist(p, delimiter=",")) == [(1, 2, 0.5), (2, 3, 1.0)]


def test_crlf_line_endings(tmp_path):
    p = write(tmp_path, "e.txt", "1 2 1.5\r\n2 3 2.5\r\n")
    assert edges(read_edgelist(p)) == [(1, 2, 1.5), (2, 3, 2.5)]


def test_undirected_stores_both_directions(tmp_path):
    p = write(tmp_path, "e.txt", "0 1\n1 2\n")
    g = read_edgelist(p, directed=False, id_mode="dense")
    assert g.num_edges() == 4 and g.is_undirected()
    assert sorted(g.neighbors(1).tolist()) == [0, 2]


def test_string_ids_and_forced_string_dtype(tmp_path):
    p = write(tmp_path, "e.txt", "alice bob\nbob carol\n")
    g = read_edgelist(p)
    assert edges(g) == [("alice", "bob"), ("bob", "carol")]
    p2 = write(tmp_path, "n.txt", "10 20\n20 30\n")
    g2 = read_edgelist(p2, id_dtype="str")
    assert g2.external_ids().tolist() == ["10", "20", "30"]
    assert read_edgelist(p2).external_ids().tolist() == [10, 20, 30]


def test_typed_edge_list_numeric_relations(tmp_path):
    # GATNE multiplex layout: "<type> <u> <v>"
    p = write(tmp_path, "m.txt", "1 10 20\n2 10 30\n1 20 30\n2 30 10\n1 30 10\n")
    g = read_edgelist(p, columns={"rel": 0, "src": 1, "dst": 2})
    assert [str(e) for e in g.edge_types] == ["node:1:node", "node:2:node"]
    assert edges(g, "1") == [(10, 20), (20, 30), (30, 10)]
    assert edges(g, "2") == [(10, 30), (30, 10)]
    assert g.num_nodes() == 3  # one node type shared by all relations


def test_typed_edge_list_named_relations_and_node_types(tmp_path):
    p = write(tmp_path, "m.txt", "click u1 i1 2.0\nbuy u1 i2 1.0\nclick u2 i1 3.0\n")
    g = read_edgelist(p, columns={"rel": 0, "src": 1, "dst": 2, "weight": 3}, src_type="user", dst_type="item")
    assert sorted(str(e) for e in g.edge_types) == ["user:buy:item", "user:click:item"]
    assert edges(g, "click") == [("u1", "i1", 2.0), ("u2", "i1", 3.0)]
    assert g.num_nodes("user") == 2 and g.num_nodes("item") == 2


def test_single_edge_type_spellings(tmp_path):
    p = write(tmp_path, "e.txt", "1 2\n")
    assert read_edgelist(p, etype="user:rates:item").edge_types[0] == ("user", "rates", "item")
    assert read_edgelist(p, etype=("a", "r", "b")).edge_types[0] == ("a", "r", "b")
    assert read_edgelist(p, etype="follows", src_type="user").edge_types[0] == ("user", "follows", "user")


@pytest.mark.parametrize("policy,expected,merged", [
    ("keep", [(1, 2, 1.0, 5), (1, 2, 2.0, 7), (2, 3, 4.0, 1)], 0),
    ("sum", [(1, 2, 3.0, 7), (2, 3, 4.0, 1)], 1),
    ("first", [(1, 2, 1.0, 5), (2, 3, 4.0, 1)], 1),
])
def test_duplicate_policies_are_applied_and_recorded(tmp_path, policy, expected, merged):
    p = write(tmp_path, "e.txt", "1 2 1.0 5\n3 3 9.0 0\n1 2 2.0 7\n2 3 4.0 1\n")
    g = read_edgelist(p, duplicates=policy, self_loops="drop")
    assert edges(g) == expected
    stats = g.info["build"]["edge_types"]["node:edge:node"]
    assert g.info["build"]["duplicates"] == policy
    assert stats["merged_duplicates"] == merged
    assert stats["dropped_self_loops"] == 1


def _big_numeric(tmp_path, n=5000, seed=0) -> str:
    rng = np.random.default_rng(seed)
    s, d = rng.integers(0, 300, n), rng.integers(0, 300, n)
    w = rng.random(n).round(4)
    lines = [f"{a} {b} {c}" for a, b, c in zip(s, d, w)]
    lines.insert(0, "# header comment")
    lines.insert(2500, "# a comment in the middle")
    lines.insert(4000, "")
    return write(tmp_path, "big.txt", "\n".join(lines) + "\n")


@pytest.mark.parametrize("id_dtype", ["auto", "str"])  # numba tier and pandas tier
def test_small_chunks_give_the_same_graph_as_one_chunk(tmp_path, id_dtype):
    p = _big_numeric(tmp_path)
    one = read_edgelist(p, chunk_rows=10_000_000, id_dtype=id_dtype)
    seen = []
    many = read_edgelist(p, chunk_rows=97, id_dtype=id_dtype, progress=seen.append)
    assert edges(one) == edges(many)
    # dense ids follow first appearance per chunk (src before dst), so compare the node sets
    assert sorted(one.external_ids().tolist()) == sorted(many.external_ids().tolist())
    assert len(seen) > 10 and seen == sorted(seen) and seen[-1] == 5000


def test_numba_tier_hands_over_to_pandas_mid_file(tmp_path):
    # canonical integer relations for the first 1500 rows, then "01" (a distinct string relation)
    rows = [f"{1 + i % 2} {i} {i + 1}" for i in range(1500)] + ["01 7 8", "1 9 10"]
    p = write(tmp_path, "m.txt", "\n".join(rows) + "\n")
    g = read_edgelist(p, columns={"rel": 0, "src": 1, "dst": 2}, chunk_rows=200)
    assert g.info["sources"][0]["parser"] == "numba+pandas"
    assert sorted(str(e.rel) for e in g.edge_types) == ["01", "1", "2"]
    assert edges(g, "01") == [(7, 8)]
    assert g.num_edges("1") == 751


def test_float_weights_match_python_parsing(tmp_path):
    rng = np.random.default_rng(1)
    vals = np.concatenate([rng.random(300), rng.random(300) * 1e6, 10.0 ** rng.uniform(-30, 30, 300)])
    texts = [repr(float(v)) for v in vals] + ["1e3", "-2.5E-3", ".5", "7.", "+3"]
    p = write(tmp_path, "w.txt", "".join(f"{i} {i + 1} {t}\n" for i, t in enumerate(texts)))
    g = read_edgelist(p, id_mode="dense")
    got = np.asarray(g.adjacency().weight)
    want = np.array([float(t) for t in texts], dtype=np.float32)
    np.testing.assert_array_equal(got, want)  # row i holds exactly one edge i -> i+1


def test_add_edgelist_makes_one_graph_from_several_files(tmp_path):
    a = write(tmp_path, "a.txt", "x y\ny z\n")
    b = write(tmp_path, "b.csv", "src,dst\nz,w\n")
    builder = GraphBuilder()
    assert add_edgelist(builder, a) == 2
    assert add_edgelist(builder, b, delimiter=",", header=True, columns={"src": "src", "dst": "dst"}) == 1
    g = builder.build()
    assert edges(g) == [("x", "y"), ("y", "z"), ("z", "w")]
    assert [s["rows"] for s in g.info["sources"]] == [2, 1]


def test_out_writes_a_store_that_reopens(tmp_path):
    p = write(tmp_path, "e.txt", "1 2 0.5\n2 3 1.5\n")
    out = tmp_path / "store"
    g = read_edgelist(p, out=out)
    assert g.path == str(out.absolute())
    g2 = HeteroGraph.open(str(out))
    assert edges(g2) == [(1, 2, 0.5), (2, 3, 1.5)]


def test_failed_parse_leaves_no_store_and_no_staging(tmp_path):
    p = write(tmp_path, "bad.txt", "1 2\n" * 300 + "1 x y\n")
    out = tmp_path / "store"
    with pytest.raises(ParseError):
        read_edgelist(p, out=out, chunk_rows=50)
    assert not out.exists()
    assert [f for f in os.listdir(tmp_path) if f != "bad.txt"] == []


def test_failed_parse_keeps_an_existing_store_intact(tmp_path):
    good = write(tmp_path, "good.txt", "1 2\n2 3\n")
    out = tmp_path / "store"
    read_edgelist(good, out=out)
    before = {f: (out / f).read_bytes() for f in os.listdir(out)}
    bad = write(tmp_path, "bad.txt", "1 2 0.5\n3 4 nan\n")
    with pytest.raises(ParseError, match="line 2"):
        read_edgelist(bad, out=out, overwrite=True)
    assert {f: (out / f).read_bytes() for f in os.listdir(out)} == before
    assert edges(HeteroGraph.open(str(out))) == [(1, 2), (2, 3)]
    assert sorted(os.listdir(tmp_path)) == ["bad.txt", "good.txt", "store"]


def test_existing_out_without_overwrite_is_refused_before_parsing(tmp_path):
    p = write(tmp_path, "e.txt", "1 2\n")
    out = tmp_path / "store"
    read_edgelist(p, out=out)
    with pytest.raises(StoreExistsError):
        read_edgelist(tmp_path / "missing.txt", out=out)  # refused before the file is even looked at
    other = tmp_path / "notastore"
    other.mkdir()
    with pytest.raises(StoreExistsError, match="not a vastgraph store"):
        read_edgelist(p, out=other, overwrite=True)


def test_spill_to_disk_gives_the_same_graph(tmp_path):
    p = _big_numeric(tmp_path)
    spill = tmp_path / "spill"
    spill.mkdir()
    small = read_edgelist(p, chunk_rows=300, memory_limit=4096, spill_dir=str(spill))
    assert edges(small) == edges(read_edgelist(p))
    assert os.listdir(spill) == []


@pytest.mark.datasets
def test_real_gatne_amazon_multiplex_file(shared_datasets):
    path = shared_datasets / "amazon" / "train.txt"
    g = read_edgelist(path, columns={"rel": 0, "src": 1, "dst": 2}, directed=False)
    raw = np.loadtxt(path, dtype=np.int64)
    assert g.info["sources"][0]["rows"] == raw.shape[0] == 126535
    assert sorted(e.rel for e in g.edge_types) == ["1", "2"]
    assert g.num_nodes() == np.unique(raw[:, 1:]).size == 10099
    for r in (1, 2):  # symmetric CSR: each edge twice, a self-loop once
        rows = raw[raw[:, 0] == r]
        assert g.num_edges(str(r)) == 2 * rows.shape[0] - int((rows[:, 1] == rows[:, 2]).sum())
        u, v = rows[0, 1], rows[0, 2]
        assert g.has_edges(g.lookup(None, [v]), g.lookup(None, [u]), str(r)).all()


@pytest.mark.datasets
def test_real_bitcoin_alpha_signed_temporal_csv(shared_datasets):
    g = read_edgelist(shared_datasets / "bitcoin-alpha" / "soc-sign-bitcoinalpha.csv", delimiter=",",
                      timestamped=True)
    assert g.num_nodes() == 3783 and g.num_edges() == 24186
    w, t = np.asarray(g.adjacency().weight), np.asarray(g.adjacency().time)
    assert set(np.unique(w).astype(int)) <= set(range(-10, 11)) - {0}
    assert (int(t.min()), int(t.max())) == (1289192400, 1453438800)


def test_multi_block_chunks_with_gaps_match_the_pandas_tier(tmp_path):
    # ~350 KB in one chunk: the numba tier cuts it into several blocks parsed on a thread pool;
    # comment and blank lines leave gaps between the blocks' rows that must be closed
    rng = np.random.default_rng(3)
    lines = [f"{a} {b} {w}" for a, b, w in zip(rng.integers(0, 5000, 30_000), rng.integers(0, 5000, 30_000),
                                               rng.random(30_000).round(3))]
    for k in range(100, 30_000, 3000):
        lines.insert(k, "# comment" if k % 2 else "")
    p = write(tmp_path, "big.txt", "\n".join(lines) + "\n")
    fast = read_edgelist(p)
    assert fast.info["sources"][0]["parser"] == "numba"
    slow = read_edgelist(p, id_dtype="str")
    assert slow.info["sources"][0]["parser"] == "pandas"
    assert edges(fast) == sorted((int(a), int(b), w) for a, b, w in edges(slow))
    lines[25_000] = "1 2 bad"
    p2 = write(tmp_path, "bad.txt", "\n".join(lines) + "\n")
    with pytest.raises(ParseError) as info:
        read_edgelist(p2)
    assert (info.value.line, info.value.field) == (25_001, "weight")


def test_multi_character_delimiter_and_quoted_csv_fields(tmp_path):
    p = write(tmp_path, "e.dat", "1::2::5\n2::3::4\n")
    assert edges(read_edgelist(p, delimiter="::")) == [(1, 2, 5.0), (2, 3, 4.0)]
    q = write(tmp_path, "q.csv", '"a,1",b\nc,"d"\n')
    assert edges(read_edgelist(q, delimiter=",")) == [("a,1", "b"), ("c", "d")]


def test_utf8_byte_order_mark_is_skipped(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbf1 2\n2 3\n")
    assert edges(read_edgelist(p, id_mode="dense")) == [(1, 2), (2, 3)]
    q = tmp_path / "bom.csv"
    q.write_bytes(b"\xef\xbb\xbfu,v\na,b\n")
    assert edges(read_edgelist(q, delimiter=",", header=True, columns={"src": "u", "dst": "v"})) == [("a", "b")]
