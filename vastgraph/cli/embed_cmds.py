"""CLI commands of the embedding layer: embed and evaluate."""

from __future__ import annotations

import inspect
import time
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Optional

import typer
from typer.core import TyperCommand, TyperGroup

from vastgraph.cli._common import console, handle_errors, print_json, print_table, progress_bar

HELDOUT = "heldout.npz"


class _MethodGroup(TyperGroup):
    """``vastgraph embed METHOD``: an unknown method fails with the list of registered ones."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name = args[0] if args else ""
        if name and self.get_command(ctx, name) is None:
            from vastgraph.embed.registry import available_embedders

            ctx.fail(f"unknown embedding method {name!r}; known methods: {', '.join(available_embedders())}"
                     + (", update" if self.get_command(ctx, "update") is not None else ""))
        return super().resolve_command(ctx, args)


embed_app = typer.Typer(cls=_MethodGroup, no_args_is_help=True,
                        help="Train node embeddings (one subcommand per method), or update them with a delta.")


def run_embed(method: str, store: Path, out: Path, *, config: Optional[Path] = None,
              set_: Optional[list[str]] = None, dimensions: Optional[int] = None, seed: int = 0,
              holdout: float = 0.0, holdout_etype: Optional[str] = None, overwrite: bool = False,
              extra: Optional[dict[str, Any]] = None) -> None:
    """Train ``method`` on a store and save a KeyedEmbeddings folder (the body of every embed subcommand)."""
    import numpy as np

    from vastgraph.config import load_yaml_config, parse_assignments, validate_params
    from vastgraph.embed.registry import get_embedder
    from vastgraph.errors import StoreExistsError
    from vastgraph.graph import open_graph

    cls = get_embedder(method)
    params: dict[str, Any] = {}
    if config is not None:
        params.update(load_yaml_config(config))
    params.update(parse_assignments(set_))
    if dimensions is not None:
        params["dimensions"] = dimensions
    params.update({k: v for k, v in (extra or {}).items() if v is not None})
    accepted = inspect.signature(cls.__init__).parameters
    if "random_state" in accepted:
        params.setdefault("random_state", seed)
    params = validate_params(cls, params, where="parameters (--config/--set)")
    if out.exists() and not overwrite:
        raise StoreExistsError(f"{out} already exists; pass --overwrite to replace it")
    graph = open_graph(store)
    split = None
    if holdout > 0:
        from vastgraph.train.link_prediction import split_edges

        with progress_bar(f"holding out {holdout:.0%} of the edges"):
            split = split_edges(graph, holdout_etype, test_fraction=holdout, random_state=seed)
        graph = split.train_graph
    with progress_bar(f"{cls.__name__}", total=1.0) as update:
        if "progress" in accepted:
            params["progress"] = lambda frac, loss=None: update(
                frac, description=f"{cls.__name__}" + ("" if loss is None else f" loss {loss:.4f}"))
        model = cls(**params)
        t0 = time.perf_counter()
        model.fit(graph)
        elapsed = time.perf_counter() - t0
    keyed = model.keyed_
    path = keyed.save(out, overwrite=overwrite)
    if hasattr(model, "save_state"):  # dynamic embedders keep what `embed update` continues from
        model.save_state(Path(path) / "state")
    if split is not None:
        np.savez(Path(path) / HELDOUT, test_pos=split.to_global(split.test_pos),
                 test_neg=split.to_global(split.test_neg), etype=str(split.etype))
    console.print(f"[green]wrote[/] {path}: {len(keyed):,} vectors × {keyed.dim} ({elapsed:.2f} s training)")


_SUMMARY = {
    "deepwalk": "DeepWalk: uniform random walks + skip-gram (SGNS).",
    "node2vec": "node2vec: second-order p/q walks + skip-gram.",
    "line": "LINE: first/second-order proximity on edges.",
    "metapath2vec": "metapath2vec(++): metapath-guided walks on typed graphs + skip-gram.",
    "netmf": "NetMF: the matrix DeepWalk factorises, by (sparse) SVD.",
    "prone": "ProNE: sparse factorisation + spectral propagation.",
    "dne": "DNE: dynamic embedding that `embed update` keeps fresh at the cost of each change.",
    "incremental-walks": "DeepWalk/node2vec that `embed update` refreshes by re-walking only changed regions.",
}


def _method_command(method: str) -> Callable[..., None]:
    def command(
        store: Path = typer.Argument(..., help="Store folder."),
        out: Path = typer.Argument(..., help="Output embeddings folder (KeyedEmbeddings)."),
        config: Optional[Path] = typer.Option(None, help="YAML file of the method's parameters."),
        set_: Optional[list[str]] = typer.Option(None, "--set", help="Parameter override key=value (repeatable), e.g. --set p=0.25."),
        dimensions: Optional[int] = typer.Option(None, help="Embedding dimension (shortcut for --set dimensions=N)."),
        seed: int = typer.Option(0, help="random_state."),
        holdout: float = typer.Option(0.0, help="Hold out this fraction of one edge type's edges (with as many non-edges) for link prediction; saved beside the embeddings."),
        holdout_etype: Optional[str] = typer.Option(None, help="Edge type to hold out from (default: the only one)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output folder."),
    ) -> None:
        run_embed(method, store, out, config=config, set_=set_, dimensions=dimensions, seed=seed, holdout=holdout,
                  holdout_etype=holdout_etype, overwrite=overwrite)

    command.__doc__ = (_SUMMARY.get(method, f"Train {method} embeddings.") +
                       " Saves a KeyedEmbeddings folder.")
    return handle_errors(command)


def _curvature_command() -> Callable[..., None]:
    def command(
        store: Path = typer.Argument(..., help="Store folder."),
        out: Path = typer.Argument(..., help="Output embeddings folder (KeyedEmbeddings with the manifold)."),
        manifold: Optional[str] = typer.Option(None, help="mixed | poincare | euclidean | sphere | learned, or blocks like h16,s16,e16."),
        config: Optional[Path] = typer.Option(None, help="YAML file of the method's parameters."),
        set_: Optional[list[str]] = typer.Option(None, "--set", help="Parameter override key=value (repeatable)."),
        dimensions: Optional[int] = typer.Option(None, help="Total embedding dimension over all blocks."),
        seed: int = typer.Option(0, help="random_state."),
        holdout: float = typer.Option(0.0, help="Hold out this fraction of one edge type's edges for link prediction."),
        holdout_etype: Optional[str] = typer.Option(None, help="Edge type to hold out from (default: the only one)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output folder."),
    ) -> None:
        run_embed("curvature", store, out, config=config, set_=set_, dimensions=dimensions, seed=seed,
                  holdout=holdout, holdout_etype=holdout_etype, overwrite=overwrite, extra={"manifold": manifold})

    command.__doc__ = ("Train mixed-curvature (AMCAD) embeddings: product of hyperbolic, spherical and flat "
                       "blocks with learned curvatures.")
    return handle_errors(command)


def _spacene_command() -> Callable[..., None]:
    def command(
        store: Path = typer.Argument(..., help="Store folder."),
        out: Path = typer.Argument(..., help="Output embeddings folder (KeyedEmbeddings; bases in state/spacene.npz)."),
        tree: str = typer.Option("auto", help="Community tree: auto (recursive spectral splits of walk PPMI), louvain, labels, data:NAME, or a file of 'node path/to/community' lines."),
        levels: Optional[int] = typer.Option(None, help="Tree depth (auto: default 3; a given tree is cut below it)."),
        config: Optional[Path] = typer.Option(None, help="YAML file of the method's parameters."),
        set_: Optional[list[str]] = typer.Option(None, "--set", help="Parameter override key=value (repeatable)."),
        dimensions: Optional[int] = typer.Option(None, help="Root embedding dimension."),
        seed: int = typer.Option(0, help="random_state."),
        holdout: float = typer.Option(0.0, help="Hold out this fraction of one edge type's edges for link prediction."),
        holdout_etype: Optional[str] = typer.Option(None, help="Edge type to hold out from (default: the only one)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing output folder."),
    ) -> None:
        run_embed("spacene", store, out, config=config, set_=set_, dimensions=dimensions, seed=seed,
                  holdout=holdout, holdout_etype=holdout_etype, overwrite=overwrite,
                  extra={"tree": tree, "levels": levels})

    command.__doc__ = ("Train SpaceNE embeddings: a community tree's communities in nested orthonormal subspaces "
                       "of shrinking dimension.")
    return handle_errors(command)


def _arg_docs(doc: str) -> dict[str, str]:
    """``{parameter: help}`` from a Google-style docstring's ``Args:`` section."""
    out: dict[str, str] = {}
    lines = inspect.cleandoc(doc or "").splitlines()
    inside, indent, current = False, 0, None
    for line in lines:
        stripped = line.strip()
        if not inside:
            inside = stripped in ("Args:", "Parameters:")
            continue
        if stripped and not line.startswith(" "):
            break  # the next section
        if not stripped:
            continue
        ind = len(line) - len(line.lstrip())
        head, sep, text = stripped.partition(":")
        if sep and (indent == 0 or ind <= indent) and all(
                n.strip().isidentifier() for n in head.replace(" ", "").split(",")):
            indent = ind
            current = [n.strip() for n in head.split(",")]
            for n in current:
                out[n] = text.strip()
        elif current:
            for n in current:
                out[n] = (out[n] + " " + stripped).strip()
    return out


