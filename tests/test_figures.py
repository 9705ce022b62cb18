"""The book's figure helpers (alukit.book.figures) draw what they are given."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from alukit.process import cell
from alukit.book import figures
from alukit.studies import paper  # noqa: E402


def test_draw_cell_labels_every_state_and_input():
    fig, ax = plt.subplots()
    figures.draw_cell(ax)
    text = " ".join(t.get_text() for t in ax.texts)
    for k in range(1, 9):
        assert f"$x_{k}$" in text, f"x{k} not labelled"
    for k in range(1, 6):
        assert f"$u_{k}$" in text, f"u{k} not labelled"
    assert not ax.axison and ax.get_aspect() == 1.0
    plt.close(fig)


def test_plot_columns_one_panel_per_variable_one_line_per_trajectory():
    hours = np.arange(50) / 360
    series = np.random.default_rng(0).normal(size=(3, 50, len(cell.INPUTS)))
    fig = figures.plot_columns(cell.INPUTS, series, hours)
    panels = [ax for ax in fig.axes if ax.axison]
    assert len(panels) == len(cell.INPUTS)  # 5 panels on a 3 x 2 grid, the sixth switched off
    assert all(len(ax.lines) == 3 for ax in panels)
    np.testing.assert_array_equal(panels[1].lines[2].get_ydata(), series[2, :, 1])
    assert panels[0].get_title().startswith("$u_{1}$")
    plt.close(fig)


def test_plot_derived_draws_voltage_and_superheat():
    hours = np.arange(20) / 360
    volt, heat = np.full((2, 20), 4.2), np.full((2, 20), 8.0)
    fig = figures.plot_derived(hours, volt, heat, "title")
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    assert fig.axes[1].lines[0].get_ydata()[0] == 8.0 and fig._suptitle.get_text() == "title"
    plt.close(fig)


def _fake_results(shift: float):
    """A minimal Results stand-in: divergence statistics of every configuration at two horizons."""
    rows = [{"config": c, "horizon": h, "statistic": "divergence", "estimate": k + shift, "low": k + shift - 1,
             "high": k + shift + 1} for k, c in enumerate(paper.CONFIG_NAMES) for h in (100, 5000)]

    class Res:
        stats = pd.DataFrame(rows)
        horizons = (100, 5000)
        errors = dict.fromkeys(paper.CONFIG_NAMES)

    return Res


def test_variant_bars_and_divergence_bars_share_the_intervals():
    res = {"faithful": _fake_results(0.0), "corrected": _fake_results(10.0)}
    configs = ["dense", "mp", "dsr+l1"]
    fig = figures.variant_bars(res, configs, 5000)
    bars = fig.axes[0].patches
    assert len(bars) == 2 * len(configs)
    heights = [b.get_height() for b in bars]
    k = [paper.CONFIG_NAMES.index(c) for c in configs]
    assert heights == pytest.approx([*k, *(i + 10 for i in k)])
    ticks = fig.axes[0].collections[-1].get_offsets()[:, 1]  # the paper's Table 2 at 5000
    np.testing.assert_allclose(ticks, paper.table2().loc[configs, 5000])
    plt.close(fig)
    fig = figures.divergence_bars(res["faithful"], configs)
    assert [b.get_height() for b in fig.axes[0].patches][:2] == pytest.approx([k[0], k[0]])
    plt.close(fig)
