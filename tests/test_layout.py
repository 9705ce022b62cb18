"""The package's architecture, checked from its source: layers import downwards only, no cycle, no import
between package modules inside a function, short functions, a declared public surface per module."""
import ast
import importlib
from pathlib import Path

import pytest

import alukit

PACKAGE = Path(alukit.__file__).parent
# lowest first; a module may import from its own layer (without a cycle) and from the layers below
LAYERS = ("base", "process", "training", "evaluation", "studies", "book", "cli")
BASE = {"paths", "cache", "profiles", "provenance", "codeversion", "folders", "settings", "commandline"}
MAX_FUNCTION_LINES = 60


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__main__",):
        return "cli"
    if parts[1] in BASE:
        return "base"
    return parts[1]


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path):
    """``(imported alukit module, at module level?, line)`` for every import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "alukit" and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                targets.append(full if full in MODULES else node.module)
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names if a.name.split(".")[0] == "alukit"]
        elif isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(f"{path}: relative import at line {node.lineno}; use absolute imports")
        for target in targets:
            yield target, id(node) in top, node.lineno


EDGES = {m: sorted({t for t, _, _ in _imports(p) if t != m and t in MODULES}) for m, p in MODULES.items()}


def test_every_module_belongs_to_a_layer():
    assert {_layer(m) for m in MODULES} <= set(LAYERS)
    assert set(LAYERS) - {_layer(m) for m in MODULES} == set(), "a layer has no module"


def test_imports_flow_downwards_only():
    upward = [f"{m} ({_layer(m)}) imports {t} ({_layer(t)})" for m, ts in EDGES.items() for t in ts
              if t != "alukit" and LAYERS.index(_layer(t)) > LAYERS.index(_layer(m))]
    assert upward == []


def test_no_import_cycle():
    state: dict[str, int] = {}

    def visit(m, stack):
        state[m] = 1
        for t in EDGES.get(m, []):
            if state.get(t) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(t):] + [t]) if t in stack else t)
            if not state.get(t):
                visit(t, stack + [t])
        state[m] = 2

    for m in MODULES:
        if not state.get(m):
            visit(m, [m])


def test_no_import_between_package_modules_inside_a_function():
    inner = [f"{m}:{line} imports {t}" for m, p in MODULES.items() for t, at_top, line in _imports(p)
             if not at_top and _layer(m) != "cli"]
    assert inner == []


def test_no_function_longer_than_the_limit():
    long = []
    for m, p in MODULES.items():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{m}.{node.name}: {n} lines")
    assert long == []


@pytest.mark.parametrize("module", [m for m in MODULES if _layer(m) != "cli" and not MODULES[m].name == "__init__.py"])
def test_every_module_declares_its_public_names(module):
    mod = importlib.import_module(module)
    assert hasattr(mod, "__all__"), f"{module} has no __all__"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert missing == [], f"{module}.__all__ names what it lacks: {missing}"


def test_the_top_level_names_what_a_user_calls():
    assert sorted(alukit.__all__) == ["load", "load_profile", "reproduce", "rollout", "simulate", "train"]
    for name in alukit.__all__:
        assert callable(getattr(alukit, name))
