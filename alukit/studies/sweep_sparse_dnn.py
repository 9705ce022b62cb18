"""The first paper's findings as a function of sparsity: a sweep of the sparse-DNN setup
(:mod:`alukit.studies.sparse_dnn`) over its ℓ1 factor and a post-training magnitude prune.

A spec names ``study: sparse-dnn`` (``python -m alukit sweep SPEC.yaml`` reads it, :mod:`alukit.studies.sweep`)::

    sweep: sparse-dnn-lambda      # names the folder: results/sweep-sparse-dnn-lambda/
    study: sparse-dnn
    profile: paper                # its sparse_dnn section gives sizes, models, epochs, test trajectories
    sizes: [5, 10, 20, 40]        # optional: a subset of the section's sizes (default all of them)
    models: 10                    # optional: models per kind and size (default the section's; at least 2)
    n_boot: 2000                  # optional: bootstrap resamples per interval
    grid:                         # the points are the product of the axes, the first axis outermost
      l1: [1e-5, 1e-4, 1e-3, 1e-2]   # λ of the sparse kind, in (0, 1)
      l1_input: [...]                # optional: λ_in of its input layer (default λ)
      prune: [0, 1e-3]               # |w| below this set to 0 after training (0: none), in [0, 1)

Every point trains the setup (:func:`alukit.studies.sparse_dnn.config`,
:func:`~alukit.studies.sparse_dnn.training_profile`) through one :func:`alukit.training.train.train_many`
call for the whole grid (cached by content: the dense runs, λ = 0, are shared by all points, and a λ's runs by
its prune values). After training, and without retraining, the sparse kind's weights (not its biases) with
``|w| < prune`` are set to zero on the stacked ``(E, n_in, n_out)`` tensors (:func:`prune_weights`). The
dense kind is the paper's reference and is never pruned. Each point is then measured exactly as the study
(:func:`~alukit.studies.sparse_dnn.evaluate_size`, :func:`~alukit.studies.sparse_dnn.summarise`,
:func:`~alukit.studies.sparse_dnn.compare`): interpretability (F1, AUPRC vs the true dependency table),
divergence and capped error per window, ensemble consistency (pairwise correlation), each with its 95 %
bootstrap interval, the three findings' verdicts; and the sparsity of both kinds (exact zeros, |w| < 10⁻³).

Default prune threshold :data:`PRUNE` = 10⁻³. The setup trains with Adam at lr = 10⁻³, whose update has a
magnitude of about lr whatever the gradient's size: a weight the ℓ1 term drives to zero does not reach 0 but
oscillates around it within about ±lr, so |w| < 10⁻³ is "zero up to the optimiser's resolution". It is
~0.3 % of the He-normal initial weight scale (σ = √(2/20) ≈ 0.32 for the hidden layers, √(2/13) ≈ 0.39 for
the input layer), and equals the `small` threshold the sweeps already report
(:data:`alukit.evaluation.zeros.SMALL`), so a pruned point's exact zeros are its unpruned twin's `small`.

"From which λ on does a finding hold" (:func:`onset`): per prune value, the smallest λ of the grid from which
the finding's verdict (the study's rule, applied per point) is "holds" at that λ and every larger one; none if
it does not hold at the largest λ.
"""
from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from alukit import cache, profiles, provenance
from alukit.codeversion import code_version
from alukit.evaluation.zeros import SMALL, small_fraction, zero_fraction
from alukit.profiles import Profile
from alukit.studies import sparse_dnn
from alukit.studies import sweepspec as spec_file
from alukit.studies.study import Expected, Study
from alukit.studies.sweepspec import SweepError
from alukit.training import nets, train
from alukit.training.config import config_hash
from alukit.training.runs import TrainResult

__all__ = ["STUDY", "FORMAT", "PRUNE", "SMALL", "AXES", "FILES", "SparseSpec", "SparsePoint", "Results",
           "load_spec", "points", "prune_weights", "pruned", "study",
           "evaluation_version", "expected", "stale_reason", "measure", "run", "read", "onset", "onsets", "estimate",
           "evaluation_seconds", "print_summary"]

