"""alukit — companion code for two papers on sparse neural networks that learn the
dynamics of an aluminium electrolysis cell.

Modules, one idea each, in the order the study uses them:

* the process — :mod:`~alukit.cell` (the ODE ẋ = f(x, u)), :mod:`~alukit.excitation`
  (controllers and input signals), :mod:`~alukit.data` (trajectories, training pairs,
  normalisation);
* training — :mod:`~alukit.profiles` (run profiles), :mod:`~alukit.config` (the 16
  configurations × 2 variants), :mod:`~alukit.nets` (batched MLP ensembles),
  :mod:`~alukit.sparsity` (L1, STR, magnitude pruning, DSR as method objects),
  :mod:`~alukit.swa` (weight averaging and lr schedules), :mod:`~alukit.engine` (the
  batched training kernel and fit loop), :mod:`~alukit.runs` (cached run records and the
  training code's version), :mod:`~alukit.train` (train one or all configurations; CLI);
* evaluation — :mod:`~alukit.stepper` (Euler rollouts), :mod:`~alukit.metrics` (the
  paper's metric and statistics), :mod:`~alukit.paper` (the published tables),
  :mod:`~alukit.conclusions` (the paper's claims, tested), :mod:`~alukit.reproduce` (the
  full study), :mod:`~alukit.figures`;
* tooling — :mod:`~alukit.cache` (content-addressed storage), :mod:`~alukit.bench`,
  :mod:`~alukit.book`, :mod:`~alukit.readme`; ``python -m alukit`` runs the commands.

Entry points (imported on first use): :func:`simulate` and :func:`datasets`
(:mod:`alukit.data`), :func:`load_profile` (:func:`alukit.profiles.load`),
:func:`make_config`, :func:`fit` (:mod:`alukit.engine`), :func:`train_all`
(:mod:`alukit.train`; one configuration: ``alukit.train.train``), :func:`rollout`
(:mod:`alukit.stepper`).
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
