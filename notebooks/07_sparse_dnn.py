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
# # Sparse deep networks: interpretability, small data and consistency, measured
#
# **Read first:** {doc}`01_process` and {doc}`03_methods` (the cell and L1). This chapter shows the first paper's three findings, measured.
#
# The first paper this book accompanies, {footcite}`lundby2023sparse`, trains deep networks
# on simulated trajectories of the cell and reports three findings: networks trained
# with $\ell_1$ regularisation (1) are more interpretable, (2) generalise better from
# little data and (3) find consistent structures across an ensemble. Only the paper's
# summary is available to us, so this chapter re-creates the experiment from the
# group's published set-up for this network family and turns each finding into a
# measurement that could come out either way. Each finding gets a verdict computed from
# bootstrap intervals: *holds*, *does not hold* or *inconclusive*. The verdicts are in
# the table at the end of the chapter; the text does not anticipate them.
#
# The chapter reads the results of `python -m alukit sparse-dnn --profile <profile>`
# from `results/<profile>-sparse-dnn/`. The paper profile's results are committed and
# only read here; the quick profile's are made on first use (a few minutes).

# %% tags=["parameters", "hide-cell"]
profile = "paper"  # run profile: results/<profile>-sparse-dnn/ (python -m alukit sparse-dnn --profile <profile>)

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, display
from myst_nb import glue

from alukit.process import cell
from alukit.book import figures, numbers
from alukit.evaluation import interpret, metrics
from alukit.book.banner import banner
from alukit.studies import paper, reproduce, sparse_dnn, study_graphs

figures.setup()  # the book's style; each figure carries its readability record (smallest text, legends)
res = sparse_dnn.load(profile)  # read only: fails at once, naming the command, if absent
s = res.provenance["setup"]
sizes = res.sizes
small, large = sizes[0], sizes[-1]
last = sparse_dnn.window_label(sparse_dnn.WINDOWS[-1])
truth = cell.DEPENDENCIES
display(HTML(banner(profile)))

glue("models", s["models"], display=False)
glue("epochs", s["epochs"], display=False)
glue("n_test", s["n_test"], display=False)
glue("sizes", ", ".join(map(str, sizes)), display=False)
glue("small", small, display=False)
glue("large", large, display=False)
glue("l1", f"{s['l1']:g}", display=False)
glue("l1_input", f"{s['l1_input']:g}", display=False)
glue("dims", " → ".join(map(str, (13, *sparse_dnn.HIDDEN, 8))), display=False)
glue("batch", sparse_dnn.BATCH_SIZE, display=False)
glue("lr", f"{sparse_dnn.LR:g}", display=False)
glue("threshold", f"{res.provenance['threshold']:g}", display=False)
glue("n_boot", res.provenance["n_boot"], display=False)
glue("n_edges", int(truth.sum()), display=False)
glue("n_cells", int(truth.size), display=False)
glue("density", f"{truth.mean():.2f}", display=False)
glue("dense_f1_all_edges", f"{2 * truth.mean() / (1 + truth.mean()):.2f}", display=False)
glue("n_rollouts", s["models"] * s["n_test"], display=False)
glue("n_steps", s["n_steps"], display=False)
glue("jac_stride", sparse_dnn.JACOBIAN_STRIDE, display=False)
glue("div_threshold", f"{metrics.THRESHOLD:g}", display=False)
glue("windows", ", ".join(f"[{a}, {b})" for a, b in sparse_dnn.WINDOWS), display=False)
glue("last_window", "[{}, {})".format(*sparse_dnn.WINDOWS[-1]), display=False)
HTML(sparse_dnn.banner(s, sparse_dnn.is_current(profile)))

