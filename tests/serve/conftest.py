"""Fixtures of the serving tests (builders live in serve_util.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
pytest.importorskip("fastapi", reason="the serving tests need fastapi (pip install -e '.[test]')")

import serve_util as U  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("filterwarnings", "ignore:.*httpx2.*")  # starlette's TestClient names its future client


@pytest.fixture
def store(tmp_path):
    return U.make_store(tmp_path / "store")


@pytest.fixture
def dne(tmp_path, store):
    return U.make_dne(store, tmp_path / "emb")


@pytest.fixture
def token_file(tmp_path):
    p = tmp_path / "token"
    p.write_text(U.TOKEN + "\n")
    return p


def client_for(**cfg):
    from fastapi.testclient import TestClient

    from vastgraph.serve.app import create_app
    from vastgraph.serve.state import ServeConfig

    cfg.setdefault("token", U.TOKEN)
    return TestClient(create_app(ServeConfig(**cfg)))


@pytest.fixture
def make_client():
    return client_for
