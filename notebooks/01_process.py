# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The aluminium electrolysis process
#
# **Read first:** nothing: start here. This chapter shows the simulated cell whose dynamics every later chapter learns.
#
# Both papers {footcite}`lundby2023sparse,haugstvedt2023comparative` learn the dynamics of
# one aluminium electrolysis cell from simulated data. This chapter reproduces Section
# II-A and III-A..C of {footcite}`haugstvedt2023comparative`: the eight states and five
# inputs of the cell (the paper's Table 1), a schematic of the cell (Figure 1), the
# differential equations, and simulated test trajectories (Figures 2 and 3). It
# adds two derived quantities that make the trajectories easier to read: the cell
# voltage and the superheat of the bath.
#
# The parameters below are the paper profile's (`params/paper.yaml`);
# `python -m alukit book --profile NAME` replaces them with the values from
# `params/NAME.yaml`.

# %% tags=["parameters", "hide-cell"]
profile = "paper"  # run profile: params/<profile>.yaml (stated in the banner below)
seed = 0  # base seed of the data sets; the test split uses the seed (seed, 2)
process_trajectories = 5  # number of test trajectories to show
n_steps = 5000  # samples per trajectory
mode = "random"  # excitation: "random" (APRBS, the papers' data) or "operational"
dt = 10.0  # sampling step in seconds
acd_change = 0.01  # exercise "a longer anode–cathode distance": change of u5 in m

# %% tags=["hide-input"]
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, Markdown
from myst_nb import glue

from alukit.process import cell, data, excitation
from alukit.book import figures
from alukit.book.banner import banner
from alukit.studies import reproduce

if mode not in excitation.MODES:
    raise ValueError(f"mode must be one of {excitation.MODES}; got {mode!r}")
figures.setup()  # the book's style; each figure carries its readability record (smallest text, legends)
TEST_SEED = (seed, data.SPLITS.index("test"))  # the seed of the test split of data.datasets(...)
HTML(banner(profile))

# %% [markdown]
# ## States and inputs
#
# The cell is described by eight states $x_1,\dots,x_8$ (five masses and three
# temperatures) and five inputs $u_1,\dots,u_5$. The table is generated from
# `alukit.process.cell.STATES` and `alukit.process.cell.INPUTS`; its last column is the range each
# variable spans in the trajectories simulated further down. The paper's Table 1 gives
# the line current in kA, the anode–cathode distance in cm and the feeds in kg; the
# numbers that generate the data are in A, m and kg/s, and this book uses those.

# %%
with warnings.catch_warnings():  # a re-drawn trajectory is counted in `info` and reported in the text below
    warnings.simplefilter("ignore")
    trajectories, info = data.simulate(process_trajectories, n_steps, seed=TEST_SEED, dt=dt, mode=mode, report=True)
states, inputs = trajectories[..., : cell.N_STATES], trajectories[..., cell.N_STATES :]
hours = np.arange(n_steps) * dt / 3600
voltage = cell.cell_voltage(states, inputs)
liquidus = cell.liquidus_temperature(states)
superheat = states[..., 5] - liquidus
trajectories.shape

# %% tags=["hide-input"]
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
PAPER_UNITS = {"u1": "kg", "u2": "kA", "u3": "kg", "u4": "kg", "u5": "cm"}  # as printed in the paper's Table 1


def _fmt(v):
    return f"{v:,.4g}" if abs(v) < 1e4 else f"{v:,.0f}"


rows = []
for j, var in enumerate(cell.STATES + cell.INPUTS):
    lo, hi = trajectories[..., j].min(), trajectories[..., j].max()
    rows.append(
        {
            "variable": var.symbol[0] + var.symbol[1:].translate(SUBSCRIPT),
            "physical meaning": var.name,
            "unit": var.unit,
            "unit in the paper": PAPER_UNITS.get(var.symbol, var.unit),
            "description": var.description,
            "simulated range": f"{_fmt(lo)} – {_fmt(hi)}",
        }
    )
table = pd.DataFrame(rows)
glue("table_variables", table.style.hide(axis="index"), display=False)