# %% [markdown]
# ## Set-up
#
# The same cell model and data generator as the rest of the book. Networks
# {glue:text}`dims` with ReLU activations and He-normal initial weights, trained with
# Adam (learning rate {glue:text}`lr`, constant) on batches of {glue:text}`batch` for
# {glue:text}`epochs` epochs to predict the z-scored finite-difference derivatives from
# the z-scored states and inputs (mean squared error). Two kinds:
#
# - **dense**: no penalty;
# - **sparse**: an $\ell_1$ penalty on the weights, λ = {glue:text}`l1` on the hidden
#   and output layers and λ_in = {glue:text}`l1_input` on the input layer.
#
# Each kind is trained {glue:text}`models` times (different initial weights; member *e*
# of both kinds starts from the same weights) on each training set of {glue:text}`sizes`
# trajectories of {glue:text}`n_steps` samples (the first trajectories of one pool, so the sets are
# nested), all on the book's batched-ensemble trainer. Every model is rolled out with
# the Euler stepper on {glue:text}`n_test` separate test trajectories under its own
# training set's normalisation, and scored over the windows {glue:text}`windows` samples
# with the normalised error of the comparative study: a window is *diverged* when its
# worst state's mean error exceeds {glue:text}`div_threshold` standard deviations. One departure from the
# group's set-up: the trainer initialises biases like PyTorch's `nn.Linear` (uniform in
# ±1/√fan-in), not at zero.
#
# **Reading a network's structure.** The path product $|W_5|\cdots|W_1|$ of a trained
# network is an 8 × 13 matrix: entry (i, j) sums, over every path from input j to
# derivative i, the product of the absolute weights along it. It bounds how much input
# j can move ẋ_i and is zero only if every path is cut. Each row is divided by its
# largest entry, so the strongest input of each derivative scores 1, and an edge
# j → ẋ_i is drawn when its share exceeds {glue:text}`threshold`. The drawn edges are
# scored against the cell's true dependency table ({glue:text}`n_edges` of
# {glue:text}`n_cells` input–derivative pairs are real edges, a density of
# {glue:text}`density`): precision, recall and F1, and, free of the threshold, the
# area under the precision–recall curve (AUPRC) over all thresholds. A network that
# draws every edge has recall 1, precision {glue:text}`density` and F1
# {glue:text}`dense_f1_all_edges`; a ranking with no information has an AUPRC near
# {glue:text}`density`. A second reading, the mean absolute Jacobian of the network
# over every {glue:text}`jac_stride`th sample of the test trajectories, is scored the
# same way.
#
# Intervals are 95 % percentile bootstrap intervals from {glue:text}`n_boot` resamples:
# of the models for the structure scores and consistency, of models and test
# trajectories for the rollouts.

# %% tags=["hide-input"]
def est(kind, metric, size=large, window=""):
    return sparse_dnn.lookup(res.summary, size, kind, metric, window)


def text(kind, metric, size=large, window="", digits=2):
    return sparse_dnn.interval_text(*est(kind, metric, size, window), digits=digits)


def median_edges(kind, size=large):
    sc = res.scores[(res.scores["size"] == size) & (res.scores.kind == kind)].sort_values("model")
    e = interpret.median_model({"f1": sc.f1.to_numpy(), "auprc": sc.auprc.to_numpy()})
    path = res.influence[f"path_{kind}_{size}"][e]
    return interpret.edges(path, res.provenance["threshold"]), float(sc.f1.iloc[e]), interpret.normalise(path)


panels = [("true dependencies", None)]
for kind in sparse_dnn.KINDS:
    found, f1, strength = median_edges(kind)
    panels.append((f"median {kind} model, F1 = {f1:.2f}", found, strength))
fig = figures.influence_graphs(panels)
glue("fig_graphs", fig, display=False)
plt.close(fig)
fig = figures.structure_vs_size(res.summary)
glue("fig_structure", fig, display=False)
plt.close(fig)
def stacked(frame):
    """Estimate above its [interval] in every cell, so that a table of intervals fits the column."""
    cells = frame.map(lambda t: t.replace(" [", "\n[").replace(", ", ",\u00a0"))
    return cells.style.set_table_attributes('class="alukit-stacked-table"')


structure = sparse_dnn.table(res.summary, "structure")
glue("table_structure", stacked(structure.iloc[:, :6]), display=False)
glue("table_structure_more", stacked(structure.iloc[:, 6:]), display=False)

