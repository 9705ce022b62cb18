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
# # The sparsity methods and how they train
#
# **Read first:** {doc}`02_data` (what the networks learn from). This chapter shows what each sparsity method does to a network and how it trains.
#
# This chapter reproduces Sections II-B, II-C and III-D of
# {footcite}`haugstvedt2023comparative`: what each sparsity method does to a layer — soft
# thresholding (STR), magnitude pruning (MP), dynamic sparse reparameterisation (DSR),
# L1 regularisation — and stochastic weight averaging (SWA), followed by the training
# curves and the per-layer sparsity of every configuration, read from the training
# logs. Every configuration trains as one batched ensemble (`alukit.training.train`); the methods
# act on the stacked weights (`alukit.training.sparsity`, `alukit.training.swa`). Nothing is trained here:
# the training logs and the trained STR model come from the results of
# `python -m alukit reproduce` (`results/<profile>-<variant>/training.npz`, `models.npz`).

# %% tags=["parameters", "hide-cell"]
profile = "paper"  # run profile: params/<profile>.yaml (defaults: the paper profile)
variant = "faithful"  # "faithful" (as the published code) or "corrected"
mp_amount = 0.5  # exercise "another prune amount": the fraction each of the four prunes takes

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import HTML
from myst_nb import glue

from alukit.training import config as configs, nets, sparsity
from alukit.book import figures
from alukit.book.banner import banner
from alukit.studies import paper, reproduce

figures.setup()  # the book's style; each figure carries its readability record (smallest text, legends)
res = {v: reproduce.load(profile, v) for v in reproduce.VARIANTS}  # fails at once, naming the command, if absent
HTML(banner(profile, reproduce.VARIANTS))

# %% tags=["hide-input"]
cfg_str = configs.make_config("str", variant)
alpha = float(torch.sigmoid(torch.tensor(cfg_str.s_init)))
glue("s_init", cfg_str.s_init, display=False)
glue("alpha0", alpha, display=False)
w = torch.linspace(-0.5, 0.5, 401)
fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
axes[0].plot(w, w, color="grey", lw=1, ls="--", label="dense: $w$")
axes[0].plot(w, sparsity.soft_threshold(w, torch.tensor(cfg_str.s_init)), lw=2,
             label=r"STR: sign$(w)\,$ReLU$(|w| - \sigma(s))$")
axes[0].axvspan(-alpha, alpha, color="C1", alpha=0.15, label=r"set to zero: $|w| < \sigma(s)$")
axes[0].set_xlabel("raw weight $w$")
axes[0].set_ylabel("effective weight")
axes[0].legend(fontsize=9, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2))  # off the shaded band
trained = res[variant].models["str"]  # the trained STR ensemble (models.npz)
raw = trained["raw_weight1"][0].flatten()  # hidden layer 1, model 1: weights before thresholding
eff = trained["weight1"][0].flatten()  # and the effective weights the model computes with
axes[1].hist(raw, bins=60, alpha=0.6, label="raw weights")
axes[1].hist(eff[eff != 0], bins=60, alpha=0.6, label="effective, non-zero")
axes[1].set_xlabel("weight value (hidden layer 1, model 1)")
axes[1].legend(fontsize=9, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2))
fig.tight_layout()
glue("fig_str", fig, display=False)
plt.close(fig)
thresholds = trained["threshold"]  # (models, layers): sigmoid(s) of every layer
glue("str_thr_min", float(thresholds.min()), display=False)
glue("str_thr_max", float(thresholds.max()), display=False)
glue("str_layer_zero", float(100 * (eff == 0).mean()), display=False)

