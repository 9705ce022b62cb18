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
# # The paper's conclusions, checked
#
# **Read first:** {doc}`05_tables` (the numbers the verdicts test). This section shows the paper's five conclusions, each tested on bootstrap intervals.
#
# Section V of {footcite}`haugstvedt2023comparative` draws five conclusions from the results of
# Section IV; here each is checked against our numbers.

# %% tags=["parameters", "hide-cell"]
profile = "paper"  # run profile: params/<profile>.yaml (defaults: the paper profile)
variant = "faithful"  # "faithful" (as the published code) or "corrected"

# %% tags=["hide-input"]
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import HTML
from myst_nb import glue

from alukit.book import figures, numbers
from alukit.evaluation import metrics
from alukit.book.banner import banner
from alukit.studies import paper, published, reproduce
from alukit import profiles

figures.setup()  # the book's style; each figure carries its readability record (smallest text, legends)
res = reproduce.load(profile, variant)  # fails at once, naming the command, if absent
H = list(res.horizons)
last = H[-1]
E, n = next(iter(res.errors.values())).shape[1:3]
glue("cap", metrics.THRESHOLD, display=False)
HTML(banner(profile, [variant]))

# %% tags=["hide-input"]
summary = res.conclusions.copy()
for i, row in summary.iterrows():
    glue(f"verdict_{i + 1}", row["verdict"], display=False)
    glue(f"holding_{i + 1}", int(row["holding"]), display=False)
    glue(f"comparisons_{i + 1}", int(row["comparisons"]), display=False)
shown = summary[["claim", "tested as"]].assign(verdict=[
    f"{r.verdict}: {int(r.holding)} of {int(r.comparisons)} comparisons hold, {int(r.contradicted)} contradicted"
    for r in summary.itertuples()])
shown.index = pd.Index(range(1, len(shown) + 1), name="conclusion")
glue("table_verdicts", shown.style.set_table_attributes('class="alukit-text-table"'), display=False)
number_of = {key: i + 1 for i, key in enumerate(summary["conclusion"])}
c = res.comparisons
detail = pd.DataFrame({
    "conclusion": c.conclusion.map(number_of), "better": c.better.map(paper.LABELS), "worse": c.worse.map(paper.LABELS),
    "statistic": c.statistic.map(metrics.STATISTIC_LABELS), "horizon": c.horizon.map(lambda h: f"{h} ΔT"),
    "difference [95 % interval]": [f"{numbers.number(d, 'error')} [{numbers.number(lo, 'error')}, "
                                   f"{numbers.number(hi, 'error')}]" for d, lo, hi in zip(c.difference, c.low, c.high)],
    "verdict": c.verdict})
glue("table_comparisons", detail.style.hide(axis="index"), display=False)

# %% [markdown]
# Each conclusion of Section V becomes a set of comparisons "configuration A is better
# than B", tested on the bootstrap interval of the difference (models and trajectories
# resampled, the same trajectories for both): a comparison *holds* if the whole interval
# favours A, *does not hold* if it favours B, and is *inconclusive* otherwise. Performance
# is measured with the divergence-aware capped error (a diverged rollout scores
# {glue:text}`cap`, the divergence threshold), so that a method cannot look accurate by diverging.
#
# 1. L1 is the most crucial factor: **{glue:text}`verdict_1`**
#    ({glue:text}`holding_1` of {glue:text}`comparisons_1` comparisons hold).
# 2. Magnitude pruning + L1 slightly inferior to L1 alone: **{glue:text}`verdict_2`**
#    ({glue:text}`holding_2` of {glue:text}`comparisons_2`).
# 3. Soft thresholding and DSR ill-suited to small networks: **{glue:text}`verdict_3`**
#    ({glue:text}`holding_3` of {glue:text}`comparisons_3`).
# 4. SWA improves the L1 and the magnitude-pruned models: **{glue:text}`verdict_4`**
#    ({glue:text}`holding_4` of {glue:text}`comparisons_4`).
# 5. SWA reduces divergence and error of all models early to mid horizon:
#    **{glue:text}`verdict_5`** ({glue:text}`holding_5` of {glue:text}`comparisons_5`).
#
# ```{glue:figure} table_verdicts
# :name: tbl-verdicts
#
# **The paper's conclusions and our verdicts.** The claim in the paper's words, how we
# test it, how many of its comparisons hold or are contradicted, and the verdict.
# ```
#
# ```{glue:figure} table_comparisons
# :name: tbl-comparisons
#
# **Every comparison.** Statistic of A ("better") minus statistic of B ("worse") with
# its 95 % bootstrap interval; "not run" where a configuration or horizon is missing.
# ```

# %% [markdown]
# ## References
#
# ```{footbibliography}
# ```