for kind in sparse_dnn.KINDS:
    for m in ("f1", "auprc", "precision", "recall", "f1_jacobian", "auprc_jacobian", "f1_without_x5",
              "f1_without_u1_u3"):
        glue(f"{kind}_{m}", text(kind, m), display=False)
        glue(f"{kind}_{m}_small", text(kind, m, small), display=False)
    for m in ("x5_edges", "u1_u3_fp", "u1_u3_fn"):
        glue(f"{kind}_{m}", text(kind, m, digits=1), display=False)
glue("n_u13", int(truth[:, [8, 10]].sum()), display=False)
glue("n_u13_cells", int(truth[:, [8, 10]].size), display=False)

# %% [markdown]
# ## Finding 1: are sparse models more interpretable?
#
# *Tested as:* at every training-set size, the sparse models' mean F1 and mean AUPRC of
# the path-product graph exceed the dense models', the bootstrap interval of the
# difference excluding 0.
#
# ```{glue:figure} fig_graphs
# :name: fig-dnn-graphs
# :alt: Three bipartite graphs from the 13 inputs to the 8 derivatives: the true dependencies, and the edges drawn by the median dense and the median sparse model, coloured as true positives, false positives and false negatives
#
# The true input → derivative graph of the cell (left) and the graphs read from the
# median dense and the median sparse model (by F1) trained on the largest training set,
# with edges drawn where the path product exceeds the threshold share of its row's
# largest entry. Of those, only each model's strongest edges are drawn, as many as the
# true graph has, with widths by strength; a true edge not among them is a false
# negative (dotted).
# ```
#
# With {glue:text}`large` training trajectories the dense models score F1
# {glue:text}`dense_f1` (precision {glue:text}`dense_precision`, recall
# {glue:text}`dense_recall`) and AUPRC {glue:text}`dense_auprc`; the sparse models F1
# {glue:text}`sparse_f1` (precision {glue:text}`sparse_precision`, recall
# {glue:text}`sparse_recall`) and AUPRC {glue:text}`sparse_auprc` (mean over models,
# 95 % interval). With {glue:text}`small`: dense F1 {glue:text}`dense_f1_small`, AUPRC
# {glue:text}`dense_auprc_small`; sparse F1 {glue:text}`sparse_f1_small`, AUPRC
# {glue:text}`sparse_auprc_small`. The Jacobian reading gives, at {glue:text}`large`
# trajectories, F1 {glue:text}`dense_f1_jacobian` (dense) and
# {glue:text}`sparse_f1_jacobian` (sparse), AUPRC {glue:text}`dense_auprc_jacobian`
# and {glue:text}`sparse_auprc_jacobian`.
#
# ```{glue:figure} fig_structure
# :name: fig-dnn-structure
# :alt: Four panels of precision, recall, F1 and area under the precision-recall curve against the number of training trajectories, dense and sparse, with intervals
#
# Structure scores of the path-product graph against training-set size: mean over the
# models with 95 % bootstrap intervals.
# ```
#
# **What x5, u1 and u3 do to the scores.** The metal mass x5 drives no derivative, so
# every edge drawn from it is a false positive, although it is not useless to a network:
# the tapping controller sets u4 from x5, so x5 carries information about ẋ5 in the
# data. At {glue:text}`large` trajectories the
# dense models draw {glue:text}`dense_x5_edges` of the 8 possible edges from x5 and the
# sparse models {glue:text}`sparse_x5_edges`. Leaving the x5 column out of the scoring
# changes F1 to {glue:text}`dense_f1_without_x5` (dense) and
# {glue:text}`sparse_f1_without_x5` (sparse). The alumina and aluminium fluoride feeds
# u1 and u3 are set by feedback controllers from the states, so in the data they move
# with the states, and a network can read the same information from either: the u1 and
# u3 columns hold {glue:text}`n_u13` true edges among {glue:text}`n_u13_cells` pairs;
# the dense models draw {glue:text}`dense_u1_u3_fp` false and miss
# {glue:text}`dense_u1_u3_fn` true edges there, the sparse models
# {glue:text}`sparse_u1_u3_fp` and {glue:text}`sparse_u1_u3_fn`. Without those two
# columns F1 is {glue:text}`dense_f1_without_u1_u3` (dense) and
# {glue:text}`sparse_f1_without_u1_u3` (sparse). Every size:
#
# ```{glue:figure} table_structure
# :name: tbl-dnn-structure
#
# Structure scores per training-set size and kind, mean over the models [95 % interval]:
# of the path-product graph and of the Jacobian graph.
# ```
#
# ```{glue:figure} table_structure_more
# :name: tbl-dnn-structure-more
#
# The same models' F1 without the x5 column and without the u1 and u3 columns, and the
# edge counts behind them, per model [95 % interval].
# ```

