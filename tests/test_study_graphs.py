"""The comparative study's ensembles read as dependency graphs (alukit.studies.study_graphs), on
hand-built networks whose graphs are known."""
import numpy as np
import pytest

from alukit.process import cell
from alukit.studies import study_graphs

TRUTH = np.asarray(cell.DEPENDENCIES)  # (8, 13) bool


def _entry(first: np.ndarray, second: np.ndarray) -> dict:
    """A models.npz entry: 13 → 8 → 8 layers ``(E, n_in, n_out)``."""
    return {"dims": np.array([13, 8, 8]), "weight0": first, "bias0": np.zeros((len(first), 1, 8)),
            "weight1": second, "bias1": np.zeros((len(first), 1, 8))}


def _true_net(scale) -> dict:
    """Models whose path product is exactly the true table (times ``scale``)."""
    first = np.stack([TRUTH.T.astype(float) * s for s in scale])
    return _entry(first, np.stack([np.eye(8)] * len(scale)))


def _everything_net() -> dict:
    """Models that draw every edge: all-ones layers, the second model with one weaker input column."""
    first = np.ones((2, 13, 8))
    first[1, 0] = 0.5
    return _entry(first, np.ones((2, 8, 8)))


def test_a_network_whose_graph_is_the_true_table_scores_one_and_its_zeros_are_counted():
    t = study_graphs.scores({"true": _true_net([1.0, 2.0])}, n_boot=200).set_index("metric")
    for m in ("precision", "recall", "f1", "auprc", "correlation"):
        assert t.loc[m, "estimate"] == pytest.approx(1.0)
    zeros = (TRUTH.size - TRUTH.sum()) + (64 - 8)  # first layer: the non-edges; second: off-diagonal
    assert t.loc["zeros", "estimate"] == pytest.approx(100 * zeros / (13 * 8 + 8 * 8))


def test_a_network_drawing_every_edge_has_the_density_as_precision_and_loses_the_comparison():
    models = {"true": _true_net([1.0, 3.0]), "everything": _everything_net()}
    t = study_graphs.scores(models, n_boot=200).set_index(["config", "metric"])["estimate"]
    d = TRUTH.mean()
    assert t[("everything", "recall")] == pytest.approx(1.0)
    assert t[("everything", "precision")] == pytest.approx(d)
    assert t[("everything", "f1")] == pytest.approx(2 * d / (1 + d))
    assert t[("everything", "zeros")] == 0.0
    versus = study_graphs.compare(models, "true", reference="everything", n_boot=200)
    assert versus.loc["f1", "difference"] == pytest.approx(1 - 2 * d / (1 + d))
    assert versus.loc["f1", "verdict"] == "holds" and versus.loc["auprc", "verdict"] == "holds"
    assert study_graphs.compare(models, "everything", reference="true", n_boot=200).loc["f1", "verdict"] \
        == "does not hold"


def test_the_median_graph_is_one_models_edges():
    found, f1, strength = study_graphs.median_graph(_true_net([1.0, 1.0, 2.0]))
    assert (found == TRUTH).all() and f1 == pytest.approx(1.0) and strength.max() == pytest.approx(1.0)
