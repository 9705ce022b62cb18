"""The paper's five conclusions (Section V) as computable claims, with bootstrap verdicts.

Each conclusion is a list of comparisons "configuration a is better than b": the
statistic of a (divergence % or the divergence-aware capped error of
:mod:`alukit.evaluation.metrics`) is lower than that of b at a horizon. A comparison's verdict,
from the bootstrap interval of statistic(a) − statistic(b) (models and trajectories
resampled, trajectories paired):

* ``holds``: the whole interval is below 0;
* ``does not hold``: the whole interval is above 0 (the opposite is supported);
* ``inconclusive``: the interval contains 0, or the statistic is undefined.

A conclusion holds if every comparison holds, does not hold if any comparison does
not hold, and is inconclusive otherwise.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from alukit.evaluation import metrics

__all__ = ["check", "CONCLUSIONS"]

VERDICTS = ("holds", "does not hold", "inconclusive")


class Comparison(NamedTuple):
    better: str  # configuration expected to have the lower statistic
    worse: str
    statistic: str  # a name in metrics.STATISTICS
    horizon: int  # samples


class Conclusion(NamedTuple):
    key: str
    claim: str  # the paper's words (Section V)
    operationalised: str  # what we test
    comparisons: tuple[Comparison, ...]


_SWA_BASES = ("dense", "l1", "str", "str+l1", "mp", "mp+l1", "dsr", "dsr+l1")


def _swa_name(base: str) -> str:
    return f"{base}+swa"


CONCLUSIONS: tuple[Conclusion, ...] = (
    Conclusion(
        "l1-most-crucial",
        "The application of L1 regularization to the training process was found to be the most crucial "
        "factor for model performance among the techniques explored in this study.",
        "L1 alone has a lower capped error at the last horizon than dense, soft thresholding, magnitude "
        "pruning and DSR.",
        tuple(Comparison("l1", other, "capped_mean", 5000) for other in ("dense", "str", "mp", "dsr")),
    ),
    Conclusion(
        "mp-l1-slightly-inferior",
        "The combination of magnitude pruning and L1 regularization resulted in slightly inferior "
        "performance compared to L1 alone.",
        "L1 alone has a lower capped error and less divergence at the last horizon than magnitude pruning + L1.",
        (Comparison("l1", "mp+l1", "capped_mean", 5000), Comparison("l1", "mp+l1", "divergence", 5000)),
    ),
    Conclusion(
        "str-dsr-ill-suited",
        "Soft threshold reparameterization for learnable sparsity and dynamic sparse reparameterization "
        "appear to be ill-suited for smaller and simpler models.",
        "Dense has a lower capped error at the last horizon than soft thresholding and than DSR.",
        (Comparison("dense", "str", "capped_mean", 5000), Comparison("dense", "dsr", "capped_mean", 5000)),
    ),
    Conclusion(
        "swa-helps-l1-mp",
        "The application of SWA during training increases performance for both the L1-regularized dense "
        "model and the magnitude pruned model.",
        "L1 + SWA beats L1, and magnitude pruning + L1 + SWA beats magnitude pruning + L1 (Section IV-E), "
        "in capped error at the last horizon.",
        (Comparison("l1+swa", "l1", "capped_mean", 5000), Comparison("mp+l1+swa", "mp+l1", "capped_mean", 5000)),
    ),
    Conclusion(
        "swa-early-medium",
        "[SWA] also reduces the number of diverging simulations and RFMSE for all models in an early to "
        "medium time horizon.",
        "For every configuration without SWA, its SWA twin has less divergence and a lower capped error "
        "at 1000 samples.",
        tuple(Comparison(_swa_name(b), b, stat, 1000) for b in _SWA_BASES for stat in ("divergence", "capped_mean")),
    ),
)


def _verdict(low: float, high: float) -> str:
    if np.isfinite(low) and np.isfinite(high):
        if high < 0:
            return "holds"
        if low > 0:
            return "does not hold"
    return "inconclusive"


def check(errors: dict[str, np.ndarray], horizons=metrics.HORIZONS, n_boot: int = 2000, seed: int = 0,
          level: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Verdicts of every comparison and of every conclusion.

    ``errors``: configuration name → per-state errors ``(H, E, n, 8)`` at ``horizons``
    (all configurations rolled out on the same test trajectories). A comparison whose
    configurations or horizon are missing is reported as ``not run`` and left out of
    its conclusion's verdict (a conclusion with none left is ``not run``).

    Returns ``(comparisons, summary)``: one row per comparison (difference a − b with
    its interval and verdict) and one row per conclusion.
    """
    horizons = tuple(horizons)
    rows = []
    for c in CONCLUSIONS:
        for k, comp in enumerate(c.comparisons):
            row = {"conclusion": c.key, "better": comp.better, "worse": comp.worse, "statistic": comp.statistic,
                   "horizon": comp.horizon}
            if comp.better not in errors or comp.worse not in errors or comp.horizon not in horizons:
                rows.append({**row, "difference": np.nan, "low": np.nan, "high": np.nan, "verdict": "not run"})
                continue
            h = horizons.index(comp.horizon)
            diff, low, high = metrics.bootstrap_difference(
                errors[comp.better][h:h + 1], errors[comp.worse][h:h + 1], comp.statistic, n_boot=n_boot,
                level=level, seed=seed + k)
            rows.append({**row, "difference": float(diff[0]), "low": float(low[0]), "high": float(high[0]),
                         "verdict": _verdict(low[0], high[0])})
    table = pd.DataFrame(rows)
    summary = []
    for c in CONCLUSIONS:
        got = table.loc[(table.conclusion == c.key) & (table.verdict != "not run"), "verdict"]
        if got.empty:
            verdict = "not run"
        elif (got == "holds").all():
            verdict = "holds"
        elif (got == "does not hold").any():
            verdict = "does not hold"
        else:
            verdict = "inconclusive"
        summary.append({"conclusion": c.key, "claim": c.claim, "tested as": c.operationalised,
                        "comparisons": len(got), "holding": int((got == "holds").sum()),
                        "contradicted": int((got == "does not hold").sum()), "verdict": verdict})
    return table, pd.DataFrame(summary)