def params_help(method: str) -> str:
    """The parameter list of ``method`` (names, types, defaults, help) from the schema that
    validates ``--set``/``--config`` (:func:`vastgraph.config.params_model`)."""
    from vastgraph.config import params_model
    from vastgraph.embed.registry import get_embedder

    cls = get_embedder(method)
    docs = {**_arg_docs(cls.__init__.__doc__ or ""), **_arg_docs(cls.__doc__ or "")}
    lines = ["\b", "Method parameters (set with --set NAME=VALUE or a --config YAML file):"]
    for name, f in params_model(cls).model_fields.items():
        if name == "progress":
            continue
        ann = f.annotation
        tname = getattr(ann, "__name__", None) if getattr(ann, "__args__", None) is None else None
        tname = (tname or str(ann)).replace("typing.", "").replace("NoneType", "None")
        default = "required" if f.is_required() else repr(f.default)
        text = docs.get(name, "")
        lines.append(f"  {name} ({tname}, default {default})" + (f": {text}" if text else ""))
    return "\n".join(lines)


class _MethodCommand(TyperCommand):
    """An ``embed METHOD`` command whose ``--help`` lists the method's parameters (built lazily, so
    the CLI does not import every embedder to start)."""

    method = ""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        if self.method and "Method parameters" not in (self.help or ""):
            try:
                self.help = (self.help or "") + "\n\n" + params_help(self.method)
            except Exception as exc:  # noqa: BLE001 - help must print even if a method cannot import
                self.help = (self.help or "") + f"\n\n(parameters unavailable: {exc})"
        super().format_help(ctx, formatter)


