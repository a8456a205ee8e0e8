"""End to end: the README's main job on the tiny world."""

import json

from typer.testing import CliRunner

from vastgraph.cli.main import app
from vastgraph.graph import open_graph


def test_quickstart_tiny_world(tmp_path):
    out = tmp_path / "qs"
    r = CliRunner().invoke(app, ["quickstart", "--out", str(out), "--preset", "tiny", "--dimensions", "16",
                                 "--seed", "1", "--methods", "coclick,deepwalk,metapath2vec,dne",
                                 "--budget", "0.5"])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text()
    assert html.count("data:image/png") >= 4  # recall curves, auction bars, DNE freshness, projection
    metrics = json.loads((out / "metrics.json").read_text())
    methods = {"coclick", "deepwalk", "metapath2vec", "dne"}
    assert set(metrics["retrieval"]) == methods | {"oracle (hidden relevance)"}
    for m in metrics["retrieval"].values():
        assert 0 <= m["recall@10"] <= m["recall@50"] <= m["recall@100"] <= 1
    oracle = metrics["retrieval"]["oracle (hidden relevance)"]
    assert all(metrics["retrieval"][k]["ndcg@50"] <= oracle["ndcg@50"] + 1e-9 for k in methods)
    # graph methods generalise beyond the queries' own clicks: better than chance by far
    assert metrics["retrieval"]["metapath2vec"]["recall@100"] > 0.5
    assert {row["method"] for row in metrics["auction"]} == methods
    assert metrics["dne_freshness"] and all(row["update s"] >= 0 for row in metrics["dne_freshness"])
    assert len(metrics["click_model"]) == 2 and all(0.5 < row["auc"] <= 1 for row in metrics["click_model"])
    g = open_graph(out / "graph")
    assert {"query", "ad", "advertiser"} <= set(g.node_types)


def test_ads_run_rejects_bad_config(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("preset: tiny\nmethods: [coclick, nosuch]\n")
    r = CliRunner().invoke(app, ["ads", "run", "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "nosuch" in r.output and "metapath2vec" in r.output
    cfg.write_text("preset: tiny\nbogus_key: 1\n")
    r = CliRunner().invoke(app, ["ads", "run", "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "bogus_key" in r.output


def test_ads_run_on_own_logs_without_a_world(tmp_path):
    log = tmp_path / "events.parquet"
    r = CliRunner().invoke(app, ["ads", "generate", str(log), "--preset", "tiny"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["ads", "run", "--events", str(log), "--methods", "coclick,metapath2vec",
                                 "--out", str(out)])
    assert r.exit_code == 0, r.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert "click_recall@50" in metrics["retrieval"]["metapath2vec"]
    assert "recall@50" not in metrics["retrieval"]["metapath2vec"]  # no hidden relevance in a user's log
    assert any("auction replay skipped" in n for n in metrics["notes"])