# %% [markdown]
# ## Soft threshold reparameterisation
#
# STR {footcite}`kusupati2020soft` keeps a raw weight $w$ and uses the effective weight
# $\mathrm{sign}(w)\,\mathrm{ReLU}(|w| - \sigma(s_l))$, with one learnable $s_l$ per layer.
# The paper's initial $s$ = {glue:text}`s_init` gives a threshold
# $\sigma(s)$ = {glue:text}`alpha0:.3f` from the very first step — larger than many of
# the He-initialised weights of a 25-wide layer, which is why STR starts sparse. After
# training, the learned thresholds of our models lie between
# {glue:text}`str_thr_min:.3f` and {glue:text}`str_thr_max:.3f`, and
# {glue:text}`str_layer_zero:.0f` % of the weights of the layer shown are exactly zero.
#
# ```{glue:figure} fig_str
# :name: fig-str
# :alt: Left, the soft-threshold function; right, histograms of raw and effective weights of a trained STR layer
#
# **Soft thresholding.** Left: the effective weight as a function of the raw weight at
# the initial threshold. Right: raw weights of hidden layer 1 of a trained STR model and
# its non-zero effective weights (the gap around zero is the threshold). The paper
# states the function in Section II-B; it shows neither plot.
# ```

# %% tags=["hide-input"]
cfg_mp = {v: configs.make_config("mp", v) for v in configs.VARIANTS}
gen = torch.Generator().manual_seed(0)
w0 = torch.randn(1, 64, 64, generator=gen)
steps = cfg_mp["faithful"].prune_epochs
faithful_w, mask = w0.clone(), torch.ones_like(w0)
curve = {"faithful": [0.0], "corrected": [0.0]}
for _ in steps:
    sparsity.faithful_prune_(faithful_w, cfg_mp["faithful"].prune_amount)
    curve["faithful"].append(100 * float((faithful_w == 0).float().mean()))
    mask = sparsity.iterative_mask(w0, mask, cfg_mp["corrected"].prune_amount)
    curve["corrected"].append(100 * float((mask == 0).float().mean()))
fig, ax = plt.subplots(figsize=(6.5, 3.2))
for name, values in curve.items():
    ax.plot([0, *steps], values, marker="o", label=f"{name}: {values[-1]:.1f} %")
ax.set_xlabel("epoch (a prune after each marked epoch)")
ax.set_ylabel("zero weights [%]")
ax.legend(frameon=False, fontsize=9)
fig.tight_layout()
glue("fig_mp", fig, display=False)
plt.close(fig)
glue("mp_faithful", curve["faithful"][-1], display=False)
glue("mp_corrected", curve["corrected"][-1], display=False)
glue("mp_steps", ", ".join(map(str, steps)), display=False)
glue("mp_amount", 100 * cfg_mp["faithful"].prune_amount, display=False)

# %% [markdown]
# ## Magnitude pruning
#
# MP {footcite}`han2015learning` zeroes the smallest-magnitude weights of each layer after
# epochs {glue:text}`mp_steps`, "{glue:text}`mp_amount:.0f` %" each time. The published
# code picks the threshold at index $\lfloor (N + \text{zeros}) \cdot 0.25 \rfloor$ of the
# sorted magnitudes, which ends at {glue:text}`mp_faithful:.1f` % zeros — the paper's
# Table 4 value — whereas pruning 25 % of the *remaining* weights four times ends at
# {glue:text}`mp_corrected:.1f` %. The faithful variant also reproduces that the pruned
# weights stop training after the first prune (errata, defect 1).
#
# ```{glue:figure} fig_mp
# :name: fig-mp
# :alt: Sparsity after each pruning step for the faithful and the corrected pruning rule
#
# **Pruning schedule.** Zero weights of a random 64 × 64 layer after each of the four
# prune steps, with the published code's threshold rule (faithful) and with iterative
# pruning of the remaining weights (corrected). The paper describes the schedule in
# words (Section III-D4) and reports only the final 33 %.
# ```

# %% tags=["hide-input"]
cfg_dsr = configs.make_config("dsr", variant)
dims = cfg_dsr.dims
gens = [torch.Generator().manual_seed(1)]
weights = [nets.he_normal((1, a, b), a, gens[0]) for a, b in zip(dims[:-1], dims[1:])]  # He init, input fan
masks = [sparsity.random_mask(w.shape, cfg_dsr.dsr_sparsity, gens[0]) for w in weights]
for w_, m_ in zip(weights, masks):
    w_.mul_(m_)
h = torch.tensor([cfg_dsr.dsr_h0], dtype=torch.float64)  # the initial threshold H0
before = [int((m_ != 0).sum()) for m_ in masks]
out = sparsity.dsr_reallocate_(weights, masks, h, n_prune=cfg_dsr.dsr_np, delta=cfg_dsr.dsr_delta, generators=gens,
                               regrow="kaiming", fans=list(dims[:-1]))
