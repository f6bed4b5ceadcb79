"""The package's layers point one way and its modules import no loop (every import counts, also those inside
functions): a lower layer never reaches up into a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "fer_edge"

#: layer of each top-level part of fer_edge; a part may import only parts of a lower or the same rank
RANK = {
    "errors": 0,
    "labels": 1,
    "atomic": 1,
    "records": 1,
    "quiet_tf": 1,
    "cpu": 1,
    "metrics": 2,
    "model_card": 2,
    "data": 3,
    "runtime": 3,
    "models": 3,
    "training": 4,
    "convert": 4,
    "evaluation": 5,
    "report": 6,
    "api": 7,
    "testing": 7,
    "cli": 8,
    "__init__": 9,  # only re-exports the public API, lazily
}


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports() -> dict[str, set[str]]:
    """fer_edge module -> the fer_edge modules it imports (resolved to modules that exist)."""
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            found = []
            if isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    pkg = name.split(".") if is_pkg else name.split(".")[:-1]
                    pkg = pkg[: len(pkg) - node.level + 1]
                    base = ".".join([*pkg, base] if base else pkg)
                # `from pkg import sub` imports the submodule; `from pkg import name` imports the package
                found = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            for mod in found:
                while mod and mod not in files:
                    mod = mod.rpartition(".")[0]
                if mod.startswith("fer_edge") and mod != name and mod != "fer_edge":
                    targets.add(mod)
        graph[name] = targets
    return graph


def part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_part_has_a_layer():
    assert {part(m) for m in imports()} <= set(RANK), sorted({part(m) for m in imports()} - set(RANK))


def test_no_import_points_up_a_layer():
    up = [f"{src} -> {dst}" for src, dsts in imports().items() for dst in dsts if RANK[part(dst)] > RANK[part(src)]]
    assert not up, "imports that point up a layer: " + ", ".join(sorted(up))


def test_no_import_loop():
    graph = imports()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                loops.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    assert not loops, f"import loops: {loops}"
