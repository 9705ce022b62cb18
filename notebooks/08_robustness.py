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
# # How robust are the paper's conclusions?
#
# **Read first:** {doc}`05_conclusions` (the five conclusions and their verdict rule) and {doc}`06_errata` (the faithful and the corrected variant). This chapter re-tests the conclusions across a grid of settings.
#
# The comparative study {footcite}`haugstvedt2023comparative` draws its conclusions from one
# setting per method: one L1 strength (λ = {glue:text}`paper_lambda`), one pruning level ({glue:text}`paper_mp_zeros` % of the
# weights in the corrected variant), one DSR sparsity ({glue:text}`paper_dsr_zeros` %). A reader's first question is
# whether a conclusion belongs to the method or to that setting. This chapter answers it
# with sweeps (`python -m alukit sweep SPEC.yaml`; `sweeps/README.md` lists the specs): the same
# training, stepper, metric and bootstrap as the study, on the paper profile's data, at
# every point of a grid, each point with and without SWA. Its second page,
# {doc}`08_findings`, asks the same of the first paper's three findings.

# %% tags=["parameters", "hide-cell"]
profile = "paper"  # the book's profile (the sweeps read here are the committed paper-profile ones)

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML, display
from myst_nb import glue

from alukit.book import figures, numbers, sweep_figures
from alukit.book.banner import sweep_banner
from alukit.studies import conclusions, paper, reproduce, robustness, sweep
from alukit.studies.study import Study
from alukit.training.config import make_config

figures.setup()  # the book's style; each figure carries its readability record (smallest text, legends)
SWEEPS = robustness.COMMITTED  # the committed comparative sweeps this chapter reads (sweeps/<name>.yaml)
runs = robustness.read_committed(SWEEPS)  # read only, each checked against its manifest
reference = {v: reproduce.read(Study(f"paper-{v}"), tables_only=True) for v in ("faithful", "corrected")}
horizons = runs["l1-strength"].horizons
shown = (1000, 2500, horizons[-1])  # the horizons the figures draw (samples)
display(HTML(sweep_banner(SWEEPS)))
glue("shown_horizons", f"{shown[0]}, {shown[1]} and {shown[2]}", display=False)
glue("first_h", shown[0], display=False)
glue("last_h", shown[-1], display=False)


def spec_line(name, prov):
    """One row of the "what was swept" table, from a sweep folder's provenance."""
    first = prov["points"][0]
    models, epochs = first["models"], first["config"]["epochs"]
    names = {"l1": "λ", "swa": "SWA", "prune_amount": "share pruned per step", "dsr_sparsity": "DSR sparsity"}

    def value(v):
        return f"{v:g}" if isinstance(v, float) else "on" if v is True else "off" if v is False else str(v)

    axes = ", ".join(f"{names.get(k, k)} ∈ {{{', '.join(value(v) for v in values)}}}"
                     for k, values in prov["spec"]["grid"].items())
    return {"sweep": name, "varies": paper.LABELS[prov["spec"]["config"]], "grid": axes,
            "points": len(prov["points"]), "models per point": models, "epochs": epochs,
            "training runs": prov["distinct_runs"],
            "training [worker-h]": numbers.number(prov["training_run_seconds"] / 3600, "value"),
            "wall [h]": numbers.number(prov["seconds"]["wall"] / 3600, "value"),
            "workers": f"{prov['workers']} ({prov['scheduler']})"}


swept = pd.DataFrame([spec_line(n, r.provenance) for n, r in runs.items()])
glue("table_swept", swept.style.hide(axis="index"), display=False)
n_test = next(iter(runs["l1-strength"].errors.values())).shape[2]
glue("n_test", n_test, display=False)
glue("n_boot", runs["l1-strength"].provenance["n_boot"], display=False)
glue("n_rollouts", n_test * int(runs["l1-strength"].summary.models.iloc[0]), display=False)
glue("paper_lambda", f"{make_config('l1', 'faithful').l1:g}", display=False)
glue("paper_mp_zeros", numbers.number(reference["corrected"].table4.loc["mp", "sparsity"], "percent"), display=False)
glue("paper_dsr_zeros", numbers.number(reference["corrected"].table4.loc["dsr", "sparsity"], "percent"), display=False)