table = pd.DataFrame({"layer": [f"{a} → {b}" for a, b in zip(dims[:-1], dims[1:])], "active before": before,
                      "pruned (|w| < H)": out["pruned"][0].tolist(), "regrown": out["regrown"][0].tolist(),
                      "active after": [int((m_ != 0).sum()) for m_ in masks]})
glue("table_dsr", table.style.hide(axis="index"), display=False)
glue("dsr_h_before", float(out["h_before"][0]), display=False)
glue("dsr_h_after", float(out["h_after"][0]), display=False)
glue("dsr_np", cfg_dsr.dsr_np, display=False)
glue("dsr_pruned", int(out["pruned"].sum()), display=False)

# %% [markdown]
# ## Dynamic sparse reparameterisation
#
# DSR {footcite}`mostafa2019parameter` starts sparse and, every few epochs, prunes every
# active weight below a global threshold $H$ and regrows as many at random zero
# positions, spread over the layers in proportion to each layer's surviving weights
# (paper eq. 7). $H$ adapts: it doubles when fewer than $(1-\delta) N_p$ weights were
# pruned and halves when more than $(1+\delta) N_p$ were, with $N_p$ =
# {glue:text}`dsr_np`. In the example below, one reallocation at the initial $H_0$ =
# {glue:text}`dsr_h_before:.0e` pruned {glue:text}`dsr_pruned` weights, so $H$ became
# {glue:text}`dsr_h_after:.0e`. In the published code the weights stopped training after
# the first reallocation (defect 1), which the faithful variant reproduces for the three
# DSR rows whose released models show it; the released plain-DSR models kept training
# (chapter 6, defect 9), and so does the faithful plain-DSR row.
#
# ```{glue:figure} table_dsr
# :name: tbl-dsr
#
# **One DSR reallocation** on a randomly initialised network of the paper's DSR size at
# 50 % sparsity: active weights per layer before, pruned below $H$, regrown, and after.
# The paper gives the algorithm (Section II-B1) but no example.
# ```

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(8, 3.2))
for name in ("dense", "l1", "mp", "dsr"):
    c = name + "+swa"
    for v, ls in (("faithful", "-"), ("corrected", "--")):
        lrs = res[v].training[c]["log"]["lr"]  # the learning rate each epoch actually trained with
        cfg = configs.make_config(c, v).scaled(len(lrs))
        ax.plot(np.arange(1, len(lrs) + 1), lrs, ls=ls, label=f"{paper.LABELS[c]} ({v})")
        if name == "dense" and v == "faithful":
            glue("swa_lr_faithful", float(lrs[cfg.swa_start]), display=False)
            glue("swa_start", cfg.swa_start + 1, display=False)
        if name == "dense" and v == "corrected":
            glue("swa_lr_corrected", float(lrs[-1]), display=False)
