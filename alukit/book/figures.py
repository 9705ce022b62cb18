"""The book's figures: the cell and its trajectories (paper Figs. 1–3), and the study's
figures (Figs. 4–14 and the errata chart) from :class:`alukit.studies.reproduce.Results`.

Plotting only: every number comes from :mod:`alukit.process.cell`, :mod:`alukit.evaluation.metrics` or the
results files. Each function except :func:`draw_cell` (which draws into a given axes)
draws into a new matplotlib figure and returns it.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from alukit.process import cell
from alukit.evaluation import metrics
from alukit.studies import paper
from alukit.book import numbers

__all__ = ["GROUPS", "divergence_bars", "error_violins", "rollout_panels", "comparison_style", "variant_bars",
           "plot_columns", "plot_derived", "draw_cell", "influence_graphs", "structure_vs_size", "rollouts_vs_size",
           "consistency_vs_size", "cell_equations", "setup", "png", "figure_report", "read_report",
           "readability_problems", "MIN_TEXT_PX", "MAX_LEGEND_COLOURS"]

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


def _divergence_interval(res, config: str, horizons):
    """``(estimate, low, high)`` arrays of a configuration's % diverged at ``horizons`` (bootstrap, ``stats.csv``)."""
    st = res.stats[(res.stats.statistic == "divergence") & (res.stats.config == config)].set_index("horizon")
    rows = st.loc[list(horizons)]
    return rows.estimate.to_numpy(), rows.low.to_numpy(), rows.high.to_numpy()


def _paper_divergence(configs, horizon: int) -> np.ndarray:
    """The paper's Table 2 value of each configuration at ``horizon`` (NaN where the paper has none);
    for the two misprinted rows, what the authors' code computed."""
    published = paper.table2("computed")
    if horizon not in published.columns:
        return np.full(len(configs), np.nan)
    return np.array([published.loc[c, horizon] for c in configs], dtype=float)


def divergence_bars(res, configs, title: str = "") -> plt.Figure:
    """Grouped bars: % of rollouts diverged per horizon and configuration.

    Colour: base method (darker with L1); hatched: with SWA.
    Error bars: 95 % bootstrap intervals (models and trajectories resampled); red
    diamonds (:data:`PAPER_MARKER`): the paper's Table 2 value of the same configuration and horizon (for the two
    rows the paper misprints, what the authors' code computed: :func:`alukit.studies.paper.table2`).
    """
    configs = [c for c in configs if c in res.errors]
    fig, ax = plt.subplots(figsize=(9, 3.6))
    width = 0.8 / max(len(configs), 1)
    x = np.arange(len(res.horizons))
    for k, c in enumerate(configs):
        est, low, high = _divergence_interval(res, c, res.horizons)
        pos = x - 0.4 + width * (k + 0.5)
        ax.bar(pos, est, width * 0.92, color=_color(c), hatch=_hatch(c), edgecolor="white", label=paper.LABELS[c],
               yerr=np.vstack([est - low, high - est]), capsize=2, error_kw={"lw": 0.8})
        ref = [_paper_divergence([c], h)[0] for h in res.horizons]
        ax.scatter(pos, ref, **PAPER_MARKER, label="paper" if k == 0 else None)
    ax.set_xticks(x, [f"{h} ΔT" for h in res.horizons])
    ax.set_ylabel("diverged rollouts [%]")
    ax.set_ylim(0, 105)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9, ncol=3, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12))
    fig.tight_layout()
    return fig


# The paper's value on our figures: a red diamond, apart from error-bar caps and our medians (black lines).
PAPER_MARKER = dict(marker="D", s=24, color="#d62728", edgecolors="k", linewidths=0.6, zorder=4)


def survivor_scores(errors: np.ndarray) -> list[np.ndarray]:
    """Per horizon, the RFMSE of the rollouts that did not diverge (1-D arrays)."""
    alive = ~metrics.diverged(errors)
    score = metrics.rfmse(errors)
    return [score[h][alive[h]] for h in range(len(errors))]


