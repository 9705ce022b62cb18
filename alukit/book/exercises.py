"""Self-check for the book's exercises: ``check(exercise_id, answer)``.

A chapter's exercise computes its answer in the reader's own run and stores it with
:func:`record` (under ``<cache>/exercises/<id>.json``, see :func:`alukit.cache.cache_dir`)
without displaying it. The reader then works the answer out and asks
:func:`check`, which says only whether the answer lies within the exercise's
tolerance of that value: never the value, its direction or its distance.

    >>> record("ch3-mp-arithmetic", 33.2, tol=0.5)     # in the exercise's cell
    >>> check("ch3-mp-arithmetic", 33)                  # the reader's answer
    ch3-mp-arithmetic: within ±0.5 of the value from your run ✓
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from alukit.cache import cache_dir, write_json

__all__ = ["record", "check"]

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


def _path(exercise_id: str) -> Path:
    if not isinstance(exercise_id, str) or not _ID.match(exercise_id):
        raise ValueError(f"exercise_id must be lower-case letters, digits and '-' (at most 64); got {exercise_id!r}")
    return cache_dir() / "exercises" / f"{exercise_id}.json"


def _number(name: str, value) -> float:
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite number; got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return out


def record(exercise_id: str, value, tol: float) -> None:
    """Store ``value`` (a finite number) as exercise ``exercise_id``'s answer, ``tol`` its absolute tolerance.

    Returns nothing, so that a notebook cell ending with it displays nothing.
    """
    value, tol = _number("value", value), _number("tol", tol)
    if tol < 0:
        raise ValueError(f"tol must be a number >= 0; got {tol!r}")
    write_json(_path(exercise_id), {"value": value, "tol": tol})


@dataclass(frozen=True)
class Check:
    """The verdict of :func:`check`; true when the answer is within tolerance."""

    exercise_id: str
    ok: bool
    tol: float

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "within" if self.ok else "not within"
        return f"{self.exercise_id}: {verdict} ±{self.tol:g} of the value from your run {'✓' if self.ok else '✗'}"

    __repr__ = __str__


def check(exercise_id: str, answer) -> Check:
    """Whether ``answer`` is within the recorded tolerance of the value computed in this run.

    Raises ``ValueError`` for a malformed id or a non-numeric answer, and
    ``LookupError`` (naming the exercise) if its computation has not been run yet.
    """
    path = _path(exercise_id)
    answer = _number("answer", answer)
    if not path.is_file():
        raise LookupError(f"no value recorded for exercise {exercise_id!r} yet: run the exercise's cell first")
    stored = json.loads(path.read_text())
    return Check(exercise_id, abs(answer - stored["value"]) <= stored["tol"], stored["tol"])
