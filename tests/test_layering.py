"""The import rules of the seams (DESIGN.md "Layers" and "Seams"), checked on the source itself.

1. A module imports only from its own layer or layers above it (leaves → graph → sampling →
   geometry → embed → nn → train → datasets → ads → distributed → serve → cli), function-level
   imports included.
2. ``vastgraph/nn`` imports nothing from ``vastgraph.graph``: models take tensors.
3. No library module imports ``vastgraph.cli``.
4. Only the local store (``vastgraph/graph``) and the local sampling engine
   (``vastgraph/sampling/local``) touch raw CSR arrays and the store's internals: elsewhere no
   ``.adjacency(``, ``.derived``, ``.node_store(``, ``.edge_store(`` or ``._check_nodes(``.

A new backend or service that breaks a rule fails here, with the file and line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "vastgraph"
ORDER = ["leaf", "graph", "sampling", "geometry", "embed", "nn", "train", "datasets", "ads",
         "distributed", "serve", "cli"]
LEAVES = {"typing", "errors", "config", "validation", "seeding", "lazy", "registry", "report", "__init__"}
RAW_ACCESS = re.compile(r"\.(adjacency|node_store|edge_store|_check_nodes)\(|\.derived\b")
RAW_ALLOWED = ("graph", "sampling/local")


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "vastgraph":
        return None
    if len(parts) == 1 or parts[1] in LEAVES or parts[1].endswith(".py"):
        return "leaf"
    return parts[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str) -> list[tuple[int, str]]:
    """``(line, module)`` of every absolute import in ``source``, nested ones included."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out += [(node.lineno, f"{node.module}.{a.name}") for a in node.names
                    if node.module == "vastgraph" and ((ROOT / a.name).is_dir() or (ROOT / f"{a.name}.py").is_file())]
    return out


def layer_violations(module: str, source: str) -> list[str]:
    me = layer_of(module)
    bad = []
    for line, target in imports(source):
        other = layer_of(target)
        if other is None or other == me:
            continue
        if me not in ORDER or other not in ORDER:
            bad.append(f"{module}:{line} imports {target} (layer {other!r} is not in DESIGN.md's list)")
        elif ORDER.index(other) > ORDER.index(me):
            bad.append(f"{module}:{line} imports {target}: layer {me!r} may not import the lower layer {other!r}")
        if me == "nn" and other == "graph":
            bad.append(f"{module}:{line} imports {target}: nn/ takes tensors and imports nothing from graph/")
        if other == "cli" and me != "cli":
            bad.append(f"{module}:{line} imports {target}: the library never imports cli/")
    return bad


def raw_access_violations(rel: str, source: str) -> list[str]:
    if rel.startswith(tuple(f"{a}/" for a in RAW_ALLOWED)):
        return []
    bad = []
    for i, line in enumerate(source.splitlines(), 1):
        code = line.split("#", 1)[0]
        m = RAW_ACCESS.search(code)
        if m:
            bad.append(f"vastgraph/{rel}:{i}: {m.group(0)!r} reaches into the local store; use the "
                       "GraphView methods (coo, out_degree, id_index, check_nodes ...) or the sampling engine")
    return bad


def _sources() -> list[tuple[Path, str]]:
    return [(p, p.read_text()) for p in sorted(ROOT.rglob("*.py"))]


def test_the_checks_catch_violations() -> None:
    assert layer_violations("vastgraph.nn.model", "from vastgraph.graph import GraphBuilder\n")
    assert layer_violations("vastgraph.graph.x", "def f():\n    import vastgraph.train.trainer\n")
    assert layer_violations("vastgraph.embed.x", "from vastgraph.cli.main import app\n")
    assert layer_violations("vastgraph.sampling.x", "from vastgraph import ads\n")
    assert not layer_violations("vastgraph.train.x", "from vastgraph.graph.view import GraphView\n")
    assert raw_access_violations("embed/x.py", "adj = graph.adjacency(et)\n")
    assert raw_access_violations("train/x.py", "c = g.derived\n")
    assert not raw_access_violations("sampling/local/x.py", "adj = graph.adjacency(et)\n")
    assert not raw_access_violations("embed/x.py", "# graph.adjacency( in a comment\n")


def test_layers_import_only_upwards() -> None:
    bad = [v for p, s in _sources() for v in layer_violations(module_name(p), s)]
    assert not bad, "\n".join(bad)


def test_only_the_local_store_and_engine_touch_raw_arrays() -> None:
    bad = [v for p, s in _sources() for v in raw_access_violations(p.relative_to(ROOT).as_posix(), s)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", ["nn"])
def test_models_import_nothing_from_graph(package: str) -> None:
    bad = [f"{module_name(p)}:{line} imports {t}" for p, s in _sources()
           if p.relative_to(ROOT).parts[0] == package
           for line, t in imports(s) if t.startswith("vastgraph.graph")]
    assert not bad, "\n".join(bad)
