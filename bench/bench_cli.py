"""CLI start-up benchmark (issue 16, "CLI start-up"): wall time of whole ``vastgraph`` processes.

usage: python bench/bench_cli.py [--repeats 5] [--nodes 2000] [--json out.json]
                                 [--python PYTHON] [--pythonpath DIR]

Commands, each in its own process (``python -m vastgraph.cli.main ...``):

* ``vastgraph --help``;
* ``vastgraph info STORE`` (a small store: power-law SBM, --nodes nodes, mean degree 10);
* ``vastgraph walk STORE out.npy --walks-per-node 2 --length 20``;
* ``vastgraph embed update EMB delta`` (DNE embeddings of a small dynamic store, a 3-edge delta;
  a fresh copy of the store and embeddings for every run, outside the timed part).

Cold = the first run after emptying numba's cache folder (``NUMBA_CACHE_DIR`` points at a temp
folder); warm = the median of --repeats further runs. "work" is the time the command itself reports
(walks, the update), "overhead" = wall - work (interpreter, imports, numba cache loading, output).
"cpu" is the process's user+sys time: on a loaded machine, the better estimate of the wall time on an
idle one (start-up is single-threaded).
The warm runs are also made with ``NUMBA_DEBUG_CACHE=1``: "compiled" counts the cache entries a warm
process had to save (0 when the cache is really reused), "loaded" the ones it read.

--python / --pythonpath run another interpreter or another checkout (e.g. an unpacked
``git archive HEAD``) to compare before/after. Goals: ``--help`` <= 1 s; warm overhead <= 2 s.
Prints a markdown table and a ``RESULT {json}`` line; the machine load (``os.getloadavg``) is named.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import THREAD_ENV, emit, markdown_table, median, save_json  # noqa: E402

WORK_RE = re.compile(r"(?:walks took|the update took) ([0-9.]+) s")

SETUP = r"""
import sys
from pathlib import Path
import numpy as np
from vastgraph.datasets import power_law_sbm
from vastgraph.graph.storage import save_graph
from vastgraph.graph.dynamic_store import DynamicStore
from vastgraph.graph.delta import GraphDelta
from vastgraph.embed.dne import DNE

root, n = Path(sys.argv[1]), int(sys.argv[2])
g = power_law_sbm(n_nodes=n, avg_degree=10, random_state=0).graph
save_graph(g, root / "store")
ds = DynamicStore.create(root / "dyn-store", g)
model = DNE(dimensions=16, samples=20000, random_state=0).fit(ds.graph)
path = Path(model.keyed_.save(root / "emb"))
model.save_state(path / "state")
ids = g.external_ids("node")
d = GraphDelta().add_edges([ids[0], ids[1], ids[2]], [ids[3], ids[4], ids[5]])
d.save(root / "d.delta")
"""


def run(cmd: list[str], env: dict[str, str], debug_cache: bool = False, cwd: Path | None = None) -> dict:
    full = dict(os.environ, **THREAD_ENV, **env)
    if debug_cache:
        full["NUMBA_DEBUG_CACHE"] = "1"
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=full, capture_output=True, text=True, timeout=900, cwd=cwd)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (rc={proc.returncode}):\n{proc.stdout[-2000:]}\n"
                           f"{proc.stderr[-3000:]}")
    out = proc.stdout + proc.stderr
    m = WORK_RE.search(re.sub(r"\s+", " ", out))
    rec = {"wall": wall, "cpu": cpu, "work": float(m.group(1)) if m else None}
    if debug_cache:
        rec["compiled"] = len(re.findall(r"\[cache\] data saved", out))
        rec["loaded"] = len(re.findall(r"\[cache\] data loaded", out))
        rec["saved_names"] = sorted(set(re.findall(r"\[cache\] data saved to .*?([A-Za-z_0-9]+\.py[^/\s]*)\.nbc", out)))
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--nodes", type=int, default=2000)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--pythonpath", default=None, help="checkout to import vastgraph from (default: this one)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench_cli_"))  # also the cwd: --pythonpath then decides the import
    env = {"NUMBA_CACHE_DIR": str(work / "numba-cache")}
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath
    try:
        data = work / "data"
        subprocess.run([args.python, "-c", SETUP, str(data), str(args.nodes)], check=True, cwd=work,
                       env=dict(os.environ, **THREAD_ENV, NUMBA_CACHE_DIR=str(work / "setup-cache"),
                                **({"PYTHONPATH": args.pythonpath} if args.pythonpath else {})))
        cli = [args.python, "-m", "vastgraph.cli.main"]
        runs = work / "runs"
        runs.mkdir()

        def fresh(i: int) -> list[str]:
            dst = runs / f"r{i}"
            if dst.exists():
                shutil.rmtree(dst)
            dst.mkdir(parents=True)
            shutil.copytree(data / "dyn-store", dst / "dyn-store")
            shutil.copytree(data / "emb", dst / "emb")
            return [str(dst / "emb"), str(data / "d.delta"), "--store", str(dst / "dyn-store")]

        commands = {
            "--help": lambda i: ["--help"],
            "info": lambda i: ["info", str(data / "store")],
            "walk": lambda i: ["walk", str(data / "store"), str(runs / f"w{i}.npy"), "--walks-per-node", "2",
                               "--length", "20", "--overwrite"],
            "embed update": lambda i: ["embed", "update", *fresh(i)],
        }
        rows, records = [], {}
        for name, make in commands.items():
            shutil.rmtree(work / "numba-cache", ignore_errors=True)
            cold = run(cli + make(0), env, debug_cache=True, cwd=work)
            warm = [run(cli + make(i + 1), env, cwd=work) for i in range(args.repeats)]
            probe = run(cli + make(99), env, debug_cache=True, cwd=work)
            w_wall = median([r["wall"] for r in warm])
            w_cpu = median([r["cpu"] for r in warm])
            w_work = median([r["work"] for r in warm]) if warm[0]["work"] is not None else None
            rec = {"cold_wall": cold["wall"], "cold_work": cold["work"], "cold_compiled": cold["compiled"],
                   "cold_cpu": cold["cpu"], "warm_wall": w_wall, "warm_cpu": w_cpu, "warm_work": w_work,
                   "warm_overhead": w_wall - (w_work or 0.0), "warm_compiled": probe["compiled"],
                   "warm_loaded": probe["loaded"], "warm_compiled_names": probe["saved_names"]}
            records[name] = rec
            rows.append({"command": f"vastgraph {name}", "cold wall s": f"{cold['wall']:.2f}",
                         "cold compiled": cold["compiled"], "warm wall s (median)": f"{w_wall:.2f}",
                         "warm work s": "-" if w_work is None else f"{w_work:.3f}",
                         "warm overhead s": f"{rec['warm_overhead']:.2f}",
                         "warm cpu s (median)": f"{w_cpu:.2f}",
                         "warm compiled / loaded": f"{probe['compiled']} / {probe['loaded']}"})
        load = os.getloadavg()
        print(f"\nCLI start-up, {args.nodes}-node store, {args.repeats} warm runs; load "
              f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores; "
              f"python {args.python}{' PYTHONPATH=' + args.pythonpath if args.pythonpath else ''}\n")
        print(markdown_table(list(rows[0]), [list(r.values()) for r in rows]))
        result = {"bench": "cli", "nodes": args.nodes, "repeats": args.repeats, "load": load,
                  "commands": records}
        emit(result)
        if args.json:
            save_json(args.json, result)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
