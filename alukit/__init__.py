"""alukit — companion code for two papers on sparse neural networks that learn the dynamics of an
aluminium electrolysis cell.

What a user calls (the rest is reached through its subpackage)::

    import alukit
    profile = alukit.load_profile("quick")           # a validated, frozen Profile (or a .yaml path)
    data = alukit.simulate(5, 1000)                  # (5, 1000, 13) trajectories of the cell
    trained = alukit.train("l1", "faithful", profile)  # one configuration, all its models at once (cached)
    pred = alukit.rollout(trained.ensemble, data, x_norm, y_norm)  # Euler rollouts
    alukit.reproduce(profile, "faithful")            # the whole comparative study -> results/quick-faithful/
    results = alukit.load("paper", "faithful")       # the committed paper results, read only

Subpackages, one layer each, imports flowing one way: :mod:`alukit.process` (the cell, its inputs,
the data) → :mod:`alukit.training` (configurations, networks, sparsity methods, the batched engine,
cached runs) → :mod:`alukit.evaluation` (rollouts, the paper's metric, interpretability) →
:mod:`alukit.studies` (the comparative study, the released models, the sparse-DNN experiment, the
paper's numbers and conclusions, results folders) → :mod:`alukit.book` (the book's build, banners,
figures, exercises, handout, README, benchmarks). Beneath them: :mod:`alukit.paths` (every path),
:mod:`alukit.profiles`, :mod:`alukit.cache`, :mod:`alukit.codeversion`, :mod:`alukit.provenance`.
``python -m alukit`` runs the commands.
"""
import importlib
import warnings

# tqdm's notebook bars warn "IProgress not found" inside a Jupyter kernel without ipywidgets
warnings.filterwarnings("ignore", message="IProgress not found")

__version__ = "0.1.0"

_PUBLIC = {
    "simulate": ("alukit.process.data", "simulate"),
    "load_profile": ("alukit.profiles", "load"),
    "train": ("alukit.training.train", "train"),
    "rollout": ("alukit.evaluation.stepper", "rollout"),
    "reproduce": ("alukit.studies.reproduce", "run"),
    "load": ("alukit.studies.reproduce", "load"),
}
__all__ = list(_PUBLIC)


def __getattr__(name: str):
    """The public functions, imported on first use (``python -m alukit --help`` stays fast)."""
    if name in _PUBLIC:
        module, attr = _PUBLIC[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
