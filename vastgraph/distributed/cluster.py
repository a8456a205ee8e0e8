"""Connecting to Ray, and a thin wrapper around ``ray start`` / ``ray status`` / ``ray stop``.

* One machine: nothing to run; ``ensure_ray("local")`` starts a private Ray inside the process
  (or reuses the one already started), and it stops with the process.
* Several machines: ``vastgraph cluster up`` (``ray start --head``) on the head node,
  ``ray start --address=HEAD:6379`` on each worker, then pass ``--ray HEAD:6379`` (or ``auto`` on
  a cluster node) to the commands. The partition folder must be visible at the same path on every
  machine (a shared file system, or a copy).

Example:
    >>> parse_address("local"), parse_address("10.0.0.5:6379"), parse_address(None)
    ('local', '10.0.0.5:6379', None)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from typing import Any

from vastgraph.errors import ValidationError

__all__ = ["ensure_ray", "parse_address", "cluster_up", "cluster_status", "cluster_down", "ray_executable"]


def parse_address(address: str | None) -> str | None:
    """Check a ``--ray`` value: ``local``, ``auto``, ``HOST:PORT`` or ``ray://HOST:PORT``; None keeps it."""
    if address is None:
        return None
    text = str(address).strip()
    if text in ("local", "auto"):
        return text
    host, sep, port = text.rpartition(":")
    if sep and host and port.isdigit():
        return text
    raise ValidationError(f"--ray {address!r}: expected 'local', 'auto' or HOST:PORT (e.g. 10.0.0.5:6379)")


def ensure_ray(address: str | None = "local", *, num_cpus: int | None = None) -> Any:
    """Initialise Ray once per process: ``local`` starts a private single-machine Ray (no
    dashboard), ``auto`` / ``HOST:PORT`` join a cluster; an initialised Ray is reused as it is."""
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ValidationError("distributed mode needs Ray: pip install 'vastgraph[distributed]'") from exc
    address = parse_address(address)
    if ray.is_initialized():
        return ray
    kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address in (None, "local"):
        if num_cpus is not None:
            kwargs["num_cpus"] = int(num_cpus)
        ray.init(**kwargs)
    else:
        ray.init(address=address, **{k: v for k, v in kwargs.items() if k != "include_dashboard"})
    return ray


def ray_executable() -> str:
    """The ``ray`` command of this Python environment."""
    cand = os.path.join(os.path.dirname(sys.executable), "ray")
    if os.path.exists(cand):
        return cand
    found = shutil.which("ray")
    if found is None:
        raise ValidationError("the `ray` command was not found; pip install 'vastgraph[distributed]'")
    return found


def _run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([ray_executable(), *args], capture_output=True, text=True)


def cluster_up(*, port: int = 6379, num_cpus: int | None = None, dashboard: bool = False) -> dict[str, Any]:
    """``ray start --head`` on this machine; returns the address workers and commands join."""
    args = ["start", "--head", f"--port={int(port)}", f"--include-dashboard={'true' if dashboard else 'false'}"]
    if num_cpus is not None:
        args.append(f"--num-cpus={int(num_cpus)}")
    p = _run(args)
    if p.returncode != 0:
        raise ValidationError(f"ray start --head failed (exit {p.returncode}): {(p.stderr or p.stdout).strip()[-800:]}")
    import socket

    host = socket.gethostbyname(socket.gethostname())
    return {"address": f"{host}:{int(port)}", "join": f"ray start --address={host}:{int(port)}",
            "use": f"--ray {host}:{int(port)}"}


def cluster_status(address: str | None = None) -> dict[str, Any]:
    """``ray status``: ``{running, output}``."""
    args = ["status"] + ([f"--address={address}"] if address else [])
    p = _run(args)
    return {"running": p.returncode == 0, "output": (p.stdout or p.stderr).strip()}


def cluster_down() -> dict[str, Any]:
    """``ray stop`` on this machine."""
    p = _run(["stop"])
    return {"stopped": p.returncode == 0, "output": (p.stdout or p.stderr).strip()}
