"""The data generator: statistics of its draws, determinism, caching, training pairs."""
import numpy as np
import pytest
import torch

from alukit import cache
from alukit.process import cell, data, excitation


@pytest.fixture(scope="module")
def runs():
    return data.simulate(12, 3000, seed=7)


def _changes(signal):
    """Indices where a (n_steps,) signal changes value."""
    return np.flatnonzero(np.diff(signal)) + 1


def test_shape_and_dtype(runs):
    assert runs.shape == (12, 3000, 13) and runs.dtype == np.float64
    assert np.isfinite(runs).all()


def test_initial_states_in_ranges():
    x0 = data.simulate(200, 2, seed=11)[:, 0, :8]
    bath = x0[:, 1:4].sum(1)
    for col, (lo, hi) in zip((0, 3, 4, 5, 6, 7), (excitation.X1_RANGE, excitation.X4_RANGE, excitation.X5_RANGE,
                                                  excitation.X6_RANGE, excitation.X7_RANGE, excitation.X8_RANGE)):
        assert (x0[:, col] >= lo).all() and (x0[:, col] <= hi).all()
        np.testing.assert_array_equal(x0[:, col], np.round(x0[:, col]))
    al2o3, alf3 = np.round(100 * x0[:, 1] / bath, 9), np.round(100 * x0[:, 2] / bath, 9)
    assert set(al2o3) == {2, 3, 4, 5}
    assert set(alf3) == {9, 10, 11, 12, 13}


def test_initial_inputs_are_controllers_and_nominal(runs):
    x0, u0 = runs[:, 0, :8], runs[:, 0, 8:]
    np.testing.assert_array_equal(u0[:, 1], 140000.0)
    np.testing.assert_array_equal(u0[:, 4], 0.05)
    np.testing.assert_allclose(u0[:, 0], excitation.alumina_feed(x0))
    np.testing.assert_allclose(u0[:, 2], excitation.alf3_feed(x0))


def test_current_and_acd_piecewise_constant_with_bounded_holds(runs):
    for col, step, base, scale in ((9, excitation.CURRENT_STEP, 140000.0, 1.0), (12, excitation.ACD_STEP, 0.05, 1e-4)):
        for traj in runs:
            changes = _changes(traj[:, col])
            assert len(changes) >= 2
            assert excitation.FIRST_HOLD[0] <= changes[0] <= excitation.FIRST_HOLD[1]
            assert (np.diff(changes) >= 100).all() and (np.diff(changes) <= 1100).all()
            offsets = np.round((traj[changes, col] - base) / scale, 6)
            assert (offsets >= step[0]).all() and (offsets <= step[1]).all()


def test_feed_impulses_last_one_sample(runs):
    for col, control, impulse, hold in ((8, excitation.alumina_feed, excitation.ALUMINA_IMPULSE, excitation.ALUMINA_HOLD),
                                         (10, excitation.alf3_feed, excitation.ALF3_IMPULSE, excitation.ALF3_HOLD)):
        for traj in runs:
            extra = traj[:, col] - control(traj[:, :8])
            where = np.flatnonzero(np.abs(extra) > 1e-9)
            assert len(where) >= 1
            assert excitation.FIRST_HOLD[0] <= where[0] <= excitation.FIRST_HOLD[1]
            assert (np.diff(where) >= hold[0]).all() and (np.diff(where) <= hold[1]).all()
            size = np.round(extra[where] * 100, 6)
            assert (size >= impulse[0]).all() and (size <= impulse[1]).all()


def test_metal_tapping_controller_hand_worked():
    """u4: v = 300 (x5 − 10000) kg/s; 0 below 20/ΔT, capped at 90/ΔT (ΔT = 10 s: 2 and 9 kg/s)."""
    x = np.zeros((7, 8))
    x[:, 4] = [9990.0, 10000.0, 10000.005, 10000.01, 10000.02, 10000.05, 10500.0]
    # v = -3000, 0, 1.5 (< 2), 3, 6, 15 (> 9), 150000
    np.testing.assert_allclose(excitation.metal_tapping(x), [0, 0, 0, 3.0, 6.0, 9.0, 9.0], rtol=1e-6, atol=0)
    # ΔT = 5 s: dead band below 4 kg/s, cap 18 kg/s
    np.testing.assert_allclose(excitation.metal_tapping(x, dt=5.0), [0, 0, 0, 0, 6.0, 15.0, 18.0], rtol=1e-6, atol=0)


def test_feed_controllers_hand_worked():
    """u1: v = 30000 (0.023 − c_Al2O3), 0 below 140/ΔT, cap 220/ΔT; u3: v = 13000 (0.105 − c_AlF3),
    0 below 20/ΔT, cap 80/ΔT (ΔT = 10 s). Bath mass 10000 kg, so c = mass / 10000."""
    def bath(x2, x3):
        x2, x3 = np.broadcast_arrays(np.asarray(x2, float), np.asarray(x3, float))
        x = np.zeros((len(x2), 8))
        x[:, 1], x[:, 2] = x2, x3
        x[:, 3] = 10000.0 - x[:, 1] - x[:, 2]
        return x

    x = bath([100.0, 220.0, 225.0, 226.0, 230.0, 300.0], 1000.0)
    # v = 390 (> 22), 30, 15, 12 (< 14), 0, −210
    np.testing.assert_allclose(excitation.alumina_feed(x), [22.0, 22.0, 15.0, 0, 0, 0], rtol=1e-6, atol=0)
    x = bath(300.0, [1000.0, 1040.0, 1045.0, 1048.5, 1050.0, 1100.0])
    # v = 65 (> 8), 13, 6.5, 1.95 (< 2), 0, −65
    np.testing.assert_allclose(excitation.alf3_feed(x), [8.0, 8.0, 6.5, 0, 0, 0], rtol=1e-6, atol=0)
    np.testing.assert_allclose(excitation.alf3_feed(x, dt=5.0), [16.0, 13.0, 6.5, 0, 0, 0], rtol=1e-6, atol=0)


