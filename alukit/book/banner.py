"""The chapters' banners: which profile a page shows, whether its results are current, and where a reduced
profile departs from the paper's qualitative picture (:mod:`alukit.studies.picture`), with the reason its
training schedule gives.

Everything that goes into the HTML (profile names, paths, commands) is escaped.
"""
from __future__ import annotations

import html
import math

import numpy as np

from alukit import paths, profiles
from alukit.profiles import Profile
from alukit.studies import paper, picture, picture_variants, reproduce, sweep
from alukit.training.train import resolve

__all__ = ["banner", "sweep_banner", "picture_note", "picture_variants_note"]


def admonition(kind: str, title: str, body: str, more: str = "") -> str:
    """An admonition box: ``title`` and the paragraph ``body`` (both already HTML), then further HTML ``more``."""
    return f'<div class="admonition {kind}"><p class="admonition-title">{title}</p><p>{body}</p>{more}</div>'


def _code(text) -> str:
    return f"<code>{html.escape(str(text))}</code>"


def banner(profile: Profile | str, variants=()) -> str:
    """HTML banner of a chapter: which profile it shows and, for each variant read, whether its results are
    current (:func:`alukit.studies.reproduce.stale_reason`), naming the command that refreshes them."""
    prof = profiles.load(profile)
    folders = ", ".join(_code(f"results/{prof.name}-{v}/") for v in variants)
    read = f" Its results are read from {folders}." if variants else ""
    if not prof.is_reduced:
        parts = [admonition("note", "Paper profile", f"This chapter was built with the {_code('paper')} profile "
                            f"({_code('params/paper.yaml')}): the papers' data sizes and models.{read}")]
    else:
        ref = profiles.load("paper")
        facts = [f"{getattr(prof, k)} {what} (paper: {getattr(ref, k)})" for k, what in
                 (("n_train", "training trajectories"), ("n_test", "test trajectories"),
                  ("models", "models per configuration"))]
        facts.append(f"{prof.train_epoch_scale:g} × the paper's epochs")
        step = 100 / (prof.models * prof.n_test)
        parts = [admonition("warning", f"{html.escape(prof.name.capitalize())} profile",
                            f"This chapter was built with the {_code(prof.name)} profile: {', '.join(facts)}. It "
                            "runs the same code as the paper profile on far less data and compute, so its numbers "
                            f"are indicative only: percentages move in steps of {step:.2g} points and intervals "
                            f"are wide. The book's default build ({_code('make book')}) shows the paper "
                            f"profile.{read}", _picture_note_of(prof))]
    for v in variants:
        reason = reproduce.stale_reason(prof, v)
        if reason is not None:
            parts.append(admonition("danger", "Stale results",
                                    f"{_code(f'results/{prof.name}-{v}/')} does not match the current code: "
                                    f"{html.escape(reason)}. The numbers below are those of the committed run. "
                                    f"Refresh them with {_code(reproduce.refresh_command(prof))} (or "
                                    f"{_code(reproduce.refresh_command(prof, v))}), then rebuild the book."))
    return "\n".join(parts)


def sweep_banner(names) -> str:
    """HTML banner of a chapter that reads committed sweeps: which folders (``results/sweep-<name>/``, made with
    the paper profile whatever profile the book is built with) and, for each whose folder does not match its spec
    ``sweeps/<name>.yaml`` and the current code (:func:`alukit.studies.sweep.stale_reason`), a *Stale results* box
    naming the command that refreshes it."""
    folders = ", ".join(_code(f"results/sweep-{n}/") for n in names)
    parts = [admonition("note", "Committed sweeps", f"This chapter reads the sweeps {folders}: the paper profile's "
                        f"data, whatever profile the book is built with. Each is written by "
                        f"{_code('python -m alukit sweep sweeps/NAME.yaml')}.")]
    for n in names:
        spec = paths.SWEEPS / f"{n}.yaml"
        reason = sweep.stale_reason(spec)
        if reason is not None:
            parts.append(admonition("danger", "Stale results",
                                    f"{_code(f'results/sweep-{n}/')} does not match the current code or spec: "
                                    f"{html.escape(reason)}. The numbers below are those of the committed run. "
                                    f"Refresh them with {_code(f'python -m alukit sweep sweeps/{n}.yaml')}, then "
                                    "rebuild the book."))
    return "\n".join(parts)


