"""The paper's metric, divergence rule, table statistics and bootstrap intervals on hand-built cases."""
import numpy as np
import pytest

from alukit.evaluation import metrics as M

SIGMA = np.array([1.0, 2.0, 0.5, 1.0, 1.0, 4.0, 1.0, 1.0])


def rollouts(E=2, n=3, T=200, seed=0):
    true = np.random.default_rng(seed).normal(size=(n, T, 13))
    return true, np.repeat(true[None, :, :, :8], E, axis=0)


def test_constant_and_late_offsets_give_exact_errors():
    true, pred = rollouts()
    pred[0, 0, :, 5] += 2.0 * SIGMA[5]  # 2σ everywhere on state 6
    pred[1, 2, 150:, 0] -= 4.0 * SIGMA[0]  # 4σ from sample 150 on, state 1
    e = M.state_errors(pred, true, SIGMA, horizons=(100, 200))
    assert e.shape == (2, 2, 3, 8)
    np.testing.assert_allclose(e[:, 0, 0, 5], [2.0, 2.0])
    np.testing.assert_allclose(e[:, 1, 2, 0], [0.0, 4.0 * 50 / 200])
    assert np.count_nonzero(e) == 3


def test_horizon_order_is_kept_and_default_horizons():
    true, pred = rollouts(T=5000, n=1, E=1)
    pred[0, 0, 2000:, 1] += SIGMA[1]
    e = M.state_errors(pred, true, SIGMA)
    np.testing.assert_allclose(e[:, 0, 0, 1], [0, 0, 500 / 2500, 3000 / 5000])
    e_rev = M.state_errors(pred, true, SIGMA, horizons=(5000, 100, 2500))
    np.testing.assert_allclose(e_rev[:, 0, 0, 1], [3000 / 5000, 0, 500 / 2500])


def test_nan_and_inf_count_as_ten_only_after_they_appear():
    true, pred = rollouts()
    pred[0, 1, 120, 3] = np.nan
    pred[1, 0, 50:, 7] = np.inf
    e = M.state_errors(pred, true, SIGMA, horizons=(50, 100, 150))
    np.testing.assert_array_equal(e[:, 0, 1, 3], [0, 0, 10])
    np.testing.assert_array_equal(e[:, 1, 0, 7], [0, 10, 10])
    assert M.diverged(e)[:, 0, 1].tolist() == [False, False, True]


def test_divergence_rule_threshold_is_strict():
    e = np.zeros((4, 8))
    e[1, 2] = 3.0
    e[2, 2] = 3.0001
    e[3, 0] = np.nan
    assert M.diverged(e).tolist() == [False, False, True, True]
    np.testing.assert_allclose(M.rfmse(e), [0, 3 / 8, 3.0001 / 8, 10 / 8])
    np.testing.assert_allclose(M.capped_scores(e), [0, 3 / 8, 3.0, 3.0])
    np.testing.assert_allclose(M.capped_scores(e, cap=10), [0, 3 / 8, 10, 10])


def table_case():
    """Horizon 0: 1 of 4 diverged; horizon 1: all diverged."""
    e = np.zeros((2, 2, 2, 8))
    e[0, :, :, 0] = [[0.1, 0.2], [0.3, 5.0]]
    e[1] = 4.0
    return e


def test_table_statistics():
    e = table_case()
    np.testing.assert_allclose(M.divergence_percent(e), [25.0, 100.0])
    mean, std, count = M.survivor_stats(e)
    scores = np.array([0.1, 0.2, 0.3]) / 8
    np.testing.assert_allclose(mean[0], scores.mean())
    np.testing.assert_allclose(std[0], scores.std())
    assert np.isnan(mean[1]) and np.isnan(std[1]) and count.tolist() == [3, 0]
    np.testing.assert_allclose(M.statistic(e, "divergence"), [25, 100])
    np.testing.assert_allclose(M.statistic(e, "survivor_mean"), mean)
    np.testing.assert_allclose(M.statistic(e, "capped_mean"), [(scores.sum() + 3) / 4, 3.0])
    with pytest.raises(ValueError, match="statistic must be one of 'divergence', 'survivor_mean', 'capped_mean'"):
        M.statistic(e, "median")


