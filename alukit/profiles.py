"""Run profiles: a YAML file read once, validated, into a frozen :class:`Profile`.

``quick`` (minutes; CI and classrooms) and ``paper`` (full fidelity) ship with the package
(``alukit/params/NAME.yaml``); a path to another YAML file is accepted too, so users can
make their own. Every key must be a :class:`Profile` field (or one of its sections'); an
unknown key, a missing required key, a value of the wrong type or out of bounds, a YAML
alias, or a file that is not YAML text is refused with one :class:`ProfileError` line
naming the file, the key and what is allowed, before any work starts. A profile's
``name`` (its ``profile:`` key) names its results folders; ``paper`` and ``quick`` are
reserved for the package's own files. Entry points call :func:`load` once and pass the
object down.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path

import yaml

from alukit import paths

__all__ = ["PROFILES", "ProfileError", "SparseDNN", "Profile", "load", "read_yaml"]

PROFILES = ("quick", "paper")
_MAX_BYTES = 64 * 1024
_BOUNDS = {  # key: (low, high) for integers
    "seed": (0, 2**32 - 1), "n_train": (1, 10_000), "n_val": (1, 10_000), "n_test": (1, 10_000),
    "n_steps": (2, 10_000_000), "models": (1, 1000), "process_trajectories": (1, 1000),
    "train_trajectories": (1, 10_000),
}
_SIZES = (5, 10, 20, 40)  # the sparse-DNN experiment's training-set sizes (trajectories)


class ProfileError(ValueError):
    """A profile file or value that cannot be used; the message is one line naming file and key."""


@dataclass(frozen=True)
class SparseDNN:
    """The profile's ``sparse_dnn:`` section (the first paper's experiment, :mod:`alukit.studies.sparse_dnn`).

    ``sizes``: training-set sizes in trajectories, a subset of (5, 10, 20, 40); ``models``: models per
    kind and size (≥ 2); ``epochs``; ``test_trajectories``.
    """

    sizes: tuple[int, ...] = _SIZES
    models: int = 10
    epochs: int = 100
    test_trajectories: int = 100


@dataclass(frozen=True)
class Profile:
    """The parameters of a run profile.

    ``name``: its ``profile:`` key, which names its results folders (``results/NAME-*``);
    ``seed``: seed of the data and of every member; ``n_train``, ``n_val``, ``n_test``:
    trajectories per split; ``n_steps``: samples per trajectory; ``dt``: sampling step [s];
    ``models``: members per configuration. Optional: ``process_trajectories`` (trajectories
    shown in chapter 1), ``train_epoch_scale`` (fraction (0, 1] of the paper's epochs,
    schedules scaled with it), ``train_trajectories`` (train on the first k training
    trajectories; default all ``n_train``), ``horizons`` (rollout horizons in samples; None:
    the paper's), ``sparse_dnn`` (:class:`SparseDNN`). ``path``: the file it was read from.
    """

    name: str
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
    sparse_dnn: SparseDNN = SparseDNN()
    path: str = dataclasses.field(default="", compare=False)

    @property
    def is_reduced(self) -> bool:
        """Whether this is not the paper profile (its numbers are then indicative only)."""
        return self.name != "paper"

    def study_values(self) -> dict:
        """The keys the comparative study's results depend on, as written in the file (unset optionals left out)."""
        d = {"profile": self.name, "seed": self.seed, "n_train": self.n_train, "n_val": self.n_val,
             "n_test": self.n_test, "n_steps": self.n_steps, "dt": self.dt, "models": self.models,
             "train_epoch_scale": self.train_epoch_scale}
        if self.train_trajectories is not None:
            d["train_trajectories"] = self.train_trajectories
        if self.horizons is not None:
            d["horizons"] = list(self.horizons)
        return d

    def to_dict(self) -> dict:
        """The profile as its YAML mapping (``profile:`` for the name; unset optionals left out)."""
        d = {**self.study_values(), "process_trajectories": self.process_trajectories}
        s = self.sparse_dnn
        d["sparse_dnn"] = {"sizes": list(s.sizes), "models": s.models, "epochs": s.epochs,
                           "test_trajectories": s.test_trajectories}
        return d


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses anchors and aliases (they can expand a small file without bound)."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "aliases are not allowed in a profile", event.start_mark)
        if getattr(self.peek_event(), "anchor", None):
            raise yaml.composer.ComposerError(None, None, "anchors are not allowed in a profile",
                                              self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _read(path: Path) -> dict:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ProfileError(f"{path}: cannot be read ({exc.strerror})") from None
    if len(raw) > _MAX_BYTES:
        raise ProfileError(f"{path}: {len(raw)} bytes; a profile is a small YAML file (at most {_MAX_BYTES} bytes)")
    try:
        text = raw.decode("utf-8")
        if "\x00" in text:
            raise UnicodeDecodeError("utf-8", raw, 0, 1, "NUL byte")
        params = yaml.load(text, Loader=_NoAliasLoader)
    except UnicodeDecodeError:
        raise ProfileError(f"{path}: not a YAML text file (binary content)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ProfileError(f"{path}: malformed YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(params, dict):
        raise ProfileError(f"{path}: must be a mapping of parameter names to values; got {type(params).__name__}")
    return params


# For other small YAML files (sweep specs): the same checked read, anchors and aliases refused
# (``read_yaml(path)``: the file's mapping, or one ``ProfileError`` line naming the file).
read_yaml = _read


def _check_value(path, key: str, v):
    """``v`` converted, or ``ProfileError`` naming ``key`` and what is allowed."""
    if key == "profile":
        ok = isinstance(v, str) and 0 < len(v) <= 40 and all(c.isalnum() or c in "-_" for c in v)
        want = "a name of 1-40 letters, digits, '-' or '_'"
    elif key == "dt":
        ok, want = _is_number(v) and 0 < v <= 3600, "a finite number of seconds in (0, 3600]"
    elif key == "train_epoch_scale":
        ok, want = _is_number(v) and 0 < v <= 1, "a finite number in (0, 1]"
    elif key == "horizons":
        ok = isinstance(v, list) and 0 < len(v) <= 20 and all(_is_int(h) and 1 <= h for h in v)
        want = "a list of 1-20 positive integers (samples)"
    else:
        low, high = _BOUNDS[key]
        ok, want = _is_int(v) and low <= v <= high, f"an integer in [{low}, {high}]"
    if not ok:
        raise ProfileError(f"{path}: {key} must be {want}; got {_short(v)}")
    return tuple(v) if key == "horizons" else float(v) if key in ("dt", "train_epoch_scale") else v


def _sparse_dnn(path, section) -> SparseDNN:
    if not isinstance(section, dict):
        raise ProfileError(f"{path}: sparse_dnn must be a mapping with keys sizes, models, epochs, "
                           f"test_trajectories; got {_short(section)}")
    fields = [f.name for f in dataclasses.fields(SparseDNN)]
    unknown = sorted(set(section) - set(fields))
    if unknown:
        raise ProfileError(f"{path}: unknown key(s) {unknown} in sparse_dnn; allowed: {', '.join(fields)}")
    out = {}
    for key, v in section.items():
        if key == "sizes":
            ok = (isinstance(v, list) and v and all(_is_int(s) and s in _SIZES for s in v) and len(set(v)) == len(v))
            want = f"a list of distinct sizes from {', '.join(map(str, _SIZES))}"
        else:
            low = 2 if key == "models" else 1
            ok, want = _is_int(v) and low <= v <= 10_000, f"an integer in [{low}, 10000]"
        if not ok:
            raise ProfileError(f"{path}: sparse_dnn.{key} must be {want}; got {_short(v)}")
        out[key] = tuple(sorted(v)) if key == "sizes" else v
    return SparseDNN(**out)


def _check(path: Path, params: dict) -> dict:
    """The keyword arguments of :class:`Profile` from a file's mapping, every key checked."""
    fields = {f.name: f for f in dataclasses.fields(Profile) if f.name not in ("name", "path")}
    allowed = ["profile", *fields]
    unknown = sorted(map(str, set(params) - set(allowed)))
    if unknown:
        old = [k for k in unknown if k.startswith("sparse_dnn_")]
        hint = (f" (the sparse-DNN keys are now a section: sparse_dnn: {{sizes: ..., models: ..., epochs: ..., "
                f"test_trajectories: ...}})" if old else "")
        raise ProfileError(f"{path}: unknown key(s) {_short(unknown)}; allowed: {', '.join(allowed)}{hint}")
    missing = [k for k in allowed if k not in params and (k == "profile" or fields[k].default is dataclasses.MISSING)]
    if missing:
        raise ProfileError(f"{path}: missing key {missing[0]!r}")
    out = {key: (_sparse_dnn(path, v) if key == "sparse_dnn" else _check_value(path, key, v))
           for key, v in params.items()}
    out["name"] = out.pop("profile")
    own = path.resolve() == (paths.PARAMS / f"{out['name']}.yaml").resolve()
    if out["name"] in PROFILES and not own:
        raise ProfileError(f"{path}: the profile name {out['name']!r} is reserved for alukit's own "
                           f"params/{out['name']}.yaml; give yours another name (e.g. profile: my-{out['name']})")
    if out.get("train_trajectories", 1) > out["n_train"]:
        raise ProfileError(f"{path}: train_trajectories must be at most n_train={out['n_train']}; "
                           f"got {out['train_trajectories']}")
    return out


def profile_path(profile: str | Path) -> Path:
    """The YAML file of a named profile (``alukit/params/NAME.yaml``), or ``profile`` itself if it is a file."""
    if str(profile) in PROFILES:
        return paths.PARAMS / f"{profile}.yaml"
    path = Path(profile)
    if str(profile) and path.suffix in {".yaml", ".yml"} and path.is_file():
        return path
    raise ProfileError(f"profile must be one of {', '.join(PROFILES)} or a path to an existing .yaml file; "
                       f"got {_short(str(profile))}")


def load(profile: str | Path | Profile = "quick") -> Profile:
    """The validated :class:`Profile` of a name, a YAML path, or a Profile (returned as is)."""
    if isinstance(profile, Profile):
        return profile
    path = profile_path(profile)
    return Profile(**_check(path, _read(path)), path=str(path))
