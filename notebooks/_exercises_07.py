# Exercises for chapter 07_sparse_dnn (branch `dnn`): append these cells, unchanged, at the
# END of notebooks/07_sparse_dnn.py when merging. They use the chapter's own names (res,
# truth, large, sparse_dnn, interpret, glue, plt, np) and add no parameter. Not a chapter
# itself: `_toc.yml` does not list it, so the book and the handout skip it.

# %% [markdown]
# ## Exercises
#
# Each exercise names the command that runs it: `python -m alukit book --only
# 07_sparse_dnn -p profile quick` re-executes this chapter on the quick profile (in a
# handout notebook: `papermill 07_sparse_dnn.ipynb out.ipynb -p profile quick`). Where an
# answer is a number, `alukit.exercises.check(ID, answer)` says whether it is within
# tolerance of the value computed in your own run.
#
# ````{exercise} Derive: The F1 of drawing every edge
# :label: ex-ch7-all-edges
#
# A "network" that draws every input–derivative edge finds every real one. With a
# fraction $d$ of the 8 × 13 pairs being real edges (the density, {glue:text}`density`),
# derive its precision, recall and F1 as functions of $d$. Why is this the floor any
# interpretability score must beat?
#
# Run: the cell below. Check the F1 (to 3 decimals): `exercises.check("ch7-all-edges-f1", your_f1)`.
# ````

# %% tags=["remove-input"]
from alukit import exercises

exercises.record("ch7-all-edges-f1", float(interpret.edge_scores(np.ones((8, 13)), truth, threshold=0.5)["f1"]),
                 tol=0.0005)

# %% [markdown]
# ```{solution-start} ex-ch7-all-edges
# :class: dropdown
# ```

# %%
d = float(truth.mean())
f1_all = 2 * d / (1 + d)  # precision d, recall 1: F1 = 2·d·1 / (d + 1)
glue("ex7_d", d, display=False)
glue("ex7_f1_all", f1_all, display=False)
exercises.check("ch7-all-edges-f1", f1_all)
print(f"density {d:.3f}: precision {d:.3f}, recall 1, F1 {f1_all:.3f}")

# %% [markdown]
# Every real edge is drawn, so recall is 1; of all drawn edges a fraction $d$ are real, so
# precision is $d$ = {glue:text}`ex7_d:.3f`; F1 = $2 \cdot d \cdot 1/(d + 1)$ =
# {glue:text}`ex7_f1_all:.3f`. A model whose influence graph has an F1 at or below this
# says no more about the cell's structure than "everything depends on everything".
#
# ```{solution-end}
# ```

# %% [markdown]
# ````{exercise} Extend: Score the influence graph at another threshold
# :label: ex-ch7-threshold
#
# The chapter draws an edge when its share of the row's largest path product exceeds
# {glue:text}`threshold`. Score the dense and the sparse models of the largest training
# set at thresholds from 0.001 to 0.5 with `interpret.edge_scores(influence, truth,
# threshold=t)` (influences: `res.influence[f"path_{kind}_{large}"]`, one `(8, 13)` per
# model) and plot the mean F1 against the threshold. Does the comparison of the two
# kinds depend on the threshold? Why is the AUPRC reported as well? Run: write the code
# in a new cell after this one.
# ````

# %% [markdown]
# ```{solution-start} ex-ch7-threshold
# :class: dropdown
# ```

# %%
thresholds = np.geomspace(1e-3, 0.5, 12)
mean_f1 = {kind: np.array([interpret.edge_scores(res.influence[f"path_{kind}_{large}"], truth, threshold=t)["f1"].mean()
                           for t in thresholds]) for kind in sparse_dnn.KINDS}
fig, ax = plt.subplots(figsize=(6, 3.2))
for kind, f1 in mean_f1.items():
    ax.semilogx(thresholds, f1, "o-", label=kind)
ax.axhline(f1_all, color="k", ls=":", lw=1, label="every edge drawn")
ax.axvline(res.provenance["threshold"], color="grey", lw=0.8)
ax.set_xlabel("threshold (share of the row's largest path product)")
ax.set_ylabel(f"mean F1, {large} training trajectories")
ax.legend(frameon=False, fontsize=8)
fig.tight_layout()
glue("ex7_threshold_fig", fig, display=False)
plt.close(fig)
sparse_ahead = int(sum(mean_f1["sparse"] > mean_f1["dense"]))
glue("ex7_sparse_ahead", sparse_ahead, display=False)
glue("ex7_n_thresholds", len(thresholds), display=False)
glue("ex7_best_sparse", float(thresholds[mean_f1["sparse"].argmax()]), display=False)
glue("ex7_best_dense", float(thresholds[mean_f1["dense"].argmax()]), display=False)

# %% [markdown]
# The sparse models score the higher mean F1 at {glue:text}`ex7_sparse_ahead` of the
# {glue:text}`ex7_n_thresholds` thresholds; their best threshold is
# {glue:text}`ex7_best_sparse:.3g`, the dense models' {glue:text}`ex7_best_dense:.3g`. At
# a low threshold every graph tends to "every edge drawn", at a high one to "only the
# strongest input", so F1 alone depends on a choice; the AUPRC ranks all 104 pairs by
# influence and needs no threshold, which is why the chapter's verdicts use both.
#
# ```{glue:figure} ex7_threshold_fig
# :name: fig-ex7-threshold
# :alt: Mean F1 of the dense and the sparse models' influence graphs against the edge threshold, log scale
#
# **Exercise: F1 against the edge threshold** for the dense and the sparse models of the
# largest training set; grey: the chapter's threshold; dotted: every edge drawn.
# ```
#
# ```{solution-end}
# ```
