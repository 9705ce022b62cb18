import dataclasses
import os

import numpy as np
import pandas as pd
import pytest

from alukit import paths, profiles
from alukit.book import banner as banner_module
from alukit.book.banner import banner, picture_note, picture_variants_note
from alukit.studies import paper, picture, picture_variants, reproduce
from alukit.studies.study import Study


def test_the_papers_own_table_2_shows_the_picture():
    assert picture.check(paper.table2())["holds"].all()
    assert picture_note(paper.table2(), "paper") == ""


def test_failures_are_named_with_their_numbers_and_reasons():
    t = paper.table2().copy()
    t.loc[["l1", "mp+l1"], 2500] = 60.0  # with L1 (60 + 2 + 60 + 4) / 4 = 31.5 %, without 29.06 %
    t.loc["dsr", 2500] = 10.0  # no longer the most divergent
    t.loc["dense", 1000] = 40.0
    res = picture.check(t).set_index("statement")
    assert res.loc["l1", "failing"] == ["l1", "mp+l1"] and res.loc["most", "failing"] == ["dsr"]
    assert res.loc["early", "failing"] == ["dense"]
    text = picture_note(t, "quick")
    assert "Magnitude pruning + L1 (60.0 % at 2500 ΔT)" in text and "first prune" in text
    assert "DSR (10.0 % at 2500 ΔT)" in text and "keeps training its weights under the mask" in text
    committed = pd.read_csv(reproduce.study(profiles.load("paper"), "faithful").file("table2.csv"), index_col="config")
    assert f"the paper profile: {committed.loc['dsr', '2500']:.1f} % at 2500 ΔT" in text
    assert "Dense (40.0 % at 1000 ΔT)" in text and "full learning rate" in text


def test_the_l1_statement_compares_pooled_means_at_2500_not_ranks():
    t = paper.table2().copy()  # at 2500 ΔT without L1: (6.75 + 6.75 + 50 + 52.75) / 4 = 29.0625 %
    t.loc["l1", 2500] = 50.0  # one L1 row far above dense: the L1 rows' mean (50 + 2 + 3.75 + 4) / 4 stays below
    assert picture.l1_means(t) == (pytest.approx(59.75 / 4), pytest.approx(29.0625))
    assert picture.check(t).set_index("statement").loc["l1", "holds"]
    t.loc["l1+swa", 2500] = 56.5  # (50 + 56.5 + 3.75 + 4) / 4 = 28.5625: still below
    assert picture.check(t).set_index("statement").loc["l1", "holds"]
    t.loc["l1+swa", 2500] = 58.5  # 29.0625: equal means are not "less often"
    res = picture.check(t).set_index("statement")
    assert not res.loc["l1", "holds"] and res.loc["l1", "failing"] == ["l1", "l1+swa"]
    t.loc[["l1", "l1+swa"], 1000] = 90.0  # the 1000 ΔT column is not what the statement reads
    t.loc["l1+swa", 2500] = 2.0
    assert picture.check(t).set_index("statement").loc["l1", "holds"]
    t.loc[["dense", "dense+swa", "mp", "mp+swa"], 2500] = 0.0  # the twins without L1 set the bar
    assert not picture.check(t).set_index("statement").loc["l1", "holds"]


def test_missing_configurations_are_an_error():
    with pytest.raises(ValueError, match="missing"):
        picture.check(pd.DataFrame({2500: [1.0], 1000: [1.0]}, index=pd.Index(["l1"], name="config")))


def test_a_degenerate_swa_is_named(tmp_path):
    short = tmp_path / "short.yaml"
    short.write_text("profile: short\nseed: 0\nn_train: 2\nn_val: 1\nn_test: 2\nn_steps: 100\ndt: 10.0\nmodels: 1\n"
                     "train_epoch_scale: 0.05\n")
    assert "equals its twin" in picture_note(paper.table2(), short)
    assert "equals its twin" not in picture_note(paper.table2(), "paper")


# ---------------------------------------------------------------- the picture over seeds and kernels

def _four(changed: dict[int, dict]) -> dict[str, pd.DataFrame]:
    """The paper's Table 2 as four variants; ``changed``: variant index → {(config, horizon): value}."""
    tables = {}
    for i, v in enumerate(picture_variants.variants()):
        t = paper.table2().copy()
        for (c, h), value in changed.get(i, {}).items():
            t.loc[c, h] = value
        tables[v] = t
    return tables


def test_a_statement_failing_in_one_variant_is_not_claimed():
    tables = _four({2: {("l1", 2500): 70.0, ("mp+l1", 2500): 70.0}})
    res = picture_variants.holds_everywhere(tables).set_index("statement")
    assert not res.loc["l1", "holds"] and res.loc["l1", "failing"] == {"seed1-compiled": ["l1", "mp+l1"]}
    assert res.loc["most", "holds"] and res.loc["early", "holds"]
    text = picture_variants_note(tables, "quick")
    assert "diverge less often on average than the same rows without L1" not in text
    assert "With L1 those rows diverge" not in text
    low = paper.table2().loc["l1", 2500]
    assert f"L1 ({low:.1f}–70.0 % at 2500 ΔT) diverges at least as often as Dense, Dense + SWA" in text
    assert "1 of the 4" in text
    assert "diverges at least as often as every configuration outside the DSR family" in text
    assert f"move by up to {70.0 - low:.1f} points (L1 at 2500 ΔT; median 0.0 points)" in text


