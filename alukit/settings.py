"""The environment variables alukit reads, each validated in one place.

``ALUKIT_CACHE``: the cache folder (:func:`alukit.paths.cache_dir`); must not be a file.
``ALUKIT_THREADS``: torch threads per training process, an integer in [1, 256] (default 1).
``ALUKIT_COMPILE``: ``0`` (eager kernel), ``1`` (compiled) or ``auto`` (default: compile long runs where a
C++ compiler or CUDA is present). ``ALUKIT_DEBUG``: ``1`` shows a traceback for errors the command line
otherwise reports in one line. A bad value raises :class:`SettingError` naming the variable and the
allowed values; :func:`check` tests them all before a command starts work.
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SettingError", "threads", "compile_mode", "debug", "check"]


class SettingError(ValueError):
    """An environment variable with a value alukit cannot use."""


def _get(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None or value.strip() == "" else value.strip()


def threads() -> int:
    """``ALUKIT_THREADS``: torch threads per training process (default 1)."""
    value = _get("ALUKIT_THREADS")
    if value is None:
        return 1
    if not value.isdigit() or not 1 <= int(value) <= 256:
        raise SettingError(f"ALUKIT_THREADS must be an integer in [1, 256]; got {value[:40]!r}")
    return int(value)


def compile_mode() -> str:
    """``ALUKIT_COMPILE``: ``"0"``, ``"1"`` or ``"auto"`` (default)."""
    value = _get("ALUKIT_COMPILE") or "auto"
    if value not in ("0", "1", "auto"):
        raise SettingError(f"ALUKIT_COMPILE must be 0, 1 or auto; got {value[:40]!r}")
    return value


def debug() -> bool:
    """``ALUKIT_DEBUG=1``: show tracebacks."""
    return _get("ALUKIT_DEBUG") == "1"


def _check_cache() -> None:
    value = _get("ALUKIT_CACHE")
    if value is None:
        return
    path = Path(value).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingError(f"ALUKIT_CACHE must name a folder; {value[:200]} is a file")
    parent = path
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        raise SettingError(f"ALUKIT_CACHE must be writable; {parent} is read-only")


def check() -> None:
    """Validate every variable (:class:`SettingError` on the first bad one)."""
    threads()
    compile_mode()
    _check_cache()
