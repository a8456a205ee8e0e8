"""PyG loaders: batch format as PyG's NeighborLoader/LinkNeighborLoader, training, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch_geometric.data import Data, HeteroData
from torch_geometric.nn import GCNConv, HeteroConv, SAGEConv

from vastgraph.errors import EmptyInputError, SchemaError, UnknownIdError, ValidationError
from vastgraph.graph import GraphBuilder
from vastgraph.sampling.link_loader import LinkLoader
from vastgraph.sampling.neighbor_loader import NeighborLoader


def sbm_graph(n=600, classes=4, p_in=0.04, p_out=0.004, seed=0):
    """Stochastic block model with weakly informative features."""
    rng = np.random.default_rng(seed)
    lab = rng.integers(0, classes, n)
    p = np.where(lab[:, None] == lab[None, :], p_in, p_out)
    s, d = np.nonzero(np.triu(rng.random((n, n)) < p, 1))
    centres = rng.normal(size=(classes, 16))
    x = rng.normal(size=(n, 16)) + 0.35 * centres[lab]
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes("node", count=n, features=x.astype(np.float32), labels=lab)
    b.add_edges(s, d, weight=rng.random(s.size) + 0.5)
    return b.build()


@pytest.fixture(scope="module")
def sbm():
    return sbm_graph()


@pytest.fixture(scope="module")
def hetero():
    rng = np.random.default_rng(2)
    b = GraphBuilder(directed=True, id_mode="dense")
    b.add_nodes("user", count=50, features=rng.normal(size=(50, 4)).astype(np.float32))
    b.add_nodes("item", count=30, features=rng.normal(size=(30, 6)).astype(np.float32),
                labels=rng.integers(0, 3, 30))
    us, it = rng.integers(0, 50, 300), rng.integers(0, 30, 300)
    b.add_edges(us, it, etype=("user", "click", "item"))
    b.add_edges(it, us, etype=("item", "clicked_by", "user"))
    return b.build()


def test_batch_format_matches_pyg(sbm):
    g = sbm
    seeds = np.arange(0, 600, 3)
    loader = NeighborLoader(g, seeds, [5, 3], batch_size=64, random_state=0)
    batches = list(loader)
    assert len(batches) == len(loader) == 4
    seen = []
    for batch in batches:
        assert isinstance(batch, Data)
        bs = batch.batch_size
        n_id = batch.n_id.numpy()
        assert np.array_equal(n_id[:bs], seeds[batch.input_id.numpy()])
        assert batch.edge_index.dtype == torch.long and batch.edge_index.max() < batch.num_nodes
        ei = batch.edge_index.numpy()
        assert g.has_edges(n_id[ei[0]], n_id[ei[1]]).all()  # neighbour -> target
        assert torch.equal(batch.x, torch.from_numpy(g.features(None, n_id)))
        assert torch.equal(batch.y, torch.from_numpy(g.labels(None, n_id)))
        assert batch.num_sampled_nodes[0] == bs and sum(batch.num_sampled_nodes) == batch.num_nodes
        assert sum(batch.num_sampled_edges) == batch.edge_index.shape[1] == batch.e_id.numel()
        w = np.asarray(g.adjacency(reverse=True).weight)[batch.e_id.numpy()]
        assert np.array_equal(batch.edge_weight.numpy(), w)
        # first hop: messages flow into the seeds only
        assert (ei[1, :batch.num_sampled_edges[0]] < bs).all()
        seen.append(batch.input_id.numpy())
    assert np.array_equal(np.concatenate(seen), np.arange(seeds.size))


def test_pyg_layers_run_on_batches(sbm):
    batch = next(iter(NeighborLoader(sbm, None, [10, 5], batch_size=32, random_state=1)))
    with torch.random.fork_rng():
        torch.manual_seed(0)
        gcn, sage = GCNConv(16, 8), SAGEConv(16, 8)
    out = gcn(batch.x, batch.edge_index, batch.edge_weight)
    assert out.shape == (batch.num_nodes, 8) and torch.isfinite(out).all()
    assert sage(batch.x, batch.edge_index)[:batch.batch_size].shape == (32, 8)


class SAGE(torch.nn.Module):
    def __init__(self, d_in, d_hid, d_out):
        super().__init__()
        self.c1, self.c2 = SAGEConv(d_in, d_hid), SAGEConv(d_hid, d_out)

    def forward(self, x, edge_index):
        return self.c2(F.relu(self.c1(x, edge_index)), edge_index)


def _train_and_test(g, train, test):
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = SAGE(16, 32, 4)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        loader = NeighborLoader(g, train, [10, 10], batch_size=100, shuffle=True, random_state=0)
        for _ in range(15):
            for batch in loader:
                opt.zero_grad()
                out = model(batch.x, batch.edge_index)[:batch.batch_size]
                F.cross_entropy(out, batch.y[:batch.batch_size]).backward()
                opt.step()
        model.eval()
        correct = 0
        with torch.no_grad():
            for batch in NeighborLoader(g, test, [10, 10], batch_size=150, random_state=1):
                pred = model(batch.x, batch.edge_index)[:batch.batch_size].argmax(-1)
                correct += int((pred == batch.y[:batch.batch_size]).sum())
    return correct / test.size


def test_sage_training_on_sbm_beats_chance(sbm):
    perm = np.random.default_rng(0).permutation(600)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model: thread hand-offs cost more than the maths
    try:
        accuracy = _train_and_test(sbm, perm[:300], perm[300:])
    finally:
        torch.set_num_threads(threads)
    assert accuracy > 0.7  # chance is 0.25


def test_deterministic_by_seed_and_shuffled_per_epoch(sbm):
    def run(seed):
        loader = NeighborLoader(sbm, None, [4, 4], batch_size=200, shuffle=True, random_state=seed)
        return [[(b.n_id.numpy(), b.edge_index.numpy()) for b in loader] for _ in range(2)]

    a, b, c = run(5), run(5), run(6)
    for ea, eb in zip(a, b):
        for (na, ia), (nb, ib) in zip(ea, eb):
            assert np.array_equal(na, nb) and np.array_equal(ia, ib)
    assert not np.array_equal(a[0][0][0], a[1][0][0])  # epochs differ
    assert not np.array_equal(a[0][0][0], c[0][0][0])  # seeds differ
    for epoch in a:  # every seed once per epoch
        assert np.array_equal(np.sort(np.concatenate([n[:200] for n, _ in epoch])), np.arange(600))


def test_seed_forms_and_drop_last(sbm):
    mask = np.zeros(600, bool)
    mask[[4, 9, 100]] = True
    batch = next(iter(NeighborLoader(sbm, mask, [2], batch_size=10, random_state=0)))
    assert batch.n_id[:3].tolist() == [4, 9, 100]
    loader = NeighborLoader(sbm, ("node", np.arange(25)), [2], batch_size=10, drop_last=True)
    assert len(loader) == 2 and [b.batch_size for b in loader] == [10, 10]
    bare = next(iter(NeighborLoader(sbm, [1, 2], [2], features=False, labels=False, random_state=0)))
    assert "x" not in bare and "y" not in bare


def test_heterogeneous_batches(hetero):
    g = hetero
    loader = NeighborLoader(g, ("item", np.arange(30)), [4, 2], batch_size=8, random_state=0)
    batch = next(iter(loader))
    assert isinstance(batch, HeteroData)
    assert batch["item"].batch_size == 8 and batch["item"].input_id.tolist() == list(range(8))
    assert torch.equal(batch["item"].n_id[:8], torch.arange(8))
    for nt in ("user", "item"):
        assert torch.equal(batch[nt].x, torch.from_numpy(g.features(nt, batch[nt].n_id.numpy())))
    assert batch["item"].y.shape == (batch["item"].num_nodes,)
    for et in (("user", "click", "item"), ("item", "clicked_by", "user")):
        ei = batch[et].edge_index.numpy()
        src = batch[et[0]].n_id.numpy()[ei[0]]
        dst = batch[et[2]].n_id.numpy()[ei[1]]
        assert g.has_edges(src, dst, etype=et).all()
    with torch.random.fork_rng():
        torch.manual_seed(0)
        conv = HeteroConv({("user", "click", "item"): SAGEConv((4, 6), 5),
                           ("item", "clicked_by", "user"): SAGEConv((6, 4), 5)})
    out = conv(batch.x_dict, batch.edge_index_dict)
    assert out["item"].shape == (batch["item"].num_nodes, 5)


def test_link_loader_homogeneous(sbm):
    g = sbm
    src, dst = g.edge_index()
    keep = src < dst
    edges = (src[keep], dst[keep])
    loader = LinkLoader(g, edges, [5, 5], batch_size=50, num_negatives=2, random_state=0)
    assert len(loader) == -(-int(keep.sum()) // 50)
    batch = next(iter(loader))
    assert isinstance(batch, Data)
    n_id = batch.n_id.numpy()
    eli = batch.edge_label_index.numpy()
    assert eli.shape == (2, 150) and batch.edge_label.tolist() == [1.0] * 50 + [0.0] * 100
    pos = eli[:, :50]
    ids = batch.input_id.numpy()
    assert np.array_equal(n_id[pos[0]], edges[0][ids]) and np.array_equal(n_id[pos[1]], edges[1][ids])
    neg = eli[:, 50:]
    assert not g.has_edges(n_id[neg[0]], n_id[neg[1]]).any()
    assert np.array_equal(n_id[neg[0]], np.repeat(edges[0][ids], 2))  # tail corruption
    # every endpoint is a seed, with its sampled neighbourhood
    assert eli.max() < batch.num_sampled_nodes[0]
    assert g.has_edges(n_id[batch.edge_index[0].numpy()], n_id[batch.edge_index[1].numpy()]).all()
    with torch.random.fork_rng():
        torch.manual_seed(0)
        h = SAGE(16, 16, 8)(batch.x, batch.edge_index)
    logits = (h[batch.edge_label_index[0]] * h[batch.edge_label_index[1]]).sum(-1)
    assert torch.isfinite(F.binary_cross_entropy_with_logits(logits, batch.edge_label))
    again = next(iter(LinkLoader(g, edges, [5, 5], batch_size=50, num_negatives=2, random_state=0)))
    assert torch.equal(again.edge_label_index, batch.edge_label_index) and torch.equal(again.n_id, batch.n_id)


def test_link_loader_heterogeneous(hetero):
    g = hetero
    loader = LinkLoader(g, None, [3, 3], etype="click", batch_size=40, num_negatives=1,
                        negative_mode="both", negative_distribution="degree", random_state=0)
    assert len(loader) == -(-g.num_edges("click") // 40)
    batch = next(iter(loader))
    et = ("user", "click", "item")
    eli = batch[et].edge_label_index.numpy()
    u, i = batch["user"].n_id.numpy()[eli[0]], batch["item"].n_id.numpy()[eli[1]]
    lab = batch[et].edge_label.numpy()
    assert g.has_edges(u[lab == 1], i[lab == 1], etype="click").all()
    assert not g.has_edges(u[lab == 0], i[lab == 0], etype="click").any()
    src, dst = g.edge_index("click")
    ids = batch[et].input_id.numpy()
    assert np.array_equal(u[:40], src[ids]) and np.array_equal(i[:40], dst[ids])


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs,err,msg", [
    (dict(batch_size=0), ValidationError, "batch_size=0: expected an int >= 1"),
    (dict(seeds=np.ones(5, bool)), ValidationError, r"boolean mask of shape \(5,\); expected \(600,\)"),
    (dict(seeds=[]), EmptyInputError, "no seed nodes"),
    (dict(seeds=[700]), UnknownIdError, r"\[700\] out of range"),
    (dict(seeds=("shop", [1])), SchemaError, "unknown node type 'shop'; known node types: node"),
    (dict(fanouts=[0]), ValidationError, r"fanouts\[0\]=0"),
    (dict(etype="nope"), SchemaError, "known edge types: node:edge:node"),
])
def test_bad_neighbor_loader(sbm, kwargs, err, msg):
    args = dict(seeds=None, fanouts=[2])
    args.update(kwargs)
    with pytest.raises(err, match=msg):
        NeighborLoader(sbm, args.pop("seeds"), args.pop("fanouts"), **args)


@pytest.mark.parametrize("kwargs,err,msg", [
    (dict(edges=[0, 1, 2]), ValidationError, "expected a pair"),
    (dict(edges=([0, 1], [2])), ValidationError, "2 sources but 1 destinations"),
    (dict(edges=([], [])), EmptyInputError, "no supervision edges"),
    (dict(num_negatives=-1), ValidationError, "num_negatives=-1"),
    (dict(negative_mode="x"), ValidationError, "negative_mode='x'"),
    (dict(negative_distribution="x"), ValidationError, "negative_distribution='x'"),
    (dict(batch_size=1.5), ValidationError, "batch_size=1.5"),
])
def test_bad_link_loader(sbm, kwargs, err, msg):
    with pytest.raises(err, match=msg):
        LinkLoader(sbm, fanouts=[2], **kwargs)