# %% [markdown]
# ## What was swept
#
# ```{glue:figure} table_swept
# :name: tbl-swept
#
# The committed sweeps: the configuration each varies, its grid, the models trained per
# point, the training time of its runs added up (hours of one worker), and the sweep's
# wall time with its workers on a 2-core machine (`pool`: a process pool).
# ```
#
# Every point is rolled out on the study's {glue:text}`n_test` test trajectories, so
# {glue:text}`n_rollouts` rollouts per point, and every statistic carries a 95 % bootstrap
# interval ({glue:text}`n_boot` resamples of models and trajectories), drawn as error bars
# below. Where a grid point is the paper's own setting, its models are the study's own
# (same configuration, same cache key, identical numbers).

# %% tags=["hide-input"]
l1 = runs["l1-strength"]
fig = sweep_figures.along(l1.summary, "l1", "L1 strength λ", horizons=shown)
glue("fig_l1_diverged", fig, display=False)
plt.close(fig)
fig = sweep_figures.along(l1.summary, "l1", "L1 strength λ", statistic="capped", horizons=shown)
glue("fig_l1_capped", fig, display=False)
plt.close(fig)
fig = sweep_figures.sparsity_along(l1.summary, "l1", "L1 strength λ")
glue("fig_l1_sparsity", fig, display=False)
plt.close(fig)

best = robustness.best_settings(l1.summary, "capped", horizons[-1])
for r in best.itertuples():
    key = f"{r.variant}{'_swa' if r.swa else ''}"
    glue(f"best_{key}", r.best, display=False)
    glue(f"best_{key}_value", f"{numbers.number(r.estimate, 'error')} [{numbers.number(r.low, 'error')}, "
         f"{numbers.number(r.high, 'error')}]", display=False)
    glue(f"tied_{key}", r.tied or "none", display=False)
settings_l1 = robustness.settings(l1.summary)
at = lambda variant, lam, col: l1.summary.loc[  # noqa: E731
    settings_l1[(settings_l1.variant == variant) & (settings_l1.l1 == lam)].point.iloc[0], col]
lams = sorted(settings_l1.l1.unique())


def width(r):
    """Hidden layers as the book writes them, "4 × 25": a sweep's (its first point's) or a list of widths."""
    return robustness.hidden_label(r.provenance["points"][0]["config"]["hidden"] if hasattr(r, "provenance") else r)


glue("l1_width", width(l1), display=False)
glue("dense_lr_step", make_config("dense", "corrected").lr_step, display=False)
glue("l1_lr_step", make_config("l1", "corrected").lr_step, display=False)
glue("lam_max", f"{lams[-1]:g}", display=False)
glue("n_lams", int(sum(lam > 0 for lam in lams)), display=False)
for v in ("faithful", "corrected"):
    glue(f"small_max_{v}", numbers.number(at(v, lams[-1], "small"), "percent"), display=False)
    glue(f"zeros_max_{v}", numbers.number(at(v, lams[-1], "zeros"), "percent"), display=False)
    glue(f"small_paper_{v}", numbers.number(at(v, make_config("l1", v).l1, "small"), "percent"), display=False)

