"""Tests of the hyperbolic graph convolution (HGCNConv) and the HGCN node model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nn_driver import make

from vastgraph.datasets.hierarchies import balanced_tree
from vastgraph.errors import ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.nn.hgcn import HGCNConv, make_manifold
from vastgraph.train.link_prediction import split_edges
from vastgraph.train.metrics import roc_auc

EDGES = torch.tensor([[0, 1, 2, 3, 1], [1, 2, 3, 4, 0]])



def brownian_tree(branching: int = 2, depth: int = 7, dim: int = 16, seed: int = 0):
    """A balanced tree whose node features follow Brownian motion down the tree (x_child = x_parent + ε)."""
    tree = balanced_tree(branching, depth)
    n = tree.num_nodes()
    dep, parent = tree.node_data(None, "depth"), tree.node_data(None, "parent")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    for d in range(1, int(dep.max()) + 1):
        sel = dep == d
        x[sel] += x[parent[sel]]
    s, t = tree.edge_index()
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes("node", count=n, features=x / 4)
    b.add_edges(s[s < t], t[s < t])
    return b.build()


@pytest.mark.parametrize("k", [-1.0, -4.0])
@pytest.mark.parametrize("use_att", [False, True])
def test_conv_output_stays_in_the_ball(k, use_att):
    gen = torch.Generator().manual_seed(0)
    man = make_manifold(k)
    conv = HGCNConv(6, 5, manifold_in=man, use_att=use_att)
    x = man.expmap0(20.0 * torch.randn(7, 6, generator=gen))  # far out, near the boundary
    out = conv(x, EDGES)
    assert out.shape == (7, 5) and torch.isfinite(out).all()
    radius = 1.0 / np.sqrt(-k)
    assert (out.norm(dim=-1) < radius).all()
    # tangent input and (x, edge_index) from a PyG Data object
    from vastgraph.graph.convert_pyg import to_pyg

    data = to_pyg(balanced_tree(2, 3))
    out2 = conv(torch.randn(data.num_nodes, 6, generator=gen), data.edge_index, tangent=True)
    assert (out2.norm(dim=-1) < radius).all()


def test_conv_flat_limit_is_mean_aggregation():
    # κ = 0: exp_0 and log_0 are the identity and ⊕ is +, so the layer is act(mean_{N(i)∪{i}}(W x_j + b))
    man = make_manifold(0.0, learnable=False)
    conv = HGCNConv(3, 4, manifold_in=man, activation="tanh")
    with torch.no_grad():
        conv.bias.copy_(torch.tensor([0.1, -0.2, 0.3, 0.0]))
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    out = conv(x, EDGES)
    z = x @ conv.lin.weight.T + conv.bias
    nbrs = {0: [0, 1], 1: [1, 0], 2: [2, 1], 3: [3, 2], 4: [4, 3]}
    exp = torch.stack([torch.tanh(z[nbrs[i]].mean(0)) for i in range(5)])
    assert torch.allclose(out, exp, atol=1e-5)


def test_conv_hyperbolic_mean_in_tangent_space():
    man = make_manifold(-1.0)
    conv = HGCNConv(3, 3, manifold_in=man, activation="identity", bias=False)
    with torch.no_grad():
        conv.lin.weight.copy_(torch.eye(3))
    t = 0.5 * torch.randn(4, 3, generator=torch.Generator().manual_seed(2))
    ei = torch.tensor([[1, 2, 3], [0, 0, 0]])  # node 0 hears 1, 2, 3; the others only themselves
    out = conv(man.expmap0(t), ei)
    assert torch.allclose(man.logmap0(out[0]), t.mean(0), atol=1e-5)
    assert torch.allclose(man.logmap0(out[1:]), t[1:], atol=1e-5)


def test_attention_weights_are_a_convex_combination():
    conv = HGCNConv(3, 3, use_att=True)
    with torch.no_grad():
        conv.att.copy_(torch.randn(6, generator=torch.Generator().manual_seed(3)))
    t = torch.ones(5, 3) * 0.3
    agg = conv.aggregate(t, EDGES)
    assert torch.allclose(agg, t, atol=1e-6)  # weights sum to 1 per target


def test_curvature_receives_gradients():
    g = balanced_tree(2, 4)
    model = make("hgcn", g, hidden=8, out_dim=4, random_state=0)
    with torch.no_grad():
        for conv in model.convs:
            conv.bias.normal_(0, 0.5, generator=torch.Generator().manual_seed(0))
    h = model(torch.arange(g.num_nodes()))
    loss = -model.pair_score(h[:10], h[10:20]).mean()
    loss.backward()
    grads = [m.k.grad for m in model.manifolds]
    assert all(gr is not None and torch.isfinite(gr) for gr in grads)
    assert all(abs(float(gr)) > 0 for gr in grads[1:])
    # shared curvature: a single learnable κ
    shared = make("hgcn", g, hidden=8, out_dim=4, shared_curvature=True, random_state=0)
    assert len(shared.curvatures()) == 1
    h = shared(torch.arange(8))
    (-shared.pair_score(h[:4], h[4:]).mean()).backward()
    assert abs(float(shared.manifolds[0].k.grad)) > 0
    fixed = make("hgcn", g, hidden=8, out_dim=4, learn_curvature=False, curvature=-2.0, random_state=0)
    assert fixed.curvatures() == [-2.0, -2.0, -2.0]
    assert not any(p.requires_grad for n, p in fixed.named_parameters() if n.split(".")[-1] == "k")


def test_model_outputs_on_manifold_deterministic_and_config_roundtrip():
    g = brownian_tree(2, 4)
    model = make("hgcn", g, hidden=8, out_dim=4, curvature=-2.0, fanouts=[3, 2], random_state=5)
    nodes = torch.tensor([3, 1, 3, 0])
    model.train()
    model.reseed(7)
    a = model(nodes)
    assert torch.equal(a[0], a[2])  # repeated ids share one computation
    assert (a.norm(dim=-1) < 1 / np.sqrt(2.0)).all()
    model.reseed(7)
    assert torch.equal(a, model(nodes))
    model.eval()
    e1 = model(nodes)
    model.train()
    model(nodes)
    model.eval()
    assert torch.equal(e1, model(nodes))  # eval sampling does not depend on earlier calls
    cfg = model.config()
    assert cfg["curvature"] == -2.0 and cfg["fanouts"] == [3, 2]
    import json

    rebuilt = make("hgcn", g, **json.loads(json.dumps(cfg)))
    rebuilt.load_state_dict(model.state_dict())
    rebuilt.reseed(7)  # eval sampling follows the last reseed
    rebuilt.eval()
    assert torch.allclose(rebuilt(nodes), e1)
    assert model(torch.zeros(0, dtype=torch.long)).shape == (0, 4)
    # pair score: -d², the Fermi–Dirac logit (r - d²)/t
    d2 = model.manifold.dist(e1[:2], e1[2:]) ** 2
    assert torch.allclose(model.pair_score(e1[:2], e1[2:]), -d2, atol=1e-5)
    assert torch.allclose(model.fermi_dirac_logit(e1[:2], e1[2:]), (2.0 - d2) / 1.0, atol=1e-5)
    assert torch.allclose(model.manifold.expmap0(model.to_tangent(e1)), e1, atol=1e-5)


def _train_plain(model, graph, split, epochs=100):
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    s, t = graph.edge_index()
    pos = np.stack([s[s < t], t[s < t]], 1)
    rng = np.random.default_rng(1)
    n = graph.num_nodes()
    nodes = torch.arange(n)
    for ep in range(epochs):
        model.train()
        model.reseed(ep)
        h = model(nodes)
        pairs = torch.from_numpy(np.concatenate([pos, rng.integers(0, n, size=pos.shape)]))
        y = torch.cat([torch.ones(len(pos)), torch.zeros(len(pos))])
        logit = model.fermi_dirac_logit(h[pairs[:, 0]], h[pairs[:, 1]])
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logit, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        h = model(nodes)
        tp = torch.from_numpy(np.concatenate([split.test_pos, split.test_neg]))
        scores = model.fermi_dirac_logit(h[tp[:, 0]], h[tp[:, 1]]).numpy()
    y = np.r_[np.ones(len(split.test_pos)), np.zeros(len(split.test_neg))]
    return roc_auc(y, scores)


def test_link_prediction_on_a_tree_plain_loop():
    g = brownian_tree(2, 7)
    split = split_edges(g, test_fraction=0.1, random_state=0)
    model = make("hgcn", split.train_graph, hidden=16, out_dim=8, fanouts=-1, random_state=0)
    auc = _train_plain(model, split.train_graph, split)
    assert auc > 0.8
    assert all(np.isfinite(model.curvatures()))
    assert model.curvatures() != [-1.0, -1.0, -1.0]  # learned


@pytest.mark.skipif(not (Path(__file__).resolve().parents[2] / "vastgraph" / "train" / "trainer.py").exists(),
                    reason="vastgraph.train.trainer not present")
def test_link_prediction_through_trainer():
    from vastgraph.train.trainer import Trainer

    g = brownian_tree(2, 7)
    split = split_edges(g, test_fraction=0.1, valid_fraction=0.1, random_state=0)
    model = make("hgcn", split.train_graph, hidden=16, out_dim=8, fanouts=[5, 5], random_state=0)
    trainer = Trainer(model.model, "link-prediction", epochs=40, batch_size=256, lr=0.01, weight_decay=0.0,
                      patience=None, random_state=0)
    trainer.fit(split=split)
    assert trainer.head_.kind == "distance"
    assert trainer.evaluate()["auc"] > 0.8
    emb = trainer.embed()
    assert emb.shape == (g.num_nodes(), 8) and (np.linalg.norm(emb, axis=1) < 1.0).all()


def test_nan_curvature_detected():
    model = make("hgcn", balanced_tree(2, 3), hidden=4, out_dim=2, random_state=0)
    with torch.no_grad():
        model.manifolds[1].k.fill_(float("nan"))
    with pytest.raises(ValidationError, match="curvature 1"):
        model(torch.arange(3))


@pytest.mark.parametrize("kwargs, match", [
    (dict(curvature=float("nan")), "curvature"),
    (dict(curvature="hyperbolic"), "curvature"),
    (dict(curvature=1e9), "curvature"),
    (dict(activation="gelu"), "activation"),
    (dict(dropout=1.0), "dropout"),
    (dict(hidden=0), "hidden"),
    (dict(num_layers=0), "num_layers"),
    (dict(fanouts=[5]), "fanouts"),
    (dict(fanouts=[5, 0]), "fanouts"),
    (dict(decoder_t=0.0), "decoder_t"),
    (dict(init_scale=-1.0), "init_scale"),
])
def test_model_bad_input(kwargs, match):
    with pytest.raises(ValidationError, match=match):
        make("hgcn", balanced_tree(2, 2), **kwargs)


def test_forward_bad_input():
    model = make("hgcn", balanced_tree(2, 2), hidden=4, out_dim=2, random_state=0)
    with pytest.raises(ValidationError, match="nodes"):
        model(torch.tensor([0, 7]))
    with pytest.raises(ValidationError, match="nodes"):
        model(torch.tensor([[0, 1]]))
    with pytest.raises(ValidationError, match="nodes"):
        model(torch.tensor([0.5]))


@pytest.mark.parametrize("call, match", [
    (lambda c: c(torch.zeros(5, 4), EDGES), "x: shape"),
    (lambda c: c(torch.zeros(5, 3), EDGES[0]), "edge_index: shape"),
    (lambda c: c(torch.zeros(5, 3), EDGES.float()), "dtype"),
    (lambda c: c(torch.zeros(3, 3), EDGES), r"expected \[0, 3\)"),
    (lambda c: HGCNConv(3, 3, activation="softmax"), "activation"),
    (lambda c: HGCNConv(0, 3), "in_dim"),
    (lambda c: HGCNConv(3, 3, dropout=-0.1), "dropout"),
])
def test_conv_bad_input(call, match):
    with pytest.raises(ValidationError, match=match):
        call(HGCNConv(3, 3))
