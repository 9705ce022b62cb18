"""Sweeps: the study's protocol over a grid of settings. ``python -m alukit sweep SPEC.yaml [options]``.

A sweep spec is a small YAML file::

    sweep: l1-strength            # names the results folder: results/sweep-l1-strength/
    profile: paper                # quick, paper or a profile YAML (a relative path is read from the spec's folder)
    config: l1                    # the base row of Tables 2-4 (a name of CONFIG_NAMES; the swa axis picks "+swa")
    variant: corrected            # faithful or corrected, unless the grid has a variant axis
    models: 10                    # members per point (default: the profile's models)
    n_boot: 2000                  # bootstrap resamples per interval (optional)
    grid:                         # the points are the product of the axes, the first axis outermost
      variant: [faithful, corrected]
      l1: [0.0, 1.0e-5, 1.0e-4, 1.0e-3]   # any field of alukit.training.config.Config
      swa: [false, true]

``study: sparse-dnn`` sweeps the first paper's sparse-DNN setup instead (its λ and a post-training prune, its
own keys and folder): :mod:`alukit.studies.sweep_sparse_dnn`.

An axis is ``variant``, ``swa`` (true/false: the "+swa" row or not) or any :class:`~alukit.training.config.Config`
field but ``name``, ``method`` and ``extra``; a number written ``1e-5`` (which YAML reads as text) is read
as a number. Every point's configuration is built and validated (:func:`load_spec`) before any training:
a bad key, axis, value or model count is one :class:`SweepError` line naming the key and what is allowed.

Each point trains through :func:`alukit.training.train.train_many` (cached by content, resumable; a
process pool, a Dask ``LocalCluster`` or a Dask scheduler) with the profile's epoch scale
(:func:`alukit.training.train.resolve`), is rolled out and measured by
:func:`alukit.studies.reproduce.evaluate` (the study's stepper and metric) and summarised with the study's
bootstrap (:func:`alukit.evaluation.metrics.bootstrap`: models and trajectories resampled). The folder
(:class:`~alukit.studies.study.Study`, written atomically, with a manifest) holds :data:`FILES`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from alukit import cache, profiles, provenance
from alukit.commandline import Parser
from alukit.evaluation import metrics
from alukit.evaluation.zeros import SMALL, small_fraction
from alukit.process import data
from alukit.profiles import Profile
from alukit.studies import reproduce, sweep_sparse_dnn
from alukit.studies.sweepspec import NUMBER as _NUMBER, SweepError
from alukit.studies.sweepspec import profile as _profile, read as _read, readme as _spec_readme
from alukit.studies.sweepspec import scalar as _scalar, short as _short
from alukit.studies.study import Expected, Study
from alukit.training import cluster, train
from alukit.training.config import CONFIG_NAMES, VARIANTS, Config, config_hash, make_config

__all__ = ["FORMAT", "SMALL", "FILES", "SweepError", "Spec", "Point", "SweepResults", "load_spec", "points",
           "study", "summarise", "expected", "stale_reason", "run", "read", "estimate", "reference_runs", "makespan",
           "main"]

FORMAT = 1  # version of the folder layout below; read() refuses folders of another format
_KEYS = ("sweep", "profile", "config", "variant", "models", "n_boot", "grid", "description", "study")
STUDIES = ("comparative", "sparse-dnn")  # the `study:` a spec sweeps (default comparative)
_SPECIAL = ("variant", "swa")  # axes that are not Config fields
_NOT_AXES = ("name", "method", "extra")
_FIELDS = tuple(f.name for f in dataclasses.fields(Config) if f.name not in _NOT_AXES + ("variant", "swa"))
_MAX_POINTS = 1000
FILES = {
    "summary.csv": "One row per point (`point`, `variant`, `config`, one column per grid axis, `models`, `epochs`): "
                   "`diverged_<h>` % of rollouts diverged at horizon h (samples) and `capped_<h>` the capped error, "
                   "each with its 95 % bootstrap interval (`_low`, `_high`); `zeros` % of weights exactly zero and "
                   "`small` % with |w| < 1e-3 (means over the models); `train_loss` mean training-set MSE.",
    "stats.csv": "Every statistic (`divergence` %, `survivor_mean`, `capped_mean`) of every point and horizon with its "
                 "95 % bootstrap interval (`estimate`, `low`, `high`; models and trajectories resampled); long format.",
    "errors.npz": "Per-rollout, per-state normalised errors e_s(L) of every point: `<point>` float64 (H, E, n_test, 8) "
                  "(horizons x models x test trajectories x states), `horizons` (H,), `zeros` and `small` "
                  "`<point>` (E,) fractions of weights exactly zero and below 1e-3 in magnitude.",
    "provenance.json": "How the folder was made: the spec, each point's configuration and run key, the profile, git "
                       "commit, date, machine, scheduler and workers, seconds per stage, code versions, `format`.",
}


@dataclass(frozen=True)
class Spec:
    """A validated sweep spec (see the module). ``axes``: ``((axis, values), ...)`` in file order;
    ``models``: members per point (None: the profile's); ``path``: the file it was read from."""

    name: str
    profile: Profile
    config: str
    variant: str
    models: int | None
    n_boot: int
    axes: tuple
    raw: dict = dataclasses.field(compare=False, hash=False)
    path: str = ""


class Point(NamedTuple):
    """One grid point: ``id`` (``p000``, ...), ``values`` ``{axis: value}``, the resolved run
    ``(config, profile, models)`` that :func:`alukit.training.train.train_many` takes."""

    id: str
    values: dict
    config: Config
    profile: Profile
    models: int


def _value(axis: str, v):
    """A grid value as Config takes it: numbers written as text read as numbers, lists as tuples, an integer as a
    float where the field's default is a float (so that 0 and 0.0 name the same run)."""
    if isinstance(v, str) and _NUMBER.match(v.strip()):
        v = float(v)
    if isinstance(v, list):
        return tuple(v)
    default = {f.name: f.default for f in dataclasses.fields(Config)}.get(axis)
    if isinstance(default, float) and isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    return v


def _axes(path, grid) -> tuple:
    """``((axis, values), ...)`` of the spec's ``grid``, each axis name and its special values checked."""
    allowed = f"{', '.join(_SPECIAL)} or a Config field ({', '.join(_FIELDS)})"
    if not isinstance(grid, dict) or not grid:
        raise SweepError(f"{path}: grid must be a non-empty mapping of axes to lists of values; axes: {allowed}")
    axes = []
    for axis, values in grid.items():
        if axis not in _SPECIAL + _FIELDS:
            raise SweepError(f"{path}: grid has an unknown field {_short(axis)}; allowed: {allowed}")
        if not isinstance(values, list) or not values:
            raise SweepError(f"{path}: grid.{axis} must be a non-empty list of values; got {_short(values)}")
        values = tuple(_value(axis, v) for v in values)
        if len(set(map(repr, values))) != len(values):
            raise SweepError(f"{path}: grid.{axis} must list distinct values; got {_short(list(values))}")
        if axis == "variant" and not set(values) <= set(VARIANTS):
            raise SweepError(f"{path}: grid.variant values must be {' or '.join(VARIANTS)}; got {_short(list(values))}")
        if axis == "swa" and not all(isinstance(v, bool) for v in values):
            raise SweepError(f"{path}: grid.swa values must be true or false; got {_short(list(values))}")
        axes.append((axis, values))
    return tuple(axes)


def load_spec(spec: str | Path):
    """The validated :class:`Spec` of a YAML file; every point's configuration is built too (:func:`points`), so
    a spec this returns trains. :class:`SweepError` (one line: file, key, what is allowed) otherwise.
    A spec with ``study: sparse-dnn`` is a :class:`alukit.studies.sweep_sparse_dnn.SparseSpec`."""
    path = Path(spec)
    raw = _read(path)
    kind = raw.get("study", "comparative")
    if kind not in STUDIES:
        raise SweepError(f"{path}: study must be one of {', '.join(STUDIES)}; got {_short(kind)}")
    if kind == "sparse-dnn":
        return sweep_sparse_dnn.load_spec(path, raw)
    unknown = sorted(map(str, set(raw) - set(_KEYS)))
    if unknown:
        raise SweepError(f"{path}: unknown key(s) {_short(unknown)}; allowed: {', '.join(_KEYS)}")
    for key in ("sweep", "profile", "config", "grid"):
        if key not in raw:
            raise SweepError(f"{path}: missing key {key!r}")
    name = raw["sweep"]
    _scalar(path, "sweep", name, isinstance(name, str) and 0 < len(name) <= 40
            and all(c.isalnum() or c in "-_" for c in name), "a name of 1-40 letters, digits, '-' or '_'")
    config = _scalar(path, "config", raw["config"], raw["config"] in CONFIG_NAMES,
                     f"one of {', '.join(CONFIG_NAMES)}")
    variant = _scalar(path, "variant", raw.get("variant", "faithful"), raw.get("variant", "faithful") in VARIANTS,
                      f"one of {', '.join(VARIANTS)}")
    models = raw.get("models")
    _scalar(path, "models", models, models is None or (isinstance(models, int) and not isinstance(models, bool)
                                                         and 1 <= models <= 1000), "an integer in [1, 1000]")
    n_boot = raw.get("n_boot", reproduce.N_BOOT)
    _scalar(path, "n_boot", n_boot, isinstance(n_boot, int) and not isinstance(n_boot, bool)
            and 100 <= n_boot <= 100_000, "an integer in [100, 100000]")
    _scalar(path, "description", raw.get("description", ""), isinstance(raw.get("description", ""), str), "text")
    out = Spec(name=name, profile=_profile(path, raw["profile"]), config=config, variant=variant, models=models,
               n_boot=n_boot, axes=_axes(path, raw["grid"]), raw=raw, path=str(path))
    points(out)
    return out


def _point_config(spec: Spec, values: dict) -> tuple[Config, int]:
    """The resolved configuration and members of one point (``ValueError`` from the configuration's checks)."""
    variant = values.get("variant", spec.variant)
    base = spec.config.replace("+swa", "")
    swa = values.get("swa", spec.config.endswith("+swa"))
    overrides = {k: v for k, v in values.items() if k not in _SPECIAL}
    cfg = make_config(base + ("+swa" if swa else ""), variant, **overrides)
    cfg, _, n_models = train.resolve(cfg, variant, spec.profile, spec.models)
    return cfg, n_models


def points(spec: Spec) -> list[Point]:
    """Every point of the grid (the first axis outermost), configurations built and validated: a bad value is a
    :class:`SweepError` naming its axis (alone) or its point (in combination)."""
    for axis, values in spec.axes:  # each value alone first, so the message names the axis
        for v in values:
            try:
                _point_config(spec, {axis: v})
            except ValueError as exc:
                raise SweepError(f"{spec.path}: grid.{axis} value {_short(v)}: {exc}") from None
    names = [axis for axis, _ in spec.axes]
    combos = list(itertools.product(*(values for _, values in spec.axes)))
    if len(combos) > _MAX_POINTS:
        raise SweepError(f"{spec.path}: grid has {len(combos)} points; at most {_MAX_POINTS}")
    out = []
    for i, combo in enumerate(combos):
        values = dict(zip(names, combo))
        try:
            cfg, n_models = _point_config(spec, values)
        except ValueError as exc:
            raise SweepError(f"{spec.path}: grid point {_short(values)}: {exc}") from None
        out.append(Point(f"p{i:03d}", values, cfg, spec.profile, n_models))
    return out


# ---------------------------------------------------------------- measuring

def summarise(errors: dict[str, np.ndarray], horizons, n_boot: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(wide, stats)`` from per-point errors ``(H, E, n, 8)``: ``stats`` every statistic of
    :data:`alukit.evaluation.metrics.STATISTICS` per point and horizon with its bootstrap interval (long format,
    seeded as the study's: ``seed`` + the statistic's index); ``wide`` one row per point with ``diverged_<h>``
    and ``capped_<h>`` and their ``_low`` and ``_high``."""
    rows = []
    for p, e in errors.items():
        for k, stat in enumerate(metrics.STATISTICS):
            est, lo, hi = metrics.bootstrap(e, stat, n_boot=n_boot, seed=seed + k)
            rows += [{"point": p, "horizon": h, "statistic": stat, "estimate": a, "low": b, "high": c}
                     for h, a, b, c in zip(horizons, est, lo, hi)]
    stats = pd.DataFrame(rows)
    wide = {}
    for stat, label in (("divergence", "diverged"), ("capped_mean", "capped")):
        part = stats[stats.statistic == stat]
        for h in horizons:
            at = part[part.horizon == h].set_index("point")
            for col, suffix in (("estimate", ""), ("low", "_low"), ("high", "_high")):
                wide[f"{label}_{h}{suffix}"] = at[col]
    return pd.DataFrame(wide).rename_axis("point"), stats


# ---------------------------------------------------------------- the folder

def study(spec: Spec, out_dir: Path | None = None) -> Study:
    """The sweep's results folder: ``results/sweep-<name>/`` (or ``out_dir``)."""
    return Study(f"sweep-{spec.name}", out_dir, refresh=f"python -m alukit sweep {spec.path}")


def _hash(spec: Spec, pts: list[Point]) -> str:
    """Hash of what determines the results: the profile's study keys and every point's configuration and members."""
    parts = {"profile": spec.profile.study_values(), "n_boot": spec.n_boot,
             "points": [[p.id, config_hash(p.config), p.models] for p in pts]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def expected(spec: Spec) -> list[Expected]:
    """What a current folder of the sweep records (:meth:`Study.stale_reason`)."""
    return [
        Expected("format", FORMAT, f"written in another results format (this code reads format {FORMAT})"),
        Expected("evaluation_version", reproduce.evaluation_version(), "the rollout or metric code changed since "
                 "they were written", version=True),
        Expected("training_version", train.CODE_VERSION, "the training code changed since they were written",
                 version=True),
        Expected("configuration_hash", _hash(spec, points(spec)), "the spec, the profile or a configuration "
                 "changed since they were written"),
    ]


def stale_reason(spec: Spec | str | Path, out_dir: Path | None = None) -> str | None:
    """Why the sweep's folder does not match the current code and spec; None if it does."""
    spec = load_spec(spec) if isinstance(spec, (str, Path)) else spec
    if not isinstance(spec, Spec):  # a sparse-DNN spec
        return sweep_sparse_dnn.stale_reason(spec, out_dir)
    return study(spec, out_dir).stale_reason(expected(spec))


def _table(spec: Spec, pts: list[Point], trained, wide: pd.DataFrame, zeros: dict, small: dict) -> pd.DataFrame:
    """``summary.csv``: the points' settings, then :func:`summarise`'s columns, sparsities and training loss."""
    rows = [{"point": p.id, "variant": p.config.variant, "config": p.config.name,
             **{axis: (list(v) if isinstance(v, tuple) else v) for axis, v in p.values.items() if axis != "variant"},
             "models": p.models, "epochs": p.config.epochs} for p in pts]
    head = pd.DataFrame(rows).set_index("point")
    tail = pd.DataFrame({"zeros": {p.id: 100 * float(np.mean(zeros[p.id])) for p in pts},
                         "small": {p.id: 100 * float(np.mean(small[p.id])) for p in pts},
                         "train_loss": {p.id: float(np.mean(r.final_train_loss)) for p, r in zip(pts, trained)}})
    return head.join(wide).join(tail)


def _provenance(spec: Spec, pts: list[Point], trained, seconds: dict, where: dict) -> dict:
    runs = {r.key: r.seconds for r in trained}
    return {
        "sweep": spec.name, "spec": spec.raw, "spec_file": spec.path, "profile": spec.profile.name,
        "study_values": spec.profile.study_values(),
        "points": [{"point": p.id, "values": {k: (list(v) if isinstance(v, tuple) else v) for k, v in p.values.items()},
                    "config": p.config.to_dict(), "config_hash": config_hash(p.config), "models": p.models,
                    "run_key": r.key, "train_seconds": round(r.seconds, 2), "cached": bool(r.cached)}
                   for p, r in zip(pts, trained)],
        "git_commit": provenance.git_commit(), "date": provenance.now(), "machine": provenance.machine(),
        "torch": torch.__version__, "seconds": {k: round(v, 3) for k, v in seconds.items()}, **where,
        "training_run_seconds": round(sum(runs.values()), 1), "distinct_runs": len(runs),
        "configuration_hash": _hash(spec, pts), "evaluation_version": reproduce.evaluation_version(),
        "training_version": train.CODE_VERSION, "n_boot": spec.n_boot, "format": FORMAT,
    }


def _readme(spec: Spec) -> str:
    return _spec_readme(spec.name, spec.path, "alukit/studies/sweep.py", FILES, FORMAT)


def _evaluate(pts: list[Point], trained, sets, horizons, say) -> tuple[dict, dict, dict]:
    """Roll out every point's models (cached): errors ``(H, E, n, 8)``, exact-zero and small-weight fractions ``(E,)``."""
    errors, zeros, small = {}, {}, {}
    for p, r in zip(pts, trained):
        ev = reproduce.evaluate(r, p.config.variant, sets, p.profile.dt, horizons)
        errors[p.id], zeros[p.id] = ev["errors"], np.asarray(r.sparsity, np.float64)
        small[p.id] = small_fraction(r.ensemble.weights())
        say(f"{p.id} {p.values}: diverged at {horizons[-1]}: {metrics.divergence_percent(ev['errors'])[-1]:.1f} %, "
            f"zeros {100 * zeros[p.id].mean():.1f} %")
    return errors, zeros, small


def run(spec: Spec | str | Path, out_dir: Path | None = None, *, scheduler: str | None = None,
        workers: int | None = None, progress: bool = True, force: bool = False) -> Path:
    """Train, roll out and measure every point of ``spec`` and write its folder (:func:`study`); returns it.

    ``scheduler``: None (a process pool of ``workers``, default :func:`alukit.training.train.default_workers`),
    ``"local"`` (a Dask ``LocalCluster`` of ``workers`` processes) or ``tcp://HOST:PORT``. The spec and the
    target folder are checked before any work (``force`` replaces a folder alukit did not write).
    """
    spec = load_spec(spec) if isinstance(spec, (str, Path)) else spec
    if not isinstance(spec, Spec):  # a sparse-DNN spec
        return sweep_sparse_dnn.run(spec, out_dir, scheduler=scheduler, workers=workers, progress=progress,
                                    force=force)
    if scheduler is not None:
        cluster.check_scheduler(scheduler)
    pts = points(spec)
    folder = study(spec, out_dir)
    folder.check_target(force)
    horizons = metrics.check_horizons(spec.profile.horizons or metrics.HORIZONS, spec.profile.n_steps)
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    start = time.perf_counter()
    sets = data.profile_datasets(spec.profile)
    seconds = {"data": time.perf_counter() - start}
    t = time.perf_counter()
    trained = train.train_many([(p.config, p.profile, p.models) for p in pts], workers=workers, progress=progress,
                               scheduler=scheduler, runs_bar=True)
    seconds["training"] = time.perf_counter() - t
    t = time.perf_counter()
    errors, zeros, small = _evaluate(pts, trained, sets, horizons, say)
    seconds["rollouts"] = time.perf_counter() - t
    t = time.perf_counter()
    wide, stats = summarise(errors, horizons, spec.n_boot)
    table = _table(spec, pts, trained, wide, zeros, small)
    seconds["metrics"] = time.perf_counter() - t
    seconds["wall"] = time.perf_counter() - start
    where = {"scheduler": scheduler or "pool", "workers": workers or train.default_workers()}
    files = {
        "summary.csv": lambda p: cache.write_text(p, table.to_csv()),
        "stats.csv": lambda p: cache.write_text(p, stats.to_csv(index=False)),
        "errors.npz": lambda p: cache.save_npz(p, horizons=np.array(horizons), **errors,
                                               **{f"zeros/{k}": v for k, v in zeros.items()},
                                               **{f"small/{k}": v for k, v in small.items()}),
        "README.md": lambda p: cache.write_text(p, _readme(spec)),
    }
    folder.write(files, _provenance(spec, pts, trained, seconds, where), force=force)
    say(f"results written to {folder.shown()} ({seconds['wall']:.0f} s)")
    return folder.path


class SweepResults(NamedTuple):
    """A sweep's folder, read: ``summary`` (index ``point``), ``stats`` (long), ``errors`` ``{point: (H, E, n, 8)}``,
    ``zeros`` and ``small`` ``{point: (E,)}``, ``horizons``, ``provenance``."""

    summary: pd.DataFrame
    stats: pd.DataFrame
    errors: dict
    zeros: dict
    small: dict
    horizons: tuple
    provenance: dict


def read(spec: Spec | str | Path | None = None, out_dir: Path | None = None) -> SweepResults:
    """Read a sweep's folder (the spec's default, or ``out_dir``), checked against its manifest; never computes."""
    if spec is None and out_dir is None:
        raise ValueError("read() needs a spec or a folder")
    spec = load_spec(spec) if isinstance(spec, (str, Path)) else spec
    if spec is not None and not isinstance(spec, Spec):  # a sparse-DNN spec
        return sweep_sparse_dnn.read(spec, out_dir)
    folder = study(spec if isinstance(spec, Spec) else load_spec(spec)) if out_dir is None else \
        Study(Path(out_dir).name, out_dir, refresh=f"python -m alukit sweep SPEC --out {out_dir}")
    prov = folder.verify()
    if prov.get("study") == "sparse-dnn":
        return sweep_sparse_dnn.read(None, folder.path)
    if prov.get("format") != FORMAT:
        raise ValueError(f"{folder.shown()} was written in sweep format {prov.get('format')!r}; this code reads {FORMAT}")
    arrays = cache.load_npz(folder.file("errors.npz"))
    horizons = tuple(int(h) for h in arrays.pop("horizons"))
    group = lambda prefix: {k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith(prefix + "/")}  # noqa: E731
    return SweepResults(summary=pd.read_csv(folder.file("summary.csv"), index_col="point"),
                        stats=pd.read_csv(folder.file("stats.csv")),
                        errors={k: v for k, v in arrays.items() if "/" not in k}, zeros=group("zeros"),
                        small=group("small"), horizons=horizons, provenance=prov)


# ---------------------------------------------------------------- budget

def _weights(cfg: Config) -> int:
    return sum(a * b for a, b in zip(cfg.dims[:-1], cfg.dims[1:]))


def reference_runs(variant: str) -> dict:
    """``{config name: (seconds, epochs, models)}`` of the committed paper study's runs of ``variant``."""
    folder = reproduce.study(profiles.load("paper"), variant)
    folder.verify()
    arrays = cache.load_npz(folder.file("training.npz"))
    return {c: (float(arrays[f"{c}/final/seconds"]), int(arrays[f"{c}/final/epochs"]), len(arrays[f"{c}/final/sparsity"]))
            for c in CONFIG_NAMES if f"{c}/final/seconds" in arrays}


def estimate(spec: Spec | str | Path) -> pd.DataFrame:
    """Estimated training seconds of each distinct run of the sweep (one worker, one torch thread), from the
    committed paper study's recorded runs (``results/paper-<variant>/training.npz``, ``<config>/final/seconds``).

    A run is scaled from the committed run of its row and variant (``dsr+l1`` for a DSR + L1 point) by its
    epochs, members and training pairs (linearly) and its weights per member W (linearly where W grows; by
    √ratio where it shrinks, as small layers are overhead-bound: an upper estimate). Runs the corrected
    variant's SWA twins share are counted once. Columns: ``points``, ``config``, ``variant``, ``models``,
    ``epochs``, ``weights``, ``reference``, ``seconds``.
    """
    spec = load_spec(spec) if isinstance(spec, (str, Path)) else spec
    if not isinstance(spec, Spec):  # a sparse-DNN spec
        return sweep_sparse_dnn.estimate(spec)
    paper = profiles.load("paper")
    pairs = lambda prof: (prof.train_trajectories or prof.n_train) * (prof.n_steps - 1)  # noqa: E731
    refs, runs = {}, {}
    for p in points(spec):
        key = (config_hash(p.config, run=True), p.models)
        if key in runs:
            runs[key]["points"] += f" {p.id}"
            continue
        variant, name = p.config.variant, p.config.name
        refs.setdefault(variant, reference_runs(variant))
        seconds, epochs, models = refs[variant][name]
        ref_w = _weights(make_config(name, variant))
        ratio = _weights(p.config) / ref_w
        scale = (p.config.epochs / epochs) * (p.models / models) * (pairs(p.profile) / pairs(paper))
        runs[key] = {"points": p.id, "config": name, "variant": variant, "models": p.models,
                     "epochs": p.config.epochs, "weights": _weights(p.config), "reference": f"{variant} {name}",
                     "seconds": seconds * scale * (ratio if ratio >= 1 else ratio ** 0.5)}
    return pd.DataFrame(list(runs.values()))


# ---------------------------------------------------------------- command line

def makespan(seconds, workers: int) -> float:
    """Wall seconds of runs taking ``seconds`` on ``workers`` workers, longest first to the least busy worker."""
    busy = [0.0] * workers
    for s in sorted(seconds, reverse=True):
        busy[busy.index(min(busy))] += s
    return max(busy)


def _print_estimate(spec: Spec, workers: int) -> None:
    table = estimate(spec)
    total = table.seconds.sum()
    print(table.round({"seconds": 0}).to_string(index=False))
    print(f"{len(table)} runs, {total:.0f} worker-seconds ({total / 3600:.2f} h); about "
          f"{makespan(table.seconds, workers) / 3600:.2f} h on {workers} workers, longest first")
    if not isinstance(spec, Spec):  # a sparse-DNN spec: its rollouts and metrics after training
        print(f"then about {sweep_sparse_dnn.evaluation_seconds(spec) / 60:.1f} min of evaluation in one process "
              f"({len(sweep_sparse_dnn.points(spec))} points)")


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m alukit sweep", description=__doc__.splitlines()[0])
    parser.add_argument("spec", type=Path, help="the sweep spec, a YAML file (see sweeps/)")
    parser.add_argument("--scheduler", default=None,
                        help="tcp://HOST:PORT of a running Dask scheduler, or 'local' for a Dask LocalCluster "
                             "(default: a process pool on this machine, nothing to start)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes of the pool or the LocalCluster (default 2 on CPU, 1 on CUDA)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default results/sweep-<name>)")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out folder alukit did not write")
    parser.add_argument("--estimate", action="store_true",
                        help="print the estimated training time of each run and stop (trains nothing)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    if args.workers is not None and args.workers < 1:
        parser.error(f"--workers must be a positive integer; got {args.workers}")
    if args.scheduler is not None:
        cluster.check_scheduler(args.scheduler)
    spec = load_spec(args.spec)
    if args.estimate:
        _print_estimate(spec, args.workers or train.default_workers())
        return 0
    out = run(spec, args.out, scheduler=args.scheduler, workers=args.workers, progress=not args.quiet,
              force=args.force)
    if not isinstance(spec, Spec):
        sweep_sparse_dnn.print_summary(spec, out)
        return 0
    res = read(spec, out)
    columns = [c for c in res.summary.columns if c.startswith("diverged_") and not c.endswith(("_low", "_high"))]
    print(f"{study(spec, out).shown()}")
    print(res.summary[[*columns, "zeros", "small"]].round(2).to_string())
    return 0
