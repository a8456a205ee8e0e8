"""The on-disk store: round trips, meta.json, version checks, corruption, atomic writes."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from vastgraph.errors import (CorruptStoreError, FormatVersionError, SchemaError, StoreError,
                              StoreExistsError, ValidationError)
from vastgraph.graph import GraphBuilder, HeteroGraph, open_graph, save_graph, verify_store
from vastgraph.graph import storage
from vastgraph.graph.storage import FORMAT_NAME, FORMAT_VERSION, StoreWriter, file_checksum


def _graph(seed: int = 0) -> HeteroGraph:
    """Heterogeneous: str/int/range ids, features, single- and multi-label, data, weights, times."""
    rng = np.random.default_rng(seed)
    b = GraphBuilder(directed=False, duplicates="sum")
    users = np.array([f"u{i}" for i in range(30)])
    b.add_nodes("user", ids=users, features=rng.normal(size=(30, 4)), labels=rng.integers(-1, 3, 30),
                data={"train": rng.random(30) < 0.5})
    b.add_nodes("item", ids=np.arange(100, 120), labels=(rng.random((20, 3)) < 0.5).astype(int))
    b.add_edges(users[rng.integers(0, 30, 200)], 100 + rng.integers(0, 20, 200), etype=("user", "click", "item"),
                weight=rng.random(200) + 0.5, time=rng.integers(0, 10**9, 200))
    b.add_edges(users[rng.integers(0, 30, 80)], users[rng.integers(0, 30, 80)], etype=("user", "knows", "user"))
    return b.build()


def _arrays(g: HeteroGraph) -> dict[str, np.ndarray]:
    meta, arrays = storage.graph_meta(g)
    return {k: np.asarray(v) for k, v in arrays.items()}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    g = _graph()
    return g, g.save(str(tmp_path_factory.mktemp("saved") / "g"))


@pytest.fixture(scope="module")
def other():
    return _graph(seed=1)


@pytest.fixture
def store(saved, tmp_path):
    """A fresh copy of the saved store for each test (tests corrupt it)."""
    g, path = saved
    return g, shutil.copytree(path, str(tmp_path / "g"))


def test_save_open_round_trip_memory_maps_everything(store):
    g, path = store
    h = HeteroGraph.open(path)
    assert h.path == path and h.node_types == g.node_types and h.edge_types == g.edge_types
    a, b = _arrays(g), _arrays(h)
    assert a.keys() == b.keys()
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    for et in h.edge_types:
        for reverse in (False, True):
            adj = h.adjacency(et, reverse=reverse)
            assert isinstance(adj.indices, np.memmap) and isinstance(adj.indptr, np.memmap)
    assert isinstance(h.features("user"), np.memmap)
    assert h.is_undirected("click") and h.edge_store("knows").symmetric
    assert h.lookup("user", ["u7"]).tolist() == g.lookup("user", ["u7"]).tolist()
    assert h.info == g.info
    np.testing.assert_array_equal(h.node_data("user", "train"), g.node_data("user", "train"))
    assert h.is_multilabel("item") and h.num_classes("item") == 3


def test_open_without_mmap_loads_plain_arrays(store):
    _, path = store
    h = open_graph(path, mmap=False)
    assert not isinstance(h.adjacency("click").indices, np.memmap)
    assert h.adjacency("click").indices.flags.writeable


def test_first_open_checks_checksums_then_marker_skips_rehashing(store, monkeypatch):
    """A store copied from elsewhere is hashed on its first open (a flipped byte is found); once
    checked, later opens of the unchanged files hash nothing (the marker records the check)."""
    _, path = store
    open_graph(path)  # the copy has new inodes: checked in full, marker written
    assert os.path.isfile(os.path.join(path, ".verified.json"))
    storage_validate = __import__("vastgraph.graph.validate", fromlist=["_SEEN"])
    storage_validate._SEEN.clear()

    def no_hashing(*args, **kwargs):
        raise AssertionError("open hashed a file")

    monkeypatch.setattr(storage, "file_checksum", no_hashing)
    h = open_graph(path)
    assert isinstance(h.adjacency("click").indices, np.memmap)
    monkeypatch.undo()
    name = "edge0.csr.indices.npy"
    _flip_last_byte(os.path.join(path, name))
    with pytest.raises(CorruptStoreError, match=f"{name}: checksum mismatch"):
        open_graph(path)


def test_marker_cannot_vouch_for_a_changed_file_even_with_its_mtime_restored(store):
    _, path = store
    open_graph(path)
    p = os.path.join(path, "edge0.csr.indices.npy")
    st = os.stat(p)
    _flip_last_byte(p)
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(CorruptStoreError, match="checksum mismatch"):
        open_graph(path)


def test_meta_json_contents(store):
    g, path = store
    meta = json.loads(open(os.path.join(path, "meta.json")).read())
    assert meta["format"] == FORMAT_NAME and meta["version"] == FORMAT_VERSION
    assert [(n["name"], n["count"], n["id_kind"]) for n in meta["node_types"]] == [
        ("user", 30, "str"), ("item", 20, "int")]
    edges = {(e["src"], e["rel"], e["dst"]): e for e in meta["edge_types"]}
    assert edges[("user", "click", "item")]["entries"] == g.num_edges("click")
    assert edges[("user", "knows", "user")]["symmetric"] and edges[("user", "knows", "user")]["undirected"]
    assert meta["info"]["build"]["duplicates"] == "sum"
    files = set(os.listdir(path)) - {"meta.json", ".verified.json"}
    assert set(meta["arrays"]) == files
    for name, spec in meta["arrays"].items():
        arr = np.load(os.path.join(path, name))
        assert spec["dtype"] == arr.dtype.str and spec["shape"] == list(arr.shape)
        assert spec["bytes"] == os.path.getsize(os.path.join(path, name))
        assert spec["blake2b"] == file_checksum(os.path.join(path, name))
    assert meta["arrays"]["edge0.csr.indices.npy"]["dtype"] == "<i4"
    assert meta["arrays"]["edge0.csr.weight.npy"]["dtype"] == "<f4"
    assert meta["arrays"]["edge0.csr.time.npy"]["dtype"] == "<i8"


def _edit_meta(path: str, **changes) -> None:
    p = os.path.join(path, "meta.json")
    meta = json.loads(open(p).read())
    meta.update(changes)
    with open(p, "w") as f:
        json.dump(meta, f)


@pytest.mark.parametrize("version", [FORMAT_VERSION + 1, 999])
def test_newer_version_is_refused_naming_it(store, version):
    _, path = store
    _edit_meta(path, version=version)
    with pytest.raises(FormatVersionError, match=f"version {version} is not supported.*upgrade"):
        open_graph(path)


@pytest.mark.parametrize("version", [0, "1", None, 1.5])
def test_unknown_version_is_refused_naming_it(store, version):
    _, path = store
    _edit_meta(path, version=version)
    with pytest.raises(FormatVersionError, match=f"version {version!r}"):
        open_graph(path)


def test_other_format_and_bad_json_are_refused(store):
    _, path = store
    _edit_meta(path, format="other-store")
    with pytest.raises(FormatVersionError, match="'other-store'"):
        open_graph(path)
    with open(os.path.join(path, "meta.json"), "w") as f:
        f.write("{not json")
    with pytest.raises(CorruptStoreError, match="not valid JSON"):
        open_graph(path)


def _flip_last_byte(path: str) -> None:
    with open(path, "r+b") as f:
        f.seek(-1, os.SEEK_END)
        b = f.read(1)
        f.seek(-1, os.SEEK_END)
        f.write(bytes([b[0] ^ 0xFF]))


def test_flipped_data_byte_is_caught_by_verify(store):
    _, path = store
    name = "edge0.csr.weight.npy"
    _flip_last_byte(os.path.join(path, name))
    for verify in (False, True):  # sizes and headers still match; the first-open check hashes
        with pytest.raises(CorruptStoreError, match=f"{name}: checksum mismatch"):
            open_graph(path, verify=verify)
    with pytest.raises(CorruptStoreError, match=name):
        verify_store(path)


def test_verify_store_ok(store):
    _, path = store
    report = verify_store(path)
    assert set(report) == set(json.loads(open(os.path.join(path, "meta.json")).read())["arrays"])
    assert set(report.values()) == {"ok"}


def test_truncated_file_is_refused(store):
    _, path = store
    name = "edge0.csc.indices.npy"
    p = os.path.join(path, name)
    with open(p, "r+b") as f:
        f.truncate(os.path.getsize(p) - 4)
    with pytest.raises(CorruptStoreError, match=f"{name}: size"):
        open_graph(path)


def test_garbage_header_is_refused(store):
    _, path = store
    name = "node0.features.npy"
    p = os.path.join(path, name)
    with open(p, "r+b") as f:
        f.write(b"GARBAGE!" * 4)
    with pytest.raises(CorruptStoreError, match=f"{name}: unreadable"):
        open_graph(path)


def test_rewritten_array_with_other_dtype_is_refused(store):
    _, path = store
    name = "edge0.csr.indices.npy"
    p = os.path.join(path, name)
    arr = np.load(p)
    np.save(p, arr.astype(np.float32))  # same size, different dtype
    with pytest.raises(CorruptStoreError, match=f"{name}: holds <f4"):
        open_graph(path)


def test_missing_or_unlisted_array_is_refused(store):
    _, path = store
    os.remove(os.path.join(path, "node1.labels.npy"))
    with pytest.raises(CorruptStoreError, match="node1.labels.npy: array file is missing"):
        open_graph(path)
    meta = json.loads(open(os.path.join(path, "meta.json")).read())
    del meta["arrays"]["node1.labels.npy"]
    _edit_meta(path, arrays=meta["arrays"])
    with pytest.raises(CorruptStoreError, match="node1.labels.npy is not listed"):
        open_graph(path)


@pytest.mark.parametrize("key, value", [("arrays", None), ("node_types", {}), ("edge_types", "x"),
                                        ("arrays", {"edge0.csr.indices.npy": {"dtype": "<i4"}})])
def test_malformed_meta_is_refused(store, key, value):
    _, path = store
    _edit_meta(path, **{key: value})
    with pytest.raises(CorruptStoreError, match="meta.json"):
        open_graph(path)


def test_edge_count_mismatch_is_refused(store):
    _, path = store
    meta = json.loads(open(os.path.join(path, "meta.json")).read())
    meta["edge_types"][0]["entries"] += 1
    _edit_meta(path, edge_types=meta["edge_types"])
    with pytest.raises(CorruptStoreError, match="entries"):
        open_graph(path)


def test_open_missing_path_and_non_store(tmp_path):
    with pytest.raises(StoreError, match="no such store"):
        open_graph(str(tmp_path / "nope"))
    (tmp_path / "plain").mkdir()
    with pytest.raises(StoreError, match="not a vastgraph store"):
        open_graph(str(tmp_path / "plain"))


def _dir_listing(path) -> list[str]:
    return sorted(os.listdir(path))


def test_save_refuses_existing_store_and_keeps_it(store, other, tmp_path):
    g, path = store
    before = {n: open(os.path.join(path, n), "rb").read() for n in os.listdir(path)}
    with pytest.raises(StoreExistsError, match="overwrite"):
        other.save(path)
    assert {n: open(os.path.join(path, n), "rb").read() for n in os.listdir(path)} == before
    assert _dir_listing(tmp_path) == ["g"]


def test_overwrite_replaces_and_leaves_no_staging(store, other, tmp_path):
    g, path = store
    old = HeteroGraph.open(path)  # memory-mapped from the folder being replaced
    assert save_graph(other, path, overwrite=True) == path
    assert _dir_listing(tmp_path) == ["g"]
    h = HeteroGraph.open(path, verify=True)
    np.testing.assert_array_equal(h.adjacency("click").weight, other.adjacency("click").weight)
    np.testing.assert_array_equal(old.adjacency("click").weight, g.adjacency("click").weight)


def test_non_store_path_is_never_replaced(other, tmp_path):
    g = other
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "keep.txt").write_text("mine")
    (tmp_path / "file").write_text("x")
    for target in ("docs", "file"):
        with pytest.raises(StoreExistsError, match="not a vastgraph store"):
            g.save(str(tmp_path / target), overwrite=True)
        with pytest.raises(StoreExistsError):
            g.save(str(tmp_path / target))
    assert (tmp_path / "docs" / "keep.txt").read_text() == "mine"
    assert _dir_listing(tmp_path) == ["docs", "file"]


def test_failure_while_writing_arrays_keeps_old_store(store, other, tmp_path, monkeypatch):
    _, path = store
    before = verify_store(path)
    real_save = np.save
    calls = {"n": 0}

    def flaky_save(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("no space left on device")
        return real_save(*args, **kwargs)

    monkeypatch.setattr(np, "save", flaky_save)
    with pytest.raises(OSError, match="no space"):
        other.save(path, overwrite=True)
    monkeypatch.undo()
    assert calls["n"] == 3
    assert _dir_listing(tmp_path) == ["g"]
    assert verify_store(path) == before
    np.testing.assert_array_equal(open_graph(path).adjacency("click").weight, store[0].adjacency("click").weight)


def test_failure_in_commit_keeps_old_store(store, other, tmp_path, monkeypatch):
    _, path = store
    before = verify_store(path)

    def broken_commit(self, meta):
        raise OSError("fsync failed")

    monkeypatch.setattr(StoreWriter, "commit", broken_commit)
    with pytest.raises(OSError, match="fsync failed"):
        other.save(path, overwrite=True)
    with pytest.raises(OSError, match="fsync failed"):
        other.save(str(tmp_path / "new"))
    assert _dir_listing(tmp_path) == ["g"]
    assert verify_store(path) == before


def test_crash_between_renames_is_repaired_on_open(store, tmp_path):
    g, path = store
    os.rename(path, tmp_path / ".g.old-1a2b3c4d")  # the old store was moved aside, the new never arrived
    h = open_graph(path)
    assert _dir_listing(tmp_path) == ["g"]
    np.testing.assert_array_equal(h.adjacency("click").indices, g.adjacency("click").indices)


def test_store_writer_refuses_object_arrays(tmp_path):
    with StoreWriter(tmp_path / "w") as w:
        with pytest.raises(StoreError, match="object dtype"):
            w.put("a.npy", np.array(["a", None], dtype=object))
    assert _dir_listing(tmp_path) == []


def test_resave_of_opened_store_is_byte_identical(store, tmp_path):
    _, path = store
    copy = HeteroGraph.open(path).save(str(tmp_path / "copy"))
    m1 = json.loads(open(os.path.join(path, "meta.json")).read())
    m2 = json.loads(open(os.path.join(copy, "meta.json")).read())
    assert m1 == m2


def test_empty_arrays_round_trip(tmp_path):
    b = GraphBuilder()
    b.add_nodes("a", count=3, features=np.zeros((3, 0)))
    b.add_nodes("b", count=0)
    b.add_edge_type(("a", "r", "b"))
    h = HeteroGraph.open(b.build().save(str(tmp_path / "g")), verify=True)
    assert h.num_nodes("b") == 0 and h.num_edges() == 0
    assert h.features("a").shape == (3, 0)
    assert h.adjacency(reverse=True).indptr.tolist() == [0]


# --------------------------------------------------------------------------- read API details
def test_edge_type_spellings(store):
    g, _ = store
    et = g.edge_type("click")
    assert g.edge_type("user:click:item") == et == g.edge_type(("user", "click", "item"))
    assert str(et) == "user:click:item"
    with pytest.raises(SchemaError, match="known edge types: user:click:item, user:knows:user"):
        g.edge_type("item:click:user")
    with pytest.raises(SchemaError, match="name one"):
        g.edge_type(None)
    with pytest.raises(SchemaError, match="unknown node type 'shop'; known node types: user, item"):
        g.node_store("shop")


def test_ambiguous_relation_name():
    b = GraphBuilder()
    b.add_edges([0], [1], etype=("a", "r", "b"))
    b.add_edges([0], [1], etype=("b", "r", "a"))
    with pytest.raises(SchemaError, match="ambiguous"):
        b.build().edge_type("r")


def test_edge_type_parse_errors():
    from vastgraph.graph import EdgeType
    assert EdgeType.parse("a, r ,b") == EdgeType("a", "r", "b")
    with pytest.raises(ValidationError, match="three non-empty parts"):
        EdgeType.parse("a::b")


def test_num_undirected_edges_and_summary(store):
    g, _ = store
    knows = g.adjacency("knows")
    src = np.repeat(np.arange(knows.n_rows), knows.degree())
    loops = int((src == knows.indices).sum())
    assert g.num_undirected_edges("knows") == (knows.nnz - loops) // 2
    s = g.summary()
    assert s["node_types"]["item"]["labels"] == "multi-label, 3 classes"
    assert s["edge_types"]["user:click:item"]["weighted"] and s["edge_types"]["user:click:item"]["timestamped"]
    json.dumps(s)


def test_labels_node_data_and_derived_cache(store):
    g, path = store
    assert g.labels("user", [0, 1]).shape == (2,)
    with pytest.raises(SchemaError, match="has no array 'test'; it has: train"):
        g.node_data("user", "test")
    h = HeteroGraph.open(path)
    h.derived["x"] = 1
    assert h.derived == {"x": 1} and HeteroGraph.open(path).derived == {}


# ----------------------------------------------------------------------------- structure (issue 18)
def _rewrite_array(path: str, name: str, arr: np.ndarray) -> None:
    """Replace an array and recompute its meta.json entry (a checksum proves nothing about structure)."""
    p = os.path.join(path, name)
    with open(p, "wb") as f:
        np.save(f, arr)
    meta = json.loads(open(os.path.join(path, "meta.json")).read())
    meta["arrays"][name].update(dtype=arr.dtype.str, shape=list(arr.shape), bytes=os.path.getsize(p),
                                blake2b=file_checksum(p))
    _edit_meta(path, arrays=meta["arrays"])


def test_out_of_range_index_with_recomputed_checksum_is_refused_at_open(store):
    _, path = store
    name = "edge0.csr.indices.npy"
    arr = np.load(os.path.join(path, name)).copy()
    arr[5] = 10 ** 6
    _rewrite_array(path, name, arr)
    verify_store(path)  # the checksums agree: only the structure check can see it
    with pytest.raises(CorruptStoreError, match=rf"{name}: .*index 1000000 at position 5 is outside \[0, 20\)"):
        open_graph(path)


@pytest.mark.parametrize("change,match", [
    (lambda a: np.concatenate([a[:3], a[2:3] - 1, a[4:]]), "indptr decreases at position 3"),
    (lambda a: a + 1, "indptr does not start at 0"),
    (lambda a: np.concatenate([a[:-1], a[-1:] + 2]), "indptr ends at"),
])
def test_bad_indptr_is_refused_naming_the_file(store, change, match):
    _, path = store
    name = "edge0.csr.indptr.npy"
    _rewrite_array(path, name, change(np.load(os.path.join(path, name))))
    with pytest.raises(CorruptStoreError, match=f"{name}: .*{match}"):
        open_graph(path)


@pytest.mark.parametrize("edit,match", [
    (lambda m: m["arrays"].__setitem__("/etc/passwd", m["arrays"].pop("node1.labels.npy")) or
     m["node_types"][1]["files"].__setitem__("labels", "/etc/passwd"), "not a plain file name"),
    (lambda m: m["arrays"].__setitem__("../x.npy", m["arrays"].pop("node1.labels.npy")) or
     m["node_types"][1]["files"].__setitem__("labels", "../x.npy"), "not a plain file name"),
    (lambda m: m["node_types"][0].__setitem__("count", "30"), r"node_types\[0\].count is '30' \(str\)"),
    (lambda m: m["edge_types"][0].__setitem__("undirected", "yes"), r"edge_types\[0\].undirected"),
    (lambda m: m["edge_types"][0].__setitem__("symmetric", True), "symmetric but joins two node types"),
    (lambda m: m["arrays"]["edge0.csr.indices.npy"].__setitem__("dtype", "<f8"), "indices array"),
])
def test_tampered_meta_fields_are_clear_errors(store, edit, match):
    _, path = store
    meta = json.loads(open(os.path.join(path, "meta.json")).read())
    edit(meta)
    with open(os.path.join(path, "meta.json"), "w") as f:
        json.dump(meta, f)
    with pytest.raises(CorruptStoreError, match=match):
        open_graph(path)


def test_current_pointer_outside_the_store_is_refused(saved, tmp_path):
    from vastgraph.graph.dynamic_store import DynamicStore

    g, path = saved
    root = tmp_path / "dyn"
    DynamicStore.create(root, g)
    for rel in ("../../elsewhere", path, "versions/../../x"):
        (root / "CURRENT").write_text(json.dumps({"version": 0, "path": rel}))
        with pytest.raises(CorruptStoreError, match="CURRENT: version pointer"):
            open_graph(str(root))
