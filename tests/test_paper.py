"""The paper's Tables 2–4 as data, checked against the seed text, and the comparison tables."""
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alukit.evaluation import metrics
from alukit.studies import paper

TABLES = Path(__file__).resolve().parent / "data" / "paper_tables.txt"  # the paper's table text; tests/data/README.md


def test_shapes_and_labels():
    assert paper.table2().shape == (16, 4)
    assert paper.table3().shape == (16, 8)
    assert paper.table4().shape == (16, 1)
    assert list(paper.table2().index) == list(paper.CONFIG_NAMES)
    assert paper.LABELS["str+l1"] == "Soft thresholding + L1"
    assert paper.LABELS["mp+l1+swa"] == "Magnitude pruning + L1 + SWA"
    assert paper.LABELS["l1+swa"] == "L1 + SWA"
    with pytest.raises(ValueError, match="config must be one of dense, dense\\+swa"):
        paper.label("lasso")


def test_spot_values():
    t2, t3, t4 = paper.table2(), paper.table3(), paper.table4()
    assert t2.loc["mp", 1000] == 30.5 and t2.loc["dsr+l1", 100] == 64.25 and t2.loc["l1+swa", 2500] == 2.0
    assert t3.loc["l1", (5000, "mean")] == 0.18 and t3.loc["mp+swa", (5000, "std")] == 0.45
    assert np.isnan(t3.loc["dsr", (5000, "mean")]) and np.isnan(t3.loc["dsr+l1+swa", (1000, "std")])
    assert t3.loc["dsr+l1+swa", (100, "mean")] == 0.53
    assert t3.isna().sum().sum() == 2 * (1 + 2 + 3)
    assert t4.loc["str+l1", "sparsity"] == 71 and t4.loc["mp", "sparsity"] == 33 and t4.loc["dsr+swa", "sparsity"] == 50


def test_rows_are_the_papers_rows():
    assert TABLES.exists(), f"the paper's table text is missing: {TABLES} (part of the repository)"
    text = TABLES.read_text().replace("\t", " | ").replace(" $\\pm$ ", " ± ")
    for block in (paper.TABLE2_TEXT, paper.TABLE3_TEXT, paper.TABLE4_TEXT):
        assert block.strip() in text
    for dims in paper.TEXT_DIMS.values():
        assert f"dimensions [{', '.join(map(str, dims))}]" in text


def test_compare_gives_paper_ours_difference():
    t2 = paper.table2()
    ours = t2.drop(index="dsr") + 1.5
    table = paper.compare(t2, ours)
    assert table.shape == (16, 12)
    assert list(table.columns[:3]) == [(100, "paper"), (100, "ours"), (100, "difference")]
    assert table.index[0] == "Dense"
    np.testing.assert_allclose(table.loc["Dense", (1000, "difference")], 1.5)
    assert table.loc["DSR"].filter(like="ours").isna().all()
    t3 = paper.table3()
    table3 = paper.compare(t3, t3 * 2)
    assert table3.shape == (16, 24)
    assert table3.loc["L1", (100, "mean", "difference")] == pytest.approx(0.04)
    with pytest.raises(ValueError, match="ours must have the paper's columns"):
        paper.compare(t2, pd.DataFrame({100: [1.0]}, index=["dense"]))


def test_config_names_match_the_training_engine():
    from alukit.training import config

    assert tuple(config.CONFIG_NAMES) == paper.CONFIG_NAMES


def test_computed_values_replace_the_two_artefact_rows_only():
    printed, computed = paper.table2(), paper.table2("computed")
    assert printed.loc["dense+swa"].tolist() == printed.loc["dense"].tolist() == [0, 3, 6.75, 12]
    assert printed.loc["dsr+l1+swa"].tolist() == [25, 50, 75, 100]
    assert computed.loc["dense+swa"].tolist() == [0, 4.25, 9.75, 15.5]
    assert computed.loc["dsr+l1+swa"].tolist() == [63, 99.75, 100, 100]
    others = [c for c in paper.CONFIG_NAMES if c not in paper.ARTEFACTS]
    pd.testing.assert_frame_equal(printed.loc[others], computed.loc[others])
    art = paper.table2_artefacts()
    # both rows agree with their printed values at one horizon (dense+swa at 100, dsr+l1+swa at 5000)
    assert len(art) == 6 and set(art.config) == set(paper.ARTEFACTS)
    assert (art.printed != art.computed).all() and art.note.str.len().min() > 10
    with pytest.raises(ValueError, match="values must be one of 'printed', 'computed'"):
        paper.table2("true")