# %% [markdown]
# ```{glue:figure} table_variables
# :name: tbl-variables
#
# **The paper's Table 1.** States $x_1,\dots,x_8$ and inputs $u_1,\dots,u_5$ of the cell model. The
# paper's Table 1 lists the variable, its physical meaning and its unit; ours adds the
# unit the data uses, a short description and the range each variable spans in the
# {glue:text}`n_traj` trajectories simulated below ({glue:md}`mode` mode).
# ```

# %% [markdown]
# ## The cell
#
# An aluminium electrolysis (Hall–Héroult) cell is a steel shell lined with carbon.
# Alumina (Al₂O₃) dissolved in a bath of molten cryolite (Na₃AlF₆) with some aluminium
# fluoride (AlF₃) is reduced by a large direct current that enters through carbon
# anodes, crosses the bath, and leaves through the liquid aluminium pad and the carbon
# cathode. The bath freezes on the cooled side walls into a protective side ledge whose
# thickness follows the heat balance of the cell. Alumina and AlF₃ are fed from above,
# and the produced metal is tapped (siphoned) out.

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(10, 4.4))
figures.draw_cell(ax)
fig.tight_layout()
glue("fig_cell", fig, display=False)
plt.close(fig)

# %% [markdown]
# ```{glue:figure} fig_cell
# :name: fig-cell
# :alt: Schematic cross-section of an aluminium electrolysis cell with its states and inputs labelled
#
# **The paper's Figure 1.** Cross-section of an aluminium electrolysis cell. The paper's Figure 1 is
# a schematic of the process; ours is drawn with matplotlib and labels each of the eight
# states (blue boxes) and five inputs (red) where it acts: the masses of the dissolved
# species and the temperature of the bath, the mass of the metal pad, the mass and
# temperature of the frozen side ledge, the wall temperature, the two feeders, the line
# current, the metal tapping, and the anode–cathode distance (not to scale).
# ```

# %% tags=["remove-cell"]
from IPython.display import Latex

for block, tex in figures.cell_equations().items():  # printed from the simulator's own numbers (cell.py)
    glue(f"eq_{block}", Latex(f"$${tex}$$"), display=False)

# %% [markdown]
# ## The model
#
# The model {footcite}`lundby2023sparse` follows from mass and energy balances of the cell.
# The equations below are printed by `alukit.book.figures.cell_equations` from the numbers the
# simulator itself computes with (`alukit.process.cell`), so they cannot drift from the code. The bath
# mass $m$ and its mass fractions of alumina and AlF₃ in weight percent are
#
# ```{glue:math} eq_composition
# ```
#
# The liquidus temperature $g_1$ (°C), the bath's electrical conductivity $g_2$, the bubble coverage
# $g_3$, the bubble layer's thickness $g_4$ and the bubble voltage drop $g_5$ (the paper's eq. 3a–e) are
# algebraic functions of the composition, the bath temperature $x_6$ and the line current $u_2$
# (`alukit.process.cell.liquidus_temperature`, `alukit.process.cell.cell_voltage`):
#
# ```{glue:math} eq_algebraic
# ```
#
# and the model's cell voltage adds the ohmic drop over the bath to the bubble drop:
#
# ```{glue:math} eq_voltage
# ```
#
# With the superheat $s$, the heat flux $r$ through the side ledge, the rate $q$ at which bath
# freezes onto the ledge and the heat flow $\phi$ from the ledge into the wall, the state equations
# read
#
# ```{glue:math} eq_state
# ```
#
# where $Q_6$ and $Q_7$ are the heat balances of the bath and the side ledge. The constants are the
# simulator's:
#
# ```{glue:math} eq_constants
# ```
#
# The superheat $s = x_6 - g_1$ is the bath's temperature above its liquidus. `alukit.process.cell.rhs` implements
# $f(x, u)$ for NumPy arrays and torch tensors; a trajectory is sampled every
# $\Delta T$ = {glue:text}`dt` s with one classical Runge–Kutta step per sample and
# the inputs held over the step. Feedback controllers set the feeds and the tapping
# from the state; in the papers' data (the *random* mode) the line current and the
# anode–cathode distance are amplitude-modulated pseudo-random binary sequences and the
# feeds get random extra impulses.