# %% [markdown]
# ## L1 strength
#
# The dense {glue:text}`l1_width` network with λ = 0 and {glue:text}`n_lams` log-spaced strengths up to
# {glue:text}`lam_max` (the paper: {glue:text}`paper_lambda`), both variants, SWA on and off.
#
# ```{glue:figure} fig_l1_diverged
# :name: fig-l1-diverged
# :alt: Three panels, one per horizon, of the percentage of rollouts diverged against the L1 strength, faithful and corrected, with and without SWA, with 95 % intervals
#
# Rollouts diverged against the L1 strength λ (λ = 0 drawn at the left), at
# {glue:text}`shown_horizons` samples: faithful and corrected variant, without SWA (solid) and with it
# (dashed), with 95 % bootstrap intervals.
# ```
#
# ```{glue:figure} fig_l1_capped
# :name: fig-l1-capped
# :alt: Three panels of the capped normalised error against the L1 strength
#
# The capped error (the normalised error of surviving rollouts, 3 for diverged ones)
# against λ, as in {numref}`fig-l1-diverged`.
# ```
#
# The point at λ = 0 is the L1 row's training without its penalty, not the study's dense row,
# which decays its learning rate after {glue:text}`dense_lr_step` epochs instead of
# {glue:text}`l1_lr_step` and starts from other initial weights; the map below puts it in the
# dense row's place.
#
# **Does "L1 is the most crucial factor" hold across λ?** With the L1 row at each λ > 0 in
# place of the paper's λ (the map at the end of the chapter), it holds at
# {glue:text}`crucial_faithful` strengths in the faithful variant ({glue:text}`crucial_faithful_where`)
# and at {glue:text}`crucial_corrected` in the corrected one ({glue:text}`crucial_corrected_where`).
#
# **Where is the optimum?** At {glue:text}`last_h` samples the lowest capped error without SWA is at
# {glue:text}`best_faithful` in the faithful variant ({glue:text}`best_faithful_value`) and at
# {glue:text}`best_corrected` in the corrected one ({glue:text}`best_corrected_value`). Settings
# whose interval overlaps the best one's, so not distinguishable from it with these models:
# {glue:text}`tied_faithful` (faithful), {glue:text}`tied_corrected` (corrected). With SWA the best is
# {glue:text}`best_faithful_swa` (faithful, overlapping: {glue:text}`tied_faithful_swa`) and
# {glue:text}`best_corrected_swa` (corrected, overlapping: {glue:text}`tied_corrected_swa`).
#
# ```{glue:figure} fig_l1_sparsity
# :name: fig-l1-sparsity
# :alt: Two panels: percentage of weights exactly zero and below 1e-3 against the L1 strength
#
# How sparse L1 makes the network: weights exactly zero and weights below 10⁻³ in
# magnitude (mean over the models, without SWA).
# ```
#
# L1 with Adam makes almost no weight exactly zero: at λ = {glue:text}`lam_max`,
# {glue:text}`zeros_max_faithful` % (faithful) and {glue:text}`zeros_max_corrected` % (corrected) of
# the weights are exactly zero, but {glue:text}`small_max_faithful` % and
# {glue:text}`small_max_corrected` % are below 10⁻³ (at the paper's {glue:text}`paper_lambda`:
# {glue:text}`small_paper_faithful` % and {glue:text}`small_paper_corrected` %).

# %% tags=["hide-input"]
mp, dsr = runs["sparsity-mp"], runs["sparsity-dsr"]
corrected = reference["corrected"]
others = ("str", "str+l1", "dsr", "dsr+l1")  # the study's other sparse rows, drawn at their measured sparsity
study_stats = corrected.stats.set_index(["config", "statistic", "horizon"])
short = lambda c: c.upper().replace("+", " + ")  # noqa: E731  (the legend's names: "STR + L1")
marks = pd.DataFrame([{"label": f"study: {short(c)} {width(make_config(c, 'corrected').hidden)}",
                       "horizon": h, "x": corrected.table4.loc[c, "sparsity"],
                       **study_stats.loc[(c, "divergence", h), ["estimate", "low", "high"]]}
                      for c in others for h in shown])
fig = sweep_figures.along([mp.summary, dsr.summary], "sparsity", "weights zero [%]", by="role", log=False,
                          marks=marks, horizons=shown, names={"mp": f"sweep: MP {width(mp)}",
                                                              "dsr": f"sweep: DSR {width(dsr)}"})
glue("fig_sparsity_diverged", fig, display=False)
plt.close(fig)
glue("mp_width", width(mp), display=False)
glue("dsr_width", width(dsr), display=False)
glue("study_dsr_width", width(make_config("dsr", "corrected").hidden), display=False)
dsr_seconds, _, dsr_models = sweep.reference_runs("corrected")["dsr"]  # the study's corrected DSR run
glue("study_dsr_minutes", f"{dsr_seconds / 60:.0f}", display=False)
glue("study_dsr_models", dsr_models, display=False)
level = {}  # per sweep: its settings (without SWA) by sparsity level
for name, r in (("mp", mp), ("dsr", dsr)):
    level[name] = robustness.settings(r.summary).sort_values("sparsity")
    glue(f"{name}_levels", ", ".join(f"{x:.3g}" for x in level[name].sparsity), display=False)
    picks = [("low", level[name].iloc[0]), ("high", level[name].iloc[-1])]
    if name == "mp":
        picks.append(("paper", level[name].loc[(level[name].sparsity - corrected.table4.loc["mp", "sparsity"])
                                                .abs().idxmin()]))
    for label, row in picks:
        glue(f"{name}_{label}_level", f"{row.sparsity:.3g}", display=False)
        for when, h in (("first", shown[0]), ("last", shown[-1])):
            est = r.summary.loc[row.point, [f"diverged_{h}{x}" for x in ("", "_low", "_high")]]
            glue(f"{name}_{label}_{when}", f"{numbers.number(est.iloc[0])} % [{numbers.number(est.iloc[1])}, "
                 f"{numbers.number(est.iloc[2])}]", display=False)