def register_methods(names: list[str]) -> None:
    """One ``embed`` subcommand per registered embedder name."""
    for name in names:
        cls = type(f"_{name.replace('-', '_')}Command", (_MethodCommand,), {"method": name})
        make = {"curvature": _curvature_command, "spacene": _spacene_command}.get(name)
        embed_app.command(name, cls=cls)(make() if make else _method_command(name))


class Task(str, Enum):
    auto = "auto"
    node_classification = "node-classification"
    link_prediction = "link-prediction"


@handle_errors
def evaluate(
    embeddings: Path = typer.Argument(..., help="KeyedEmbeddings folder."),
    store: Optional[Path] = typer.Option(None, help="Store whose labels to predict."),
    dataset: Optional[str] = typer.Option(None, help="Registered dataset whose labels to predict."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="Label file ('node label' lines, 'node l1,l2,...' multi-label lines, or a .csv with a header) of the embedded nodes."),
    ntype: Optional[str] = typer.Option(None, help="Node type whose labels to predict."),
    task: Task = typer.Option(Task.auto, help="auto: link prediction when held-out edges are saved, else node classification."),
    ratios: str = typer.Option("0.1,0.5", help="Training ratios (node classification)."),
    repeats: int = typer.Option(5, help="Random splits per ratio."),
    seed: int = typer.Option(0, help="Split seed."),
    as_json: bool = typer.Option(False, "--json", help="Print metrics as JSON."),
) -> None:
    """Evaluate embeddings: node classification (labels of a store/dataset) or held-out link prediction."""
    import numpy as np

    from vastgraph.embed.keyed_embeddings import KeyedEmbeddings
    from vastgraph.errors import ValidationError

    keyed = KeyedEmbeddings.load(embeddings)
    held = Path(embeddings) / HELDOUT
    kind = task.value
    if kind == "auto":
        kind = "link-prediction" if held.exists() and store is None and dataset is None else "node-classification"
    if kind == "link-prediction":
        from vastgraph.train.link_prediction import evaluate_link_prediction

        if not held.exists():
            raise ValidationError(f"{embeddings}: no {HELDOUT}; train with `vastgraph embed ... --holdout 0.1`")
        z = np.load(held)
        res = evaluate_link_prediction(np.asarray(keyed.vectors), z["test_pos"], z["test_neg"], operator="cosine",
                                       random_state=seed)
        rows = [res.as_dict()]
        (print_json if as_json else lambda r: print_table(f"link prediction ({z['etype']})", r))(rows)
        return
    if sum(x is not None for x in (store, dataset, labels)) != 1:
        raise ValidationError("node classification needs exactly one of --store, --dataset or --labels for the labels")
    if labels is not None:
        nt, vectors, lab = _file_labels(keyed, labels, ntype)
        _classify(nt, vectors, lab, ratios, repeats, seed, as_json)
        return
    if store is not None:
        from vastgraph.graph import open_graph

        graph = open_graph(store)
    else:
        from vastgraph.datasets import load_dataset

        graph = load_dataset(dataset).graph
    nt = graph.node_type(ntype) if ntype or len(graph.node_types) == 1 else None
    if nt is None:
        labelled = [t for t in graph.node_types if graph.labels(t) is not None]
        if len(labelled) != 1:
            raise ValidationError(f"name the node type with --ntype (labelled types: {', '.join(labelled) or 'none'})")
        nt = labelled[0]
    labels = graph.labels(nt)
    if labels is None:
        raise ValidationError(f"node type {nt!r} has no labels")
    ext = graph.external_ids(nt)
    vectors = np.asarray(keyed.vectors)[keyed.index_of(ext, nt)]
    _classify(nt, vectors, np.asarray(labels), ratios, repeats, seed, as_json)