STUDY = "sparse-dnn"
FORMAT = 1  # version of the folder layout; read() refuses other formats
PRUNE = 1e-3  # the default post-training prune threshold (see the module docstring)
AXES = ("l1", "l1_input", "prune")
_KEYS = ("sweep", "study", "profile", "sizes", "models", "n_boot", "grid", "description")
_MAX_POINTS = 200
FILES = {
    "summary.csv": "Long format, one row per point, size, kind and metric (`point`, `l1`, `l1_input`, `prune`, "
                   "`size` trajectories, `kind` dense|sparse, `metric`, `window` samples or empty, `estimate`, "
                   "`low`, `high`: 95 % bootstrap interval): the study's structure scores (`f1`, `auprc`, ...), "
                   "consistency (`correlation`, `jaccard`), rollout statistics (`divergence` %, `capped_mean`, "
                   "`survivor_mean`) per window, and sparsity `zeros` % (exact zeros) and `small` % (|w| < 1e-3) "
                   "of the weights after the prune (models resampled).",
    "comparisons.csv": "Sparse − dense per point and comparison of the study's plan (`finding`, `size`, `metric`, "
                       "`window`, `better`, `difference`, `low`, `high`, `verdict`).",
    "verdicts.csv": "Each finding's verdict per point (`point`, `l1`, `l1_input`, `prune`, `finding`, `comparisons`, "
                    "`holding`, `contradicted`, `verdict`) by the study's rule.",
    "onset.csv": "Per finding and (prune, λ_in) group: `from_l1`, the smallest λ from which the finding holds at "
                 "every larger λ of the grid (empty: never), the sparse models' mean exact zeros % there "
                 "(`zeros_at`, over sizes), and `holds_at`, every λ where it holds.",
    "errors.npz": "Per-rollout, per-state normalised errors (float32, (W, E, n_test, 8): windows x models x test "
                  "trajectories x states): `dense/<size>` once, `<point>/sparse/<size>` per point; `windows` (W, 2).",
    "provenance.json": "How the folder was made: the spec, each point's set-up and run keys, the profile, git commit, "
                       "date, machine, workers, seconds per stage, code versions, `format`; a manifest of the files.",
}


class SparseSpec(NamedTuple):
    """A validated sparse-DNN sweep spec: ``setup`` the base :class:`~alukit.studies.sparse_dnn.Setup`
    (sizes and models applied), ``axes`` ``((axis, values), ...)`` in file order, ``n_boot``."""

    name: str
    profile: Profile
    setup: sparse_dnn.Setup
    n_boot: int
    axes: tuple
    raw: dict
    path: str = ""


class SparsePoint(NamedTuple):
    """One grid point: ``id`` (``p000``, ...), ``values`` ``{axis: value}``, its ``setup`` (λ, λ_in) and ``prune``."""

    id: str
    values: dict
    setup: sparse_dnn.Setup
    prune: float


def _error(path, text: str) -> SweepError:
    return SweepError(f"{path}: {text}")