interval = lambda est, lo, hi: f"{numbers.number(est)} [{numbers.number(lo)}, {numbers.number(hi)}]"  # noqa: E731
h = horizons[-1]
compared_rows = [(f"{paper.LABELS[c]} (study)", corrected.table4.loc[c, "sparsity"],
                  study_stats.loc[(c, "divergence", h), ["estimate", "low", "high"]].to_numpy(float)) for c in others]
compared_rows += [(f"DSR {width(dsr)} (sweep)", row.sparsity,
                   dsr.summary.loc[row.point, [f"diverged_{h}{x}" for x in ("", "_low", "_high")]].to_numpy(float))
                  for row in level["dsr"].itertuples()]
pairs = []
for method, x, (est, lo, hi) in compared_rows:
    near = level["mp"].loc[(level["mp"].sparsity - x).abs().idxmin()]
    m = mp.summary.loc[near.point, [f"diverged_{h}{x}" for x in ("", "_low", "_high")]].to_numpy(float)
    pairs.append({"method": method, "its zeros [%]": numbers.number(x, "percent"),
                  f"its diverged at {h} [%]": interval(est, lo, hi),
                  "nearest MP level [%]": f"{near.sparsity:.3g}", f"MP diverged at {h} [%]": interval(*m),
                  "MP lower": "yes" if m[2] < lo else "no" if m[1] > hi else "overlap"})
pairs = pd.DataFrame(pairs)
glue("table_equal_sparsity", pairs.style.hide(axis="index"), display=False)
is_sweep = pairs.method.str.endswith("(sweep)")
for who, rows in (("study", pairs[~is_sweep]), ("dsr", pairs[is_sweep])):
    glue(f"mp_lower_{who}", int((rows["MP lower"] == "yes").sum()), display=False)
    glue(f"mp_higher_{who}", int((rows["MP lower"] == "no").sum()), display=False)
    glue(f"n_{who}", len(rows), display=False)
differ_study, differ_dsr = (int((rows["MP lower"] != "overlap").sum()) for rows in (pairs[~is_sweep], pairs[is_sweep]))

def rises(r, lv, horizon) -> bool:
    """Whether a sweep diverges more at its highest level than at its lowest, beyond both intervals, at ``horizon``."""
    low, high = (r.summary.loc[lv.iloc[k].point] for k in (0, -1))
    return bool(high[f"diverged_{horizon}_low"] > low[f"diverged_{horizon}_high"])


both_rise = rises(mp, level["mp"], h) and rises(dsr, level["dsr"], h)
glue("sparsity_or_method", (
    "Where the study's rows and magnitude pruning differ at one share of zeros, the method decides. "
    if differ_study else "The study's rows and magnitude pruning do not differ beyond the intervals. ") + (
    "Between the two swept methods, divergence follows the share of zeros, not the method: at every level the "
    "two overlap" + (", and both diverge more often at their highest level than at their lowest, beyond the "
                     "intervals." if both_rise else ".") if not differ_dsr else
    f"Between the two swept methods, {differ_dsr} of the {int(is_sweep.sum())} levels differ: there too the method "
    "decides."), display=False)
dense_c = reference["corrected"].table2.loc["dense", horizons[-1]]
glue("dense_corrected", numbers.number(dense_c), display=False)

