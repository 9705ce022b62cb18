"""The version of the code that a computation runs, robust to refactoring.

:func:`code_version` hashes the syntax trees of what its roots *reach*: starting from
the given functions, classes or modules it follows every name and ``module.attr``
chain in their code (bodies, decorators, default arguments, base classes, function-local
imports) that resolves, through the modules' own bindings and imports, to a function,
class or module-level constant of the same top-level package, transitively; names of
other packages (numpy, torch, the standard library) end the walk. Each reached object
is one entry keyed by its qualified name without the module path (``Trainer``,
``Trainer.fit``, ``kernel``, ``SCHEDULE``): a class's methods are entries of their own
and all of a reached class's methods are reached; nested functions and lambdas are part
of their parent's tree. An entry's text is ``ast.unparse`` of its tree with docstrings
and import statements removed (no comments, positions or layout); the version is a hash
of the sorted ``(key, text)`` pairs.

So moving a function to another module, or editing a docstring, a comment or code that
the roots do not reach (a command line's ``main`` and its argparse help), keeps the
version; changing an operator in a reached function or a reached constant changes it.
Resolution reads source files only (never imports a module); results are cached per
process. Dynamic look-ups (``getattr(module, name)``, ``self.x`` of an unrelated
class) are not followed: a root must reach its code by name.

This module imports nothing from alukit: callers pass their roots.
"""
from __future__ import annotations

import ast
import copy
import functools
import hashlib
import importlib.util
import inspect
import sys
import types
from pathlib import Path
from typing import NamedTuple

__all__ = ["code_version", "reached"]

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_BLOCKS = ("body", "orelse", "finalbody", "handlers")


class _Binding(NamedTuple):
    """What a module-level name is: ``kind`` "def" (``nodes``: the def), "const" (the statements
    assigning it), "module" (``target``: the module's name) or "from" (``target``: ``(module, name)``)."""

    kind: str
    nodes: tuple = ()
    target: object = None


class _Module(NamedTuple):
    name: str
    package: str | None
    bindings: dict


def code_version(*roots) -> str:
    """16 hex characters: hash of the code ``roots`` reach (functions, classes, modules, partials).

    Raises ``ValueError`` for a root that is none of these or whose source cannot be found.
    """
    return _version(tuple(_root_ids(roots)))


def reached(*roots) -> list[str]:
    """The sorted keys (qualified names without module path) of every entry ``roots`` reach."""
    return sorted({key for key, _ in _entries(tuple(_root_ids(roots)))})


@functools.lru_cache(maxsize=None)
def _version(root_ids: tuple) -> str:
    h = hashlib.sha256()
    for key, text in _entries(root_ids):
        h.update(f"{key}\n{text}\0".encode())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- roots

def _root_ids(roots):
    """Each root as ``(module, top-level name)``, ``("module", module name)`` or, for a partial's
    plain argument, ``("value", repr)`` ids."""
    for obj in roots:
        if isinstance(obj, functools.partial):
            yield from _root_ids([obj.func])
            for label, value in [*(("", v) for v in obj.args), *((f"{k}=", v) for k, v in obj.keywords.items())]:
                plain = not callable(value) and not isinstance(value, types.ModuleType)
                yield from [("value", f"{label}{value!r}")] if plain else _root_ids([value])
            continue
        if isinstance(obj, types.ModuleType):
            yield ("module", obj.__name__)
            continue
        obj = inspect.unwrap(getattr(obj, "_torchdynamo_orig_callable", obj))
        if not isinstance(obj, (type, types.FunctionType, types.MethodType)):
            raise ValueError(f"roots must be functions, classes, modules or partials; got {obj!r}")
        obj = getattr(obj, "__func__", obj)
        module = _module(obj.__module__)
        top = obj.__qualname__.split(".<locals>")[0].split(".")[0]
        binding = module.bindings.get(top)
        if binding is None or top == "<lambda>":
            top = next((name for name, value in vars(sys.modules[obj.__module__]).items() if value is obj), None)
            binding = module.bindings.get(top)
        if binding is None or binding.kind not in ("def", "const"):
            raise ValueError(f"roots must be defined at the top level of a module; {obj!r} is not")
        yield (module.name, top)


# ---------------------------------------------------------------- walking

def _entries(root_ids: tuple) -> list[tuple[str, str]]:
    """Sorted ``(key, text)`` of everything reached from ``root_ids``."""
    seen, todo, out = set(), list(root_ids), []
    while todo:
        ident = todo.pop()
        if ident in seen:
            continue
        seen.add(ident)
        if ident[0] == "value":
            out.append(("<argument>", ident[1]))
            continue
        if ident[0] == "module":
            module = _module(ident[1])
            todo += [(module.name, name) for name, b in module.bindings.items() if b.kind in ("def", "const")]
            continue
        module = _module(ident[0])
        for key, node in _pieces(ident[1], module.bindings[ident[1]]):
            local = _scope(node, module)
            out.append((key, _text(node, module, local)))
            todo += _references(node, module, local)
    return sorted(out)


def _pieces(name: str, binding: _Binding):
    """``(key, node)`` entries of one binding: a def; a class and each of its methods; a constant's statements."""
    if binding.kind == "const":
        yield name, ast.Module(body=list(binding.nodes), type_ignores=[])
        return
    node = binding.nodes[0]
    if not isinstance(node, ast.ClassDef):
        yield name, node
        return
    methods = [n for n in node.body if isinstance(n, _FUNCS)]
    shell = copy.copy(node)
    shell.body = [n for n in node.body if not isinstance(n, _FUNCS)] or [ast.Pass()]
    yield name, shell
    for m in methods:
        yield f"{name}.{m.name}", m


