r"""The paper's published Tables 2, 3 and 4, as data, and paper | ours | difference tables.

The rows below are the paper's own table rows (the article's text of the tables is
kept in ``tests/data/paper_tables.txt``), copied with tabs written as `` | `` and
``$\pm$`` as ``±``; ``tests/test_paper.py`` checks them against that text.
A "-" (no surviving rollout) becomes NaN. Rows are keyed by the configuration names
of :data:`CONFIG_NAMES` in the paper's order; :data:`LABELS` gives the paper's wording.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

HORIZONS = (100, 1000, 2500, 5000)
CONFIG_NAMES = (
    "dense", "dense+swa", "l1", "l1+swa",
    "str", "str+l1", "str+swa", "str+l1+swa",
    "mp", "mp+l1", "mp+swa", "mp+l1+swa",
    "dsr", "dsr+l1", "dsr+swa", "dsr+l1+swa",
)
_BASE = {"dense": "Dense", "l1": "L1", "str": "Soft thresholding", "mp": "Magnitude pruning", "dsr": "DSR"}


def label(config: str) -> str:
    """The paper's row label of a configuration name (``"str+l1"`` → ``"Soft thresholding + L1"``)."""
    if config not in CONFIG_NAMES:
        raise ValueError(f"config must be one of {', '.join(CONFIG_NAMES)}; got {config!r}")
    base, *extras = config.split("+")
    return " + ".join([_BASE[base], *(e.upper() for e in extras)])


LABELS = {name: label(name) for name in CONFIG_NAMES}

TABLE2_TEXT = """
Dense | 0% | 3% | 6.75% | 12%
Dense + SWA | 0% | 3% | 6.75% | 12%
L1 | 0% | 0.75% | 1.75% | 6.25%
L1 + SWA | 0% | 0.25% | 2.00% | 6.25%
Soft thresholding | 0% | 6.75% | 18.25% | 38%
Soft thresholding + L1 | 0% | 8.5% | 27.5% | 52%
Soft thresholding + SWA | 0% | 5.75% | 23.75% | 52.25%
Soft thresholding + L1 + SWA | 0% | 4.25% | 21.25% | 44.5%
Magnitude pruning | 0.25% | 30.5% | 50% | 71.75%
Magnitude pruning + L1 | 0% | 0.75% | 3.75% | 11%
Magnitude pruning + SWA | 0.25% | 27.5% | 52.75% | 75.25%
Magnitude pruning + L1 + SWA | 0% | 0.5% | 4% | 13.5%
DSR | 3.75% | 79.5% | 94.5% | 100%
DSR + L1 | 64.25% | 99.25% | 100% | 100%
DSR + SWA | 0.5% | 54.5% | 82% | 95.25%
DSR + L1 + SWA | 25% | 50% | 75% | 100.00%
"""

TABLE3_TEXT = """
Dense | 0.06 ± 0.04 | 0.13 ± 0.12 | 0.18 ± 0.14 | 0.25 ± 0.15
Dense + SWA | 0.06 ± 0.04 | 0.14 ± 0.12 | 0.19 ± 0.18 | 0.27 ± 0.22
L1 | 0.04 ± 0.03 | 0.09 ± 0.08 | 0.12 ± 0.11 | 0.18 ± 0.13
L1 + SWA | 0.04 ± 0.03 | 0.08 ± 0.06 | 0.10 ± 0.08 | 0.16 ± 0.10
Soft thresholding | 0.10 ± 0.06 | 0.29 ± 0.19 | 0.42 ± 0.23 | 0.57 ± 0.25
Soft thresholding + L1 | 0.11 ± 0.06 | 0.31 ± 0.17 | 0.47 ± 0.22 | 0.63 ± 0.22
Soft thresholding + SWA | 0.10 ± 0.07 | 0.31 ± 0.21 | 0.47 ± 0.24 | 0.63 ± 0.26
Soft thresholding + L1 + SWA | 0.11 ± 0.06 | 0.33 ± 0.17 | 0.48 ± 0.24 | 0.63 ± 0.26
Magnitude pruning | 0.17 ± 0.12 | 0.40 ± 0.20 | 0.55 ± 0.28 | 0.72 ± 0.31
Magnitude pruning + L1 | 0.04 ± 0.03 | 0.10 ± 0.10 | 0.16 ± 0.20 | 0.22 ± 0.19
Magnitude pruning + SWA | 0.14 ± 0.08 | 0.44 ± 0.30 | 0.60 ± 0.37 | 0.79 ± 0.45
Magnitude pruning + L1 + SWA | 0.04 ± 0.02 | 0.10 ± 0.08 | 0.14 ± 0.14 | 0.21 ± 0.16
DSR | 0.25 ± 0.13 | 0.67 ± 0.26 | 1.01 ± 0.29 | -
DSR + L1 | 0.50 ± 0.19 | 1.25 ± 0.44 | - | -
DSR + SWA | 0.20 ± 0.11 | 0.60 ± 0.27 | 0.76 ± 0.30 | 0.89 ± 0.38
DSR + L1 + SWA | 0.53 ± 0.19 | - | - | -
"""

