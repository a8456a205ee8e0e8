"""The dataset registry: names, info, errors, and loading through the download cache."""

from __future__ import annotations

import shutil
import urllib.error
from pathlib import Path

import pytest

from vastgraph.datasets import source
from vastgraph.datasets.registry import dataset_info, list_datasets, load_dataset
from vastgraph.errors import DatasetError, RegistryError, ValidationError

EXPECTED = ["cora", "citeseer", "pubmed", "blogcatalog", "karate", "bitcoin-alpha", "amazon", "airport",
            "disease_lp", "sbm", "hierarchical-sbm", "search-ads"]


def test_list_datasets():
    assert list_datasets() == EXPECTED


def test_unknown_name_lists_valid_names():
    with pytest.raises(RegistryError) as err:
        load_dataset("coraa")
    msg = str(err.value)
    assert "'coraa'" in msg and all(n in msg for n in EXPECTED)
    with pytest.raises(KeyError):  # RegistryError is also a KeyError
        dataset_info("nope")


def test_dataset_info_has_pinned_urls_and_checksums():
    info = dataset_info("cora")
    assert not info["synthetic"] and info["facts"]["nodes"] == 2708
    for f in info["files"]:
        assert f["urls"][0].startswith("https://raw.githubusercontent.com/kimiyoung/planetoid/af6abf46")
        assert len(f["sha256"]) == 64 and f["size"] > 0
    pub = {f["name"]: f for f in dataset_info("pubmed")["files"]}
    assert pub["ind.pubmed.allx"]["optional"] and pub["ind.pubmed.allx"]["sha256"] is None
    assert pub["ind.pubmed.allx"]["git_blob"] == "3b86bccf08111c37c632a9dd8ab63db25ea76361"
    btc = dataset_info("bitcoin-alpha")["files"][0]
    assert btc["urls"][0].startswith("https://snap.stanford.edu/")
    assert dataset_info("sbm")["synthetic"] and dataset_info("sbm")["files"] == []


def test_params_for_a_file_dataset_are_rejected(tmp_path):
    with pytest.raises(ValidationError, match="n_nodes"):
        load_dataset("cora", tmp_path, n_nodes=3)


def test_root_for_a_synthetic_dataset_is_rejected(tmp_path):
    with pytest.raises(ValidationError, match="synthetic"):
        load_dataset("sbm", tmp_path)


def test_synthetic_datasets_load_by_name():
    ds = load_dataset("sbm", n_nodes=120, n_blocks=3, random_state=1)
    assert ds.name == "sbm" and ds.graph.num_nodes() == 120
    ads = load_dataset("search-ads", n_queries=50, n_ads=20, n_advertisers=4, random_state=1)
    assert ads.graph.num_nodes("query") == 50


def test_missing_local_file_names_folder_and_file(tmp_path):
    (tmp_path / "karate").mkdir()
    (tmp_path / "karate" / "karate.adjlist").write_text("1 2\n2 1\n")
    with pytest.raises(DatasetError) as err:
        load_dataset("karate", tmp_path)
    assert "zachary_communities.txt" in str(err.value) and str(tmp_path / "karate") in str(err.value)


def test_no_network_tells_user_to_set_vastgraph_data(monkeypatch, tmp_path):
    monkeypatch.delenv(source.ENV_DATA, raising=False)
    monkeypatch.setenv(source.ENV_CACHE, str(tmp_path / "cache"))

    def offline(url: str, dest: str) -> None:
        raise urllib.error.URLError("network is unreachable")

    with pytest.raises(DatasetError) as err:
        load_dataset("karate", fetcher=offline)
    assert "VASTGRAPH_DATA" in str(err.value) and "network is unreachable" in str(err.value)


@pytest.mark.datasets
def test_download_into_cache_then_load(monkeypatch, tmp_path, shared_datasets):
    """The download path end to end: each canonical URL is served from the shared copy."""
    monkeypatch.delenv(source.ENV_DATA, raising=False)
    monkeypatch.setenv(source.ENV_CACHE, str(tmp_path / "cache"))
    served = []
    by_url = {u: f["name"] for f in dataset_info("karate")["files"] for u in f["urls"]}

    def serve(url: str, dest: str) -> None:
        served.append(by_url[url])
        shutil.copy(shared_datasets / "karate" / by_url[url], dest)

    ds = load_dataset("karate", fetcher=serve)
    assert sorted(served) == sorted(by_url.values())
    assert ds.graph.num_undirected_edges() == 78 and ds.missing == []
    assert sorted(p.name for p in (tmp_path / "cache" / "karate").iterdir()) == sorted(by_url.values())
    again = load_dataset("karate", download=False)
    assert again.graph.num_undirected_edges() == 78


@pytest.mark.datasets
def test_tampered_download_is_refused(monkeypatch, tmp_path, shared_datasets):
    monkeypatch.delenv(source.ENV_DATA, raising=False)
    monkeypatch.setenv(source.ENV_CACHE, str(tmp_path / "cache"))

    def tampered(url: str, dest: str) -> None:
        Path(dest).write_bytes((shared_datasets / "karate" / "karate.adjlist").read_bytes() + b"35 1\n")

    with pytest.raises(DatasetError) as err:
        load_dataset("karate", fetcher=tampered)
    assert "karate.adjlist" in str(err.value) and "expected" in str(err.value)
    assert not (tmp_path / "cache" / "karate" / "karate.adjlist").exists()
