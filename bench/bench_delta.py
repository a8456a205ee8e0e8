"""apply_delta / DynamicStore.apply vs a full rebuild, at 0.1%, 1%, 10% of the edges."""
import time, sys, tempfile, os, numpy as np
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.delta import GraphDelta, apply_delta
from vastgraph.graph.dynamic_store import DynamicStore
n, m = int(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
cols = {r: (rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m).astype(np.float32),
            np.sort(rng.integers(0, 10**6, m))) for r in ("click", "cobid")}
def build():
    b = GraphBuilder(id_mode="dense"); b.add_nodes("node", count=n)
    for r, (s, d, w, t) in cols.items():
        b.add_edges(s, d, etype=r, weight=w, time=t)
    return b.build()
def med(f, k=5):
    ts = []
    for _ in range(k):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return float(np.median(ts))
g = build()
root = tempfile.mkdtemp(dir="/tmp/abench")
t_build = med(build, 3)
t_save = med(lambda: g.save(os.path.join(root, "plain"), overwrite=True), 3)
ds = DynamicStore.create(os.path.join(root, "g"), g)
print(f"graph: {n} nodes, 2 edge types x {m} edges (directed, weighted, timed) = {2*m} edges; "
      f"full rebuild {t_build:.3f}s, save_graph {t_save:.3f}s (medians)")
print("delta % of click | delta edges | apply_delta s (mmap graph) | /rebuild | DynamicStore.apply s | /(rebuild+save)")
t0 = 2 * 10**6
for frac in (0.001, 0.01, 0.1):
    k = int(m * frac)
    src, dst = ds.graph.edge_index("click")
    def mk(seed):
        r = np.random.default_rng(seed)
        pick = r.choice(src.size, k // 10, replace=False)
        return (GraphDelta(time=t0).add_edges(r.integers(0, n, k), r.integers(0, n, k), etype="click",
                weight=r.random(k), time=np.full(k, t0)).delete_edges(src[pick], dst[pick], etype="click"))
    delta = mk(1)
    apply_delta(ds.graph, delta)
    ta = med(lambda: apply_delta(ds.graph, delta))
    ts = []
    for rep in range(3):
        d = mk(10 + rep)
        t1 = time.perf_counter(); ds.apply(d, missing="ignore"); ts.append(time.perf_counter() - t1)
        src, dst = ds.graph.edge_index("click")
    tsm = float(np.median(ts))
    print(f"{100*frac:>16} | {k:>11} | {ta:>26.4f} | {ta/t_build:>8.3f} | {tsm:>20.3f} | {tsm/(t_build+t_save):.3f}")
    print("RESULT", {"delta_fraction": frac, "delta_edges": k, "apply_delta_s": round(ta, 4), "rebuild_s": round(t_build, 4),
                     "store_apply_s": round(tsm, 4), "save_s": round(t_save, 4)})
