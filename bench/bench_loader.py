"""Neighbour loading [15, 10], batch 1024: vastgraph NeighborLoader vs PyG NeighborLoader, same run.

usage: python bench/bench_loader.py [--rounds 3] [--batches 20] [--workdir /tmp/vastgraph-bench]
                                    [--json out.json]

Graphs: BlogCatalog (10,312 nodes, 667,966 entries) and a generated random graph (1M nodes,
10M undirected entries). Both loaders see the same symmetric CSR and the same 64-d float32 node
features, and yield mini-batches with gathered features; time = one pass over --batches batches
of the same seed nodes (median over passes and rounds). PyG runs in the peers' venv (it needs
torch-sparse there, since pyg-lib has no distribution here), vastgraph in the project's venv.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (Timer, emit, markdown_table, median, peers_python, run_json, save_json,  # noqa: E402
                     shared_dir, this_python)


def make_graphs(work: Path) -> dict[str, Path]:
    import scipy.io
    import scipy.sparse as sp

    out = {}
    p = work / "loader_blogcatalog.npz"
    if not p.exists():
        A = scipy.io.loadmat(str(shared_dir() / "datasets" / "blogcatalog" / "blogcatalog.mat"))["network"].tocsr()
        A.sort_indices()
        np.savez(p, indptr=A.indptr.astype(np.int64), indices=A.indices.astype(np.int32), n=A.shape[0])
    out["BlogCatalog"] = p
    p = work / "loader_random10m.npz"
    if not p.exists():
        rng = np.random.default_rng(0)
        n, m = 1_000_000, 5_000_000
        s, d = rng.integers(0, n, m), rng.integers(0, n, m)
        A = sp.coo_matrix((np.ones(m, np.float32), (s, d)), shape=(n, n)).tocsr()
        A = ((A + A.T) > 0).astype(np.float32).tocsr()
        A.sort_indices()
        np.savez(p, indptr=A.indptr.astype(np.int64), indices=A.indices.astype(np.int32), n=n)
    out["random 1M nodes / 10M entries"] = p
    return out


def worker(args: argparse.Namespace) -> None:
    import numba

    from vastgraph.graph import Adjacency, EdgeType, HeteroGraph, IdIndex, NodeTypeData
    from vastgraph.graph.hetero_graph import EdgeTypeData
    from vastgraph.sampling.neighbor_loader import NeighborLoader

    numba.set_num_threads(2)
    z = np.load(args.graph)
    indptr, indices, n = z["indptr"], z["indices"], int(z["n"])
    x = np.random.default_rng(0).random((n, args.feat_dim), dtype=np.float32)
    with Timer() as ts:
        et = EdgeType("node", "edge", "node")
        g = HeteroGraph({"node": NodeTypeData("node", IdIndex.range(n), features=x)},
                        {et: EdgeTypeData(et, Adjacency(indptr, indices, None, None, n), None, undirected=True)})
        seeds = np.random.default_rng(1).permutation(n)[: args.batches * args.batch_size]
        loader = NeighborLoader(g, seeds, args.fanouts, batch_size=args.batch_size, random_state=0)
    per_pass = []
    nodes = 0
    for _ in range(args.passes):
        with Timer() as t:
            nodes = 0
            for b in loader:
                nodes += b.num_nodes
        per_pass.append(t.dt)
    emit(dict(tool="vastgraph NeighborLoader", setup_s=ts.dt, pass_s=per_pass, batches=len(loader),
              sampled_nodes=nodes))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--graph", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--fanouts", type=int, nargs="+", default=[15, 10])
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--feat-dim", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", default="/tmp/vastgraph-bench")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    graphs = make_graphs(work)
    common = ["--fanouts", *map(str, args.fanouts), "--batch-size", str(args.batch_size), "--batches",
              str(args.batches), "--passes", str(args.passes), "--feat-dim", str(args.feat_dim)]
    rows, raw = [], {}
    for name, path in graphs.items():
        ours, peer = [], []
        for _ in range(args.rounds):
            ours.append(run_json([this_python(), __file__, "--worker", "--graph", str(path), *common]))
            peer.append(run_json([str(peers_python()), str(Path(__file__).parent / "peer_pyg_loader.py"),
                                  str(path), *common]))
        o = median([t for r in ours for t in r["pass_s"][1:]]) / ours[0]["batches"]
        p = median([t for r in peer for t in r["pass_s"][1:]]) / peer[0]["batches"]
        rows.append([name, f"{o * 1e3:.2f}", f"{p * 1e3:.2f}", f"{p / o:.2f}×",
                     f"{median([r['setup_s'] for r in ours]):.2f} / {median([r['setup_s'] for r in peer]):.2f}",
                     f"{ours[0]['sampled_nodes'] / ours[0]['batches']:.0f} / {peer[0]['sampled_nodes'] / peer[0]['batches']:.0f}",
                     f"{median([r['peak_rss_mb'] for r in ours]):.0f} / {median([r['peak_rss_mb'] for r in peer]):.0f}",
                     peer[0]["tool"]])
        raw[name] = {"ours": ours, "peer": peer}
    table = markdown_table(["graph", "vastgraph ms/batch", "PyG ms/batch", "speed-up", "setup s ours / PyG",
                            "nodes/batch ours / PyG", "peak RSS MB ours / PyG", "peer"], rows)
    print(table)
    save_json(args.json, {"raw": raw, "table": table})


if __name__ == "__main__":
    main()
