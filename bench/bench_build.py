"""Build throughput and footprint: vastgraph edge-list reader vs pandas+scipy vs networkx.

Generates (once, cached in --workdir) a whitespace edge list of --edges edges over --nodes nodes with
power-law-ish degrees, then, in one process and --repeats times, measures:

(a) ``read_edgelist(id_mode="dense")`` building CSR + CSC in memory (and with ``duplicates="sum"``,
    which merges parallel edges as scipy's ``tocsr`` does);
(b) the same written straight into a store folder (atomic, checksummed);
(c) ``pandas.read_csv`` (``sep=" "`` and ``sep=r"\\s+"``) + ``scipy.sparse.coo_matrix(...).tocsr()``
    and ``.tocsc()``;
(d) networkx ``read_edgelist`` into a ``DiGraph`` on a --nx-edges prefix (its rate per edge).

It also reports bytes per edge in memory (CSR + CSC arrays; networkx by tracemalloc on the prefix)
and on disk, and the time to open the full store vs a store of the prefix (opening maps arrays and
reads meta.json only, so it does not grow with the edge count). Prints a markdown table of medians
and ratios; ``--json`` writes the raw numbers.

Usage:
    python bench/bench_build.py [--edges 10000000] [--nodes 1000000] [--repeats 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def generate(path: Path, edges: int, nodes: int, seed: int = 0) -> None:
    """Power-law-ish endpoints (p(rank k) ~ k^-0.8), shuffled ids, one 'u v' pair per line."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    p = 1.0 / np.arange(1, nodes + 1) ** 0.8
    cdf = np.cumsum(p / p.sum())
    perm = rng.permutation(nodes)
    tmp = path.with_suffix(".tmp")
    opts = pacsv.WriteOptions(include_header=False, delimiter=" ", quoting_style="none")
    with pacsv.CSVWriter(str(tmp), pa.schema([("u", pa.int64()), ("v", pa.int64())]), write_options=opts) as w:
        step = 1_000_000
        for start in range(0, edges, step):
            n = min(step, edges - start)
            s = perm[np.minimum(np.searchsorted(cdf, rng.random(n)), nodes - 1)]
            d = perm[np.minimum(np.searchsorted(cdf, rng.random(n)), nodes - 1)]
            w.write_table(pa.table({"u": s, "v": d}))
    os.replace(tmp, path)


def prefix(src: Path, dst: Path, lines: int) -> None:
    with open(src, "rb") as f, open(str(dst) + ".tmp", "wb") as g:
        for i, line in enumerate(f):
            if i >= lines:
                break
            g.write(line)
    os.replace(str(dst) + ".tmp", dst)


def timed(fn):
    gc.collect()
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in Path(path).iterdir() if f.is_file())


def graph_nbytes(g) -> int:
    total = 0
    for et in g.edge_types:
        e = g.edge_store(et)
        for adj in (e.csr, e.csc):
            if adj is None:
                continue
            for a in (adj.indptr, adj.indices, adj.weight, adj.time):
                if a is not None:
                    total += np.asarray(a).nbytes
    return total


def sparse_nbytes(m) -> int:
    return m.data.nbytes + m.indices.nbytes + m.indptr.nbytes


