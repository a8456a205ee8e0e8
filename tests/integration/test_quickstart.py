"""End to end: the README's main job on a small world."""

import json

from typer.testing import CliRunner

from vastgraph.cli.main import app
from vastgraph.graph import open_graph


def test_quickstart_small_world(tmp_path):
    out = tmp_path / "qs"
    r = CliRunner().invoke(app, ["quickstart", "--out", str(out), "--queries", "400", "--ads", "160",
                                 "--dimensions", "16", "--seed", "1"])
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text()
    assert html.count("data:image/png") == 3
    metrics = json.loads((out / "metrics.json").read_text())
    by = {m["method"]: m for m in metrics["methods"]}
    assert set(by) == {"metapath2vec", "LINE-1st", "DeepWalk"}
    # 12 hidden categories: chance is about 1/12; graph embeddings must do far better
    assert by["metapath2vec"]["ad micro-F1"] > 0.5
    assert by["metapath2vec"]["click AUC"] > 0.6
    g = open_graph(out / "graph")
    assert set(g.node_types) == {"query", "ad", "advertiser"}