ax.set_yscale("log")
ax.set_xlabel("epoch")
ax.set_ylabel("learning rate")
ax.legend(fontsize=9, frameon=False, loc="center left", bbox_to_anchor=(1.01, 0.5))  # off the curves
fig.tight_layout()
glue("fig_lr", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Stochastic weight averaging
#
# SWA {footcite}`izmailov2018averaging` averages the weights over the last 25 % of the epochs
# (paper eq. 11). The paper says the learning rate was raised and held constant then; in
# the published code it was not: for the dense network the averaging starts at epoch
# {glue:text}`swa_start` with a learning rate of {glue:text}`swa_lr_faithful:.1e`, so the
# average equals the last iterate (defect 3). The corrected variant anneals to a
# constant {glue:text}`swa_lr_corrected:.0e` with `torch.optim.swa_utils.SWALR`.
#
# ```{glue:figure} fig_lr
# :name: fig-lr
# :alt: Learning rate against epoch on a log scale for four SWA configurations, faithful and corrected
#
# **Learning-rate schedules of the SWA configurations** over the paper's epochs: faithful
# (solid, StepLR as the code ran it) and corrected (dashed, StepLR then SWALR). The paper
# describes the schedules in Section III-D only in words.
# ```

# %% tags=["hide-input"]
results = {c: r for c, r in res[variant].training.items() if c in paper.CONFIG_NAMES}  # {config: {"log", "final"}}
fig, axes = plt.subplot_mosaic("ABCD;EEEE", figsize=(10, 6.2), layout="constrained")
SUFFIXES = (("", "alone"), ("+l1", "+ L1"), ("+swa", "+ SWA"), ("+l1+swa", "+ L1 + SWA"))
for key, base in zip("ABCD", ("dense", "str", "mp", "dsr")):  # one panel per method, at most four lines each
    ax = axes[key]
    for k, (suffix, label) in enumerate(SUFFIXES):
        c = ("l1" + suffix.replace("+l1", "")) if base == "dense" and "+l1" in suffix else base + suffix
        if c in results:
            loss = results[c]["log"]["loss"].mean(0)
            ax.plot(np.arange(1, len(loss) + 1), loss, color=f"C{k}", lw=1.2, label=label)
    ax.set(yscale="log", title=paper.LABELS[base], xlabel="epoch")
axes["A"].set_ylabel("training MSE\n(normalised, mean over models)")
handles, labels = axes["A"].get_legend_handles_labels()
fig.legend(handles, labels, loc="outside upper center", ncol=4, frameon=False, fontsize=10)
for k, c in enumerate(("str", "str+l1", "mp", "dsr")):
    ls = results[c]["log"]["layer_sparsity"].mean(0)  # (epochs, L)
    for layer_i in range(ls.shape[1]):
        axes["E"].plot(np.arange(1, len(ls) + 1), 100 * ls[:, layer_i], color=f"C{k}", lw=1,
                       alpha=0.4 + 0.6 * layer_i / max(ls.shape[1] - 1, 1),
                       label=paper.LABELS[c] if layer_i == 0 else None)
axes["E"].set_xlabel("epoch")
axes["E"].set_ylabel("zero weights per layer [%]")
axes["E"].legend(fontsize=10, frameon=False, loc="center left", bbox_to_anchor=(1.01, 0.5))
glue("fig_training", fig, display=False)
plt.close(fig)
final = {c: r["final"] for c, r in results.items()}
n_layers = max(f["layer_sparsity"].shape[1] for f in final.values())
final = pd.DataFrame({
    "epochs": [int(f["epochs"]) for f in final.values()],
    "final training MSE": [float(np.mean(f["train_loss"])) for f in final.values()],
    **{f"zeros, layer {i + 1} [%]": [100 * float(f["layer_sparsity"][:, i].mean()) if i < f["layer_sparsity"].shape[1]
                                     else np.nan for f in final.values()] for i in range(n_layers)},
    "zeros, all [%]": [100 * float(f["sparsity"].mean()) for f in final.values()],
}, index=[paper.LABELS[c] for c in final])
glue("table_training", final.style.format(precision=1, na_rep="–", formatter={"final training MSE": "{:.2e}"})
     .set_table_attributes('class="alukit-stacked-table"'), display=False)
glue("n_configs", len(results), display=False)
dsr_cfg = {c: configs.make_config(c, variant).scaled(int(final.at[paper.LABELS[c], "epochs"])) for c in ("dsr", "dsr+l1")}
glue("dsr_epochs", int(final.at[paper.LABELS["dsr"], "epochs"]), display=False)
glue("dsr_script_epochs", configs.make_config("dsr+l1").epochs, display=False)  # the committed script's schedule
glue("dsr_lr_from", configs.make_config("dsr+l1").lr_from, display=False)
glue("dsr_mse", f"{final.at[paper.LABELS['dsr'], 'final training MSE']:.2e}", display=False)
glue("dsr_l1_mse", f"{final.at[paper.LABELS['dsr+l1'], 'final training MSE']:.2e}", display=False)
glue("dense_mse", f"{final.at[paper.LABELS['dense'], 'final training MSE']:.2e}", display=False)
glue("dsr_l1_learns", "trains its weights under persistent masks and its biases throughout" if not dsr_cfg["dsr+l1"].freeze
     else f"has no biases and freezes its weights at its first reallocation, after epoch {dsr_cfg['dsr+l1'].dsr_epochs[0]} "
     "(defect 1), so from then on nothing in it learns", display=False)
glue("dsr_first_realloc", int(dsr_cfg["dsr"].dsr_epochs[0]) if dsr_cfg["dsr"].dsr_epochs else 0, display=False)

# %% [markdown]
# ## Training curves and per-layer sparsity
#
# ```{glue:figure} fig_training
# :name: fig-training
# :alt: Top, training loss against epoch, one panel per method with its L1 and SWA variants; bottom, per-layer sparsity against epoch for STR, STR with L1, MP and DSR
#
# **Training.** Top: training MSE per epoch of the {glue:text}`n_configs` configurations
# (mean over the ensemble's models), one panel per method. Bottom: zero weights per layer
# (lighter: earlier layers) for the sparse methods. The paper shows neither; it reports
# only the final sparsity (Table 4).
# ```
#
# ```{glue:figure} table_training
# :name: tbl-training
#
# **Final state of every configuration:** epochs, training loss of the model that is
# rolled out (the SWA average for "+ SWA"), and zero weights per layer and overall.
# ```
#
# The DSR rows train {glue:text}`dsr_epochs` epochs, twice the others: the authors' DSR
# script runs {glue:text}`dsr_script_epochs` epochs and steps its learning rate down only after epoch
# {glue:text}`dsr_lr_from`. Their final
# training errors differ by orders of magnitude, for reasons of the published code, not of
# DSR. DSR + L1 ({glue:text}`dsr_l1_mse`, against {glue:text}`dense_mse` for the dense
# network) {glue:text}`dsr_l1_learns`. Plain DSR ({glue:text}`dsr_mse`) trains under its
# mask until epoch {glue:text}`dsr_first_realloc` and is then damaged by reallocations
# on frozen weights, as its released models were ({doc}`06_errata`, defect 10); its
# training error is the damaged network's.

# %% [markdown]
# ## Exercises
#
# Each exercise names the command that runs it: `python -m alukit book --only 03_methods
# -p KEY VALUE` re-executes this chapter with a parameter changed (in a handout
# notebook: `papermill 03_methods.ipynb out.ipynb -p KEY VALUE`). Where an answer is a
# number, `alukit.book.exercises.check(ID, answer)` says whether it is within tolerance of
# the value computed in your own run.
#
# ````{exercise} Derive: Why 33.2 % and not 68.4 %
# :label: ex-ch3-mp
#
# The published prune step sets the threshold at index $\lfloor (N + Z)\cdot a \rfloor$ of
# the sorted magnitudes of a layer's $N$ weights, $Z$ of which are already zero, and
# zeroes everything below it ($a = 0.25$). Write the zero fraction $z_{k+1}$ after prune
# $k+1$ as a function of $z_k$, solve the recursion, and explain why four prunes end at
# 33.2 % where pruning a quarter of the *remaining* weights four times ends at 68.4 %.
# Where would the published rule end after infinitely many prunes?
#
# Run: your own code in a new cell of `notebooks/03_methods.py` (the collapsed solution below
# shows one way). Check your limit in %: `exercises.check("ch3-mp-limit", your_answer)`.
# ````

# %% tags=["remove-input"]
from alukit.book import exercises

_w = torch.randn(1, 200, 200, generator=torch.Generator().manual_seed(1))
for _ in range(40):  # the published rule, applied until nothing changes
    sparsity.faithful_prune_(_w, cfg_mp["faithful"].prune_amount)
exercises.record("ch3-mp-limit", 100 * float((_w == 0).float().mean()), tol=0.1)

# %% [markdown]
# ```{solution-start} ex-ch3-mp
# :class: dropdown
# ```

# %%
a = cfg_mp["faithful"].prune_amount
z = [0.0]
for _ in range(4):
    z.append(a * (1 + z[-1]))  # zeros already sorted first: Z + a(N + Z) - Z new zeros
closed = [a * (1 - a**k) / (1 - a) for k in range(5)]
remaining = [1 - (1 - a) ** k for k in range(5)]
steps_table = pd.DataFrame({"recursion zₖ [%]": 100 * np.array(z), "closed form [%]": 100 * np.array(closed),
                            "measured, published rule [%]": curve["faithful"],
                            "25 % of the remaining [%]": 100 * np.array(remaining)},
                           index=pd.Index(range(5), name="prunes"))
glue("ex3_z4", 100 * z[-1], display=False)
glue("ex3_limit", 100 * a / (1 - a), display=False)
glue("ex3_remaining", 100 * remaining[-1], display=False)
exercises.check("ch3-mp-limit", 100 * a / (1 - a))
steps_table

# %% [markdown]
# The zeros sort first, so the threshold index $\lfloor (N+Z)a \rfloor$ counts them: the
# step zeroes $(N+Z)a$ weights in total, of which only $(N+Z)a - Z$ are new. Hence
# $z_{k+1} = a(1 + z_k)$, so $z_k = a(1-a^k)/(1-a)$: 25 %, 31.25 %, 32.8 %,
# {glue:text}`ex3_z4:.1f` %, a geometric series that converges to $a/(1-a)$ =
# {glue:text}`ex3_limit:.2f` %. Each prune adds a quarter of the *previous* increment
# instead of a quarter of the remaining weights, which would give $1-(1-a)^4$ =
# {glue:text}`ex3_remaining:.1f` %.
#
# ```{solution-end}
# ```

# %% [markdown]
# ````{exercise} Predict, then run: Another prune amount
# :label: ex-ch3-amount
#
# Predict the zero fraction after four prunes with the published rule and with iterative
# pruning when each prune takes `mp_amount` = 0.5 instead of 0.25. Then run:
#
# `python -m alukit book --only 03_methods -p mp_amount 0.5`
#
# Code: the cell after this exercise in `notebooks/03_methods.py` (hidden in the book) prunes with
# both rules; the collapsed solution tabulates them. Check your prediction for the published rule
# (in %), which differs from iterative pruning's, at the `mp_amount` you ran:
# `exercises.check("ch3-mp-amount", your_prediction)`. Is there an amount at which the
# two rules agree?
# ````

# %% tags=["remove-input"]
if not 0 < mp_amount < 1:
    raise ValueError(f"mp_amount must be a fraction in (0, 1); got {mp_amount!r}")
w_amount, mask_amount = w0.clone(), torch.ones_like(w0)
amount_curve = {"published rule": [0.0], "iterative": [0.0]}
for _ in steps:
    sparsity.faithful_prune_(w_amount, mp_amount)
    amount_curve["published rule"].append(100 * float((w_amount == 0).float().mean()))
    mask_amount = sparsity.iterative_mask(w0, mask_amount, mp_amount)
    amount_curve["iterative"].append(100 * float((mask_amount == 0).float().mean()))
exercises.record("ch3-mp-amount", amount_curve["published rule"][-1], tol=0.5)

# %% [markdown]
# ```{solution-start} ex-ch3-amount
# :class: dropdown
# ```

# %%
k = len(steps)
formula = {"published rule": 100 * mp_amount * (1 - mp_amount**k) / (1 - mp_amount),
           "iterative": 100 * (1 - (1 - mp_amount) ** k)}
amount_table = pd.DataFrame({"measured [%]": {r: c[-1] for r, c in amount_curve.items()}, "formula [%]": formula})
glue("ex3_amount", mp_amount, display=False)
glue("ex3_amount_published", amount_curve["published rule"][-1], display=False)
glue("ex3_amount_iterative", amount_curve["iterative"][-1], display=False)
exercises.check("ch3-mp-amount", formula["published rule"])
amount_table

# %% [markdown]
# With amount $a$ = {glue:text}`ex3_amount` the published rule ends at
# {glue:text}`ex3_amount_published:.2f` % and iterative pruning at
# {glue:text}`ex3_amount_iterative:.2f` % (the formulas of the previous exercise:
# $a(1-a^4)/(1-a)$ and $1-(1-a)^4$). At $a = 1/2$ the two coincide, since then
# $a(1-a^k)/(1-a) = 1 - a^k = 1 - (1-a)^k$; below $1/2$ the published rule prunes less,
# above it more (it saturates at 100 % once $a(1+z) \ge 1$).
#
# ```{solution-end}
# ```


# %% [markdown]
# ## References
#
# ```{footbibliography}
# ```
