"""Run profiles: ``params/<name>.yaml`` as a validated dict.

``quick`` (minutes; CI and classrooms) and ``paper`` (full fidelity) ship with the
repository; a path to another YAML file is accepted too.
"""
from __future__ import annotations

from pathlib import Path

import yaml

PARAMS_DIR = Path(__file__).resolve().parent.parent / "params"
PROFILES = ("quick", "paper")
_POSITIVE_INT = ("n_train", "n_val", "n_test", "n_steps", "models", "process_trajectories")


def profile_path(profile: str | Path) -> Path:
    """The YAML file of a named profile, or ``profile`` itself if it is an existing file."""
    if str(profile) in PROFILES:
        return PARAMS_DIR / f"{profile}.yaml"
    path = Path(profile)
    if path.suffix in {".yaml", ".yml"} and path.is_file():
        return path
    raise ValueError(f"profile must be one of {', '.join(PROFILES)} or a path to a .yaml file; got {profile!r}")


def load(profile: str | Path = "quick") -> dict:
    """The profile's parameters (flat dict), checked for type and range."""
    path = profile_path(profile)
    params = yaml.safe_load(path.read_text()) or {}
    if not isinstance(params, dict):
        raise ValueError(f"{path}: must be a mapping of parameter names to values")
    for name in _POSITIVE_INT:
        if name in params and (not isinstance(params[name], int) or params[name] < 1):
            raise ValueError(f"{path}: {name} must be a positive integer; got {params[name]!r}")
    if "dt" in params and not (isinstance(params["dt"], (int, float)) and params["dt"] > 0):
        raise ValueError(f"{path}: dt must be a positive number of seconds; got {params['dt']!r}")
    return params
