"""The paper's qualitative picture, checked on a study's Table 2.

The picture (Haugstvedt et al., Table 2 and Section IV), as three statements:

1. ``least``: L1 and MP + L1 are among the four least divergent configurations at 2500 ΔT;
2. ``most``: DSR diverges at least as often as every configuration outside the DSR family at 2500 ΔT;
3. ``early``: dense and L1 diverge in at most a quarter of their rollouts at 1000 ΔT.

:func:`check` tests them on a Table 2 (``config`` × horizon, % diverged);
:func:`alukit.book.banner.picture_note` turns a reduced profile's failures into the chapters' banner.
"""
from __future__ import annotations

import pandas as pd

from alukit.studies import paper

__all__ = ["check", "by_horizon", "N_LEAST", "EARLY_MAX"]

LEAST, MOST, EARLY = ("l1", "mp+l1"), "dsr", ("dense", "l1")
N_LEAST = 4  # "among the four least divergent": the paper's four are L1, L1 + SWA, MP + L1, MP + L1 + SWA
EARLY_MAX = 25.0  # "well under half" at 1000 ΔT, in %


def by_horizon(table2: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table2`` with integer horizon columns (a CSV's are strings)."""
    t = table2.copy()
    t.columns = [int(c) for c in t.columns]
    return t


def check(table2: pd.DataFrame) -> pd.DataFrame:
    """One row per statement: ``statement``, ``holds`` (bool) and the ``failing`` configurations."""
    t = by_horizon(table2)
    missing = sorted(set(paper.CONFIG_NAMES) - set(t.index)) + [h for h in (1000, 2500) if h not in t.columns]
    if missing:
        raise ValueError(f"table2 must hold all 16 configurations at 1000 and 2500 ΔT; missing {missing}")
    at = t[2500]
    fourth = at.sort_values(kind="stable").iloc[min(N_LEAST, len(at)) - 1]
    rows = [("least", [c for c in LEAST if at[c] > fourth]),
            ("most", [MOST] if at[MOST] < at[[c for c in t.index if not c.startswith("dsr")]].max() else []),
            ("early", [c for c in EARLY if t.loc[c, 1000] > EARLY_MAX])]
    return pd.DataFrame([{"statement": s, "holds": not bad, "failing": bad} for s, bad in rows])
