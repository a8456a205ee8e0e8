"""Locating, downloading and verifying dataset files (no network: file:// URLs and fake fetchers)."""

from __future__ import annotations

import gzip
import hashlib
import urllib.error
from pathlib import Path

import pytest

from vastgraph.datasets import source
from vastgraph.datasets.source import FileSpec, check_file, download_file, file_digests, locate_files
from vastgraph.errors import DatasetError

PAYLOAD = b"1 2\n2 3\n3 1\n"
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture()
def origin(tmp_path: Path) -> Path:
    """A folder playing the remote server."""
    d = tmp_path / "origin"
    d.mkdir()
    (d / "edges.txt").write_bytes(PAYLOAD)
    with gzip.open(d / "edges.txt.gz", "wb") as f:
        f.write(PAYLOAD)
    (d / "other.txt").write_bytes(b"something else\n")
    return d


@pytest.fixture()
def no_env(monkeypatch, tmp_path: Path) -> Path:
    """No VASTGRAPH_DATA; the cache is a fresh temporary folder."""
    monkeypatch.delenv(source.ENV_DATA, raising=False)
    cache = tmp_path / "cache"
    monkeypatch.setenv(source.ENV_CACHE, str(cache))
    return cache


def test_file_digests_match_hashlib_and_git(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(PAYLOAD)
    sha, blob = file_digests(p)
    assert sha == SHA
    assert blob == hashlib.sha1(b"blob %d\0" % len(PAYLOAD) + PAYLOAD).hexdigest()


def test_download_with_matching_checksum(origin, tmp_path):
    spec = FileSpec("edges.txt", ((origin / "edges.txt").as_uri(),), SHA, len(PAYLOAD))
    out = download_file(spec, tmp_path / "dl", dataset="toy")
    assert out.read_bytes() == PAYLOAD
    assert sorted(p.name for p in out.parent.iterdir()) == ["edges.txt"]  # no temporary files left


def test_download_gz_is_decompressed_and_checked_uncompressed(origin, tmp_path):
    spec = FileSpec("edges.txt", ((origin / "edges.txt.gz").as_uri(),), SHA, len(PAYLOAD))
    assert download_file(spec, tmp_path / "dl").read_bytes() == PAYLOAD


def test_download_checksum_mismatch_names_file_expected_got_and_deletes(origin, tmp_path):
    spec = FileSpec("edges.txt", ((origin / "other.txt").as_uri(),), SHA)
    with pytest.raises(DatasetError) as err:
        download_file(spec, tmp_path / "dl", dataset="toy")
    msg = str(err.value)
    got = hashlib.sha256(b"something else\n").hexdigest()
    assert "edges.txt" in msg and SHA in msg and got in msg
    assert list((tmp_path / "dl").iterdir()) == []


def test_download_size_mismatch_is_reported(origin, tmp_path):
    spec = FileSpec("edges.txt", ((origin / "edges.txt").as_uri(),), SHA, size=len(PAYLOAD) + 1)
    with pytest.raises(DatasetError, match="size"):
        download_file(spec, tmp_path / "dl")
    assert not (tmp_path / "dl" / "edges.txt").exists()


def test_git_blob_checksum_is_used_without_sha256(origin, tmp_path):
    blob = hashlib.sha1(b"blob %d\0" % len(PAYLOAD) + PAYLOAD).hexdigest()
    good = FileSpec("edges.txt", ((origin / "edges.txt").as_uri(),), git_blob=blob)
    assert download_file(good, tmp_path / "a").is_file()
    bad = FileSpec("edges.txt", ((origin / "other.txt").as_uri(),), git_blob=blob)
    with pytest.raises(DatasetError, match="git blob id expected " + blob):
        download_file(bad, tmp_path / "b")


def test_mirror_is_tried_when_first_url_fails(origin, tmp_path):
    spec = FileSpec("edges.txt", ((origin / "absent.txt").as_uri(), (origin / "edges.txt").as_uri()), SHA)
    assert download_file(spec, tmp_path / "dl").read_bytes() == PAYLOAD


def test_no_network_message_tells_to_set_vastgraph_data(tmp_path):
    def offline(url: str, dest: str) -> None:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    spec = FileSpec("edges.txt", ("https://example.invalid/edges.txt",), SHA)
    with pytest.raises(DatasetError) as err:
        download_file(spec, tmp_path / "dl", dataset="toy", fetcher=offline)
    msg = str(err.value)
    assert "VASTGRAPH_DATA" in msg and "toy" in msg and "https://example.invalid/edges.txt" in msg
    assert "name resolution" in msg
    assert list((tmp_path / "dl").iterdir()) == []


def test_default_fetcher_is_looked_up_at_call_time(monkeypatch, tmp_path):
    calls = []

    def fake(url: str, dest: str) -> None:
        calls.append(url)
        Path(dest).write_bytes(PAYLOAD)

    monkeypatch.setattr(source, "fetch_url", fake)
    spec = FileSpec("edges.txt", ("https://example.invalid/edges.txt",), SHA)
    download_file(spec, tmp_path / "dl")
    assert calls == ["https://example.invalid/edges.txt"]


def test_cache_download_then_reuse_without_network(origin, no_env):
    specs = (FileSpec("edges.txt", ((origin / "edges.txt").as_uri(),), SHA),)
    folder, files = locate_files("toy", specs)
    assert folder == no_env / "toy" and files["edges.txt"].read_bytes() == PAYLOAD

    def offline(url: str, dest: str) -> None:
        raise AssertionError("a cached, verified file must not be downloaded again")

    folder2, files2 = locate_files("toy", specs, fetcher=offline)
    assert files2 == files


def test_corrupt_cached_file_is_downloaded_again(origin, no_env):
    specs = (FileSpec("edges.txt", ((origin / "edges.txt").as_uri(),), SHA),)
    (no_env / "toy").mkdir(parents=True)
    (no_env / "toy" / "edges.txt").write_bytes(b"corrupt")
    _, files = locate_files("toy", specs)
    assert files["edges.txt"].read_bytes() == PAYLOAD


def test_corrupt_cached_file_without_download_is_an_error(no_env):
    specs = (FileSpec("edges.txt", ("file:///nonexistent",), SHA),)
    (no_env / "toy").mkdir(parents=True)
    (no_env / "toy" / "edges.txt").write_bytes(b"corrupt")
    with pytest.raises(DatasetError, match="corrupt"):
        locate_files("toy", specs, download=False)


def test_download_false_and_empty_cache_explains_options(no_env):
    specs = (FileSpec("edges.txt", ("file:///nonexistent",), SHA),)
    with pytest.raises(DatasetError) as err:
        locate_files("toy", specs, download=False)
    assert "VASTGRAPH_DATA" in str(err.value) and "download=False" in str(err.value)


def test_optional_file_absent_upstream_is_skipped(origin, no_env):
    specs = (FileSpec("edges.txt", ((origin / "edges.txt").as_uri(),), SHA),
             FileSpec("extra.txt", ((origin / "absent.txt").as_uri(),), optional=True))
    _, files = locate_files("toy", specs)
    assert set(files) == {"edges.txt"}


def test_optional_file_with_bad_checksum_is_an_error(origin, no_env):
    specs = (FileSpec("edges.txt", ((origin / "edges.txt").as_uri(),), SHA),
             FileSpec("extra.txt", ((origin / "other.txt").as_uri(),), SHA, optional=True))
    with pytest.raises(DatasetError, match="extra.txt"):
        locate_files("toy", specs)


def test_local_root_missing_file_names_folder_and_file(tmp_path, monkeypatch):
    monkeypatch.delenv(source.ENV_DATA, raising=False)
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "a.txt").write_text("x")
    specs = (FileSpec("a.txt", ()), FileSpec("b.txt", ()))
    with pytest.raises(DatasetError) as err:
        locate_files("toy", specs, tmp_path)
    assert "'b.txt'" in str(err.value) and str(tmp_path / "toy") in str(err.value)


def test_local_root_may_be_the_dataset_folder_itself(tmp_path, monkeypatch):
    monkeypatch.delenv(source.ENV_DATA, raising=False)
    (tmp_path / "a.txt").write_text("x")
    folder, files = locate_files("toy", (FileSpec("a.txt", ()),), tmp_path)
    assert folder == tmp_path and files["a.txt"] == tmp_path / "a.txt"


def test_missing_root_folder_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        locate_files("toy", (FileSpec("a.txt", ()),), tmp_path / "nope")


def test_env_data_folder_is_used_before_cache(tmp_path, monkeypatch):
    (tmp_path / "data" / "toy").mkdir(parents=True)
    (tmp_path / "data" / "toy" / "a.txt").write_text("x")
    monkeypatch.setenv(source.ENV_DATA, str(tmp_path / "data"))
    monkeypatch.setenv(source.ENV_CACHE, str(tmp_path / "cache"))
    folder, _ = locate_files("toy", (FileSpec("a.txt", ("file:///nonexistent",)),))
    assert folder == tmp_path / "data" / "toy"
    assert not (tmp_path / "cache").exists()


def test_check_file_without_checksums_accepts(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(PAYLOAD)
    assert check_file(FileSpec("f", ()), p) is None
