"""Run profiles: ``params/<name>.yaml`` as a validated, frozen :class:`Profile`.

``quick`` (minutes; CI and classrooms) and ``paper`` (full fidelity) ship with the
repository; a path to another YAML file is accepted too, so users can make their own.
Every key of a profile file must be a :class:`Profile` field: an unknown key (a typo),
a missing required key or a value of the wrong type raises ``ValueError`` naming the
key and the file. Load a profile once per entry point and pass the object down;
public functions accept a name, a path or a :class:`Profile` (:func:`load` returns a
Profile unchanged).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import yaml

from alukit import paths

PARAMS_DIR = paths.PARAMS
PROFILES = ("quick", "paper")


@dataclass(frozen=True)
class Profile:
    """The parameters of a run profile.

    ``profile``: its name; ``seed``: seed of the data and of every member; ``n_train``,
    ``n_val``, ``n_test``: trajectories per split; ``n_steps``: samples per trajectory;
    ``dt``: sampling step [s]; ``models``: members per configuration. Optional:
    ``process_trajectories`` (trajectories shown in chapter 1; default 5),
    ``train_epoch_scale`` (fraction (0, 1] of the paper's epochs, schedules scaled with
    it; default 1), ``train_trajectories`` (train on the first k training trajectories;
    default all ``n_train``), ``horizons`` (rollout horizons in steps; default the paper's);
    for the sparse-DNN chapter (:mod:`alukit.studies.sparse_dnn`): ``sparse_dnn_sizes`` (training-set
    sizes in trajectories), ``sparse_dnn_models`` (models per kind and size),
    ``sparse_dnn_epochs`` and ``sparse_dnn_test_trajectories``. ``path``: the file it was read from.
    """

    profile: str
    seed: int
    n_train: int
    n_val: int
    n_test: int
    n_steps: int
    dt: float
    models: int
    process_trajectories: int = 5
    train_epoch_scale: float = 1.0
    train_trajectories: int | None = None
    horizons: tuple[int, ...] | None = None
    sparse_dnn_sizes: tuple[int, ...] | None = None
    sparse_dnn_models: int | None = None
    sparse_dnn_epochs: int | None = None
    sparse_dnn_test_trajectories: int | None = None
    path: str = dataclasses.field(default="", compare=False)

    def to_dict(self) -> dict:
        """The profile's keys and values as in its file (optional keys only when set)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "path"}
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if v is not None}

    # read-only mapping access, for code that treats a profile as its YAML dict
    def __getitem__(self, key: str):
        d = self.to_dict()
        if key not in d:
            raise KeyError(key)
        return d[key]

    def __contains__(self, key) -> bool:
        return key in self.to_dict()

    def get(self, key: str, default=None):
        """``self[key]``, or ``default`` for an unset optional or unknown key."""
        return self.to_dict().get(key, default)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check(path: Path, params: dict) -> None:
    """Raise ``ValueError`` naming the first unknown, missing or ill-typed key of ``params``."""
    fields = {f.name: f for f in dataclasses.fields(Profile) if f.name != "path"}
    unknown = sorted(set(params) - set(fields))
    if unknown:
        raise ValueError(f"{path}: unknown key(s) {unknown}; allowed: {', '.join(fields)}")
    for name, f in fields.items():
        if name not in params:
            if f.default is dataclasses.MISSING:
                raise ValueError(f"{path}: missing key {name!r}")
            continue
        v = params[name]
        if name == "profile":
            ok, want = isinstance(v, str) and bool(v), "a non-empty string"
        elif name in ("dt", "train_epoch_scale"):
            ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 and (name == "dt" or v <= 1)
            want = "a positive number of seconds" if name == "dt" else "a number in (0, 1]"
        elif name in ("horizons", "sparse_dnn_sizes"):
            ok, want = isinstance(v, list) and bool(v) and all(_is_int(h) and h >= 1 for h in v), "a list of positive integers"
        elif name == "seed":
            ok, want = _is_int(v) and v >= 0, "an integer >= 0"
        else:
            ok, want = _is_int(v) and v >= 1, "a positive integer"
        if not ok:
            raise ValueError(f"{path}: {name} must be {want}; got {v!r}")
    if params.get("train_trajectories", 1) > params["n_train"]:
        raise ValueError(f"{path}: train_trajectories must be at most n_train={params['n_train']}; "
                         f"got {params['train_trajectories']!r}")


def profile_path(profile: str | Path) -> Path:
    """The YAML file of a named profile, or ``profile`` itself if it is an existing file."""
    if isinstance(profile, Profile):
        return Path(profile.path)
    if str(profile) in PROFILES:
        return PARAMS_DIR / f"{profile}.yaml"
    path = Path(profile)
    if path.suffix in {".yaml", ".yml"} and path.is_file():
        return path
    raise ValueError(f"profile must be one of {', '.join(PROFILES)} or a path to a .yaml file; got {profile!r}")


def load(profile: str | Path | Profile = "quick") -> Profile:
    """The validated :class:`Profile` of a name (``params/NAME.yaml``), a YAML path, or a Profile (returned as is)."""
    if isinstance(profile, Profile):
        return profile
    path = profile_path(profile)
    params = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(params, dict):
        raise ValueError(f"{path}: must be a mapping of parameter names to values")
    _check(path, params)
    for key in ("horizons", "sparse_dnn_sizes"):
        if key in params:
            params[key] = tuple(params[key])
    params["dt"] = float(params["dt"])
    params["train_epoch_scale"] = float(params.get("train_epoch_scale", 1.0))
    return Profile(**params, path=str(path))
