"""A store cannot be turned against its reader: fuzz a small valid store and walk every variant.

Variants: single-byte flips and truncations of every file of a store (arrays, ``meta.json``, the
check marker), field changes in ``meta.json`` (absolute and ``../`` array paths, mistyped fields,
wrong dtype/shape/count, arrays rewritten out of range with their checksums recomputed) and in a
DynamicStore's ``CURRENT``. Each variant is opened and walked in a worker subprocess (so a
segfault shows as a negative return code, and the worker restarts after it). Every variant must
give a clear vastgraph error or exactly the original's results; never a crash, a stray exception
or a silently different result.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from vastgraph.graph import GraphBuilder
from vastgraph.graph.storage import file_checksum

WORKER = textwrap.dedent('''
    import hashlib, json, sys
    import numpy as np
    from vastgraph.errors import VastgraphError
    from vastgraph.graph import open_graph
    from vastgraph.sampling.metapath import metapath_walks
    from vastgraph.sampling.walks import random_walks

    def run(path):
        g = open_graph(path)
        out = [g.num_nodes("user"), g.num_nodes("item"), g.num_edges("knows"), g.num_edges("click")]
        out.append(random_walks(g, etype="knows", walks_per_node=2, walk_length=6, weighted=False,
                                random_state=0).tolist())
        out.append(random_walks(g, etype="knows", walks_per_node=1, walk_length=5, p=0.5, q=2.0,
                                weighted=False, random_state=1).tolist())
        out.append(metapath_walks(g, ["user:click:item", "~user:click:item"], walks_per_node=1,
                                  walk_length=6, weighted=False, random_state=0).tolist())
        for et in ("knows", "click"):
            for rev in (False, True):
                c = g.coo(et, reverse=rev)
                out.append([c.src.tolist(), c.dst.tolist(),
                            None if c.weight is None else c.weight.tolist(),
                            None if c.time is None else c.time.tolist()])
        out.append([str(x) for x in g.external_ids("user")] + [int(x) for x in g.external_ids("item")])
        out.append(g.lookup("item", [100, 119]).tolist() + g.lookup("user", ["u3"]).tolist())
        out.append(g.find_edges([0, 1, 2], [3, 4, 5], "click").tolist())
        return hashlib.blake2b(json.dumps(out).encode(), digest_size=16).hexdigest()

    for line in sys.stdin:
        i, path = json.loads(line)
        print(json.dumps(["start", i]), flush=True)
        try:
            res = ["ok", run(path)]
        except VastgraphError as exc:
            res = ["clear", type(exc).__name__ + ": " + str(exc)[:300]]
        except Exception as exc:
            res = ["other", type(exc).__name__ + ": " + str(exc)[:300]]
        print(json.dumps(["done", i] + res), flush=True)
''')


def _graph():
    rng = np.random.default_rng(3)
    b = GraphBuilder(directed=True)
    users = np.array([f"u{i}" for i in range(12)])
    b.add_nodes("user", ids=users, labels=rng.integers(-1, 3, 12))
    b.add_nodes("item", ids=np.arange(100, 120))
    b.add_edges(users[rng.integers(0, 12, 40)], users[rng.integers(0, 12, 40)], etype=("user", "knows", "user"),
                weight=rng.random(40) + 0.5, directed=False)
    b.add_edges(users[rng.integers(0, 12, 30)], 100 + rng.integers(0, 20, 30), etype=("user", "click", "item"),
                weight=rng.random(30) + 0.1, time=rng.integers(0, 1000, 30))
    return b.build()


def _positions(size: int) -> list[int]:
    pos = set(range(min(size, 10))) | set(range(10, size, 41)) | set(range(max(size - 2, 0), size))
    return sorted(pos)


def _rewrite(folder: str, name: str, arr: np.ndarray) -> None:
    """Replace an array file and make meta.json agree with it (checksum, bytes, dtype, shape)."""
    p = os.path.join(folder, name)
    with open(p, "wb") as f:
        np.save(f, arr)
    mp = os.path.join(folder, "meta.json")
    meta = json.loads(open(mp).read())
    meta["arrays"][name].update(dtype=arr.dtype.str, shape=list(arr.shape), bytes=os.path.getsize(p),
                                blake2b=file_checksum(p))
    open(mp, "w").write(json.dumps(meta))


def _edit(folder: str, fn) -> None:
    mp = os.path.join(folder, "meta.json")
    meta = json.loads(open(mp).read())
    fn(meta)
    open(mp, "w").write(json.dumps(meta))


def _meta_edits(base: str, outside: str):
    """(name, function(folder)) of field-level tampering with meta.json and the arrays."""
    ind = "edge0.csr.indices.npy"
    ptr = "edge0.csr.indptr.npy"
    load = lambda folder, n: np.load(os.path.join(folder, n))  # noqa: E731

    def rename_array(new):
        def f(m):
            m["arrays"][new] = m["arrays"].pop(ind)
            for e in m["edge_types"]:
                e["csr"] = [new if x == ind else x for x in e["csr"]]
        return lambda d: _edit(d, f)

    def node(key, value, i=0):
        return lambda d: _edit(d, lambda m: m["node_types"][i].__setitem__(key, value))

    def edge(key, value, j=0):
        return lambda d: _edit(d, lambda m: m["edge_types"][j].__setitem__(key, value))

    def spec(key, value, name=ind):
        return lambda d: _edit(d, lambda m: m["arrays"][name].__setitem__(key, value))

    def top(key, value):
        return lambda d: _edit(d, lambda m: m.__setitem__(key, value))

    def arr_change(name, fn):
        return lambda d: _rewrite(d, name, fn(load(d, name)))

    def set_at(a, i, v):
        a = a.copy()
        a[i] = v
        return a

    return [
        ("absolute array path", rename_array(os.path.join(outside, ind))),
        ("../ array path", rename_array("../" + os.path.basename(outside) + "/" + ind)),
        ("hidden array name", rename_array(".x.npy")),
        ("count as string", node("count", "12")),
        ("count as float", node("count", 12.0)),
        ("count negative", node("count", -1)),
        ("count bool", node("count", True)),
        ("count too large", node("count", 13)),
        ("count too small", node("count", 11)),
        ("count huge", node("count", 2 ** 62)),
        ("id kind unknown", node("id_kind", "uuid")),
        ("id kind int on str ids", node("id_kind", "int")),
        ("id kind range on str ids", node("id_kind", "range")),
        ("files not a dict", node("files", ["x"])),
        ("labels -> indices file", lambda d: _edit(d, lambda m: m["node_types"][0]["files"].__setitem__(
            "labels", ind))),
        ("unknown file key", lambda d: _edit(d, lambda m: m["node_types"][0]["files"].__setitem__("zz", ind))),
        ("name not str", node("name", 5)),
        ("entries as string", edge("entries", "40")),
        ("entries off by one", edge("entries", 1, 0)),
        ("undirected as string", edge("undirected", "yes")),
        ("symmetric across types", edge("symmetric", True, 1)),
        ("symmetric dropped", edge("symmetric", False, 0)),
        ("src unknown type", edge("src", "ghost", 1)),
        ("csr not a list", edge("csr", "edge0.csr.indptr.npy")),
        ("csr misses indices", edge("csr", [ptr])),
        ("csr odd file name", edge("csr", [ptr, "indices"])),
        ("dtype mistyped", spec("dtype", 5)),
        ("dtype object", spec("dtype", "|O")),
        ("dtype wrong", spec("dtype", "<i8")),
        ("dtype bogus", spec("dtype", "<q9")),
        ("shape wrong", spec("shape", [3])),
        ("shape negative", spec("shape", [-1])),
        ("shape as string", spec("shape", "[40]")),
        ("bytes wrong", spec("bytes", 7)),
        ("bytes as string", spec("bytes", "7")),
        ("checksum wrong", spec("blake2b", "0" * 32)),
        ("array spec missing", lambda d: _edit(d, lambda m: m["arrays"].pop(ind))),
        ("node_types not a list", top("node_types", {})),
        ("edge_types entry not a dict", top("edge_types", [1])),
        ("info not a dict", top("info", [1, 2])),
        ("version as string", top("version", "1")),
        ("version newer", top("version", 99)),
        ("format other", top("format", "other")),
        ("meta not an object", lambda d: open(os.path.join(d, "meta.json"), "w").write("[1, 2]")),
        ("meta empty", lambda d: open(os.path.join(d, "meta.json"), "w").write("")),
        # arrays rewritten with their checksums recomputed (a checksum proves nothing about structure)
        ("indices out of range (checksum recomputed)", arr_change(ind, lambda a: set_at(a, 3, 10 ** 6))),
        ("indices negative (checksum recomputed)", arr_change(ind, lambda a: set_at(a, 0, -5))),
        ("indices int64 (checksum recomputed, still valid)", arr_change(ind, lambda a: a.astype(np.int64))),
        ("indices float (checksum recomputed)", arr_change(ind, lambda a: a.astype(np.float32))),
        ("indices 2-D (checksum recomputed)", arr_change(ind, lambda a: a.reshape(-1, 1))),
        ("indptr decreasing (checksum recomputed)", arr_change(ptr, lambda a: set_at(a, 2, 10 ** 6))),
        ("indptr not from 0 (checksum recomputed)", arr_change(ptr, lambda a: set_at(a, 0, 1))),
        ("indptr past the end (checksum recomputed)", arr_change(ptr, lambda a: set_at(a, -1, a[-1] + 5))),
        ("indptr negative (checksum recomputed)", arr_change(ptr, lambda a: set_at(a, 1, -3))),
        ("weight short (checksum recomputed)", arr_change("edge0.csr.weight.npy", lambda a: a[:-1])),
        ("csc indices out of range (checksum recomputed)",
         arr_change("edge1.csc.indices.npy", lambda a: set_at(a, 1, 12))),
        ("csc indptr short (checksum recomputed)", arr_change("edge1.csc.indptr.npy", lambda a: a[:-1])),
        ("int id order out of range (checksum recomputed)",
         arr_change("node1.ids_order.npy", lambda a: set_at(a, 0, 10 ** 9))),
        ("int id order repeats (checksum recomputed)",
         arr_change("node1.ids_order.npy", lambda a: set_at(a, 0, a[1]))),
        ("str id offsets past data (checksum recomputed)",
         arr_change("node0.ids_offsets.npy", lambda a: set_at(a, -1, 10 ** 6))),
        ("str id offsets decreasing (checksum recomputed)",
         arr_change("node0.ids_offsets.npy", lambda a: set_at(a, 2, 0))),
    ]


def _current_edits(outside: str):
    def write(text):
        return lambda root: open(os.path.join(root, "CURRENT"), "w").write(text)

    return [
        ("CURRENT ../ outside", write(json.dumps({"version": 0, "path": "../../" + os.path.basename(outside)}))),
        ("CURRENT ../ via versions", write(json.dumps({"version": 0, "path": "versions/../../x"}))),
        ("CURRENT absolute", write(json.dumps({"version": 0, "path": outside}))),
        ("CURRENT missing version", write(json.dumps({"version": 7, "path": "versions/v7"}))),
        ("CURRENT path not str", write(json.dumps({"version": 0, "path": 5}))),
        ("CURRENT path empty", write(json.dumps({"version": 0, "path": ""}))),
        ("CURRENT path dot", write(json.dumps({"version": 0, "path": "."}))),
        ("CURRENT list", write("[]")),
        ("CURRENT not json", write("versions/v0")),
        ("CURRENT empty", write("")),
    ]


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    from vastgraph.graph.dynamic_store import DynamicStore

    root = tmp_path_factory.mktemp("fuzz")
    g = _graph()
    base = g.save(str(root / "base"))
    outside = g.save(str(root / "outside"))
    dyn = root / "dyn"
    DynamicStore.create(dyn, g)
    return root, base, outside, str(dyn)


def _run_worker(jobs: list[tuple[int, str]], workdir) -> dict[int, tuple]:
    """Results by job id; a job during which the worker died is recorded as a crash (rc)."""
    script = workdir / "worker.py"
    script.write_text(WORKER)
    results: dict[int, tuple] = {}
    pending = list(jobs)
    while pending:
        proc = subprocess.run([sys.executable, str(script)], input="".join(json.dumps(j) + "\n" for j in pending),
                              capture_output=True, text=True, timeout=600)
        started = None
        for line in proc.stdout.splitlines():
            rec = json.loads(line)
            if rec[0] == "start":
                started = rec[1]
            else:
                results[rec[1]] = tuple(rec[2:])
                started = None
        if proc.returncode != 0:
            if started is None:
                raise AssertionError(f"worker failed outside a variant (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
            results[started] = ("crash", f"rc {proc.returncode}")
        pending = [j for j in pending if j[0] not in results]
    return results


def test_fuzzed_stores_give_clear_errors_or_correct_results(stores, tmp_path):
    root, base, outside, dyn = stores
    variants: list[tuple[str, str]] = []  # (description, folder to open)

    def copy(kind: str, src: str = base, change: str | None = None) -> str:
        """A copy of ``src`` whose files are hard links, except ``change``, a real copy to mutate."""
        d = str(tmp_path / f"v{len(variants)}")
        if change is None:
            shutil.copytree(src, d)
        else:
            shutil.copytree(src, d, copy_function=os.link)
            os.remove(os.path.join(d, change))
            shutil.copyfile(os.path.join(src, change), os.path.join(d, change))
        return d

    from vastgraph.graph import open_graph

    open_graph(base)  # writes the check marker, which is fuzzed too
    files = sorted(os.listdir(base))
    assert ".verified.json" in files and "meta.json" in files
    for name in files:
        size = os.path.getsize(os.path.join(base, name))
        for pos in _positions(size):
            for mask in ((0xFF, 0x01) if name == "meta.json" or pos < 10 else (0xFF,)):
                d = copy("flip", change=name)
                with open(os.path.join(d, name), "r+b") as f:
                    f.seek(pos)
                    b = f.read(1)[0]
                    f.seek(pos)
                    f.write(bytes([b ^ mask]))
                variants.append((f"flip {name}@{pos}^{mask:#x}", d))
        for cut in sorted({0, 1, size // 2, size - 1, min(128, size - 1)}):
            d = copy("truncate", change=name)
            with open(os.path.join(d, name), "r+b") as f:
                f.truncate(cut)
            variants.append((f"truncate {name} to {cut}", d))
    for desc, fn in _meta_edits(base, outside):
        d = copy("meta")
        fn(d)
        variants.append((desc, d))
    for desc, fn in _current_edits(outside):
        d = copy("current", dyn)
        fn(d)
        variants.append((desc, d))
    d = copy("current", dyn)
    with open(os.path.join(d, "CURRENT"), "r+b") as f:
        f.truncate(5)
    variants.append(("CURRENT truncated", d))

    results = _run_worker([(0, base)] + [(i + 1, d) for i, (_, d) in enumerate(variants)], tmp_path)
    status, expected = results[0]
    assert status == "ok", expected
    counts = {"tried": len(variants), "clear": 0, "correct": 0, "crash": 0, "other": 0, "wrong": 0}
    bad = []
    for i, (desc, _) in enumerate(variants):
        status, detail = results[i + 1]
        if status == "ok":
            status = "correct" if detail == expected else "wrong"
        counts[status] += 1
        if status not in ("clear", "correct"):
            bad.append(f"{desc}: {status} {detail}")
    print(f"\nstore fuzz: variants tried {counts['tried']} / clear errors {counts['clear']} / correct "
          f"{counts['correct']} / crashes {counts['crash']} / other exceptions {counts['other']} / "
          f"silently different {counts['wrong']}")
    (tmp_path / "fuzz_counts.json").write_text(json.dumps(counts))
    assert not bad, "\n".join(bad[:40])
    assert counts["crash"] == 0 and counts["clear"] > 0 and counts["correct"] > 0
    # the tampered-structure variants are the case: each must be refused, naming the file
    by_desc = {desc: results[i + 1] for i, (desc, _) in enumerate(variants)}
    for desc, res in by_desc.items():
        if "checksum recomputed" in desc and "still valid" not in desc:
            assert res[0] == "clear" and "CorruptStoreError" in res[1] and ".npy" in res[1], (desc, res)
    assert by_desc["indices out of range (checksum recomputed)"][1].count("position 3") == 1
    for desc in ("absolute array path", "../ array path", "CURRENT ../ outside", "CURRENT absolute"):
        assert by_desc[desc][0] == "clear", (desc, by_desc[desc])
