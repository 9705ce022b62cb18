"""Chapter 8's figures: a sweep's statistics along its grid axis, and the map of the paper's conclusions.

Plotting only: the numbers are a sweep's ``summary.csv`` (:mod:`alukit.studies.sweep`) and the verdicts of
:func:`alukit.studies.robustness.conclusion_map`. Each function draws a new matplotlib figure and returns it.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap

from alukit.studies import paper, robustness
from alukit.studies.conclusions import CONCLUSIONS, VERDICTS

__all__ = ["along", "sparsity_along", "findings_along", "verdict_grid", "conclusion_map", "x_positions"]

_LINE = {"faithful": "tab:orange", "corrected": "tab:blue", "mp": "tab:purple", "dsr": "tab:red"}
_VERDICT_COLOUR = {"holds": "#4c9a2a", "does not hold": "#c0392b", "inconclusive": "#d9d9d9"}
_MARKS = ("s", "D", "^", "v", "P")
_MARK_COLOURS = ("tab:green", "tab:olive", "tab:brown", "tab:gray", "tab:pink")  # none a line colour
_LABEL = {"diverged": "diverged rollouts [%]", "capped": "capped normalised error"}


def x_positions(values) -> tuple[np.ndarray, list[str]]:
    """Positions on a log axis for grid values that may include 0 (drawn one decade below the smallest
    positive value and labelled "0"), and the tick labels."""
    values = np.asarray(values, float)
    positive = values[values > 0]
    zero_at = positive.min() / 10 if positive.size else 1.0
    x = np.where(values > 0, values, zero_at)
    return x, ["0" if v == 0 else f"{v:g}" for v in values]


def _series(summaries, by: str) -> list[tuple[str, bool, pd.DataFrame, pd.DataFrame]]:
    """(line key, SWA, settings rows, summary rows) per line: one per value of ``by`` (``variant`` or ``role``)
    and SWA, over one or several sweeps' summaries."""
    out = []
    for summary in [summaries] if isinstance(summaries, pd.DataFrame) else summaries:
        s = robustness.settings(summary)
        for key, part in s.groupby(by, sort=False):
            for swa, col in ((False, "point"), (True, "swa_point")):
                pts = part.dropna(subset=[col])
                if not pts.empty:
                    out.append((key, swa, pts, summary.loc[list(pts[col])]))
    return out