# %% tags=["hide-input"]
for name, stat in (("fig_divergence", "divergence"), ("fig_error", "capped_mean")):
    fig = figures.rollouts_vs_size(res.summary, stat)
    glue(name, fig, display=False)
    plt.close(fig)
glue("table_divergence", sparse_dnn.table(res.summary, "divergence").style, display=False)
glue("table_error", sparse_dnn.table(res.summary, "capped_mean").style, display=False)
for kind in sparse_dnn.KINDS:
    glue(f"{kind}_div_small", text(kind, "divergence", small, last, digits=1), display=False)
    glue(f"{kind}_err_small", text(kind, "capped_mean", small, last), display=False)
    glue(f"{kind}_div_large", text(kind, "divergence", large, last, digits=1), display=False)
cmp = res.comparisons.set_index(["finding", "size", "metric"])
for m, digits in (("divergence", 1), ("capped_mean", 2)):
    row = cmp.loc[("small-data", small, m)]
    glue(f"diff_{m}", sparse_dnn.interval_text(row.difference, row.low, row.high, digits), display=False)

# %% [markdown]
# ## Finding 2: do sparse models generalise better from little data?
#
# *Tested as:* at the smallest training-set size, the sparse models diverge less often
# and have a lower capped normalised error (every rollout counted, a diverged one at {glue:text}`div_threshold`)
# than the dense models in the window {glue:text}`last_window` samples, the bootstrap
# interval of the difference excluding 0. Each kind and size has
# {glue:text}`n_rollouts` rollouts.
#
# ```{glue:figure} fig_divergence
# :name: fig-dnn-divergence
# :alt: Three panels, one per window of samples, of the percentage of diverged rollouts against the number of training trajectories, dense and sparse, with intervals
#
# Diverged rollouts per window against training-set size (95 % bootstrap intervals over
# models and test trajectories).
# ```
#
# ```{glue:figure} fig_error
# :name: fig-dnn-error
# :alt: Three panels, one per window of samples, of the capped normalised error against the number of training trajectories, dense and sparse, with intervals
#
# Capped normalised error per window against training-set size.
# ```
#
# With {glue:text}`small` training trajectories, {glue:text}`dense_div_small` % of the
# dense rollouts and {glue:text}`sparse_div_small` % of the sparse ones diverge in
# {glue:text}`last_window` (difference sparse − dense {glue:text}`diff_divergence`
# points); their capped errors are {glue:text}`dense_err_small` and
# {glue:text}`sparse_err_small` (difference {glue:text}`diff_capped_mean`). With
# {glue:text}`large` trajectories, {glue:text}`dense_div_large` % (dense) and
# {glue:text}`sparse_div_large` % (sparse) diverge in that window.
#
# ```{glue:figure} table_divergence
# :name: tbl-dnn-divergence
#
# Diverged rollouts [%] per window, mean [95 % interval].
# ```
#
# ```{glue:figure} table_error
# :name: tbl-dnn-error
#
# Capped normalised error per window, mean [95 % interval].
# ```