def _stats(table, halfwidth):
    """A results stats.csv-like frame: divergence estimates from ``table`` with intervals ± ``halfwidth``."""
    rows = [{"config": c, "horizon": h, "statistic": s, "estimate": table.at[c, h], "low": table.at[c, h] - halfwidth,
             "high": table.at[c, h] + halfwidth} for c in table.index for h in table.columns
            for s in ("divergence", "capped_mean")]
    return pd.DataFrame(rows)


def test_agreement_counts_inside_interval_and_within_tolerance():
    computed = paper.table2("computed")
    ours = computed.copy()
    ours.loc["dense", 5000] += 6  # outside ±5, inside ±10
    ours.loc["l1", 100] += 4  # within ±5
    stats = _stats(ours, 5.0)
    frame = paper.agreement(stats)
    assert frame.shape == (64, 7) and frame.index[0] == ("dense", 100)
    assert frame.loc[("dense", 5000), "difference"] == pytest.approx(6)
    assert not frame.loc[("dense", 5000), "inside"] and not frame.loc[("dense", 5000), "within"]
    assert frame.loc[("l1", 100), "inside"] and frame.loc[("l1", 100), "within"]
    assert paper.agreement_counts(stats) == {"entries": 64, "inside": 63, "within": 63}
    # against the printed rows, DSR + L1 + SWA's three wrong entries are misses (Dense + SWA's are within 5)
    printed = paper.agreement_counts(stats, values="printed")
    assert printed == {"entries": 64, "inside": 63 - 3, "within": 63 - 3}
    assert paper.agreement_counts(stats, tol=10)["within"] == 64
    # any reference table; entries missing from the study are left out
    sub = _stats(ours.loc[["dsr", "dsr+l1"]], 0.0)
    assert paper.agreement_counts(sub, reference=ours) == {"entries": 8, "inside": 8, "within": 8}
    with pytest.raises(ValueError, match="stats must have the columns"):
        paper.agreement(stats.drop(columns="low"))
    with pytest.raises(ValueError, match="tol must be >= 0"):
        paper.agreement(stats, tol=-1)


