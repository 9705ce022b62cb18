"""Verdicts on the paper's conclusions from bootstrap intervals, on constructed errors."""
import numpy as np
import pytest

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


# Every comparison as Section V is operationalised: (conclusion, better, worse, statistic, horizon).
_SWA_BASES = ("dense", "l1", "str", "str+l1", "mp", "mp+l1", "dsr", "dsr+l1")
EXPECTED = (
    [("l1-most-crucial", "l1", other, "capped_mean", 5000) for other in ("dense", "str", "mp", "dsr")]
    + [("mp-l1-slightly-inferior", "l1", "mp+l1", "capped_mean", 5000),
       ("mp-l1-slightly-inferior", "l1", "mp+l1", "divergence", 5000),
       ("str-dsr-ill-suited", "dense", "str", "capped_mean", 5000),
       ("str-dsr-ill-suited", "dense", "dsr", "capped_mean", 5000),
       ("swa-helps-l1-mp", "l1+swa", "l1", "capped_mean", 5000),
       ("swa-helps-l1-mp", "mp+l1+swa", "mp+l1", "capped_mean", 5000)]
    + [("swa-early-medium", f"{b}+swa", b, stat, 1000) for b in _SWA_BASES for stat in ("divergence", "capped_mean")]
)
HORIZONS = (100, 1000, 2500, 5000)


def _profile(kind: str, E=4, n=30):
    """Per-state errors ``(E, n, 8)`` of one horizon.

    ``steady``: nothing diverges, every error 2.0 (divergence 0 %, capped mean 2.0).
    ``erratic``: trajectories 0–5 diverge (error 5 on one state), the rest 0.1 (divergence 20 %,
    capped mean 0.2·3 + 0.8·0.1 = 0.68). So the two statistics rank the profiles oppositely.
    """
    if kind == "steady":
        return np.full((E, n, 8), 2.0)
    e = np.full((E, n, 8), 0.1)
    e[:, :6, 0] = 5.0
    return e


def _errors_for(statistic: str, horizon: int):
    """(better, worse) errors ``(4, E, n, 8)``: better wins only in ``statistic`` at ``horizon``."""
    winner = "steady" if statistic == "divergence" else "erratic"  # lower in `statistic`
    loser = "erratic" if winner == "steady" else "steady"
    good = np.stack([_profile(winner if h == horizon else loser) for h in HORIZONS])
    bad = np.stack([_profile(loser if h == horizon else winner) for h in HORIZONS])
    return good, bad


def test_the_comparisons_are_the_operationalised_claims():
    declared = [(c.key, *comp) for c in conclusions.CONCLUSIONS for comp in c.comparisons]
    assert declared == EXPECTED


@pytest.mark.parametrize("key, better, worse, statistic, horizon", EXPECTED,
                         ids=[f"{k}:{b}<{w}:{s}@{h}" for k, b, w, s, h in EXPECTED])
def test_each_comparison_reads_its_own_horizon_and_statistic(key, better, worse, statistic, horizon):
    """Errors where the claim holds only at the declared horizon and in the declared statistic:
    the other statistic, and every other horizon, say the opposite."""
    good, bad = _errors_for(statistic, horizon)
    table, _ = conclusions.check({better: good, worse: bad}, horizons=HORIZONS, n_boot=200)
    row = table[(table.conclusion == key) & (table.better == better) & (table.worse == worse)
                & (table.statistic == statistic)]
    assert len(row) == 1
    assert row.horizon.iloc[0] == horizon and row.verdict.iloc[0] == "holds"
    expected = -1.32 if statistic == "capped_mean" else -20.0  # 0.68 − 2.0, or 0 % − 20 %
    assert row.difference.iloc[0] == pytest.approx(expected)
    other = table[(table.better == better) & (table.worse == worse) & (table.statistic != statistic)
                  & (table.horizon == horizon)]
    assert (other.verdict == "does not hold").all()
