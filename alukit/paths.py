"""Every path alukit reads or writes, in one place.

Two roots. :data:`PACKAGE` is the installed package: its profiles ship as package data
(:data:`PARAMS`, ``alukit/params/NAME.yaml``), so a wheel install finds them. :data:`REPO_ROOT`
is the git checkout the package runs from, or ``None`` for a wheel install: the committed
results (:data:`RESULTS`), the book's sources, the notebooks and the benchmark scripts live
there, and commands that need them say so when it is missing (:func:`checkout`).

The training cache is outside any checkout by default (:func:`cache_dir`), so an
interrupted run resumes from any clone and a fresh clone is not cluttered.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["PARAMS", "REPO_ROOT", "RESULTS", "SWEEPS", "BOOK", "NOTEBOOKS", "BENCH", "STAGED", "README", "CONFIG", "TOC",
           "checkout", "cache_dir", "results_dir"]

PACKAGE = Path(__file__).resolve().parent
PARAMS = PACKAGE / "params"


def _find_checkout() -> Path | None:
    root = PACKAGE.parent
    return root if (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir() else None


REPO_ROOT: Path | None = _find_checkout()
_ROOT = REPO_ROOT or Path.cwd()  # only for the constants below; commands that need them call checkout()
RESULTS = _ROOT / "results"
SWEEPS = _ROOT / "sweeps"  # the sweep specs (python -m alukit sweep sweeps/NAME.yaml)
BOOK = _ROOT / "book"
NOTEBOOKS = _ROOT / "notebooks"
BENCH = _ROOT / "bench"
STAGED = _ROOT / "build"
README = _ROOT / "README.md"
CONFIG = _ROOT / "_config.yml"
TOC = _ROOT / "_toc.yml"


def checkout(what: str = "this command") -> Path:
    """The repository root; ``RuntimeError`` naming ``what`` when alukit runs from a wheel install."""
    if REPO_ROOT is None:
        raise RuntimeError(f"{what} needs a git checkout of alukit (its notebooks, book sources and committed "
                           "results); this alukit is installed without one")
    return REPO_ROOT


def cache_dir() -> Path:
    """The cache folder, created on first use: ``$ALUKIT_CACHE``, else ``$XDG_CACHE_HOME/alukit``, else
    ``~/.cache/alukit``."""
    env = os.environ.get("ALUKIT_CACHE")
    base = Path(env) if env else Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "alukit"
    base.mkdir(parents=True, exist_ok=True)
    return base


def results_dir(name: str) -> Path:
    """The committed results folder ``results/NAME`` of this checkout."""
    return RESULTS / name