# %% [markdown]
# ## Sparsity level
#
# Is it sparsity itself or the method that makes a network diverge? Two sweeps, both in the
# corrected variant, SWA on and off: magnitude pruning of the {glue:text}`mp_width` network
# (iterative: four prunes, each removing a fixed share of the remaining weights, with
# retraining in between) to {glue:text}`mp_levels` % of the weights removed, and dynamic
# sparse reparameterisation of a {glue:text}`dsr_width` network at {glue:text}`dsr_levels` %
# sparsity. DSR is swept at {glue:text}`dsr_width`, the released DSR models' width, not the
# paper's {glue:text}`study_dsr_width`: the study's {glue:text}`study_dsr_width` run of
# {glue:text}`study_dsr_models` models took {glue:text}`study_dsr_minutes` minutes on a 2-core
# machine, and four of them would take the sweeps' whole budget (`sweeps/README.md`).
#
# ```{glue:figure} fig_sparsity_diverged
# :name: fig-sparsity-diverged
# :alt: Three panels of the percentage of rollouts diverged against the share of weights zero, for magnitude pruning and DSR, with and without SWA, and the study's sparse rows as markers
#
# Rollouts diverged against the share of weights zero: corrected magnitude pruning (MP,
# {glue:text}`mp_width`) and DSR ({glue:text}`dsr_width`), without SWA (solid) and with it
# (dashed), and the study's soft-thresholding (STR) and DSR rows at their own sparsity
# (markers), all with 95 % intervals.
# ```
#
# **Magnitude pruning.** At {glue:text}`mp_low_level` % pruned, {glue:text}`mp_low_last` of the
# rollouts diverge by {glue:text}`last_h` samples; at the paper's {glue:text}`mp_paper_level` %,
# {glue:text}`mp_paper_last`; at {glue:text}`mp_high_level` %, {glue:text}`mp_high_last` (the
# corrected dense network: {glue:text}`dense_corrected` %). At {glue:text}`first_h` samples:
# {glue:text}`mp_low_first`, {glue:text}`mp_paper_first` and {glue:text}`mp_high_first`.
#
# **DSR.** At {glue:text}`dsr_low_level` % sparsity, {glue:text}`dsr_low_last` of the rollouts
# diverge by {glue:text}`last_h` samples, at {glue:text}`dsr_high_level` %,
# {glue:text}`dsr_high_last` (at {glue:text}`first_h` samples: {glue:text}`dsr_low_first` and
# {glue:text}`dsr_high_first`).
#
# **Sparsity or method?** Against the magnitude-pruned network nearest in sparsity, the
# study's other sparse rows and the swept DSR levels:
#
# ```{glue:figure} table_equal_sparsity
# :name: tbl-equal-sparsity
#
# The study's soft-thresholding and DSR rows (corrected) and the swept DSR levels beside
# magnitude pruning at the nearest sparsity level of the sweep: rollouts diverged at the
# last horizon with 95 % intervals, and whether magnitude pruning's interval lies wholly
# below ("yes"), wholly above ("no") or overlaps.
# ```
#
# Magnitude pruning diverges less, beyond the intervals, than {glue:text}`mp_lower_study` of
# the study's {glue:text}`n_study` other sparse rows, and more than {glue:text}`mp_higher_study`;
# against the {glue:text}`n_dsr` swept DSR levels it is lower at {glue:text}`mp_lower_dsr` and
# higher at {glue:text}`mp_higher_dsr`. {glue:text}`sparsity_or_method`

# %% tags=["hide-input"]
effects = pd.concat([robustness.swa_effect(r.summary, r.errors, horizons, n_boot=r.provenance["n_boot"])
                     .assign(sweep=name) for name, r in runs.items()], ignore_index=True)
counts = (effects.groupby(["sweep", "statistic", "horizon"]).verdict.value_counts().unstack(fill_value=0)
          .reindex(columns=list(conclusions.VERDICTS), fill_value=0).reset_index())
counts["statistic"] = counts.statistic.map({"divergence": "diverged [%]", "capped_mean": "capped error"})
counts = counts.rename(columns={"holds": "SWA better", "does not hold": "SWA worse", "inconclusive": "no verdict"})
glue("table_swa", counts.style.hide(axis="index"), display=False)
swa_better = int((effects.verdict == "holds").sum())
glue("swa_better", swa_better, display=False)
glue("swa_worse", int((effects.verdict == "does not hold").sum()), display=False)
glue("swa_tests", len(effects), display=False)
stat_name = {"divergence": "divergence", "capped_mean": "capped error"}
where = lambda verdict: "; ".join(  # noqa: E731
    f"{r.sweep} {r.variant} {r.setting} ({stat_name[r.statistic]} at {r.horizon})"
    for r in effects[effects.verdict == verdict].itertuples()) or "nowhere"
glue("swa_better_where", where("holds"), display=False)
glue("swa_worse_where", where("does not hold"), display=False)

# %% [markdown]
# ## SWA on and off
#
# At every setting of every sweep the models were trained with and without SWA. The
# table counts, per sweep, statistic and horizon, the settings where the interval of
# (with SWA − without) lies below 0 (SWA better), above 0 (SWA worse), or contains 0.
#
# ```{glue:figure} table_swa
# :name: tbl-swa
#
# SWA's effect across the sweeps' settings: number of settings where it lowers the
# statistic, raises it, or has no verdict (95 % bootstrap interval of the paired difference).
# ```
#
# Of {glue:text}`swa_tests` tests, SWA is better in {glue:text}`swa_better` and worse in
# {glue:text}`swa_worse`. Better: {glue:text}`swa_better_where`. Worse:
# {glue:text}`swa_worse_where`.

