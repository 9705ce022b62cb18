"""The conclusions across the sweeps' grids (alukit.studies.robustness), on hand-made errors whose verdicts are
known: a constant per-state error e gives capped error e (or 3 where e > 3, diverged) on every rollout."""
import numpy as np
import pandas as pd
import pytest

from alukit.evaluation import metrics
from alukit.studies import robustness
from alukit.studies.conclusions import CONCLUSIONS

H = metrics.HORIZONS


def err(level, E=4, n=12, spread=0.05, seed=0):
    """(H, E, n, 8) errors scattered around ``level`` (so bootstrap intervals have a width)."""
    rng = np.random.default_rng(seed)
    return level + spread * rng.random((len(H), E, n, 8))


def l1_sweep(levels: dict, swa_levels: dict):
    """A faithful L1-strength sweep's summary.csv and errors: ``levels`` {λ: error level} without SWA and
    ``swa_levels`` with."""
    rows, errors = [], {}
    for i, (lam, swa) in enumerate([(lam, s) for lam in levels for s in (False, True)]):
        point = f"p{i:03d}"
        rows.append({"point": point, "variant": "faithful", "config": "l1+swa" if swa else "l1", "l1": lam,
                     "swa": swa, "models": 4, "epochs": 100, "capped_5000": (swa_levels if swa else levels)[lam]})
        errors[point] = err((swa_levels if swa else levels)[lam], seed=i)
    return pd.DataFrame(rows).set_index("point"), errors


def test_settings_pair_swa_twins_and_name_their_role():
    summary, _ = l1_sweep({0.0: 1.0, 1e-4: 1.0}, {0.0: 1.0, 1e-4: 1.0})
    s = robustness.settings(summary)
    assert list(s.role) == ["dense", "l1"]
    assert list(s.setting) == ["λ = 0", "λ = 0.0001"]
    assert list(zip(s.point, s.swa_point)) == [("p000", "p001"), ("p002", "p003")]


def test_an_axis_with_one_value_names_no_setting():
    summary, _ = l1_sweep({1e-4: 1.0, 1e-3: 1.0}, {1e-4: 1.0, 1e-3: 1.0})
    summary.insert(summary.columns.get_loc("swa"), "hidden", "[50, 50, 50, 50]")
    assert list(robustness.settings(summary).setting) == ["λ = 0.0001", "λ = 0.001"]
    assert list(robustness.settings(summary.iloc[:2]).setting) == ["λ = 0.0001, hidden 4 × 50"]


@pytest.mark.parametrize("values, label", [({"prune_amount": 0.25}, "sparsity 68.4 %"),
                                           ({"dsr_sparsity": 0.95}, "sparsity 95 %"),
                                           ({"l1": 3e-3, "lr": 0.01}, "λ = 0.003, lr = 0.01"),
                                           ({"hidden": "[50, 50, 50, 50]"}, "hidden 4 × 50"),
                                           ({"hidden": [64, 32]}, "hidden 64 × 32")])
def test_setting_labels(values, label):
    assert robustness.setting_label(values) == label


def test_swa_effect_sign_interval_and_verdict():
    summary, errors = l1_sweep({1e-4: 1.0, 1e-3: 1.0}, {1e-4: 0.5, 1e-3: 2.0})
    got = robustness.swa_effect(summary, errors, H, n_boot=200).set_index(["setting", "statistic", "horizon"])
    capped = got.xs("capped_mean", level="statistic")
    # SWA twin at 0.5 against 1.0: capped error lower by about 0.5; at 1e-3 higher by about 1.0
    assert capped.loc[("λ = 0.0001", 5000), "difference"] == pytest.approx(-0.5, abs=0.03)
    assert capped.loc[("λ = 0.0001", 5000), "verdict"] == "holds"
    assert capped.loc[("λ = 0.001", 1000), "difference"] == pytest.approx(1.0, abs=0.03)
    assert capped.loc[("λ = 0.001", 1000), "verdict"] == "does not hold"
    # nothing diverges on either side: no difference, inconclusive
    div = got.xs("divergence", level="statistic")
    assert (div.difference == 0).all() and (div.verdict == "inconclusive").all()
    assert (got.low <= got.difference).all() and (got.difference <= got.high).all()


