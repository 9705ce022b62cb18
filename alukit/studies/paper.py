r"""The paper's published Tables 2, 3 and 4, as data, and paper | ours | difference tables.

The rows below are the paper's own table rows (the article's text of the tables is
kept in ``tests/data/paper_tables.txt``), copied with tabs written as `` | `` and
``$\pm$`` as ``±``; ``tests/test_paper.py`` checks them against that text.
A "-" (no surviving rollout) becomes NaN. Rows are keyed by the configuration names
of :data:`CONFIG_NAMES` in the paper's order; :data:`LABELS` gives the paper's wording.

Two printed rows of Table 2 are not what the authors' code computed (their
``results.ipynb`` outputs, repository ``emilhaugstvedt/sparsity``): *Dense + SWA* repeats
the Dense row, and *DSR + L1 + SWA* is the horizons 100…400 divided by 400.
:data:`COMPUTED_COUNTS` holds what their code computed; ``table2("computed")`` uses it
for those two rows, and every comparison in the book does. :func:`agreement` and
:func:`agreement_counts` compare a Table 2 with a study's bootstrap intervals;
:func:`agreement_by_chance` simulates how many entries two runs of one procedure, with other
seeds and test sets, agree in by sampling alone.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from alukit.training.config import CONFIG_NAMES  # noqa: F401  (the table rows, in the paper's order)
from alukit.evaluation.metrics import HORIZONS, diverged  # HORIZONS: the table columns, rollout horizons in steps

__all__ = ["LABELS", "labels_listed", "ARTEFACTS", "VALUES", "TEXT_DIMS", "table2", "table2_artefacts", "table3",
           "table4", "compare", "agreement", "agreement_counts", "RESAMPLE", "agreement_by_chance"]

_BASE = {"dense": "Dense", "l1": "L1", "str": "Soft thresholding", "mp": "Magnitude pruning", "dsr": "DSR"}


def label(config: str) -> str:
    """The paper's row label of a configuration name (``"str+l1"`` → ``"Soft thresholding + L1"``)."""
    if config not in CONFIG_NAMES:
        raise ValueError(f"config must be one of {', '.join(CONFIG_NAMES)}; got {config!r}")
    base, *extras = config.split("+")
    return " + ".join([_BASE[base], *(e.upper() for e in extras)])


LABELS = {name: label(name) for name in CONFIG_NAMES}


def labels_listed(configs) -> str:
    """The paper's labels of ``configs`` as prose: ``("l1", "mp", "dsr")`` → ``"L1, Magnitude pruning and DSR"``."""
    names = [label(c) for c in configs]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


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


# Diverged rollouts out of N_ROLLOUTS at 100, 1000, 2500 and 5000 samples, as the authors' code computed them
# (printed outputs of results.ipynb: the "Dense" model of its SWA section and "DSR" of its SWA + L1 section).
N_ROLLOUTS = 400
COMPUTED_COUNTS = {"dense+swa": (0, 17, 39, 62), "dsr+l1+swa": (252, 399, 400, 400)}
ARTEFACTS = {
    "dense+swa": "printed row repeats the Dense row",
    "dsr+l1+swa": "printed row is the horizons 100…400 divided by 400",
}
VALUES = ("printed", "computed")
# Network dimensions the paper's text gives (Section III-D: "dimensions [...]"): the dense model (and with it
# L1 and STR), and DSR. The released models have four hidden layers.
TEXT_DIMS = {"dense": (13, 25, 25, 25, 8), "dsr": (13, 128, 128, 128, 8)}


def table2(values: str = "printed") -> pd.DataFrame:
    """Table 2: % of rollouts diverged; index config names, columns the horizons 100..5000 (samples).

    ``values``: ``"printed"`` (the paper as printed) or ``"computed"`` (the rows of
    :data:`ARTEFACTS` replaced by what the authors' code computed, :data:`COMPUTED_COUNTS`
    / :data:`N_ROLLOUTS` in %).
    """
    if values not in VALUES:
        raise ValueError(f"values must be one of {', '.join(map(repr, VALUES))}; got {values!r}")
    table = _frame([[_number(c) for c in row] for row in _rows(TABLE2_TEXT)], list(HORIZONS))
    if values == "computed":
        for config, counts in COMPUTED_COUNTS.items():
            table.loc[config] = [100.0 * k / N_ROLLOUTS for k in counts]
    return table


def table2_artefacts() -> pd.DataFrame:
    """The Table 2 entries whose printed value differs from the computed one.

    Columns ``config``, ``horizon``, ``printed``, ``computed`` (%) and ``note`` (why the
    printed row is wrong), in paper order.
    """
    printed, computed = table2("printed"), table2("computed")
    rows = [{"config": c, "horizon": h, "printed": printed.at[c, h], "computed": computed.at[c, h],
             "note": ARTEFACTS[c]}
            for c in CONFIG_NAMES if c in ARTEFACTS for h in HORIZONS if printed.at[c, h] != computed.at[c, h]]
    return pd.DataFrame(rows)


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


