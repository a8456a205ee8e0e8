"""The node-model registry: lookup, lazy entries, errors naming the valid choices."""

from __future__ import annotations

import pytest

from vastgraph.errors import RegistryError, ValidationError
from vastgraph.nn import registry
from vastgraph.nn.base import NodeModel
from vastgraph.nn.registry import available_models, get_model, model_name, register_model
from vastgraph.train.models import create_model


def test_available_models_lists_the_contract_names():
    names = available_models()
    for n in ("gcn", "sage", "gat", "gin", "gralsp", "graphstone", "hgcn"):
        assert n in names
    assert names == sorted(names)


def test_get_model_baselines_case_insensitive():
    from vastgraph.nn.pyg_baselines import GAT, GCN, GIN, GraphSAGE

    assert get_model("gcn") is GCN and get_model(" SAGE ") is GraphSAGE
    assert get_model("Gat") is GAT and get_model("gin") is GIN


def test_unknown_and_bad_names_list_known_models():
    with pytest.raises(RegistryError, match="known models: .*gcn") as exc:
        get_model("nope")
    assert isinstance(exc.value, KeyError)
    with pytest.raises(RegistryError, match="non-empty string"):
        get_model("")
    with pytest.raises(RegistryError):
        get_model(3)


def test_missing_module_names_the_module(monkeypatch):
    monkeypatch.setitem(registry._ENTRIES, "ghost", "vastgraph.nn.no_such_module:Ghost")
    with pytest.raises(RegistryError, match="vastgraph.nn.no_such_module"):
        get_model("ghost")
    monkeypatch.setitem(registry._ENTRIES, "notamodel", "vastgraph.nn.base:torch")
    with pytest.raises(RegistryError, match="no NodeModel class"):
        get_model("notamodel")


def test_register_and_create(monkeypatch):
    monkeypatch.setattr(registry.REGISTRY, "entries", dict(registry._ENTRIES))

    class Tiny(NodeModel):
        def __init__(self, *, out_dim=3):
            super().__init__()
            self.out_dim = out_dim

    from vastgraph.graph.builder import GraphBuilder

    b = GraphBuilder(directed=False)
    b.add_edges([0, 1], [1, 2])
    graph = b.build()
    register_model("tiny", Tiny)
    assert get_model("tiny") is Tiny and model_name(Tiny) == "tiny"
    m = create_model("tiny", graph, out_dim=5)
    assert isinstance(m, Tiny) and m.out_dim == 5 and model_name(m) == "tiny"
    with pytest.raises(ValidationError, match="unknown parameter.*bogus.*valid parameters: out_dim"):
        create_model("tiny", graph, bogus=1)
    with pytest.raises(ValidationError, match="graph"):
        create_model("tiny", None, out_dim=5)
    with pytest.raises(ValidationError, match="already registered"):
        register_model("tiny", Tiny)
    register_model("tiny", "pkg.mod:Tiny", overwrite=True)
    with pytest.raises(ValidationError, match="module:Class"):
        register_model("bad", "no_colon")
    with pytest.raises(ValidationError, match="NodeModel subclass"):
        register_model("bad", int)


def test_model_name_of_unregistered_class():
    class Loose(NodeModel):
        pass

    with pytest.raises(RegistryError, match="not in the model registry"):
        model_name(Loose)
    from vastgraph.nn.gralsp import GraLSP

    assert model_name(GraLSP) == "gralsp"