def _text(node, module: _Module, local: dict) -> str:
    """``ast.unparse`` of ``node`` without docstrings and import statements, and with the package's
    module prefixes of ``module.name`` chains dropped (a moved function's callers keep their text)."""
    node = _DropModules(module, local).visit(copy.deepcopy(node))
    for n in ast.walk(node):
        for field in _BLOCKS:
            body = getattr(n, field, None)
            if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
                continue
            if field == "body" and isinstance(n, (*_DEFS, ast.Module)) and _is_docstring(body[0]):
                body = body[1:]
            kept = [s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))]
            setattr(n, field, kept or ([] if field != "body" else [ast.Pass()]))
    return ast.unparse(node)


def _is_docstring(stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _scope(node, module: _Module) -> dict:
    """The bindings names in ``node`` resolve with: the module's, and the imports inside ``node``."""
    local = dict(module.bindings)
    for n in ast.walk(node):
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            local.update(_import_bindings(n, module.package))
    return local


class _DropModules(ast.NodeTransformer):
    """Rewrites ``pkg_module.name...`` chains as ``name...`` where the prefix names modules of the package."""

    def __init__(self, module: _Module, local: dict):
        self.module, self.local = module, local

    def visit_Attribute(self, node):
        parts, base = [], node
        while isinstance(base, ast.Attribute):
            parts.append(base)
            base = base.value
        if not isinstance(base, ast.Name):
            return self.generic_visit(node)
        names = [base.id, *(a.attr for a in reversed(parts))]
        for depth in range(len(names) - 1, 0, -1):
            if _resolve(self.module, self.local, names[:depth])[:1] and \
                    _resolve(self.module, self.local, names[:depth])[0][0] == "module":
                out = ast.Name(id=names[depth], ctx=ast.Load())
                for a in reversed(parts[:len(parts) - depth]):
                    out = ast.Attribute(value=out, attr=a.attr, ctx=a.ctx)
                return out
        return node


def _references(node, module: _Module, local: dict) -> list:
    """Ids of the package's objects that ``node`` names (names, ``a.b.c`` chains, local imports)."""
    chained, out = set(), []
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and id(n) not in chained:
            parts, base = [], n
            while isinstance(base, ast.Attribute):
                chained.add(id(base))
                parts.append(base.attr)
                base = base.value
            if isinstance(base, ast.Name):
                chained.add(id(base))
                out += _resolve(module, local, [base.id, *reversed(parts)])
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and id(n) not in chained:
            out += _resolve(module, local, [n.id])
    return out


def _resolve(module: _Module, local: dict, parts: list[str]) -> list:
    """The id a name chain ``parts`` leads to in ``module`` (``local``: its bindings), or none."""
    name, binding, i = parts[0], local.get(parts[0]), 0
    for _ in range(64):  # a bound on chains of re-exports
        if binding is None:
            return []
        if binding.kind == "from":
            source, original = binding.target
            if _in_package(f"{source}.{original}", module.name) and _is_module(f"{source}.{original}"):
                binding = _Binding("module", target=f"{source}.{original}")
            elif _in_package(source, module.name) and _is_module(source):
                module = _module(source)
                name, binding = original, module.bindings.get(original)
                continue
            else:
                return []
        if binding.kind == "module":
            if not _in_package(binding.target, module.name):
                return []
            if i + 1 >= len(parts):
                return [("module", binding.target)]
            i += 1
            module, name = _module(binding.target), parts[i]
            binding = module.bindings.get(name)
            if binding is None and _is_module(f"{module.name}.{name}"):
                binding = _Binding("module", target=f"{module.name}.{name}")
            continue
        return [(module.name, name)]
    return []


# ---------------------------------------------------------------- modules

def _in_package(name: str, other: str) -> bool:
    """Whether module ``name`` is in ``other``'s top-level package (this module excluded)."""
    return name.split(".")[0] == other.split(".")[0] and name != __name__


@functools.lru_cache(maxsize=None)
def _is_module(name: str) -> bool:
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@functools.lru_cache(maxsize=None)
def _module(name: str) -> _Module:
    """A module's top-level bindings, from its source file (not imported)."""
    loaded = sys.modules.get(name)
    spec = getattr(loaded, "__spec__", None) or importlib.util.find_spec(name)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        raise ValueError(f"no Python source for module {name!r}")
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    package = name if spec.submodule_search_locations is not None else name.rpartition(".")[0]
    bindings: dict[str, _Binding] = {}
    for stmt in _top_statements(tree.body):
        if isinstance(stmt, _DEFS):
            bindings[stmt.name] = _Binding("def", (stmt,))
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            bindings.update(_import_bindings(stmt, package))
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for n in ast.walk(target):
                    if isinstance(n, ast.Name) and n.id != "__all__":  # a public list is not behaviour
                        before = bindings.get(n.id)
                        nodes = before.nodes if before is not None and before.kind == "const" else ()
                        bindings[n.id] = _Binding("const", (*nodes, stmt))
    return _Module(name, package, bindings)


def _top_statements(body):
    """Module-level statements, including those inside ``if``/``try``/``with``/``for`` blocks."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for field in _BLOCKS:
                for part in getattr(stmt, field, []):
                    yield from _top_statements(part.body if isinstance(part, ast.ExceptHandler) else [part])


def _import_bindings(stmt, package: str | None) -> dict:
    """The names an import statement binds."""
    out = {}
    if isinstance(stmt, ast.Import):
        for alias in stmt.names:
            target = alias.name if alias.asname else alias.name.split(".")[0]
            out[alias.asname or target] = _Binding("module", target=target)
        return out
    source = importlib.util.resolve_name("." * stmt.level + (stmt.module or ""), package) if stmt.level \
        else stmt.module
    for alias in stmt.names:
        if alias.name != "*":
            out[alias.asname or alias.name] = _Binding("from", target=(source, alias.name))
    return out
