"""Helpers for testing the Ray backend: the conformance-suite factories.

``ray_engine_params()`` gives the pytest parameters that add the Ray engine, at 2 and 4 shards, to
``tests/sampling/test_engine_conformance.py``; they are skipped with the reason when Ray (or
pymetis, for METIS) is not importable. A factory partitions the suite's local graph into a
temporary folder (METIS at 2 shards, LDG at 4), starts a local Ray once per process
(``num_cpus=2``, no dashboard) and returns the engine of the opened :class:`DistributedGraph`; the
graph is kept alive until the process ends.

Example:
    >>> reason = missing()
    >>> reason is None or reason.startswith("needs")
    True
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from typing import Any

__all__ = ["missing", "ray_engine", "ray_engine_params"]

_KEEP: list[Any] = []
_DIRS: list[str] = []


def missing() -> str | None:
    """Why the Ray backend cannot run here (None when it can)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return "needs ray (pip install 'vastgraph[distributed]')"
    try:
        import pymetis  # noqa: F401
    except ImportError:
        return "needs pymetis (pip install 'vastgraph[distributed]')"
    return None


def _cleanup() -> None:
    for g in _KEEP:
        try:
            g.close()
        except Exception:  # pragma: no cover - best effort at exit
            pass
    for d in _DIRS:
        shutil.rmtree(d, ignore_errors=True)


def ray_engine(graph: Any, parts: int = 2, method: str | None = None) -> Any:
    """The Ray engine over ``graph`` partitioned into ``parts`` shards (a conformance factory)."""
    from vastgraph.distributed.cluster import ensure_ray
    from vastgraph.distributed.graph import DistributedGraph
    from vastgraph.distributed.partition import partition_graph
    from vastgraph.sampling.engine import engine_for

    if not _DIRS:
        atexit.register(_cleanup)
    folder = tempfile.mkdtemp(prefix="vastgraph-ray-")
    _DIRS.append(folder)
    partition_graph(graph, folder + "/parts", parts=parts, method=method or ("metis" if parts == 2 else "ldg"))
    ensure_ray("local", num_cpus=2)
    dg = DistributedGraph(folder + "/parts", address=None)
    _KEEP.append(dg)
    return engine_for(dg)


def ray_engine_params() -> list[Any]:
    """pytest params ``ray2`` and ``ray4`` (skipped, with the reason, when Ray is missing)."""
    import pytest

    reason = missing()
    marks = [pytest.mark.skipif(reason is not None, reason=reason or "")]
    return [pytest.param(functools.partial(ray_engine, parts=p), id=f"ray{p}", marks=marks) for p in (2, 4)]
