"""GraLSPConv and the GraLSP node model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vastgraph.datasets.synthetic_sbm import power_law_sbm
from vastgraph.errors import SchemaError, ValidationError
from vastgraph.graph.builder import GraphBuilder
from vastgraph.nn.base import NodeModel
from nn_driver import make
from vastgraph.nn.gralsp_conv import GraLSPConv, segment_softmax
from vastgraph.sampling.structural_context import StructuralContext, sample_blocks

SMALL = dict(hidden=16, out_dim=8, walks_per_node=8, walk_length=6, num_samples=6, type_dim=8)



@pytest.fixture(scope="module")
def sbm():
    return power_law_sbm(80, 2, avg_degree=8, mixing=0.05, random_state=0).graph


def cycle_and_triangles():
    b = GraphBuilder(directed=False)
    b.add_nodes("node", ids=np.arange(12))
    b.add_edges([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [1, 2, 3, 4, 5, 0, 7, 8, 6, 10, 11, 9])
    return b.build()


# ------------------------------------------------------------------------------------ conv
def test_conv_matches_the_formula():
    torch.manual_seed(0)
    conv = GraLSPConv(3, 2, type_dim=4)
    xt, xs = torch.randn(2, 3), torch.randn(5, 3)
    pt, ps = torch.tensor([0, 0, 0, 1]), torch.tensor([1, 2, 2, 4])
    emb = torch.randn(3, 4)  # walk-type table
    ty = torch.tensor([2, 0, 2, 1])
    out = conv(xt, xs, pt, ps, ty, emb)
    gate = torch.sigmoid(emb[ty] @ conv.gate.weight.T + conv.gate.bias)
    msg = gate * xs[ps]
    agg = torch.stack([msg[:3].mean(0), msg[3]])
    expect = torch.relu(conv.lin_self(xt) + agg @ conv.lin_neigh.weight.T)
    assert torch.allclose(out, expect, atol=1e-6)
    # a target without pairs keeps only its self term; no ReLU on a final layer
    lin = GraLSPConv(3, 2, type_dim=4, activation=False)
    out = lin(xt, xs, pt[:3], ps[:3], ty[:3], emb)
    assert torch.allclose(out[1], lin.lin_self(xt[1]), atol=1e-6)


def test_conv_gate_depends_on_walk_type():
    torch.manual_seed(1)
    conv = GraLSPConv(4, 3, type_dim=2, activation=False)
    xt, xs = torch.randn(1, 4), torch.randn(3, 4)
    pt, ps = torch.tensor([0, 0, 0]), torch.tensor([0, 1, 2])
    table = torch.tensor([[1.0, 0.0], [-3.0, 2.0]])
    a = conv(xt, xs, pt, ps, torch.tensor([0, 0, 0]), table)
    b = conv(xt, xs, pt, ps, torch.tensor([1, 1, 1]), table)
    assert not torch.allclose(a, b)
    c = conv(xt, xs, pt, ps, torch.tensor([0, 0, 0]), table * 2.0)
    assert not torch.allclose(a, c)


def test_attention_is_a_softmax_per_target():
    scores = torch.tensor([1.0, 2.0, 3.0, -1.0, 0.5])
    group = torch.tensor([0, 0, 1, 1, 1])
    a = segment_softmax(scores, group, 2)
    assert torch.allclose(a[:2], torch.softmax(scores[:2], 0))
    assert torch.allclose(a[2:], torch.softmax(scores[2:], 0))
    torch.manual_seed(2)
    conv = GraLSPConv(4, 3, type_dim=2, attention=True)
    out = conv(torch.randn(2, 4), torch.randn(3, 4), torch.tensor([0, 0, 1]), torch.tensor([0, 1, 2]),
               torch.tensor([0, 2, 1]), torch.randn(3, 2))
    assert out.shape == (2, 3)
    out.sum().backward()
    assert conv.att_type.grad is not None and conv.att_type.grad.abs().sum() > 0


def test_conv_bad_shapes():
    conv = GraLSPConv(4, 3, type_dim=2)
    with pytest.raises(ValidationError, match="x_target"):
        conv(torch.randn(2, 5), torch.randn(3, 4), torch.tensor([0]), torch.tensor([0]), torch.tensor([0]),
             torch.randn(1, 2))
    with pytest.raises(ValidationError, match="pairs"):
        conv(torch.randn(2, 4), torch.randn(3, 4), torch.tensor([0]), torch.tensor([0, 1]), torch.tensor([0]),
             torch.randn(1, 2))
    with pytest.raises(ValidationError, match="type_table"):
        conv(torch.randn(2, 4), torch.randn(3, 4), torch.tensor([0]), torch.tensor([0]), torch.tensor([0]),
             torch.randn(1, 3))
    with pytest.raises(ValidationError, match="type_dim"):
        GraLSPConv(4, 3, type_dim=0)
    with pytest.raises(ValidationError, match="dropout"):
        GraLSPConv(4, 3, type_dim=2, dropout=1.5)


# ------------------------------------------------------------------------------------ model
def test_blocks_keep_targets_as_prefix(sbm):
    ctx = StructuralContext.build(sbm, walks_per_node=4, walk_length=4, random_state=0)
    sets, blocks = sample_blocks(ctx, np.array([5, 1, 9]), 4, 2, np.random.default_rng(0))
    assert sets[0].tolist() == [5, 1, 9]
    for k, blk in enumerate(blocks):
        assert (sets[k + 1][:sets[k].size] == sets[k]).all()
        assert len(set(sets[k + 1].tolist())) == sets[k + 1].size
        # each pair's source is the neighbour stored at its context position
        assert (sets[k + 1][blk.source] == ctx.pair_nbr[blk.pairs]).all()
        assert (blk.types == ctx.pair_type[blk.pairs]).all()
        tgt_nodes = sets[k][blk.target]
        assert ((blk.pairs >= ctx.pair_indptr[tgt_nodes]) & (blk.pairs < ctx.pair_indptr[tgt_nodes + 1])).all()


def test_forward_shapes_determinism_and_config(sbm):
    m = make("gralsp", sbm, random_state=0, **SMALL)
    assert isinstance(m.model, NodeModel) and m.out_dim == 8
    nodes = torch.tensor([3, 0, 3, 17])
    m.reseed(5)
    a = m(nodes)
    assert a.shape == (4, 8) and a.dtype == torch.float32
    assert torch.equal(a[0], a[2])  # the same node in one batch gets one representation
    m.reseed(5)
    assert torch.equal(a, m(nodes))
    m.reseed(6)
    assert not torch.allclose(a, m(nodes))
    m.eval()
    assert torch.equal(m(nodes), m(nodes))
    assert m(torch.zeros(0, dtype=torch.long)).shape == (0, 8)
    # the config rebuilds the same model (same context, same initial weights)
    cfg = m.config()
    assert cfg["random_state"] == 0 and cfg["walks_per_node"] == 8
    m2 = make("gralsp", sbm, **cfg)
    m2.eval()
    m2.reseed(6)
    assert m2.context.n_types == m.context.n_types
    assert torch.equal(m2(nodes), m(nodes))
    # a prebuilt context (its own seed) is recorded too
    ctx = StructuralContext.build(sbm, walks_per_node=5, walk_length=4, min_count=1, random_state=11)
    m3 = make("gralsp", sbm, context=ctx, random_state=2, **{**SMALL, "walks_per_node": 99})
    cfg3 = m3.config()
    assert cfg3["context_random_state"] == 11 and cfg3["walks_per_node"] == 5 and cfg3["random_state"] == 2
    m4 = make("gralsp", sbm, **cfg3)
    assert (m4.context.walks == ctx.walks).all()
    m4.load_state_dict(m3.state_dict())


def test_representations_depend_on_walk_type_embeddings(sbm):
    m = make("gralsp", sbm, random_state=1, **SMALL)
    m.eval()
    before = m(torch.arange(10))
    with torch.no_grad():
        m.type_emb.weight.mul_(-2.0).add_(0.5)
    assert not torch.allclose(before, m(torch.arange(10)))


def test_unsupervised_loss_decreases(sbm):
    m = make("gralsp", sbm, random_state=0, **{**SMALL, "num_samples": 4})
    opt = torch.optim.Adam(m.parameters(), lr=0.02)
    m.reseed(0)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = m.unsupervised_loss(torch.arange(0, 80, 2))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.isfinite(losses).all()
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.2
    assert m.type_emb.weight.grad is not None


def test_walk_loss_trains_type_embeddings(sbm):
    m = make("gralsp", sbm, random_state=0, **SMALL)
    opt = torch.optim.Adam([m.type_emb.weight], lr=0.05)
    rng = np.random.default_rng(0)
    first = m.walk_loss(np.arange(80), rng).item()
    for _ in range(40):
        opt.zero_grad()
        m.walk_loss(np.arange(80), rng).backward()
        opt.step()
    assert m.walk_loss(np.arange(80), rng).item() < first


@pytest.mark.parametrize("attention", [False, True])
def test_supervised_node_classification(sbm, attention):
    y = torch.from_numpy(sbm.labels()).long()
    # communities are proximity: the paper's return-biased walks (p = 0.25) give the closer pairs
    m = make("gralsp", sbm, input_features="learned", attention=attention, random_state=0, p=0.25, **SMALL)
    head = torch.nn.Linear(8, 2)
    perm = torch.randperm(80, generator=torch.Generator().manual_seed(0))
    train, test = perm[:40], perm[40:]
    opt = torch.optim.Adam(list(m.parameters()) + list(head.parameters()), lr=0.05)
    m.reseed(0)
    for _ in range(30):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(head(m(train)), y[train]).backward()
        opt.step()
    m.eval()
    with torch.no_grad():
        acc = (head(m(test)).argmax(1) == y[test]).float().mean().item()
    assert acc >= 0.85


def test_nodes_that_1wl_cannot_separate_get_different_representations():
    g = cycle_and_triangles()
    m = make("gralsp", g, hidden=16, out_dim=8, walks_per_node=100, walk_length=4, p=1.0, q=1.0, num_samples=10,
               min_count=1, input_features="structural", random_state=0)
    m.eval()
    z = m(torch.arange(12)).detach()
    cyc, tri = z[:6].mean(0), z[6:].mean(0)
    spread = max((z[:6] - cyc).norm(dim=1).max(), (z[6:] - tri).norm(dim=1).max())
    assert (cyc - tri).norm() > 1e-3
    assert (cyc - tri).norm() > spread  # the two structures form separate clusters


def test_graph_features_are_used_and_checked():
    b = GraphBuilder(directed=False)
    b.add_nodes("node", count=6, features=np.arange(12, dtype=np.float32).reshape(6, 2))
    b.add_edges([0, 1, 2, 3, 4], [1, 2, 3, 4, 5])
    g = b.build()
    m = make("gralsp", g, hidden=4, out_dim=3, walks_per_node=4, walk_length=4, num_samples=3, random_state=0)
    assert m.features.shape == (6, 2)
    m = make("gralsp", g, hidden=4, out_dim=3, walks_per_node=4, walk_length=4, num_samples=3,
               input_features="graph+structural", random_state=0)
    assert m.features.shape == (6, 2 + m.context.structural_features().shape[1])
    assert m.input_proj is not None and m.convs[0].in_dim == 4  # wide inputs are projected to hidden
    m = make("gralsp", g, hidden=4, out_dim=3, walks_per_node=4, walk_length=4, num_samples=3,
               input_features="graph+structural", project_inputs=False, random_state=0)
    assert m.input_proj is None and m.convs[0].in_dim == 2 + m.context.structural_features().shape[1]
    assert m(torch.arange(6)).shape == (6, 3)
    with pytest.raises(ValidationError, match="project_inputs"):
        make("gralsp", g, project_inputs="auto")
    g.features("node")[2, 1] = np.nan
    with pytest.raises(ValidationError, match="NaN"):
        make("gralsp", g, hidden=4, out_dim=3, walks_per_node=4, walk_length=4, random_state=0)


def test_bad_input(sbm):
    with pytest.raises(ValidationError, match="walk_length"):
        make("gralsp", sbm, walk_length=1)
    with pytest.raises(SchemaError, match="unknown edge type"):
        make("gralsp", sbm, etype="x:y:z")
    with pytest.raises(ValidationError, match="ntype"):
        make("gralsp", sbm, ntype="user", walks_per_node=2)
    with pytest.raises(ValidationError, match="num_samples"):
        make("gralsp", sbm, num_samples=0)
    with pytest.raises(ValidationError, match="attention"):
        make("gralsp", sbm, attention="yes")
    with pytest.raises(ValidationError, match="input_features"):
        make("gralsp", sbm, input_features="magic")
    with pytest.raises(ValidationError, match="input_features='graph'"):
        make("gralsp", sbm, input_features="graph", walks_per_node=2)
    with pytest.raises(ValidationError, match="graph"):
        make("gralsp", np.zeros((3, 3)))
    other = power_law_sbm(20, 2, avg_degree=4, random_state=0).graph
    ctx = StructuralContext.build(other, walks_per_node=2, walk_length=3, random_state=0)
    with pytest.raises(ValidationError, match="context"):
        make("gralsp", sbm, context=ctx)
    m = make("gralsp", sbm, random_state=0, **SMALL)
    with pytest.raises(ValidationError, match="nodes"):
        m(torch.tensor([80]))
    with pytest.raises(ValidationError, match="nodes"):
        m(torch.tensor([0.5]))
    with pytest.raises(ValidationError, match="nodes"):
        m.unsupervised_loss(torch.tensor([-1]))
    b = GraphBuilder(directed=False)
    b.add_nodes("node", count=3)
    b.add_edge_type(("node", "edge", "node"))
    with pytest.raises(ValidationError, match="no edges"):
        make("gralsp", b.build())