def along(summaries, axis: str, xlabel: str, statistic: str = "diverged", horizons=(1000, 2500, 5000),
          by: str = "variant", log: bool = True, marks: pd.DataFrame | None = None,
          names: dict | None = None) -> plt.Figure:
    """``<statistic>_<h>`` of one or several sweeps' ``summary.csv`` with its 95 % interval against ``axis`` (a
    column of :func:`alukit.studies.robustness.settings`: a grid axis or ``sparsity``), one panel per horizon, one
    colour per ``by`` value, solid lines without SWA and dashed with it. ``log``: a log axis (0 drawn as in
    :func:`x_positions`). ``marks``: single configurations drawn as markers with their intervals, one row per
    (``label``, ``horizon``) with ``x``, ``estimate``, ``low``, ``high`` (e.g. the study's other methods at their
    sparsity). ``names``: legend names of ``by`` values (default: the study's names of configurations)."""
    names = {**paper.LABELS, **(names or {})}
    fig, axes = plt.subplots(1, len(horizons), figsize=(3.0 * len(horizons), 3.1), sharey=True)
    axes = np.atleast_1d(axes)
    lines = _series(summaries, by)
    for ax, h in zip(axes, horizons):
        col = f"{statistic}_{h}"
        if log:
            ax.set_xscale("log")
        for k, (key, swa, pts, rows) in enumerate(lines):
            values = pts[axis].to_numpy(float)
            pos, ticks = x_positions(values) if log else (values, [f"{v:g}" for v in values])
            order = np.argsort(pos)
            est, lo, hi = (rows[c].to_numpy(float)[order] for c in (col, f"{col}_low", f"{col}_high"))
            xs = pos[order] * 1.05 ** (k % 4 - 1.5) if log else pos[order] + 0.6 * (k % 4 - 1.5)
            ax.errorbar(xs, est, yerr=np.vstack([est - lo, hi - est]), color=_LINE.get(key, "black"), marker="o",
                        ms=3.5, capsize=2.5, lw=1.2, ls="--" if swa else "-",
                        label=f"{names.get(key, key)}{' + SWA' if swa else ''}")
            if log:
                ax.set_xticks(pos[order], [ticks[i] for i in order])
                ax.minorticks_off()
        marked = () if marks is None else marks[marks.horizon == h].groupby("label", sort=False)
        for k, (label, rows) in enumerate(marked):
            est, lo, hi = (rows[c].to_numpy(float) for c in ("estimate", "low", "high"))
            ax.errorbar(rows.x.to_numpy(float), est, yerr=np.vstack([est - lo, hi - est]), ls="none",
                        marker=_MARKS[k % len(_MARKS)], ms=6, capsize=2.5, color=_MARK_COLOURS[k % len(_MARK_COLOURS)],
                        label=label)
        ax.tick_params(axis="x", labelrotation=45, labelsize=9)
        ax.set_title(f"{h} samples", fontsize=10)
        ax.set_xlabel(xlabel)
    axes[0].set_ylabel(_LABEL.get(statistic, statistic))
    if statistic == "diverged":
        axes[0].set_ylim(-2, 102)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=9, frameon=False)
    fig.set_layout_engine("constrained")
    return fig