# %% tags=["hide-input"]
n_traj = int(process_trajectories)
glue("n_traj", n_traj, display=False)
glue("mode", Markdown(mode), display=False)
glue("dt", float(dt), display=False)
glue("n_steps", int(n_steps), display=False)
glue("sim_hours", float(hours[-1]), display=False)
glue("redrawn", int(info["redrawn"]), display=False)
glue("voltage_mean", float(voltage.mean()), display=False)
glue("voltage_min", float(voltage.min()), display=False)
glue("voltage_max", float(voltage.max()), display=False)
glue("superheat_min", float(superheat.min()), display=False)
glue("superheat_max", float(superheat.max()), display=False)
glue("superheat_mean", float(superheat.mean()), display=False)
glue("current_min_ka", float(inputs[..., 1].min() / 1e3), display=False)
glue("current_max_ka", float(inputs[..., 1].max() / 1e3), display=False)
glue("ledge_min", float(states[..., 0].min()), display=False)
glue("ledge_max", float(states[..., 0].max()), display=False)
glue("bath_temp_min", float(states[..., 5].min()), display=False)
glue("bath_temp_max", float(states[..., 5].max()), display=False)
colors = plt.get_cmap("tab10").colors
fig = figures.plot_columns(cell.STATES, states, hours)
glue("fig_states", fig, display=False)
plt.close(fig)
fig = figures.plot_columns(cell.INPUTS, inputs, hours)
glue("fig_inputs", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Simulated trajectories
#
# We simulate {glue:text}`n_traj` trajectories of {glue:text}`n_steps` samples
# ({glue:text}`sim_hours:.1f` hours of cell time each) with the seed of the test split
# that the later chapters use, in {glue:md}`mode` mode. The number of trajectories that
# became non-physical and were re-drawn with fresh excitation is {glue:text}`redrawn`. Over these
# trajectories the side ledge mass ranges from {glue:text}`ledge_min:,.0f` kg to
# {glue:text}`ledge_max:,.0f` kg and the bath temperature from
# {glue:text}`bath_temp_min:.1f` °C to {glue:text}`bath_temp_max:.1f` °C, while the
# line current varies between {glue:text}`current_min_ka:.1f` kA and
# {glue:text}`current_max_ka:.1f` kA.
#
# ```{glue:figure} fig_states
# :name: fig-states
# :alt: Eight panels: the states x1 to x8 of the simulated trajectories against time in hours
#
# **The paper's Figure 2.** The eight states of {glue:text}`n_traj` simulated test trajectories over
# {glue:text}`sim_hours:.1f` hours. The paper's Figure 2 shows five test simulations of
# $x_1,\dots,x_8$, with different initial conditions, to show how differently the
# states evolve; ours shows the same quantities from our simulator, with the test split's
# seed, in the units of the data. The alumina mass $x_2$ jumps at every feed and is
# consumed in between, the AlF₃ mass $x_3$ rises in steps, the metal mass $x_5$ grows
# until it is tapped, and the temperatures follow the line current.
# ```
#
# ```{glue:figure} fig_inputs
# :name: fig-inputs
# :alt: Five panels: the inputs u1 to u5 of the simulated trajectories against time in hours
#
# **The paper's Figure 3.** The five inputs of the same {glue:text}`n_traj` trajectories. The paper's
# Figure 3 shows the inputs $u_1,\dots,u_5$ of its five test simulations; ours shows the
# inputs of our trajectories: the alumina and AlF₃ feeds and the metal tapping set by the
# controllers (with random feed impulses in random mode), and the line current and
# anode–cathode distance, which are held for random lengths of time.
# ```

# %% tags=["hide-input"]
fig = figures.plot_derived(hours, voltage, superheat)
glue("fig_derived", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Cell voltage and superheat
#
# Two derived quantities summarise the state of the cell. The model's cell voltage $U$ is
# the drop over the bath and the gas bubbles under the anodes only (a whole cell runs at
# several volts more, dropped in the anodes, the cathode and the decomposition of alumina
# itself, which the model leaves out). It averages {glue:text}`voltage_mean:.2f` V over
# the trajectories (between
# {glue:text}`voltage_min:.2f` V and {glue:text}`voltage_max:.2f` V); it jumps with the
# line current and the anode–cathode distance. The superheat, the bath temperature above
# its liquidus temperature, stays between {glue:text}`superheat_min:.1f` °C and
# {glue:text}`superheat_max:.1f` °C (mean {glue:text}`superheat_mean:.1f` °C): a bath
# that is too cold freezes onto the ledge, one that is too hot melts it.
#
# ```{glue:figure} fig_derived
# :name: fig-derived
# :alt: Two panels: cell voltage and superheat of the simulated trajectories against time in hours
#
# **Cell voltage and superheat.** The model's cell voltage $U$ (the bath and bubble drop)
# and the superheat $x_6 - g_1$ of the {glue:text}`n_traj` trajectories of
# {numref}`fig-states` and {numref}`fig-inputs`. The paper shows neither; they are computed from the states and inputs
# with `alukit.process.cell.cell_voltage` and `alukit.process.cell.liquidus_temperature`.
# ```

# %% tags=["hide-input"]
other_mode = "operational" if mode == "random" else "random"
other = data.simulate(n_traj, n_steps, seed=TEST_SEED, dt=dt, mode=other_mode)
o_states, o_inputs = other[..., : cell.N_STATES], other[..., cell.N_STATES :]
o_voltage = cell.cell_voltage(o_states, o_inputs)
o_superheat = o_states[..., 5] - cell.liquidus_temperature(o_states)
glue("other_mode", Markdown(other_mode), display=False)
glue("other_voltage_mean", float(o_voltage.mean()), display=False)
glue("other_superheat_min", float(o_superheat.min()), display=False)
glue("other_superheat_max", float(o_superheat.max()), display=False)

picks = [cell.N_STATES + 1, cell.N_STATES + 4, 0, 5]  # u2, u5, x1, x6
variables = [(cell.STATES + cell.INPUTS)[j] for j in picks]
fig, axes = plt.subplots(3, 2, figsize=(10, 6.6), sharex=True)
for ax, var, j in zip(axes.flat, variables, picks):
    for t in range(n_traj):
        ax.plot(hours, other[t, :, j], lw=0.9, color=colors[t % 10], label=f"trajectory {t + 1}")
    ax.set_ylabel(f"${var.symbol[0]}_{var.symbol[1:]}$ [{var.unit}]")
    ax.set_title(f"${var.symbol[0]}_{var.symbol[1:]}$: {var.name}", fontsize=10)
for t in range(n_traj):
    axes[2, 0].plot(hours, o_voltage[t], lw=0.9, color=colors[t % 10])
    axes[2, 1].plot(hours, o_superheat[t], lw=0.9, color=colors[t % 10])
axes[2, 0].set_ylabel("cell voltage $U$ [V]")
axes[2, 0].set_title("cell voltage", fontsize=10)
axes[2, 1].set_ylabel("superheat [°C]")
axes[2, 1].set_title("superheat of the bath", fontsize=10)
for ax in axes[-1]:
    ax.set_xlabel("time [h]")
handles, labels = axes[0, 0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), frameon=False)
fig.tight_layout(rect=(0, 0.04, 1, 1))
glue("fig_other", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## A second scenario
#
# The same initial states driven in {glue:md}`other_mode` mode show how much of the
# variation above comes from the excitation. In operational mode the line current and
# the anode–cathode distance follow fixed sinusoids and only the controllers act on the
# feeds and the tapping; the random mode holds random levels for random lengths of time
# and adds feed impulses, which is what the papers train and test on. Here the cell
# voltage averages {glue:text}`other_voltage_mean:.2f` V and the superheat stays between
# {glue:text}`other_superheat_min:.1f` °C and {glue:text}`other_superheat_max:.1f` °C.
#
# ```{glue:figure} fig_other
# :name: fig-other
# :alt: Six panels: line current, anode-cathode distance, side ledge mass, bath temperature, cell voltage and superheat in the second scenario
#
# **A second scenario.** Line current, anode–cathode distance, side ledge mass, bath
# temperature, cell voltage
# and superheat of the {glue:text}`n_traj` trajectories of {numref}`fig-states` started from the
# same initial states but simulated in {glue:md}`other_mode` mode. The papers show
# only random-mode data.
# ```

# %% [markdown]
# ## Exercises
#
# Each exercise names the command that runs it. `python -m alukit book --only 01_process
# -p KEY VALUE` re-executes this chapter with a parameter changed (then rebuilds the
# book); in a handout notebook, `papermill 01_process.ipynb out.ipynb -p KEY VALUE` does
# the same. Where an answer is a number, `alukit.book.exercises.check(ID, answer)` tells you
# whether it is within tolerance of the value computed in your own run, without giving
# the value away.
#
# ````{exercise} Derive: The mass balance of electrolysis
# :label: ex-ch1-mass
#
# In the model, electrolysis consumes alumina at $k_3 u_2$ kg/s (in $\dot x_2$) and
# produces metal at $k_6 u_2$ kg/s (in $\dot x_5$). Derive how many kilograms of
# aluminium the model makes per kilogram of alumina it consumes, and compare it with the
# stoichiometry of $2\,\mathrm{Al_2O_3} \to 4\,\mathrm{Al} + 3\,\mathrm{O_2}$
# ($M_\mathrm{Al} = 26.98$ g/mol, $M_\mathrm{Al_2O_3} = 101.96$ g/mol). What current
# efficiency (share of Faraday's law, $F = 96\,485$ C/mol) does each rate imply?
#
# Run: your own code in a new cell of `notebooks/01_process.py` (the collapsed solution below
# shows one way; any profile). Check: `exercises.check("ch1-mass-ratio", your_ratio)`.
# ````

# %% tags=["remove-input"]
from alukit.book import exercises

# the two electrolysis rates, measured on the simulated trajectories: metal made
# (ẋ5 + tapping) and alumina consumed (feed − ẋ2), in kg/s
_rates = cell.rhs(states, inputs)
_made = (_rates[..., 4] + inputs[..., 3]).sum()
_used = (inputs[..., 0] - _rates[..., 1]).sum()
exercises.record("ch1-mass-ratio", _made / _used, tol=0.005)

# %% [markdown]
# ```{solution-start} ex-ch1-mass
# :class: dropdown
# ```

# %%
F, M_AL, M_AL2O3 = 96485.0, 26.98e-3, 101.96e-3  # C/mol, kg/mol
model_ratio = cell.K6 / cell.K3  # kg Al per kg Al2O3 in the model
stoichiometric = 4 * M_AL / (2 * M_AL2O3)
metal_efficiency = cell.K6 / (M_AL / (3 * F))  # Al3+ + 3e- -> Al
alumina_efficiency = cell.K3 / (M_AL2O3 / (6 * F))  # one Al2O3 per 6 electrons
glue("ex1_ratio", model_ratio, display=False)
glue("ex1_stoich", stoichiometric, display=False)
glue("ex1_eff_metal", 100 * metal_efficiency, display=False)
glue("ex1_eff_alumina", 100 * alumina_efficiency, display=False)
print(f"model {model_ratio:.4f} kg Al / kg Al2O3, stoichiometry {stoichiometric:.4f}; "
      f"current efficiency: metal {100 * metal_efficiency:.1f} %, alumina {100 * alumina_efficiency:.1f} %")
exercises.check("ch1-mass-ratio", model_ratio)

# %% [markdown]
# Both rates are proportional to the line current, so their ratio is
# $k_6/k_3$ = {glue:text}`ex1_ratio:.4f` kg of aluminium per kg of alumina, whatever the
# trajectory. The stoichiometry gives {glue:text}`ex1_stoich:.4f`. Against Faraday's law,
# $k_3$ corresponds to a current efficiency of {glue:text}`ex1_eff_alumina:.1f` % for
# the alumina consumed and $k_6$ to {glue:text}`ex1_eff_metal:.1f` % for the metal
# produced: the model's two constants do not close the aluminium balance. For learning
# the dynamics this does not matter (the networks learn whatever the simulator does),
# but it is a reminder that the simulator is a model with fitted constants.
#
# ```{solution-end}
# ```

# %% [markdown]
# ````{exercise} Predict, then run: A longer anode–cathode distance
# :label: ex-ch1-acd
#
# Raising the anode–cathode distance $u_5$ lengthens the current's path through the
# resistive bath. Predict, before running: how does the bath temperature $x_6$ respond
# within the first hour, and what happens to the side ledge $x_1$? Then replay the
# trajectories of this chapter with $u_5$ raised by `acd_change` metres (the other inputs
# as recorded):
#
# `python -m alukit book --only 01_process -p acd_change 0.02`
#
# Code: `replay` in the cell after this exercise in `notebooks/01_process.py` (hidden in the book;
# the collapsed solution plots what it returns). Check your predicted mean rise of the bath
# temperature after one hour (°C), the quantity that separates the two runs, for the default
# `acd_change` of 1 cm: `exercises.check("ch1-acd-bath", your_prediction)`.
# ````

# %% tags=["remove-input"]
def replay(acd_change, samples):
    """RK4 replay of the chapter's trajectories with u5 + acd_change: states (n, samples, 8)."""
    u = inputs.copy()
    u[..., 4] += acd_change
    x = [states[:, 0]]
    for t in range(samples - 1):
        x.append(cell.rk4_step(x[-1], u[:, t], dt))
    return np.stack(x, 1), u


one_hour = min(n_steps, int(round(3600 / dt)) + 1)  # samples in the first hour
base, _ = replay(0.0, one_hour)
raised, raised_u = replay(acd_change, one_hour)
one_cm = raised if acd_change == 0.01 else replay(0.01, one_hour)[0]
exercises.record("ch1-acd-bath", float((one_cm[:, -1, 5] - base[:, -1, 5]).mean()), tol=1.0)

# %% [markdown]
# ```{solution-start} ex-ch1-acd
# :class: dropdown
# ```

# %%
minutes = np.arange(one_hour) * dt / 60
d_bath = raised[..., 5] - base[..., 5]  # (n, one_hour) °C
d_ledge = raised[..., 0] - base[..., 0]  # kg
d_voltage = cell.cell_voltage(raised, raised_u[:, :one_hour]) - cell.cell_voltage(base, inputs[:, :one_hour])
fig, axes = plt.subplots(1, 3, figsize=(10, 2.8), sharex=True)
for ax, d, label in zip(axes, (d_voltage, d_bath, d_ledge), ("Δ cell voltage [V]", "Δ bath temperature [°C]",
                                                           "Δ side ledge mass [kg]")):
    ax.plot(minutes, d.T, lw=0.9)
    ax.set_ylabel(label)
    ax.set_xlabel("time [min]")
fig.suptitle(f"u5 raised by {100 * acd_change:g} cm, other inputs as recorded", fontsize=10)
fig.tight_layout()
glue("ex1_acd_fig", fig, display=False)
plt.close(fig)
glue("ex1_acd_cm", 100 * acd_change, display=False)
glue("ex1_acd_dv", float(d_voltage[:, 0].mean()), display=False)
glue("ex1_acd_bath", float(d_bath[:, -1].mean()), display=False)
glue("ex1_acd_ledge", float(d_ledge[:, -1].mean()), display=False)

# %% [markdown]
# With $u_5$ raised by {glue:text}`ex1_acd_cm:.3g` cm the cell voltage jumps at once by
# {glue:text}`ex1_acd_dv:.3f` V on average (the ohmic term of $U$), so
# more electrical power is dissipated in the bath. After one hour the bath is
# {glue:text}`ex1_acd_bath:.2f` °C warmer than in the recorded run, and the extra superheat
# melts the side ledge: {glue:text}`ex1_acd_ledge:,.0f` kg of ledge on average. This is
# how operators use the anode–cathode distance to control the heat balance.
#
# ```{glue:figure} ex1_acd_fig
# :name: fig-ex1-acd
# :alt: Three panels: change of cell voltage, bath temperature and side ledge mass over the first hour
#
# **Exercise: a longer anode–cathode distance.** Change of the cell voltage, the bath
# temperature and the side ledge mass of each trajectory against the recorded run.
# ```
#
# ```{solution-end}
# ```


# %% [markdown]
# ## References
#
# ```{footbibliography}
# ```
