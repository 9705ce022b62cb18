"""alukit.evaluation.interpret: influence, scores against cell.DEPENDENCIES, consistency, bad input.

The truth table itself is checked against finite differences of cell.rhs in
tests/test_cell.py (test_dependencies_match_finite_differences).
"""
import numpy as np
import pytest
import torch

from alukit.process import cell
from alukit.evaluation import interpret
from alukit.training import nets
from alukit.evaluation.stepper import StackedMLP

TRUTH = cell.DEPENDENCIES
DENSITY = TRUTH.sum() / TRUTH.size


def planted(rng=None, width=20, depth=4):
    """Weights (n_in, n_out) whose path product has exactly the support of DEPENDENCIES.

    Input j feeds hidden unit j through every hidden layer; the output layer reads unit j
    into ẋ_i iff ẋ_i depends on column j. Magnitudes are random in [0.5, 2] if ``rng``.
    """
    def scale(shape):
        return rng.uniform(0.5, 2.0, shape) if rng is not None else np.ones(shape)

    first = np.zeros((13, width))
    first[np.arange(13), np.arange(13)] = scale(13)
    hidden = []
    for _ in range(depth - 1):
        w = np.zeros((width, width))
        w[np.arange(13), np.arange(13)] = scale(13)
        hidden.append(w)
    last = np.zeros((width, 8))
    last[:13] = TRUTH.T * scale((13, 8))
    return [first, *hidden, last]


def test_planted_network_scores_perfectly():
    w = planted()
    np.testing.assert_array_equal(interpret.influence(w), TRUTH.astype(float))
    s = interpret.edge_scores(interpret.influence(w))
    assert s["precision"] == s["recall"] == s["f1"] == s["auprc"] == 1.0
    assert s["fp"] == s["fn"] == 0 and s["tp"] == TRUTH.sum()


def test_planted_ensemble_per_model_and_random_magnitudes():
    rng = np.random.default_rng(1)
    nets_ = [planted(rng) for _ in range(3)]
    stacked = [np.stack(layer) for layer in zip(*nets_)]
    inf = interpret.influence(stacked)
    assert inf.shape == (3, 8, 13)
    np.testing.assert_array_equal(inf > 0, np.broadcast_to(TRUTH, (3, 8, 13)))
    s = interpret.edge_scores(inf, threshold=0.0)
    np.testing.assert_array_equal(s["f1"], np.ones(3))
    np.testing.assert_array_equal(s["auprc"], np.ones(3))


def test_dense_random_network_recall_one_precision_density():
    ens = nets.init_ensemble((13, 20, 20, 20, 20, 8), seeds=[0, 1, 2, 3])
    inf = interpret.influence(ens)
    assert inf.shape == (4, 8, 13) and (inf > 0).all()
    for threshold in (0.0, interpret.THRESHOLD):  # every path product is well above a tenth of its row's largest
        s = interpret.edge_scores(inf, threshold=threshold)
        np.testing.assert_allclose(s["recall"], 1.0)
        np.testing.assert_allclose(s["precision"], DENSITY)
        np.testing.assert_allclose(s["f1"], 2 * DENSITY / (1 + DENSITY))


def test_influence_matches_explicit_product_and_layouts():
    ens = nets.init_ensemble((13, 7, 8), seeds=[5, 6])
    w0, w1 = (w.double().numpy() for w in ens.weights())
    expected = np.stack([(np.abs(w1[e]).T @ np.abs(w0[e]).T) for e in range(2)])
    np.testing.assert_allclose(interpret.influence(ens), expected)
    np.testing.assert_allclose(interpret.influence(StackedMLP.from_ensemble(ens)), expected)
    np.testing.assert_allclose(interpret.influence([w0[1], w1[1]]), expected[1])
    np.testing.assert_allclose(interpret.influence([torch.tensor(w0), torch.tensor(w1)]), expected)


def test_jacobian_matches_autograd_and_is_bounded_by_path_product():
    ens = nets.init_ensemble((13, 16, 16, 8), seeds=[3, 4]).double()
    z = np.random.default_rng(0).normal(size=(50, 13))
    jac = interpret.jacobian_influence(ens, z, chunk=16)
    assert jac.shape == (2, 8, 13)
    for e in range(2):
        member = ens.member(e).double()
        J = torch.autograd.functional.jacobian(lambda x: member(x).sum(0), torch.tensor(z))  # (8, N, 13)
        np.testing.assert_allclose(jac[e], J.abs().mean(1).numpy(), rtol=1e-10, atol=1e-12)
    assert (jac <= interpret.influence(ens) + 1e-12).all()
    single = interpret.jacobian_influence(ens.member(1), z)
    np.testing.assert_allclose(single, jac[1], rtol=1e-5)


def test_normalisation_is_scale_free_and_thresholds():
    rng = np.random.default_rng(2)
    inf = rng.uniform(0, 1, (8, 13))
    rows = rng.uniform(1e-3, 1e3, (8, 1))
    np.testing.assert_allclose(interpret.normalise(inf * rows), interpret.normalise(inf))
    assert interpret.edge_scores(inf * rows) == interpret.edge_scores(inf)
    zero = np.zeros((8, 13))
    s = interpret.edge_scores(zero)
    assert s["precision"] == s["recall"] == s["f1"] == 0.0
    assert s["auprc"] == pytest.approx(DENSITY)  # all tied: one threshold, everything predicted