# %% tags=["hide-input"]
verdicts, compared = robustness.committed_map(SWEEPS)
overview = robustness.map_summary(verdicts)
for r in overview.itertuples():
    glue(f"map_{r.conclusion}", f"{r.holds} of {r.settings}", display=False)
for v, r in reference.items():
    overview[f"paper setting, {v}"] = overview.conclusion.map(r.conclusions.set_index("conclusion").verdict)
overview["holds %"] = overview["holds %"].map(lambda x: numbers.number(x, "percent"))
overview["conclusion"] = overview.conclusion.map(robustness.LABELS)
glue("table_map", overview.style.hide(axis="index"), display=False)
fig = sweep_figures.conclusion_map(verdicts)
glue("fig_map", fig, display=False)
plt.close(fig)
for v in ("faithful", "corrected"):
    at_l1 = verdicts[(verdicts.sweep == "l1-strength") & (verdicts.variant == v) & (verdicts.role == "l1")
                     & (verdicts.conclusion == "l1-most-crucial")]
    glue(f"crucial_{v}", f"{int((at_l1.verdict == 'holds').sum())} of {len(at_l1)}", display=False)
    glue(f"crucial_{v}_where", ", ".join(at_l1[at_l1.verdict == "holds"].setting) or "none", display=False)

# %% [markdown]
# ## A map of the paper's five conclusions
#
# Each setting of a sweep stands for the configuration it varies (its *role*: the L1 row,
# the dense network at λ = 0, magnitude pruning, DSR). There, the setting's models take that
# configuration's place and its SWA twin's, every other configuration stays the study's
# own (same variant, same test trajectories), and each conclusion is re-tested on its
# comparisons that involve the role, with the rule of {doc}`05_conclusions`: holds if all
# of them hold, does not hold if any is contradicted, inconclusive otherwise. A conclusion
# with no comparison involving the role is not tested at that setting.
#
# ```{glue:figure} table_map
# :name: tbl-map
#
# Per conclusion: the settings it was tested at, how many verdicts of each kind, the share
# that holds, and the verdict at the paper's own setting ({doc}`05_conclusions`).
# ```
#
# ```{glue:figure} fig_map
# :name: fig-map
# :alt: A grid of coloured cells, one row per conclusion and one column per sweep setting, coloured by verdict
#
# The verdict of each conclusion at each setting (grey: inconclusive; blank: not tested there).
# ```
#
# "L1 is the most crucial factor" holds at {glue:text}`map_l1-most-crucial` settings;
# "magnitude pruning + L1 is slightly inferior to L1" at {glue:text}`map_mp-l1-slightly-inferior`;
# "STR and DSR are ill-suited" (the dense network beats both) at {glue:text}`map_str-dsr-ill-suited`;
# "SWA helps L1 and magnitude pruning" at {glue:text}`map_swa-helps-l1-mp`; "SWA reduces early and
# medium-horizon divergence" at {glue:text}`map_swa-early-medium`. A conclusion that holds at
# the paper's setting but at few others of the grid belongs to that setting, not to the method.

# %% [markdown]
# ## Exercises
#
# The chapter reads committed sweeps, so it runs in seconds on any machine: `python -m
# alukit book --only 08_robustness` re-executes it (in a handout notebook: `papermill
# 08_robustness.ipynb out.ipynb`). `alukit.book.exercises.check(ID, answer)` says whether a
# numeric answer is within tolerance of the value computed here.
#
# ````{exercise} Measure: The best L1 strength at a medium horizon
# :label: ex-ch8-best-lambda
#
# The chapter finds the λ with the lowest capped error at the last horizon. Find it at
# 2500 samples instead, for the corrected variant without SWA, from the sweep's
# `summary.csv` (`runs["l1-strength"].summary`, columns `l1`, `variant`, `swa`,
# `capped_2500`). Is it the same λ? Is it distinguishable from its neighbours?
#
# Run: a new cell after this one. Check your λ: `exercises.check("ch8-best-lambda-2500", your_lambda)`.
# ````

