"""Shared test fixtures.

``shared_datasets`` locates the real datasets folder (``shared/datasets`` with ``manifest.json``):
``$VASTGRAPH_DATA`` when set, else a ``shared/datasets`` folder beside the repository or beside
any folder above it. Tests that need it are marked ``@pytest.mark.datasets`` and skip with a
clear reason where it is absent.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for tests/helpers.py

REPO_ROOT = Path(__file__).resolve().parents[1]
SKIP_REASON = ("shared datasets folder not found: set VASTGRAPH_DATA or place shared/datasets "
               "beside the repository")


def find_shared_datasets() -> Path | None:
    """The shared datasets folder, or None when it cannot be found."""
    env = os.environ.get("VASTGRAPH_DATA")
    if env:
        path = Path(env).expanduser()
        return path if (path / "manifest.json").is_file() else None
    for base in [REPO_ROOT, *REPO_ROOT.parents]:
        cand = base / "shared" / "datasets"
        if (cand / "manifest.json").is_file():
            return cand
    return None


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """Path of the shared datasets folder (holds ``manifest.json`` and one folder per dataset)."""
    path = find_shared_datasets()
    if path is None:
        pytest.skip(SKIP_REASON)
    return path


@pytest.fixture
def one_thread():
    """Run the test with one numba thread (bit-exact reproducibility of Hogwild training)."""
    import numba

    old = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(old)


@pytest.fixture(scope="session")
def ray_session():
    """One local Ray for the whole test session (2 CPUs, no dashboard, quiet), shared by every Ray
    test module; its shard actors are shared too (shard k of every opened graph on actor k).
    Skips when Ray (or pymetis) is not installed."""
    from vastgraph.distributed.testing import missing

    reason = missing()
    if reason is not None:
        pytest.skip(reason)
    from vastgraph.distributed.testing import start_ray, stop_ray

    ray = start_ray()
    yield ray
    stop_ray()
