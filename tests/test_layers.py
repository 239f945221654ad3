"""The package's layers, read from the imports (ast), as drawn:

    ir                      imports nothing of tinyc but the shared errors (tinyc.errors)
    frontend, passes,       import ir (and the errors) and themselves; backend_c also the
    backend_c               runtime's C files (tinyc.runtime: package data, no imports)
    tinyc (the driver)      imports them all

and no import cycle between any two modules (the driver's included). Every import counts, also
those inside functions, but not those under `if TYPE_CHECKING:` (annotations only).
`import tinyc.ir` loads only the IR.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {"ir": "tinyc.ir", "frontend": "tinyc.frontend", "passes": "tinyc.passes",
            "backend_c": "tinyc.backend_c", "tinyc": "tinyc", "runtime": "tinyc.runtime"}
LAYERS = ("tinyc.ir", "tinyc.frontend", "tinyc.passes", "tinyc.backend_c")
SHARED = ("tinyc.errors",)
ALLOWED = {
    "tinyc.ir": ("tinyc.ir",) + SHARED,
    "tinyc.frontend": ("tinyc.frontend", "tinyc.ir") + SHARED,
    "tinyc.passes": ("tinyc.passes", "tinyc.ir") + SHARED,
    "tinyc.backend_c": ("tinyc.backend_c", "tinyc.ir", "tinyc.runtime") + SHARED,
}
# Known cycles among the driver's modules (tinyc/*.py): none (each entry would be the set of
# modules of one strongly connected component).
DRIVER_CYCLES: list[set[str]] = []


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT)
    parts = [PACKAGES[rel.parts[0]]] + list(rel.parts[1:])
    parts[-1] = parts[-1][:-3]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(".".join(parts).split("."))


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def modules() -> dict[str, Path]:
    out = {}
    for top in PACKAGES:
        for p in sorted((ROOT / top).rglob("*.py")):
            if "templates" not in p.parts and "__pycache__" not in p.parts:
                out[_module(p)] = p
    return out


def _import_nodes(tree: ast.AST):
    """Every Import / ImportFrom, skipping `if TYPE_CHECKING:` blocks."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and \
                node.test.id == "TYPE_CHECKING":
            yield from (n for child in node.orelse for n in _import_nodes_of(child))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _import_nodes(node)


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The tinyc modules that module `name` imports (anywhere in the file)."""
    package = name if _is_package(path) else name.rsplit(".", 1)[0]
    found = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")
                up = up[:len(up) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                       for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t.startswith("tinyc") and t != name:
                found.add(t)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {m: imports(m, p, set(mods)) for m, p in mods.items()}


def layer_of(module: str) -> str | None:
    return next((layer for layer in LAYERS if module == layer or
                 module.startswith(layer + ".")), None)


def cycles(g: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(g.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)
    sys.setrecursionlimit(10000)
    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_layers_import_only_what_they_may():
    bad = []
    for mod, deps in sorted(graph().items()):
        layer = layer_of(mod)
        if layer is None:
            continue
        for d in sorted(deps):
            if not any(d == a or d.startswith(a + ".") for a in ALLOWED[layer]):
                bad.append(f"{mod} imports {d}")
    assert not bad, "layer violations:\n" + "\n".join(bad)


def test_no_import_cycles():
    found = cycles(graph())
    unknown = [c for c in found if c not in DRIVER_CYCLES]
    assert not unknown, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in unknown)
    in_layers = [c for c in found if any(layer_of(m) for m in c)]
    assert not in_layers


def test_the_checker_sees_a_violation_and_a_cycle():
    g = {"tinyc.ir.a": {"tinyc.passes.b"}, "tinyc.passes.b": {"tinyc.ir.a"}}
    assert cycles(g) == [{"tinyc.ir.a", "tinyc.passes.b"}]
    assert layer_of("tinyc.ir.a") == "tinyc.ir" and layer_of("tinyc.cli") is None
    deps = imports("tinyc.passes.quantize", ROOT / "passes" / "quantize.py", set(modules()))
    assert "tinyc.ir" in deps and "tinyc.passes.calibrate" in deps


def test_import_tinyc_ir_loads_only_the_ir():
    code = ("import sys, tinyc.ir; "
            "print('\\n'.join(m for m in sys.modules if m.startswith('tinyc') or "
            "m.split('.')[0] in ('jinja2', 'onnx', 'tflite', 'cffi')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    extra = [m for m in out if layer_of(m) != "tinyc.ir" and m not in ("tinyc",) + SHARED]
    assert not extra, f"import tinyc.ir also loads {extra}"


def test_the_package_api_still_loads_lazily():
    import tinyc
    assert callable(tinyc.compile) and tinyc.Model.__name__ == "Model"
    assert issubclass(tinyc.IRError, tinyc.TinycError)