# Table 4 calls the dense + SWA row just "SWA".
TABLE4_TEXT = """
Dense | 0%
SWA | 0%
L1 | 0%
L1 + SWA | 0%
Soft thresholding | 56%
Soft thresholding + L1 | 71%
Soft thresholding + SWA | 56%
Soft thresholding + L1 + SWA | 71%
Magnitude pruning | 33%
Magnitude pruning + L1 | 33%
Magnitude pruning + SWA | 33%
Magnitude pruning + L1 + SWA | 33%
DSR | 50%
DSR + L1 | 50%
DSR + SWA | 50%
DSR + L1 + SWA | 50%
"""


def _rows(text: str) -> list[list[str]]:
    """The value cells of each row (the label cell dropped), in paper order."""
    rows = [[cell.strip() for cell in line.split("|")] for line in text.strip().splitlines()]
    assert len(rows) == len(CONFIG_NAMES), f"expected {len(CONFIG_NAMES)} rows, found {len(rows)}"
    return [cells[1:] for cells in rows]


def _number(cell: str) -> float:
    cell = cell.rstrip("%").strip()
    return np.nan if cell in {"-", "–", "—"} else float(cell)


def _frame(values, columns) -> pd.DataFrame:
    return pd.DataFrame(values, index=pd.Index(CONFIG_NAMES, name="config"), columns=columns, dtype=float)


def table2() -> pd.DataFrame:
    """Table 2: % of rollouts diverged; index config names, columns the horizons 100..5000 (samples)."""
    return _frame([[_number(c) for c in row] for row in _rows(TABLE2_TEXT)], list(HORIZONS))


def table3() -> pd.DataFrame:
    """Table 3: RFMSE of non-diverged rollouts; columns ``(horizon, "mean" | "std")``, NaN for "-"."""
    values = []
    for row in _rows(TABLE3_TEXT):
        pairs = [c.split("±") if "±" in c else [c, c] for c in row]
        values.append([_number(x) for pair in pairs for x in pair])
    columns = pd.MultiIndex.from_product([HORIZONS, ("mean", "std")], names=["horizon", "stat"])
    return _frame(values, columns)


def table4() -> pd.DataFrame:
    """Table 4: mean % of weights exactly zero after training; one column ``sparsity``."""
    return _frame([[_number(row[0])] for row in _rows(TABLE4_TEXT)], ["sparsity"])


PARTS = ("paper", "ours", "difference")


def compare(paper: pd.DataFrame, ours: pd.DataFrame) -> pd.DataFrame:
    """Paper | ours | difference (ours − paper) for every column of ``paper``.

    ``ours`` must have the paper's columns; rows are aligned on the config names (a
    configuration missing from ``ours`` gives NaN). The result's columns are
    ``(*column, "paper" | "ours" | "difference")`` and its index the paper's labels.
    """
    missing = [c for c in paper.columns if c not in ours.columns]
    if missing:
        raise ValueError(f"ours must have the paper's columns {list(paper.columns)}; missing {missing}")
    ours = ours.reindex(index=paper.index)[paper.columns].astype(float)
    frame = pd.concat(dict(zip(PARTS, (paper, ours, ours - paper))), axis=1)
    frame = frame.reorder_levels([*range(1, frame.columns.nlevels), 0], axis=1)
    frame = frame[[(*(c if isinstance(c, tuple) else (c,)), part) for c in paper.columns for part in PARTS]]
    frame.index = pd.Index([LABELS[c] for c in frame.index], name="model type")
    return frame
