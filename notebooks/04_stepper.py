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
# # The Euler time-stepper and the metric
#
# This chapter reproduces Sections II-D and III-E of {cite}`haugstvedt2023comparative`
# and the two example simulations of Section IV (Figures 4 and 5). A network $f$ learns
# the derivative $\dot x = f(x, u)$; to simulate, the *Euler time-stepper* (the paper's
# Algorithm 2) starts from the true initial state of a test trajectory, replays the
# recorded inputs $u_t$ and integrates
#
# $$ \hat x_{t+1} = \hat x_t + \Delta T \cdot f(\hat x_t, u_t), $$
#
# feeding the network its own predictions. `alukit.stepper.rollout` does this for every
# model of an ensemble and every test trajectory at once: one loop over time, one batched
# matrix product per layer and step.
#
# The metric (Section III-E) is a normalised mean *absolute* error per state $s$ and
# horizon $L$ samples, $e_s(L) = \frac{1}{L}\sum_{t<L} |\hat x_{t,s} - x_{t,s}| / \sigma_s$,
# with NaN counted as {glue:text}`nan_value`. A rollout has *diverged* at $L$ if
# $\max_s e_s(L)$ > {glue:text}`threshold`; otherwise its "RFMSE" is the mean of $e_s(L)$
# over the states.

# %% tags=["parameters", "hide-cell"]
profile = "paper"  # run profile: params/<profile>.yaml (defaults: the paper profile)
variant = "faithful"  # "faithful" (as the published code) or "corrected"
sanity_trajectories = 3  # test trajectories for the true-model check

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML
from myst_nb import glue

from alukit import cell, data, figures, metrics, paper, profiles, reproduce, stepper

plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 110, "axes.grid": True, "grid.alpha": 0.3})
params = profiles.load(profile)
dt = float(params["dt"])
sets = data.profile_datasets(profile)
glue("nan_value", metrics.NAN_VALUE, display=False)
glue("threshold", metrics.THRESHOLD, display=False)
glue("last", int(metrics.HORIZONS[-1]), display=False)
res = reproduce.load(profile, variant)  # fails at once, naming the command, if absent
HTML(reproduce.banner(profile, [variant]))

# %% tags=["hide-input"]
test = sets.test[: int(sanity_trajectories)]
x_norm, y_norm = stepper.normalizers("corrected", sets.train, sets.test, dt)
euler = stepper.rollout(stepper.true_model(x_norm, y_norm), test, x_norm, y_norm, dt)[0]
sigma = x_norm.std[: cell.N_STATES]
errors = metrics.state_errors(euler[None], test, sigma)[:, 0]  # (H, n, 8)
worst = np.abs(euler - test[..., : cell.N_STATES]).max(axis=(0, 1)) / sigma
sanity = pd.DataFrame({"state": [v.name for v in cell.STATES],
                       **{f"e_s at {h} ΔT (worst trajectory)": errors[k].max(0) for k, h in enumerate(metrics.HORIZONS)},
                       "largest deviation [σ]": worst},
                      index=[f"x{k + 1}" for k in range(cell.N_STATES)])
