"""alukit.training.runs / alukit.cache.code_version: a run is stale exactly when training code changes."""
import ast
from pathlib import Path

from alukit import cache
from alukit.training import runs

PKG = Path(runs.__file__).parent


def _edit(tmp_path, name, old, new):
    src = (PKG / f"{name}.py").read_text()
    assert old in src
    path = tmp_path / f"{name}.py"
    path.write_text(src.replace(old, new, 1))
    return path


def test_docstring_comment_and_layout_edits_keep_the_code_version(tmp_path):
    base = cache.code_version(PKG / "engine.py")
    doc = _edit(tmp_path, "engine", '"""CUDA when available, else CPU."""', '"""The CUDA device if there is one."""')
    assert cache.code_version(doc) == base
    comment = _edit(tmp_path, "engine", "b1, b2 = betas\n", "b1, b2 = betas  # Adam's decay rates\n\n")
    assert cache.code_version(comment) == base
    moddoc = _edit(tmp_path, "engine", "The training engine:", "The trainer:")
    assert cache.code_version(moddoc) == base


def test_a_code_edit_in_any_training_module_changes_the_code_version(tmp_path):
    base = cache.code_version(PKG / "engine.py")
    assert cache.code_version(_edit(tmp_path, "engine", "value=1 - b2", "value=1 - b1")) != base
    for name in runs.TRAINING_MODULES:
        original = PKG / f"{name}.py"
        changed = tmp_path / f"{name}.py"
        changed.write_text(original.read_text() + "\n_EXTRA = 1\n")
        paths = [PKG / f"{m}.py" for m in runs.TRAINING_MODULES]
        assert cache.code_version(*[changed if p == original else p for p in paths]) != runs.CODE_VERSION, name
    assert cache.code_version(*[PKG / f"{m}.py" for m in runs.TRAINING_MODULES]) == runs.CODE_VERSION


def _alukit_imports(name):
    tree = ast.parse((PKG / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {a.name for a in node.names}
    return found


def test_the_code_version_covers_every_module_training_imports():
    """Every alukit module the training path imports is hashed, except storage, profiles and the
    data's simulator (the training data enter the run key by their own digest)."""
    not_training = {"cache", "profiles", "cell", "excitation"}
    seen, todo = set(), ["train"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += sorted(_alukit_imports(name) - seen)
    assert seen - not_training == set(runs.TRAINING_MODULES)