# %% tags=["hide-input"]
reference = sparse_dnn.RELEASED_MODEL_CORRELATION
fig = figures.consistency_vs_size(res.summary, reference)
glue("fig_consistency", fig, display=False)
plt.close(fig)
glue("table_consistency", sparse_dnn.table(res.summary, "consistency").style, display=False)
for kind in sparse_dnn.KINDS:
    glue(f"{kind}_corr", text(kind, "correlation"), display=False)
    glue(f"{kind}_corr_small", text(kind, "correlation", small), display=False)
    glue(f"{kind}_jaccard", text(kind, "jaccard"), display=False)
    glue(f"ref_{kind}", "{:.2f}–{:.2f}".format(*reference[kind]), display=False)

# %% [markdown]
# ## Finding 3: do ensembles find consistent structures?
#
# *Tested as:* at every training-set size, the mean pairwise correlation of the sparse
# models' normalised path-product matrices exceeds the dense models', the bootstrap
# interval of the difference excluding 0 (pairs of a model with itself are left out of
# every resample).
#
# ```{glue:figure} fig_consistency
# :name: fig-dnn-consistency
# :alt: Two panels, mean pairwise correlation and mean pairwise Jaccard overlap against the number of training trajectories, dense and sparse, with intervals and shaded bands for the released models
#
# Consistency of the models' structures against training-set size. Shaded bands: the
# group's measurement on the released models of a related paper.
# ```
#
# With {glue:text}`large` training trajectories the mean pairwise correlation is
# {glue:text}`dense_corr` among the dense models and {glue:text}`sparse_corr` among the
# sparse ones; with {glue:text}`small`, {glue:text}`dense_corr_small` and
# {glue:text}`sparse_corr_small`. As a point of comparison, not a target: the group
# measured {glue:text}`ref_sparse` (sparse) and {glue:text}`ref_dense` (dense) on the
# released models of a related paper, trained on other data with another set-up (our
# sources give the numbers, not the paper, so it cannot be cited here). The
# Jaccard overlap of the drawn edge sets, {glue:text}`dense_jaccard` (dense) and
# {glue:text}`sparse_jaccard` (sparse), is not used for the verdict: a model that draws
# every edge overlaps perfectly with another that does, so a high Jaccard overlap can
# mean consistent structure or no structure at all.
#
# ```{glue:figure} table_consistency
# :name: tbl-dnn-consistency
#
# Mean pairwise correlation and Jaccard overlap, [95 % interval].
# ```

# %% tags=["hide-input"]
# the comparative study's corrected networks (chapter 5), read as dependency graphs
corrected = reproduce.load(profile, "corrected")  # read only: fails at once, naming the command, if absent
inspected = {c: corrected.models[c] for c in reproduce.INSPECTED_CONFIGS if c in corrected.models}
graph_scores = study_graphs.scores(inspected, threshold=res.provenance["threshold"])
METRIC_NAMES = {"f1": "F1", "auprc": "AUPRC", "correlation": "correlation"}
cells = graph_scores.assign(text=[sparse_dnn.interval_text(r.estimate, r.low, r.high, 1 if r.metric == "zeros" else 2)
                                  for r in graph_scores.itertuples()])
table_graphs = cells.pivot(index="config", columns="metric", values="text").loc[list(inspected), list(study_graphs.METRICS)]
table_graphs.index = [paper.LABELS[c] for c in table_graphs.index]
table_graphs.columns = ["% weights exactly 0", "precision", "recall", "F1", "AUPRC", "correlation"]
glue("table_study_graphs", table_graphs.style, display=False)
best = graph_scores.set_index(["config", "metric"])["estimate"]
for c in ("dense", "mp", "dsr+l1"):
    key = c.replace("+", "_")
    for m in ("f1", "auprc", "precision", "recall", "correlation"):
        row = graph_scores[(graph_scores.config == c) & (graph_scores.metric == m)].iloc[0]
        glue(f"study_{key}_{m}", sparse_dnn.interval_text(row.estimate, row.low, row.high), display=False)
    glue(f"study_{key}_zeros", numbers.number(best[(c, "zeros")], "percent"), display=False)