def blogcatalog_footprint(work: Path) -> list[tuple[str, float, str]]:
    """Bytes per undirected edge of BlogCatalog as a vastgraph store, scipy CSR and networkx."""
    import networkx as nx
    import scipy.io

    here = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
    root = Path(os.environ.get("VASTGRAPH_DATA", here))
    mat = root / "blogcatalog" / "blogcatalog.mat"
    if not mat.exists():
        print(f"(BlogCatalog footprint skipped: {mat} not found)", file=sys.stderr)
        return []
    from vastgraph.datasets import load_dataset

    g = load_dataset("blogcatalog", root=str(root)).graph
    m = g.num_undirected_edges()
    structure = graph_nbytes(g)
    store = work / "store_blogcatalog"
    g.save(str(store), overwrite=True)
    edge_disk = sum(f.stat().st_size for f in store.glob("edge*.npy"))
    A = scipy.io.loadmat(str(mat))["network"].tocsr()
    coo = A.tocoo()
    pairs = list(zip(coo.row.tolist(), coo.col.tolist()))
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    G = nx.Graph()
    G.add_edges_from(pairs)
    nx_bytes = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del G, pairs
    return [("vastgraph symmetric CSR (int32 indices, int64 indptr), edge arrays", structure / m,
             f"{edge_disk / m:.1f} (edge .npy files)"),
            ("scipy CSR as loaded (float64 data, int32 indices)", sparse_nbytes(A) / m, "-"),
            ("scipy CSR structure only (int32 indices + indptr)", (A.indices.nbytes + A.indptr.nbytes) / m, "-"),
            ("networkx.Graph (tracemalloc)", nx_bytes / m, "-")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", default="/tmp/vastgraph-bench")
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--nodes", type=int, default=1_000_000)
    ap.add_argument("--nx-edges", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import networkx as nx
    import pandas as pd
    import scipy.sparse as sp

    from vastgraph.graph import HeteroGraph
    from vastgraph.graph.readers import read_edgelist

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    m, n = args.edges, args.nodes
    path = work / f"edges_{m}_{n}.txt"
    if not path.exists():
        t, _ = timed(lambda: generate(path, m, n))
        print(f"generated {path} in {t:.1f}s", file=sys.stderr)
    m_nx = min(args.nx_edges, m)
    small = work / f"edges_{m}_{n}_prefix{m_nx}.txt"
    if not small.exists():
        prefix(path, small, m_nx)
    store, store_small = work / "store_full", work / "store_prefix"

    # warm numba's cache and the page cache once
    read_edgelist(small, id_mode="dense")
    read_edgelist(small, id_mode="dense", out=store_small, overwrite=True)

    raw: dict[str, list[float]] = {k: [] for k in (
        "vg_mem", "vg_mem_sum", "vg_store", "pd_space_parse", "pd_space_total", "pd_ws_parse",
        "pd_ws_total", "scipy_build", "nx_prefix")}
    extra: dict[str, float] = {}
    for rep in range(args.repeats):
        t, g = timed(lambda: read_edgelist(path, id_mode="dense"))
        raw["vg_mem"].append(t)
        if rep == 0:
            extra["vg_entries"] = g.num_edges()
            extra["vg_mem_bytes"] = graph_nbytes(g)
            vg_indptr = np.asarray(g.adjacency().indptr).copy()
        del g
        t, g = timed(lambda: read_edgelist(path, id_mode="dense", duplicates="sum"))
        raw["vg_mem_sum"].append(t)
        if rep == 0:
            extra["vg_sum_entries"] = g.num_edges()
        del g
        t, g = timed(lambda: read_edgelist(path, id_mode="dense", out=store, overwrite=True))
        raw["vg_store"].append(t)
        del g

        def pandas_scipy(sep):
            t0 = time.perf_counter()
            df = pd.read_csv(path, sep=sep, header=None, names=["u", "v"], dtype=np.int64, engine="c")
            t1 = time.perf_counter()
            s, d = df["u"].to_numpy(), df["v"].to_numpy()
            coo = sp.coo_matrix((np.ones(s.size, np.float32), (s, d)), shape=(n, n))
            csr, csc = coo.tocsr(), coo.tocsc()
            return t1 - t0, csr, csc

        t, (tp, csr, csc) = timed(lambda: pandas_scipy(" "))
        raw["pd_space_parse"].append(tp)
        raw["pd_space_total"].append(t)
        raw["scipy_build"].append(t - tp)
        if rep == 0:
            extra["scipy_entries"] = int(csr.nnz)
            extra["scipy_mem_bytes"] = sparse_nbytes(csr) + sparse_nbytes(csc)
            extra["row_degrees_match_scipy_before_merging"] = bool(
                np.array_equal(np.diff(vg_indptr), np.bincount(pd.read_csv(
                    path, sep=" ", header=None, usecols=[0], dtype=np.int64)[0].to_numpy(), minlength=n)))
            sp.save_npz(work / "csr.npz", csr, compressed=False)
            sp.save_npz(work / "csc.npz", csc, compressed=False)
            extra["scipy_disk_bytes"] = (work / "csr.npz").stat().st_size + (work / "csc.npz").stat().st_size
        del csr, csc
        t, (tp, csr, csc) = timed(lambda: pandas_scipy(r"\s+"))
        raw["pd_ws_parse"].append(tp)
        raw["pd_ws_total"].append(t)
        del csr, csc

        t, G = timed(lambda: nx.read_edgelist(small, nodetype=int, create_using=nx.DiGraph))
        raw["nx_prefix"].append(t)
        if rep == 0:
            extra["nx_edges"] = G.number_of_edges()
            extra["nx_pickle_bytes"] = len(pickle.dumps(G, protocol=pickle.HIGHEST_PROTOCOL))
        del G
        print(f"repeat {rep + 1}/{args.repeats} done", file=sys.stderr)

    # networkx memory on the prefix (tracemalloc slows building, so it is not timed)
    s_nx, d_nx = pd.read_csv(small, sep=" ", header=None, dtype=np.int64).to_numpy().T
    pairs = list(zip(s_nx.tolist(), d_nx.tolist()))
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    G = nx.DiGraph()
    G.add_edges_from(pairs)
    extra["nx_mem_bytes"] = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    del G, pairs

    extra["vg_disk_bytes"] = folder_bytes(store)
    extra["text_bytes"] = path.stat().st_size
    opens: dict[str, list[float]] = {"full": [], "prefix": []}
    for _ in range(20):
        for key, p in (("full", store), ("prefix", store_small)):
            t, g = timed(lambda: HeteroGraph.open(str(p)))
            opens[key].append(t)
            del g
    med = {k: statistics.median(v) for k, v in raw.items()}
    omed = {k: statistics.median(v) for k, v in opens.items()}

    rate = lambda secs, edges: edges / secs / 1e6  # noqa: E731
    ref = med["pd_space_total"]
    rows = [
        ("vastgraph read_edgelist, dense, CSR+CSC in memory", med["vg_mem"], m),
        ("vastgraph read_edgelist, dense, duplicates=sum", med["vg_mem_sum"], m),
        ("vastgraph read_edgelist, dense, into a store folder", med["vg_store"], m),
        ('pandas.read_csv(sep=" ") + scipy coo->tocsr+tocsc', med["pd_space_total"], m),
        ('pandas.read_csv(sep=r"\\s+") + scipy coo->tocsr+tocsc', med["pd_ws_total"], m),
        (f"networkx read_edgelist DiGraph ({m_nx:,}-edge prefix)", med["nx_prefix"], m_nx),
    ]
    print(f"\n### Build throughput: {m:,} edges, {n:,} nodes, median of {args.repeats} "
          f"(`python bench/bench_build.py --edges {m} --nodes {n} --repeats {args.repeats}`)\n")
    print("| method | seconds | M edges/s | speed vs pandas+scipy |")
    print("|---|---:|---:|---:|")
    for name, secs, edges in rows:
        speed = rate(secs, edges) / rate(ref, m)
        print(f"| {name} | {secs:.2f} | {rate(secs, edges):.2f} | {speed:.2f}x |")
    print(f"\npandas parse alone: sep=' ' {med['pd_space_parse']:.2f}s, sep=r'\\s+' {med['pd_ws_parse']:.2f}s; "
          f"scipy tocsr+tocsc alone: {med['scipy_build']:.2f}s")
    print(f"entries: vastgraph keep {extra['vg_entries']:,}, vastgraph sum {extra['vg_sum_entries']:,}, "
          f"scipy {extra['scipy_entries']:,} (scipy sums duplicates)")
    print("\n### Footprint (bytes per input edge)\n")
    print("| | in memory | on disk |")
    print("|---|---:|---:|")
    print(f"| vastgraph CSR+CSC (unweighted) | {extra['vg_mem_bytes'] / m:.1f} | {extra['vg_disk_bytes'] / m:.1f} |")
    print(f"| scipy CSR+CSC (float32 data) | {extra['scipy_mem_bytes'] / m:.1f} | "
          f"{extra['scipy_disk_bytes'] / m:.1f} (save_npz, uncompressed) |")
    print(f"| networkx DiGraph ({m_nx:,} prefix) | {extra['nx_mem_bytes'] / m_nx:.1f} | "
          f"{extra['nx_pickle_bytes'] / m_nx:.1f} (pickle) |")
    print(f"| text edge list | - | {extra['text_bytes'] / m:.1f} |")
    print(f"\n### Store open time (median of 20)\n\n| store | edges | open ms |\n|---|---:|---:|\n"
          f"| full | {m:,} | {omed['full'] * 1e3:.2f} |\n| prefix | {m_nx:,} | {omed['prefix'] * 1e3:.2f} |")
    bc = blogcatalog_footprint(work)
    if bc:
        print("\n### BlogCatalog footprint (10,312 nodes, 333,983 undirected edges; bytes per undirected edge)\n")
        print("| representation | in memory | on disk |\n|---|---:|---:|")
        for name, mem, disk in bc:
            print(f"| {name} | {mem:.1f} | {disk} |")
        extra["blogcatalog"] = bc
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": vars(args), "raw_seconds": raw, "open_seconds": opens, "extra": extra,
                       "median_seconds": med}, f, indent=1)


if __name__ == "__main__":
    main()
