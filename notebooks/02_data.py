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
# # Data sets and pre-processing
#
# **Read first:** {doc}`01_process` (the states and inputs). This chapter shows the data sets the networks train and are tested on.
#
# This chapter reproduces Sections III-B and III-C of {footcite}`haugstvedt2023comparative`:
# the three data sets (training, validation, test), the finite-difference derivatives the
# networks learn, and the z-score normalisation of features and targets. It also looks
# at what the paper does not show: how the derivative targets compare with the model's
# true right-hand side, and how far the test set's own statistics (which the published
# code used to normalise rollouts, defect 4 of the errata) are from the training set's.

# %% tags=["parameters", "hide-cell"]
profile = "paper"  # run profile: params/<profile>.yaml (defaults: the paper profile)
seed = 0  # base seed of the data sets
n_train = 40  # trajectories per split
n_val = 40
n_test = 40
n_steps = 5000  # samples per trajectory
dt = 10.0  # sampling step in seconds

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML
from myst_nb import glue

from alukit.process import cell, data
from alukit import profiles
from alukit.book import figures
from alukit.book.banner import banner
from alukit.studies import reproduce

figures.setup()  # the book's style; each figure carries its readability record (smallest text, legends)
HTML(banner(profile))

# %% tags=["hide-input"]
sets = data.datasets(n_train, n_val, n_test, n_steps, seed, dt)
paper_p = profiles.load("paper")
PAPER = {name: getattr(paper_p, f"n_{name}") for name in data.SPLITS}
rows = []
for name, split in zip(data.SPLITS, sets):
    features, targets = data.derivative_pairs(split, dt)
    rows.append({"split": name, "trajectories": split.shape[0], "samples each": split.shape[1],
                 "training pairs": len(features), "paper: trajectories": PAPER[name],
                 "paper: pairs": PAPER[name] * (paper_p.n_steps - 1)})
sizes = pd.DataFrame(rows)
glue("table_sizes", sizes.style.hide(axis="index"), display=False)
features, targets = data.derivative_pairs(sets.train, dt)
glue("n_pairs", len(features), display=False)
glue("paper_pairs", PAPER["train"] * (paper_p.n_steps - 1), display=False)
for name in data.SPLITS:
    glue(f"paper_n_{name}", PAPER[name], display=False)
glue("paper_n_steps", paper_p.n_steps, display=False)
glue("dt", float(dt), display=False)
glue("profile", profile, display=False)

# %% [markdown]
# ## Three data sets
#
# The paper simulates {glue:text}`paper_n_train` training, {glue:text}`paper_n_val`
# validation and {glue:text}`paper_n_test` test trajectories of {glue:text}`paper_n_steps`
# samples each, with different initial conditions and random inputs. This build uses
# the {glue:text}`profile` profile; its sizes are beside the paper's below. A training
# pair is one sample $[x_t, u_t]$ with its derivative target, so a trajectory of $T$
# samples gives $T-1$ pairs: {glue:text}`n_pairs:,` training pairs here, against the
# paper's {glue:text}`paper_pairs:,`.
#
# ```{glue:figure} table_sizes
# :name: tbl-sizes
#
# **Data set sizes.** Trajectories, samples per trajectory and training pairs of each
# split in this build, next to the paper's (Section III-B). Each split is simulated from
# its own seed, so trajectory $k$ of a split is the same whatever the split's size.
# ```

# %% tags=["hide-input"]
x, u = sets.train[:, :-1, : cell.N_STATES], sets.train[:, :-1, cell.N_STATES :]
true_rate = cell.rhs(x, u).reshape(-1, cell.N_STATES)
scale = targets.std(0, ddof=1)
gap = np.abs(targets - true_rate) / scale  # finite difference vs instantaneous derivative, in target std
names = [f"x{chr(0x2080 + k + 1)}" for k in range(cell.N_STATES)]  # x₁ … x₈ (a table shows no TeX)
gap_table = pd.DataFrame({"state": [v.name for v in cell.STATES], "unit/s": [v.unit + "/s" for v in cell.STATES],
                          "target std": scale, "median gap [std]": np.median(gap, 0),
                          "99th percentile gap [std]": np.percentile(gap, 99, axis=0)}, index=names)
glue("table_gap", gap_table.style.format(precision=3), display=False)
glue("gap_median_max", float(np.median(gap, 0).max()), display=False)
glue("gap_worst_state", cell.STATES[int(np.median(gap, 0).argmax())].name, display=False)

