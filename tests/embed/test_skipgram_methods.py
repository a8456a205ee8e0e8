"""DeepWalk, node2vec, LINE, metapath2vec: quality on planted structure, determinism, contract, registry."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score

from vastgraph.embed.base import Embedder
from vastgraph.embed.deepwalk import DeepWalk
from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
from vastgraph.embed.line import LINE
from vastgraph.embed.metapath2vec import Metapath2Vec
from vastgraph.embed.node2vec import Node2Vec
from vastgraph.embed.registry import available_embedders, create_embedder, get_embedder, register_embedder
from vastgraph.errors import (EmptyInputError, NotFittedError, RegistryError, SchemaError, ValidationError)
from vastgraph.embed import registry as registry_mod
from vastgraph.graph import GraphBuilder


def sbm(blocks=4, size=100, p_in=0.1, p_out=0.005, seed=0):
    rng = np.random.default_rng(seed)
    n = blocks * size
    y = np.repeat(np.arange(blocks), size)
    u, v = np.triu_indices(n, k=1)
    keep = rng.random(u.size) < np.where(y[u] == y[v], p_in, p_out)
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=n, labels=y)
    b.add_edges(u[keep], v[keep])
    return b.build(), y


def author_paper(seed=0, authors=60, papers=80, per_author=6, purity=0.9):
    """Two research communities: authors write papers mostly (``purity``) in their own one."""
    rng = np.random.default_rng(seed)
    ya = np.arange(authors) % 2
    yp = np.arange(papers) % 2
    src, dst = [], []
    for a in range(authors):
        same = rng.random(per_author) < purity
        comm = np.where(same, ya[a], 1 - ya[a])
        for c in comm:
            src.append(f"a{a}")
            dst.append(f"p{rng.choice(np.flatnonzero(yp == c))}")
    b = GraphBuilder(duplicates="sum")
    b.add_nodes("author", ids=[f"a{a}" for a in range(authors)])
    b.add_nodes("paper", ids=[f"p{p}" for p in range(papers)])
    b.add_edges(src, dst, etype=("author", "writes", "paper"))
    return b.build(), ya, yp


def probe(x, y):
    return cross_val_score(LogisticRegression(max_iter=2000), x, y, cv=5).mean()


def cos(x, a, b):
    xa, xb = x[a], x[b]
    return (xa * xb).sum(1) / (np.linalg.norm(xa, axis=1) * np.linalg.norm(xb, axis=1))


SMALL = dict(dimensions=32, walks_per_node=10, walk_length=40, window=5)


# ------------------------------------------------------------------------------- quality
def test_deepwalk_recovers_communities(one_thread):
    g, y = sbm()
    m = DeepWalk(random_state=0, **SMALL).fit(g)
    assert m.embedding_.shape == (400, 32) and m.embedding_.dtype == np.float32
    assert probe(m.embedding_, y) > 0.8
    assert isinstance(m.keyed_, KeyedEmbeddings) and m.keyed_.meta["method"] == "DeepWalk"
    assert m.keyed_.meta["params"]["window"] == 5
    np.testing.assert_array_equal(m.keyed_.vectors, m.embedding_)
    assert m.losses_[-1] < m.losses_[0]


def test_deepwalk_not_trivially_perfect_on_noisy_graph(one_thread):
    g, y = sbm(p_in=0.03, p_out=0.012, seed=5)
    acc = probe(DeepWalk(random_state=0, **SMALL).fit(g).embedding_, y)
    assert 0.35 < acc < 1.0


def test_node2vec_recovers_communities(one_thread):
    g, y = sbm(seed=1)
    m = Node2Vec(p=0.5, q=2.0, random_state=0, **SMALL).fit(g)
    assert probe(m.embedding_, y) > 0.8
    assert m.get_params()["q"] == 2.0


def test_line_first_order_places_linked_nodes_closer(one_thread):
    g, y = sbm(seed=2)
    x = LINE(dimensions=32, order=1, random_state=0).fit(g).embedding_
    src, dst = g.edge_index()
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 400, 5000), rng.integers(0, 400, 5000)
    assert cos(x, src, dst).mean() > cos(x, a, b).mean() + 0.2
    assert probe(x, y) > 0.8


@pytest.mark.parametrize("order", [2, "both"])
def test_line_second_order_and_both(order, one_thread):
    g, y = sbm(seed=3)
    m = LINE(dimensions=32, order=order, random_state=0).fit(g)
    assert m.embedding_.shape == (400, 32)
    assert probe(m.embedding_, y) > 0.8
    if order == "both":
        np.testing.assert_allclose(np.linalg.norm(m.embedding_[:, :16], axis=1), 1.0, rtol=1e-5)
        assert m.context_ is None
    else:
        assert m.context_.shape == (400, 32)


def test_line_uses_edge_weights(one_thread):
    # a 4-cycle 0-1-2-3 whose edge 0-1 is 50x heavier: 0 and 1 end up closest
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_edges([0, 1, 2, 3], [1, 2, 3, 0], weight=[50.0, 1.0, 1.0, 1.0])
    g = b.build()
    x = LINE(dimensions=8, order=1, samples=20000, random_state=0).fit(g).embedding_
    assert cos(x, [0], [1])[0] > cos(x, [2], [3])[0]


def test_metapath2vec_separates_communities_of_both_types(one_thread):
    g, ya, yp = author_paper()
    for aware in (True, False):
        m = Metapath2Vec(["writes", "~writes"], dimensions=16, walks_per_node=20, walk_length=20, window=3,
                         type_aware_negatives=aware, random_state=0).fit(g)
        kv = m.keyed_
        assert m.embedding_.shape == (140, 16) and kv.node_types == ["author", "paper"]
        assert probe(kv.vectors_for("author"), ya) > 0.85
        assert probe(kv.vectors_for("paper"), yp) > 0.85
        # every paper of a community is nearer (cosine) to its own community's authors
        pa = kv.vectors_for("paper")
        au = kv.vectors_for("author")
        cen = np.stack([au[ya == c].mean(0) for c in (0, 1)])
        s = (pa / np.linalg.norm(pa, axis=1, keepdims=True)) @ (cen / np.linalg.norm(cen, axis=1, keepdims=True)).T
        assert (s.argmax(1) == yp).mean() > 0.85
    assert m.keyed_.key_of([0])[0] == ("author", "a0")


# ------------------------------------------------------------------------------- determinism
def test_same_seed_same_vectors(one_thread):
    g, _ = sbm(size=40)
    hg, _, _ = author_paper(authors=20, papers=20)
    for make in (lambda s: DeepWalk(random_state=s, **SMALL),
                 lambda s: Node2Vec(p=0.25, q=4.0, random_state=s, **SMALL),
                 lambda s: LINE(dimensions=16, order="both", samples=20000, random_state=s)):
        a, b, c = make(11).fit(g), make(11).fit(g), make(12).fit(g)
        np.testing.assert_array_equal(a.embedding_, b.embedding_)
        assert not np.array_equal(a.embedding_, c.embedding_)
    mp = [Metapath2Vec(["writes", "~writes"], dimensions=8, walk_length=10, random_state=s).fit(hg) for s in (1, 1, 2)]
    np.testing.assert_array_equal(mp[0].embedding_, mp[1].embedding_)
    assert not np.array_equal(mp[0].embedding_, mp[2].embedding_)


def test_progress_callback_sees_training():
    g, _ = sbm(size=20)
    seen = []
    DeepWalk(dimensions=8, walks_per_node=2, walk_length=10, random_state=0,
             progress=lambda f, loss: seen.append((f, loss))).fit(g)
    assert seen and seen[-1][0] == pytest.approx(1.0) and all(np.isfinite(l) for _, l in seen)
    seen.clear()
    LINE(dimensions=8, order="both", samples=50000, random_state=0, progress=lambda f, l: seen.append(f)).fit(g)
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0) and min(seen) < 0.5


# ------------------------------------------------------------------------------- contract
@pytest.mark.parametrize("model", [DeepWalk(), Node2Vec(), LINE(), Metapath2Vec(["writes"])])
def test_not_fitted_before_fit(model):
    assert isinstance(model, Embedder)
    for attr in ("embedding_", "keyed_"):
        with pytest.raises(NotFittedError, match="not fitted"):
            getattr(model, attr)
    with pytest.raises(NotFittedError):
        model.check_is_fitted()
    with pytest.raises(AttributeError):
        model.no_such_thing  # noqa: B018 - plain attributes keep the normal AttributeError
    assert not hasattr(model, "embedding_")


def test_fitted_model_pickles():
    import pickle

    g, _ = sbm(size=10)
    m = DeepWalk(dimensions=4, walks_per_node=2, walk_length=5, random_state=0).fit(g)
    back = pickle.loads(pickle.dumps(m))
    np.testing.assert_array_equal(back.embedding_, m.embedding_)
    assert back.get_params() == m.get_params()
    with pytest.raises(NotFittedError):
        pickle.loads(pickle.dumps(LINE())).keyed_


def test_params_are_stored_unchanged():
    m = DeepWalk(dimensions=-3, window="x")  # no validation (and no work) in __init__
    assert m.get_params()["dimensions"] == -3 and m.get_params()["window"] == "x"
    m.set_params(dimensions=16)
    assert m.dimensions == 16 and "dimensions=16" in repr(m)
    with pytest.raises(ValidationError, match="unknown parameter 'p'"):
        m.set_params(p=2)
    assert set(Node2Vec().get_params()) == set(DeepWalk().get_params()) | {"p", "q"}


BAD = [
    (DeepWalk, {"dimensions": 0}, "dimensions=0"),
    (DeepWalk, {"window": 0}, "window=0"),
    (DeepWalk, {"negative": -1}, "negative=-1"),
    (DeepWalk, {"lr": float("nan")}, "lr=nan"),
    (DeepWalk, {"epochs": 0}, "epochs=0"),
    (DeepWalk, {"subsample": -0.1}, "subsample"),
    (DeepWalk, {"min_count": -2}, "min_count"),
    (DeepWalk, {"walks_per_node": 0}, "walks_per_node"),
    (DeepWalk, {"walk_length": 0}, "walk_length"),
    (DeepWalk, {"shared_negatives": "yes"}, "shared_negatives"),
    (DeepWalk, {"progress": "bar"}, "progress"),
    (DeepWalk, {"random_state": -1}, "random_state"),
    (Node2Vec, {"p": 0.0}, "p=0.0"),
    (Node2Vec, {"q": float("inf")}, "q=inf"),
    (LINE, {"order": 3}, "order=3"),
    (LINE, {"order": True}, "order=True"),
    (LINE, {"order": "both", "dimensions": 7}, "even"),
    (LINE, {"dimensions": 0}, "dimensions=0"),
    (LINE, {"negative": -1}, "negative=-1"),
    (LINE, {"samples": 0}, "samples=0"),
    (LINE, {"lr": -1.0}, "lr=-1.0"),
]


@pytest.mark.parametrize("cls,kwargs,match", BAD)
def test_bad_hyperparameters(cls, kwargs, match):
    g, _ = sbm(size=5)
    with pytest.raises(ValidationError, match=match):
        cls(**kwargs).fit(g)


def test_unknown_edge_type_lists_the_known_ones():
    g, _, _ = author_paper(authors=6, papers=6)
    for model in (DeepWalk(etype="cites"), LINE(etype="cites")):
        with pytest.raises(SchemaError, match="author:writes:paper"):
            model.fit(g)
    with pytest.raises(ValidationError, match="same node type"):
        DeepWalk(etype="writes").fit(g)  # author → paper: a plain walk cannot stay on it
    with pytest.raises(SchemaError, match="author:writes:paper"):
        Metapath2Vec(["cites"]).fit(g)
    with pytest.raises(ValidationError, match="type_aware_negatives"):
        Metapath2Vec(["writes", "~writes"], type_aware_negatives=1).fit(g)


def test_line_on_a_graph_without_edges():
    b = GraphBuilder(directed=False, id_mode="dense")
    b.add_nodes(count=3)
    b.add_edge_type(("node", "edge", "node"))
    with pytest.raises(EmptyInputError, match="no edges"):
        LINE(dimensions=4).fit(b.build())


def test_deepwalk_on_one_edge_type_of_a_heterogeneous_graph(one_thread):
    b = GraphBuilder(directed=False)
    b.add_edges(["u0", "u1", "u2", "u3"], ["u1", "u2", "u3", "u0"], etype=("user", "follows", "user"))
    b.add_edges(["u0", "u1"], ["i0", "i1"], etype=("user", "buys", "item"))
    g = b.build()
    m = DeepWalk(dimensions=4, walks_per_node=3, walk_length=6, etype="follows", random_state=0).fit(g)
    assert m.embedding_.shape == (g.num_nodes_total(), 4)
    assert m.keyed_[("user", "u2")].shape == (4,)
    # the item rows are never visited, so only their (zero) context rows tell: they stay untouched
    off = g.node_offsets()["item"]
    assert not m.context_[off:].any() and m.context_[:off].any()


# ------------------------------------------------------------------------------- registry
def test_registry_lookups():
    names = available_embedders()
    assert {"deepwalk", "node2vec", "line", "metapath2vec", "netmf", "prone"} <= set(names)
    assert get_embedder("DeepWalk") is DeepWalk and get_embedder(" line ") is LINE
    assert get_embedder("metapath2vec") is Metapath2Vec and get_embedder("node2vec") is Node2Vec
    m = create_embedder("deepwalk", dimensions=8)
    assert isinstance(m, DeepWalk) and m.dimensions == 8


def test_registry_unknown_names_list_the_valid_ones():
    with pytest.raises(RegistryError, match=r"known embedders: .*deepwalk.*line.*metapath2vec") as info:
        get_embedder("word2vec")
    assert isinstance(info.value, KeyError) and "'word2vec'" in str(info.value)
    with pytest.raises(RegistryError, match="non-empty string"):
        get_embedder(None)
    with pytest.raises(ValidationError, match="valid parameters: dimensions"):
        create_embedder("deepwalk", dimension=8)


def test_registry_missing_module_fails_only_when_asked(monkeypatch):
    monkeypatch.setitem(registry_mod._ENTRIES, "ghost", "vastgraph.embed.no_such_module:Ghost")
    assert "ghost" in available_embedders()
    assert get_embedder("deepwalk") is DeepWalk
    with pytest.raises(RegistryError, match="not available in this installation"):
        get_embedder("ghost")
    monkeypatch.setitem(registry_mod._ENTRIES, "wrong", "vastgraph.embed.deepwalk:NoClass")
    with pytest.raises(RegistryError, match="no Embedder class 'NoClass'"):
        get_embedder("wrong")


def test_register_embedder(monkeypatch):
    monkeypatch.setattr(registry_mod.REGISTRY, "entries", dict(registry_mod._ENTRIES))

    class Mine(DeepWalk):
        pass

    register_embedder("mine", Mine)
    assert get_embedder("MINE") is Mine
    with pytest.raises(ValidationError, match="already registered"):
        register_embedder("mine", Mine)
    register_embedder("mine", "vastgraph.embed.line:LINE", overwrite=True)
    assert get_embedder("mine") is LINE
    with pytest.raises(ValidationError, match="Embedder subclass"):
        register_embedder("bad", int)
    with pytest.raises(ValidationError, match="module:ClassName"):
        register_embedder("bad", "vastgraph.embed.line")