def test_default_threshold_is_a_tenth_of_the_row_maximum():
    """Edges are normalised influences strictly above 0.1; rows scaled by 8 (exact in binary)."""
    assert interpret.THRESHOLD == 0.1
    inf = np.where(TRUTH, 8 * 0.1 * (1 + 1e-6), 8 * 0.1 * (1 - 1e-6))
    first = TRUTH.argmax(1)
    inf[np.arange(8), first] = 8.0  # the row maximum sits on a true edge
    np.testing.assert_array_equal(interpret.edges(inf), TRUTH)
    s = interpret.edge_scores(inf)
    assert (s["tp"], s["fp"], s["fn"]) == (TRUTH.sum(), 0, 0)
    false = np.argwhere(~TRUTH)[0]
    inf[tuple(false)] = 8 * 0.1 * (1 + 1e-6)  # one false edge just above
    true = np.argwhere(TRUTH & (np.arange(13) != first[:, None]))[0]
    inf[tuple(true)] = 8 * 0.1  # one true edge exactly at the threshold: not an edge (strict)
    s = interpret.edge_scores(inf)
    assert (s["tp"], s["fp"], s["fn"]) == (TRUTH.sum() - 1, 1, 1)
    assert interpret.edges(inf).sum() == TRUTH.sum()
    assert interpret.edge_scores(inf, threshold=0.05)["fp"] == TRUTH.size - TRUTH.sum()


def test_average_precision_by_hand():
    # ranking: T, F, T, F  → precisions at the true edges 1 and 2/3 → AP = (1 + 2/3) / 2
    ap = interpret.average_precision(np.array([[4.0, 3.0, 2.0, 1.0]]), np.array([True, False, True, False]))
    assert ap[0] == pytest.approx((1 + 2 / 3) / 2)
    # ties enter together: (T, F) tied first → precision 1/2 for that true edge
    ap = interpret.average_precision(np.array([[1.0, 1.0, 0.0]]), np.array([True, False, False]))
    assert ap[0] == pytest.approx(0.5)


def test_inputs_subset_drops_x5():
    inf = TRUTH.astype(float)
    inf[:, 4] = 1.0  # every derivative "reads" the metal mass
    full = interpret.edge_scores(inf)
    assert full["fp"] == 8 and full["recall"] == 1.0 and full["precision"] < 1
    rest = interpret.edge_scores(inf, inputs=[c for c in cell.COLUMNS if c != "x5"])
    assert rest["f1"] == 1.0


def test_consistency():
    rng = np.random.default_rng(3)
    base = rng.uniform(0, 1, (8, 13))
    same = np.stack([base, 2 * base, 5 * base])
    c = interpret.consistency(same)
    assert c["correlation"] == pytest.approx(1.0) and c["jaccard"] == 1.0
    two = np.stack([TRUTH.astype(float), (~TRUTH).astype(float)])
    c = interpret.consistency(two)
    assert c["correlation"] == pytest.approx(-1.0) and c["jaccard"] == 0.0
    corr, jac = interpret.pairwise(np.stack([base, base, rng.uniform(0, 1, (8, 13))]))
    assert corr.shape == jac.shape == (3, 3) and np.allclose(np.diag(corr), 1)


def test_median_model():
    assert interpret.median_model({"f1": np.array([0.2, 0.9, 0.5]), "auprc": np.zeros(3)}) == 2
    assert interpret.median_model({"f1": np.array([0.5, 0.5, 0.1, 0.9]), "auprc": np.array([0.3, 0.1, 0, 0])}) == 1


@pytest.mark.parametrize("weights, match", [
    ([], "non-empty sequence"),
    (np.ones((13, 8)), "non-empty sequence"),
    ([np.ones((13, 20)), np.ones((2, 20, 8))], "all be 2-D"),
    ([np.ones((13, 20)), np.ones((21, 8))], "must chain"),
    ([np.ones((20, 13)), np.ones((8, 20))], "must chain"),
    ([np.ones((12, 20)), np.ones((20, 8))], "13 inputs to 8 outputs"),
    ([np.ones((2, 13, 20)), np.ones((3, 20, 8))], "ensemble size"),
])
def test_influence_refuses_bad_shapes(weights, match):
    with pytest.raises(ValueError, match=match):
        interpret.influence(weights)


def test_scores_refuse_bad_input():
    good = np.ones((8, 13))
    with pytest.raises(ValueError, match=r"influence must be \(8, 13\)"):
        interpret.edge_scores(np.ones((13, 8)))
    with pytest.raises(ValueError, match="finite and >= 0"):
        interpret.edge_scores(-good)
    with pytest.raises(ValueError, match="threshold must be a number in"):
        interpret.edge_scores(good, threshold=1.0)
    with pytest.raises(ValueError, match="truth must be"):
        interpret.edge_scores(good, truth=np.ones((13, 8)))
    with pytest.raises(ValueError, match="inputs must be column names"):
        interpret.edge_scores(good, inputs=["x9"])
    with pytest.raises(ValueError, match="E >= 2"):
        interpret.consistency(good)
    with pytest.raises(ValueError, match="data must be normalised features"):
        interpret.jacobian_influence(nets.init_ensemble((13, 4, 8), [0]), np.ones((5, 12)))
    with pytest.raises(ValueError, match="model must be"):
        interpret.jacobian_influence(lambda z: z, good)