# %% [markdown]
# ## Derivative targets
#
# The networks learn $\dot x$ from the finite difference
# $\dot{\mathbf x} = (\mathbf x_{t+1} - \mathbf x_t)/\Delta T$ (Section III-C). Because the
# data come from one Runge–Kutta step per sample, this is the secant over a {glue:text}`dt` s step, not
# the instantaneous derivative $f(x_t, u_t)$. The Euler stepper of the next chapters
# integrates exactly the secant, so it is the right target; the table shows how far it
# is from the instantaneous derivative, in units of each target's standard deviation.
# The largest median gap, {glue:text}`gap_median_max:.2g` standard deviations, is in the
# {glue:text}`gap_worst_state`.
#
# ```{glue:figure} table_gap
# :name: tbl-gap
#
# **Finite-difference targets vs the true derivative.** For each state, the standard
# deviation of the finite-difference target over the training pairs and the median and
# 99th percentile of $|\dot x_{\mathrm{fd}} - f(x_t, u_t)|$ in units of that standard
# deviation. The paper does not show this comparison.
# ```

# %% tags=["hide-input"]
x_norm, y_norm = data.Normalizer.fit(features), data.Normalizer.fit(targets)
test_features, test_targets = data.derivative_pairs(sets.test, dt)
tx, ty = data.Normalizer.fit(test_features), data.Normalizer.fit(test_targets)
columns = list(cell.COLUMNS)
stats = pd.DataFrame({
    "train mean": x_norm.mean, "train std": x_norm.std,
    "test mean − train mean [train std]": (tx.mean - x_norm.mean) / x_norm.std,
    "test std / train std": tx.std / x_norm.std,
}, index=columns)
glue("table_norm", stats.style.format(precision=3), display=False)
shift = np.abs(np.concatenate([(tx.mean - x_norm.mean) / x_norm.std, (ty.mean - y_norm.mean) / y_norm.std]))
ratio = np.concatenate([tx.std / x_norm.std, ty.std / y_norm.std])
glue("norm_shift_max", float(shift.max()), display=False)
glue("norm_ratio_min", float(ratio.min()), display=False)
glue("norm_ratio_max", float(ratio.max()), display=False)

# %% [markdown]
# ## Normalisation
#
# Features (all 13 columns) and targets (8 derivatives) are z-scored per column,
# $x_\mathrm{norm} = (x - x_\mathrm{mean})/x_\mathrm{std}$, with the mean and the
# unbiased standard deviation over every trajectory and sample of the training set.
# The published code normalised the *test* set with the test set's own statistics when
# it rolled the models out (errata, defect 4): the network then receives inputs scaled
# differently from the ones it was trained on. With this build's data the test set's
# means lie up to {glue:text}`norm_shift_max:.2f` training standard deviations from the
# training means, and its standard deviations are between {glue:text}`norm_ratio_min:.2f`
# and {glue:text}`norm_ratio_max:.2f` times the training ones (features and targets).
# The *faithful* variant of this book reproduces that choice; the *corrected* variant
# rolls out with the training statistics.
#
# ```{glue:figure} table_norm
# :name: tbl-norm
#
# **Normalisation statistics of the features.** Training-set mean and standard deviation
# of each column, and how the test set's own statistics differ from them. The paper
# gives the formula (Section III-C) but no values.
# ```

# %% tags=["hide-input"]
rng = np.random.default_rng(0)
pick = rng.choice(len(features), size=min(20000, len(features)), replace=False)
tpick = rng.choice(len(test_features), size=min(20000, len(test_features)), replace=False)
fig, axes = plt.subplots(4, 6, figsize=(9, 7.2), sharey=False)  # 21 panels; the legend takes an empty one
series = [(x_norm.transform(features[pick]), x_norm.transform(test_features[tpick]), columns),
          (y_norm.transform(targets[pick]), y_norm.transform(test_targets[tpick]), [f"ẋ{k + 1}" for k in range(8)])]
panels = [(a, b, c, j) for a, b, c in series for j in range(a.shape[1])]
for ax, (a, b, labels, j) in zip(axes.flat, panels):
    both = np.concatenate([a[:, j], b[:, j]])
    lo, hi = np.percentile(both, [0.5, 99.5])
    if hi - lo < 1e-9:  # a column that sits on one value most of the time (impulsive feeds, tapping)
        lo, hi = both.min() - 0.5, both.max() + 0.5
    bins = np.linspace(lo, hi, 40)
    ax.hist(a[:, j], bins=bins, density=True, alpha=0.6, label="train")
    ax.hist(b[:, j], bins=bins, density=True, alpha=0.6, label="test")
    ax.set_title(labels[j], fontsize=10)
    ax.tick_params(labelsize=9)
    ax.set_yticks([])  # densities: only the shapes compare
    ax.locator_params(axis="x", nbins=3)