def error_violins(res, configs, title: str = "") -> plt.Figure:
    """Violins of log10 RFMSE of non-diverged rollouts per horizon and configuration.

    A configuration with fewer than two surviving rollouts at a horizon gets no violin
    there (the paper left DSR out of Figs. 7 and 9 for the same reason); black lines: our
    medians; red diamonds: the paper's Table 3 means.
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
                parts["cmedians"].set_linewidth(1.2)
            ref = published.loc[c, (h, "mean")] if (h, "mean") in published.columns else np.nan
            if np.isfinite(ref):
                ax.scatter([pos], [np.log10(ref)], **PAPER_MARKER)
        ax.bar([np.nan], [np.nan], color=_color(c), alpha=0.4 if _hatch(c) else 0.75, label=paper.LABELS[c])
    ax.plot([np.nan], [np.nan], color="k", lw=1.2, label="ours: median")
    ax.scatter([np.nan], [np.nan], **PAPER_MARKER, label="paper: mean")
    ax.set_xticks(np.arange(len(res.horizons)), [f"{h} ΔT" for h in res.horizons])
    ticks = np.arange(-3, 2)
    ax.set_yticks(ticks, [f"$10^{{{t}}}$" for t in ticks])
    ax.set_ylabel("RFMSE of non-diverged rollouts")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=9, ncol=3, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12))
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
    axes[0, 0].legend(fontsize=9, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def comparison_style(frame: pd.DataFrame, quantity: str = "diverged"):
    """A pandas Styler for a :func:`alukit.studies.paper.compare` table, one cell per column of the paper's:
    ``"paper / ours"``, formatted by :func:`alukit.book.numbers.number` for ``quantity`` (the differences are
    the chapter's own table of misses).
    An integer column key (a horizon) is shown as ``"<key> ΔT"``; a missing value as "–"."""
    keys = list(dict.fromkeys(c[:-1] for c in frame.columns))
    cells = {}
    for key in keys:
        p, o, d = (frame[(*key, part)] for part in ("paper", "ours", "difference"))
        label = " ".join(f"{k} ΔT" if isinstance(k, (int, np.integer)) else str(k) for k in key)
        cells[label] = [f"{numbers.number(a, quantity)} / {numbers.number(b, quantity)}" for a, b in zip(p, o)]
    return pd.DataFrame(cells, index=frame.index).style.set_table_attributes('class="alukit-nowrap-table"')


def variant_bars(results: dict, configs, horizon: int) -> plt.Figure:
    """% of rollouts diverged at one horizon per configuration, one bar per variant (errata chapter).

    ``results``: ``{variant: Results}``. Error bars: 95 % bootstrap intervals; red
    diamonds: the paper's Table 2 value.
    """
    fig, ax = plt.subplots(figsize=(10, 3.6))
    x = np.arange(len(configs))
    width = 0.8 / max(len(results), 1)
    for k, (variant, res) in enumerate(results.items()):
        est, low, high = (np.array(v) for v in zip(*(
            (a[0], b[0], c[0]) for a, b, c in (_divergence_interval(res, cf, [horizon]) for cf in configs))))
        ax.bar(x - 0.4 + width * (k + 0.5), est, width * 0.95, label=variant, color=_PALETTE[k],
               yerr=np.vstack([est - low, high - est]), capsize=2, error_kw={"lw": 0.7})
    ax.scatter(x, _paper_divergence(configs, horizon), **PAPER_MARKER, label="paper")
    ax.set_xticks(x, [paper.LABELS[c] for c in configs], rotation=60, ha="right", fontsize=9)
    ax.set_ylabel(f"diverged at {horizon} ΔT [%]")
    ax.set_ylim(0, 105)
    ax.legend(frameon=False, fontsize=9, ncol=3, loc="lower center", bbox_to_anchor=(0.5, 1.0))
    fig.tight_layout()
    return fig


def _symbol(name: str) -> str:
    """``"x1"`` → ``"$x_{1}$"`` (math text for labels)."""
    return f"${name[0]}_{{{name[1:]}}}$"


def plot_columns(variables, series: np.ndarray, hours: np.ndarray, ncols: int = 2, height: float = 2.0) -> plt.Figure:
    """One panel per variable of :data:`alukit.process.cell.STATES`/``INPUTS``; one line per trajectory.

    ``series``: ``(n, T, len(variables))`` in the variables' units; ``hours``: ``(T,)``.
    """
    nrows = -(-len(variables) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(10, height * nrows), sharex=True, squeeze=False)
    for k, (var, ax) in enumerate(zip(variables, axes.flat)):
        for t in range(series.shape[0]):
            ax.plot(hours, series[t, :, k], lw=0.9, color=_PALETTE[t % 10], label=f"trajectory {t + 1}")
        ax.set_ylabel(f"{_symbol(var.symbol)} [{var.unit}]")
        ax.set_title(f"{_symbol(var.symbol)}: {var.name}", fontsize=10)
    for ax in axes.flat[len(variables):]:
        ax.axis("off")
    for ax in axes[-1]:
        ax.set_xlabel("time [h]")
    if nrows > 1:
        for ax in axes[-2][len(variables) % ncols or ncols:]:  # above an empty panel: label its time axis
            ax.set_xlabel("time [h]")
            ax.xaxis.set_tick_params(labelbottom=True)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def plot_derived(hours: np.ndarray, voltage: np.ndarray, superheat: np.ndarray, title: str | None = None) -> plt.Figure:
    """Cell voltage [V] and superheat [°C], each ``(n, T)``, against ``hours`` ``(T,)``; one line per trajectory."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.0), sharex=True)
    for t in range(voltage.shape[0]):
        axes[0].plot(hours, voltage[t], lw=0.9, color=_PALETTE[t % 10], label=f"trajectory {t + 1}")
        axes[1].plot(hours, superheat[t], lw=0.9, color=_PALETTE[t % 10])
    axes[0].set_ylabel("bath + bubble voltage $U$ [V]")
    axes[1].set_ylabel("superheat $x_6 - g_1$ [°C]")
    axes[0].set_title("cell voltage", fontsize=10)
    axes[1].set_title("superheat of the bath", fontsize=10)
    for ax in axes:
        ax.set_xlabel("time [h]")
    if title:
        fig.suptitle(title, fontsize=11)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


_CELL_COLORS = {"shell": "#6f7378", "cathode": "#3b3b3b", "metal": "#c9ced6", "bath": "#f2a65a",
                "ledge": "#dfeef7", "anode": "#2b2b2b", "rod": "#b87333", "bar": "#8a8f96"}


def _cell_body(ax) -> None:
    """The parts of the cell: shell, cathode, collector bars, metal, bath, crust, ledge, anodes, feeder, siphon."""
    from matplotlib import patches

    c = _CELL_COLORS
    ax.add_patch(patches.Rectangle((0.5, 0.5), 11.0, 5.0, fc=c["shell"], ec="k", lw=1))
    ax.add_patch(patches.Rectangle((0.85, 0.85), 10.3, 4.65, fc="white", ec="none"))
    ax.add_patch(patches.Rectangle((0.85, 0.85), 10.3, 1.05, fc=c["cathode"], ec="k", lw=0.8))
    for x0 in (0.05, 10.75):  # collector bars
        ax.add_patch(patches.Rectangle((x0, 1.15), 1.2, 0.3, fc=c["bar"], ec="k", lw=0.8))
    ax.add_patch(patches.Rectangle((0.85, 1.9), 10.3, 0.8, fc=c["metal"], ec="k", lw=0.6))
    ax.add_patch(patches.Rectangle((0.85, 2.7), 10.3, 2.0, fc=c["bath"], ec="k", lw=0.6))
    ax.add_patch(patches.Rectangle((0.85, 4.7), 10.3, 0.3, fc="#e8e2d0", ec="k", lw=0.5, hatch="..."))  # crust
    left = [(0.85, 1.9), (2.05, 1.9), (1.55, 2.8), (1.35, 5.0), (0.85, 5.0)]  # side ledge, thicker at the metal
    ax.add_patch(patches.Polygon(left, fc=c["ledge"], ec="#5b8fb0", lw=1.2))
    ax.add_patch(patches.Polygon([(12 - x, y) for x, y in left], fc=c["ledge"], ec="#5b8fb0", lw=1.2))
    for x0 in (2.6, 7.1):  # anodes and rods
        ax.add_patch(patches.Rectangle((x0, 3.35), 2.3, 2.35, fc=c["anode"], ec="k", lw=0.8))
        ax.add_patch(patches.Rectangle((x0 + 1.05, 5.7), 0.2, 1.2, fc=c["rod"], ec="k", lw=0.6))
    for x0, width in ((2.3, 3.2), (6.5, 3.2)):  # anode beam, with an opening for the feeders
        ax.add_patch(patches.Rectangle((x0, 6.9), width, 0.3, fc=c["rod"], ec="k", lw=0.8))
    ax.add_patch(patches.Polygon([(5.3, 7.9), (6.7, 7.9), (6.2, 7.3), (5.8, 7.3)], fc="#d9d9d9", ec="k", lw=0.8))
    ax.plot([10.4, 10.4, 11.9], [2.2, 6.4, 6.4], color="#555", lw=4, solid_capstyle="round")  # tapping siphon


def _cell_inputs(ax) -> None:
    """Red arrows and labels of the five inputs where they act."""
    arrow = dict(arrowstyle="-|>", color="#b00020", lw=1.6)
    inp = dict(fontsize=9.5, va="center", color="#b00020", bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="#b00020"))
    ax.annotate("", xy=(5.8, 4.75), xytext=(5.8, 7.25), arrowprops=arrow)
    ax.annotate("", xy=(6.2, 4.75), xytext=(6.2, 7.25), arrowprops=arrow)
    ax.text(5.0, 8.45, "$u_1$ Al$_2$O$_3$ feed\n$u_3$ AlF$_3$ feed", ha="center", **inp)
    ax.annotate("", xy=(2.9, 7.2), xytext=(2.9, 8.2), arrowprops=arrow)
    ax.text(1.2, 8.45, "$u_2$ line current (in)", ha="center", **inp)
    ax.annotate("", xy=(12.9, 1.3), xytext=(11.95, 1.3), arrowprops=arrow)
    ax.text(13.05, 1.3, "$u_2$ line current (out)", ha="left", **inp)
    ax.annotate("", xy=(12.9, 6.4), xytext=(11.9, 6.4), arrowprops=arrow)
    ax.text(13.05, 6.4, "$u_4$ metal tapping", ha="left", **inp)
    ax.annotate("", xy=(8.25, 2.68), xytext=(8.25, 3.37),
                arrowprops=dict(arrowstyle="<|-|>", color="#b00020", lw=1.2, mutation_scale=9, shrinkA=0, shrinkB=0))
    ax.annotate("$u_5$ anode–cathode distance", xy=(8.3, 3.02), xytext=(13.05, 3.1),
                arrowprops=dict(arrowstyle="-", color="#b00020", lw=0.8), ha="left", **inp)


