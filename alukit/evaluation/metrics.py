"""The paper's rollout metric, divergence rule and table statistics (III-E, Tables 2–4).

For one rollout, state s and horizon L (samples):

    e_s(L) = mean_{t<L} |x̂_{t,s} − x_{t,s}| / σ_s        (NaN or ±inf → ``NAN_VALUE`` = 10)

A rollout has **diverged** at L if max_s e_s(L) > ``THRESHOLD`` (3); otherwise its
error ("RFMSE" in the paper — a normalised mean *absolute* error) is mean_s e_s(L).

* Table 2: % of rollouts diverged (:func:`divergence_percent`).
* Table 3: mean ± std (ddof 0) of the error over the non-diverged rollouts only
  (:func:`survivor_stats`; survivorship bias, defect 5).
* Corrected statistics: every rollout counts, a diverged one with its score capped at
  ``cap`` (default 3, the threshold: a diverged rollout is never better than a
  surviving one) (:func:`capped_scores`).
* Bootstrap 95 % intervals that resample models and trajectories (crossed design),
  vectorised and seeded (:func:`bootstrap`, :func:`bootstrap_difference`).
* Table 4: % of weights that are exactly zero — 100 × :attr:`alukit.training.runs.TrainResult.sparsity`
  (:func:`alukit.training.sparsity.overall_sparsity` of the trained ensemble), not a metric of rollouts.

Per-rollout arrays are laid out ``(H, E, n)`` (horizons × models × trajectories) and
per-state errors ``(H, E, n, 8)``.
"""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

__all__ = ["HORIZONS", "THRESHOLD", "NAN_VALUE", "STATISTICS", "STATISTIC_LABELS", "check_horizons", "state_errors", "diverged", "rfmse",
           "divergence_percent", "survivor_stats", "bootstrap", "bootstrap_difference"]

HORIZONS = (100, 1000, 2500, 5000)
THRESHOLD = 3.0
NAN_VALUE = 10.0
STATISTICS = ("divergence", "survivor_mean", "capped_mean")
# how the book names each statistic in a table
STATISTIC_LABELS = {"divergence": "diverged [%]", "survivor_mean": "RFMSE, survivors", "capped_mean": "capped error"}


def check_horizons(horizons, length: int) -> tuple[int, ...]:
    """Validated horizons: a non-empty sequence of distinct integers in 1..``length``, any order."""
    try:
        hs = tuple(horizons)
    except TypeError:
        hs = None
    if not hs or any(isinstance(h, bool) or not isinstance(h, (int, np.integer)) or not 1 <= h <= length for h in hs) \
            or len(set(hs)) != len(hs):
        raise ValueError(f"horizons must be distinct integers in 1..{length} (the rollout length); got {horizons!r}")
    return tuple(int(h) for h in hs)


def state_errors(pred, true, sigma, horizons=HORIZONS) -> np.ndarray:
    """Per-state normalised error e_s(L), ``(H, E, n, 8)`` float64 (NaN/inf → 10).

    ``pred``: ``(E, n, T, 8)`` rollouts (:func:`alukit.evaluation.stepper.rollout`); ``true``:
    ``(n, T', 8)`` or ``(n, T', 13)`` the true trajectories (T' ≥ T; extra columns are
    ignored); ``sigma``: ``(8,)`` the states' standard deviations, same units.
    Each horizon L ≤ T averages samples 0..L−1.
    """
    pred = np.asarray(pred)
    if pred.ndim != 4 or pred.shape[-1] != 8:
        raise ValueError(f"pred must have shape (E, n, T, 8); got {pred.shape}")
    E, n, T, S = pred.shape
    true = np.asarray(true)
    if true.ndim != 3 or true.shape[0] != n or true.shape[1] < T or true.shape[2] < S:
        raise ValueError(f"true must have shape ({n}, >= {T}, >= 8); got {true.shape}")
    sigma = np.asarray(sigma, dtype=np.float64)
    if sigma.shape != (S,) or not (sigma > 0).all():
        raise ValueError(f"sigma must be {S} positive standard deviations; got {sigma}")
    hs = check_horizons(horizons, T)
    order = np.argsort(hs)
    edges = np.array(hs)[order]
    # sum over each segment [previous edge, edge), then cumulative: one pass over the data
    bounds = np.concatenate([[0], edges[:-1]])
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(pred[:, :, : edges[-1]] - true[None, :, : edges[-1], :S]) / sigma
        seg = np.add.reduceat(err, bounds, axis=2, dtype=np.float64)  # (E, n, H, 8)
        e = np.cumsum(seg, axis=2) / edges[:, None]
    e = np.where(np.isfinite(e), e, NAN_VALUE)
    out = np.empty_like(e)
    out[:, :, order] = e
    return np.moveaxis(out, 2, 0)


def diverged(errors) -> np.ndarray:
    """``(..., 8)`` per-state errors → bool ``(...)``: max over states > 3 (NaN counts as 10)."""
    errors = np.where(np.isfinite(errors), errors, NAN_VALUE)
    return errors.max(-1) > THRESHOLD


def rfmse(errors) -> np.ndarray:
    """``(..., 8)`` → ``(...)``: the mean over states (meaningful for non-diverged rollouts)."""
    errors = np.where(np.isfinite(errors), errors, NAN_VALUE)
    return errors.mean(-1)


