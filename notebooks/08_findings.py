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
# # The first paper's findings as a function of sparsity
#
# **Read first:** {doc}`07_sparse_dnn` (the three findings, measured at one penalty). This section re-tests them at every strength of the penalty, with and without removing the small weights.
#
# Chapter {doc}`07_sparse_dnn` tests the three findings of {footcite}`lundby2023sparse` at its one penalty,
# where the sparse networks have no exact zeros. Here the same experiment runs at
# λ = λ_in ∈ {{glue:text}`dnn_lambdas`}, at the training-set sizes {glue:text}`dnn_sizes`
# ({glue:text}`dnn_models` models per kind and size, {glue:text}`dnn_epochs` epochs), each λ
# also with its small weights removed after training: every weight of the sparse networks
# with |w| < {glue:text}`dnn_prune` set to exactly zero, biases kept, no retraining. That
# threshold is about Adam's step size, the resolution at which an ℓ1-driven weight
# oscillates around zero instead of reaching it. The dense reference is never pruned. At
# every point, each finding gets the verdict of chapter {doc}`07_sparse_dnn`.

# %% tags=["parameters", "hide-cell"]
profile = "paper"  # the book's profile (the sweep read here is the committed paper-profile one)

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, display
from myst_nb import glue

from alukit import paths
from alukit.book import figures, numbers, sweep_figures
from alukit.book.banner import sweep_banner
from alukit.studies import conclusions, sparse_dnn, sweep

figures.setup()  # the book's style; each figure carries its readability record (smallest text, legends)
SPARSE_SWEEP = "sparse-dnn-lambda"  # the committed sweep of the first paper's set-up (sweeps/<name>.yaml)
dnn = sweep.read(paths.SWEEPS / f"{SPARSE_SWEEP}.yaml")  # read only, checked against its manifest
display(HTML(sweep_banner((SPARSE_SWEEP,))))
dnn_setup = dnn.provenance["setup"]
dnn_sizes = sorted(int(n) for n in dnn.summary["size"].unique())
last = sparse_dnn.window_label(sparse_dnn.WINDOWS[-1])
glue("dnn_lambdas", ", ".join(f"{x:g}" for x in sorted(dnn.summary.l1.unique())), display=False)
glue("dnn_sizes", ", ".join(map(str, dnn_sizes)), display=False)
glue("dnn_prune", f"{max(dnn.summary.prune):g}", display=False)
glue("dnn_models", int(dnn_setup["models"]), display=False)
glue("dnn_epochs", int(dnn_setup["epochs"]), display=False)
panels = [("f1", "", "F1 (interpretability)"), ("auprc", "", "AUPRC (interpretability)"),
          ("correlation", "", "consistency (correlation)"), ("divergence", last, f"diverged [%] in [{last.replace('-', ', ')})"),
          ("zeros", "", "weights exactly zero [%]")]
fig = sweep_figures.findings_along(dnn.summary, panels, [dnn_sizes[0], dnn_sizes[-1]])
glue("fig_dnn_along", fig, display=False)
plt.close(fig)
prune_label = lambda p: "no prune" if p == 0 else f"|w| < {p:g} pruned"  # noqa: E731
grid = dnn.verdicts.sort_values(["prune", "l1"]).assign(group=lambda f: f.prune.map(prune_label),
                                                      setting=lambda f: f.l1.map(lambda x: f"λ = {x:g}"))
fig = sweep_figures.verdict_grid(grid, "finding", [f.key for f in sparse_dnn.FINDINGS], ("group",), "setting")
glue("fig_dnn_verdicts", fig, display=False)
plt.close(fig)
onset = dnn.onset.assign(prune=lambda f: f.prune.map(prune_label))
onset["holds from λ on"] = onset.from_l1.map(lambda x: "no λ" if pd.isna(x) else f"{x:g}")
onset["exact zeros there [%]"] = onset.zeros_at.map(lambda x: numbers.number(x, "percent"))
onset["holds at λ"] = onset.holds_at.astype(object).fillna("").replace("", "none")
glue("table_dnn_onset", onset[["finding", "prune", "holds from λ on", "exact zeros there [%]", "holds at λ"]]
     .style.hide(axis="index"), display=False)


