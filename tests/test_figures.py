"""The book's figure helpers (alukit.book.figures) draw what they are given."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import re  # noqa: E402

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


# ------------------------------------------------ chapter 1's equations, read back from the printed TeX

def _read_tex(text: str) -> str:
    """The TeX that figures.cell_equations prints, as a Python expression (\\frac, \\left(, ^{}, \\cdot, \\,)."""
    out, i = [], 0
    while i < len(text):
        if text.startswith("\\frac", i):
            num, i = _group(text, i + 5)
            den, i = _group(text, i)
            out.append(f"(({_read_tex(num)})/({_read_tex(den)}))")
        elif text[i] == "^":
            exp, i = _group(text, i + 1)
            out.append(f"**({_read_tex(exp)})")
        else:
            out.append(text[i])
            i += 1
    python = "".join(out)
    for tex, py in (("\\left(", "("), ("\\right)", ")"), ("\\Big(", "("), ("\\Big)", ")"), ("\\cdot", "*"), ("\\,", "*"), ("\\exp", "exp"),
                    ("\\quad", ""), ("&", ""), ("{}", "")):
        python = python.replace(tex, py)
    python = re.sub(r"\\dot x_\{(\w+)\}", r"dx\1", python)
    python = re.sub(r"([A-Za-z])_\{(\w+)\}", r"\1\2", python)
    return re.sub(r"\\(alpha|beta|phi)", r"\1", python)


def _group(text: str, i: int) -> tuple[str, int]:
    """The brace group starting at text[i] == '{' (without braces) and the index after it."""
    assert text[i] == "{", text[i:i + 20]
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j], j + 1
    raise AssertionError("unbalanced braces")


def _evaluate(block: str, env: dict) -> dict:
    """Evaluate each equation of an aligned block in order (continuation lines join the previous one)."""
    body = block.removeprefix("\\begin{aligned}").removesuffix("\\end{aligned}")
    equations: list[list[str]] = []
    for line in body.split("\\\\"):
        if "&=" in line:
            equations.append(line.split("&="))
        else:
            equations[-1][1] += line
    for lhs, rhs in equations:
        env[_read_tex(lhs).strip()] = eval(" ".join(_read_tex(rhs).split()), {"exp": np.exp}, env)  # noqa: S307
    return env


def test_cell_equations_as_printed_compute_what_the_simulator_computes():
    blocks = figures.cell_equations()
    rng = np.random.default_rng(3)
    from alukit.process import data

    traj = data.simulate(1, 400, seed=(0, 2), dt=10.0)[0]
    for k in rng.choice(len(traj), 5, replace=False):
        x, u = traj[k, :cell.N_STATES], traj[k, cell.N_STATES:]
        env = {f"x{i + 1}": v for i, v in enumerate(x)} | {f"u{i + 1}": v for i, v in enumerate(u)}
        for name in ("constants", "composition", "algebraic", "voltage", "state"):
            env = _evaluate(blocks[name], env)
        assert env["g1"] == pytest.approx(cell.liquidus_temperature(x), rel=1e-12)
        assert env["U"] == pytest.approx(cell.cell_voltage(x, u), rel=1e-12)
        dx = cell.rhs(x, u)
        for i in range(cell.N_STATES):  # the constants k are printed to 6 significant digits
            assert env[f"dx{i + 1}"] == pytest.approx(dx[i], rel=1e-4, abs=1e-12), f"dx{i + 1}"
    assert "991.2" in blocks["algebraic"] and "2620" in blocks["voltage"]  # the simulator's numbers, printed


def test_cell_equations_lines_fit_a_phone_column():
    for name, block in figures.cell_equations().items():
        for line in block.split("\\\\"):
            visible = re.sub(r"\\(left|right|Big|frac|cdot|quad|exp|dot|begin\{aligned\}|end\{aligned\})|[{}_^&\\,]", "", line)
            assert len(visible.replace(" ", "")) <= 48, f"{name}: {line}"


# ------------------------------------------------ readability records of the chapters' PNGs

def test_png_records_the_smallest_text_and_the_check_fails_tiny_text():
    fig, ax = plt.subplots(figsize=(10, 3), dpi=110)
    ax.plot([0, 1], [0, 1])
    ax.set_xlabel("time", fontsize=10)
    ax.tick_params(labelsize=10)
    ax.set_title("fine", fontsize=12)
    report = figures.read_report(figures.png(fig))
    assert report["min_text_pt"] == 10 and report["min_text_px"] == pytest.approx(10 * 110 / 72, abs=0.01)
    natural = 10 * 110
    assert figures.readability_problems(report, 784, natural) == []  # 15.3 px × 784/1100 = 10.9 px
    ax.text(0.5, 0.5, "tiny", fontsize=5)
    tiny = figures.read_report(figures.png(fig))
    assert tiny["min_text_pt"] == 5
    problems = figures.readability_problems(tiny, 784, natural)  # 7.6 px × 0.71 = 5.4 px
    assert len(problems) == 1 and "smallest text 5.4 px" in problems[0]
    assert figures.readability_problems(None, 784, natural)  # a figure without a record fails
    plt.close(fig)


def test_legend_checks_count_colours_and_find_legends_on_the_data():
    fig, ax = plt.subplots(figsize=(6, 3), layout="constrained")
    x = np.linspace(0, 1, 50)
    for k in range(9):
        ax.plot(x, x * k, label=f"line {k}")
    ax.legend(loc="center")  # across the lines
    report = figures.figure_report(fig)
    assert report["legend_colours"] == 9 and report["legends_on_data"] == 1
    assert len(figures.readability_problems(report, 600, 660)) == 2
    ax.get_legend().remove()
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3)
    assert figures.figure_report(fig)["legends_on_data"] == 0
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.bar([0, 1], [1, 2], color=["C0", "C1"], label="bars")
    ax.plot([0, 1], [0.1, 0.1], color="k", label="line")
    ax.set_ylim(0, 5)
    ax.legend(loc="upper left")  # above the bars: off the data
    report = figures.figure_report(fig)
    assert report["legend_colours"] == 2 and report["legends_on_data"] == 0
    plt.close(fig)
