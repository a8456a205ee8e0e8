"""Peer side of bench_loader.py: PyG NeighborLoader on the same graph (run in the peers' venv).

usage: python peer_pyg_loader.py GRAPH.npz --fanouts 15 10 --batch-size 1024 --batches N --passes P
Prints one ``RESULT {json}`` line.
"""

import argparse
import json
import time

import numpy as np
import torch
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader


def peak_rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("graph")
    ap.add_argument("--fanouts", type=int, nargs="+", default=[15, 10])
    ap.add_argument("--batch-size", type=int, default=1024)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--feat-dim", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(2)
    z = np.load(args.graph)
    indptr, indices, n = z["indptr"], z["indices"], int(z["n"])
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    x = torch.from_numpy(np.random.default_rng(0).random((n, args.feat_dim), dtype=np.float32))
    t0 = time.perf_counter()
    # neighbours j of target i: edges j -> i (PyG samples along incoming edges); the graph is symmetric
    data = Data(x=x, edge_index=torch.from_numpy(np.stack([indices.astype(np.int64), row])), num_nodes=n)
    seeds = torch.from_numpy(np.random.default_rng(1).permutation(n)[: args.batches * args.batch_size])
    loader = NeighborLoader(data, num_neighbors=args.fanouts, batch_size=args.batch_size, input_nodes=seeds,
                            shuffle=False)
    setup = time.perf_counter() - t0
    per_pass = []
    nodes = 0
    for _ in range(args.passes):
        t = time.perf_counter()
        nodes = 0
        for b in loader:
            nodes += b.num_nodes
        per_pass.append(time.perf_counter() - t)
    import torch_geometric
    print("RESULT " + json.dumps(dict(tool=f"pyg NeighborLoader (torch_geometric {torch_geometric.__version__})",
                                      setup_s=setup, pass_s=per_pass, batches=len(loader), sampled_nodes=nodes,
                                      peak_rss_mb=peak_rss_mb())), flush=True)


if __name__ == "__main__":
    main()