glue("table_sanity", sanity.style.format(precision=4), display=False)
glue("sanity_worst", float(worst.max()), display=False)
glue("sanity_worst_state", cell.STATES[int(worst.argmax())].name, display=False)
glue("sanity_rfmse", float(metrics.rfmse(errors[-1]).max()), display=False)
glue("sanity_n", int(len(test)), display=False)
fig = figures.rollout_panels(test[0], euler[:1], dt, "True model, Euler at ΔT (colour) against the RK4 data (black)")
glue("fig_sanity", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## A sanity check: the true model under Euler
#
# Before judging networks, the stepper itself must be right: the cell's own right-hand
# side (`alukit.cell.rhs`, wrapped by `alukit.stepper.true_model`) rolled out with the
# same Euler steps must follow the Runge–Kutta data closely. Over
# {glue:text}`sanity_n` test trajectories its largest deviation is
# {glue:text}`sanity_worst:.3f` standard deviations ({glue:text}`sanity_worst_state`)
# and its worst RFMSE at {glue:text}`last` ΔT is {glue:text}`sanity_rfmse:.4f` — far below the error
# of any trained network in the next chapter, so the Euler discretisation itself is not
# what makes networks diverge.
#
# ```{glue:figure} fig_sanity
# :name: fig-sanity
# :alt: Eight panels: the true model rolled out with Euler steps overlaid on the RK4 test trajectory
#
# **The true model under Euler.** One test trajectory (black) and the Euler rollout of
# the true right-hand side from the same initial state with the same inputs (colour);
# the two are indistinguishable at this scale. The paper shows no such check.
# ```
#
# ```{glue:figure} table_sanity
# :name: tbl-sanity
#
# **Metric of the true model.** Per state, $e_s(L)$ of the Euler rollout of the true
# model on the worst of the checked trajectories at each horizon, and the largest
# deviation in standard deviations.
# ```

# %% tags=["hide-input"]
examples = {}
for config, name in (("l1", "fig4"), ("str", "fig5")):
    true, pred, sigma_v = reproduce.example_rollouts(config, profile, variant, res)  # rollouts.npz
    examples[config] = (true, pred, sigma_v)
    fig = figures.rollout_panels(true, pred, dt, f"{paper.LABELS[config]}: {pred.shape[0]} models on one test trajectory")
    glue(name, fig, display=False)
    plt.close(fig)
    e = metrics.state_errors(pred[:, None], true[None], sigma_v)[-1, :, 0]  # (E, 8) at the last horizon
    alive = ~metrics.diverged(e)
    glue(f"{config}_models", int(len(e)), display=False)
    glue(f"{config}_div_last", int((~alive).sum()), display=False)
    glue(f"{config}_rfmse_last", f"{metrics.rfmse(e)[alive].mean():.3f}" if alive.any() else "– (none survived)",
         display=False)

# %% [markdown]
# ## Figures 4 and 5: an ensemble on one test trajectory
#
# ```{glue:figure} fig4
# :name: fig-4
# :alt: Eight panels: true states of one test trajectory and the rollouts of the L1-regularised models
#
# **Figure 4.** The true states of test trajectory 1 (black) and the rollouts of the
# {glue:text}`l1_models` L1-regularised models (colours). The paper's Figure 4 shows its
# L1 models following the true trajectories closely. Ours: {glue:text}`l1_div_last` of
# the {glue:text}`l1_models` rollouts diverged by {glue:text}`last` ΔT; the others have a mean RFMSE of
# {glue:text}`l1_rfmse_last`. A rollout that leaves a panel has left the range of
# the true trajectory by more than half its span.
# ```
#
# ```{glue:figure} fig5
# :name: fig-5
# :alt: Eight panels: true states of one test trajectory and the rollouts of the soft-thresholding models
#
# **Figure 5.** The same for the {glue:text}`str_models` soft-thresholding models. The
# paper's Figure 5 shows them drifting away as time proceeds. Ours:
# {glue:text}`str_div_last` of {glue:text}`str_models` rollouts diverged by {glue:text}`last` ΔT;
# the others have a mean RFMSE of {glue:text}`str_rfmse_last`.
# ```

# %% tags=["hide-input"]
true, pred, sigma_v = examples["l1"]
member = 0
# e_s(L) for every horizon L = 1..T: the metric itself, evaluated at every sample
running = metrics.state_errors(pred[member][None, None], true[None], sigma_v, range(1, len(pred[member]) + 1))[:, 0, 0]
hours = np.arange(true.shape[0]) * dt / 3600
fig, ax = plt.subplots(figsize=(9, 3.4))
for s in range(cell.N_STATES):
    ax.plot(hours, running[:, s], lw=1, label=f"$x_{s + 1}$")
ax.axhline(metrics.THRESHOLD, color="k", ls="--", lw=1, label="divergence threshold")
for h in metrics.HORIZONS:
    ax.axvline(h * dt / 3600, color="grey", lw=0.6)
ax.set_yscale("log")
ax.set_xlabel("time [h]")
ax.set_ylabel("$e_s(L)$ with $L$ = samples so far")
ax.legend(fontsize=7, ncol=5, frameon=False)
fig.tight_layout()
glue("fig_metric", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## The metric along one rollout
#
# ```{glue:figure} fig_metric
# :name: fig-metric
# :alt: Running normalised error of each state of one L1 model's rollout against time, log scale, with the divergence threshold
#
# **The metric along one rollout.** For the first L1 model of Figure 4, $e_s(L)$ of each
# state as the horizon $L$ grows (log scale); grey lines mark the four horizons of the
# tables, the dashed line the divergence threshold. The rollout counts as diverged at
# a horizon as soon as any state's curve is above the threshold there. The paper defines
# the metric in words only.
# ```