def _cell_states(ax) -> None:
    """Blue-framed labels of the eight states and plain names of the parts."""
    label = dict(fontsize=9.5, va="center")
    state = dict(fontsize=9.5, va="center", bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="#5b8fb0"))
    line = dict(arrowstyle="-", color="#5b8fb0")
    ax.annotate("$x_1$ side ledge mass\n$x_7$ side ledge temperature", xy=(1.3, 3.6), xytext=(-1.2, 3.6),
                arrowprops=line, ha="right", **state)
    ax.annotate("$x_8$ wall temperature", xy=(0.6, 5.3), xytext=(-1.2, 5.6), arrowprops=line, ha="right", **state)
    ax.annotate("bath: $x_2$ Al$_2$O$_3$, $x_3$ AlF$_3$,\n$x_4$ Na$_3$AlF$_6$ masses;\n$x_6$ bath temperature",
                xy=(6.0, 3.4), xytext=(13.05, 4.6), arrowprops=line, ha="left", **state)
    ax.annotate("$x_5$ metal mass", xy=(9.4, 2.3), xytext=(13.05, 2.2), arrowprops=line, ha="left", **state)
    for x in (3.75, 8.25):
        ax.text(x, 4.4, "anode", color="white", ha="center", **label)
    ax.text(6.0, 2.3, "metal pad (liquid Al)", ha="center", **label)
    ax.text(6.0, 3.1, "bath", ha="center", **label)
    ax.text(6.0, 1.35, "carbon cathode", color="white", ha="center", **label)
    ax.text(6.0, 0.22, "steel shell (wall)", ha="center", fontsize=9, va="center")
    ax.text(4.2, 7.5, "anode beam", ha="center", fontsize=9, va="center")
    ax.text(-1.2, 1.3, "collector bar", ha="right", **label)
    ax.plot([-1.1, 0.05], [1.3, 1.3], color="#888", lw=0.6)
    ax.text(-1.2, 4.85, "crust", ha="right", **label)
    ax.plot([-1.1, 0.9], [4.85, 4.85], color="#888", lw=0.6)


