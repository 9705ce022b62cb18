"""How robust are the paper's conclusions? The sweeps' grid points read as the configurations they vary (chapter 8).

A comparative sweep (:mod:`alukit.studies.sweep`) trains one configuration of Tables 2–4 at many settings
(an L1 strength, a sparsity level), each with and without SWA. :func:`settings` pairs every setting's two
points and names the configuration they stand for, their *role*: the row's name, except that the L1 row at
λ = 0 is the dense network. At one setting:

* :func:`swa_effect` measures SWA: statistic(with SWA) − statistic(without), a paired bootstrap interval
  (:func:`alukit.evaluation.metrics.bootstrap_difference`) and the verdict of
  :mod:`alukit.studies.conclusions` ("holds": SWA lowers it).
* :func:`conclusion_map` re-tests each of the paper's five conclusions (:data:`~alukit.studies.conclusions.
  CONCLUSIONS`): the setting's two points take the place of the role and its SWA twin, every other
  configuration is the paper study's own (same profile, variant and test trajectories), and the conclusion's
  comparisons *that involve the role* are tested and combined by its rule (all hold: holds; any contradicted:
  does not hold; else inconclusive). A conclusion none of whose comparisons involves the role is not tested
  at that setting. :func:`map_summary` gives each conclusion's share of settings per verdict.
* :func:`best_settings` finds where a statistic is lowest, and which settings are not distinguishable from it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from alukit import paths
from alukit.evaluation import metrics
from alukit.studies import conclusions, reproduce, sweep
from alukit.studies.study import Study

__all__ = ["LABELS", "COMMITTED", "read_committed", "committed_map", "settings", "setting_label", "hidden_label",
           "swa_effect", "conclusion_map", "map_summary", "best_settings"]

_NOT_SETTING = ("variant", "config", "swa", "models", "epochs")
COMMITTED = ("l1-strength", "sparsity-mp", "sparsity-dsr")  # the comparative sweeps committed as results/sweep-<name>/ (chapter 8)
LABELS = {  # each conclusion of alukit.studies.conclusions in a few words, for tables and figures
    "l1-most-crucial": "L1 is the most crucial factor",
    "mp-l1-slightly-inferior": "MP + L1 slightly inferior to L1",
    "str-dsr-ill-suited": "STR and DSR ill-suited",
    "swa-helps-l1-mp": "SWA helps L1 and MP",
    "swa-early-medium": "SWA helps early to medium",
}


def setting_label(values: dict) -> str:
    """A setting as a reader writes it: ``λ = 0.0003``, ``sparsity 80 %`` (:func:`_target_sparsity`),
    ``hidden 4 × 50`` (a list or its text as ``summary.csv`` holds it); several axes joined by ", "."""
    parts = []
    for axis, v in values.items():
        if axis == "l1":
            parts.append(f"λ = {float(v):g}")
        elif axis in ("prune_amount", "dsr_sparsity"):
            parts.append(f"sparsity {_target_sparsity({axis: v}):.3g} %")
        elif axis == "hidden":
            parts.append("hidden " + hidden_label(v))
        else:
            parts.append(f"{axis} = {v}")
    return ", ".join(parts)


def hidden_label(hidden) -> str:
    """Hidden layers as the book writes them: ``4 × 50`` (equal widths) or ``33 × 17 × 40``; ``hidden`` a
    sequence of widths or its text as ``summary.csv`` holds it (``"[50, 50, 50, 50]"``)."""
    widths = [int(w) for w in str(hidden).strip("[]() ").split(",")] if isinstance(hidden, str) else list(hidden)
    return f"{len(widths)} × {widths[0]}" if len(set(widths)) == 1 else " × ".join(map(str, widths))


def _target_sparsity(values: dict) -> float:
    """The % of weights a setting's pruning or DSR targets, NaN where it sets none (MP's ``prune_amount`` a,
    applied four times, removes 1 − (1 − a)⁴ of the weights)."""
    if "prune_amount" in values:
        return 100 * (1 - (1 - float(values["prune_amount"])) ** 4)
    return 100 * float(values["dsr_sparsity"]) if "dsr_sparsity" in values else np.nan


def _axes(summary: pd.DataFrame) -> list[str]:
    """The grid axes of a sweep's ``summary.csv`` other than variant and SWA (the columns before ``models``)."""
    cols = list(summary.columns)
    return [c for c in cols[:cols.index("models")] if c not in _NOT_SETTING]