def test_simulated_metal_tapping_is_its_controller(runs):
    tapping = runs[:, :, 11]
    np.testing.assert_array_equal(tapping, excitation.metal_tapping(runs[:, :, :8]))
    assert (tapping > 0).any() and (tapping == 0).any()


def test_states_follow_rk4(runs):
    np.testing.assert_allclose(cell.rk4_step(runs[:, :-1, :8], runs[:, :-1, 8:], 10.0), runs[:, 1:, :8], rtol=1e-13)


def test_deterministic_and_independent_of_n_traj(runs):
    np.testing.assert_array_equal(data.simulate(12, 3000, seed=7), runs)
    np.testing.assert_array_equal(data.simulate(3, 3000, seed=7), runs[:3])
    assert not np.array_equal(data.simulate(3, 3000, seed=8), runs[:3])


def test_operational_mode():
    run = data.simulate(2, 500, seed=0, mode="operational")
    i = np.arange(500)
    np.testing.assert_allclose(run[0, :, 9], 140000 + 2000 * np.sin(0.01 * i))
    np.testing.assert_allclose(run[1, :, 12], 0.05 + 0.005 * np.cos(0.1 * i))


def test_non_physical_trajectories_are_redrawn_and_reported(monkeypatch):
    real = data._integrate
    calls = []

    def spoiled(x0, exc, n_steps, dt):
        out = real(x0, exc, n_steps, dt)
        if not calls:
            out[1, 50:, 0] = np.nan  # trajectory 1 "diverges" on its first draw
        calls.append(len(x0))
        return out

    monkeypatch.setattr(data, "_integrate", spoiled)
    with pytest.warns(UserWarning, match="1 non-physical"):
        run, info = data.simulate(3, 100, seed=0, report=True)
    assert info == {"redrawn": 1} and calls == [3, 1]
    assert np.isfinite(run).all()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_traj=0), "n_traj must be an integer >= 1"),
        (dict(n_traj=2.5), "n_traj must be an integer >= 1"),
        (dict(n_traj=1, n_steps=1), "n_steps must be an integer >= 2"),
        (dict(n_traj=1, dt=0), "dt must be a number of seconds > 0"),
        (dict(n_traj=1, dt=-10.0), "dt must be a number of seconds > 0"),
        (dict(n_traj=1, mode="chaos"), "mode must be one of 'random', 'operational'"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.simulate(**kwargs)


def test_datasets_cached_disjoint_and_atomic(tmp_cache):
    sets = data.datasets(3, 2, 2, n_steps=50, seed=1)
    assert [s.shape for s in sets] == [(3, 50, 13), (2, 50, 13), (2, 50, 13)]
    assert not np.array_equal(sets.train[0], sets.val[0]) and not np.array_equal(sets.val[0], sets.test[0])
    files = sorted(tmp_cache.glob("*.npz"))
    assert len(files) == 3 and not list(tmp_cache.glob("*.tmp"))
    np.testing.assert_array_equal(data.datasets(3, 2, 2, n_steps=50, seed=1).train, sets.train)
    larger = data.datasets(5, 2, 2, n_steps=50, seed=1)
    np.testing.assert_array_equal(larger.train[:3], sets.train)
    with pytest.raises(ValueError, match="n_val must be an integer >= 1"):
        data.datasets(3, 0, 2)


def test_interrupted_write_leaves_nothing(tmp_cache):
    def boom(tmp):
        tmp.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.atomic_write(tmp_cache / "x.npz", boom)
    assert list(tmp_cache.iterdir()) == []


def test_derivative_pairs_and_normalizer(runs):
    features, targets = data.derivative_pairs(runs[:2], dt=10.0)
    assert features.shape == (2 * 2999, 13) and targets.shape == (2 * 2999, 8)
    np.testing.assert_array_equal(features[2999], runs[1, 0])
    np.testing.assert_allclose(targets[2999], (runs[1, 1, :8] - runs[1, 0, :8]) / 10.0)
    norm = data.Normalizer.fit(features)
    np.testing.assert_allclose(norm.std, features.std(0, ddof=1))
    z = norm.transform(features)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-9)
    np.testing.assert_allclose(norm.inverse(z), features, rtol=1e-12, atol=1e-9)
    zt = norm.transform(torch.tensor(features, dtype=torch.float32))
    assert zt.dtype == torch.float32
    np.testing.assert_allclose(zt.numpy(), z, rtol=1e-4, atol=1e-4)
    constant = data.Normalizer.fit(np.ones((5, 2)))
    np.testing.assert_array_equal(constant.std, [1.0, 1.0])
    again = data.Normalizer.from_dict(norm.to_dict())
    np.testing.assert_array_equal(again.mean, norm.mean)
    with pytest.raises(ValueError, match=r"data must have shape \(n_traj, n_steps >= 2, 13\)"):
        data.derivative_pairs(runs[0])
