"""NetMF memory (issue 16, item 7): the up-front memory guard, and the sparse NetSMF variant.

usage: python bench/bench_netmf_memory.py [--parts quality memory] [--samples 1 10]
                                         [--edges 1000000] [--repeats 5] [--json out.json]

(1) quality: BlogCatalog (10,312 nodes, 333,983 edges), d = 128, T = 10, b = 1: Micro/Macro-F1 at
    a 50% training ratio (``evaluate_node_classification``, one-vs-rest logistic regression,
    --repeats splits) of exact NetMF, ``method="sparse"`` (NetSMF) for each --samples and
    ``method="approx"`` (h = 256), with fit time, the memory estimate and the peak RSS of the
    fitting process.
(2) memory: a generated power-law SBM with about --edges undirected edges (100k nodes at 1M edges,
    mean degree 2·edges/nodes) fitted with ``method="sparse"``: the peak RSS (``VmHWM`` of
    /proc/self/status in a fresh process), the RSS after building the graph (before the fit),
    time, the number of stored matrix entries, and what the guard says about exact NetMF there.
    Goal: <= 4 GB at 1M edges.

Every fit runs in its own process, so VmHWM is that fit's peak. Prints markdown tables and
``RESULT {json}`` lines; names the load.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, Timer, emit, markdown_table, run_json, save_json, shared_dir  # noqa: E402


def vm(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def worker(args: argparse.Namespace) -> None:
    import numpy as np

    from vastgraph.embed.netmf import NetMF

    if args.graph == "blogcatalog":
        from vastgraph.datasets import load_dataset

        g = load_dataset("blogcatalog", root=str(shared_dir() / "datasets")).graph
    else:
        from vastgraph.datasets import power_law_sbm

        n = max(1000, args.edges // 10)  # mean degree 20
        g = power_law_sbm(n_nodes=n, n_blocks=10, avg_degree=2 * args.edges / n, random_state=0).graph
    nnz = int(g.num_edges())  # stored entries (an undirected edge is stored both ways)
    edges = sum(g.num_edges(et) // (2 if g.is_undirected(et) else 1) for et in g.edge_types)
    rss_graph = vm("VmRSS")
    hwm_graph = vm("VmHWM")
    params = dict(dimensions=128, window=10, negative=1.0, method=args.method, random_state=0)
    if args.method == "sparse":
        params["samples"] = args.samples
    if args.method == "approx":
        params["rank"] = 256
    refused_exact = None
    if args.graph != "blogcatalog":
        try:
            NetMF(dimensions=128, window=10).check_memory(g.num_nodes_total(), nnz)
        except Exception as exc:  # noqa: BLE001 - the message is the result
            refused_exact = str(exc)
    model = NetMF(**params)
    with Timer() as t:
        model.fit(g)
    rec = dict(graph=args.graph, method=args.method, samples=args.samples if args.method == "sparse" else None,
               nodes=g.num_nodes_total(), edges=int(edges), fit_s=t.dt,
               estimate_mb=model.memory_estimate_ / 2**20, rss_after_graph_mb=rss_graph,
               hwm_before_fit_mb=hwm_graph, refused_exact=refused_exact)
    if args.graph == "blogcatalog":
        from vastgraph.train.node_classification import evaluate_node_classification

        y = np.asarray(g.labels())
        res = evaluate_node_classification(np.asarray(model.embedding_), y, train_ratios=(0.5,),
                                           repeats=args.repeats, random_state=0, n_jobs=2)
        rec.update(micro=res.micro(0.5), macro=res.macro(0.5))
    rec["peak_rss_mb"] = vm("VmHWM")
    emit(rec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--graph", default="blogcatalog", help=argparse.SUPPRESS)
    ap.add_argument("--method", default="exact", help=argparse.SUPPRESS)
    ap.add_argument("--parts", nargs="+", default=["quality", "memory"], choices=["quality", "memory"])
    ap.add_argument("--samples", type=float, nargs="+", default=[1.0, 10.0])
    ap.add_argument("--edges", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.worker:
        args.samples = args.samples[0]
        worker(args)
        return
    me = [sys.executable, str(Path(__file__).resolve()), "--worker", "--repeats", str(args.repeats),
          "--edges", str(args.edges)]
    out: dict = {"load": os.getloadavg(), "cores": os.cpu_count()}
    if "quality" in args.parts:
        rows, recs = [], []
        runs = [("exact", None)] + [("sparse", s) for s in args.samples] + [("approx", None)]
        for method, s in runs:
            cmd = me + ["--graph", "blogcatalog", "--method", method] + (["--samples", str(s)] if s else [])
            r = run_json(cmd, cwd=REPO)
            recs.append(r)
            rows.append([f"{method}" + (f" samples={s:g}" if s else "") + (" h=256" if method == "approx" else ""),
                         f"{100 * r['micro']:.2f}", f"{100 * r['macro']:.2f}", f"{r['fit_s']:.1f}",
                         f"{r['estimate_mb']:.0f}", f"{r['peak_rss_mb']:.0f}"])
        print("\nBlogCatalog, d=128, T=10, b=1; F1 at 50% training labels "
              f"(median of {args.repeats} splits)\n")
        print(markdown_table(["NetMF method", "Micro-F1", "Macro-F1", "fit s", "estimate MB", "peak RSS MB"],
                             rows))
        out["quality"] = recs
    if "memory" in args.parts:
        rows, recs = [], []
        for s in args.samples:
            r = run_json(me + ["--graph", "sbm", "--method", "sparse", "--samples", str(s)], cwd=REPO)
            recs.append(r)
            rows.append([f"{r['nodes']:,}", f"{r['edges']:,}", f"{s:g}", f"{r['fit_s']:.1f}",
                         f"{r['rss_after_graph_mb']:.0f}", f"{r['estimate_mb']:.0f}", f"{r['peak_rss_mb']:.0f}"])
        print("\nNetMF(method='sparse') on a power-law SBM, d=128, T=10 (peak = VmHWM of the process)\n")
        print(markdown_table(["nodes", "edges", "samples", "fit s", "RSS after graph MB", "estimate MB",
                              "peak RSS MB"], rows))
        if recs and recs[0].get("refused_exact"):
            print(f"\nexact NetMF on that graph: {recs[0]['refused_exact']}")
        out["memory"] = recs
    load = os.getloadavg()
    print(f"\nload {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores")
    emit({"bench": "netmf_memory", **out})
    save_json(args.json, out)


if __name__ == "__main__":
    main()