def agreement(stats: pd.DataFrame, reference: pd.DataFrame | None = None, tol: float = 5.0,
              values: str = "computed") -> pd.DataFrame:
    """Each Table 2 entry of a study against a reference Table 2.

    ``stats``: a study's bootstrap table (``results/*/stats.csv``: ``config``, ``horizon``,
    ``statistic``, ``estimate``, ``low``, ``high``); its ``divergence`` rows are used.
    ``reference``: a Table 2 (index configs, columns horizons; default the paper's,
    :func:`table2` with ``values``). Entries present in both count. Returns one row per
    entry, index ``(config, horizon)``: ``reference``, ``estimate``, ``low``, ``high``,
    ``difference`` (estimate − reference, percentage points), ``inside`` (reference in
    [low, high]) and ``within`` (|difference| ≤ ``tol``).
    """
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0 percentage points; got {tol!r}")
    missing = {"config", "horizon", "statistic", "estimate", "low", "high"} - set(stats.columns)
    if missing:
        raise ValueError(f"stats must have the columns of a results stats.csv; missing {sorted(missing)}")
    reference = table2(values) if reference is None else reference
    ref = reference.rename(columns=int).stack().rename("reference").astype(float)
    ref.index = ref.index.set_names(["config", "horizon"])
    div = stats[stats.statistic == "divergence"].astype({"horizon": int}).set_index(["config", "horizon"])
    frame = pd.concat([ref, div[["estimate", "low", "high"]]], axis=1, join="inner")
    frame = frame.loc[[k for k in ref.index if k in frame.index]]  # reference order
    eps = 1e-9  # interval ends are bootstrap percentiles: exact values up to rounding
    frame["difference"] = frame.estimate - frame.reference
    frame["inside"] = (frame.low - eps <= frame.reference) & (frame.reference <= frame.high + eps)
    frame["within"] = frame.difference.abs() <= tol + eps
    return frame


def agreement_counts(stats: pd.DataFrame, reference: pd.DataFrame | None = None, tol: float = 5.0,
                     values: str = "computed") -> dict[str, int]:
    """``{"entries", "inside", "within"}``: how many Table 2 entries :func:`agreement` compares, and how many agree."""
    frame = agreement(stats, reference, tol, values)
    return {"entries": len(frame), "inside": int(frame.inside.sum()), "within": int(frame.within.sum())}


RESAMPLE = ("both", "models")  # what agreement_by_chance draws anew for each simulated study


class ChanceAgreement(NamedTuple):
    """What :func:`agreement_by_chance` simulated.

    ``entries``: index ``(config, horizon)``, columns ``inside`` and ``within``: the
    probability that an entry agrees. ``counts``: one row per simulated pair of studies,
    columns ``inside`` and ``within``: how many entries agree (as :func:`agreement_counts`).
    """

    entries: pd.DataFrame
    counts: pd.DataFrame


def _resample_counts(rng, size: int, shape: tuple[int, ...]) -> np.ndarray:
    """``shape + (size,)`` integers: how often each of ``size`` items is drawn in ``size`` draws with replacement."""
    small = np.int16 if size <= np.iinfo(np.int16).max else np.int64  # small draws are faster
    idx = rng.integers(0, size, (*shape, size), dtype=small).reshape(-1, size)
    idx = idx + size * np.arange(len(idx))[:, None]
    return np.bincount(idx.ravel(), minlength=len(idx) * size).reshape(*shape, size)


