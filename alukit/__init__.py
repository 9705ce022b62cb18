"""alukit — companion code for two papers on sparse neural networks that learn the
dynamics of an aluminium electrolysis cell.

Modules, one idea each, in the order the study uses them:

* the process — :mod:`~alukit.process.cell` (the ODE ẋ = f(x, u)), :mod:`~alukit.process.excitation`
  (controllers and input signals), :mod:`~alukit.process.data` (trajectories, training pairs,
  normalisation);
* training — :mod:`~alukit.profiles` (run profiles), :mod:`~alukit.training.config` (the 16
  configurations × 2 variants), :mod:`~alukit.training.nets` (batched MLP ensembles),
  :mod:`~alukit.training.sparsity` (L1, STR, magnitude pruning, DSR as method objects),
  :mod:`~alukit.training.swa` (weight averaging and lr schedules), :mod:`~alukit.training.engine` (the
  batched training kernel and fit loop), :mod:`~alukit.training.runs` (cached run records and the
  training code's version), :mod:`~alukit.training.train` (train one or all configurations; CLI);
* evaluation — :mod:`~alukit.evaluation.stepper` (Euler rollouts), :mod:`~alukit.evaluation.metrics` (the
  paper's metric and statistics), :mod:`~alukit.studies.paper` (the published tables),
  :mod:`~alukit.studies.conclusions` (the paper's claims, tested), :mod:`~alukit.studies.reproduce` (the
  full study), :mod:`~alukit.book.figures`;
* tooling — :mod:`~alukit.cache` (content-addressed storage), :mod:`~alukit.codeversion` (the version of
  the code a computation reaches), :mod:`~alukit.book.bench`,
  :mod:`~alukit.book.build`, :mod:`~alukit.book.readme`; ``python -m alukit`` runs the commands.

Entry points (imported on first use): :func:`simulate` and :func:`datasets`
(:mod:`alukit.process.data`), :func:`load_profile` (:func:`alukit.profiles.load`),
:func:`make_config`, :func:`fit` (:mod:`alukit.training.engine`), :func:`train_all`
(:mod:`alukit.training.train`; one configuration: ``alukit.training.train.train``), :func:`rollout`
(:mod:`alukit.evaluation.stepper`).
"""
import importlib
import warnings

# The engine's progress bars come from tqdm.auto, which warns "IProgress not found" inside a
# Jupyter kernel without ipywidgets (then draws text bars); in the book that warning is noise.
warnings.filterwarnings("ignore", message="IProgress not found")

__version__ = "0.1.0"

_ENTRY_POINTS = {
    "simulate": ("data", "simulate"), "datasets": ("data", "datasets"), "load_profile": ("profiles", "load"),
    "make_config": ("config", "make_config"), "fit": ("engine", "fit"), "train_all": ("train", "train_all"),
    "rollout": ("stepper", "rollout"),
}
__all__ = list(_ENTRY_POINTS)


def __getattr__(name: str):
    if name in _ENTRY_POINTS:
        module, attr = _ENTRY_POINTS[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