versus = {c: study_graphs.compare(inspected, c, threshold=res.provenance["threshold"])
          for c in inspected if c != "dense"}
table_versus = pd.DataFrame({paper.LABELS[c]: {f"{METRIC_NAMES[m]} − dense": f"{sparse_dnn.interval_text(r.difference, r.low, r.high)} ({r.verdict})"
                                               for m, r in v.iterrows()} for c, v in versus.items()}).T
glue("table_study_versus", table_versus.style, display=False)
all_hold = [paper.LABELS[c] for c, v in versus.items() if (v.verdict == "holds").all()]
glue("study_all_hold", ", ".join(all_hold) if all_hold else "none of them", display=False)
d = versus["dsr+l1"].loc["f1"]
glue("study_dsr_l1_f1_gain", sparse_dnn.interval_text(d.difference, d.low, d.high), display=False)
glue("study_models", len(inspected["dsr+l1"]["weight0"]), display=False)
panels = [("true dependencies", None)]
for c in ("dense", "dsr+l1"):
    found, f1, strength = study_graphs.median_graph(inspected[c], res.provenance["threshold"])
    panels.append((f"median {paper.LABELS[c]} model, F1 = {f1:.2f}", found, strength))
fig = figures.influence_graphs(panels)
glue("fig_study_graphs", fig, display=False)
plt.close(fig)

# %% [markdown]
# ## Truly sparse networks: the comparative study's models
#
# This chapter's sparse networks keep every weight: an L1 penalty of
# {glue:text}`l1` under Adam leaves no exact zeros, so at {glue:text}`small` trajectories
# both kinds draw nearly every edge. The comparative study (chapter 5) trains networks
# that *are* sparse. Its corrected variant keeps its trained ensembles
# ({glue:text}`study_models` models each), and the same path-product graph, scored with
# the same threshold against the same true table, answers the question this chapter could
# not: is a truly sparse network more interpretable and more consistent?
#
# ```{glue:figure} table_study_graphs
# :name: tbl-dnn-study-graphs
#
# The comparative study's corrected ensembles (4 hidden layers; DSR rows 4 × 128)
# read as input → derivative graphs: mean over the models [95 % interval over model
# resamples]. Correlation: mean pairwise correlation of the models' influence matrices.
# ```
#
# Corrected DSR + L1, with {glue:text}`study_dsr_l1_zeros` % of its weights exactly zero,
# recovers the true graph with F1 {glue:text}`study_dsr_l1_f1` and AUPRC
# {glue:text}`study_dsr_l1_auprc` (precision {glue:text}`study_dsr_l1_precision`),
# against F1 {glue:text}`study_dense_f1` and AUPRC {glue:text}`study_dense_auprc` for the
# dense networks, whose recall ({glue:text}`study_dense_recall`) comes from drawing
# nearly every edge; its models' graphs correlate {glue:text}`study_dsr_l1_correlation`
# with each other (dense: {glue:text}`study_dense_correlation`). Magnitude pruning, at
# {glue:text}`study_mp_zeros` % zeros, reaches F1 {glue:text}`study_mp_f1`.
# {numref}`tbl-dnn-study-versus` applies this chapter's verdict rule to each
# configuration against dense: the interpretability (F1, AUPRC) and consistency
# comparisons all hold for {glue:text}`study_all_hold`. Sparsity alone is not what
# buys the large gain (DSR + L1's F1 gain is {glue:text}`study_dsr_l1_f1_gain`): the
# pruned and soft-thresholded networks are sparse too.
#
# ```{glue:figure} table_study_versus
# :name: tbl-dnn-study-versus
#
# Each corrected configuration minus dense, with its 95 % interval and this chapter's
# verdict (higher is better for all three).
# ```
#
# ```{glue:figure} fig_study_graphs
# :name: fig-dnn-study-graphs
# :alt: Three bipartite graphs from the 13 inputs to the 8 derivatives: the true dependencies, and the edges of the median corrected dense model and of the median corrected DSR + L1 model, coloured as true positives, false positives and false negatives
#
# The true graph (left) beside the median corrected dense model and the median
# corrected DSR + L1 model of the comparative study, drawn as in
# {numref}`fig-dnn-graphs`.
# ```