def _picture_note_of(prof: Profile) -> str:
    """:func:`picture_variants_note` on the profile's picture folder (``results/picture-<name>/``) where it has
    been written, else :func:`picture_note` on its faithful Table 2 if that has been ('' otherwise)."""
    folder = picture_variants.study(prof)
    if folder.exists:
        reason = picture_variants.stale_reason(prof)
        stale = "" if reason is None else (f"<p>{_code(folder.shown())} is stale ({html.escape(reason)}); refresh it "
                                           f"with {_code(folder.refresh)}.</p>")
        return picture_variants_note(picture_variants.read(prof), prof) + stale
    t2 = reproduce.read_table2(reproduce.study(prof, "faithful").path)
    if t2 is None or not set(paper.CONFIG_NAMES) <= set(t2.index) or not {1000, 2500} <= set(t2.columns):
        return ""
    return picture_note(t2, prof)


def _steps_per_epoch(prof: Profile, batch: int) -> int:
    return math.ceil(prof.n_train * (prof.n_steps - 1) / batch)


def _reason(config: str, prof: Profile) -> str:
    ref = profiles.load("paper")
    cfg, _, _ = resolve(config, "faithful", prof)
    full, _, _ = resolve(config, "faithful", ref)
    per, per_paper = _steps_per_epoch(prof, cfg.batch_size), _steps_per_epoch(ref, full.batch_size)
    if cfg.method == "mp":
        return (f"its weights stop training at its first prune (defect 1), here after {cfg.prune_epochs[0] * per:,} "
                f"Adam steps (paper: {full.prune_epochs[0] * per_paper:,}), and its biases have "
                f"{cfg.epochs - cfg.prune_epochs[-1]} epochs after the last prune to adapt (paper: "
                f"{full.epochs - full.prune_epochs[-1]})")
    if cfg.method == "dsr":  # the picture's "most" judges the plain DSR row, trained unfrozen (config.py)
        return ("the faithful DSR row keeps training its weights under the mask, as its released models' weights "
                "suggest, and a network trained that way is stable"
                + ("" if not prof.is_reduced else _paper_profile_value(config))
                + "; the released models diverge far more, from a run that is not in the authors' repository "
                "(chapter 6), so this gap belongs to the row, not to the profile")
    return (f"it trains {cfg.epochs} epochs of {per:,} steps, {cfg.lr_step} of them at the full learning rate "
            f"(paper: {full.epochs} epochs of {per_paper:,}, {full.lr_step} at the full rate)")


def _paper_profile_value(config: str, horizon: int = 2500) -> str:
    """' (the paper profile: x % at 2500 ΔT)' from the committed faithful results, '' where they are absent."""
    t2 = reproduce.read_table2(reproduce.study(profiles.load("paper"), "faithful").path)
    if t2 is None:
        return ""
    return f" (the paper profile: {t2.loc[config, horizon]:.1f} % at {horizon} ΔT)"


QUICK_MOVES_PAGE = "05_tables.html#tbl-quick-moves"  # the table of every entry's range (notebooks/05_tables.py)
_FAILS = {"l1": f"diverges at least as often as {html.escape(paper.labels_listed(picture.WITHOUT_L1))} on average at "
                "2500 ΔT, and the rows with L1 do not diverge less on average than those without",
          "most": "is not the most divergent configuration at 2500 ΔT",
          "early": f"diverges in more than {picture.EARLY_MAX:g} % of its rollouts at 1000 ΔT"}


def _holds(statement: str) -> str:
    """The statement as a sentence, for where it holds."""
    names = lambda configs: html.escape(paper.labels_listed(configs))  # noqa: E731
    return {"l1": f"{names(picture.WITH_L1)} diverge less often on average than the same rows "
                  f"without L1 ({names(picture.WITHOUT_L1)}) at 2500 ΔT",
            "most": f"{html.escape(paper.LABELS[picture.MOST])} diverges at least as often as every configuration outside the "
                    "DSR family at 2500 ΔT",
            "early": f"{names(picture.EARLY)} diverge in at most {picture.EARLY_MAX:g} % of their rollouts at "
                     "1000 ΔT"}[statement]