def settings(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per (variant, setting) of a comparative sweep's ``summary.csv`` (index ``point``): ``variant``,
    the axes' values, ``setting`` (:func:`setting_label` of the axes with more than one value), ``role`` (the
    configuration it stands for), ``sparsity`` (:func:`_target_sparsity`) and ``point``/``swa_point``, the ids
    without and with SWA (None where the grid lacks one)."""
    axes = _axes(summary)
    varying = [a for a in axes if summary[a].astype(str).nunique() > 1] or axes  # a one-value axis names no setting
    swa = summary["swa"].astype(bool) if "swa" in summary else summary["config"].str.endswith("+swa")
    rows = {}
    for point, row in summary.iterrows():
        values = {a: row[a] for a in axes}
        key = (row["variant"], *map(str, values.values()))
        base = row["config"].replace("+swa", "")
        role = "dense" if base == "l1" and float(values.get("l1", 1.0)) == 0.0 else base
        label = setting_label({a: values[a] for a in varying})
        entry = rows.setdefault(key, {"variant": row["variant"], **values, "setting": label,
                                      "role": role, "sparsity": _target_sparsity(values), "point": None,
                                      "swa_point": None})
        entry["swa_point" if swa[point] else "point"] = point
    return pd.DataFrame(list(rows.values()))


def swa_effect(summary: pd.DataFrame, errors: dict, horizons, statistics=("divergence", "capped_mean"),
               at=(1000, 5000), n_boot: int = 2000, seed: int = 0) -> pd.DataFrame:
    """SWA's effect at every setting with both points: one row per (setting, statistic, horizon) with
    ``difference`` = statistic(with SWA) − statistic(without) (divergence in points of %), its 95 % interval
    (``low``, ``high``; models resampled per point, trajectories paired) and ``verdict`` ("holds": SWA lowers it).
    ``errors``: the sweep's ``{point: (H, E, n, 8)}``; ``at``: horizons in samples."""
    horizons = tuple(horizons)
    rows = []
    for _, s in settings(summary).iterrows():
        if s["point"] is None or s["swa_point"] is None:
            continue
        for k, stat in enumerate(statistics):
            for h in at:
                i = horizons.index(h)
                d, lo, hi = metrics.bootstrap_difference(errors[s["swa_point"]][i:i + 1], errors[s["point"]][i:i + 1],
                                                         stat, n_boot=n_boot, seed=seed + k)
                rows.append({"variant": s["variant"], "setting": s["setting"], "role": s["role"], "statistic": stat,
                             "horizon": h, "difference": float(d[0]), "low": float(lo[0]), "high": float(hi[0]),
                             "verdict": conclusions._verdict(lo[0], hi[0])})
    return pd.DataFrame(rows)


