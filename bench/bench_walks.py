"""Random-walk throughput on BlogCatalog: vastgraph vs PecanPy, in the same run.

usage: python bench/bench_walks.py [--rounds 3] [--reps 3] [--workdir /tmp/vastgraph-bench]
                                   [--json out.json] [--quick]

Each round runs, one process per measurement, vastgraph and then PecanPy (its fastest mode for
each setting: FirstOrderUnweighted for uniform walks, PreComp for node2vec) with the peer
harness's own script (shared/peers/bench_walks.py) in the peers' venv. 10 walks per node, 80 steps
(8,249,600 steps per run). steps/s = steps / best warm time; "as returned" includes PecanPy's
conversion of walks to lists of str (what simulate_walks returns) — vastgraph returns its int32
array directly; "kernel" is the walk kernel alone. Peak RSS = the process high-water mark.
Also: walk-fidelity check of every vastgraph run against the exact node2vec(p,q) shares, and
vastgraph's throughput on generated graphs of three sizes (linear growth).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (Timer, emit, fmt_rate, markdown_table, median, peers_python, peers_workdir,  # noqa: E402
                     run_json, save_json, shared_dir, this_python)

WALK_LEN = 80
SETTINGS = [("uniform", 1.0, 1.0, "FirstOrderUnweighted"), ("node2vec", 1.0, 0.5, "PreComp"),
            ("node2vec", 0.25, 4.0, "PreComp")]


def blogcatalog_graph():
    import scipy.io

    from vastgraph.graph import GraphBuilder

    A = scipy.io.loadmat(str(shared_dir() / "datasets" / "blogcatalog" / "blogcatalog.mat"))["network"].tocsr()
    coo = A.tocoo()
    keep = coo.row < coo.col
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=A.shape[0])
    b.add_edges(coo.row[keep], coo.col[keep])
    return b.build(), A


def worker(args: argparse.Namespace) -> None:
    """One vastgraph measurement in this process (prints a RESULT line)."""
    import numba

    from vastgraph.sampling.walks import random_walks

    numba.set_num_threads(2)
    with Timer() as tb:
        g, A = blogcatalog_graph()
    times = []
    walks = None
    for r in range(args.reps):
        with Timer() as t:
            walks = random_walks(g, walks_per_node=args.walks_per_node, walk_length=WALK_LEN,
                                 p=args.p, q=args.q, random_state=r)
        times.append(t.dt)
    steps = walks.shape[0] * WALK_LEN
    sys.path.insert(0, str(peers_workdir(Path(args.workdir))))
    from numba_walker import walk_fidelity  # the peer harness's own checker

    rng = np.random.default_rng(0)
    idx = rng.choice(walks.shape[0], size=5000, replace=False)
    acc = walk_fidelity(A.indptr.astype(np.int64), A.indices.astype(np.int64),
                        np.ascontiguousarray(walks[idx].astype(np.int64)), float(args.p), float(args.q))
    tot = acc[:3].sum()
    warm = times[1:] or times
    emit(dict(tool="vastgraph", build_s=tb.dt, cold_s=times[0], warm_s=warm, steps=steps,
              steps_per_s=steps / min(warm), fidelity_obs=(acc[:3] / tot).tolist(),
              fidelity_exp=(acc[3:] / tot).tolist(), max_dev=float(np.abs(acc[:3] - acc[3:]).max() / tot)))


def scaling_worker(args: argparse.Namespace) -> None:
    import numba

    from vastgraph.graph import GraphBuilder
    from vastgraph.sampling.walks import random_walks

    numba.set_num_threads(2)
    rng = np.random.default_rng(0)
    n = args.n
    m = n * 16
    src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
    b = GraphBuilder(directed=False, id_mode="dense", self_loops="drop", duplicates="first")
    b.add_nodes(count=n)
    b.add_edges(src, dst)
    g = b.build()
    times = []
    for r in range(3):
        with Timer() as t:
            w = random_walks(g, walks_per_node=2, walk_length=WALK_LEN, p=args.p, q=args.q, random_state=r)
        times.append(t.dt)
    emit(dict(n=n, entries=g.num_edges(), steps=w.shape[0] * WALK_LEN, steps_per_s=w.shape[0] * WALK_LEN / median(times[1:])))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--scaling-worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--p", type=float, default=1.0)
    ap.add_argument("--q", type=float, default=1.0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--walks-per-node", type=int, default=10)
    ap.add_argument("--workdir", default="/tmp/vastgraph-bench")
    ap.add_argument("--json", default=None)
    ap.add_argument("--quick", action="store_true", help="1 round, 2 reps, 1 walk per node")
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if args.scaling_worker:
        return scaling_worker(args)
    if args.quick:
        args.rounds, args.reps, args.walks_per_node = 1, 2, 1
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    peers = peers_workdir(work)
    ppy = peers_python()
    penv = {"PEERS_RESULTS_DIR": str(work / "peer-results"),
            "PEERS_DATA_ROOT": str(shared_dir() / "datasets")}
    me = [this_python(), __file__, "--workdir", str(work), "--reps", str(args.reps),
          "--walks-per-node", str(args.walks_per_node)]
    raw: dict[str, dict[str, list]] = {}
    for rnd in range(args.rounds):
        for kind, p, q, mode in SETTINGS:
            key = f"{kind} p={p:g} q={q:g}"
            ours = run_json(me + ["--worker", "--p", str(p), "--q", str(q)])
            peer = run_json([str(ppy), str(peers / "bench_walks.py"), "pecanpy", "--mode", mode, "--p", str(p),
                             "--q", str(q), "--reps", str(args.reps), "--walks-per-node", str(args.walks_per_node)],
                            env=penv, cwd=peers)
            slot = raw.setdefault(key, {"ours": [], "peer": [], "mode": mode})
            slot["ours"].append(ours)
            slot["peer"].append(peer)
            print(f"round {rnd} {key}: vastgraph {fmt_rate(ours['steps_per_s'])} steps/s, "
                  f"pecanpy {mode} {fmt_rate(peer['steps_per_s_total_best'])} (kernel "
                  f"{fmt_rate(peer['steps_per_s_core_best'])})", file=sys.stderr)
    rows = []
    for key, slot in raw.items():
        o = median([r["steps_per_s"] for r in slot["ours"]])
        pt = median([r["steps_per_s_total_best"] for r in slot["peer"]])
        pk = median([r["steps_per_s_core_best"] for r in slot["peer"]])
        prep = median([r["info"].get("preprocess_s", 0.0) + r["info"].get("load_s", 0.0) for r in slot["peer"]])
        om = median([r["peak_rss_mb"] for r in slot["ours"]])
        pm = median([r["peak_rss_mb"] for r in slot["peer"]])
        dev = max(r["max_dev"] for r in slot["ours"])
        rows.append([key, fmt_rate(o), f"pecanpy {slot['mode']}", fmt_rate(pt), fmt_rate(pk),
                     f"{o / pt:.2f}×", f"{o / pk:.2f}×", f"{prep:.2f}", f"{om:.0f} / {pm:.0f}",
                     f"{dev * 100:.2f} pp"])
    table = markdown_table(["walk", "vastgraph steps/s", "peer", "peer steps/s (as returned)",
                            "peer steps/s (kernel)", "ratio vs returned", "ratio vs kernel",
                            "peer load+preprocess s", "peak RSS MB ours / peer", "fidelity max dev"], rows)
    scaling = []
    for n in (10_000, 100_000, 1_000_000):
        for kind, p, q, _ in SETTINGS[:2]:
            r = run_json(me + ["--scaling-worker", "--n", str(n), "--p", str(p), "--q", str(q)])
            scaling.append([f"{n:,}", f"{r['entries']:,}", f"{kind} p={p:g} q={q:g}", fmt_rate(r["steps_per_s"])])
    table2 = markdown_table(["nodes", "edge entries", "walk", "vastgraph steps/s"], scaling)
    print(table)
    print()
    print(table2)
    save_json(args.json, {"raw": raw, "table": table, "scaling": table2})


if __name__ == "__main__":
    main()