def draw_cell(ax) -> None:
    """Cross-section of one cell (Fig. 1) into ``ax``, with the states and inputs labelled where they act."""
    _cell_body(ax)
    _cell_inputs(ax)
    _cell_states(ax)
    ax.set_xlim(-5.2, 17.2)
    ax.set_ylim(-0.1, 9.0)
    ax.set_aspect("equal")
    ax.axis("off")


# ---------------------------------------------------------------- the sparse-DNN chapter (alukit.studies.sparse_dnn)

_KIND_COLOR = {"dense": _PALETTE[0], "sparse": _PALETTE[2]}
_EDGE_STYLE = {"true": ("k", "-", 1.0), "TP": ("#2a9d2a", "-", 1.3), "FP": ("#d62728", "--", 1.0),
               "FN": ("#999999", ":", 1.0)}


def influence_graph(ax, found, truth=None, title: str = "", strength=None) -> None:
    """Draw a bipartite graph inputs (left) → derivatives (right) into ``ax``.

    ``found``: bool ``(8, 13)`` edges of a model, coloured against ``truth`` (default
    :data:`alukit.process.cell.DEPENDENCIES`): true positives green, false positives red dashed,
    false negatives grey dotted. ``found=None`` draws the true graph in black. ``strength``: the
    model's normalised influence ``(8, 13)``; then only its strongest edges are drawn, as many as the
    true graph has, with widths by strength, and the true edges among them are its true positives.
    """
    truth = cell.DEPENDENCIES if truth is None else np.asarray(truth, bool)
    n_out, n_in = truth.shape
    y_in = np.linspace(1, 0, n_in)
    y_out = np.linspace(0.95, 0.05, n_out)
    width = np.ones(truth.shape)
    if strength is not None and found is not None:
        strength = np.asarray(strength, float)
        top = np.zeros(truth.size, bool)
        top[np.argsort(-strength, axis=None)[:int(truth.sum())]] = True
        found = found & top.reshape(truth.shape)
        width = 0.4 + 2.6 * strength / max(float(strength.max()), 1e-12)
    kinds = {"true": truth} if found is None else {"FN": truth & ~found, "FP": found & ~truth, "TP": found & truth}
    for kind, mask in kinds.items():
        color, style, lw = _EDGE_STYLE[kind]
        for i, j in zip(*np.nonzero(mask)):
            ax.plot([0, 1], [y_in[j], y_out[i]], color=color, ls=style, alpha=0.8,
                    lw=lw if kind in ("true", "FN") else lw * width[i, j])
    ax.scatter(np.zeros(n_in), y_in, s=40, color="w", edgecolor="k", zorder=3)
    ax.scatter(np.ones(n_out), y_out, s=40, color="w", edgecolor="k", zorder=3)
    for j, name in enumerate(cell.COLUMNS[:n_in]):
        ax.text(-0.06, y_in[j], _symbol(name), ha="right", va="center", fontsize=10)
    for i, var in enumerate(cell.STATES[:n_out]):
        ax.text(1.06, y_out[i], f"$\\dot{{x}}_{{{var.symbol[1:]}}}$", ha="left", va="center", fontsize=10)
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylim(-0.05, 1.05)
    ax.axis("off")
    ax.set_title(title, fontsize=10)


