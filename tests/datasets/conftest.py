"""Fixtures for the dataset tests: one load of each real dataset per test session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest

from vastgraph.datasets.dataset import Dataset
from vastgraph.datasets.registry import load_dataset


@pytest.fixture(scope="session")
def manifest(shared_datasets: Path) -> dict[str, dict]:
    """``{name: manifest entry}`` of the shared datasets."""
    data = json.loads((shared_datasets / "manifest.json").read_text())
    return {d["name"]: d for d in data["datasets"]}


@pytest.fixture(scope="session")
def real_dataset(shared_datasets: Path) -> Callable[[str], Dataset]:
    """``real_dataset(name)``: the dataset loaded from the shared folder (cached per session)."""
    cache: dict[str, Dataset] = {}

    def get(name: str) -> Dataset:
        if name not in cache:
            cache[name] = load_dataset(name, root=shared_datasets, download=False)
        return cache[name]

    return get
