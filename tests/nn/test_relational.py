"""RelationalGraLSP on heterogeneous graphs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nn_driver import make

from vastgraph.datasets.synthetic_ads import search_ads_graph
from vastgraph.errors import SchemaError, ValidationError
from vastgraph.nn.relational import RelationalGraLSPConv
from vastgraph.sampling.structural_context import union_view

SMALL = dict(hidden=8, out_dim=6, walks_per_node=6, walk_length=5, num_samples=4, type_dim=4)



@pytest.fixture(scope="module")
def ads():
    return search_ads_graph(n_queries=60, n_ads=30, n_advertisers=5, n_categories=3, random_state=0).graph


def test_union_view_holds_every_relation_both_ways(ads):
    view, keys, rels, names = union_view(ads, list(ads.edge_types))
    assert names == ["click", "rev_click", "owns", "rev_owns", "cobid"]
    off = ads.node_offsets()
    n = view.num_nodes()
    assert n == sum(ads.num_nodes(t) for t in ads.node_types)
    s, d = ads.edge_index(("query", "click", "ad"))
    fwd = (s + off["query"]) * n + (d + off["ad"])
    rev = (d + off["ad"]) * n + (s + off["query"])
    at = np.searchsorted(keys, fwd)
    assert (keys[at] == fwd).all() and (rels[at] == 0).all()
    at = np.searchsorted(keys, rev)
    assert (keys[at] == rev).all() and (rels[at] == 1).all()
    assert view.num_edges() == 2 * (ads.num_edges(("query", "click", "ad")) + ads.num_edges(("advertiser", "owns", "ad"))) \
        + ads.num_edges(("ad", "cobid", "ad"))


def test_pairs_carry_the_relation_of_the_walks_first_step(ads):
    m = make("rgralsp", ads, random_state=0, **SMALL)
    ctx = m.context
    off = ads.node_offsets()
    types = ads.node_types
    starts = np.array([off[t] for t in types])
    ntype_of = lambda g: types[int(np.searchsorted(starts, g, side="right") - 1)]  # noqa: E731
    checked = 0
    for i in range(0, ctx.walks.shape[0], 7):
        lo, hi = ctx.walk_pair_indptr[i], ctx.walk_pair_indptr[i + 1]
        if hi == lo:
            continue
        rel = set(m.sampler.pair_rel[lo:hi].tolist())
        assert len(rel) == 1
        name = m.relations[rel.pop()]
        v, u = int(ctx.walks[i, 0]), int(ctx.walks[i, 1])
        base = name[4:] if name.startswith("rev_") else name
        et = ads.edge_type(base)
        src, dst = (u, v) if name.startswith("rev_") else (v, u)
        assert ntype_of(src) == et.src and ntype_of(dst) == et.dst
        assert ads.has_edges([src - off[et.src]], [dst - off[et.dst]], et)[0]
        checked += 1
    assert checked > 10


def test_relational_conv_uses_one_weight_per_relation():
    torch.manual_seed(0)
    conv = RelationalGraLSPConv(3, 2, num_relations=2, type_dim=2, activation=False)
    xt, xs = torch.randn(2, 3), torch.randn(4, 3)
    pt, ps = torch.tensor([0, 0, 1, 1]), torch.tensor([1, 2, 3, 0])
    emb = torch.randn(4, 2)
    ty = torch.arange(4)
    rel = torch.tensor([0, 0, 0, 1])
    out = conv(xt, xs, pt, ps, ty, emb, rel)
    gate = torch.sigmoid(emb @ conv.gate.weight.T + conv.gate.bias)
    msg = gate * xs[ps]
    w = conv.rel_weight
    expect0 = conv.lin_self(xt[0]) + msg[:2].mean(0) @ w[0]
    expect1 = conv.lin_self(xt[1]) + (msg[2] @ w[0] + msg[3] @ w[1]) / 2
    assert torch.allclose(out[0], expect0, atol=1e-6) and torch.allclose(out[1], expect1, atol=1e-6)
    with torch.no_grad():
        conv.rel_weight[1].add_(1.0)
    again = conv(xt, xs, pt, ps, ty, emb, rel)
    assert torch.allclose(again[0], out[0]) and not torch.allclose(again[1], out[1])
    with pytest.raises(ValidationError, match="pair_rel"):
        conv(xt, xs, pt, ps, ty, emb, rel[:2])
    with pytest.raises(ValidationError, match="num_relations"):
        RelationalGraLSPConv(3, 2, num_relations=0, type_dim=2)


def test_runs_on_the_search_ads_graph(ads):
    m = make("rgralsp", ads, random_state=0, attention=True, **SMALL)
    assert m.num_relations == 5
    total = m.num_nodes
    m.reseed(1)
    z = m(torch.arange(total))
    assert z.shape == (total, 6) and torch.isfinite(z).all()
    opt = torch.optim.Adam(m.parameters(), lr=0.02)
    losses = []
    for _ in range(12):
        opt.zero_grad()
        loss = m.unsupervised_loss(torch.arange(0, total, 2))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[-3:]) < np.mean(losses[:3])
    assert m.convs[0].rel_weight.grad is not None
    assert m.type_proj["0"].weight.grad is not None  # query features are projected
    assert "2" in m.type_emb_in  # advertisers have no features: a learned embedding


def test_ntype_mode_takes_dense_ids(ads):
    glob = make("rgralsp", ads, random_state=0, **SMALL)
    ad = make("rgralsp", ads, ntype="ad", random_state=0, **SMALL)
    glob.eval()
    ad.eval()
    off = ads.node_offsets()["ad"]
    dense = torch.tensor([0, 3, 29])
    assert torch.allclose(ad(dense), glob(dense + off))
    cfg = ad.config()
    assert cfg["ntype"] == "ad" and cfg["etype"] is None
    again = make("rgralsp", ads, **cfg)
    again.eval()
    assert torch.equal(again(dense), ad(dense))
    with pytest.raises(ValidationError, match=r"expected ids in \[0, 30\)"):
        ad(torch.tensor([30]))


def test_edge_type_subset_and_bad_input(ads):
    m = make("rgralsp", ads, etype=["click", "cobid"], input_features="learned", random_state=0, **SMALL)
    assert m.relations == ["click", "rev_click", "cobid"]
    assert m.config()["etype"] == ["query:click:ad", "ad:cobid:ad"]
    with pytest.raises(ValidationError, match="ntype"):
        make("rgralsp", ads, ntype="user")
    with pytest.raises(SchemaError, match="unknown edge type"):
        make("rgralsp", ads, etype="likes")
    with pytest.raises(ValidationError, match="input_features"):
        make("rgralsp", ads, input_features="graph")
    with pytest.raises(ValidationError, match="walk_length"):
        make("rgralsp", ads, walk_length=1)
    with pytest.raises(ValidationError, match=r"expected ids in \[0, 95\)"):
        m(torch.tensor([-1]))
    ads.features("query")[0, 0] = np.inf
    try:
        with pytest.raises(ValidationError, match="query"):
            make("rgralsp", ads, walks_per_node=2, walk_length=3, random_state=0)
    finally:
        ads.features("query")[0, 0] = 0.0