def influence_graphs(panels, truth=None) -> plt.Figure:
    """One :func:`influence_graph` per ``(title, found or None[, strength])`` panel, side by side, with a legend."""
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 4.4))
    for ax, (title, found, *strength) in zip(np.atleast_1d(axes), panels):
        influence_graph(ax, found, truth, title, strength[0] if strength else None)
    handles = [plt.Line2D([], [], color=c, ls=s, lw=w) for c, s, w in _EDGE_STYLE.values()]
    labels = ["true edge", "true positive", "false positive", "false negative"]
    fig.legend(handles, labels, loc="lower center", ncol=4, frameon=False, fontsize=9)
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
    np.atleast_1d(axes)[0].legend(fontsize=9, frameon=False)
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
    np.atleast_1d(axes)[0].legend(fontsize=9, frameon=False)
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
    axes[0].legend(fontsize=9, frameon=False, loc="lower right")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- the cell's equations (chapter 1), from cell.py

# Each block: (left side, Python expression) per line. Names of the simulator's number table (cell._NUMBERS)
# are printed as its values; the other names are symbols (x1 → x_{1}, dx1 → ẋ_1, k10 → k_{10}, alpha → α).
_EQUATIONS = {
    "composition": (("m", "x2 + x3 + x4"), ("p1", "PERCENT*x2/m"), ("p2", "PERCENT*x3/m")),
    "algebraic": (
        ("d1", "ONE + L5*p2 - L6*p2**2 - L7*p2*p1"),
        ("g1", "L0 + L1*p2 - L2*p2**L_EXP + L3*p2**1.5 - L4*p1/d1"),
        ("g2", "exp(C0 - C1/(KELVIN + x6) - C2*p1)"),
        ("g3", "B0 + B1*u2 + B2*u2**2 + B3*u2**3 + (B4 - B5*(p1 - P_CRIT))/(ONE + B6*(p1 - P_CRIT))"),
        ("g4", "(D0 + D1*u2)/(ONE + D2*u2)"),
        ("g5", "D1*g3*g4*u2/(g2*(ONE - g3))"),
    ),
    "voltage": (("U", "g5 + u2*u5/(OHM*g2)"),),
    "state": (
        ("s", "x6 - g1"), ("r", "(g1 - x7)/(k0*x1)"), ("q", "k1*r - k2*s"), ("phi", "k9*(x7 - x8)/(k14 + k15*k0*x1)"),
        ("dx1", "q"), ("dx2", "u1 - k3*u2"), ("dx3", "u3 - k4*u1"), ("dx4", "k5*u1 - q"), ("dx5", "k6*u2 - u4"),
        ("Q6", "u2*U - k9*(x6 - x7)/(k10 + k11*k0*x1) - s*(k7*s - k8*r)"), ("dx6", "alpha*Q6/m"),
        ("Q7", "k9*r/k15 - phi - (g1 - x7)*(k12*s - k13*r)"), ("dx7", "beta*Q7/x1"),
        ("dx8", "k17*(phi - k9*(x8 - T0)/(k14 + Rw0))"),
    ),
}
# The constants of the state equations, symbol → the simulator's value.
_CONSTANTS = {**{f"k{i}": getattr(cell, f"K{i}") for i in range(18) if i != 16},
              "alpha": cell.ALPHA, "beta": cell.BETA, "T0": cell.T0, "Rw0": cell.R_W0}
