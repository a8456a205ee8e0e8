"""Tests of `vastgraph embed update` (vastgraph.cli.dynamic_cmds.embed_update over vastgraph.embed.updater)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from vastgraph.cli.dynamic_cmds import PAUSE_ENV, PAUSE_MARKER_ENV, embed_update
from vastgraph.embed.dne import DNE
from vastgraph.embed.incremental_walks import IncrementalWalkEmbedder
from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.delta import GraphDelta

REPO = Path(__file__).resolve().parents[2]
APP_CODE = ("import typer; from vastgraph.cli.dynamic_cmds import embed_update; "
            "app = typer.Typer(); app.command()(embed_update); app()")


def app() -> typer.Typer:
    a = typer.Typer()
    a.command()(embed_update)
    return a


def graph():
    b = GraphBuilder(directed=False)
    rng = np.random.default_rng(0)
    src, dst = rng.integers(0, 60, 300), rng.integers(0, 60, 300)
    b.add_edges(src[src != dst], dst[src != dst])
    return b.build()


def store(folder: Path):
    from vastgraph.graph.dynamic_store import DynamicStore

    return DynamicStore.create(folder, graph())


def write_embeddings(folder: Path, model) -> Path:
    path = Path(model.keyed_.save(folder))
    model.save_state(path / "state")
    return path


def dne_pair(tmp_path, name="emb", **params):
    """A store ``NAME-store`` and DNE embeddings ``NAME`` trained on its version 0."""
    ds = store(tmp_path / f"{name}-store")
    model = DNE(**dict(dict(dimensions=8, samples=20000, random_state=0), **params)).fit(ds.graph)
    return write_embeddings(tmp_path / name, model)


@pytest.fixture
def dne_folder(tmp_path):
    return dne_pair(tmp_path)


def versions(emb: Path) -> tuple[int, int]:
    from vastgraph.embed.updater import Updater

    st = Updater.open(None, emb).state
    return st["store_version"], st["embedding_version"]


def delta_file(tmp_path, name="d.delta", new=(1000, 1001)):
    d = GraphDelta().add_nodes("node", list(new)).add_edges([new[0], new[1], 3], [1, 2, 4])
    return Path(d.save(tmp_path / name))


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.blake2b(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_update_in_place_and_refuse_twice(tmp_path, dne_folder):
    res = CliRunner().invoke(app(), [str(dne_folder), str(delta_file(tmp_path)), "--set", "m=2", "--seed", "5"])
    assert res.exit_code == 0, res.output
    assert "freed old vertices" in res.output and "new vertices" in res.output
    kv = KeyedEmbeddings.load(dne_folder, verify=True)
    assert len(kv) == 62 and 1001 in kv
    assert versions(dne_folder) == (1, 1)  # the store the state names got the delta first
    again = CliRunner().invoke(app(), [str(dne_folder), str(delta_file(tmp_path))])
    assert again.exit_code == 2 and "already applied" in again.output and "--allow-duplicate" in again.output
    assert versions(dne_folder) == (1, 1)
    assert not list(tmp_path.glob(".emb.*.update-*")) and not list(tmp_path.glob(".emb.old-*"))


def test_out_folder_edgelist_and_walk_embedder(tmp_path):
    ds = store(tmp_path / "walks-store")
    model = IncrementalWalkEmbedder(dimensions=8, walk_length=6, walks_per_node=2, random_state=0).fit(ds.graph)
    src = write_embeddings(tmp_path / "walks", model)
    before = digest(src)
    (tmp_path / "e.txt").write_text("500 1\n500 2\n7 8\n")
    out = tmp_path / "new"
    res = CliRunner().invoke(app(), [str(src), str(tmp_path / "e.txt"), "--out", str(out), "--new-nodes"])
    assert res.exit_code == 0, res.output
    assert digest(src) == before  # the source folder still follows version 0 (the store keeps it)
    assert len(KeyedEmbeddings.load(out)) == 61
    res = CliRunner().invoke(app(), [str(src), str(tmp_path / "e.txt"), "--out", str(out)])
    assert res.exit_code == 2 and "--overwrite" in res.output


def test_bad_input_leaves_folder_and_store_unchanged(tmp_path, dne_folder):
    before = digest(dne_folder)
    store_before = digest(tmp_path / "emb-store")
    bad = Path(GraphDelta().add_edges([0], [777]).save(tmp_path / "bad.delta"))
    for args, msg in (([str(bad)], "777"),
                      ([str(delta_file(tmp_path)), "--set", "bogus=1"], "bogus"),
                      ([str(delta_file(tmp_path)), "--set", "m=-3"], "m="),
                      ([str(delta_file(tmp_path)), "--set", "dimensions=4"], "dimensions"),
                      ([str(delta_file(tmp_path)), "--format", "xml"], "--format"),
                      ([str(tmp_path / "missing.delta")], "no such file")):
        res = CliRunner().invoke(app(), [str(dne_folder), *args])
        assert res.exit_code == 2 and msg in res.output, (args, res.output)
    assert digest(dne_folder) == before
    assert {k: v for k, v in digest(tmp_path / "emb-store").items() if k != ".lock"} == \
        {k: v for k, v in store_before.items() if k != ".lock"}
    KeyedEmbeddings.load(tmp_path / "emb").save(tmp_path / "plain")
    res = CliRunner().invoke(app(), [str(tmp_path / "plain"), str(delta_file(tmp_path))])
    assert res.exit_code == 2 and "no model state" in res.output


def test_explicit_store_and_wrong_store(tmp_path, dne_folder):
    from vastgraph.graph.dynamic_store import DynamicStore

    res = CliRunner().invoke(app(), [str(dne_folder), str(delta_file(tmp_path)), "--store", str(tmp_path / "emb-store")])
    assert res.exit_code == 0, res.output
    assert DynamicStore.open(tmp_path / "emb-store").graph.num_nodes() == 62
    other = store(tmp_path / "other")
    other.apply(GraphDelta().add_edges([5], [6]))
    other.apply(GraphDelta().add_edges([5], [7]))  # version 2 > the embeddings' 1, another history
    res = CliRunner().invoke(app(), [str(dne_folder), str(delta_file(tmp_path, "e.delta", (2000, 2001))),
                                     "--store", str(tmp_path / "other")])
    assert res.exit_code == 2 and "holds another delta" in res.output


def run_cli(args, env_extra=None, wait=True):
    env = dict(os.environ, NUMBA_NUM_THREADS="1", PYTHONPATH=str(REPO))
    env.update(env_extra or {})
    proc = subprocess.Popen([sys.executable, "-c", APP_CODE, *map(str, args)], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if wait:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out.decode()
    return proc


@pytest.mark.parametrize("stage", ["after_store", "training", "before_swap"])
def test_sigkill_mid_update_keeps_previous_and_rerun_matches(tmp_path, stage, one_thread):
    emb = dne_pair(tmp_path, "emb", update_samples=40_000)
    ref = dne_pair(tmp_path, "ref", update_samples=40_000)
    delta = delta_file(tmp_path)
    before = digest(emb)
    marker = tmp_path / "paused"
    proc = run_cli([emb, delta, "--seed", "1", "--set", "m=3"], {PAUSE_ENV: stage, PAUSE_MARKER_ENV: str(marker)},
                   wait=False)
    deadline = time.time() + 240
    while not marker.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.1)
    assert marker.exists(), proc.communicate()[0].decode() if proc.poll() is not None else "no pause"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert digest(emb) == before  # previous embeddings intact and loadable
    KeyedEmbeddings.load(emb, verify=True)
    DNE.load_state(emb / "state")
    assert versions(emb) == (1, 0)  # log first: the store holds the delta, the embeddings follow version 0
    out = run_cli([emb, delta]).communicate()[0].decode()  # the retry: recovery completes the logged delta
    assert "interrupted run" in out
    assert versions(emb) == (1, 1)
    res = CliRunner().invoke(app(), [str(ref), str(delta), "--seed", "1", "--set", "m=3"])  # uninterrupted
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(np.load(emb / "vectors.npy"), np.load(ref / "vectors.npy"))
    np.testing.assert_array_equal(np.load(emb / "state" / "C.npy"), np.load(ref / "state" / "C.npy"))
    assert not list(tmp_path.glob(".emb.*.update-*")) and not list(tmp_path.glob(".emb.pending.json"))


def test_two_concurrent_updates_both_kept(tmp_path, one_thread):
    """Issue 18 item 2: two `embed update` processes on one folder serialise on its lock; no update is lost."""
    emb = dne_pair(tmp_path)
    d1, d2 = delta_file(tmp_path, "a.delta", (1000, 1001)), delta_file(tmp_path, "b.delta", (2000, 2001))
    procs = [run_cli([emb, d], wait=False) for d in (d1, d2)]
    outs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert versions(emb) == (2, 2)
    kv = KeyedEmbeddings.load(emb, verify=True)
    assert len(kv) == 64 and all(k in kv for k in (1000, 1001, 2000, 2001))
    from vastgraph.graph.dynamic_store import DynamicStore

    logged = {d for _, d in DynamicStore.open(tmp_path / "emb-store").digests()}
    assert logged == {GraphDelta.load(d1).digest(), GraphDelta.load(d2).digest()}