def agreement_by_chance(errors, horizons, resample: str = "both", tol: float = 5.0, n_sim: int = 1000,
                        n_boot: int = 400, level: float = 0.95, seed: int = 0) -> ChanceAgreement:
    """How many Table 2 entries two runs of one procedure agree in, by sampling alone.

    ``errors``: ``{config: (H, E, n, 8)}`` per-state rollout errors of one study (a
    results ``errors.npz``; :attr:`alukit.studies.reproduce.Results.errors`), ``horizons`` its
    ``H`` horizons (steps). Each simulation draws two independent studies from it, one draw
    per configuration for all horizons, calls one "the paper" and the other "ours", and
    scores them as :func:`agreement` does: the paper's % diverged inside ours' percentile
    bootstrap interval (``n_boot`` resamples of models and trajectories, as
    :func:`alukit.evaluation.metrics.bootstrap`) and within ``tol`` percentage points of ours. The
    entries are the Table 2 configurations in ``errors`` at the Table 2 horizons in
    ``horizons``. Deterministic for a ``seed``.

    ``resample`` (one of :data:`RESAMPLE`) says what each simulated study draws anew, with
    replacement: ``"both"``, its E models and its n test trajectories, as two real studies
    do; resampling both counts the models' × trajectories' interaction twice, so the two
    studies differ more than two fresh ones would and the agreement is, if anything, too
    low. ``"models"``, its E models only, on the same n test trajectories; this leaves out
    the spread of the test set, so the agreement is, if anything, too high. The two bracket
    what sampling alone allows, to within a few points per entry (``tests/test_paper.py``
    checks this on synthetic studies whose fresh draws can be scored).
    """
    cols, configs = _check_chance(errors, horizons, resample, tol, n_sim, n_boot, level)
    horizons = [int(h) for h in horizons]
    rng = np.random.default_rng(seed)
    q = 100 * np.array([(1 - level) / 2, (1 + level) / 2])
    probs, inside_n, within_n = {}, np.zeros(n_sim, int), np.zeros(n_sim, int)
    for c in configs:
        div = diverged(np.asarray(errors[c])[cols]).astype(float)  # (H, E, n)
        inside, within = _simulate_pairs(div, rng, resample, n_sim, n_boot, q, tol)
        inside_n += inside.sum(0)
        within_n += within.sum(0)
        for j, col in enumerate(cols):
            probs[(c, horizons[col])] = {"inside": inside[j].mean(), "within": within[j].mean()}
    entries = pd.DataFrame.from_dict(probs, orient="index")
    entries.index = entries.index.set_names(["config", "horizon"])
    return ChanceAgreement(entries, pd.DataFrame({"inside": inside_n, "within": within_n}))


def _check_chance(errors, horizons, resample, tol, n_sim, n_boot, level) -> tuple[list[int], list[str]]:
    """:func:`agreement_by_chance`'s arguments checked: the Table 2 horizons' columns and configurations."""
    if resample not in RESAMPLE:
        raise ValueError(f"resample must be one of {', '.join(map(repr, RESAMPLE))}; got {resample!r}")
    for name, value in (("n_sim", n_sim), ("n_boot", n_boot)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}")
    if not tol >= 0:
        raise ValueError(f"tol must be >= 0 percentage points; got {tol!r}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}")
    horizons = [int(h) for h in horizons]
    cols = [horizons.index(h) for h in HORIZONS if h in horizons]
    configs = [c for c in CONFIG_NAMES if c in errors]
    if not cols or not configs:
        raise ValueError(f"errors must hold Table 2 configurations ({', '.join(CONFIG_NAMES)}) at Table 2 "
                         f"horizons {HORIZONS}; got {sorted(errors)} at {horizons}")
    for c in configs:
        if np.ndim(errors[c]) != 4 or len(errors[c]) != len(horizons):
            raise ValueError(f"errors[{c!r}] must be (H, E, n, 8) with H = {len(horizons)} horizons; "
                             f"got shape {np.shape(errors[c])}")
    return cols, configs


def _simulate_pairs(div: np.ndarray, rng, resample: str, n_sim: int, n_boot: int, q, tol: float):
    """``(inside, within)`` bool ``(H, n_sim)``: for one configuration's diverged flags ``div`` ``(H, E, n)``,
    ``n_sim`` pairs of simulated studies scored as :func:`agreement_by_chance` says."""
    eps = 1e-9  # interval ends are percentiles of multiples of 100 / (E n): exact up to rounding
    _, E, n = div.shape
    pick_m, pick_t = rng.integers(0, E, (2, n_sim, E)), rng.integers(0, n, (2, n_sim, n))
    if resample == "models":
        pick_t = np.broadcast_to(np.arange(n), pick_t.shape)
    theirs = 100 * div[:, pick_m[0][:, :, None], pick_t[0][:, None, :]].mean((2, 3)).T  # (S, H)
    inside, within = [], []
    for lo_s in range(0, n_sim, 200):  # 200 simulations at a time bound the memory
        sl = slice(lo_s, min(lo_s + 200, n_sim))
        ours = div[:, pick_m[1][sl][:, :, None], pick_t[1][sl][:, None, :]]  # (H, s, E, n)
        s = ours.shape[1]
        wm = _resample_counts(rng, E, (s, n_boot))  # (s, B, E): ours' bootstrap, as metrics.bootstrap
        wt = _resample_counts(rng, n, (s, n_boot))
        boot = 100 * np.einsum("hsmb,sbm->hsb", ours @ wt.transpose(0, 2, 1), wm) / (E * n)
        lo, hi = np.percentile(boot, q, axis=-1)  # (H, s) each
        est, ref = 100 * ours.mean((2, 3)), theirs[sl].T
        inside.append((lo - eps <= ref) & (ref <= hi + eps))
        within.append(np.abs(est - ref) <= tol + eps)
    return np.concatenate(inside, 1), np.concatenate(within, 1)