_ROW_WIDTH = 22.0  # most estimated characters right of "=" on one line: fits a phone's 390 px column


def _tex_number(value: float, digits: int = 6) -> tuple[str, float]:
    """A number as TeX (plain from 0.001 to 10⁵, else ``m \\cdot 10^{e}``; ``digits`` significant) and its width."""
    text = f"{value:.{digits}g}"
    if "e" not in text:
        return text, len(text)
    mantissa, exponent = text.split("e")
    return f"{mantissa} \\cdot 10^{{{int(exponent)}}}", len(mantissa) + 3 + 0.7 * len(str(int(exponent)))


def _tex_symbol(name: str) -> str:
    """``x1`` → ``x_{1}``, ``dx1`` → ``\\dot x_{1}``, ``alpha`` → ``\\alpha``, ``m`` → ``m``."""
    if name in ("alpha", "beta", "phi"):
        return "\\" + name
    if name.startswith("dx"):
        return f"\\dot x_{{{name[2:]}}}"
    return f"{name[0]}_{{{name[1:]}}}" if len(name) > 1 else name


def _is(node, *ops) -> bool:
    import ast

    return isinstance(node, ast.BinOp) and isinstance(node.op, ops)


def _terms(node) -> list:
    """A sum as ``[(sign, term), ...]``; a term led by a negative number changes its sign instead."""
    import ast

    if _is(node, ast.Add, ast.Sub):
        head, (sign, last) = _terms(node.left), _terms(node.right)[0] if not _is(node.right, ast.Add, ast.Sub) \
            else ("+", node.right)
        if isinstance(node.op, ast.Sub):
            sign = "-" if sign == "+" else "+"
        return head + [(sign, last)]
    lead = node
    while _is(lead, ast.Mult, ast.Div):
        lead = lead.left
    if isinstance(lead, ast.Constant) and lead.value < 0:
        lead.value = -lead.value
        return [("-", node)]
    return [("+", node)]


def _paren(text: str, width: float) -> tuple[str, float]:
    return f"\\left({text}\\right)", width + 2