def random_errors(E=10, n=40, H=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.gamma(1.0, 0.6, size=(H, E, n, 8))


@pytest.mark.parametrize("stat", M.STATISTICS)
def test_bootstrap_contains_estimate_and_is_deterministic(stat):
    e = random_errors()
    est, lo, hi = M.bootstrap(e, stat, n_boot=500, seed=3)
    np.testing.assert_allclose(est, M.statistic(e, stat))
    assert (lo <= est).all() and (est <= hi).all() and (lo < hi).all()
    again = M.bootstrap(e, stat, n_boot=500, seed=3)
    for a, b in zip((est, lo, hi), again):
        np.testing.assert_array_equal(a, b)
    other = M.bootstrap(e, stat, n_boot=500, seed=4)
    assert not np.array_equal(other[1], lo)


def test_bootstrap_resamples_models_and_trajectories():
    """Model-to-model spread must widen the interval (models are resampled, not just rollouts)."""
    e = np.full((1, 10, 40, 8), 0.1)
    e[:, :5] = 0.5  # half the models are worse: mean 0.3
    est, lo, hi = M.bootstrap(e, "survivor_mean", n_boot=1000)
    assert est[0] == pytest.approx(0.3) and hi[0] - lo[0] > 0.1
    e2 = np.full((1, 10, 40, 8), 0.1)
    e2[:, :, :20] = 0.5  # half the trajectories are harder
    _, lo2, hi2 = M.bootstrap(e2, "survivor_mean", n_boot=1000)
    assert hi2[0] - lo2[0] > 0.05


def test_bootstrap_interval_is_the_central_percentile_range():
    """One model, 100 trajectories, half scoring 0.5 and half 1.5: each resampled mean is 0.5 + K/100 with
    K ~ Binomial(100, 1/2), whose 2.5 %, 97.5 % (5 %, 95 %) quantiles are 40, 60 (42, 58)."""
    e = np.full((1, 1, 100, 8), 0.5)
    e[:, :, 50:] = 1.5
    est, lo, hi = M.bootstrap(e, "survivor_mean", n_boot=20000, seed=1)
    np.testing.assert_allclose([est[0], lo[0], hi[0]], [1.0, 0.90, 1.10], atol=0.005)
    _, lo, hi = M.bootstrap(e, "survivor_mean", n_boot=20000, seed=1, level=0.9)
    np.testing.assert_allclose([lo[0], hi[0]], [0.92, 1.08], atol=0.005)


def test_bootstrap_handles_no_survivors():
    est, lo, hi = M.bootstrap(table_case(), "survivor_mean", n_boot=200)
    assert np.isnan(est[1]) and np.isnan(lo[1]) and np.isnan(hi[1]) and np.isfinite(est[0])


def test_bootstrap_difference():
    a, b = random_errors(seed=1), random_errors(seed=1) + 1.0
    d, lo, hi = M.bootstrap_difference(a, a, "capped_mean", n_boot=300)
    np.testing.assert_array_equal(d, 0)
    assert (lo <= 0).all() and (hi >= 0).all()
    d, lo, hi = M.bootstrap_difference(a, b, "survivor_mean", n_boot=300)
    assert (hi < 0).all() and (lo <= d).all() and (d <= hi).all()
    with pytest.raises(ValueError, match="share horizons and trajectories"):
        M.bootstrap_difference(a, b[:, :, :5], "divergence")


def _trajectory_varied(H=2, E=5, n=40, seed=0):
    """Errors that differ a lot between trajectories and not at all between models."""
    hardness = np.random.default_rng(seed).uniform(0.05, 2.5, size=(H, 1, n, 1))
    return np.broadcast_to(hardness, (H, E, n, 8)).copy()


@pytest.mark.parametrize("stat", M.STATISTICS)
def test_bootstrap_difference_of_identical_arms_is_exactly_zero(stat):
    """Trajectories are paired: identical arms (models alike) give a zero-width interval at 0."""
    a = _trajectory_varied()
    a[1, :, :7, 2] = 4.0  # some divergence at the second horizon
    d, lo, hi = M.bootstrap_difference(a, a.copy(), stat, n_boot=400, seed=5)
    np.testing.assert_array_equal(d, 0)
    np.testing.assert_array_equal(lo, 0)
    np.testing.assert_array_equal(hi, 0)


def test_bootstrap_difference_pairing_shrinks_the_interval():
    """Correlated arms: b = a + 0.05 on every rollout. Paired: every resample differs by exactly −0.05;
    an unpaired computation by hand (independent trajectory draws per arm) is far wider."""
    a = _trajectory_varied(H=1)
    b = a + 0.05
    d, lo, hi = M.bootstrap_difference(a, b, "survivor_mean", n_boot=1000, seed=2)
    np.testing.assert_allclose([d[0], lo[0], hi[0]], [-0.05, -0.05, -0.05], atol=1e-12)
    rng = np.random.default_rng(2)
    _, E, n, _ = a.shape
    score_a, score_b = M.rfmse(a)[0], M.rfmse(b)[0]
    unpaired = np.array([score_a[rng.integers(0, E, E)][:, rng.integers(0, n, n)].mean()
                         - score_b[rng.integers(0, E, E)][:, rng.integers(0, n, n)].mean() for _ in range(1000)])
    low, high = np.percentile(unpaired, [2.5, 97.5])
    assert low < -0.05 < high and high - low > 0.3
    assert hi[0] - lo[0] < 1e-9 * (high - low)


def test_bad_horizons_and_arguments_are_rejected():
    true, pred = rollouts(T=200)
    for horizons in ((0,), (201,), (100, 100), (), (1.5,), 100):
        with pytest.raises(ValueError, match=r"horizons must be distinct integers in 1\.\.200"):
            M.state_errors(pred, true, SIGMA, horizons=horizons)
    assert M.check_horizons(M.HORIZONS, 5000) == (100, 1000, 2500, 5000)
    with pytest.raises(ValueError, match="sigma must be 8 positive"):
        M.state_errors(pred, true, np.zeros(8), horizons=(10,))
    with pytest.raises(ValueError, match=r"true must have shape \(3, >= 200, >= 8\)"):
        M.state_errors(pred, true[:2], SIGMA, horizons=(10,))
    with pytest.raises(ValueError, match="n_boot must be a positive integer"):
        M.bootstrap(random_errors(), "divergence", n_boot=0)
    with pytest.raises(ValueError, match="level must be in"):
        M.bootstrap(random_errors(), "divergence", level=95)
