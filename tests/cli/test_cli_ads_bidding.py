"""`vastgraph ads run --bidders` on the tiny world: every bidder trained and replayed, the report has the
budget-over-the-day plot, metrics.json has the table, and bad bidder names are a clear exit-2 error."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from vastgraph.cli.main import app

pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def test_ads_run_with_all_bidders_on_the_tiny_world(tmp_path):
    cfg = tmp_path / "c.yaml"
    # small and fast: few time steps, short training, small embeddings
    cfg.write_text("preset: tiny\ndimensions: 16\nbudget: 0.2\nbidding_steps: 6\nk_candidates: 10\n")
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["ads", "run", "--config", str(cfg), "--methods", "coclick,metapath2vec",
                                 "--bidders", "all", "--out", str(out), "--seed", "1"])
    assert r.exit_code == 0, r.output
    metrics = json.loads((out / "metrics.json").read_text())
    policies = {row["policy"] for row in metrics["bidding"]}
    assert {"fixed", "pid", "online-lp", "dt", "diffusion", "dt (no graph)", "diffusion (no graph)"} == policies
    for row in metrics["bidding"]:
        assert row["over_budget"] == 0.0 and 0.0 <= row["violations"] <= 1.0 and row["episodes"] > 0
    curves = metrics["bidding_spend_curves"]
    assert set(curves) == policies and all(len(c) == 6 and 0 <= c[-1] <= 1 + 1e-9 for c in curves.values())
    html = (out / "report.html").read_text()
    assert "Auto-bidding" in html and "Budget spent over the day" in html
    assert "auto-bidding" in r.output


def test_ads_run_rejects_an_unknown_bidder(tmp_path):
    r = CliRunner().invoke(app, ["ads", "run", "--preset", "tiny", "--bidders", "fixed,nosuch",
                                 "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    text = " ".join(r.output.split())
    assert "nosuch" in text and "online-lp" in text