def _tex(node) -> tuple[str, float]:
    """TeX of an expression node (numbers substituted) and its estimated width in characters. Every product
    is written with ``\\,`` (``\\cdot`` before a number), every quotient as ``\\frac``."""
    import ast

    if isinstance(node, ast.Name):
        return _tex_symbol(node.id), 1.6
    if isinstance(node, ast.Constant):
        return _tex_number(float(node.value))
    if isinstance(node, ast.Call):
        return (lambda t, w: (f"\\{node.func.id}" + _paren(t, w)[0], w + 5))(*_tex(node.args[0]))
    if _is(node, ast.Add, ast.Sub):
        terms = [(sign, *_tex(term)) for sign, term in _terms(node)]
        text = " ".join(f"{s} {t}" for s, t, _ in terms).removeprefix("+ ")
        return text, sum(w for *_, w in terms) + 2 * (len(terms) - 1)
    left, wl = _tex(node.left)
    right, wr = _tex(node.right)
    if isinstance(node.op, ast.Div):
        return f"\\frac{{{left}}}{{{right}}}", max(wl, wr) + 0.5
    if isinstance(node.op, ast.Pow):
        left, wl = _paren(left, wl) if isinstance(node.left, ast.BinOp) else (left, wl)
        return f"{left}^{{{right}}}", wl + 0.7 * wr
    left, wl = _paren(left, wl) if _is(node.left, ast.Add, ast.Sub) else (left, wl)
    right, wr = _paren(right, wr) if _is(node.right, ast.Add, ast.Sub) else (right, wr)
    times = "\\cdot" if right[0].isdigit() else "\\,"
    return f"{left} {times} {right}", wl + wr + 0.4


def _tex_lines(lhs: str, expression: str) -> list[str]:
    """One equation as lines of an ``aligned`` block, a sum split between its terms where a line gets too wide."""
    import ast

    class Numbers(ast.NodeTransformer):
        def visit_Name(self, node):
            known = node.id in cell._NUMBERS and node.id not in _CONSTANTS
            return ast.Constant(float(cell._NUMBERS[node.id])) if known else node

    tree = Numbers().visit(ast.parse(expression, mode="eval").body)
    opening, closing = "", ""
    if isinstance(tree, ast.Call) and _tex(tree)[1] > _ROW_WIDTH:  # a wide exp(...) splits inside \Big( \Big)
        opening, closing, tree = f"\\{tree.func.id}\\Big(", "\\Big)", tree.args[0]
    lines, width = [f"{_tex_symbol(lhs)} &= {opening}"], 4.0 if opening else 0.0
    for k, (sign, term) in enumerate(_terms(tree)):
        text, w = _tex(term)
        if k and width + w > _ROW_WIDTH:
            lines.append("&\\quad {} ")
            width = 0.0
        lines[-1] += (f"{sign} " if k or sign == "-" else "") + text + " "
        width += w + 2
    return [line.rstrip() for line in lines[:-1]] + [lines[-1].rstrip() + closing]


def cell_equations() -> dict[str, str]:
    """The cell model's equations as TeX ``aligned`` blocks, printed from the simulator's own numbers.

    Blocks: ``"composition"`` (bath mass m and weight percents p₁, p₂), ``"algebraic"`` (g₁ liquidus
    temperature, g₂ conductivity, g₃ bubble coverage, g₄ bubble thickness, g₅ bubble voltage; paper eq. 3a–e),
    ``"voltage"`` (U), ``"state"`` (ẋ = f(x, u) with the constants k) and ``"constants"`` (the k, α, β, T₀,
    R_w0 of :mod:`alukit.process.cell`). No line is wider than a phone's text column.
    """
    blocks = {name: [line for lhs, expr in eqs for line in _tex_lines(lhs, expr)] for name, eqs in _EQUATIONS.items()}
    blocks["constants"] = [f"{_tex_symbol(name)} &= {_tex_number(value, 6)[0]}" for name, value in _CONSTANTS.items()]
    return {name: "\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}" for name, lines in blocks.items()}


# ---------------------------------------------------------------- what a reader can read: every chapter's PNGs

MIN_TEXT_PX = 9.0  # the smallest text a figure may show, in CSS pixels at its displayed size (1400 px window)
MAX_LEGEND_COLOURS = 8  # more colours than this in one legend cannot be told apart: facet or label directly
METADATA_KEY = "alukit"  # the PNG text chunk that holds :func:`figure_report`, as JSON


def _drawn_texts(fig):
    """The texts matplotlib draws: visible, not empty, not on the axis of an axes switched off."""
    from matplotlib.text import Text

    hidden = {id(t) for ax in fig.axes if not ax.axison for axis in (ax.xaxis, ax.yaxis) for t in axis.findobj(Text)}
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in hidden]


