"""Helpers for testing the Ray backend: the conformance-suite factories.

``ray_engine_params()`` gives the pytest parameters that add the Ray engine, at 2 and 4 shards, to
``tests/sampling/test_engine_conformance.py``; they are skipped with the reason when Ray (or
pymetis, for METIS) is not importable. A factory partitions the suite's local graph into a
temporary folder (METIS at 2 shards, LDG at 4), starts the process's one local Ray
(:func:`start_ray`: ``num_cpus=2``, no dashboard, no log forwarding; the ``ray_session`` fixture
of ``tests/conftest.py`` starts and stops the same one) and returns the engine of the opened
:class:`DistributedGraph`. Partitions are cached per graph version and shard count, and every
graph's shard ``k`` is served by the session's shared actor ``k``, so a test session starts at most
four shard processes however many graphs it opens.

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

__all__ = ["missing", "ray_engine", "ray_engine_params", "start_ray", "stop_ray"]

_KEEP: dict[Any, Any] = {}
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


def start_ray() -> Any:
    """The process's local Ray for tests (started once: 2 CPUs, no dashboard, quiet)."""
    from vastgraph.distributed.cluster import ensure_ray

    return ensure_ray("local", num_cpus=2)


def stop_ray() -> None:
    """Close the graphs of :func:`ray_engine`, stop the shared shard actors and Ray."""
    import ray

    from vastgraph.distributed.shard import release_hosts

    _cleanup()
    if ray.is_initialized():
        release_hosts()
        ray.shutdown()


def _cleanup() -> None:
    for g in _KEEP.values():
        try:
            g.close()
        except Exception:  # pragma: no cover - best effort at exit
            pass
    _KEEP.clear()
    for d in _DIRS:
        shutil.rmtree(d, ignore_errors=True)
    _DIRS.clear()


def ray_engine(graph: Any, parts: int = 2, method: str | None = None) -> Any:
    """The Ray engine over ``graph`` partitioned into ``parts`` shards (a conformance factory);
    the same graph version and shard count reuse one partition and one opened graph."""
    from vastgraph.distributed.graph import DistributedGraph
    from vastgraph.distributed.partition import partition_graph
    from vastgraph.sampling.engine import engine_for

    method = method or ("metis" if parts == 2 else "ldg")
    key = (graph.version, int(parts), method)
    if key not in _KEEP:
        if not _DIRS:
            atexit.register(_cleanup)
        folder = tempfile.mkdtemp(prefix="vastgraph-ray-")
        _DIRS.append(folder)
        partition_graph(graph, folder + "/parts", parts=parts, method=method)
        start_ray()
        _KEEP[key] = DistributedGraph(folder + "/parts", address=None)
    return engine_for(_KEEP[key])


def ray_engine_params() -> list[Any]:
    """pytest params ``ray2`` and ``ray4`` (skipped, with the reason, when Ray is missing)."""
    import pytest

    reason = missing()
    marks = [pytest.mark.skipif(reason is not None, reason=reason or "")]
    return [pytest.param(functools.partial(ray_engine, parts=p), id=f"ray{p}", marks=marks) for p in (2, 4)]
