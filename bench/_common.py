"""Shared benchmark plumbing: locating the peer harness, running a peer or a vastgraph worker in
its own process, and reporting medians and ratios as markdown."""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
THREAD_ENV = {"NUMBA_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2",
              "OPENBLAS_NUM_THREADS": "2", "PYTHONHASHSEED": "0"}


def shared_dir() -> Path:
    env = os.environ.get("VASTGRAPH_SHARED")
    cand = [Path(env)] if env else []
    cand.append(REPO.parent / "shared")
    for c in cand:
        if (c / "peers").is_dir():
            return c
    raise SystemExit("peer harness not found: set VASTGRAPH_SHARED to the shared/ folder holding peers/")


def peers_python() -> Path:
    py = Path(os.environ.get("PEERS_VENV", Path.home() / ".peers-venv")) / "bin" / "python"
    if not py.exists():
        raise SystemExit(f"no peers venv at {py}: run shared/peers/setup_venv.sh (or set PEERS_VENV)")
    return py


def peers_workdir(workdir: Path) -> Path:
    """A writable copy of shared/peers (its scripts write a cache and results beside themselves)."""
    dst = workdir / "peers"
    if not dst.exists():
        shutil.copytree(shared_dir() / "peers", dst, ignore=shutil.ignore_patterns("results", "logs", "cache"))
    return dst


def run_json(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
             marker: str = "RESULT ", timeout: int = 3600) -> dict[str, Any]:
    """Run a command in its own process and parse the last ``RESULT {json}`` line it prints."""
    full_env = dict(os.environ, **THREAD_ENV, **(env or {}))
    proc = subprocess.run(cmd, env=full_env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(marker)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed (rc={proc.returncode}):\n"
                           f"{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1][len(marker):])


def emit(rec: dict[str, Any]) -> None:
    """Print a worker's result line (parsed by :func:`run_json`)."""
    rec.setdefault("peak_rss_mb", peak_rss_mb())
    print("RESULT " + json.dumps(rec, default=str), flush=True)


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


class Timer:
    def __enter__(self) -> "Timer":
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.dt = time.perf_counter() - self.t0


def median(xs: list[float]) -> float:
    return float(statistics.median(xs)) if xs else float("nan")


def fmt_rate(x: float) -> str:
    if x != x:
        return "–"
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= div:
            return f"{x / div:.2f} {unit}"
    return f"{x:.2f}"


def markdown_table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def save_json(path: str | None, obj: Any) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(obj, indent=1, default=str))


def this_python() -> str:
    return sys.executable