# %% tags=["hide-input"]
verdicts = res.verdicts.set_index("finding")
closing = verdicts[["claim", "tested as", "comparisons", "holding", "contradicted", "verdict"]].rename(
    columns={"claim": "finding (the paper's summary)", "tested as": "how it was tested",
             "holding": "comparisons holding", "contradicted": "comparisons contradicting"})
glue("table_verdicts", closing.reset_index(drop=True).style.hide(axis="index"), display=False)
for key in verdicts.index:
    glue(f"verdict_{key.replace('-', '_')}", verdicts.loc[key, "verdict"], display=False)
comparisons = res.comparisons.copy()
for c in ("difference", "low", "high"):
    comparisons[c] = comparisons[c].map(lambda v: numbers.number(v, "error"))  # three decimals, never 6
METRIC_LABELS = {"f1": "F1", "auprc": "AUPRC", "correlation": "correlation", "jaccard": "Jaccard",
                 **metrics.STATISTIC_LABELS}
comparisons["metric"] = comparisons["metric"].map(lambda k: METRIC_LABELS.get(k, k))
glue("table_comparisons", comparisons.style.hide(axis="index"), display=False)
prov = res.provenance
glue("train_seconds", f"{prov['seconds']['training']:.0f}", display=False)
glue("total_seconds", f"{sum(prov['seconds'].values()):.0f}", display=False)
glue("cpus", prov["machine"]["cpus"], display=False)
glue("workers", prov["workers"], display=False)
glue("cached_runs", prov["training_runs_cached_at_start"], display=False)
glue("run_date", prov["date"], display=False)
glue("run_commit", prov["git_commit"][:10], display=False)

# %% [markdown]
# ## Verdicts
#
# A comparison *holds* when the 95 % interval of sparse − dense lies wholly on the side
# the finding claims, *does not hold* when it lies wholly on the other side, and is
# *inconclusive* when it contains 0. A finding holds if all its comparisons hold, does
# not hold if any does not, and is inconclusive otherwise. Finding 1:
# {glue:text}`verdict_interpretability`; finding 2: {glue:text}`verdict_small_data`;
# finding 3: {glue:text}`verdict_consistency`.
#
# ```{glue:figure} table_verdicts
# :name: tbl-dnn-verdicts
#
# The three findings, how each was tested, and the verdict computed from the intervals.
# ```
#
# ```{glue:figure} table_comparisons
# :name: tbl-dnn-comparisons
#
# Every comparison behind the verdicts: the difference sparse − dense, its 95 %
# interval, which direction the finding claims is better, and the comparison's verdict.
# ```
#
# These results were computed by `python -m alukit sparse-dnn` on {glue:text}`run_date`
# at commit {glue:text}`run_commit`: training took {glue:text}`train_seconds` s on
# {glue:text}`cpus` CPUs with {glue:text}`workers` worker processes
# ({glue:text}`cached_runs` of the runs were cached at the start), the whole run
# {glue:text}`total_seconds` s.

# %% [markdown]
# ## Exercises
#
# Each exercise names the command that runs it: `python -m alukit book --only
# 07_sparse_dnn -p profile quick` re-executes this chapter on the quick profile (in a
# handout notebook: `papermill 07_sparse_dnn.ipynb out.ipynb -p profile quick`). Where an
# answer is a number, `alukit.book.exercises.check(ID, answer)` says whether it is within
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
# Run: your own code in a new cell of `notebooks/07_sparse_dnn.py` (the collapsed solution below
# shows one way). Check the F1 (to 3 decimals): `exercises.check("ch7-all-edges-f1", your_f1)`.
# ````

# %% tags=["remove-input"]
from alukit.book import exercises

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
ax.legend(frameon=False, fontsize=9)
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


# %% [markdown]
# ## References
#
# ```{footbibliography}
# ```