def test_the_spread_is_min_and_max_over_the_variants():
    tables = _four({i: {("mp", 1000): value} for i, value in enumerate((1.0, 9.5, 4.0, 4.0))})
    s = picture_variants.spread(tables)
    assert (s.loc[("mp", 1000), "min"], s.loc[("mp", 1000), "max"], s.loc[("mp", 1000), "range"]) == (1.0, 9.5, 8.5)
    assert len(s) == 16 * paper.table2().shape[1] and s.drop(("mp", 1000))["range"].eq(0).all()


def _l1_holds(t: pd.DataFrame) -> bool:
    at = t[2500]
    return (at["l1"] + at["l1+swa"] + at["mp+l1"] + at["mp+l1+swa"]) < (at["dense"] + at["dense+swa"] + at["mp"]
                                                                     + at["mp+swa"])


def _early_holds(t: pd.DataFrame) -> bool:
    return all(t.loc[c, 1000] <= picture.EARLY_MAX for c in picture.EARLY)


def _most_holds(t: pd.DataFrame) -> bool:
    return t.loc[picture.MOST, 2500] >= t.loc[[c for c in t.index if "dsr" not in c], 2500].max()


@pytest.mark.skipif(not picture_variants.study("quick").exists,
                    reason="results/picture-quick/ not written yet: python -m alukit picture --profile quick")
def test_the_committed_quick_picture_is_current_holds_in_all_four_and_the_banner_claims_only_that():
    assert picture_variants.stale_reason("quick") is None
    tables = picture_variants.read("quick")
    assert list(tables) == picture_variants.variants()
    for variant, t in tables.items():  # the classroom picture: the same story on every float path
        assert _l1_holds(t) and _most_holds(t) and _early_holds(t), variant
    text = banner("quick", ("faithful",))
    claims = {"diverge less often on average than the same rows without L1": _l1_holds,
              "diverges at least as often as every configuration outside the DSR family": _most_holds,
              "diverge in at most 25 % of their rollouts at 1000 ΔT": _early_holds}
    for claim, holds in claims.items():
        assert (claim in text) == all(holds(t) for t in tables.values()), claim
    folder = picture_variants.study("quick").path
    values = np.stack([pd.read_csv(folder / f"table2-{v}.csv", index_col="config").to_numpy() for v in tables])
    assert f"move by up to {(values.max(0) - values.min(0)).max():.1f} points" in text
    page, anchor = banner_module.QUICK_MOVES_PAGE.split("#")
    assert f'href="{page}#{anchor}"' in text  # the table of every entry's range, named in that chapter:
    assert f":name: {anchor}\n" in (paths.REPO_ROOT / "notebooks" / page.replace(".html", ".py")).read_text()
    with_l1 = [t.loc[["l1", "l1+swa", "mp+l1", "mp+l1+swa"], 2500].mean() for t in tables.values()]
    assert f"With L1 those rows diverge in {min(with_l1):.1f}–{max(with_l1):.1f} %" in text


def test_run_sets_the_kernel_and_seed_per_variant_and_writes_a_current_folder(tmp_path, monkeypatch):
    seen = []

    def fake_run(prof, variant, out_dir):  # a study whose Table 2 is the paper's, shifted by seed and kernel
        kernel = os.environ["ALUKIT_COMPILE"]
        seen.append((prof.seed, kernel))
        t = paper.table2() + prof.seed + 0.5 * int(kernel)
        Study("fake", out_dir).write({"table2.csv": lambda p: t.to_csv(p)},
                                     {"training_engine": ["compiled" if kernel == "1" else "eager"], "seconds": {},
                                      "training_run_seconds": 0.0})
        return out_dir

    monkeypatch.setattr(reproduce, "run", lambda prof, variant, out_dir, progress: fake_run(prof, variant, out_dir))
    monkeypatch.setenv("ALUKIT_COMPILE", "auto")
    out = tmp_path / "picture"
    picture_variants.run("quick", out, progress=False)
    assert seen == [(0, "1"), (0, "0"), (1, "1"), (1, "0")] and os.environ["ALUKIT_COMPILE"] == "auto"
    assert picture_variants.stale_reason("quick", out) is None
    tables = picture_variants.read("quick", out)
    assert tables["seed1-eager"].loc["dense", 2500] == paper.table2().loc["dense", 2500] + 1
    assert picture_variants.spread(tables)["range"].max() == pytest.approx(1.5)
    assert "profile or a configuration changed" in picture_variants.stale_reason(
        dataclasses.replace(profiles.load("quick"), models=3), out)
