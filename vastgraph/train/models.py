"""Build a registered node model on a graph: read its inputs, compute its structural statistics.

Models (:mod:`vastgraph.nn`) take tensors; this factory is where a graph meets them. For a model
name of the registry (:mod:`vastgraph.nn.registry`) :func:`create_model` resolves the node and
edge types, reads the node features and, for the structural models, computes the anonymous-walk
statistics in :mod:`vastgraph.sampling` (a
:class:`~vastgraph.sampling.structural_context.StructuralContext` for GraLSP, the structural topics
``θ`` for GraphSTONE), then calls the model's constructor with those arrays. What it prepared is
remembered for :func:`vastgraph.train.samplers.sampler_for`, so the loader reuses the context.

``create_model(name, graph, **model.config())`` rebuilds the same model (same context, same initial
weights): checkpoints store the registry name and the config.

Example:
    >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
    >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
    >>> model = create_model("gralsp", graph, hidden=16, out_dim=8, walks_per_node=4, num_samples=3,
    ...                      random_state=0)
    >>> model.num_nodes, model.config()["etype"]
    (60, 'node:edge:node')
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

from vastgraph.errors import EmptyInputError, SchemaError, ValidationError
from vastgraph.graph.view import GraphView
from vastgraph.nn.base import check_features
from vastgraph.nn.registry import get_model
from vastgraph.seeding import derive_seed, seed_from
from vastgraph.train.samplers import remember

# constructor arguments the factory fills from the graph (not user parameters)
DATA_INPUTS = ("num_nodes", "features", "n_types", "theta", "node_type_sizes", "num_relations", "relations",
               "role_features")
# default walks per node of the structural context: role features need stable distributions
WALKS_PER_NODE = 100
# factory-only parameters per sampler kind
_EXTRA = {"walk-pairs": ("context",), "relational-walk-pairs": ("context",)}


def resolve_types(graph: GraphView, ntype: str | None, etype: Any) -> tuple[str, Any]:
    """``(node type, edge type)`` of a homogeneous view: an edge type from ``ntype`` to ``ntype``."""
    nt = graph.node_type(ntype) if ntype is not None or len(graph.node_types) == 1 else None
    if etype is None:
        cands = [et for et in graph.edge_types if nt is None or (et.src == nt and et.dst == nt)]
        if len(cands) != 1:
            raise SchemaError(f"etype: the graph has edge types {', '.join(map(str, graph.edge_types)) or '(none)'}"
                              f"{'' if nt is None else f' ({len(cands)} from {nt!r} to {nt!r})'}; name one "
                              "whose source and destination are the model's node type")
        et = cands[0]
    else:
        et = graph.edge_type(tuple(etype) if isinstance(etype, list) else etype)
    if nt is None:
        nt = et.dst
    if et.src != nt or et.dst != nt:
        raise ValidationError(f"etype={etype!r}: edge type {et} does not connect node type {nt!r} to itself; "
                              "the model runs on one node type and one edge type")
    return nt, et


def graphstone_etype(graph: GraphView, ntype: str | None, etype: Any) -> Any:
    """GraphSTONE's edge type: ``etype``, or the only edge type within one node type (``ntype``'s)."""
    from vastgraph.sampling.walks import walk_edge_type

    if etype is not None:
        et = walk_edge_type(graph, tuple(etype) if isinstance(etype, list) else etype, "GraphSTONE")
    else:
        cands = [et for et in graph.edge_types if et.src == et.dst and (ntype is None or et.src == ntype)]
        if len(cands) != 1:
            raise ValidationError(f"etype=None, ntype={ntype!r}: found {len(cands)} edge types within one node "
                                  "type; name etype (GraphSTONE aggregates along one edge type)")
        et = cands[0]
    if ntype is not None and ntype != et.src:
        raise ValidationError(f"ntype={ntype!r}: edge type {et} joins {et.src!r} nodes; expected ntype={et.src!r}")
    return et


def _etype_label(et: Any) -> str:
    return ":".join((et.src, et.rel, et.dst))


def model_params(name: str) -> list[str]:
    """The parameters ``create_model(name, graph, **params)`` accepts (constructor arguments that are
    not arrays read from the graph, plus the factory's own, e.g. GraLSP's prebuilt ``context``)."""
    cls = get_model(name)
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        sig = inspect.signature(init)
        for p in sig.parameters.values():
            if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD) and p.name not in names:
                names.append(p.name)
        if not any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):
            break
    names = [n for n in names if n not in DATA_INPUTS and n != "graph"]
    return names + [e for e in _EXTRA.get(getattr(cls, "sampler_kind", "nodes"), ()) if e not in names]


# ----------------------------------------------------------------------------------- structural context
def prepare_walk_context(graph: GraphView, params: dict[str, Any], *, relational: bool,
                         context: Any = None) -> dict[str, Any]:
    """The structural context of a GraLSP model's config on ``graph`` and what its sampler needs.

    Returns ``{"context", "degree", "ntype", "num_ids", "offset"}`` (relational: also ``"pair_rel"``,
    ``"relations"``, ``"etypes"``), with ``params`` updated in place to the context's build parameters.
    """
    from vastgraph.sampling.structural_context import (StructuralContext, resolve_etypes, union_view,
                                                       walk_relations)
    from vastgraph.sampling.walks import walk_edge_type

    walk_keys = ("walks_per_node", "walk_length", "p", "q", "min_count", "window")
    defaults = {"walks_per_node": WALKS_PER_NODE, "walk_length": 8, "p": 1.0, "q": 1.0, "min_count": 2, "window": 4}
    walk = {k: params.get(k, defaults[k]) for k in walk_keys}
    seed = params.get("context_random_state")
    if seed is None:
        seed = int(seed_from(params.get("random_state")) % np.uint64(2**63))
        params["random_state"] = seed
    out: dict[str, Any] = {}
    if relational:
        ntype = params.get("ntype")
        if ntype is not None and ntype not in graph.node_types:
            raise ValidationError(f"ntype={ntype!r}: expected None or one of {', '.join(graph.node_types)}")
        try:
            etypes = resolve_etypes(graph, params.get("etype"))
        except EmptyInputError as exc:
            raise EmptyInputError(f"RelationalGraLSP: {exc}") from None
        view, keys, rels, names = union_view(graph, etypes)
        et = view.edge_type(view.edge_types[0])
        out.update(etypes=etypes, relations=names, ntype=ntype,
                   num_ids=graph.num_nodes_total() if ntype is None else graph.num_nodes(ntype),
                   offset=0 if ntype is None else int(graph.node_offsets()[ntype]))
        walk_graph = view
    else:
        et = walk_edge_type(graph, params.get("etype"), "GraLSP")
        ntype = params.get("ntype")
        if ntype is not None and ntype != et.src:
            raise ValidationError(f"ntype={ntype!r}: edge type {str(et)!r} connects node type {et.src!r}; "
                                  "expected that node type (or None)")
        out.update(ntype=et.src, num_ids=graph.num_nodes(et.src), offset=0, etype=et)
        walk_graph = graph
    if context is None:
        context = StructuralContext.build(walk_graph, etype=et, random_state=seed, **walk)
    elif not isinstance(context, StructuralContext):
        raise ValidationError(f"context={type(context).__name__}: expected a StructuralContext or None")
    elif context.num_nodes != walk_graph.num_nodes(et.src):
        raise ValidationError(f"context: built for {context.num_nodes} nodes; "
                              f"{'the union view' if relational else f'node type {et.src!r}'} has "
                              f"{walk_graph.num_nodes(et.src)}")
    params.update({k: context.params[k] for k in walk_keys})
    params["context_random_state"] = int(context.params["random_state"])
    out["context"] = context
    out["degree"] = walk_graph.out_degree(et)
    if relational:
        out["pair_rel"] = walk_relations(context, keys, rels)
    return out


def _gralsp_features(graph: GraphView, ntype: str, context: Any, mode: str) -> Any:
    from vastgraph.nn.gralsp import INPUT_FEATURES

    if mode not in INPUT_FEATURES:
        raise ValidationError(f"input_features={mode!r}: expected one of {', '.join(INPUT_FEATURES)}")
    feats = graph.features(ntype)
    if mode == "graph" and feats is None:
        raise ValidationError(f"input_features='graph': node type {ntype!r} has no features")
    if mode == "learned":
        return None
    parts = []
    if mode in ("graph", "graph+structural") or (mode == "auto" and feats is not None):
        if feats is not None:
            parts.append(check_features(feats, graph.num_nodes(ntype), name=f"features of node type {ntype!r}"))
    if mode in ("structural", "graph+structural") or (mode == "auto" and feats is None):
        parts.append(context.structural_features())
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


# ----------------------------------------------------------------------------------- builders
def _build_fanout(cls: type, graph: GraphView, params: dict[str, Any]) -> Any:
    nt, et = resolve_types(graph, params.pop("ntype", None), params.pop("etype", None))
    model = cls(num_nodes=graph.num_nodes(nt), features=graph.features(nt), ntype=nt, etype=_etype_label(et),
                **params)
    remember(model, graph)
    return model


def _build_gralsp(cls: type, graph: GraphView, params: dict[str, Any]) -> Any:
    relational = cls.sampler_kind == "relational-walk-pairs"
    context = params.pop("context", None)
    mode = params.get("input_features", "auto")
    if relational and mode not in ("auto", "learned", "structural"):
        raise ValidationError(f"input_features={mode!r}: expected 'auto', 'learned' or 'structural'")
    prep = prepare_walk_context(graph, params, relational=relational, context=context)
    ctx = prep["context"]
    if relational:
        if mode == "structural":
            feats: Any = ctx.structural_features()
        elif mode == "learned":
            feats = None
        else:
            feats = [None if graph.features(t) is None else
                     check_features(graph.features(t), graph.num_nodes(t), name=f"features of node type {t!r}")
                     for t in graph.node_types]
        params["etype"] = None if params.get("etype") is None else [_etype_label(e) for e in prep["etypes"]]
        model = cls(node_type_sizes=[graph.num_nodes(t) for t in graph.node_types], n_types=ctx.n_types,
                    num_relations=len(prep["relations"]), relations=prep["relations"], features=feats, **params)
    else:
        params["ntype"], params["etype"] = prep["ntype"], _etype_label(prep["etype"])
        model = cls(num_nodes=ctx.num_nodes, n_types=ctx.n_types,
                    features=_gralsp_features(graph, prep["ntype"], ctx, mode),
                    role_features=ctx.structural_features(), **params)
    remember(model, graph, **prep)
    return model


def graphstone_role_features(graph: GraphView, et: Any, walk_length: int, walks_per_node: int, seed: int) -> Any:
    """GraphSTONE's role features: :func:`~vastgraph.sampling.structural_context.role_features` of
    ``walks_per_node`` first-order walks of ``walk_length`` steps per node, with the degrees."""
    from vastgraph.sampling.structural_context import degree_statistics, role_features
    from vastgraph.sampling.walks import random_walks

    walks = random_walks(graph, walks_per_node=int(walks_per_node), walk_length=int(walk_length), etype=et,
                         random_state=seed)
    deg, nbr = degree_statistics(graph, et)
    return role_features(walks, graph.num_nodes(et.src), degree=deg, neighbour_degree=nbr)


def _build_graphstone(cls: type, graph: GraphView, params: dict[str, Any]) -> Any:
    from vastgraph.sampling.structural_topics import StructuralTopicModel

    et = graphstone_etype(graph, params.pop("ntype", None), params.pop("etype", None))
    rs = params.get("random_state")
    if rs is not None and (isinstance(rs, bool) or not isinstance(rs, (int, np.integer))):
        raise ValidationError(f"random_state={rs!r}: expected None or an int (it is stored in the config)")
    n_topics = params.get("n_topics", 5)
    topics = StructuralTopicModel(n_topics, walk_length=params.get("walk_length", 6),
                                  walks_per_node=params.get("walks_per_node", 64),
                                  anchor_method=params.get("anchor_method", "nmf"), etype=et,
                                  random_state=int(derive_seed(seed_from(rs), 1) % np.uint64(2**63)))
    theta = topics.fit(graph).node_topic_
    roles = graphstone_role_features(graph, et, params.get("walk_length", 6), params.get("walks_per_node", 64),
                                     int(derive_seed(seed_from(rs), 3) % np.uint64(2**63)))
    mode = params.get("input_features", "auto")
    feats = graph.features(et.src)
    if mode == "graph" and feats is None:
        raise ValidationError(f"input_features='graph': node type {et.src!r} has no features")
    if mode == "structural" or (mode == "auto" and feats is None):
        feats = roles
    elif mode == "learned":
        feats = None
    model = cls(num_nodes=graph.num_nodes(et.src), theta=theta, features=feats, ntype=et.src,
                etype=_etype_label(et), role_features=roles, **params)
    model.topics = topics
    remember(model, graph, topics=topics)
    return model


def _build_plain(cls: type, graph: GraphView, params: dict[str, Any]) -> Any:
    sig = inspect.signature(cls.__init__).parameters
    extra = {k: v for k, v in (("num_nodes", None), ("features", None)) if k in sig}
    if "num_nodes" in extra or "features" in extra:
        nt = params.get("ntype") or (graph.node_types[0] if len(graph.node_types) == 1 else None)
        if "num_nodes" in extra:
            extra["num_nodes"] = graph.num_nodes(nt) if nt is not None else graph.num_nodes_total()
        if "features" in extra:
            extra["features"] = graph.features(nt) if nt is not None else None
    model = cls(**extra, **params)
    remember(model, graph)
    return model


_BUILDERS = {"fanout": _build_fanout, "walk-pairs": _build_gralsp, "relational-walk-pairs": _build_gralsp,
             "neighbor-blocks": _build_graphstone}


def create_model(name: str, graph: GraphView, **params: Any) -> Any:
    """An instance of registered model ``name`` built on ``graph`` with ``params``.

    Args:
        name: a registry name (``"gcn"``, ``"sage"``, ``"gat"``, ``"gin"``, ``"hgcn"``, ``"gralsp"``,
            ``"rgralsp"``, ``"graphstone"``, or one added with ``register_model``).
        graph: the graph (:class:`~vastgraph.graph.view.GraphView`).
        params: the model's parameters (see :func:`model_params`); GraLSP also takes a prebuilt
            ``context`` (a :class:`~vastgraph.sampling.structural_context.StructuralContext`).

    Raises:
        RegistryError: unknown name (the message lists the known ones).
        ValidationError: a parameter the model does not take (lists the valid ones), bad values.
        SchemaError: unknown node or edge types.

    Example:
        >>> from vastgraph.datasets.synthetic_sbm import power_law_sbm
        >>> graph = power_law_sbm(60, 2, avg_degree=6, random_state=0).graph
        >>> create_model("sage", graph, hidden=32, out_dim=16, random_state=0).out_dim
        16
    """
    cls = get_model(name)
    valid = model_params(name)
    sig = inspect.signature(cls.__init__)
    takes_any = cls.__init__ is object.__init__ or any(
        p.kind is p.VAR_KEYWORD for p in sig.parameters.values()) and cls.sampler_kind not in _BUILDERS
    unknown = sorted(set(params) - set(valid))
    if unknown and not takes_any:
        raise ValidationError(f"{cls.__name__}: unknown parameter(s) {', '.join(unknown)}; valid parameters: "
                              f"{', '.join(valid)}")
    if not isinstance(graph, GraphView):
        raise ValidationError(f"graph={type(graph).__name__}: expected a vastgraph graph (a GraphView)")
    builder = _BUILDERS.get(getattr(cls, "sampler_kind", "nodes"), _build_plain)
    return builder(cls, graph, dict(params))