# %% tags=["remove-input"]
from alukit.book import exercises

exercises.record("ch8-best-lambda-2500", float(
    l1.summary[(l1.summary.variant == "corrected") & ~l1.summary.swa.astype(bool)].set_index("l1")
    .capped_2500.idxmin()), tol=1e-12)

# %% [markdown]
# ```{solution-start} ex-ch8-best-lambda
# :class: dropdown
# ```

# %%
medium = robustness.best_settings(l1.summary, "capped", 2500)
row = medium[(medium.variant == "corrected") & ~medium.swa].iloc[0]
s = l1.summary[(l1.summary.variant == "corrected") & ~l1.summary.swa.astype(bool)]
best_lambda = float(s.set_index("l1").capped_2500.idxmin())
exercises.check("ch8-best-lambda-2500", best_lambda)
glue("ex8_best", row.best, display=False)
glue("ex8_value", f"{numbers.number(row.estimate, 'error')} [{numbers.number(row.low, 'error')}, "
     f"{numbers.number(row.high, 'error')}]", display=False)
glue("ex8_tied", row.tied or "none", display=False)
print(s[["l1", "capped_2500", "capped_2500_low", "capped_2500_high"]].to_string(index=False))

# %% [markdown]
# At 2500 samples the corrected network without SWA is best at {glue:text}`ex8_best`
# (capped error {glue:text}`ex8_value`); the settings whose interval overlaps it are
# {glue:text}`ex8_tied`. With ten models per point a λ is "the optimum" only up to those
# overlaps: the sweep locates a range, not a value.
#
# ```{solution-end}
# ```

# %% [markdown]
# ````{exercise} Extend: SWA's effect at every horizon
# :label: ex-ch8-swa-horizons
#
# The chapter tests SWA at 1000 and 5000 samples. Count, over all settings of the
# L1-strength sweep, in how many SWA lowers the divergence at each of the four horizons:
# `robustness.swa_effect(summary, errors, horizons, statistics=("divergence",), at=(h,))`
# gives one verdict per setting. Does "SWA helps early to medium horizons" fare better at
# 100 or 1000 samples than at 5000?
#
# Run: a new cell after this one. Check the count at 1000 samples:
# `exercises.check("ch8-swa-1000", count)`.
# ````

# %% tags=["remove-input"]
exercises.record("ch8-swa-1000", int((robustness.swa_effect(l1.summary, l1.errors, horizons, ("divergence",), (1000,))
                                      .verdict == "holds").sum()), tol=0)

# %% [markdown]
# ```{solution-start} ex-ch8-swa-horizons
# :class: dropdown
# ```

# %%
by_horizon = {h: robustness.swa_effect(l1.summary, l1.errors, horizons, ("divergence",), (h,)).verdict.value_counts()
              for h in horizons}
per_h = pd.DataFrame(by_horizon).T.reindex(columns=list(conclusions.VERDICTS), fill_value=0).fillna(0).astype(int)
per_h.index.name = "horizon"
exercises.check("ch8-swa-1000", int(per_h.loc[1000, "holds"]))
glue("ex8_swa_table", per_h.rename(columns={"holds": "SWA better", "does not hold": "SWA worse",
                                           "inconclusive": "no verdict"}), display=False)
glue("ex8_swa_1000", int(per_h.loc[1000, "holds"]), display=False)
glue("ex8_swa_last", int(per_h.loc[horizons[-1], "holds"]), display=False)
glue("ex8_swa_first", int(per_h.loc[horizons[0], "holds"]), display=False)
glue("ex8_first", horizons[0], display=False)
glue("ex8_settings", int(per_h.iloc[0].sum()), display=False)

# %% [markdown]
# ```{glue:figure} ex8_swa_table
# :name: tbl-ex8-swa
#
# **Exercise:** settings of the L1-strength sweep where SWA lowers, raises or does not
# distinguishably change the share of rollouts diverged, per horizon.
# ```
#
# Of the {glue:text}`ex8_settings` settings, SWA lowers the divergence at 1000 samples in
# {glue:text}`ex8_swa_1000`, at the last horizon in {glue:text}`ex8_swa_last` and at
# {glue:text}`ex8_first` samples in {glue:text}`ex8_swa_first`: a share of rollouts
# diverged can only fall where some rollouts diverge without SWA.
#
# ```{solution-end}
# ```


# %% [markdown]
# ## References
#
# ```{footbibliography}
# ```
