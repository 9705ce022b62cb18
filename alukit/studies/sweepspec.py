"""Reading a sweep spec file (:mod:`alukit.studies.sweep`, :mod:`alukit.studies.sweep_sparse_dnn`): a small
YAML mapping, checked key by key; every failure is one :class:`SweepError` line naming the file and the key."""
from __future__ import annotations

import json
import re
from pathlib import Path

from alukit import profiles
from alukit.profiles import Profile

__all__ = ["NUMBER", "SweepError", "short", "read", "profile", "scalar", "number"]

NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")  # a number YAML reads as text (1e-5)
_KEYS = "sweep, profile, config, variant, models, n_boot, grid, description, study"


class SweepError(ValueError):
    """A sweep spec that cannot be run; one line naming the file, the key and what is allowed."""


def short(value) -> str:
    """``repr(value)``, cut to 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read(path: Path) -> dict:
    """The spec file's mapping (size, encoding, YAML and JSON-recordable values checked)."""
    try:
        spec = profiles.read_yaml(path)  # the profiles' checked read: size, UTF-8, no anchors or aliases, a mapping
    except profiles.ProfileError as exc:
        text = (str(exc).replace("a mapping of parameter names to values", f"a mapping with keys {_KEYS}")
                .replace("a profile", "a sweep spec"))
        raise SweepError(text) from None
    try:
        json.dumps(spec)  # recorded in the provenance
    except (TypeError, ValueError) as exc:
        raise SweepError(f"{path}: holds a value that is not text, a number, a list or a mapping ({exc})") from None
    return spec


def profile(path: Path, value) -> Profile:
    """The profile a spec names (a relative path is read from the spec's folder)."""
    if isinstance(value, str) and value not in profiles.PROFILES and not Path(value).is_absolute():
        value = str(path.parent / value) if (path.parent / value).is_file() else value
    try:
        return profiles.load(str(value) if value is not None else "")
    except ValueError as exc:
        raise SweepError(f"{path}: profile: {exc}") from None


def scalar(path, key: str, v, ok: bool, want: str):
    """``v`` if ``ok``, else :class:`SweepError` saying ``key`` must be ``want``."""
    if not ok:
        raise SweepError(f"{path}: {key} must be {want}; got {short(v)}")
    return v


def number(v):
    """A grid value as a number where it is one: text such as ``1e-5`` (YAML reads it as text) and integers as
    floats; anything else unchanged (booleans too, for the caller to refuse)."""
    if isinstance(v, str) and NUMBER.match(v.strip()):
        return float(v)
    return float(v) if isinstance(v, int) and not isinstance(v, bool) else v


def readme(name: str, spec_path, module: str, files: dict[str, str], fmt: int) -> str:
    """The ``README.md`` of a sweep's folder ``results/sweep-<name>/``: who wrote it and one row per file."""
    lines = [f"# results/sweep-{name}/", "", f"Written by `python -m alukit sweep {spec_path}` "
             f"(`{module}`); do not edit by hand: `provenance.json` holds the SHA-256 of every file. "
             "Arrays are plain `.npz` (no pickle).", "", "| File | Contents |", "|---|---|"]
    lines += [f"| `{f}` | {text} |" for f, text in files.items()]
    return "\n".join(lines + [f"| `README.md` | This file (results format {fmt}). |", ""])
