"""The study's figures (paper Figs. 4–14) from :class:`alukit.reproduce.Results`.

Plotting only: every number comes from :mod:`alukit.metrics` or the results files.
Each function draws into a new matplotlib figure and returns it.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from . import cell, metrics, paper

# The paper's groupings of configurations per figure (Section IV).
GROUPS = {
    "dense": ("dense", "l1", "str", "mp", "dsr"),  # Figs. 6, 7 (IV-A)
    "l1": ("dense", "l1", "str+l1", "mp+l1", "dsr+l1"),  # Figs. 8, 9 (IV-B)
    "swa": ("dense+swa", "l1+swa", "str+swa", "mp+swa", "dsr+swa"),  # Figs. 10, 11 (IV-C)
    "swa+l1": ("dense+swa", "l1+swa", "str+l1+swa", "mp+l1+swa", "dsr+l1+swa"),  # Figs. 12, 13 (IV-D)
    "l1-vs-l1+swa": ("l1", "l1+swa", "mp+l1", "mp+l1+swa"),  # Fig. 14 (IV-E)
}
_PALETTE = plt.get_cmap("tab10").colors
_BASE_COLOR = {"dense": 0, "l1": 2, "str": 4, "mp": 8, "dsr": 3}  # tab10 index per base method


def _color(config: str):
    """One hue per base method; a configuration with L1 on top of a base method is darker."""
    base = config.split("+")[0]
    rgb = np.array(_PALETTE[_BASE_COLOR[base]])
    return tuple(rgb * 0.6) if base != "l1" and "l1" in config.split("+")[1:] else tuple(rgb)


def _hatch(config: str):
    """SWA configurations are hatched (bars) or lighter (violins)."""
    return "//" if config.endswith("+swa") else None


def divergence_bars(res, configs, title: str = "") -> plt.Figure:
    """Grouped bars: % of rollouts diverged per horizon and configuration.

    Colour: base method (darker with L1); hatched: with SWA.
    Error bars: 95 % bootstrap intervals (models and trajectories resampled); black
    ticks: the paper's Table 2 value of the same configuration and horizon.
    """
    configs = [c for c in configs if c in res.errors]
    stats = res.stats[res.stats.statistic == "divergence"].set_index(["config", "horizon"])
    published = paper.table2()
    fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.8 / max(len(configs), 1)
    x = np.arange(len(res.horizons))
    for k, c in enumerate(configs):
        est = np.array([stats.loc[(c, h), "estimate"] for h in res.horizons])
        low = np.array([stats.loc[(c, h), "low"] for h in res.horizons])
        high = np.array([stats.loc[(c, h), "high"] for h in res.horizons])
        pos = x - 0.4 + width * (k + 0.5)
        ax.bar(pos, est, width * 0.92, color=_color(c), hatch=_hatch(c), edgecolor="white", label=paper.LABELS[c],
               yerr=np.vstack([est - low, high - est]), capsize=2, error_kw={"lw": 0.8})
        ref = [published.loc[c, h] if h in published.columns else np.nan for h in res.horizons]
        ax.scatter(pos, ref, marker="_", s=120, color="k", zorder=3, label="paper" if k == 0 else None)
    ax.set_xticks(x, [f"{h} ΔT" for h in res.horizons])
    ax.set_ylabel("diverged rollouts [%]")
    ax.set_ylim(0, 105)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, ncol=3, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    return fig


def survivor_scores(errors: np.ndarray) -> list[np.ndarray]:
    """Per horizon, the RFMSE of the rollouts that did not diverge (1-D arrays)."""
    alive = ~metrics.diverged(errors)
    score = metrics.rfmse(errors)
    return [score[h][alive[h]] for h in range(len(errors))]


def error_violins(res, configs, title: str = "") -> plt.Figure:
    """Violins of log10 RFMSE of non-diverged rollouts per horizon and configuration.

    A configuration with fewer than two surviving rollouts at a horizon gets no violin
    there (the paper left DSR out of Figs. 7 and 9 for the same reason); black ticks:
    the paper's Table 3 means.
    """
    configs = [c for c in configs if c in res.errors]
    published = paper.table3()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / max(len(configs), 1)
    for k, c in enumerate(configs):
        scores = survivor_scores(res.errors[c])
        for j, (h, s) in enumerate(zip(res.horizons, scores)):
            pos = j - 0.4 + width * (k + 0.5)
            s = s[s > 0]
            if len(s) >= 2:
                parts = ax.violinplot(np.log10(s), [pos], widths=width * 0.95, showmedians=True, showextrema=False)
                for body in parts["bodies"]:
                    body.set_facecolor(_color(c))
                    body.set_alpha(0.4 if _hatch(c) else 0.75)
                parts["cmedians"].set_color("k")
            ref = published.loc[c, (h, "mean")] if (h, "mean") in published.columns else np.nan
            if np.isfinite(ref):
                ax.scatter([pos], [np.log10(ref)], marker="_", s=120, color="k", zorder=3)
        ax.bar([np.nan], [np.nan], color=_color(c), alpha=0.4 if _hatch(c) else 0.75, label=paper.LABELS[c])
    ax.scatter([np.nan], [np.nan], marker="_", s=120, color="k", label="paper: mean")
    ax.set_xticks(np.arange(len(res.horizons)), [f"{h} ΔT" for h in res.horizons])
    ticks = np.arange(-3, 2)
    ax.set_yticks(ticks, [f"$10^{{{t}}}$" for t in ticks])
    ax.set_ylabel("RFMSE of non-diverged rollouts")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, ncol=3, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    return fig


def rollout_panels(true: np.ndarray, pred: np.ndarray, dt: float = 10.0, title: str = "") -> plt.Figure:
    """True states of one trajectory ``(T, ≥8)`` (black) and E models' rollouts ``(E, T, 8)`` (colours)."""
    hours = np.arange(true.shape[0]) * dt / 3600
    fig, axes = plt.subplots(4, 2, figsize=(10, 8), sharex=True)
    for s, ax in enumerate(axes.flat):
        for e in range(pred.shape[0]):
            ax.plot(hours[: pred.shape[1]], pred[e, :, s], lw=0.8, color=_PALETTE[e % 10], alpha=0.8)
        ax.plot(hours, true[:, s], lw=1.6, color="k", label="true")
        lo, hi = true[:, s].min(), true[:, s].max()
        pad = 0.5 * (hi - lo) + 1e-9
        ax.set_ylim(lo - pad, hi + pad)  # diverged models leave the panel instead of squashing it
        var = cell.STATES[s]
        ax.set_title(f"${var.symbol[0]}_{var.symbol[1:]}$: {var.name} [{var.unit}]", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("time [h]")
    axes[0, 0].legend(fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def comparison_style(frame: pd.DataFrame, precision: int = 2):
    """A pandas Styler for a paper | ours | difference table (NaN shown as "–")."""
    return frame.style.format(precision=precision, na_rep="–")


# ---------------------------------------------------------------- the sparse-DNN chapter (alukit.sparse_dnn)

_KIND_COLOR = {"dense": _PALETTE[0], "sparse": _PALETTE[2]}
_EDGE_STYLE = {"true": ("k", "-", 1.0), "TP": ("#2a9d2a", "-", 1.3), "FP": ("#d62728", "--", 1.0),
               "FN": ("#999999", ":", 1.0)}


def _symbol(name: str) -> str:
    return f"${name[0]}_{{{name[1:]}}}$"


def influence_graph(ax, found, truth=None, title: str = "") -> None:
    """Draw a bipartite graph inputs (left) → derivatives (right) into ``ax``.

    ``found``: bool ``(8, 13)`` edges of a model, coloured against ``truth`` (default
    :data:`alukit.cell.DEPENDENCIES`): true positives green, false positives red dashed,
    false negatives grey dotted. ``found=None`` draws the true graph in black.
    """
    truth = cell.DEPENDENCIES if truth is None else np.asarray(truth, bool)
    n_out, n_in = truth.shape
    y_in = np.linspace(1, 0, n_in)
    y_out = np.linspace(0.95, 0.05, n_out)
    kinds = {"true": truth} if found is None else {"FN": truth & ~found, "FP": found & ~truth, "TP": found & truth}
    for kind, mask in kinds.items():
        color, style, lw = _EDGE_STYLE[kind]
        for i, j in zip(*np.nonzero(mask)):
            ax.plot([0, 1], [y_in[j], y_out[i]], color=color, ls=style, lw=lw, alpha=0.8)
    ax.scatter(np.zeros(n_in), y_in, s=40, color="w", edgecolor="k", zorder=3)
    ax.scatter(np.ones(n_out), y_out, s=40, color="w", edgecolor="k", zorder=3)
    for j, name in enumerate(cell.COLUMNS[:n_in]):
        ax.text(-0.06, y_in[j], _symbol(name), ha="right", va="center", fontsize=8)
    for i, var in enumerate(cell.STATES[:n_out]):
        ax.text(1.06, y_out[i], f"$\\dot{{x}}_{{{var.symbol[1:]}}}$", ha="left", va="center", fontsize=8)
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylim(-0.05, 1.05)
    ax.axis("off")
    ax.set_title(title, fontsize=9)


def influence_graphs(panels, truth=None) -> plt.Figure:
    """One :func:`influence_graph` per ``(title, found or None)`` panel, side by side, with a legend."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 4.2))
    for ax, (title, found) in zip(np.atleast_1d(axes), panels):
        influence_graph(ax, found, truth, title)
    handles = [plt.Line2D([], [], color=c, ls=s, lw=w) for c, s, w in _EDGE_STYLE.values()]
    labels = ["true edge", "true positive", "false positive", "false negative"]
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def _by_size(ax, summary: pd.DataFrame, metric: str, window: str = "", offset: float = 0.03) -> None:
    """Estimates with 95 % intervals against training-set size, one line per kind."""
    for k, (kind, color) in enumerate(_KIND_COLOR.items()):
        rows = summary[(summary.metric == metric) & (summary.kind == kind) & (summary.window == window)]
        rows = rows.sort_values("size")
        x = rows["size"].to_numpy(float) * (1 + offset * (2 * k - 1))
        est, lo, hi = (rows[c].to_numpy(float) for c in ("estimate", "low", "high"))
        ax.errorbar(x, est, yerr=np.vstack([est - lo, hi - est]), color=color, marker="o", ms=4, capsize=3,
                    lw=1.2, label=kind)
    sizes = sorted(summary["size"].unique())
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.minorticks_off()
    ax.set_xlabel("training trajectories")


def structure_vs_size(summary: pd.DataFrame, metrics_=("precision", "recall", "f1", "auprc"),
                      titles=("precision", "recall", "F1", "area under PR curve")) -> plt.Figure:
    """Structure scores (mean over models, 95 % interval) against training-set size, dense vs sparse."""
    fig, axes = plt.subplots(1, len(metrics_), figsize=(2.6 * len(metrics_), 2.9), sharey=True)
    for ax, m, t in zip(np.atleast_1d(axes), metrics_, titles):
        _by_size(ax, summary, m)
        ax.set_title(t, fontsize=10)
        ax.set_ylim(0, 1.05)
    np.atleast_1d(axes)[0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def rollouts_vs_size(summary: pd.DataFrame, statistic: str = "divergence") -> plt.Figure:
    """A rollout statistic per window (95 % interval over models and trajectories) against training-set size."""
    windows = [w for w in dict.fromkeys(summary.loc[summary.metric == statistic, "window"])]
    fig, axes = plt.subplots(1, len(windows), figsize=(3.2 * len(windows), 2.9), sharey=True)
    for ax, w in zip(np.atleast_1d(axes), windows):
        _by_size(ax, summary, statistic, w)
        a, b = w.split("-")
        ax.set_title(f"samples [{a}, {b})", fontsize=10)
    ylabel = {"divergence": "diverged rollouts [%]", "capped_mean": "capped normalised error"}.get(statistic, statistic)
    np.atleast_1d(axes)[0].set_ylabel(ylabel)
    np.atleast_1d(axes)[0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


def consistency_vs_size(summary: pd.DataFrame, reference: dict | None = None) -> plt.Figure:
    """Mean pairwise correlation and Jaccard overlap against training-set size; ``reference``:
    ``{kind: (low, high)}`` drawn as shaded bands on the correlation panel."""
    fig, axes = plt.subplots(1, 2, figsize=(7, 2.9), sharey=True)
    for ax, m, t in zip(axes, ("correlation", "jaccard"), ("mean pairwise correlation", "mean pairwise Jaccard")):
        _by_size(ax, summary, m)
        ax.set_title(t, fontsize=10)
    for kind, (lo, hi) in (reference or {}).items():
        axes[0].axhspan(lo, hi, color=_KIND_COLOR[kind], alpha=0.15, lw=0, label=f"released models, {kind}")
    axes[0].set_ylim(min(0, axes[0].get_ylim()[0]), 1.05)
    axes[0].legend(fontsize=7, frameon=False, loc="lower right")
    fig.tight_layout()
    return fig
