"""Trainer: both tasks, determinism, early stopping, checkpoint save/load/resume, injected loaders,
registry-only checkpoint loading, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vastgraph.datasets import power_law_sbm
from vastgraph.errors import CorruptStoreError, EmptyInputError, NotFittedError, StoreError, ValidationError
from vastgraph.nn.base import NodeModel
from vastgraph.train.checkpoint import FORMAT, VERSION
from vastgraph.train.link_head import LinkHead
from vastgraph.train.link_prediction import split_edges
from vastgraph.train.loaders import NodeLoader
from vastgraph.train.models import create_model
from vastgraph.train.samplers import sampler_for
from vastgraph.train.trainer import CHECKPOINT_NAME, Trainer


class TinyModel(NodeModel):
    """A free embedding per node (no sampling), with an unsupervised loss and a pair score."""

    def __init__(self, *, num_nodes, out_dim=8, random_state=None):
        super().__init__()
        self.out_dim = out_dim
        gen = torch.Generator().manual_seed(0 if random_state is None else random_state)
        self.emb = torch.nn.Parameter(0.1 * torch.randn(num_nodes, out_dim, generator=gen))
        self._config = {"out_dim": out_dim, "random_state": random_state}
        self.unsup_calls = 0
        self.pair_calls = 0

    def forward(self, batch):
        return self.emb[batch.nodes]

    def unsupervised_loss(self, batch):
        self.unsup_calls += 1
        return (self.emb[batch.nodes] ** 2).mean()

    def pair_score(self, h_u, h_v):
        self.pair_calls += 1
        return -((h_u - h_v) ** 2).sum(-1)


@pytest.fixture(scope="module")
def graph():
    return power_law_sbm(n_nodes=150, n_blocks=3, avg_degree=8, mixing=0.05, random_state=0).graph


@pytest.fixture(scope="module")
def idx():
    perm = np.random.default_rng(0).permutation(150)
    return perm[:45], perm[45:60], perm[60:]


def sage(g, seed=0, **kw):
    kw.setdefault("fanouts", (5, 5))
    return create_model("sage", g, hidden=16, out_dim=16, random_state=seed, **kw)


def fit_nc(g, idx, seed=0, model_seed=0, **kw):
    tr = Trainer(sage(g, model_seed), epochs=kw.pop("epochs", 5), batch_size=32, random_state=seed, **kw)
    return tr.fit(g, train_idx=idx[0], valid_idx=idx[1])


def losses(tr):
    return [(h["epoch"], h["loss"], h["valid"]) for h in tr.history_]


def test_node_classification_learns_and_is_deterministic(graph, idx):
    calls = []
    a = fit_nc(graph, idx, epochs=8, progress=lambda e, loss, v: calls.append((e, loss, v)))
    assert [c[0] for c in calls] == list(range(1, len(a.history_) + 1))
    assert a.history_[-1]["loss"] < a.history_[0]["loss"]
    res = a.evaluate(idx[2])
    assert res["micro_f1"] > 0.6 and 0 <= res["macro_f1"] <= 1  # 3 balanced blocks: chance is 1/3
    b = fit_nc(graph, idx, epochs=8)
    assert losses(a) == losses(b)
    np.testing.assert_array_equal(a.embed(), b.embed())
    emb = a.embed()
    assert emb.shape == (150, 16) and emb.dtype == np.float32
    sub = a.embed([3, 4])
    assert sub.shape == (2, 16)
    np.testing.assert_array_equal(a.embed([3, 4]), sub)
    pred = a.predict(idx[2])
    assert pred.shape == idx[2].shape and set(np.unique(pred)) <= {0, 1, 2}
    c = fit_nc(graph, idx, seed=1, epochs=2)
    assert losses(c) != losses(a)[:2]


def test_early_stopping_restores_best_weights(graph, idx):
    model = sage(graph, fanouts=-1)
    tr = Trainer(model, epochs=40, batch_size=32, lr=0.05, patience=2, random_state=0)
    tr.fit(graph, train_idx=idx[0], valid_idx=idx[1])
    assert len(tr.history_) < 40  # stopped early
    best = max(h["valid"] for h in tr.history_)
    assert tr.best_metric_ == best and tr.history_[tr.best_epoch_]["valid"] == best
    assert len(tr.history_) - 1 - tr.best_epoch_ == 2
    assert tr.evaluate(idx[1])["micro_f1"] == pytest.approx(best)  # full neighbourhoods: no sampling noise


def test_resume_gives_the_uninterrupted_result(graph, idx, tmp_path):
    full = fit_nc(graph, idx, epochs=6, patience=None, checkpoint_dir=tmp_path / "a")
    assert (tmp_path / "a" / CHECKPOINT_NAME).is_file()

    class Crash(Exception):
        pass

    def crash(epoch, loss, valid):
        if epoch == 3:
            raise Crash

    with pytest.raises(Crash):
        fit_nc(graph, idx, epochs=6, patience=None, checkpoint_dir=tmp_path / "b", progress=crash)
    # a fresh model with other initial weights and another trainer seed: the checkpoint decides
    resumed = Trainer(sage(graph, 9), epochs=6, batch_size=32, random_state=5, patience=None,
                      checkpoint_dir=tmp_path / "b")
    seen = []
    resumed.progress = lambda e, loss, v: seen.append(e)
    resumed.fit(graph, train_idx=idx[0], valid_idx=idx[1], resume=True)
    assert seen == [4, 5, 6]  # continued at the saved epoch
    assert losses(resumed) == losses(full)
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    np.testing.assert_array_equal(full.embed(), resumed.embed())


def test_resume_refuses_other_data(graph, idx, tmp_path):
    fit_nc(graph, idx, epochs=2, checkpoint_dir=tmp_path)
    tr = Trainer(sage(graph), epochs=3, batch_size=32, random_state=0, checkpoint_dir=tmp_path)
    with pytest.raises(ValidationError, match="other training data"):
        tr.fit(graph, train_idx=idx[0][:-1], valid_idx=idx[1], resume=True)
    tr = Trainer(create_model("gcn", graph, hidden=16, out_dim=16), epochs=3, checkpoint_dir=tmp_path)
    with pytest.raises(ValidationError, match="written for"):
        tr.fit(graph, train_idx=idx[0], valid_idx=idx[1], resume=True)
    with pytest.raises(ValidationError, match="checkpoint_dir"):
        Trainer(sage(graph), epochs=1).fit(graph, train_idx=idx[0], resume=True)


def test_save_load_round_trip_and_bad_files(graph, idx, tmp_path):
    tr = fit_nc(graph, idx, epochs=3)
    path = tr.save(tmp_path / "m.pt")
    back = Trainer.load(path, graph)
    np.testing.assert_array_equal(back.embed(), tr.embed())
    np.testing.assert_array_equal(back.predict(idx[2]), tr.predict(idx[2]))
    assert back.evaluate(idx[2]) == tr.evaluate(idx[2])
    assert losses(back) == losses(tr)
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(StoreError, match="no such file"):
        Trainer.load(tmp_path / "missing.pt", graph)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptStoreError, match="cannot be read"):
        Trainer.load(tmp_path / "junk.pt", graph)
    torch.save({"format": "other"}, tmp_path / "other.pt")
    with pytest.raises(CorruptStoreError, match="not a vastgraph trainer checkpoint"):
        Trainer.load(tmp_path / "other.pt", graph)
    small = power_law_sbm(n_nodes=60, n_blocks=3, avg_degree=6, random_state=0).graph
    with pytest.raises(ValidationError, match="do not fit"):
        Trainer.load(path, small)


def test_multilabel_uses_bce(graph, idx):
    y = np.zeros((150, 4), dtype=np.int64)
    lab = graph.labels()
    y[np.arange(150), lab] = 1
    y[:, 3] = (lab == 0)
    tr = Trainer(sage(graph), epochs=8, batch_size=32, random_state=0, lr=0.05)
    tr.fit(graph, train_idx=idx[0], valid_idx=idx[1], labels=y)
    assert tr.predict(idx[2]).shape == (idx[2].size, 4)
    assert tr.evaluate(idx[2])["micro_f1"] > 0.5


def test_link_prediction_heads_and_pair_score(graph):
    split = split_edges(graph, test_fraction=0.1, valid_fraction=0.05, random_state=0)
    tr = Trainer(sage(split.train_graph), "link-prediction", epochs=6, batch_size=128, random_state=0,
                 link_head="dot")
    tr.fit(split=split)
    res = tr.evaluate()
    assert res["auc"] > 0.6 and 0 < res["ap"] <= 1
    assert all(h["valid"] is not None for h in tr.history_)
    p = tr.predict(split.test_pos[:4])
    assert p.shape == (4,) and ((p > 0) & (p < 1)).all()
    tiny = TinyModel(num_nodes=split.train_graph.num_nodes(), random_state=0)
    tr = Trainer(tiny, "link-prediction", epochs=3, batch_size=128, random_state=0, unsupervised_weight=0.1)
    assert tr.link_head == "distance"  # auto picks the distance head for a model with pair_score
    tr.fit(split=split)
    assert tiny.pair_calls > 0 and tiny.unsup_calls == 3 * int(np.ceil(tr.task_.train.shape[0] / 128))
    assert {"auc", "ap"} <= set(tr.evaluate(pos_pairs=split.test_pos, neg_pairs=split.test_neg))
    with pytest.raises(ValidationError, match="split.train_graph"):
        Trainer(sage(graph), "link-prediction", epochs=1).fit(split=split)
    with pytest.raises(ValidationError, match="split.train_graph"):
        Trainer(sage(split.train_graph), "link-prediction", epochs=1).fit(graph, split=split)
    with pytest.raises(ValidationError, match="EdgeSplit"):
        Trainer(sage(graph), "link-prediction", epochs=1).fit(graph, split=None)


def test_link_head_kinds():
    h_u, h_v = torch.randn(5, 4), torch.randn(5, 4)
    assert torch.allclose(LinkHead(4, "dot")(h_u, h_v), (h_u * h_v).sum(1))
    d = LinkHead(4, "distance")
    assert torch.allclose(d(h_u, h_v), 2.0 - ((h_u - h_v) ** 2).sum(1), atol=1e-5)  # r=2, t=1 at init
    a, b = LinkHead(4, "hadamard", random_state=1), LinkHead(4, "hadamard", random_state=1)
    assert torch.equal(a(h_u, h_v), b(h_u, h_v)) and a(h_u, h_v).shape == (5,)
    with pytest.raises(ValidationError, match="link_head='cos'"):
        LinkHead(4, "cos")
    with pytest.raises(ValidationError, match=r"\(B, 4\)"):
        LinkHead(4, "dot")(torch.randn(5, 3), torch.randn(5, 3))


def test_unsupervised_weight_adds_model_loss(graph, idx):
    tiny = TinyModel(num_nodes=150, random_state=0)
    Trainer(tiny, epochs=2, batch_size=15, random_state=0).fit(graph, train_idx=idx[0])
    assert tiny.unsup_calls == 0
    Trainer(tiny, epochs=2, batch_size=15, random_state=0, unsupervised_weight=0.5).fit(graph, train_idx=idx[0])
    assert tiny.unsup_calls == 2 * 3


def test_bad_input(graph, idx):
    model = sage(graph)
    with pytest.raises(ValidationError, match="task='regression'"):
        Trainer(model, "regression")
    with pytest.raises(ValidationError, match="not a vastgraph.nn.base.NodeModel"):
        Trainer(torch.nn.Linear(2, 2))
    with pytest.raises(ValidationError, match="epochs=0"):
        Trainer(model, epochs=0)
    with pytest.raises(ValidationError, match="lr"):
        Trainer(model, lr=-1.0)
    with pytest.raises(ValidationError, match="device"):
        Trainer(model, device="toaster")
    tr = Trainer(model, epochs=1)
    with pytest.raises(NotFittedError):
        tr.embed()
    with pytest.raises(ValidationError, match=r"shape \(149,\)"):
        tr.fit(graph, train_idx=idx[0], labels=np.zeros(149, dtype=np.int64))
    bad = graph.labels().astype(np.float64)
    bad[3] = np.nan
    with pytest.raises(ValidationError, match="NaN"):
        tr.fit(graph, train_idx=idx[0], labels=bad)
    with pytest.raises(ValidationError, match="non-integer"):
        tr.fit(graph, train_idx=idx[0], labels=graph.labels() + 0.5)
    with pytest.raises(EmptyInputError, match="train_idx: empty"):
        tr.fit(graph, train_idx=np.array([], dtype=np.int64))
    with pytest.raises(ValidationError, match="train_idx: required"):
        tr.fit(graph)
    with pytest.raises(ValidationError, match=r"expected ids in \[0, 150\)"):
        tr.fit(graph, train_idx=[0, 150])
    unl = graph.labels().copy()
    unl[idx[0][0]] = -1
    with pytest.raises(ValidationError, match="without a label"):
        tr.fit(graph, train_idx=idx[0], labels=unl)
    with pytest.raises(ValidationError, match="0/1"):
        tr.fit(graph, train_idx=idx[0], labels=np.full((150, 2), 2))


def hostile(tmp_path, name, model):
    path = tmp_path / name
    torch.save({"format": FORMAT, "version": VERSION, "task": "node-classification", "model": model,
                "model_config": {}, "trainer_config": {}, "info": {}, "model_state": {}, "head_state": {},
                "epoch": 0, "rng": {"seed": 0}, "history": [], "early_stopping": {}}, path)
    return path


def test_load_imports_nothing_a_checkpoint_names(graph, tmp_path, monkeypatch):
    marker = tmp_path / "imported.txt"
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "evil_vg_module.py").write_text(f"open({str(marker)!r}, 'w').write('pwned')\n"
                                           "class Model:\n    pass\n")
    monkeypatch.syspath_prepend(str(pkg))
    for i, name in enumerate(["os:system", "evil_vg_module:Model", "evil_vg_module", "vastgraph.nn.base:NodeModel",
                              "subprocess:Popen", 3]):
        with pytest.raises(CorruptStoreError, match="not a registered model name"):
            Trainer.load(hostile(tmp_path, f"h{i}.pt", name), graph)
    assert not marker.exists()
    import sys

    assert "evil_vg_module" not in sys.modules
    # the old format, which named a module to import, is refused by version
    old = tmp_path / "v1.pt"
    torch.save({"format": FORMAT, "version": 1, "model_class": "evil_vg_module:Model"}, old)
    with pytest.raises(CorruptStoreError, match="format version 1"):
        Trainer.load(old, graph)
    assert not marker.exists()
    # a registered name with a truncated body is refused field by field
    with pytest.raises(CorruptStoreError, match="field 'task'"):
        path = tmp_path / "trunc.pt"
        torch.save({"format": FORMAT, "version": VERSION, "model": "sage"}, path)
        Trainer.load(path, graph)


def test_injected_loader_is_iterated(graph, idx):
    model = sage(graph)
    sampler = sampler_for(model, graph)
    seen = []

    class Recording(NodeLoader):
        def __iter__(self):
            for b in super().__iter__():
                seen.append(b.nodes.copy())
                yield b

    train = idx[0][:20]
    loader = Recording(sampler, train, batch_size=8, random_state=3)
    tr = Trainer(model, epochs=2, batch_size=999, random_state=0, loader=loader)
    tr.fit(graph, train_idx=idx[0], valid_idx=idx[1])
    assert len(seen) == 2 * 3 and sorted(np.concatenate(seen[:3]).tolist()) == sorted(train.tolist())
    assert tr.sampler_ is sampler and tr.embed().shape == (150, 16)
    with pytest.raises(ValidationError, match="training loader"):
        Trainer(model, loader=[1, 2, 3])


def test_models_take_batches_not_node_ids(graph):
    model = sage(graph)
    with pytest.raises(ValidationError, match="NodeBatch"):
        model(torch.arange(4))
    batch = sampler_for(model, graph).sample(np.array([3, 1, 3]), seed=0)
    out = model(batch)
    assert out.shape == (3, 16) and torch.equal(out[0], out[2])


def test_unsupervised_task_trains_structural_models_and_stops_on_plateau():
    import torch

    from vastgraph.datasets.roles import house_graph
    from vastgraph.train.models import create_model
    from vastgraph.train.trainer import Trainer

    torch.set_num_threads(1)
    g = house_graph("cycle", n_base=12, n_houses=4).graph
    for name in ("gralsp", "graphstone"):
        m = create_model(name, g, hidden=8, out_dim=8, walks_per_node=10, random_state=0,
                         **({"n_topics": 2} if name == "graphstone" else {}))
        tr = Trainer(m, "unsupervised", epochs=60, batch_size=16, patience=3, random_state=0).fit(g)
        losses = [h["loss"] for h in tr.history_]
        assert len(losses) < 60 and losses[-1] < losses[0]
        assert tr.embed().shape == (32, 8)
        assert m.role_decoder is not None
