"""The paper's qualitative picture, checked on a study's Table 2.

The picture (Haugstvedt et al., Table 2 and Section IV), as three statements:

1. ``l1``: L1 lowers divergence ("the most crucial factor", Section V): at 2500 ΔT the four rows
   with L1 outside STR and DSR (L1, L1 + SWA, MP + L1, MP + L1 + SWA) diverge less often on average
   than their four twins without it (dense, dense + SWA, MP, MP + SWA);
2. ``most``: DSR diverges at least as often as every configuration outside the DSR family at 2500 ΔT;
3. ``early``: dense and L1 diverge in at most a quarter of their rollouts at 1000 ΔT.

:func:`check` tests them on a Table 2 (``config`` × horizon, % diverged);
:func:`alukit.book.banner.picture_note` turns a reduced profile's failures into the chapters' banner.
"""
from __future__ import annotations

import pandas as pd

from alukit.studies import paper

__all__ = ["check", "by_horizon", "l1_means", "WITH_L1", "WITHOUT_L1", "MOST", "EARLY", "EARLY_MAX"]

# Pooled over four pairs, not ranked: with two models per configuration one row moves by tens of points
# between float paths (results/picture-quick/), which reorders single rows but not the pooled means.
WITH_L1 = ("l1", "l1+swa", "mp+l1", "mp+l1+swa")
WITHOUT_L1 = ("dense", "dense+swa", "mp", "mp+swa")  # the same rows without L1, in the same order
MOST, EARLY = "dsr", ("dense", "l1")
EARLY_MAX = 25.0  # "well under half" at 1000 ΔT, in %


def by_horizon(table2: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table2`` with integer horizon columns (a CSV's are strings)."""
    t = table2.copy()
    t.columns = [int(c) for c in t.columns]
    return t


def l1_means(table2: pd.DataFrame, horizon: int = 2500) -> tuple[float, float]:
    """Mean % diverged at ``horizon`` of :data:`WITH_L1` and of :data:`WITHOUT_L1` (the ``l1`` statement)."""
    at = by_horizon(table2)[horizon]
    return float(at[list(WITH_L1)].mean()), float(at[list(WITHOUT_L1)].mean())


def check(table2: pd.DataFrame) -> pd.DataFrame:
    """One row per statement: ``statement``, ``holds`` (bool) and the ``failing`` configurations.

    ``l1`` fails when the mean of :data:`WITH_L1` at 2500 ΔT is not below that of :data:`WITHOUT_L1`; its
    ``failing`` rows are then those of :data:`WITH_L1` at or above the :data:`WITHOUT_L1` mean."""
    t = by_horizon(table2)
    missing = sorted(set(paper.CONFIG_NAMES) - set(t.index)) + [h for h in (1000, 2500) if h not in t.columns]
    if missing:
        raise ValueError(f"table2 must hold all 16 configurations at 1000 and 2500 ΔT; missing {missing}")
    at = t[2500]
    with_l1, without = l1_means(t)
    rows = [("l1", [c for c in WITH_L1 if at[c] >= without] if with_l1 >= without else []),
            ("most", [MOST] if at[MOST] < at[[c for c in t.index if not c.startswith("dsr")]].max() else []),
            ("early", [c for c in EARLY if t.loc[c, 1000] > EARLY_MAX])]
    return pd.DataFrame([{"statement": s, "holds": not bad, "failing": bad} for s, bad in rows])