def reference():
    """The paper study's faithful errors: every configuration at level 1.5, L1 at 1.0."""
    names = {n for c in CONCLUSIONS for comp in c.comparisons for n in (comp.better, comp.worse)}
    return {"faithful": {n: err(1.0 if n == "l1" else 1.5, seed=len(n)) for n in names}}


def test_conclusion_map_tests_only_the_comparisons_that_involve_the_role():
    # lambda = 1e-5: L1 at 1.2 (better than the rest at 1.5); lambda = 3e-3: at 2.5 (worse than all); SWA lowers both
    summary, errors = l1_sweep({0.0: 1.5, 1e-5: 1.2, 3e-3: 2.5}, {0.0: 1.4, 1e-5: 1.1, 3e-3: 2.0})
    verdicts, compared = robustness.conclusion_map({"l1": (summary, errors)}, reference(), H, n_boot=200)
    v = verdicts.set_index(["setting", "conclusion"])
    assert v.loc[("λ = 1e-05", "l1-most-crucial"), ["comparisons", "verdict"]].tolist() == [4, "holds"]
    assert v.loc[("λ = 0.003", "l1-most-crucial"), ["contradicted", "verdict"]].tolist() == [4, "does not hold"]
    # mp+l1 (1.5) against L1: L1 at 1.2 beats it in capped error; no divergence either side: inconclusive
    assert v.loc[("λ = 1e-05", "mp-l1-slightly-inferior"), ["holding", "verdict"]].tolist() == [1, "inconclusive"]
    # SWA helps L1 at both settings; the mp+l1 pair is not the role's, so it is not tested here
    assert v.loc[("λ = 0.003", "swa-helps-l1-mp"), ["comparisons", "verdict"]].tolist() == [1, "holds"]
    # lambda = 0 is the dense network: "dense beats STR and DSR" is tested with it (1.5 against 1.5: no verdict)
    assert v.loc[("λ = 0", "str-dsr-ill-suited"), ["comparisons", "verdict"]].tolist() == [2, "inconclusive"]
    assert ("λ = 1e-05", "str-dsr-ill-suited") not in v.index  # neither dense nor STR nor DSR is varied there
    # the early-medium SWA claim: both statistics at 1000 samples, the role's twin pair only
    early = compared[(compared.setting == "λ = 0.003") & (compared.conclusion == "swa-early-medium")]
    assert set(zip(early.better, early.worse, early.horizon)) == {("l1+swa", "l1", 1000)}
    assert len(early) == 2
    # at lambda = 0 the paper's L1 (1.0) is tested against the sweep's dense (1.5): holds
    summary_map = robustness.map_summary(verdicts).set_index("conclusion")
    assert summary_map.loc["l1-most-crucial", ["settings", "holds", "does not hold"]].tolist() == [3, 2, 1]
    assert summary_map.loc["l1-most-crucial", "holds %"] == pytest.approx(200 / 3)
    assert summary_map.loc["str-dsr-ill-suited", "settings"] == 1


def test_best_settings_names_the_lowest_and_the_overlapping():
    summary = pd.DataFrame({"variant": "corrected", "config": "l1", "l1": [0.0, 1e-4, 1e-3], "swa": False,
                            "models": 10, "epochs": 100, "capped_5000": [1.0, 0.5, 0.6],
                            "capped_5000_low": [0.9, 0.4, 0.55], "capped_5000_high": [1.1, 0.6, 0.7]},
                           index=pd.Index(["p000", "p001", "p002"], name="point"))
    best = robustness.best_settings(summary).iloc[0]
    assert (best.best, best.estimate, best.tied) == ("λ = 0.0001", 0.5, "λ = 0.001")
