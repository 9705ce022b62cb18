"""Verdicts on the paper's conclusions from bootstrap intervals, on constructed errors."""
import numpy as np

from alukit.studies import conclusions, paper


def errors_with(levels: dict[str, float], H=4, E=6, n=20, seed=0):
    """Per-state errors around a level per configuration (small noise), all 16 configurations."""
    rng = np.random.default_rng(seed)
    return {c: levels.get(c, 0.5) * np.exp(0.05 * rng.standard_normal((H, E, n, 8))) for c in paper.CONFIG_NAMES}


def test_clear_cases_give_clear_verdicts():
    # L1 clearly best; MP + L1 clearly worse than L1; STR and DSR diverge (level 5 > 3)
    errs = errors_with({"l1": 0.1, "mp+l1": 0.3, "str": 5.0, "dsr": 5.0, "dense": 0.2, "mp": 0.4})
    table, summary = conclusions.check(errs, n_boot=300)
    verdict = dict(zip(summary.conclusion, summary.verdict))
    assert verdict["l1-most-crucial"] == "holds"
    assert verdict["mp-l1-slightly-inferior"] == "inconclusive"  # capped error holds, divergence 0 vs 0
    assert verdict["str-dsr-ill-suited"] == "holds"
    assert len(table) == sum(len(c.comparisons) for c in conclusions.CONCLUSIONS)
    assert set(table.verdict) <= {"holds", "does not hold", "inconclusive"}


def test_opposite_evidence_does_not_hold_and_equal_is_inconclusive():
    errs = errors_with({"l1+swa": 0.4, "l1": 0.1})  # SWA clearly worse for L1
    _, summary = conclusions.check(errs, n_boot=300)
    verdict = dict(zip(summary.conclusion, summary.verdict))
    assert verdict["swa-helps-l1-mp"] == "does not hold"
    same = {c: errors_with({}, seed=1)["dense"] for c in paper.CONFIG_NAMES}  # identical configurations
    table, summary = conclusions.check(same, n_boot=200)
    assert (table.verdict == "inconclusive").all() and (summary.verdict == "inconclusive").all()


def test_missing_configurations_or_horizons_are_not_run():
    errs = {c: e for c, e in errors_with({}).items() if c in ("l1", "dense")}
    table, summary = conclusions.check(errs, n_boot=100)
    assert set(summary.loc[summary.conclusion == "str-dsr-ill-suited", "verdict"]) == {"not run"}
    ran = table[table.verdict != "not run"]
    assert set(zip(ran.better, ran.worse)) == {("l1", "dense")}
    table, _ = conclusions.check(errors_with({}, H=2), horizons=(100, 200), n_boot=50)
    assert (table.verdict == "not run").all()
