"""The first paper's three findings as measurements: ``python -m alukit sparse-dnn --profile quick|paper [--json]``.

Lundby et al. (2023) report that ℓ1-sparse networks of the cell are (1) more
interpretable, (2) better with little data and (3) consistent across an ensemble. Only
the paper's summary is available, so the experiment re-creates the group's published
setup for this network family and measures each finding so that it could come out
either way:

* networks 13 → 20 → 20 → 20 → 20 → 8 (ReLU, He-normal weights), Adam (lr 10⁻³,
  constant), batch 128, MSE on z-scored finite-difference derivatives, ``epochs``
  epochs; *dense*: λ = 0; *sparse*: ℓ1 on the weights, λ on the hidden and output
  layers and λ_in on the input layer (default both :data:`L1` = 10⁻⁴). Trained on
  the existing batched-ensemble engine (:func:`alukit.training.engine.fit`), ``models`` members
  per kind and training-set size (through :func:`alukit.training.train.train`), all kinds
  and sizes from the same member seeds.
  Deviation: the engine initialises biases like ``nn.Linear`` (uniform ±1/√fan_in),
  not at zero as the group's setup does;
* training sets: the first 5, 10, 20 or 40 trajectories of one training pool (nested);
  a separate test set; rollouts with :func:`alukit.evaluation.stepper.rollout` under each
  training set's normalisation; per-state normalised errors over the windows
  [0, 100), [100, 2500), [2500, 5000) samples (:func:`window_errors`), a window
  diverged when its worst state's error exceeds 3 (:mod:`alukit.evaluation.metrics`);
* structure: path-product and mean-|Jacobian| influence (:mod:`alukit.evaluation.interpret`),
  scored against :data:`alukit.process.cell.DEPENDENCIES`.

Verdicts (:data:`FINDINGS`): a comparison *holds* when the 95 % bootstrap interval of
sparse − dense lies wholly on the claimed side of 0, *does not hold* when it lies wholly
on the other, and is *inconclusive* otherwise; a finding holds if all its comparisons
hold, does not hold if any does not, and is inconclusive otherwise. Intervals
resample models (scores, consistency; pairs of one model with itself are left out) or
models and test trajectories (rollouts, :func:`alukit.evaluation.metrics.bootstrap`).

Stages: data (cached by :mod:`alukit.process.data`), training (each kind × size one run of
:func:`alukit.training.train.train_many`, cached under ``<cache>/train/`` like every
training run; uncached runs on 2 worker processes on a CPU), rollouts and metrics. Output ``results/<profile>-sparse-dnn/``:
``scores.csv`` (per model), ``summary.csv`` (estimates with intervals),
``comparisons.csv``, ``verdicts.csv``, ``summary.json`` (what ``--json`` prints),
``influence.npz``, ``errors.npz`` and ``provenance.json`` (with seconds per stage).
The book only reads them (:func:`load`).
"""
from __future__ import annotations

import hashlib
import html
import json
import math
import resource
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from alukit import cache, profiles, provenance
from alukit.codeversion import code_version
from alukit.commandline import Parser
from alukit.profiles import Profile
from alukit.studies.study import Expected, Study
from alukit.process import cell, data
from alukit.evaluation import interpret, metrics, stepper
from alukit.training import train
from alukit.training.config import make_config
from alukit.training.runs import TrainResult

__all__ = ["KINDS", "WINDOWS", "HIDDEN", "LR", "BATCH_SIZE", "JACOBIAN_STRIDE", "RELEASED_MODEL_CORRELATION",
           "window_label", "Setup", "setup", "refresh_command", "study", "evaluation_version", "run", "Results",
           "load", "stale_reason", "is_current", "readme_lines", "lookup", "interval_text", "table", "banner", "main"]

KINDS = ("dense", "sparse")
SIZES = (5, 10, 20, 40)
WINDOWS = ((0, 100), (100, 2500), (2500, 5000))
HIDDEN = (20, 20, 20, 20)
L1 = 1e-4
LR = 1e-3
BATCH_SIZE = 128
SEED_GROUP = "sparse-dnn"
JACOBIAN_STRIDE = 100  # every 100th sample of every test trajectory enters the mean |Jacobian|
N_BOOT = 2000
# The group's measurement on the released models of a related paper: mean pairwise
# correlation of the path-product matrices (low, high). A point of comparison, not a target.
RELEASED_MODEL_CORRELATION = {"sparse": (0.89, 0.94), "dense": (0.81, 0.85)}


def window_label(window) -> str:
    """``(0, 100)`` → ``"0-100"`` (samples ``[0, 100)``)."""
    return f"{window[0]}-{window[1]}"


# ---------------------------------------------------------------- set-up