for ax in axes.flat[len(panels):]:
    ax.axis("off")
handles, labels = axes.flat[0].get_legend_handles_labels()
axes.flat[len(panels)].legend(handles, labels, loc="center", frameon=False, fontsize=10)
fig.supxlabel("value normalised with the training statistics", fontsize=10)
fig.tight_layout()
glue("fig_distributions", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Distributions
#
# ```{glue:figure} fig_distributions
# :name: fig-distributions
# :alt: Histograms of the 13 normalised features and 8 normalised derivative targets, training against test set
#
# **Normalised features and targets.** Histograms of the 13 features $[x_1..x_8, u_1..u_5]$
# (first 13 panels) and of the 8 finite-difference targets, training set against test
# set, both normalised with the training statistics (a random subsample of pairs). The
# paper shows no distributions; several targets are heavy-tailed (the feeds and the
# tapping act in impulses), which is why a few large derivatives dominate their
# standard deviation.
# ```

# %% [markdown]
# ## Exercises
#
# Each exercise names the command that runs it: `python -m alukit book --only 02_data
# -p KEY VALUE` re-executes this chapter with a parameter changed (in a handout
# notebook: `papermill 02_data.ipynb out.ipynb -p KEY VALUE`). Where an answer is a
# number, `alukit.book.exercises.check(ID, answer)` says whether it is within tolerance of
# the value computed in your own run.
#
# ````{exercise} Derive: Mini-batches per epoch
# :label: ex-ch2-batches
#
# The trainer draws mini-batches of 50 training pairs, the last one possibly smaller.
# How many optimiser steps make one epoch with this build's training set
# (`n_train` trajectories of `n_steps` samples), and how many with the paper's? How many
# steps does a paper-profile dense model take in its 100 epochs?
#
# Run: your own code in a new cell of `notebooks/02_data.py` (the collapsed solution below
# shows one way). Check the steps per epoch of this build:
# `exercises.check("ch2-batches", your_answer)`.
# ````

# %% tags=["remove-input"]
import math

from alukit.training import config as configs
from alukit.book import exercises

BATCH = configs.make_config("dense").batch_size
exercises.record("ch2-batches", math.ceil(len(features) / BATCH), tol=0)

# %% [markdown]
# ```{solution-start} ex-ch2-batches
# :class: dropdown
# ```

# %%
pairs_here = n_train * (n_steps - 1)  # a trajectory of T samples gives T - 1 pairs
steps_here = math.ceil(pairs_here / BATCH)
pairs_paper = paper_p.n_train * (paper_p.n_steps - 1)
steps_paper = math.ceil(pairs_paper / BATCH)
glue("ex2_steps_here", steps_here, display=False)
glue("ex2_steps_paper", steps_paper, display=False)
glue("ex2_batch", BATCH, display=False)
glue("ex2_steps_total", 100 * steps_paper, display=False)
print(f"this build: {pairs_here} pairs -> {steps_here} steps per epoch; paper: {pairs_paper} -> {steps_paper}")
exercises.check("ch2-batches", steps_here)

# %% [markdown]
# One epoch is $\lceil n_\mathrm{train}(T-1)/50 \rceil$ steps of batch
# {glue:text}`ex2_batch`: {glue:text}`ex2_steps_here:,` here and
# {glue:text}`ex2_steps_paper:,` with the paper's data, so a paper-profile dense model
# takes {glue:text}`ex2_steps_total:,` Adam steps. A profile with fewer trajectories
# takes fewer steps per epoch: shortening the data and shortening the epochs both cut
# the number of steps, which is what decides how far a network gets.
#
# ```{solution-end}
# ```

# %% [markdown]
# ````{exercise} Predict, then run: How many test trajectories do the statistics need?
# :label: ex-ch2-ntest
#
# The faithful variant normalises the test set with its own statistics. Predict how the
# largest shift of the test means from the training means (in training standard
# deviations; {glue:text}`norm_shift_max:.2f` in this build) changes when the test set
# has 4 trajectories, and when it has 40. Which law do you expect? Run:
#
# `python -m alukit book --only 02_data -p n_test 4` and `... -p n_test 40`
#
# Code: the collapsed solution's cell in `notebooks/02_data.py`, which also draws the shift for
# 2 to 64 test trajectories; compare the largest shift between the two sizes.
# ````

# %% [markdown]
# ```{solution-start} ex-ch2-ntest
# :class: dropdown
# ```

# %%
sizes_n = [2, 4, 8, 16, 32, 64]
pool = data.simulate(max(sizes_n), n_steps, seed=(seed, data.SPLITS.index("test")), dt=dt)  # the test split's seed
largest, typical = [], []
for k in sizes_n:
    f_k, y_k = data.derivative_pairs(pool[:k], dt)  # trajectory j is the same whatever the split's size
    shift_k = np.abs(np.concatenate([(f_k.mean(0) - x_norm.mean) / x_norm.std, (y_k.mean(0) - y_norm.mean) / y_norm.std]))
    largest.append(shift_k.max())
    typical.append(np.median(shift_k))
fig, ax = plt.subplots(figsize=(5.5, 3.0))
ax.loglog(sizes_n, largest, "o-", label="largest shift")
ax.loglog(sizes_n, typical, "s-", label="median shift")
ax.loglog(sizes_n, typical[0] * np.sqrt(sizes_n[0] / np.array(sizes_n)), "k:", label="∝ 1/√n")
ax.set_xlabel("test trajectories n")
ax.set_ylabel("|test mean − train mean| [train std]")
ax.legend(frameon=False, fontsize=9)
fig.tight_layout()
glue("ex2_ntest_fig", fig, display=False)
plt.close(fig)
glue("ex2_shift_small", float(largest[sizes_n.index(4)]), display=False)
glue("ex2_shift_large", float(largest[-1]), display=False)
glue("ex2_n_large", sizes_n[-1], display=False)

# %% [markdown]
# The test means are averages over independent trajectories, so their error shrinks like
# $1/\sqrt{n}$ until it reaches the systematic difference between the splits (here, none:
# both are drawn from the same excitation). The largest shift is
# {glue:text}`ex2_shift_small:.2f` training standard deviations with 4 test trajectories
# and {glue:text}`ex2_shift_large:.2f` with {glue:text}`ex2_n_large`. A small test set
# therefore hurts the faithful variant twice: fewer rollouts, and inputs normalised
# further from the training statistics.
#
# ```{glue:figure} ex2_ntest_fig
# :name: fig-ex2-ntest
# :alt: Log-log plot of the largest and median shift of the test means against the number of test trajectories
#
# **Exercise: test statistics against test-set size.** Largest and median shift of the
# test set's feature and target means from the training means, against the number of
# test trajectories, with a $1/\sqrt{n}$ line.
# ```
#
# ```{solution-end}
# ```

# %% [markdown]
# ````{exercise} Extend: A central-difference target
# :label: ex-ch2-central
#
# Replace the forward difference $(x_{t+1} - x_t)/\Delta T$ by the central difference
# $(x_{t+1} - x_{t-1})/(2\Delta T)$ and compute its median gap to $f(x_t, u_t)$ per state,
# as in the table of derivative targets. Which target is closer to the instantaneous
# derivative, and which one should an Euler stepper be trained on? Run: write the code
# in a new cell after this one (`cell.rhs` gives $f$).
# ````

# %% [markdown]
# ```{solution-start} ex-ch2-central
# :class: dropdown
# ```

# %%
traj = sets.train
central = (traj[:, 2:, :8] - traj[:, :-2, :8]) / (2 * dt)  # at samples 1 .. T-2
f_mid = cell.rhs(traj[:, 1:-1, :8], traj[:, 1:-1, 8:])
forward = (traj[:, 2:, :8] - traj[:, 1:-1, :8]) / dt  # same samples, forward difference
compare = pd.DataFrame({
    "forward: median gap [std]": np.median(np.abs(forward - f_mid).reshape(-1, 8), 0) / scale,
    "central: median gap [std]": np.median(np.abs(central - f_mid).reshape(-1, 8), 0) / scale,
}, index=names)
glue("ex2_central_table", compare.style.format(precision=4), display=False)
closer = int((compare.iloc[:, 1] < compare.iloc[:, 0]).sum())
glue("ex2_central_closer", closer, display=False)
compare

# %% [markdown]
# The central difference is second-order accurate, and it is closer to $f(x_t, u_t)$ for
# {glue:text}`ex2_central_closer` of the 8 states; states whose rate is set by the inputs
# alone change linearly within a sample, where both differences are exact. Closer to $f$ is not
# what the Euler stepper needs, though: it advances $\hat x_{t+1} = \hat x_t + \Delta T
# \cdot \hat f$, which reproduces the data exactly when $\hat f$ is the forward
# difference. The forward difference is the right target for it.
#
# ```{solution-end}
# ```


# %% [markdown]
# ## References
#
# ```{footbibliography}
# ```
