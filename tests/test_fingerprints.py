"""Weight fingerprints (chapter 6, defect 10) against hand-worked values."""
import numpy as np
import pytest

from alukit.evaluation import fingerprints as F


def test_dead_units_and_their_outgoing_weights():
    # 2 inputs → 3 hidden → 2 outputs, one member; inputs are non-negative, so unit 1 (weights −1, −2) never fires
    w0 = np.array([[[1.0, -1.0, 0.0], [0.5, -2.0, 0.0]]])  # unit 0 fires on every input: it is alive
    w1 = np.array([[[0.3, -0.2], [0.7, 0.0], [-0.4, 0.9]]])  # unit 2 (zero weights) never fires either
    inputs = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 1.0]])
    dead = F.dead_units([w0, w1], inputs)
    assert [d.tolist() for d in dead] == [[[False, True, True]]]
    table = F.weight_fingerprints([w0, w1], inputs, h=np.array([0.35]))
    row = table.iloc[0]
    assert row["zeros [%]"] == pytest.approx(100 * 3 / 12)
    nz = np.array([1.0, -1.0, 0.5, -2.0, 0.3, -0.2, 0.7, -0.4, 0.9])
    assert row["RMS of non-zeros"] == pytest.approx(np.sqrt(np.mean(nz ** 2)))
    assert row["largest |w|"] == 2.0
    assert row["dead units [%]"] == pytest.approx(100 * 2 / 3)
    # dead units 1 and 2: non-zero outgoing weights 0.7, −0.4, 0.9 → 2 of 3 positive, median 0.7
    assert row["dead units' weights > 0 [%]"] == pytest.approx(100 * 2 / 3)
    assert row["dead units' weights, median"] == pytest.approx(0.7)
    assert row["non-zeros below H [%]"] == pytest.approx(100 * 2 / 9)  # 0.3, −0.2


def test_a_unit_active_on_a_single_input_is_alive():
    w0 = np.array([[[1.0, 0.0]]])  # unit 0 fires on the one positive input only; unit 1 (no weight) never
    inputs = np.array([[2.0], [-1.0], [-3.0]])
    assert F.dead_units([w0, np.ones((1, 2, 1))], inputs)[0].tolist() == [[False, True]]


def test_a_bias_wakes_a_unit_and_no_dead_unit_gives_nan():
    w0 = np.array([[[-1.0]]])
    w1 = np.array([[[2.0]]])
    inputs = np.array([[1.0], [2.0]])
    assert F.dead_units([w0, w1], inputs)[0].tolist() == [[True]]
    assert F.dead_units([w0, w1], inputs, biases=[np.array([[5.0]]), None])[0].tolist() == [[False]]
    row = F.weight_fingerprints([w0, w1], inputs, biases=[np.array([[5.0]]), None]).iloc[0]
    assert np.isnan(row["dead units' weights, median"]) and "non-zeros below H [%]" not in row


def test_uniform_and_he_initialisations_leave_their_signs():
    """U(0, 1) out-weights are all positive with median ≈ 0.5; He-normal ones half positive with median ≈ 0."""
    rng = np.random.default_rng(0)
    w0 = -np.abs(rng.standard_normal((1, 4, 400)))  # every hidden unit dead on positive inputs
    inputs = np.abs(rng.standard_normal((50, 4)))
    uni = F.weight_fingerprints([w0, rng.uniform(0, 1, (1, 400, 8))], inputs).iloc[0]
    he = F.weight_fingerprints([w0, rng.normal(0, 0.1, (1, 400, 8))], inputs).iloc[0]
    assert uni["dead units' weights > 0 [%]"] == 100 and uni["dead units' weights, median"] == pytest.approx(0.5, abs=0.03)
    assert he["dead units' weights > 0 [%]"] == pytest.approx(50, abs=4) and abs(he["dead units' weights, median"]) < 0.01
