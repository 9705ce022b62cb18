"""Chapter 8's figures (alukit.book.sweep_figures) on hand-made sweeps: what they draw, and that a reader can read
it in the book's column (784 px at a 1400 px window)."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from alukit.book import figures, sweep_figures
from alukit.studies import robustness
from alukit.studies.conclusions import CONCLUSIONS

COLUMN_PX = 784


def comparative(lams=(0.0, 1e-5, 1e-4, 1e-3, 3e-3)):
    rows = []
    for v in ("faithful", "corrected"):
        for lam in lams:
            for swa in (False, True):
                d = 10 + 100 * lam + 5 * swa
                rows.append({"point": f"p{len(rows):03d}", "variant": v, "config": "l1+swa" if swa else "l1", "l1": lam,
                             "swa": swa, "models": 10, "epochs": 100,
                             **{f"{s}_{h}{x}": d + dx for s in ("diverged", "capped") for h in (1000, 2500, 5000)
                                for x, dx in (("", 0), ("_low", -2), ("_high", 2))},
                             "zeros": 0.0, "small": 90 * lam / 3e-3})
    return pd.DataFrame(rows).set_index("point")


def readable(fig):
    figures.setup()
    report = figures.figure_report(fig)
    natural = fig.get_figwidth() * fig.dpi
    return figures.readability_problems(report, min(COLUMN_PX, natural), natural)


def test_x_positions_put_zero_a_decade_below_the_smallest_strength():
    x, labels = sweep_figures.x_positions([0.0, 1e-5, 1e-3])
    np.testing.assert_allclose(x, [1e-6, 1e-5, 1e-3])
    assert labels == ["0", "1e-05", "0.001"]


def test_along_draws_one_line_per_variant_and_swa_with_intervals_and_is_readable():
    figures.setup()
    summary = comparative()
    fig = sweep_figures.along(summary, "l1", "λ")
    assert len(fig.axes) == 3
    ax = fig.axes[2]  # 5000 samples
    lines = [c for c in ax.containers]
    assert len(lines) == 4  # faithful, faithful + SWA, corrected, corrected + SWA
    y = lines[0].lines[0].get_ydata()
    np.testing.assert_allclose(np.sort(y), np.sort(summary[(summary.variant == "faithful") & ~summary.swa]
                                                   .diverged_5000.to_numpy()))
    assert [t.get_text() for t in ax.get_xticklabels()][0] == "0"
    assert readable(fig) == []
    plt.close(fig)


def test_along_draws_marks_at_their_own_position():
    figures.setup()
    s = comparative().assign(config="mp", l1=0.0)
    s = s[s.variant == "corrected"].iloc[:2].assign(prune_amount=[0.25, 0.5])
    s = s[["variant", "config", "prune_amount", "swa", "models", "epochs",
           *[c for c in s.columns if c.startswith(("diverged", "capped"))], "zeros", "small"]]
    s.loc[s.index[1], "swa"] = False
    marks = pd.DataFrame([{"label": "study: DSR", "horizon": h, "x": 50.0, "estimate": 40.0, "low": 35.0, "high": 45.0}
                          for h in (1000, 2500, 5000)])
    fig = sweep_figures.along([s], "sparsity", "zeros [%]", by="role", log=False, marks=marks)
    mark = fig.axes[0].containers[-1]
    assert mark.lines[0].get_xdata()[0] == 50.0 and mark.lines[0].get_ydata()[0] == 40.0
    xs = np.sort(np.concatenate([c.lines[0].get_xdata() for c in fig.axes[0].containers[:-1]]))
    np.testing.assert_allclose(xs, [100 * (1 - 0.75 ** 4), 100 * (1 - 0.5 ** 4)], atol=2)  # spread ±0.9 for legibility
    plt.close(fig)


def test_verdict_grid_colours_each_cell_by_its_verdict_and_leaves_untested_cells_blank():
    figures.setup()
    verdicts = pd.DataFrame([
        {"sweep": "l1", "variant": "faithful", "setting": "λ = 0", "conclusion": CONCLUSIONS[0].key, "verdict": "holds"},
        {"sweep": "l1", "variant": "faithful", "setting": "λ = 1", "conclusion": CONCLUSIONS[0].key,
         "verdict": "does not hold"},
        {"sweep": "l1", "variant": "faithful", "setting": "λ = 1", "conclusion": CONCLUSIONS[4].key,
         "verdict": "inconclusive"}])
    fig = sweep_figures.conclusion_map(verdicts)
    grid = fig.axes[0].images[0].get_array()
    assert grid.shape == (5, 2)
    assert grid[0, 0] == 0 and grid[0, 1] == 1 and grid[4, 1] == 2 and grid.mask[1:4].all() and grid.mask[4, 0]
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][0] == robustness.LABELS[CONCLUSIONS[0].key]
    assert readable(fig) == []
    plt.close(fig)


@pytest.mark.parametrize("n_panels", [3, 5])
def test_findings_along_draws_dense_as_a_line_and_sparse_with_intervals(n_panels):
    figures.setup()
    rows = []
    for lam in (1e-4, 1e-2):
        for prune in (0.0, 1e-3):
            for n in (5, 40):
                for kind in ("dense", "sparse"):
                    for metric in ("f1", "auprc", "correlation", "zeros", "divergence"):
                        est = 0.5 if kind == "dense" else 0.5 + lam * 10
                        rows.append({"l1": lam, "prune": prune, "size": n, "kind": kind, "metric": metric,
                                     "window": "2500-5000" if metric == "divergence" else "", "estimate": est,
                                     "low": est - 0.05, "high": est + 0.05})
    panels = [(m, "2500-5000" if m == "divergence" else "", m) for m in
              ("f1", "auprc", "correlation", "divergence", "zeros")[:n_panels]]
    fig = sweep_figures.findings_along(pd.DataFrame(rows), panels, [5, 40])
    ax = fig.axes[0]
    assert [round(line.get_ydata()[0], 6) for line in ax.lines if line.get_linestyle() == ":"] == [0.5, 0.5]
    assert len(ax.containers) == 4  # two sizes x (pruned, not pruned)
    assert readable(fig) == []
    plt.close(fig)
