"""What made a result: the code's commit, the machine, the date.

Every results folder (:class:`alukit.studies.study.Study`), benchmark record and book-build
record stamps these, so that a number can be traced to the code and the machine behind it.
"""
from __future__ import annotations

import datetime
import os
import platform
import subprocess

import torch

from alukit import paths

__all__ = ["git_commit", "machine", "now"]


def git_commit() -> str:
    """``HEAD``'s commit, ``-dirty`` if tracked files outside ``results/`` differ from it; ``unknown`` without git
    (a wheel install)."""
    if paths.REPO_ROOT is None:
        return "unknown"
    run = lambda *cmd: subprocess.run(cmd, cwd=paths.REPO_ROOT, capture_output=True, text=True,  # noqa: E731
                                      check=True).stdout.strip()
    try:
        commit = run("git", "rev-parse", "HEAD")
        dirty = run("git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results")
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict:
    """What a result was computed on: Python, torch, CPUs, torch threads, processor."""
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "processor": platform.processor() or platform.machine(),
    }


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
