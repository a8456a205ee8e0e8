"""Datasets: real graphs in their original formats (local folder, or download + checksum + cache)
and the built-in synthetic generators that serve as the embedded default data."""

from vastgraph.datasets.dataset import Dataset
from vastgraph.datasets.registry import DatasetSpec, dataset_info, list_datasets, load_dataset
from vastgraph.datasets.source import FileSpec
from vastgraph.datasets.synthetic_ads import search_ads_graph
from vastgraph.datasets.synthetic_sbm import power_law_sbm

__all__ = ["Dataset", "DatasetSpec", "FileSpec", "dataset_info", "list_datasets", "load_dataset",
           "power_law_sbm", "search_ads_graph"]