def _split_errors(E=10, n=5, H=4):
    """(H, E, n, 8) errors: the first half of the models diverge on every trajectory, the rest never."""
    errors = np.zeros((H, E, n, 8))
    errors[:, : E // 2] = 10.0
    return errors


def test_agreement_by_chance_matches_the_binomial_law():
    # A study's % diverged is 10 × (number of diverging models drawn) here: two independent
    # draws of 10 from 5 + 5 agree within 5 points only if they draw equally many, with
    # probability C(20, 10) / 4^10.
    ch = paper.agreement_by_chance({"dense": _split_errors()}, paper.HORIZONS, n_sim=4000, n_boot=200)
    assert list(ch.entries.index) == [("dense", h) for h in paper.HORIZONS]
    assert ch.entries.within.to_numpy() == pytest.approx(math.comb(20, 10) / 4 ** 10, abs=0.03)
    assert (ch.entries.inside > 0.6).all() and (ch.entries.inside < 1).all()
    assert ch.counts.mean().to_numpy() == pytest.approx(ch.entries.sum().to_numpy())
    # wider tolerance: within 10 points whenever the counts differ by at most one
    p1 = sum(math.comb(10, k) * math.comb(10, j) for k in range(11) for j in range(11) if abs(k - j) <= 1) / 4 ** 10
    wide = paper.agreement_by_chance({"dense": _split_errors()}, paper.HORIZONS, tol=10, n_sim=4000, n_boot=50)
    assert wide.entries.within.to_numpy() == pytest.approx(p1, abs=0.03)


def test_agreement_by_chance_entries_counts_and_determinism():
    quiet = np.zeros((3, 4, 6, 8))
    errors = {"dense": quiet, "l1": _split_errors(E=4, n=6, H=3), "not-a-row": quiet}
    ch = paper.agreement_by_chance(errors, (100, 333, 5000), n_sim=50, n_boot=30)
    assert list(ch.entries.index) == [("dense", 100), ("dense", 5000), ("l1", 100), ("l1", 5000)]
    assert (ch.entries.loc["dense"] == 1.0).all().all()  # nothing ever diverges: always agree
    assert len(ch.counts) == 50 and ch.counts.inside.between(2, 4).all()
    again = paper.agreement_by_chance(errors, (100, 333, 5000), n_sim=50, n_boot=30)
    assert again.counts.equals(ch.counts) and again.entries.equals(ch.entries)
    other = paper.agreement_by_chance(errors, (100, 333, 5000), n_sim=50, n_boot=30, seed=1)
    assert not other.counts.equals(ch.counts)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_sim": 0}, "n_sim must be a positive integer"),
    ({"resample": "trajectories"}, "resample must be one of .both., .models."),
    ({"n_boot": True}, "n_boot must be a positive integer"),
    ({"tol": -1}, "tol must be >= 0"),
    ({"level": 1.0}, r"level must be in \(0, 1\)"),
    ({"horizons": (7, 8, 9, 10)}, "Table 2 horizons"),
    ({"errors": {"str": np.zeros((2, 3, 4, 8))}}, r"errors\['str'\] must be \(H, E, n, 8\)"),
    ({"errors": {"mine": np.zeros((4, 3, 4, 8))}}, "Table 2 configurations"),
])
def test_agreement_by_chance_refuses_bad_input(kwargs, message):
    args = {"errors": {"dense": np.zeros((4, 3, 4, 8))}, "horizons": paper.HORIZONS, "n_sim": 5, "n_boot": 5} | kwargs
    with pytest.raises(ValueError, match=message):
        paper.agreement_by_chance(**args)


def test_agreement_by_chance_brackets_fresh_studies():
    # A synthetic population whose fresh studies can be drawn: a model diverges on a
    # trajectory with a probability set by the model's propensity and the trajectory's
    # difficulty. Scoring fresh pairs of studies gives the true agreement; simulating from
    # one study must fall below it with resample="both" and above it with "models".
    rng = np.random.default_rng(3)
    E, n = 10, 40

    def study():
        logit = (np.log(rng.beta(1, 4, E))[None, :, None] + rng.normal(0, 1, n)[None, None, :]
                 + np.array([-2.0, -1.0, -0.5, 0.0])[:, None, None])
        errors = np.zeros((4, E, n, 8))
        errors[..., 0] = 10.0 * (rng.random((4, E, n)) < 1 / (1 + np.exp(-logit)))
        return errors

    fresh, low, high = [], [], []
    for rep in range(120):
        theirs, ours = study(), study()
        est, lo, hi = metrics.bootstrap(ours, "divergence", n_boot=200, seed=rep)
        ref = metrics.divergence_percent(theirs)
        fresh.append([((lo - 1e-9 <= ref) & (ref <= hi + 1e-9)).mean(), (np.abs(est - ref) <= 5 + 1e-9).mean()])
        if rep < 12:
            for out, how in ((low, "both"), (high, "models")):
                ch = paper.agreement_by_chance({"dense": ours}, paper.HORIZONS, resample=how, n_sim=200,
                                               n_boot=100, seed=rep)
                out.append(ch.entries.mean().to_numpy())
    fresh, low, high = np.mean(fresh, 0), np.mean(low, 0), np.mean(high, 0)
    assert (low <= fresh + 0.03).all() and (fresh <= high + 0.03).all(), (low, fresh, high)
    assert (high - low > 0.03).all()


def test_labels_listed_reads_as_prose():
    assert paper.labels_listed(("l1", "mp+swa", "dsr")) == "L1, Magnitude pruning + SWA and DSR"
    assert paper.labels_listed(("dense", "l1")) == "Dense and L1"
    assert paper.labels_listed(("str",)) == "Soft thresholding"
    with pytest.raises(ValueError, match="config must be one of"):
        paper.labels_listed(("nosuch",))