def _check_prune(v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not 0 <= v < 1:
        raise ValueError(f"prune must be a number in [0, 1) (|w| below it set to 0 after training; 0: none); "
                         f"got {v!r}")
    return float(v)


def load_spec(path: str | Path, raw: dict | None = None) -> SparseSpec:
    """The validated spec of a ``study: sparse-dnn`` YAML file (``raw``: its content, if already read); every
    point's set-up is built. :class:`~alukit.studies.sweep.SweepError` (one line naming the key) otherwise."""
    path = Path(path)
    raw = spec_file.read(path) if raw is None else raw
    unknown = sorted(map(str, set(raw) - set(_KEYS)))
    if unknown:
        raise _error(path, f"unknown key(s) {spec_file.short(unknown)} for study: {STUDY}; allowed: {', '.join(_KEYS)}")
    for key in ("sweep", "profile", "grid"):
        if key not in raw:
            raise _error(path, f"missing key {key!r}")
    name = raw["sweep"]
    spec_file.scalar(path, "sweep", name, isinstance(name, str) and 0 < len(name) <= 40
                  and all(c.isalnum() or c in "-_" for c in name), "a name of 1-40 letters, digits, '-' or '_'")
    prof = spec_file.profile(path, raw["profile"])
    try:
        base = sparse_dnn.setup(prof, raw.get("sizes"))
    except ValueError as exc:
        raise _error(path, f"sizes: {exc}") from None
    models = raw.get("models", base.models)
    spec_file.scalar(path, "models", models, isinstance(models, int) and not isinstance(models, bool)
                  and 2 <= models <= 1000, "an integer in [2, 1000] (consistency needs pairs of models)")
    n_boot = raw.get("n_boot", sparse_dnn.N_BOOT)
    spec_file.scalar(path, "n_boot", n_boot, isinstance(n_boot, int) and not isinstance(n_boot, bool)
                  and 100 <= n_boot <= 100_000, "an integer in [100, 100000]")
    spec_file.scalar(path, "description", raw.get("description", ""), isinstance(raw.get("description", ""), str),
                  "text")
    grid = raw["grid"]
    if not isinstance(grid, dict) or not grid:
        raise _error(path, f"grid must be a non-empty mapping of axes to lists of values; axes: {', '.join(AXES)}")
    axes = []
    for axis, values in grid.items():
        if axis not in AXES:
            raise _error(path, f"grid has an unknown field {spec_file.short(axis)} for study: {STUDY}; "
                               f"allowed: {', '.join(AXES)}")
        if not isinstance(values, list) or not values:
            raise _error(path, f"grid.{axis} must be a non-empty list of values; got {spec_file.short(values)}")
        values = tuple(spec_file.number(v) for v in values)
        for v in values:
            try:
                sparse_dnn._check_lambda(axis, v) if axis != "prune" else _check_prune(v)
            except ValueError as exc:
                raise _error(path, f"grid.{axis} value {spec_file.short(v)}: {exc}") from None
        if len(set(values)) != len(values):
            raise _error(path, f"grid.{axis} must list distinct values; got {spec_file.short(list(values))}")
        axes.append((axis, values))
    if "l1" not in dict(axes):
        raise _error(path, "grid must have an l1 axis (the sparse kind's λ, in (0, 1))")
    n_points = math.prod(len(v) for _, v in axes)
    if n_points > _MAX_POINTS:
        raise _error(path, f"grid has {n_points} points; at most {_MAX_POINTS}")
    out = SparseSpec(name=name, profile=prof, setup=dataclasses.replace(base, models=models), n_boot=n_boot,
                     axes=tuple(axes), raw=raw, path=str(path))
    points(out)
    return out


def points(spec: SparseSpec) -> list[SparsePoint]:
    """Every point of the grid, the first axis outermost: its set-up (λ, λ_in; λ_in defaults to λ) and prune."""
    names = [a for a, _ in spec.axes]
    out = []
    for i, combo in enumerate(itertools.product(*(v for _, v in spec.axes))):
        values = dict(zip(names, combo))
        s = dataclasses.replace(spec.setup, l1=values["l1"], l1_input=values.get("l1_input", values["l1"]))
        out.append(SparsePoint(f"p{i:03d}", values, s, values.get("prune", 0.0)))
    return out


# ---------------------------------------------------------------- pruning and sparsity

def prune_weights(weights, threshold: float) -> list[torch.Tensor]:
    """Magnitude prune, after training: each layer ``(E, n_in, n_out)`` with entries ``|w| < threshold`` set to
    exactly 0 (new tensors; the others unchanged, bit for bit). ``threshold`` 0 changes nothing."""
    threshold = _check_prune(threshold)
    return [torch.where(w.abs() < threshold, torch.zeros((), dtype=w.dtype), w) for w in weights]


def pruned(run: TrainResult, threshold: float) -> TrainResult:
    """``run`` with its ensemble's weights pruned (:func:`prune_weights`; biases kept) and its ``sparsity`` and
    ``layer_sparsity`` recomputed; ``run`` itself is unchanged. Threshold 0 returns ``run``."""
    if _check_prune(threshold) == 0:
        return run
    old = run.ensemble
    ens = nets.Ensemble(old.dims, old.n_models, old.has_bias)
    with torch.no_grad():
        for layer, w, src in zip(ens.layers, prune_weights(old.weights(), threshold), old.layers):
            layer.weight.copy_(w)
            if old.has_bias:
                layer.bias.copy_(src.bias.detach())
    ens.eval()
    weights = ens.weights()
    layer_zeros = torch.stack([(w == 0).reshape(w.shape[0], -1).double().mean(1) for w in weights], 1).numpy()
    return dataclasses.replace(run, ensemble=ens, sparsity=zero_fraction(weights), layer_sparsity=layer_zeros)


# ---------------------------------------------------------------- the folder

def study(spec: SparseSpec, out_dir: Path | None = None) -> Study:
    """The sweep's results folder: ``results/sweep-<name>/`` (or ``out_dir``)."""
    return Study(f"sweep-{spec.name}", out_dir, refresh=f"python -m alukit sweep {spec.path}")


def _jobs(spec: SparseSpec) -> dict:
    """``{(kind, l1, l1_input, size): (config, profile, models)}`` of every distinct run (dense: λ = 0, once)."""
    jobs = {}
    for p in points(spec):
        s = p.setup
        for n in s.sizes:
            for kind in sparse_dnn.KINDS:
                key = ("dense", 0.0, 0.0, n) if kind == "dense" else ("sparse", s.l1, s.l1_input, n)
                jobs.setdefault(key, (sparse_dnn.config(kind, s), sparse_dnn.training_profile(s, n), s.models))
    return jobs


def _hash(spec: SparseSpec) -> str:
    parts = {"setup": asdict(spec.setup), "n_boot": spec.n_boot,
             "points": [[p.id, p.values, config_hash(sparse_dnn.config("sparse", p.setup)), p.prune]
                        for p in points(spec)]}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def evaluation_version() -> str:
    """Hash of the study's evaluation (:func:`alukit.studies.sparse_dnn.evaluation_version`) and of this
    module's prune, sparsity and onset code and constants."""
    code = code_version(prune_weights, pruned, zero_fraction, small_fraction, _sparsity_rows, measure, onset, onsets)
    text = f"{sparse_dnn.evaluation_version()}/{code}/{SMALL!r}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def expected(spec: SparseSpec) -> list[Expected]:
    """What a current folder of the sweep records (:meth:`Study.stale_reason`)."""
    return [
        Expected("format", FORMAT, f"written in another results format (this code reads format {FORMAT})"),
        Expected("evaluation_version", evaluation_version(), "the sparse-DNN evaluation or the sweep's prune and "
                 "sparsity code changed since they were written", version=True),
        Expected("training_version", train.CODE_VERSION, "the training code changed since they were written",
                 version=True),
        Expected("configuration_hash", _hash(spec), "the spec, the profile or a set-up changed since they were "
                 "written"),
    ]


def stale_reason(spec: SparseSpec, out_dir: Path | None = None) -> str | None:
    """Why the sweep's folder does not match the current code and spec; None if it does."""
    return study(spec, out_dir).stale_reason(expected(spec))


def _point_columns(p: SparsePoint) -> dict:
    return {"point": p.id, "l1": p.setup.l1, "l1_input": p.setup.l1_input, "prune": p.prune}


def _sparsity_rows(p: SparsePoint, runs: dict, n_boot: int) -> list[tuple]:
    """``(size, kind, metric, "", estimate, low, high)`` of ``zeros`` and ``small`` % (models resampled)."""
    rows = []
    for n in p.setup.sizes:
        for k, kind in enumerate(sparse_dnn.KINDS):
            weights = runs[(kind, n)].ensemble.weights()
            for metric, frac in (("zeros", zero_fraction(weights)), ("small", small_fraction(weights))):
                # one seed for both: a pruned point's zeros and its twin's small get the same interval
                est = sparse_dnn.boot(sparse_dnn.mean_stat, 100 * frac, n_boot, 1000 * n + 100 * k + 90)
                rows.append((n, kind, metric, "", *est))
    return rows


def measure(p: SparsePoint, runs: dict, test: np.ndarray, n_boot: int) -> dict:
    """One point measured as the study: ``runs`` ``{(kind, size): TrainResult}`` (the sparse kind pruned here by
    ``p.prune``), ``test`` ``(n, T, 13)`` trajectories. Returns ``evals`` (per size, :func:`evaluate_size`),
    ``summary`` (the study's long table plus sparsity rows), ``comparisons`` and ``verdicts``."""
    runs = {(k, n): (pruned(r, p.prune) if k == "sparse" else r) for (k, n), r in runs.items()}
    evals = {n: sparse_dnn.evaluate_size(runs, n, p.setup, test) for n in p.setup.sizes}
    scores, summary, pairs = sparse_dnn.summarise(evals, p.setup, n_boot)
    comparisons, verdicts = sparse_dnn.compare(evals, scores, pairs, p.setup, n_boot)
    extra = pd.DataFrame(_sparsity_rows(p, runs, n_boot), columns=summary.columns)
    return {"evals": evals, "summary": pd.concat([summary, extra], ignore_index=True), "comparisons": comparisons,
            "verdicts": verdicts}


def _with_point(p: SparsePoint, frame: pd.DataFrame) -> pd.DataFrame:
    head = pd.DataFrame([_point_columns(p)] * len(frame), index=frame.index)
    return pd.concat([head, frame], axis=1)


def onset(verdicts: pd.DataFrame, finding: str) -> pd.DataFrame:
    """From which λ on does ``finding`` hold, if at all: per (``prune``, ``l1_input`` relative to λ) group of
    ``verdicts`` (columns ``l1``, ``prune``, ``finding``, ``verdict``; ``l1_input`` and ``zeros`` optional),
    ``from_l1`` = the smallest λ of the group such that the verdict is "holds" at it and at every larger λ
    (NaN if it does not hold at the largest), ``zeros_at`` the row's ``zeros`` there (NaN if absent),
    ``holds_at`` every λ where it holds ("; "-separated), ``points`` the group's λ count."""
    rows = verdicts[verdicts.finding == finding].copy()
    if rows.empty:
        raise ValueError(f"no verdicts for finding {finding!r}")
    rows["input_ratio"] = (rows["l1_input"] / rows["l1"]).round(12) if "l1_input" in rows else 1.0
    out = []
    for (prune, ratio), g in rows.groupby(["prune", "input_ratio"], sort=True):
        g = g.sort_values("l1")
        holds = (g.verdict == "holds").to_numpy()
        tail = np.flip(np.logical_and.accumulate(np.flip(holds)))  # holds here and at every larger λ
        first = int(np.argmax(tail)) if tail.any() else None
        out.append({"finding": finding, "prune": float(prune), "l1_input_ratio": float(ratio),
                    "from_l1": float(g.l1.iloc[first]) if first is not None else math.nan,
                    "zeros_at": float(g.zeros.iloc[first]) if first is not None and "zeros" in g else math.nan,
                    "holds_at": "; ".join(f"{v:g}" for v in g.l1[holds]), "points": len(g)})
    return pd.DataFrame(out)


def onsets(verdicts: pd.DataFrame) -> pd.DataFrame:
    """:func:`onset` of every finding of :data:`alukit.studies.sparse_dnn.FINDINGS`, one table."""
    return pd.concat([onset(verdicts, f.key) for f in sparse_dnn.FINDINGS], ignore_index=True)


def _mean_zeros(summary: pd.DataFrame) -> float:
    rows = summary[(summary.kind == "sparse") & (summary.metric == "zeros")]
    return float(rows.estimate.mean())


def _readme(spec: SparseSpec) -> str:
    return spec_file.readme(spec.name, spec.path, "alukit/studies/sweep_sparse_dnn.py", FILES, FORMAT)


def run(spec: SparseSpec, out_dir: Path | None = None, *, scheduler: str | None = None, workers: int | None = None,
        progress: bool = True, force: bool = False) -> Path:
    """Train (one :func:`~alukit.training.train.train_many` call, cached), prune, measure every point and write
    the folder (:func:`study`); returns its path. ``scheduler``/``workers`` as :func:`alukit.studies.sweep.run`."""
    pts = points(spec)
    folder = study(spec, out_dir)
    folder.check_target(force)
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    start = time.perf_counter()
    sets = sparse_dnn.datasets(spec.setup)
    seconds = {"data": time.perf_counter() - start}
    t = time.perf_counter()
    jobs = _jobs(spec)
    trained = dict(zip(jobs, train.train_many(list(jobs.values()), workers=workers, progress=progress,
                                              scheduler=scheduler, runs_bar=True)))
    seconds["training"] = time.perf_counter() - t
    t = time.perf_counter()
    summaries, comparisons, verdicts, errors = [], [], [], {}
    for p in pts:
        s = p.setup
        runs = {(k, n): trained[("dense", 0.0, 0.0, n) if k == "dense" else ("sparse", s.l1, s.l1_input, n)]
                for n in s.sizes for k in sparse_dnn.KINDS}
        m = measure(p, runs, sets.test, spec.n_boot)
        summaries.append(_with_point(p, m["summary"]))
        comparisons.append(_with_point(p, m["comparisons"]))
        v = m["verdicts"].drop(columns=["claim", "tested as"]).assign(zeros=_mean_zeros(m["summary"]))
        verdicts.append(_with_point(p, v))
        for n in s.sizes:
            errors.setdefault(f"dense/{n}", m["evals"][n]["dense"]["errors"].astype(np.float32))
            errors[f"{p.id}/sparse/{n}"] = m["evals"][n]["sparse"]["errors"].astype(np.float32)
        say(f"{p.id} {p.values}: " + ", ".join(f"{r.finding} {r.verdict}" for r in m["verdicts"].itertuples())
            + f"; sparse zeros {_mean_zeros(m['summary']):.1f} %")
    seconds["evaluation"] = time.perf_counter() - t
    summary, comparison, verdict = (pd.concat(x, ignore_index=True) for x in (summaries, comparisons, verdicts))
    onset_table = onsets(verdict)
    seconds["wall"] = time.perf_counter() - start
    csv = lambda frame: (lambda path: cache.write_text(path, frame.to_csv(index=False)))  # noqa: E731
    files = {"summary.csv": csv(summary), "comparisons.csv": csv(comparison), "verdicts.csv": csv(verdict),
             "onset.csv": csv(onset_table),
             "errors.npz": lambda path: cache.save_npz(path, windows=np.array(sparse_dnn.WINDOWS), **errors),
             "README.md": lambda path: cache.write_text(path, _readme(spec))}
    by_key = {key: r for key, r in trained.items()}
    prov = {
        "sweep": spec.name, "study": STUDY, "spec": spec.raw, "spec_file": spec.path, "profile": spec.profile.name,
        "setup": asdict(spec.setup), "prune_default": PRUNE, "small": SMALL,
        "points": [{"point": p.id, "values": p.values, "setup": asdict(p.setup), "prune": p.prune} for p in pts],
        "runs": [{"kind": k[0], "l1": k[1], "l1_input": k[2], "size": k[3], "run_key": r.key,
                  "config_hash": config_hash(r.config), "train_seconds": round(r.seconds, 2), "cached": bool(r.cached)}
                 for k, r in by_key.items()],
        "git_commit": provenance.git_commit(), "date": provenance.now(), "machine": provenance.machine(),
        "torch": torch.__version__, "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "scheduler": scheduler or "pool", "workers": workers or train.default_workers(),
        "training_run_seconds": round(sum(r.seconds for r in by_key.values()), 1), "distinct_runs": len(by_key),
        "configuration_hash": _hash(spec), "evaluation_version": evaluation_version(),
        "training_version": train.CODE_VERSION, "n_boot": spec.n_boot, "threshold": sparse_dnn.interpret.THRESHOLD,
        "format": FORMAT,
    }
    folder.write(files, prov, force=force)
    say(f"results written to {folder.shown()} ({seconds['wall']:.0f} s)")
    return folder.path


class Results(NamedTuple):
    """A sparse-DNN sweep's folder, read (see :data:`FILES`); ``errors`` ``{name: (W, E, n, 8)}``."""

    summary: pd.DataFrame
    comparisons: pd.DataFrame
    verdicts: pd.DataFrame
    onset: pd.DataFrame
    errors: dict
    provenance: dict


def read(spec: SparseSpec | None = None, out_dir: Path | None = None) -> Results:
    """Read a sparse-DNN sweep's folder (the spec's default, or ``out_dir``), checked against its manifest."""
    if spec is None and out_dir is None:
        raise ValueError("read() needs a spec or a folder")
    folder = study(spec, out_dir) if spec is not None else Study(Path(out_dir).name, out_dir)
    prov = folder.verify()
    if prov.get("format") != FORMAT or prov.get("study") != STUDY:
        raise ValueError(f"{folder.shown()} is not a sparse-DNN sweep folder of format {FORMAT}")
    csv = lambda name: pd.read_csv(folder.file(name), keep_default_na=False, na_values=[""])  # noqa: E731
    summary = csv("summary.csv")
    summary["window"] = summary["window"].fillna("")
    comparisons = csv("comparisons.csv")
    comparisons["window"] = comparisons["window"].fillna("")
    return Results(summary=summary, comparisons=comparisons, verdicts=csv("verdicts.csv"), onset=csv("onset.csv"),
                   errors=cache.load_npz(folder.file("errors.npz")), provenance=prov)


# ---------------------------------------------------------------- budget

REFERENCE = "paper-sparse-dnn"  # the committed run whose recorded seconds the estimate scales


def _reference() -> tuple[dict, dict]:
    """``(setup, {"<kind>/<size>": seconds})`` recorded by the committed paper-profile study."""
    folder = sparse_dnn.study(profiles.load("paper"))
    prov = folder.verify()
    return prov["setup"], prov["training_seconds_per_run"]


def estimate(spec: SparseSpec) -> pd.DataFrame:
    """Estimated training seconds of each distinct run of the sweep, one row per run (columns ``points``,
    ``config``, ``variant``, ``models``, ``epochs``, ``weights``, ``reference``, ``seconds``), as
    :func:`alukit.studies.sweep.estimate`'s.

    A run of kind k at size n takes the seconds the committed paper study recorded for ``k/n``
    (``results/paper-sparse-dnn/provenance.json``, ``training_seconds_per_run``: 10 models, 100 epochs, run
    on 2 worker processes on this 2-core machine), scaled linearly by epochs and models. λ does not change
    the cost (same network; the ℓ1 term is one extra reduction per step) and neither does the prune (after
    training, no retraining). The dense runs (λ = 0) are one per size for the whole grid; a λ's runs serve
    all its prune values. Runs already cached are not subtracted.
    """
    ref_setup, ref_seconds = _reference()
    s = spec.setup
    scale = (s.epochs / ref_setup["epochs"]) * (s.models / ref_setup["models"])
    rows = {}
    ids = {}
    for p in points(spec):
        for n in s.sizes:
            for kind in sparse_dnn.KINDS:
                key = ("dense", 0.0, 0.0, n) if kind == "dense" else ("sparse", p.setup.l1, p.setup.l1_input, n)
                ids.setdefault(key, []).append(p.id)
                if key in rows:
                    continue
                cfg = sparse_dnn.config(kind, p.setup)
                rows[key] = {"config": f"{kind} l1={key[1]:g} l1_input={key[2]:g} size={n}", "variant": cfg.variant,
                             "models": s.models, "epochs": s.epochs,
                             "weights": sum(a * b for a, b in zip(cfg.dims[:-1], cfg.dims[1:])),
                             "reference": f"{REFERENCE} {kind}/{n}",
                             "seconds": float(ref_seconds[f"{kind}/{n}"]) * scale}
    return pd.DataFrame([{"points": " ".join(ids[k]), **r} for k, r in rows.items()])


def evaluation_seconds(spec: SparseSpec) -> float:
    """Estimated seconds (one process) of measuring every point after training: the committed paper study's
    recorded ``rollouts`` + ``metrics`` seconds (one point: 2 × 10 models, 100 test trajectories, 4 sizes), scaled
    linearly by models, test trajectories and sizes, times the points."""
    prov = sparse_dnn.study(profiles.load("paper")).verify()
    ref, s = prov["setup"], spec.setup
    one = prov["seconds"]["rollouts"] + prov["seconds"]["metrics"]
    scale = (s.models / ref["models"]) * (s.n_test / ref["n_test"]) * (len(s.sizes) / len(ref["sizes"]))
    return one * scale * len(points(spec))


def print_summary(spec: SparseSpec, out: Path) -> None:
    """The verdicts per point and the onset table, as the command prints them."""
    res = read(spec, out)
    table = res.verdicts.pivot_table(index=["l1", "prune"], columns="finding", values="verdict", aggfunc="first")
    print(study(spec, out).shown())
    print(table.to_string())
    print(res.onset[["finding", "prune", "from_l1", "zeros_at", "holds_at"]].to_string(index=False))