def _legend_colours(legend) -> int:
    """The number of distinct colours among a legend's handles."""
    from matplotlib import colors as mcolors

    seen = set()
    for handle in legend.legend_handles:
        getter = getattr(handle, "get_color", None) or getattr(handle, "get_facecolor", None)
        rgba = mcolors.to_rgba_array(getter()) if getter is not None else np.zeros((0, 4))
        if len(rgba) and rgba[0, 3] > 0:
            seen.add(tuple(np.round(rgba[0, :3], 3)))
    return len(seen)


def _covers_data(legend, fig) -> bool:
    """Whether ``legend``'s box overlaps a line, bar, violin or marker of any axes."""
    box = legend.get_window_extent()
    for ax in fig.axes:
        if not ax.get_window_extent().overlaps(box):
            continue
        for line in ax.lines:
            path = line.get_transform().transform_path(line.get_path())
            if len(path.vertices) and np.isfinite(path.vertices).all() and path.intersects_bbox(box, filled=False):
                return True
        for patch in ax.patches:
            path = patch.get_transform().transform_path(patch.get_path())
            if np.isfinite(path.vertices).all() and path.intersects_bbox(box, filled=True):
                return True
        for coll in ax.collections:
            offsets = coll.get_offset_transform().transform(coll.get_offsets()) if len(coll.get_offsets()) else []
            if any(box.contains(*p) for p in offsets if np.isfinite(p).all()):
                return True
            for p in coll.get_paths():
                path = coll.get_transform().transform_path(p)
                if len(offsets) == 0 and np.isfinite(path.vertices).all() and path.intersects_bbox(box, filled=True):
                    return True
    return False


def figure_report(fig) -> dict:
    """What a reader can read in ``fig``: its smallest text (pt, and px of the PNG at ``fig.dpi``), the most
    colours in one legend, and how many legends lie on the data."""
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in _drawn_texts(fig)]
    legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
    smallest = float(min(sizes)) if sizes else None
    return {"min_text_pt": smallest, "min_text_px": None if smallest is None else round(smallest * fig.dpi / 72, 2),
            "legend_colours": max((_legend_colours(lg) for lg in legends), default=0),
            "legends_on_data": sum(_covers_data(lg, fig) for lg in legends)}


def readability_problems(report: dict | None, displayed_width: float, natural_width: float) -> list[str]:
    """What is wrong with a figure of :func:`figure_report` shown ``displayed_width`` px wide (the PNG is
    ``natural_width`` px): text under :data:`MIN_TEXT_PX`, a legend of too many colours, a legend on the data."""
    if report is None:
        return ["no readability record (draw it after alukit.book.figures.setup())"]
    problems = []
    if report["min_text_px"] is not None and displayed_width > 0:
        shown = report["min_text_px"] * displayed_width / natural_width
        if shown < MIN_TEXT_PX:
            problems.append(f"smallest text {shown:.1f} px at {displayed_width:.0f} px wide (< {MIN_TEXT_PX:g} px)")
    if report["legend_colours"] > MAX_LEGEND_COLOURS:
        problems.append(f"a legend of {report['legend_colours']} colours (> {MAX_LEGEND_COLOURS})")
    if report["legends_on_data"]:
        problems.append(f"{report['legends_on_data']} legend(s) on the data")
    return problems


def png(fig) -> bytes:
    """``fig`` as PNG bytes (tight box, ``fig.dpi``), with :func:`figure_report` in its ``alukit`` text chunk."""
    import io
    import json

    buffer = io.BytesIO()
    report = json.dumps(figure_report(fig))
    fig.savefig(buffer, format="png", dpi=fig.dpi, bbox_inches="tight", metadata={METADATA_KEY: report})
    return buffer.getvalue()


def read_report(data: bytes) -> dict | None:
    """The :func:`figure_report` stored in PNG bytes by :func:`png`, or None."""
    import io
    import json

    from PIL import Image

    text = Image.open(io.BytesIO(data)).text.get(METADATA_KEY)
    return json.loads(text) if text else None


def setup(dpi: int = 110) -> None:
    """The chapters' matplotlib style, and their figures displayed (and glued) as :func:`png`."""
    plt.rcParams.update({"figure.dpi": dpi, "savefig.dpi": dpi, "axes.grid": True, "grid.alpha": 0.3})
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the book extra
        return
    shell = get_ipython()
    if shell is not None:
        plt.close(plt.figure())  # load the inline backend now: it installs its own PNG formatter on first use
        shell.display_formatter.formatters["image/png"].for_type(plt.Figure, png)
