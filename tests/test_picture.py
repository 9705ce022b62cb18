import pandas as pd
import pytest

from alukit import profiles
from alukit.book.banner import picture_note
from alukit.studies import paper, picture, reproduce


def test_the_papers_own_table_2_shows_the_picture():
    assert picture.check(paper.table2())["holds"].all()
    assert picture_note(paper.table2(), "paper") == ""


def test_failures_are_named_with_their_numbers_and_reasons():
    t = paper.table2().copy()
    t.loc["mp+l1", 2500] = 60.0  # no longer among the four least divergent
    t.loc["dsr", 2500] = 10.0  # no longer the most divergent
    t.loc["dense", 1000] = 40.0
    res = picture.check(t).set_index("statement")
    assert res.loc["least", "failing"] == ["mp+l1"] and res.loc["most", "failing"] == ["dsr"]
    assert res.loc["early", "failing"] == ["dense"]
    text = picture_note(t, "quick")
    assert "Magnitude pruning + L1 (60.0 % at 2500 ΔT)" in text and "first prune" in text
    assert "DSR (10.0 % at 2500 ΔT)" in text and "keeps training its weights under the mask" in text
    committed = pd.read_csv(reproduce.study(profiles.load("paper"), "faithful").file("table2.csv"), index_col="config")
    assert f"the paper profile: {committed.loc['dsr', '2500']:.1f} % at 2500 ΔT" in text
    assert "Dense (40.0 % at 1000 ΔT)" in text and "full learning rate" in text


def test_missing_configurations_are_an_error():
    with pytest.raises(ValueError, match="missing"):
        picture.check(pd.DataFrame({2500: [1.0], 1000: [1.0]}, index=pd.Index(["l1"], name="config")))


def test_a_degenerate_swa_is_named(tmp_path):
    short = tmp_path / "short.yaml"
    short.write_text("profile: short\nseed: 0\nn_train: 2\nn_val: 1\nn_test: 2\nn_steps: 100\ndt: 10.0\nmodels: 1\n"
                     "train_epoch_scale: 0.05\n")
    assert "equals its twin" in picture_note(paper.table2(), short)
    assert "equals its twin" not in picture_note(paper.table2(), "paper")