@dataclass(frozen=True)
class Setup:
    """Everything that determines the experiment's results."""

    profile: str
    seed: int
    n_steps: int
    dt: float
    sizes: tuple[int, ...]
    models: int
    epochs: int
    n_test: int
    l1: float
    l1_input: float


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _check_lambda(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 < value < 1:
        raise ValueError(f"{name} must be a number in (0, 1) (the sparse kind's ℓ1 factor); got {value!r}")
    return float(value)


def setup(profile: Profile | str = "quick", sizes=None, l1: float = L1, l1_input: float | None = None) -> Setup:
    """The experiment's set-up from the profile's ``sparse_dnn`` section (:class:`alukit.profiles.SparseDNN`).

    ``sizes`` (default the section's): a subset of :data:`SIZES`; ``l1``, ``l1_input`` (default ``l1``): the
    sparse kind's ℓ1 factors, in (0, 1). Raises ``ValueError`` naming the bad value before any work starts.
    """
    prof = profiles.load(profile)
    section = prof.sparse_dnn
    sizes = section.sizes if sizes is None else sizes
    try:
        sizes = tuple(sizes)
    except TypeError:
        sizes = (sizes,)
    if not sizes or any(not _is_int(s) or s not in SIZES for s in sizes) or len(set(sizes)) != len(sizes):
        raise ValueError(f"sizes must be distinct training-set sizes from {', '.join(map(str, SIZES))} "
                         f"(trajectories); got {list(sizes)!r}")
    if prof.n_steps < WINDOWS[-1][1]:
        raise ValueError(f"profile {prof.name!r}: n_steps must be >= {WINDOWS[-1][1]} for the windows; "
                         f"got {prof.n_steps}")
    l1 = _check_lambda("l1", l1)
    l1_input = l1 if l1_input is None else _check_lambda("l1_input", l1_input)
    return Setup(profile=prof.name, seed=prof.seed, n_steps=prof.n_steps, dt=prof.dt,
                 sizes=tuple(sorted(int(s) for s in sizes)), models=section.models, epochs=section.epochs,
                 n_test=section.test_trajectories, l1=l1, l1_input=l1_input)


def config(kind: str, s: Setup):
    """The :class:`alukit.training.config.Config` of a kind: dense (λ = 0) or sparse (λ, λ_in), constant lr."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    sparse = kind == "sparse"
    return make_config("l1" if sparse else "dense", "faithful", hidden=HIDDEN, l1=s.l1 if sparse else 0.0,
                       l1_input=s.l1_input if sparse else None, batch_size=BATCH_SIZE, epochs=s.epochs, lr=LR,
                       lr_gamma=1.0, seed_group=SEED_GROUP)


def datasets(s: Setup) -> data.Datasets:
    """Training pool (the largest size), one unused validation trajectory, and the test set (cached)."""
    return data.datasets(max(s.sizes), 1, s.n_test, s.n_steps, s.seed, s.dt)


# ---------------------------------------------------------------- training

def training_profile(s: Setup, size: int) -> profiles.Profile:
    """The profile a kind × size trains on: the first ``size`` trajectories of the training pool of
    :func:`datasets` (``max(s.sizes)`` trajectories), normalised with their own statistics, members
    seeded from ``s.seed`` (:func:`alukit.training.train.training_data`)."""
    return Profile(name=s.profile, seed=s.seed, n_train=max(s.sizes), n_val=1, n_test=s.n_test,
                            n_steps=s.n_steps, dt=s.dt, models=s.models, train_trajectories=size)


def train_runs(s: Setup, workers: int | None = None, progress: bool = True) -> dict[tuple[str, int], TrainResult]:
    """Every kind × size → its :class:`~alukit.training.runs.TrainResult` (``s.models`` members).

    One :func:`alukit.training.train.train_many` call: cached runs are loaded, the others train on
    ``workers`` processes (default :func:`alukit.training.train.default_workers`), largest sets first.
    """
    jobs = training_jobs(s)
    return dict(zip(jobs, train.train_many(jobs.values(), workers=workers, progress=progress)))


def training_jobs(s: Setup) -> dict[tuple[str, int], tuple]:
    """``{(kind, size): (Config, Profile, models)}``: the experiment's runs as :func:`alukit.training.train.train_many` jobs."""
    return {(k, n): (config(k, s), training_profile(s, n), s.models) for n in s.sizes for k in KINDS}


# ---------------------------------------------------------------- evaluation

def window_errors(pred, true, sigma, windows=WINDOWS) -> np.ndarray:
    """Per-state normalised error over each window, ``(W, E, n, 8)`` float64 (NaN/inf → 10).

    ``pred`` ``(E, n, T, 8)`` rollouts; ``true`` ``(n, ≥ T, ≥ 8)``; ``sigma`` ``(8,)``. Window
    ``(a, b)``: e_s = mean_{a ≤ t < b} |x̂_{t,s} − x_{t,s}| / σ_s (:mod:`alukit.evaluation.metrics`).
    """
    pred, true = np.asarray(pred), np.asarray(true)
    if pred.ndim != 4 or pred.shape[-1] != cell.N_STATES:
        raise ValueError(f"pred must have shape (E, n, T, 8); got {pred.shape}")
    E, n, T, S = pred.shape
    if true.ndim != 3 or true.shape[0] != n or true.shape[1] < T or true.shape[2] < S:
        raise ValueError(f"true must have shape ({n}, >= {T}, >= 8); got {true.shape}")
    if any(not (_is_int(a) and _is_int(b) and 0 <= a < b <= T) for a, b in windows):
        raise ValueError(f"windows must be (start, end) with 0 <= start < end <= {T}; got {list(windows)!r}")
    out = np.empty((len(windows), E, n, S))
    with np.errstate(invalid="ignore", over="ignore"):
        for w, (a, b) in enumerate(windows):
            err = np.abs(pred[:, :, a:b] - true[None, :, a:b, :S]) / np.asarray(sigma)
            out[w] = err.mean(2, dtype=np.float64)
    return np.where(np.isfinite(out), out, metrics.NAN_VALUE)


def _stacked(runs: list[TrainResult]) -> stepper.StackedMLP:
    layers = [r.ensemble.layers for r in runs]
    return stepper.StackedMLP([torch.cat([lay[i].weight for lay in layers]) for i in range(len(HIDDEN) + 1)],
                              [torch.cat([lay[i].bias for lay in layers]) for i in range(len(HIDDEN) + 1)])


def evaluate_size(runs: dict, size: int, s: Setup, test: np.ndarray) -> dict:
    """Rollouts and influences of both kinds at one size (one batched rollout of 2E models).

    Returns per kind: ``errors`` ``(W, E, n, 8)``, ``path`` and ``jacobian`` ``(E, 8, 13)``.
    """
    pair = [runs[(k, size)] for k in KINDS]
    mlp = _stacked(pair)
    x_norm, y_norm = pair[0].x_norm, pair[0].y_norm
    pred = stepper.rollout(mlp, test, x_norm, y_norm, s.dt)
    errors = window_errors(pred, test, x_norm.std[: cell.N_STATES])
    feats = x_norm.transform(test[:, ::JACOBIAN_STRIDE].reshape(-1, test.shape[-1]))
    path, jac = interpret.influence(mlp), interpret.jacobian_influence(mlp, feats)
    E = s.models
    return {k: {"errors": errors[:, i * E:(i + 1) * E], "path": path[i * E:(i + 1) * E],
                "jacobian": jac[i * E:(i + 1) * E]} for i, k in enumerate(KINDS)}


def model_scores(path: np.ndarray, jacobian: np.ndarray) -> dict[str, np.ndarray]:
    """Per-model structure scores ``(E,)`` from path-product and Jacobian influences ``(E, 8, 13)``.

    ``precision``, ``recall``, ``f1``, ``auprc`` (path product, threshold :data:`interpret.THRESHOLD`);
    ``f1_jacobian``, ``auprc_jacobian``; ``f1_without_x5`` and ``f1_without_u1_u3`` (those
    input columns not scored); ``x5_edges`` (edges from x5, of 8 possible; all false);
    ``u1_u3_fp``, ``u1_u3_fn`` (false positives / negatives in the u1 and u3 columns).
    """
    cols = list(cell.COLUMNS)
    main = interpret.edge_scores(path)
    jac = interpret.edge_scores(jacobian)
    found = interpret.edges(path)
    u13 = [cols.index("u1"), cols.index("u3")]
    truth = cell.DEPENDENCIES[:, u13]
    return {
        **{k: main[k] for k in interpret.SCORES},
        "f1_jacobian": jac["f1"], "auprc_jacobian": jac["auprc"],
        "f1_without_x5": interpret.edge_scores(path, inputs=[c for c in cols if c != "x5"])["f1"],
        "f1_without_u1_u3": interpret.edge_scores(path, inputs=[c for c in cols if c not in ("u1", "u3")])["f1"],
        "x5_edges": found[:, :, cols.index("x5")].sum(-1).astype(float),
        "u1_u3_fp": (found[:, :, u13] & ~truth).sum((1, 2)).astype(float),
        "u1_u3_fn": (~found[:, :, u13] & truth).sum((1, 2)).astype(float),
    }


# ---------------------------------------------------------------- statistics

def _interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    finite = samples[np.isfinite(samples)]
    if not len(finite):
        return math.nan, math.nan
    lo, hi = np.percentile(finite, q)
    return float(lo), float(hi)


def mean_stat(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean of per-model ``values`` ``(E,)`` over each resample ``idx`` ``(B, E)`` → ``(B,)``."""
    return values[idx].mean(-1)


def pair_stat(matrix: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Mean of a pairwise ``matrix`` ``(E, E)`` over the pairs of distinct models in each resample → ``(B,)``."""
    sub = matrix[idx[:, :, None], idx[:, None, :]]
    distinct = idx[:, :, None] != idx[:, None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(distinct, sub, 0).sum((1, 2)) / distinct.sum((1, 2))


def boot(stat, values, n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float, float]:
    """``(estimate, low, high)``: ``stat`` over all E models and its 95 % interval over model resamples."""
    E = len(values)
    idx = np.random.default_rng(seed).integers(0, E, (n_boot, E))
    return float(stat(values, np.arange(E)[None])[0]), *_interval(stat(values, idx))


def boot_difference(stat, a, b, n_boot: int = N_BOOT, seed: int = 0) -> tuple[float, float, float]:
    """stat(a) − stat(b) with a 95 % interval; the models of a and b are resampled independently."""
    rng = np.random.default_rng(seed)
    ia, ib = rng.integers(0, len(a), (n_boot, len(a))), rng.integers(0, len(b), (n_boot, len(b)))
    est = stat(a, np.arange(len(a))[None])[0] - stat(b, np.arange(len(b))[None])[0]
    return float(est), *_interval(stat(a, ia) - stat(b, ib))


STRUCTURE = ("precision", "recall", "f1", "auprc", "f1_jacobian", "auprc_jacobian", "f1_without_x5",
             "f1_without_u1_u3", "x5_edges", "u1_u3_fp", "u1_u3_fn")
ROLLOUT = ("divergence", "capped_mean", "survivor_mean")


def summarise(evals: dict, s: Setup, n_boot: int = N_BOOT) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """``(scores, summary, pairwise)`` from :func:`evaluate_size`'s output per size.

    ``scores``: one row per size, kind and model. ``summary`` (long): size, kind, metric,
    window ("" for structure metrics), estimate, low, high — structure scores and
    consistency (``correlation``, ``jaccard``) over models, rollout statistics
    (:data:`ROLLOUT`, :mod:`alukit.evaluation.metrics`) over models and test trajectories.
    ``pairwise``: ``(size, kind)`` → ``(correlation, jaccard)`` matrices ``(E, E)``.
    """
    rows, table, pairs = [], [], {}
    for size in s.sizes:
        for k, kind in enumerate(KINDS):
            ev = evals[size][kind]
            sc = model_scores(ev["path"], ev["jacobian"])
            table += [{"size": size, "kind": kind, "model": e, **{m: float(v[e]) for m, v in sc.items()}}
                      for e in range(s.models)]
            seed = 1000 * size + 100 * k
            for j, m in enumerate(STRUCTURE):
                rows.append((size, kind, m, "", *boot(mean_stat, sc[m], n_boot, seed + j)))
            pairs[(size, kind)] = interpret.pairwise(ev["path"])
            for j, (m, mat) in enumerate(zip(("correlation", "jaccard"), pairs[(size, kind)])):
                rows.append((size, kind, m, "", *boot(pair_stat, mat, n_boot, seed + 50 + j)))
            for j, stat in enumerate(ROLLOUT):
                est, lo, hi = metrics.bootstrap(ev["errors"], stat, n_boot=n_boot, seed=seed + 70 + j)
                rows += [(size, kind, stat, window_label(w), float(a), float(b), float(c))
                         for w, a, b, c in zip(WINDOWS, est, lo, hi)]
    summary = pd.DataFrame(rows, columns=["size", "kind", "metric", "window", "estimate", "low", "high"])
    return pd.DataFrame(table), summary, pairs


# ---------------------------------------------------------------- findings and verdicts

class Finding(NamedTuple):
    key: str
    claim: str  # the paper's words (its summary)
    tested_as: str


FINDINGS = (
    Finding("interpretability", "Sparse models are more interpretable.",
            "At every training-set size, the sparse models' mean F1 (threshold 0.1 of each row's largest "
            "influence) and mean area under the precision-recall curve of their path-product influence graph, "
            "scored against the cell's true dependency table, exceed the dense models'."),
    Finding("small-data", "Sparse models generalize better with small data.",
            "At the smallest training-set size, sparse models diverge less often and have a lower capped "
            "normalised error than dense models on the test trajectories in the window [2500, 5000) samples."),
    Finding("consistency", "Training ensembles yields consistent model structures.",
            "At every training-set size, the mean pairwise correlation of the sparse models' normalised "
            "path-product influence matrices exceeds the dense models'."),
)
VERDICTS = ("holds", "does not hold", "inconclusive")


def verdict(low: float, high: float, higher_is_better: bool) -> str:
    if not (math.isfinite(low) and math.isfinite(high)):
        return "inconclusive"
    if (low > 0) if higher_is_better else (high < 0):
        return "holds"
    if (high < 0) if higher_is_better else (low > 0):
        return "does not hold"
    return "inconclusive"


def _comparison_plan(s: Setup) -> list[tuple[str, int, str, str, bool]]:
    """``(finding, size, metric, window, higher_is_better)`` of every comparison sparse vs dense."""
    last = window_label(WINDOWS[-1])
    return ([("interpretability", n, m, "", True) for n in s.sizes for m in ("f1", "auprc")]
            + [("small-data", s.sizes[0], m, last, False) for m in ("divergence", "capped_mean")]
            + [("consistency", n, "correlation", "", True) for n in s.sizes])


def compare(evals: dict, scores: pd.DataFrame, pairs: dict, s: Setup, n_boot: int = N_BOOT):
    """``(comparisons, verdicts)``: sparse − dense with intervals per comparison, and each finding's verdict."""
    rows = []
    for j, (finding, size, metric, window, higher) in enumerate(_comparison_plan(s)):
        if window:
            w = [window_label(x) for x in WINDOWS].index(window)
            err = {k: evals[size][k]["errors"][w:w + 1] for k in KINDS}
            d, lo, hi = (float(v[0]) for v in metrics.bootstrap_difference(err["sparse"], err["dense"], metric,
                                                                          n_boot=n_boot, seed=7000 + j))
        elif metric == "correlation":
            d, lo, hi = boot_difference(pair_stat, pairs[(size, "sparse")][0], pairs[(size, "dense")][0],
                                        n_boot, 7000 + j)
        else:
            v = {k: scores.loc[(scores["size"] == size) & (scores["kind"] == k), metric].to_numpy() for k in KINDS}
            d, lo, hi = boot_difference(mean_stat, v["sparse"], v["dense"], n_boot, 7000 + j)
        rows.append({"finding": finding, "size": size, "metric": metric, "window": window,
                     "better": "higher" if higher else "lower", "difference": d, "low": lo, "high": hi,
                     "verdict": verdict(lo, hi, higher)})
    comparisons = pd.DataFrame(rows)
    out = []
    for f in FINDINGS:
        got = comparisons.loc[comparisons.finding == f.key, "verdict"]
        overall = ("holds" if (got == "holds").all() else
                   "does not hold" if (got == "does not hold").any() else "inconclusive")
        out.append({"finding": f.key, "claim": f.claim, "tested as": f.tested_as, "comparisons": len(got),
                    "holding": int((got == "holds").sum()), "contradicted": int((got == "does not hold").sum()),
                    "verdict": overall})
    return comparisons, pd.DataFrame(out)


# ---------------------------------------------------------------- the run

def _triple(row) -> dict:
    return {"estimate": row["estimate"], "low": row["low"], "high": row["high"]}


def to_json(summary: pd.DataFrame, verdicts: pd.DataFrame, s: Setup, seconds: dict) -> dict:
    """The ``--json`` object: per size and kind, F1 and AUPRC, consistency and % diverged per window, with
    95 % bootstrap intervals (``estimate``, ``low``, ``high``); the findings' verdicts; seconds per stage."""
    out = {}
    for (size, kind), g in summary.groupby(["size", "kind"], sort=False):
        rows = {(r.metric, r.window): r._asdict() for r in g.itertuples(index=False)}
        entry = {m: _triple(rows[(m, "")]) for m in ("f1", "auprc", "precision", "recall")}
        entry["consistency"] = {m: _triple(rows[(m, "")]) for m in ("correlation", "jaccard")}
        entry["diverged_percent"] = {window_label(w): _triple(rows[("divergence", window_label(w))]) for w in WINDOWS}
        entry["error"] = {window_label(w): _triple(rows[("capped_mean", window_label(w))]) for w in WINDOWS}
        out.setdefault(str(size), {})[kind] = entry
    return {"profile": s.profile, "setup": asdict(s), "threshold": interpret.THRESHOLD, "results": out,
            "verdicts": dict(zip(verdicts.finding, verdicts.verdict)),
            "seconds": {k: round(v, 3) for k, v in seconds.items()}}


def refresh_command(profile: Profile | str) -> str:
    """The command that (re)writes a profile's sparse-DNN results."""
    prof = profiles.load(profile)
    return f"python -m alukit sparse-dnn --profile {prof.name if prof.name in profiles.PROFILES else prof.path}"


def study(profile: Profile, out_dir: Path | None = None) -> Study:
    """The results folder ``results/<profile name>-sparse-dnn/`` (or ``out_dir``)."""
    return Study(f"{profile.name}-sparse-dnn", out_dir, refresh=refresh_command(profile))


def evaluation_version() -> str:
    """Hash of the evaluation code and its constants (windows, Jacobian subsample, threshold)."""
    code = code_version(window_errors, evaluate_size, model_scores, summarise, compare)
    constants = repr((WINDOWS, JACOBIAN_STRIDE, interpret.THRESHOLD, N_BOOT))
    return hashlib.sha256(f"{code}/{constants}".encode()).hexdigest()[:16]


def run(profile: Profile | str = "quick", sizes=None, l1: float = L1, l1_input: float | None = None,
        out_dir: Path | None = None, workers: int | None = None, progress: bool = True, n_boot: int = N_BOOT,
        force: bool = False) -> Path:
    """Every stage; writes the profile's :func:`study` folder (or ``out_dir``) and returns its path."""
    profile = profiles.load(profile)
    s = setup(profile, sizes, l1, l1_input)
    folder = study(profile, out_dir)
    folder.check_target(force)
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    seconds = {}
    t = time.perf_counter()
    sets = datasets(s)
    seconds["data"] = time.perf_counter() - t
    t, cpu = time.perf_counter(), _cpu_seconds()
    runs = train_runs(s, workers, progress)
    seconds["training"] = time.perf_counter() - t
    cpu = _cpu_seconds() - cpu
    say(f"training: {len(runs)} runs of {s.models} models ({seconds['training']:.1f} s)")
    t = time.perf_counter()
    evals = {n: evaluate_size(runs, n, s, sets.test) for n in s.sizes}
    seconds["rollouts"] = time.perf_counter() - t
    t = time.perf_counter()
    scores, summary, pairs = summarise(evals, s, n_boot)
    comparisons, verdicts = compare(evals, scores, pairs, s, n_boot)
    seconds["metrics"] = time.perf_counter() - t
    payload = to_json(summary, verdicts, s, seconds)
    _write(folder, s, runs, evals, scores, summary, comparisons, verdicts, payload, seconds, cpu, workers, n_boot,
           force)
    say(f"results written to {folder.shown()} ({sum(seconds.values()):.0f} s)")
    return folder.path


def _cpu_seconds() -> float:
    """CPU time (user + system) of this process and its finished children, seconds."""
    return sum(u.ru_utime + u.ru_stime for u in (resource.getrusage(resource.RUSAGE_SELF),
                                                 resource.getrusage(resource.RUSAGE_CHILDREN)))


def _write(folder: Study, s, runs, evals, scores, summary, comparisons, verdicts, payload, seconds, cpu, workers,
           n_boot, force):
    csv = lambda frame: (lambda path: cache.write_text(path, frame.to_csv(index=False)))  # noqa: E731
    each = [(k, n) for n in s.sizes for k in KINDS]
    files = {
        "scores.csv": csv(scores), "summary.csv": csv(summary), "comparisons.csv": csv(comparisons),
        "verdicts.csv": csv(verdicts), "summary.json": lambda path: cache.write_json(path, payload),
        "influence.npz": lambda path: cache.save_npz(path, **{f"{part}_{k}_{n}": evals[n][k][part] for k, n in each
                                                              for part in ("path", "jacobian")}),
        "errors.npz": lambda path: cache.save_npz(path, windows=np.array(WINDOWS), **{
            f"{k}_{n}": evals[n][k]["errors"].astype(np.float32) for k, n in each}),
        "loss.npz": lambda path: cache.save_npz(path, **{f"{k}_{n}": runs[(k, n)].log["loss"].astype(np.float32)
                                                         for k, n in each}),
    }
    prov = {
        "profile": s.profile, "setup": asdict(s), "git_commit": provenance.git_commit(), "date": provenance.now(),
        "machine": provenance.machine(), "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "training_cpu_seconds": round(cpu, 3),  # all processes: wall time on busy cores overstates the cost
        "training_runs_cached_at_start": int(sum(r.cached for r in runs.values())),
        "training_seconds_per_run": {f"{k}/{n}": round(runs[(k, n)].seconds, 3) for k, n in each},
        "compiled": {f"{k}/{n}": bool(runs[(k, n)].extra["compiled"]) for k, n in each},
        "workers": train.default_workers() if workers is None else workers,
        "training_version": train.CODE_VERSION, "evaluation_version": evaluation_version(), "n_boot": n_boot,
        "threshold": interpret.THRESHOLD,
    }
    folder.write(files, prov, force=force)


class Results(NamedTuple):
    """``results/<profile>-sparse-dnn/``, loaded."""

    scores: pd.DataFrame
    summary: pd.DataFrame
    comparisons: pd.DataFrame
    verdicts: pd.DataFrame
    influence: dict  # "path_<kind>_<size>", "jacobian_<kind>_<size>" → (E, 8, 13)
    errors: dict  # "<kind>_<size>" → (W, E, n, 8)
    loss: dict  # "<kind>_<size>" → (E, epochs)
    json: dict
    provenance: dict

    @property
    def sizes(self) -> list[int]:
        return list(self.provenance["setup"]["sizes"])


def load(profile: Profile | str = "paper", out_dir: Path | None = None) -> Results:
    """Read the profile's results, checked against their manifest (:class:`StudyError` naming the command that
    makes them if absent or damaged)."""
    folder = study(profiles.load(profile), out_dir)
    prov = folder.verify()
    read = lambda name: pd.read_csv(folder.file(name), keep_default_na=False, na_values=[""])  # noqa: E731
    summary = read("summary.csv")
    summary["window"] = summary["window"].fillna("")
    comparisons = read("comparisons.csv")
    comparisons["window"] = comparisons["window"].fillna("")
    return Results(scores=read("scores.csv"), summary=summary, comparisons=comparisons,
                   verdicts=read("verdicts.csv"), influence=cache.load_npz(folder.file("influence.npz")),
                   errors=cache.load_npz(folder.file("errors.npz")), loss=cache.load_npz(folder.file("loss.npz")),
                   json=json.loads(folder.file("summary.json").read_text()), provenance=prov)


def stale_reason(profile: Profile | str = "quick", out_dir: Path | None = None) -> str | None:
    """Why the profile's results do not match its current set-up, training or evaluation code; None if they do."""
    prof = profiles.load(profile)
    return study(prof, out_dir).stale_reason([
        Expected("setup", json.loads(json.dumps(asdict(setup(prof)))), "the profile's sparse_dnn set-up changed"),
        Expected("training_version", train.CODE_VERSION, "the training code changed", version=True),
        Expected("evaluation_version", evaluation_version(), "the evaluation code changed", version=True)])


def is_current(profile: Profile | str = "quick", out_dir: Path | None = None) -> bool:
    """True if the results exist for the profile's current set-up, training engine and evaluation code."""
    return stale_reason(profile, out_dir) is None


TARGET = "(target ≤ 10 min) "  # the paper profile's training, on 2 cores


def _minutes(seconds: float) -> str:
    minutes, sec = divmod(round(seconds), 60)
    return f"{minutes} min {sec} s" if minutes else f"{seconds:.1f} s"


def readme_lines(profile: Profile | str = "paper", out_dir: Path | None = None) -> list[str]:
    """Markdown lines for results/README.md's generated part from the committed run's provenance (none if absent)."""
    folder = study(profiles.load(profile), out_dir)
    if not folder.exists:
        return []
    p = folder.provenance()
    verdicts = pd.read_csv(folder.file("verdicts.csv"))
    out_dir = folder.path
    s, cached = p["setup"], p["training_runs_cached_at_start"]
    start = "from an empty cache" if cached == 0 else f"{cached} runs cached at the start"
    cpu = f", {_minutes(p['training_cpu_seconds'])} of CPU time" if "training_cpu_seconds" in p else ""
    return ["", f"Sparse-DNN chapter (`{folder.refresh}`, "
            f"`results/{out_dir.name}/`): training {len(KINDS)} kinds × {len(s['sizes'])} training-set "
            f"sizes × {s['models']} models × {s['epochs']} epochs took **{_minutes(p['seconds']['training'])}** "
            f"{TARGET if s['profile'] == 'paper' else ''}on {p['machine']['cpus']} CPUs with {p['workers']} "
            f"worker processes{cpu}, {start}; "
            f"the whole run {_minutes(sum(p['seconds'].values()))}; commit `{p['git_commit'][:10]}`, {p['date']}. "
            "Verdicts: " + "; ".join(f"{r.finding} **{r.verdict}**" for r in verdicts.itertuples()) + "."]


# ---------------------------------------------------------------- reading the results (the chapter)

def lookup(summary: pd.DataFrame, size: int, kind: str, metric: str, window: str = "") -> tuple[float, float, float]:
    """``(estimate, low, high)`` of one row of ``summary`` (``KeyError`` if absent)."""
    rows = summary[(summary["size"] == size) & (summary.kind == kind) & (summary.metric == metric)
                   & (summary.window == window)]
    if len(rows) != 1:
        raise KeyError(f"no single summary row for size={size}, kind={kind!r}, metric={metric!r}, window={window!r}")
    return tuple(float(rows.iloc[0][c]) for c in ("estimate", "low", "high"))


def interval_text(estimate: float, low: float, high: float, digits: int = 2) -> str:
    """``"0.52 [0.50, 0.55]"`` (``"–"`` for an undefined estimate)."""
    if not math.isfinite(estimate):
        return "–"
    return f"{_fixed(estimate, digits)} [{_fixed(low, digits)}, {_fixed(high, digits)}]"


def _fixed(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, never "-0.00"."""
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


TABLE_METRICS = {
    "structure": (("precision", "precision"), ("recall", "recall"), ("f1", "F1"), ("auprc", "AUPRC"),
                  ("f1_jacobian", "F1, Jacobian"), ("auprc_jacobian", "AUPRC, Jacobian"),
                  ("f1_without_x5", "F1 without x5"), ("f1_without_u1_u3", "F1 without u1, u3"),
                  ("x5_edges", "edges from x5"), ("u1_u3_fp", "u1/u3 false pos."), ("u1_u3_fn", "u1/u3 false neg.")),
    "consistency": (("correlation", "correlation"), ("jaccard", "Jaccard")),
}


def table(summary: pd.DataFrame, which: str) -> pd.DataFrame:
    """Estimates with 95 % intervals as text, one row per size and kind: ``which`` is ``"structure"``,
    ``"consistency"``, or a rollout statistic (``"divergence"``, ``"capped_mean"``; one column per window)."""
    if which in TABLE_METRICS:
        columns = [(m, "", label) for m, label in TABLE_METRICS[which]]
    elif which in ROLLOUT:
        columns = [(which, window_label(w), f"[{w[0]}, {w[1]})") for w in WINDOWS]
    else:
        raise ValueError(f"which must be one of {', '.join([*TABLE_METRICS, *ROLLOUT])}; got {which!r}")
    counts = ("divergence", "x5_edges", "u1_u3_fp", "u1_u3_fn")  # percentages and edge counts: one decimal
    rows = {}
    for size in sorted(summary["size"].unique()):
        for kind in KINDS:
            rows[(int(size), kind)] = {label: interval_text(*lookup(summary, size, kind, m, w),
                                                            digits=1 if m in counts else 2)
                                       for m, w, label in columns}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.names = ["training trajectories", "kind"]
    return out


def banner(s: dict, current: bool = True) -> str:
    """HTML notes of the chapter: a non-paper profile's fidelity (none for the paper profile), and
    a warning naming the refresh command when the results are stale for the code (``current`` False).
    ``s``: the run's set-up dict. Names are escaped."""
    name = html.escape(str(s["profile"]))
    out = ""
    if not current:
        command = html.escape(f"python -m alukit sparse-dnn --profile {s['profile']}")
        out += ('<div class="admonition danger"><p class="admonition-title">Stale results</p><p>These results '
                f"were made by other code or settings than the current ones. Refresh them with <code>{command}</code>."
                "</p></div>")
    if s["profile"] == "paper":
        return out
    paper = setup("paper")
    return out + ('<div class="admonition warning"><p class="admonition-title">'
                  f"{name.capitalize()} profile</p><p>These results come from the <code>{name}</code> "
                  f"profile: {s['models']} models per kind and size (paper profile: {paper.models}), {s['epochs']} "
                  f"epochs ({paper.epochs}), {s['n_test']} test trajectories ({paper.n_test}). Same code, far less "
                  "compute: the numbers are indicative only and the intervals wide.</p></div>")


# ---------------------------------------------------------------- command line

def _sizes_arg(text: str) -> tuple:
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            out.append(int(part))
        except ValueError:
            raise ValueError(f"sizes must be distinct training-set sizes from {', '.join(map(str, SIZES))}; "
                             f"got {part!r}") from None
    return tuple(out)


def _lambda_arg(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = text
    return _check_lambda(name, value)


def main(argv: list[str] | None = None) -> int:
    """``python -m alukit sparse-dnn --profile quick|paper [--json] [--sizes 5,10] [--l1 X] [--l1-input X]``."""
    ap = Parser(prog="python -m alukit sparse-dnn", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="quick", help="quick | paper | a params YAML (default quick)")
    ap.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    ap.add_argument("--sizes", default=None, help=f"comma-separated subset of {','.join(map(str, SIZES))}")
    ap.add_argument("--l1", default=str(L1), help=f"ℓ1 factor λ of the sparse kind (default {L1:g})")
    ap.add_argument("--l1-input", default=None, help="ℓ1 factor λ_in of the input layer (default λ)")
    ap.add_argument("--workers", type=int, default=None, help="training processes (default 2 on a CPU)")
    ap.add_argument("--out", type=Path, default=None, help="output folder (default results/<profile>-sparse-dnn)")
    ap.add_argument("--force", action="store_true", help="replace a non-empty --out folder alukit did not write")
    ap.add_argument("--quiet", action="store_true", help="no progress output")
    args = ap.parse_args(argv)
    prof = profiles.load(args.profile)
    sizes = None if args.sizes is None else _sizes_arg(args.sizes)
    l1 = _lambda_arg("l1", args.l1)
    l1_input = None if args.l1_input is None else _lambda_arg("l1_input", args.l1_input)
    if args.workers is not None and not 1 <= args.workers <= 64:
        raise ValueError(f"workers must be an integer in [1, 64]; got {args.workers}")
    out = run(prof, sizes, l1, l1_input, args.out, args.workers, progress=not args.quiet, force=args.force)
    res = load(prof, out)
    if args.json:
        print(json.dumps(res.json))
    else:
        print(res.verdicts[["finding", "verdict", "holding", "contradicted", "comparisons"]].to_string(index=False))
    return 0