def onset_text(r) -> str:
    """One (finding, prune) row of the onset table as a reader says it, with the sparse models' exact zeros
    where it holds."""
    if not pd.isna(r.from_l1):
        return f"holds from λ = {r.from_l1:g} on ({numbers.number(r.zeros_at, 'percent')} % exact zeros there)"
    held = dnn.verdicts[(dnn.verdicts.finding == r.finding) & (dnn.verdicts.prune == r.prune)
                        & (dnn.verdicts.verdict == "holds")].sort_values("l1")
    if held.empty:
        return "holds at no λ"
    zeros = sorted({numbers.number(z, "percent") for z in (held.zeros.min(), held.zeros.max())}, key=float)
    return (f"holds at λ = {', '.join(f'{x:g}' for x in held.l1)} only, not up to the largest λ "
            f"({'–'.join(zeros)} % exact zeros there)")


for f in sparse_dnn.FINDINGS:
    rows = dnn.onset[dnn.onset.finding == f.key].sort_values("prune")
    glue(f"onset_{f.key}", "; ".join(f"{'without' if r.prune == 0 else 'with'} the prune, {onset_text(r)}"
                                     for r in rows.itertuples()), display=False)
    counts = dnn.verdicts[dnn.verdicts.finding == f.key].verdict.value_counts()
    glue(f"count_{f.key}", ", ".join(f"{counts.get(v, 0)} {v}" for v in conclusions.VERDICTS), display=False)

prov = dnn.provenance
glue("dnn_wall", numbers.number(prov["seconds"]["wall"] / 3600, "value"), display=False)
glue("dnn_worker_h", numbers.number(prov["training_run_seconds"] / 3600, "value"), display=False)
glue("dnn_runs", prov["distinct_runs"], display=False)
glue("dnn_workers", prov["workers"], display=False)

# %% [markdown]
# The sweep trained {glue:text}`dnn_runs` runs ({glue:text}`dnn_worker_h` hours of one worker)
# and took {glue:text}`dnn_wall` h with {glue:text}`dnn_workers` workers on a 2-core machine.
#
# ```{glue:figure} fig_dnn_along
# :name: fig-dnn-along
# :alt: Five panels against lambda: F1, AUPRC, consistency, divergence at the smallest size, and the share of exact zeros, for the smallest and largest training sets, pruned and not, with the dense models as dotted lines
#
# The sparse networks' measurements against λ at the smallest and the largest training
# set, without (solid) and with (dashed) the post-training prune, with 95 % intervals; the
# dense networks, the same at every λ, dotted.
# ```
#
# ```{glue:figure} fig_dnn_verdicts
# :name: fig-dnn-verdicts
# :alt: A grid of coloured cells, one row per finding and one column per lambda, without and with the prune, coloured by verdict
#
# Each finding's verdict at each λ, without and with the prune.
# ```
#
# ```{glue:figure} table_dnn_onset
# :name: tbl-dnn-onset
#
# From which λ on each finding holds at that λ and every larger one of the grid ("no λ":
# it fails at the largest), the sparse models' mean share of exact zeros there, and every λ
# where it holds.
# ```
#
# - **Interpretability:** {glue:text}`onset_interpretability` (verdicts over the grid:
#   {glue:text}`count_interpretability`).
# - **Small data:** {glue:text}`onset_small-data` ({glue:text}`count_small-data`).
# - **Consistency:** {glue:text}`onset_consistency` ({glue:text}`count_consistency`).
#
# The comparative study's truly sparse networks (corrected DSR + L1) are scored against the
# same true table in {doc}`07_sparse_dnn`, section *Truly sparse networks*, with the graph of
# one of them drawn beside the true graph.


# %% [markdown]
# ## References
#
# ```{footbibliography}
# ```
