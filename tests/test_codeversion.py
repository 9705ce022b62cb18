"""alukit.codeversion: the version follows what the roots compute, not where the code lives or how it is documented."""
import functools
import importlib
import textwrap
import uuid

import torch

from alukit import codeversion
from alukit.training import train

SCHEDULE = '''
    """Learning-rate schedules."""
    WARMUP = 5


    def rate(epoch):
        """The learning rate of ``epoch``."""
        return 0.1 * min(1, epoch / WARMUP)
'''
KERNEL = '''
    def kernel(a, b):
        """One update."""
        return a + b


    def unused(a):
        return a * 3
'''
TRAIN = '''
    import argparse

    from . import schedule
    from .kernel import kernel


    def train(epochs):
        """Train for ``epochs`` epochs."""
        return sum(kernel(schedule.rate(e), e) for e in range(epochs))


    def _parser():
        ap = argparse.ArgumentParser()
        ap.add_argument("--epochs", type=int, help="how many epochs")
        return ap


    def main():
        return train(_parser().parse_args().epochs)
'''


def _version(tmp_path, monkeypatch, **edits):
    """``code_version(train.train)`` of a throwaway package whose modules are the texts above after
    ``edits`` (module name → (old, new) replacements, or a whole new text)."""
    name = f"cvpkg_{uuid.uuid4().hex}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for module, text in {"schedule": SCHEDULE, "kernel": KERNEL, "train": TRAIN}.items():
        change = edits.get(module)
        if isinstance(change, tuple):
            assert change[0] in text
            text = text.replace(*change)
        elif isinstance(change, str):
            text = change
        (folder / f"{module}.py").write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(f"{name}.train")
    return codeversion.code_version(module.train), codeversion.reached(module.train)


def test_the_roots_reach_what_they_call_and_nothing_else(tmp_path, monkeypatch):
    version, reached = _version(tmp_path, monkeypatch)
    assert reached == ["WARMUP", "kernel", "rate", "train"]
    assert len(version) == 16 and int(version, 16) >= 0


def test_moving_a_function_to_another_module_keeps_the_version(tmp_path, monkeypatch):
    base, _ = _version(tmp_path, monkeypatch)
    kernel, unused = KERNEL.split("    def unused")
    moved = {"kernel": "    def unused" + unused, "schedule": SCHEDULE + kernel,
             "train": ("from .kernel import kernel", "from .schedule import kernel")}
    version, reached = _version(tmp_path, monkeypatch, **moved)
    assert "kernel" in reached and version == base


def test_docstring_comment_and_argparse_help_edits_keep_the_version(tmp_path, monkeypatch):
    base, _ = _version(tmp_path, monkeypatch)
    assert _version(tmp_path, monkeypatch, kernel=('"""One update."""', '"""The kernel."""'))[0] == base
    assert _version(tmp_path, monkeypatch, train=('help="how many epochs"', 'help="number of epochs"'))[0] == base
    assert _version(tmp_path, monkeypatch, kernel=("return a + b", "return a + b  # the sum"))[0] == base


def test_an_operator_change_in_a_reached_function_changes_the_version(tmp_path, monkeypatch):
    base, _ = _version(tmp_path, monkeypatch)
    assert _version(tmp_path, monkeypatch, kernel=("return a + b", "return a - b"))[0] != base


def test_a_reached_constant_changes_the_version(tmp_path, monkeypatch):
    base, _ = _version(tmp_path, monkeypatch)
    assert _version(tmp_path, monkeypatch, schedule=("WARMUP = 5", "WARMUP = 6"))[0] != base


def test_an_unreached_function_does_not_change_the_version(tmp_path, monkeypatch):
    base, _ = _version(tmp_path, monkeypatch)
    assert _version(tmp_path, monkeypatch, kernel=("return a * 3", "return a * 4"))[0] == base
    assert _version(tmp_path, monkeypatch, train=("return train(", "return 2 * train("))[0] == base


def test_the_training_version_reaches_the_engine_sparsity_and_data_but_not_the_command_line():
    reached = codeversion.reached(train.train)
    assert {"_make_step", "kernel", "fit", "Trainer.fit_epoch"} <= set(reached)  # the Adam step and its kernel
    assert {"MagnitudePruning.after_epoch", "DSR.after_epoch", "STR.effective", "dsr_reallocate_"} <= set(reached)
    assert {"simulate", "datasets", "rk4_step"} <= set(reached)  # the training data
    assert not {"main", "_parser"} & set(reached)
    assert codeversion.code_version(train.train) == train.CODE_VERSION


WRAPPED = '''
    import functools
    from dataclasses import dataclass

    SCALE = 2
    double = lambda x: x * SCALE


    @dataclass
    class Step:
        size: float = 0.5

        def apply(self, x):
            def inner(y):
                return y * self.size
            return inner(x)


    @functools.lru_cache(maxsize=None)
    def cached(x, factor=1):
        return factor * double(x) + Step().apply(x)
'''


def _wrapped(tmp_path, monkeypatch, old="", new=""):
    name = f"cvpkg_{uuid.uuid4().hex}"
    (tmp_path / name).mkdir()
    (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / name / "wrapped.py").write_text(textwrap.dedent(WRAPPED).replace(old, new))
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module(f"{name}.wrapped")


def test_wrapped_roots_lambdas_dataclasses_and_nested_functions(tmp_path, monkeypatch):
    m = _wrapped(tmp_path, monkeypatch)
    assert codeversion.reached(m.cached) == ["SCALE", "Step", "Step.apply", "cached", "double"]
    assert codeversion.reached(torch.compile(m.cached.__wrapped__)) == codeversion.reached(m.cached)
    assert codeversion.reached(m.double) == ["SCALE", "double"]  # a lambda constant
    base = codeversion.code_version(m.cached)
    assert codeversion.code_version(functools.partial(m.cached, factor=3)) != base  # its arguments count
    assert codeversion.code_version(functools.partial(m.cached, factor=3)) == \
        codeversion.code_version(functools.partial(m.cached, factor=3))
    nested = _wrapped(tmp_path, monkeypatch, "return y * self.size", "return y / self.size")
    assert codeversion.code_version(nested.cached) != base  # a nested function is part of its parent
    field = _wrapped(tmp_path, monkeypatch, "size: float = 0.5", "size: float = 0.25")
    assert codeversion.code_version(field.cached) != base  # a dataclass field's default
    assert codeversion.code_version(_wrapped(tmp_path, monkeypatch).cached) == base
