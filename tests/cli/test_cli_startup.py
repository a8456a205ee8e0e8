"""CLI start-up (issue 16): what a command imports, and a numba cache that later processes reuse.

These check properties, never wall time: the modules in ``sys.modules`` of a fresh process, and
``NUMBA_DEBUG_CACHE`` output (a warm process loads its kernels and saves, i.e. compiles, none).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "torch_geometric", "sklearn", "matplotlib", "faiss", "ray", "fastapi")

RUN_APP = """
import json, sys
sys.argv = ["vastgraph"] + json.loads(sys.argv[1])
from vastgraph.cli.main import app
try:
    app()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("MODULES " + json.dumps(sorted(m for m in sys.modules if "." not in m)), flush=True)
sys.exit(code)
"""


def run_cli(args: list[str], tmp_path: Path, debug_cache: bool = False) -> tuple[str, set[str]]:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"), NUMBA_NUM_THREADS="2")
    env.pop("NUMBA_DEBUG_CACHE", None)
    if debug_cache:
        env["NUMBA_DEBUG_CACHE"] = "1"
    proc = subprocess.run([sys.executable, "-c", RUN_APP, json.dumps([str(a) for a in args])], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    line = [ln for ln in proc.stdout.splitlines() if ln.startswith("MODULES ")][-1]
    return proc.stdout + proc.stderr, set(json.loads(line[len("MODULES "):]))


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    from vastgraph.graph.builder import GraphBuilder
    from vastgraph.graph.storage import save_graph

    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, 80, 400), rng.integers(0, 80, 400)
    b = GraphBuilder(directed=False)
    b.add_edges(src[src != dst], dst[src != dst])
    return Path(save_graph(b.build(), tmp_path_factory.mktemp("startup") / "store"))


def test_importing_the_cli_loads_no_heavy_library():
    code = ("import sys, json, vastgraph.cli.main; "
            "print(json.dumps(sorted(m for m in sys.modules if '.' not in m)))")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                         check=True).stdout
    loaded = set(json.loads(out.strip().splitlines()[-1]))
    # no command runs at import: not even numpy's users are loaded yet
    assert not loaded & {*HEAVY, "pandas", "pyarrow", "scipy", "numba", "yaml"}, loaded & {*HEAVY, "pandas"}


def test_help_lists_commands_without_heavy_imports(tmp_path):
    out, loaded = run_cli(["--help"], tmp_path)
    for cmd in ("build", "info", "walk", "embed", "train", "serve"):
        assert cmd in out
    assert not loaded & {*HEAVY, "pandas", "numba", "scipy"}


def test_walk_imports_only_what_it_needs_and_reuses_the_numba_cache(tmp_path, store):
    args = ["walk", store, tmp_path / "w.npy", "--walks-per-node", "2", "--length", "5", "--overwrite"]
    first, loaded = run_cli(args, tmp_path)
    assert "walks took" in first
    assert not loaded & {*HEAVY, "pandas", "pyarrow"}
    walks = np.load(tmp_path / "w.npy")
    assert walks.shape[1] == 6 and (walks[:, 0] >= 0).all()
    second, _ = run_cli(args, tmp_path, debug_cache=True)
    assert "[cache] data loaded" in second  # the kernels come from the cache ...
    assert "[cache] data saved" not in second  # ... and nothing is compiled again
    np.testing.assert_array_equal(np.load(tmp_path / "w.npy"), walks)


def test_info_on_a_checked_store_runs_no_kernel(tmp_path, store):
    run_cli(["info", store], tmp_path)  # the first open checks the CSR structure (a numba kernel)
    out, loaded = run_cli(["info", store], tmp_path, debug_cache=True)
    assert "[cache]" not in out, "the store's structure was checked again: its marker does not vouch for it"
    assert not loaded & {*HEAVY, "pandas", "pyarrow"}


def test_graph_package_exports_resolve_lazily():
    code = """
import importlib, sys
import vastgraph.graph as g
assert "vastgraph.graph.builder" not in sys.modules and "pandas" not in sys.modules
for name in g.__all__:
    mod = importlib.import_module("vastgraph.graph." + g._EXPORTS[name])
    assert getattr(g, name) is getattr(mod, name), name
from vastgraph.graph.subgraph import subgraph
from vastgraph.graph import subgraph as again
assert again is subgraph and callable(again)
try:
    g.no_such_name
except AttributeError as exc:
    assert "no_such_name" in str(exc)
else:
    raise AssertionError("no AttributeError")
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_dynamic_cmds_reexports_updater_names_lazily():
    from vastgraph.cli import dynamic_cmds
    from vastgraph.embed import updater

    assert dynamic_cmds.PAUSE_ENV == updater.PAUSE_ENV and dynamic_cmds.STAGES == updater.STAGES
    with pytest.raises(AttributeError, match="no_such_name"):
        dynamic_cmds.no_such_name  # noqa: B018