def conclusion_map(sweeps: dict[str, tuple[pd.DataFrame, dict]], reference: dict[str, dict], horizons,
                   n_boot: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each of the paper's conclusions re-tested at every setting of every sweep (see the module).

    ``sweeps``: ``{sweep name: (summary, errors)}`` (:class:`alukit.studies.sweep.SweepResults` fields);
    ``reference``: ``{variant: {configuration: errors (H, E, n, 8)}}``, the paper study's per-rollout errors on
    the same test trajectories and ``horizons``. Returns ``(verdicts, comparisons)``: one row per (sweep,
    setting, conclusion) tested, with ``comparisons``, ``holding``, ``contradicted`` and ``verdict``; and every
    comparison tested, with its difference and interval (:func:`alukit.studies.conclusions.check`'s columns).
    """
    verdicts, compared = [], []
    for name, (summary, errors) in sweeps.items():
        for _, s in settings(summary).iterrows():
            swapped = {r: errors[p] for r, p in ((s["role"], s["point"]), (s["role"] + "+swa", s["swa_point"]))
                       if p is not None}
            where = {"sweep": name, "variant": s["variant"], "setting": s["setting"], "role": s["role"]}
            for c in conclusions.CONCLUSIONS:
                involved = [comp for comp in c.comparisons if {comp.better, comp.worse} & set(swapped)]
                partners = {name for comp in involved for name in (comp.better, comp.worse)} - set(swapped)
                subset = {**{p: reference[s["variant"]][p] for p in partners if p in reference[s["variant"]]},
                          **swapped}
                table, summary_c = conclusions.check(subset, horizons, n_boot=n_boot, seed=seed)
                mine = table[(table.conclusion == c.key) & (table.verdict != "not run")]
                if mine.empty:
                    continue
                row = summary_c.set_index("conclusion").loc[c.key]
                verdicts.append({**where, "conclusion": c.key, "comparisons": int(row["comparisons"]),
                                 "holding": int(row["holding"]), "contradicted": int(row["contradicted"]),
                                 "verdict": row["verdict"]})
                compared += [{**where, **r} for r in mine.to_dict("records")]
    return pd.DataFrame(verdicts), pd.DataFrame(compared)


def map_summary(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Per conclusion (in the paper's order): ``settings`` tested, how many hold, do not hold and are
    inconclusive, and ``holds %`` (share of the settings tested)."""
    rows = []
    for c in conclusions.CONCLUSIONS:
        got = verdicts.loc[verdicts.conclusion == c.key, "verdict"]
        counts = {v: int((got == v).sum()) for v in conclusions.VERDICTS}
        rows.append({"conclusion": c.key, "settings": len(got), **counts,
                     "holds %": 100.0 * counts["holds"] / len(got) if len(got) else np.nan})
    return pd.DataFrame(rows)


def best_settings(summary: pd.DataFrame, statistic: str = "capped", horizon: int = 5000) -> pd.DataFrame:
    """Per (variant, SWA): the point with the lowest ``<statistic>_<horizon>`` of ``summary.csv`` (``capped`` or
    ``diverged``) and ``tied``, the settings whose 95 % interval overlaps the best one's (not distinguishable
    from it at this resolution)."""
    col = f"{statistic}_{horizon}"
    s = settings(summary)
    rows = []
    for variant, part in s.groupby("variant", sort=False):
        for swa, key in ((False, "point"), (True, "swa_point")):
            pts = part.dropna(subset=[key])
            if pts.empty:
                continue
            at = summary.loc[list(pts[key])]
            best = at[col].idxmin()
            tied = at[(at[f"{col}_low"] <= at.loc[best, f"{col}_high"])].index
            label = dict(zip(pts[key], pts["setting"]))
            rows.append({"variant": variant, "swa": swa, "best": label[best], "estimate": at.loc[best, col],
                         "low": at.loc[best, f"{col}_low"], "high": at.loc[best, f"{col}_high"],
                         "tied": ", ".join(label[p] for p in tied if p != best)})
    return pd.DataFrame(rows)


def read_committed(names=COMMITTED) -> dict:
    """``{name: SweepResults}`` of the committed sweeps ``results/sweep-<name>/`` (spec ``sweeps/<name>.yaml``), each
    checked against its manifest; never computes."""
    return {name: sweep.read(paths.SWEEPS / f"{name}.yaml") for name in names}


def committed_map(names=COMMITTED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`conclusion_map` of the committed sweeps against the committed paper study (``results/paper-<variant>/``),
    with the sweeps' bootstrap resamples."""
    runs = read_committed(names)
    reference = {v: reproduce.read(Study(f"paper-{v}"), tables_only=True).errors for v in ("faithful", "corrected")}
    first = next(iter(runs.values()))
    return conclusion_map({n: (r.summary, r.errors) for n, r in runs.items()}, reference, first.horizons,
                          n_boot=first.provenance["n_boot"])