def sparsity_along(summary: pd.DataFrame, axis: str, xlabel: str = "", by: str = "variant") -> plt.Figure:
    """The models' weights exactly zero and below 1e-3 in magnitude (% of weights, mean over models) against
    the grid axis (log, 0 drawn as in :func:`x_positions`), without SWA."""
    fig, axes = plt.subplots(1, 2, figsize=(6.4, 2.9), sharey=True)
    for ax, col, title in zip(axes, ("zeros", "small"), ("exactly zero", "|w| < 1e-3")):
        ax.set_xscale("log")
        for key, swa, pts, rows in _series(summary, by):
            if swa:
                continue
            pos, ticks = x_positions(pts[axis].to_numpy(float))
            order = np.argsort(pos)
            ax.plot(pos[order], rows[col].to_numpy(float)[order], marker="o", ms=3.5,
                    color=_LINE.get(key, "black"), label=key)
            ax.set_xticks(pos[order], [ticks[i] for i in order])
        ax.minorticks_off()
        ax.tick_params(axis="x", labelrotation=45, labelsize=9)
        ax.set_title(f"weights {title}", fontsize=10)
        ax.set_xlabel(xlabel)
    axes[0].set_ylabel("% of weights")
    axes[0].set_ylim(-3, 103)
    axes[0].legend(fontsize=9, frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def findings_along(summary: pd.DataFrame, panels, sizes) -> plt.Figure:
    """A sparse-DNN sweep's measurements against λ (``summary.csv`` of :mod:`alukit.studies.sweep_sparse_dnn`, long
    format): one panel per ``(metric, window, title)`` of ``panels``, one colour per training-set size of ``sizes``,
    the sparse models without the post-training prune (solid) and with it (dashed), each with its 95 % interval,
    and the dense models (never pruned, the same at every λ) as a dotted line."""
    rows = -(-len(panels) // 3)
    fig, axes = plt.subplots(rows, 3, figsize=(8.4, 2.7 * rows), squeeze=False)
    axes = axes.ravel()
    colours = dict(zip(sizes, ("tab:orange", "tab:blue", "tab:green", "tab:purple")))
    for ax, (metric, window, title) in zip(axes, panels):
        ax.set_xscale("log")
        part = summary[(summary.metric == metric) & (summary.window.fillna("") == window)]
        for n in sizes:
            at = part[part["size"] == n]
            dense = at[at.kind == "dense"].iloc[0]
            ax.axhline(dense.estimate, color=colours[n], ls=":", lw=1.2, label=f"dense, {n} traj.")
            for k, (prune, rows) in enumerate(at[at.kind == "sparse"].groupby("prune")):
                rows = rows.sort_values("l1")
                x = rows.l1.to_numpy(float) * 1.08 ** (k - 0.5)
                est, lo, hi = (rows[c].to_numpy(float) for c in ("estimate", "low", "high"))
                ax.errorbar(x, est, yerr=np.vstack([est - lo, hi - est]), color=colours[n], marker="o", ms=3.5,
                            capsize=2.5, lw=1.2, ls="--" if prune > 0 else "-",
                            label=f"sparse{', pruned' if prune > 0 else ''}, {n} traj.")
        ax.minorticks_off()
        ax.tick_params(axis="x", labelsize=9)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("λ")
    spare = axes[len(panels):]
    for ax in spare:
        ax.axis("off")
    handles = axes[0].get_legend_handles_labels()
    if len(spare):  # the legend in the empty panel, else below the panels
        spare[0].legend(*handles, loc="center", fontsize=9, frameon=False)
    else:
        fig.legend(*handles, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    fig.set_layout_engine("constrained")
    return fig


def verdict_grid(verdicts: pd.DataFrame, row: str, rows, group: tuple[str, ...], column: str,
                 row_labels: dict | None = None) -> plt.Figure:
    """A grid of verdicts: one row per value in ``rows`` of column ``row`` (labelled by ``row_labels``), one cell
    per distinct (``group``..., ``column``) in order of appearance, coloured by ``verdict``; groups are separated
    and labelled on top."""
    columns = list(dict.fromkeys(zip(*(verdicts[c] for c in (*group, column)))))
    code = {v: i for i, v in enumerate(VERDICTS)}
    grid = np.full((len(rows), len(columns)), np.nan)
    for r in verdicts.to_dict("records"):
        grid[list(rows).index(r[row]), columns.index(tuple(r[c] for c in (*group, column)))] = code[r["verdict"]]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.24 * len(columns) + 2.8), 1.0 + 0.38 * len(rows) + 1.2))
    ax.imshow(np.ma.masked_invalid(grid), cmap=ListedColormap([_VERDICT_COLOUR[v] for v in VERDICTS]), vmin=-0.5,
              vmax=len(VERDICTS) - 0.5, aspect="auto", interpolation="nearest")
    ax.grid(False)
    ax.set_yticks(range(len(rows)), [(row_labels or {}).get(r, r) for r in rows], fontsize=9)
    ax.set_xticks(range(len(columns)), [c[-1] for c in columns], rotation=90, fontsize=9)
    starts = [i for i, c in enumerate(columns) if i == 0 or c[:-1] != columns[i - 1][:-1]]
    for i in starts[1:]:
        ax.axvline(i - 0.5, color="black", lw=1)
    for i, j in zip(starts, starts[1:] + [len(columns)]):
        ax.text((i + j - 1) / 2, -0.7, "\n".join(map(str, columns[i][:-1])), ha="center", va="bottom", fontsize=9)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    handles = [plt.Rectangle((0, 0), 1, 1, color=_VERDICT_COLOUR[v]) for v in VERDICTS]
    fig.legend(handles, VERDICTS, loc="outside lower center", ncol=3, fontsize=9, frameon=False)
    fig.set_layout_engine("constrained")
    return fig


def conclusion_map(verdicts: pd.DataFrame) -> plt.Figure:
    """:func:`verdict_grid` of :func:`alukit.studies.robustness.conclusion_map`'s verdicts: one row per conclusion
    and one cell per (sweep, variant, setting) tested."""
    return verdict_grid(verdicts, "conclusion", [c.key for c in CONCLUSIONS], ("sweep", "variant"), "setting",
                        robustness.LABELS)
