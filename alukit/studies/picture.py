"""The paper's qualitative picture, checked on a study's Table 2, and the banner note saying where a profile misses it.

The picture (Haugstvedt et al., Table 2 and Section IV), as three statements:

1. ``least``: L1 and MP + L1 are among the four least divergent configurations at 2500 ΔT;
2. ``most``: DSR diverges at least as often as every configuration outside the DSR family at 2500 ΔT;
3. ``early``: dense and L1 diverge in at most a quarter of their rollouts at 1000 ΔT.

:func:`check` tests them on a Table 2 (``config`` × horizon, % diverged); :func:`note`
turns the failures of a profile's faithful results into HTML for the chapter banners
(:func:`alukit.studies.reproduce.banner`), each with the reason that this profile's training
schedule gives, computed from the configurations, and says when the profile's runs are
too short for the corrected variant's SWA to average more than one epoch.
"""
from __future__ import annotations

import math

import pandas as pd

from alukit.studies import paper
from alukit import profiles

LEAST, MOST, EARLY = ("l1", "mp+l1"), "dsr", ("dense", "l1")
N_LEAST = 4  # "among the four least divergent": the paper's four are L1, L1 + SWA, MP + L1, MP + L1 + SWA
EARLY_MAX = 25.0  # "well under half" at 1000 ΔT, in %


def _by_horizon(table2: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table2`` with integer horizon columns (a CSV's are strings)."""
    t = table2.copy()
    t.columns = [int(c) for c in t.columns]
    return t


def check(table2: pd.DataFrame) -> pd.DataFrame:
    """One row per statement: ``statement``, ``holds`` (bool) and the ``failing`` configurations."""
    t = _by_horizon(table2)
    missing = sorted(set(paper.CONFIG_NAMES) - set(t.index)) + [h for h in (1000, 2500) if h not in t.columns]
    if missing:
        raise ValueError(f"table2 must hold all 16 configurations at 1000 and 2500 ΔT; missing {missing}")
    at = t[2500]
    fourth = at.sort_values(kind="stable").iloc[min(N_LEAST, len(at)) - 1]
    rows = [("least", [c for c in LEAST if at[c] > fourth]),
            ("most", [MOST] if at[MOST] < at[[c for c in t.index if not c.startswith("dsr")]].max() else []),
            ("early", [c for c in EARLY if t.loc[c, 1000] > EARLY_MAX])]
    return pd.DataFrame([{"statement": s, "holds": not bad, "failing": bad} for s, bad in rows])


def _steps_per_epoch(prof: dict, batch: int) -> int:
    return math.ceil(prof["n_train"] * (prof["n_steps"] - 1) / batch)


def _reason(config: str, profile) -> str:
    from alukit.training.train import resolve

    cfg, prof, _ = resolve(config, "faithful", profile)
    full, _, _ = resolve(config, "faithful", "paper")
    per, per_paper = _steps_per_epoch(prof, cfg.batch_size), _steps_per_epoch(profiles.load("paper"), full.batch_size)
    if cfg.method == "mp":
        return (f"its weights stop training at its first prune (defect 1), here after {cfg.prune_epochs[0] * per:,} "
                f"Adam steps (paper: {full.prune_epochs[0] * per_paper:,}), and its biases have "
                f"{cfg.epochs - cfg.prune_epochs[-1]} epochs after the last prune to adapt (paper: "
                f"{full.epochs - full.prune_epochs[-1]})")
    if cfg.method == "dsr":  # the picture's "most" judges the plain DSR row, trained unfrozen (config.py)
        return ("the faithful DSR row keeps training its weights under the mask, as its released models' weights "
                "suggest, and a network trained that way is stable"
                + ("" if prof.profile == "paper" else _paper_profile_value(config))
                + "; the released models diverge far more, from a run that is not in the authors' repository "
                "(chapter 6), so this gap belongs to the row, not to the profile")
    return (f"it trains {cfg.epochs} epochs of {per:,} steps, {cfg.lr_step} of them at the full learning rate "
            f"(paper: {full.epochs} epochs of {per_paper:,}, {full.lr_step} at the full rate)")


def _paper_profile_value(config: str, horizon: int = 2500) -> str:
    """' (the paper profile: x % at 2500 ΔT)' from the committed faithful results, '' where they are absent."""
    from alukit.studies import reproduce

    t2 = reproduce.read_table2(reproduce.results_dir("paper", "faithful"))
    if t2 is None:
        return ""
    value = t2.loc[config, horizon]
    return f" (the paper profile: {value:.1f} % at {horizon} ΔT)"


def note(table2: pd.DataFrame, profile) -> str:
    """HTML sentences on the statements of :func:`check` that fail in ``table2``, with reasons ('' if all hold)."""
    res, t = check(table2), _by_horizon(table2)
    parts = []
    for row in res.itertuples():
        for c in row.failing:
            h = 1000 if row.statement == "early" else 2500
            claim = {"least": f"is not among the {N_LEAST} least divergent configurations at 2500 ΔT",
                     "most": "is not the most divergent configuration at 2500 ΔT",
                     "early": f"diverges in more than {EARLY_MAX:g} % of its rollouts at 1000 ΔT"}[row.statement]
            parts.append(f"{paper.LABELS[c]} ({t.loc[c, h]:.1f} % at {h} ΔT) {claim}, unlike in the paper: "
                         f"{_reason(c, profile)}.")
    parts += _swa_note(profile)
    if not parts:
        return ""
    return ("<p>Where this profile departs from the paper's qualitative picture: " + " ".join(parts) + "</p>")


def _swa_note(profile) -> list[str]:
    """A sentence if the corrected variant's SWA averages fewer than two epochs (then + SWA equals its twin)."""
    from alukit.training.train import resolve

    cfg, _, _ = resolve("dense+swa", "corrected", profile)
    n = cfg.epochs - cfg.swa_start
    if n >= 2:
        return []
    return [f"In the corrected variant, SWA averages the last {cfg.swa_fraction:.0%} of {cfg.epochs} epochs, here "
            f"{n} epoch, so every + SWA row equals its twin without SWA."]
