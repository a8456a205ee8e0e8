"""The dataset registry: one name -> loader table for real and synthetic datasets.

Real datasets come from a local folder or a checksummed download (see
:mod:`vastgraph.datasets.source`); synthetic ones are generated from their keyword parameters.

Example:
    >>> from vastgraph.datasets.registry import list_datasets, load_dataset
    >>> "cora" in list_datasets()
    True
    >>> load_dataset("sbm", n_nodes=300, random_state=0).graph.num_nodes()
    300
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from vastgraph.datasets.bitcoin_alpha import FILES as BITCOIN_FILES
from vastgraph.datasets.bitcoin_alpha import load_bitcoin_alpha
from vastgraph.datasets.blogcatalog import FILES as BLOGCATALOG_FILES
from vastgraph.datasets.blogcatalog import load_blogcatalog
from vastgraph.datasets.dataset import Dataset
from vastgraph.datasets.gatne import AMAZON_FILES, load_gatne
from vastgraph.datasets.hgcn import registry_entry as hgcn_entry
from vastgraph.datasets.hierarchies import hierarchical_block_model
from vastgraph.datasets.karate import FILES as KARATE_FILES
from vastgraph.datasets.karate import load_karate
from vastgraph.datasets.planetoid import load_planetoid, planetoid_files
from vastgraph.datasets.source import FileSpec, Fetcher, locate_files
from vastgraph.datasets.synthetic_ads import search_ads_graph
from vastgraph.datasets.synthetic_sbm import power_law_sbm
from vastgraph.errors import RegistryError, ValidationError


@dataclass(frozen=True)
class DatasetSpec:
    """What the registry knows about one dataset before loading it.

    Attributes:
        name: registry name.
        description: one line.
        loader: ``loader(name, files, folder) -> Dataset`` for file datasets.
        generator: ``generator(**params) -> Dataset`` for synthetic datasets.
        files: file specs (file datasets).
        facts: published facts shown by :func:`dataset_info` (counts, directedness, task).
    """

    name: str
    description: str
    loader: Callable[[str, dict[str, Path], Path], Dataset] | None = None
    generator: Callable[..., Dataset] | None = None
    files: tuple[FileSpec, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def synthetic(self) -> bool:
        return self.generator is not None


def _planetoid(name: str, desc: str, facts: dict[str, Any]) -> DatasetSpec:
    return DatasetSpec(name, desc, loader=load_planetoid, files=planetoid_files(name), facts=facts)


_SPECS: dict[str, DatasetSpec] = {s.name: s for s in (
    _planetoid("cora", "Cora citation network, Planetoid split (Yang et al. 2016)",
               {"nodes": 2708, "undirected_edges": 5278, "classes": 7, "features": 1433,
                "task": "node classification", "directed": False}),
    _planetoid("citeseer", "CiteSeer citation network, Planetoid split (Yang et al. 2016)",
               {"nodes": 3327, "undirected_edges": 4552, "classes": 6, "features": 3703,
                "task": "node classification", "directed": False}),
    _planetoid("pubmed", "PubMed Diabetes citation network, Planetoid split (Yang et al. 2016)",
               {"nodes": 19717, "undirected_edges": 44324, "classes": 3, "features": 500,
                "task": "node classification", "directed": False}),
    DatasetSpec("blogcatalog", "BlogCatalog social network, 39 multi-label interest groups (Tang & Liu 2009)",
                loader=load_blogcatalog, files=BLOGCATALOG_FILES,
                facts={"nodes": 10312, "undirected_edges": 333983, "classes": 39, "multilabel": True,
                       "task": "multi-label node classification", "directed": False}),
    DatasetSpec("karate", "Zachary's karate club, weighted, two factions (Zachary 1977)",
                loader=load_karate, files=KARATE_FILES,
                facts={"nodes": 34, "undirected_edges": 78, "classes": 2, "task": "community detection",
                       "directed": False}),
    DatasetSpec("bitcoin-alpha", "Bitcoin Alpha signed, timestamped trust network (SNAP; Kumar et al. 2016)",
                loader=load_bitcoin_alpha, files=BITCOIN_FILES,
                facts={"nodes": 3783, "edges": 24186, "signed": True, "temporal": True,
                       "task": "edge sign / weight prediction, temporal graphs", "directed": True}),
    DatasetSpec("amazon", "Amazon multiplex product graph, GATNE link-prediction splits (Cen et al. 2019)",
                loader=load_gatne, files=AMAZON_FILES,
                facts={"nodes": 10099, "edge_types": 2, "positive_typed_rows": 148659,
                       "task": "multiplex link prediction", "directed": False}),
    DatasetSpec("airport", **hgcn_entry("airport")),
    DatasetSpec("disease_lp", **hgcn_entry("disease_lp")),
    DatasetSpec("sbm", "Synthetic degree-corrected SBM with power-law degrees; labels = blocks",
                generator=power_law_sbm, facts={"task": "node classification / community detection"}),
    DatasetSpec("hierarchical-sbm", "Synthetic hierarchical block model: balanced community tree (6 levels, "
                "branching 3, 729 leaf nodes), edge probability falling with the depth of the lowest common "
                "ancestor; node data 'path' = community per level",
                generator=hierarchical_block_model,
                facts={"task": "hierarchical community detection (per-level ARI), node classification"}),
    DatasetSpec("search-ads", "Synthetic search-ads graph (query, ad, advertiser) with hidden categories",
                generator=search_ads_graph, facts={"task": "query->ad retrieval, click prediction"}),
)}


def list_datasets() -> list[str]:
    """Names of all registered datasets (real ones first, then synthetic), in registry order."""
    return list(_SPECS)


def _spec(name: str) -> DatasetSpec:
    if not isinstance(name, str) or name not in _SPECS:
        raise RegistryError(f"unknown dataset {name!r}; known datasets: {', '.join(_SPECS)}")
    return _SPECS[name]


def dataset_info(name: str) -> dict[str, Any]:
    """What is known about dataset ``name`` without loading it.

    Returns:
        ``{"name", "description", "synthetic", "facts", "files": [{"name", "urls", "sha256",
        "size", "git_blob", "optional"}]}``.

    Raises:
        RegistryError: unknown name (the message lists the known ones).
    """
    spec = _spec(name)
    return {
        "name": spec.name,
        "description": spec.description,
        "synthetic": spec.synthetic,
        "facts": dict(spec.facts),
        "files": [{"name": f.name, "urls": list(f.urls), "sha256": f.sha256, "size": f.size,
                   "git_blob": f.git_blob, "optional": f.optional} for f in spec.files],
    }


def load_dataset(name: str, root: str | os.PathLike | None = None, *, download: bool = True,
                 fetcher: Fetcher | None = None, **params: Any) -> Dataset:
    """Load a registered dataset by name.

    File datasets are read from ``root/<name>/`` when ``root`` is given, else from
    ``$VASTGRAPH_DATA/<name>/`` when that variable is set, else from the cache
    (``$VASTGRAPH_CACHE`` or ``~/.cache/vastgraph``), downloading missing files from their
    canonical URLs with a checksum check. Synthetic datasets are generated from ``params``.

    Args:
        name: one of :func:`list_datasets`.
        root: folder holding ``<name>/`` (or the dataset folder itself). Default None.
        download: allow downloading into the cache. Default True.
        fetcher: replaces the urllib fetcher (``fetcher(url, dest_path)``); for proxies and tests.
        **params: generator parameters of a synthetic dataset (e.g. ``n_nodes``, ``random_state``).

    Returns:
        The :class:`Dataset`; ``dataset.missing`` lists pieces of the original data that are absent.

    Raises:
        RegistryError: unknown ``name`` (lists the known names).
        DatasetError: files missing, unreadable, corrupt, or not downloadable.
        ValidationError: ``params`` given for a file dataset, or invalid generator parameters.

    Example:
        >>> ds = load_dataset("karate", root="../shared/datasets")  # doctest: +SKIP
        >>> ds.graph.num_undirected_edges()  # doctest: +SKIP
        78
    """
    spec = _spec(name)
    if spec.generator is not None:
        if root is not None:
            raise ValidationError(f"load_dataset({name!r}): root={str(root)!r} given, but {name!r} is "
                                  "synthetic (generated, not read from files)")
        return spec.generator(**params)
    if params:
        raise ValidationError(f"load_dataset({name!r}): unexpected parameter(s) {', '.join(sorted(params))}; "
                              f"{name!r} is read from files and takes only root, download and fetcher")
    loader = spec.loader
    if loader is None:  # pragma: no cover - every registered file dataset has a loader
        raise RegistryError(f"dataset {name!r} has neither a loader nor a generator")
    folder, files = locate_files(name, spec.files, root, download=download, fetcher=fetcher)
    return loader(name, files, folder)
