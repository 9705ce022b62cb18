"""The paper's Tables 2–4 as data, checked against the seed text, and the comparison tables."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alukit import paper

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
    config = pytest.importorskip("alukit.config", reason="alukit.config (training engine) not present yet")
    assert tuple(config.CONFIG_NAMES) == paper.CONFIG_NAMES