def capped_scores(errors, cap: float = THRESHOLD) -> np.ndarray:
    """``(..., 8)`` → ``(...)``: RFMSE for surviving rollouts, ``cap`` for diverged ones."""
    return np.where(diverged(errors), cap, rfmse(errors))


def divergence_percent(errors) -> np.ndarray:
    """Table 2 entry per horizon: % diverged over models and trajectories; ``(H, E, n, 8)`` → ``(H,)``."""
    return 100.0 * diverged(errors).reshape(len(errors), -1).mean(-1)


def survivor_stats(errors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Table 3 entries per horizon: ``(mean, std, count)`` of RFMSE over non-diverged rollouts.

    ``(H, E, n, 8)`` → three ``(H,)`` arrays; mean and std (ddof 0) are NaN where no
    rollout survives (the paper's "–").
    """
    score = rfmse(errors).reshape(len(errors), -1)
    alive = ~diverged(errors).reshape(len(errors), -1)
    count = alive.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(alive, score, 0).sum(-1) / count
        var = np.where(alive, (score - mean[:, None]) ** 2, 0).sum(-1) / count
    return mean, np.sqrt(var), count


# ---------------------------------------------------------------- statistics and bootstrap

def _stat_fn(statistic: str, cap: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """f(div (..., E, n) bool, score (..., E, n)) → (...) for a named statistic."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {', '.join(map(repr, STATISTICS))}; got {statistic!r}")

    def f(div, score):
        axes = (-2, -1)
        if statistic == "divergence":
            return 100.0 * div.mean(axes)
        if statistic == "capped_mean":
            return np.where(div, cap, score).mean(axes)
        alive = ~div
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(alive, score, 0).sum(axes) / alive.sum(axes)

    return f


def statistic(errors, statistic: str, cap: float = THRESHOLD) -> np.ndarray:
    """A named statistic per horizon: ``divergence`` (%), ``survivor_mean``, ``capped_mean``; ``(H, E, n, 8)`` → ``(H,)``."""
    return _stat_fn(statistic, cap)(diverged(errors), rfmse(errors))


def _resample_indices(rng, E, n, n_boot):
    return rng.integers(0, E, (n_boot, E)), rng.integers(0, n, (n_boot, n))


def _check_boot(n_boot, level):
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer; got {n_boot!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}")


def _interval(samples, level):
    """Percentile interval over the last axis, ignoring NaN resamples (no survivors)."""
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices → NaN
        lo, hi = np.nanpercentile(samples, q, axis=-1)
    return lo, hi


def bootstrap(errors, statistic: str, n_boot: int = 2000, level: float = 0.95, seed: int = 0,
              cap: float = THRESHOLD) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Point estimate and percentile bootstrap interval of a statistic, per horizon.

    Each resample draws E models and n trajectories with replacement (the same draw for
    every horizon) and evaluates the statistic on the E × n grid. ``errors``:
    ``(H, E, n, 8)``. Returns ``(estimate, low, high)``, each ``(H,)``. Deterministic
    for a given ``seed``; NaN where the statistic is undefined (no survivors).
    """
    _check_boot(n_boot, level)
    f = _stat_fn(statistic, cap)
    div, score = diverged(errors), rfmse(errors)
    _, E, n = div.shape
    im, it = _resample_indices(np.random.default_rng(seed), E, n, n_boot)
    grid = (slice(None), im[:, :, None], it[:, None, :])
    samples = f(div[grid], score[grid])  # (H, n_boot)
    lo, hi = _interval(samples, level)
    return f(div, score), lo, hi


def bootstrap_difference(errors_a, errors_b, statistic: str, n_boot: int = 2000, level: float = 0.95,
                         seed: int = 0, cap: float = THRESHOLD) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Statistic(a) − statistic(b) per horizon with a bootstrap interval.

    a and b are two configurations rolled out on the same test trajectories, so each
    resample uses one trajectory draw for both (paired) and an independent model draw
    for each. Shapes ``(H, E_a, n, 8)`` and ``(H, E_b, n, 8)``; returns
    ``(difference, low, high)``, each ``(H,)``.
    """
    _check_boot(n_boot, level)
    f = _stat_fn(statistic, cap)
    da, sa, db, sb = diverged(errors_a), rfmse(errors_a), diverged(errors_b), rfmse(errors_b)
    if da.shape[0] != db.shape[0] or da.shape[2] != db.shape[2]:
        raise ValueError(f"errors_a and errors_b must share horizons and trajectories; got {da.shape} and {db.shape}")
    _, Ea, n = da.shape
    Eb = db.shape[1]
    rng = np.random.default_rng(seed)
    ia, it = _resample_indices(rng, Ea, n, n_boot)
    ib = rng.integers(0, Eb, (n_boot, Eb))
    ga, gb = (slice(None), ia[:, :, None], it[:, None, :]), (slice(None), ib[:, :, None], it[:, None, :])
    samples = f(da[ga], sa[ga]) - f(db[gb], sb[gb])  # (H, n_boot)
    lo, hi = _interval(samples, level)
    return f(da, sa) - f(db, sb), lo, hi
