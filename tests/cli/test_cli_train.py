"""CLI `train`: node classification and link prediction outputs, resume, config validation, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from vastgraph.cli.train_cmds import train
from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
from vastgraph.graph.builder import GraphBuilder
from vastgraph.graph.storage import save_graph

app = typer.Typer()
app.command()(train)
runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 60
    block = np.arange(n) % 3
    b = GraphBuilder(directed=False)
    b.add_nodes("node", ids=[f"n{i}" for i in range(n)], labels=block,
                features=(np.eye(3)[block] + 0.5 * rng.normal(size=(n, 3))).astype(np.float32))
    u = rng.integers(0, n, 400)
    v = rng.integers(0, n, 400)
    keep = (block[u] == block[v]) & (u != v)
    b.add_edges([f"n{i}" for i in u[keep]], [f"n{i}" for i in v[keep]])
    path = tmp_path_factory.mktemp("cli_train") / "g"
    save_graph(b.build(), path)
    return path


def test_node_classification_writes_outputs(store, tmp_path):
    out = tmp_path / "run"
    r = runner.invoke(app, ["sage", str(store), "--epochs", "3", "--set", "hidden=8", "--set", "out_dim=8",
                            "--set", "batch_size=16", "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output
    m = json.loads((out / "metrics.json").read_text())
    assert m["task"] == "node-classification" and 0 <= m["micro_f1"] <= 1 and m["epochs_run"] == 3
    assert len(m["history"]) == 3 and m["model_config"]["hidden"] == 8
    keyed = KeyedEmbeddings.load(out / "embeddings")
    assert len(keyed) == 60 and keyed.dim == 8 and keyed.get("n5").shape == (8,)
    assert (out / "model.pt").is_file() and (out / "checkpoints" / "last.pt").is_file()
    # the folder is protected; --resume continues to more epochs from the checkpoint
    r = runner.invoke(app, ["sage", str(store), "--epochs", "3", "--out", str(out)])
    assert r.exit_code == 2 and "--resume" in r.output
    r = runner.invoke(app, ["sage", str(store), "--epochs", "5", "--set", "hidden=8", "--set", "out_dim=8",
                            "--set", "batch_size=16", "--out", str(out), "--resume", "--json"])
    assert r.exit_code == 0, r.output
    m2 = json.loads((out / "metrics.json").read_text())
    assert m2["epochs_run"] == 5 and m2["history"][:3] == m["history"][:3]


def test_link_prediction_and_yaml_config(store, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("hidden: 8\nout_dim: 8\nfanouts: [4, 4]\nlink_head: hadamard\nbatch_size: 64\n")
    r = runner.invoke(app, ["gcn", str(store), "--task", "link-prediction", "--config", str(cfg), "--epochs", "2",
                            "--json"])
    assert r.exit_code == 0, r.output
    res = json.loads(r.stdout)
    assert res["task"] == "link-prediction" and 0 <= res["auc"] <= 1 and 0 <= res["ap"] <= 1


def test_bad_parameters_and_names(store, tmp_path):
    r = runner.invoke(app, ["nope", str(store)])
    assert r.exit_code == 2 and "known models" in r.output
    r = runner.invoke(app, ["sage", str(store), "--set", "bogus=1", "--epochs", "1"])
    assert r.exit_code == 2 and "bogus" in r.output and "valid" in r.output
    r = runner.invoke(app, ["sage", str(store), "--set", "lr=abc", "--epochs", "1"])
    assert r.exit_code == 2 and "lr" in r.output
    r = runner.invoke(app, ["sage", str(store), "--epochs", "0"])
    assert r.exit_code == 2 and "epochs=0" in r.output
    r = runner.invoke(app, ["sage", str(store), "--train-ratio", "1.5"])
    assert r.exit_code == 2 and "--train-ratio" in r.output
    r = runner.invoke(app, ["sage", str(store), "--resume"])
    assert r.exit_code == 2 and "--out" in r.output
    r = runner.invoke(app, ["sage", str(tmp_path / "missing")])
    assert r.exit_code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("hidden: [1,\n")
    r = runner.invoke(app, ["sage", str(store), "--config", str(bad)])
    assert r.exit_code == 2 and "bad.yaml" in r.output
