"""CLI tests for walk, query, embed and evaluate: outputs, exit codes and messages."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from vastgraph.cli.main import app
from vastgraph.datasets import power_law_sbm

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "sbm"
    power_law_sbm(n_nodes=300, n_blocks=3, avg_degree=10, mixing=0.05, random_state=0).graph.save(str(path))
    return path


def test_walk_npy_and_parquet(store, tmp_path):
    out = tmp_path / "w.npy"
    r = runner.invoke(app, ["walk", str(store), str(out), "--walks-per-node", "2", "--length", "5",
                            "--p", "0.5", "--q", "2"])
    assert r.exit_code == 0, r.output
    w = np.load(out)
    assert w.shape == (600, 6) and w.dtype == np.int32 and w.min() >= -1
    r = runner.invoke(app, ["walk", str(store), str(out)])
    assert r.exit_code == 2 and "--overwrite" in r.output
    import pyarrow.parquet as pq

    pout = tmp_path / "w.parquet"
    assert runner.invoke(app, ["walk", str(store), str(pout), "--walks-per-node", "1", "--length", "3"]).exit_code == 0
    t = pq.read_table(pout)
    assert t.num_rows == 300 and len(t.column("walk")[0]) == 4


def test_walk_bad_parameters(store, tmp_path):
    r = runner.invoke(app, ["walk", str(store), str(tmp_path / "w.npy"), "--p", "0"])
    assert r.exit_code == 2 and "p" in r.output
    r = runner.invoke(app, ["walk", str(store), str(tmp_path / "w.csv")])
    assert r.exit_code == 2 and ".npy" in r.output
    r = runner.invoke(app, ["walk", str(store), str(tmp_path / "w.txt")])
    assert r.exit_code == 2 and "--ids external" in r.output
    r = runner.invoke(app, ["walk", str(store), str(tmp_path / "w.npy"), "--etype", "nope"])
    assert r.exit_code == 2 and "known edge types" in r.output


def test_query_table_json_and_parse_error(store):
    r = runner.invoke(app, ["query", str(store), 'g.V("node", [0, 1]).outV().limit(3).values("id")', "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert 1 <= len(rows) <= 3
    r = runner.invoke(app, ["query", str(store), 'g.V("node").outV(.count()'])
    assert r.exit_code == 2 and "column" in r.output


def test_embed_evaluate_node_classification_and_link_prediction(store, tmp_path):
    emb = tmp_path / "emb"
    r = runner.invoke(app, ["embed", "prone", str(store), str(emb), "--dimensions", "16"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["evaluate", str(emb), "--store", str(store), "--json", "--repeats", "2"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [row["train_ratio"] for row in rows] == [0.1, 0.5]
    assert rows[1]["micro_f1"] > 0.6  # 3 planted blocks, chance is about 1/3
    emb2 = tmp_path / "emb2"
    r = runner.invoke(app, ["embed", "deepwalk", str(store), str(emb2), "--dimensions", "16", "--holdout", "0.1",
                            "--set", "walks_per_node=4", "--set", "walk_length=20"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["evaluate", str(emb2), "--json"])
    assert r.exit_code == 0, r.output
    lp = json.loads(r.stdout)[0]
    assert lp["auc"] > 0.6 and lp["n_pos"] == lp["n_neg"] > 0


def test_embed_bad_config(store, tmp_path):
    r = runner.invoke(app, ["embed", "nosuch", str(store), str(tmp_path / "e")])
    assert r.exit_code == 2 and "deepwalk" in r.output
    r = runner.invoke(app, ["embed", "prone", str(store), str(tmp_path / "e"), "--set", "bogus=1"])
    assert r.exit_code == 2 and "bogus" in r.output and "dimensions" in r.output
    cfg = tmp_path / "c.yaml"
    cfg.write_text("dimensions: [oops\n")
    r = runner.invoke(app, ["embed", "prone", str(store), str(tmp_path / "e"), "--config", str(cfg)])
    assert r.exit_code == 2 and "c.yaml" in r.output
    cfg.write_text("dimensions: many\n")
    r = runner.invoke(app, ["embed", "prone", str(store), str(tmp_path / "e"), "--config", str(cfg)])
    assert r.exit_code == 2 and "dimensions" in r.output
    assert not (tmp_path / "e").exists()