def _file_labels(keyed: Any, path: Path, ntype: Optional[str]) -> tuple[str, Any, Any]:
    """The embedded nodes named in a label file: ``(node type, vectors, labels)``."""
    import numpy as np

    from vastgraph.errors import ValidationError
    from vastgraph.graph.id_index import IdIndex
    from vastgraph.graph.labels import dense_ids, label_arrays, read_label_file

    if ntype is None:
        if len(keyed.node_types) != 1:
            raise ValidationError(f"--labels: the embeddings hold node types {', '.join(keyed.node_types)}; "
                                  "name one with --ntype")
        ntype = keyed.node_types[0]
    elif ntype not in keyed.node_types:
        raise ValidationError(f"--ntype {ntype!r}: the embeddings hold {', '.join(keyed.node_types)}")
    lf = read_label_file(path)
    ids = keyed.ids_for(ntype)
    dense = dense_ids(lf, IdIndex.from_values(ids))
    lab, skipped = label_arrays(lf, dense, len(ids))
    rows = np.unique(dense[dense >= 0])
    if rows.size < 2:
        raise ValidationError(f"{path}: only {rows.size} labelled node(s) have embeddings ({skipped} are not "
                              "embedded); check that the file names the same node ids as the edge list")
    if skipped:
        console.print(f"[yellow]{skipped} labelled node(s) of {path} have no embedding and are skipped[/]")
    return ntype, np.asarray(keyed.vectors_for(ntype))[rows], lab[rows]


def _classify(nt: str, vectors: Any, labels: Any, ratios: str, repeats: int, seed: int, as_json: bool) -> None:
    import numpy as np

    from vastgraph.errors import ValidationError

    try:
        ratio_list = tuple(float(r) for r in ratios.split(","))
    except ValueError:
        raise ValidationError(f"--ratios {ratios!r}: expected comma-separated numbers like 0.1,0.5") from None
    from vastgraph.train.node_classification import evaluate_node_classification

    with progress_bar("evaluating (one-vs-rest logistic regression)"):
        res = evaluate_node_classification(vectors, np.asarray(labels), train_ratios=ratio_list, repeats=repeats,
                                           random_state=seed)
    rows = res.rows()
    if as_json:
        print_json(rows)
    else:
        print_table(f"node classification ({nt}, {'multi-label' if res.multilabel else 'single-label'})", rows)