def picture_variants_note(tables: dict, profile: Profile | str) -> str:
    """HTML paragraph on the picture over a reduced study's variants (:mod:`alukit.studies.picture_variants`:
    ``tables`` maps each variant to its Table 2): the statements that hold in every variant, each that fails in
    any with its range over the variants and its reason, and how far Table 2's entries move between variants."""
    prof = profiles.load(profile)
    res, ranges = picture_variants.holds_everywhere(tables), picture_variants.spread(tables)
    n = len(tables)
    held = [_holds(r.statement) for r in res.itertuples() if r.holds]
    parts = [f"This profile's picture was checked in {n} runs of its study ({html.escape(', '.join(tables))}: "
             "two seeds, each with the compiled and the eager kernel, as two machines differ)."]
    if held:
        parts.append(f"In all {n}, as in the paper, " + "; ".join(held) + ".")
    if res.set_index("statement").loc["l1", "holds"]:
        means = np.array([picture.l1_means(t) for t in tables.values()])
        parts.append(f"With L1 those rows diverge in {means[:, 0].min():.1f}–{means[:, 0].max():.1f} % of their "
                     f"rollouts at 2500 ΔT on average, without it in {means[:, 1].min():.1f}–{means[:, 1].max():.1f} %.")
    for r in res.itertuples():
        if r.holds:
            continue
        h = 1000 if r.statement == "early" else 2500
        for c in sorted({c for bad in r.failing.values() for c in bad}, key=paper.CONFIG_NAMES.index):
            k = sum(c in bad for bad in r.failing.values())
            lo, hi = ranges.loc[(c, h), "min"], ranges.loc[(c, h), "max"]
            parts.append(f"{html.escape(paper.LABELS[c])} ({lo:.1f}–{hi:.1f} % at {h} ΔT) {_FAILS[r.statement]} in "
                         f"{k} of the {n} runs, unlike in the paper: {_reason(c, prof)}.")
    worst = ranges["range"].idxmax()
    parts.append(f"Between the runs, Table 2's entries move by up to {ranges['range'].max():.1f} points "
                 f"({html.escape(paper.LABELS[worst[0]])} at {worst[1]} ΔT; median {ranges['range'].median():.1f} "
                 "points): read single entries as rough" + (
                     f' (every entry\'s range: <a href="{QUICK_MOVES_PAGE}">chapter 5, the quick profile on another '
                     'machine</a>).' if prof.name == "quick" else "."))
    parts += _swa_note(prof)
    return "<p>" + " ".join(parts) + "</p>"


def picture_note(table2, profile: Profile | str) -> str:
    """HTML sentences on the statements of :func:`alukit.studies.picture.check` that fail in ``table2``, with
    reasons ('' if all hold and SWA averages more than one epoch)."""
    prof = profiles.load(profile)
    res, t = picture.check(table2), picture.by_horizon(table2)
    parts = []
    for row in res.itertuples():
        for c in row.failing:
            h = 1000 if row.statement == "early" else 2500
            parts.append(f"{html.escape(paper.LABELS[c])} ({t.loc[c, h]:.1f} % at {h} ΔT) {_FAILS[row.statement]}, "
                         f"unlike in the paper: {_reason(c, prof)}.")
    parts += _swa_note(prof)
    if not parts:
        return ""
    return "<p>Where this profile departs from the paper's qualitative picture: " + " ".join(parts) + "</p>"


def _swa_note(prof: Profile) -> list[str]:
    """A sentence if the corrected variant's SWA averages fewer than two epochs (then + SWA equals its twin)."""
    cfg, _, _ = resolve("dense+swa", "corrected", prof)
    n = cfg.epochs - cfg.swa_start
    if n >= 2:
        return []
    return [f"In the corrected variant, SWA averages the last {cfg.swa_fraction:.0%} of {cfg.epochs} epochs, here "
            f"{n} epoch, so every + SWA row equals its twin without SWA."]
