"""The Euler time-stepper: true-model sanity check, batching, divergence isolation, input checks."""
import numpy as np
import pytest
import torch

from alukit.process import cell, data
from alukit.evaluation import stepper


@pytest.fixture(scope="module")
def trajectories():
    return data.simulate(4, 600, seed=11)


@pytest.fixture(scope="module")
def norms(trajectories):
    return stepper.normalizers("faithful", trajectories, trajectories)


class Linear(torch.nn.Module):
    """E random affine maps (E, B, 13) → (E, B, 8), float64."""

    def __init__(self, E, seed=0, scale=0.1):
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = torch.nn.Parameter(scale * torch.randn(E, 13, 8, generator=g, dtype=torch.float64))
        self.b = torch.nn.Parameter(scale * torch.randn(E, 1, 8, generator=g, dtype=torch.float64))

    def forward(self, z):
        return torch.baddbmm(self.b, z, self.w)


def test_true_model_euler_tracks_rk4_data(trajectories, norms):
    x_norm, y_norm = norms
    pred = stepper.rollout(stepper.true_model(x_norm, y_norm), trajectories, x_norm, y_norm)
    assert pred.shape == (1, 4, 600, 8) and pred.dtype == np.float64
    np.testing.assert_allclose(pred[0, :, 0], trajectories[:, 0, :8], rtol=1e-12)
    worst = (np.abs(pred[0] - trajectories[..., :8]).max(axis=(0, 1)) / x_norm.std[:8])
    assert worst.max() < 0.05, worst


def test_matches_algorithm_2_loop_in_physical_units(trajectories, norms):
    """The normalised-coordinates update equals x̂ += ΔT·denormalised output, per model and trajectory."""
    x_norm, y_norm = norms
    model = Linear(3)
    pred = stepper.rollout(model, trajectories, x_norm, y_norm, horizon=200)
    assert pred.shape == (3, 4, 200, 8)
    for k in range(3):
        for j in (0, 3):
            x = trajectories[j, 0, :8].copy()
            for t in range(200):
                np.testing.assert_allclose(pred[k, j, t], x, rtol=1e-9, atol=1e-9 * x_norm.std[:8].max())
                z = torch.as_tensor(x_norm.transform(np.concatenate([x, trajectories[j, t, 8:]])))[None, None]
                y = (torch.baddbmm(model.b[k:k + 1], z, model.w[k:k + 1]))[0, 0].detach().numpy()
                x = x + 10.0 * y_norm.inverse(y)


def test_batched_equals_one_model_at_a_time(trajectories, norms):
    x_norm, y_norm = norms
    model = Linear(3, seed=1)
    batched = stepper.rollout(model, trajectories, x_norm, y_norm)
    for k in range(3):
        single = Linear(1)
        with torch.no_grad():
            single.w.copy_(model.w[k:k + 1])
            single.b.copy_(model.b[k:k + 1])
        np.testing.assert_allclose(stepper.rollout(single, trajectories[1:3], x_norm, y_norm), batched[k:k + 1, 1:3],
                                   rtol=1e-10, atol=1e-9)  # float64: only the last bits may differ


class Exploding(torch.nn.Module):
    """Member 1 doubles its state every step on trajectory 0 (float32 overflow → inf → NaN); others are tame."""

    n_models = 3

    def forward(self, z):
        y = -0.01 * z[..., :8]
        y[1, 0] = 1e4 * (z[1, 0, :8].abs() + 1)
        return y


class NaNOnce(torch.nn.Module):
    """Member 2 returns NaN for trajectory 1 at the first call where its state exceeds 0 in x1."""

    n_models = 3

    def forward(self, z):
        y = 0.001 * torch.ones_like(z[..., :8])
        y[2, 1] = torch.where(z[2, 1, 0] > z.new_tensor(-1.0), torch.nan, 0.001)
        return y


@pytest.mark.parametrize("model", [Exploding(), NaNOnce()], ids=["overflow", "nan"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_divergence_never_poisons_other_rollouts(trajectories, norms, model, dtype):
    x_norm, y_norm = norms
    pred = stepper.rollout(model, trajectories, x_norm, y_norm, dtype=dtype)
    bad = ~np.isfinite(pred).all(-1)  # (E, n, T)
    assert bad.any()
    culprit = np.argwhere(bad.any(-1))
    assert len(culprit) == 1  # exactly one rollout went bad
    k, j = culprit[0]
    first = np.argmax(bad[k, j])
    assert np.isnan(pred[k, j, first:]).all() and np.isfinite(pred[k, j, :first]).all()
    # every other rollout is finite and equal to the same model without the culprit's misbehaviour
    tame = lambda z: (-0.01 * z[..., :8]) if isinstance(model, Exploding) else 0.001 * torch.ones_like(z[..., :8])
    expected = stepper.rollout(tame, trajectories, x_norm, y_norm, dtype=dtype, n_models=3)
    mask = np.ones(pred.shape[:2], bool)
    mask[k, j] = False
    np.testing.assert_array_equal(pred[mask], expected[mask])


def test_normalizers_faithful_uses_test_corrected_uses_train(trajectories):
    train, test = trajectories[:2], trajectories[2:]
    fx, fy = stepper.normalizers("faithful", train, test)
    cx, cy = stepper.normalizers("corrected", train, test)
    _, targets = data.derivative_pairs(test)
    np.testing.assert_allclose(fx.mean, test.reshape(-1, 13).mean(0))
    np.testing.assert_allclose(fy.std, targets.std(0, ddof=1))
    np.testing.assert_allclose(cx.mean, train.reshape(-1, 13).mean(0))
    assert not np.allclose(fx.mean, cx.mean)
    with pytest.raises(ValueError, match="variant must be one of 'faithful', 'corrected'"):
        stepper.normalizers("fair", train, test)


def test_bad_input_is_rejected_before_work(trajectories, norms):
    x_norm, y_norm = norms
    model = Linear(2)
    for horizon in (0, 601, 2.5, True):
        with pytest.raises(ValueError, match=r"horizon must be an integer in 1\.\.600"):
            stepper.rollout(model, trajectories, x_norm, y_norm, horizon=horizon)
    with pytest.raises(ValueError, match="data must be"):
        stepper.rollout(model, trajectories[..., :8], x_norm, y_norm)
    with pytest.raises(ValueError, match="dt must be"):
        stepper.rollout(model, trajectories, x_norm, y_norm, dt=0)
    with pytest.raises(ValueError, match="x_norm must have 13 columns"):
        stepper.rollout(model, trajectories, y_norm, y_norm)
    with pytest.raises(ValueError, match="threads must be"):
        stepper.rollout(model, trajectories, x_norm, y_norm, threads=0)
    with pytest.raises(ValueError, match=r"model must map \(E, B, 13\) to \(E, B, 8\) with E=3"):
        stepper.rollout(model, trajectories, x_norm, y_norm, n_models=3)


def test_thread_count_is_restored(trajectories, norms):
    before = torch.get_num_threads()
    stepper.rollout(Linear(1), trajectories[:1], *norms, horizon=10, threads=1)
    assert torch.get_num_threads() == before


def test_true_model_matches_cell_rhs(trajectories, norms):
    x_norm, y_norm = norms
    z = torch.as_tensor(x_norm.transform(trajectories[:, :5].reshape(1, -1, 13)))
    y = y_norm.inverse(stepper.true_model(x_norm, y_norm)(z)).numpy()
    np.testing.assert_allclose(y[0], cell.rhs(trajectories[:, :5, :8], trajectories[:, :5, 8:]).reshape(-1, 8), rtol=1e-9,
                               atol=1e-12)


def _plain_euler_loops(ensemble, data, x_norm, y_norm, horizon, dt=10.0):
    """Algorithm 2 by hand: one float64 ``nn.Sequential`` per member, x += ΔT·ẋ in physical units."""
    layers = list(ensemble.layers)
    out = np.empty((ensemble.n_models, len(data), horizon, 8))
    for k in range(ensemble.n_models):
        modules = []
        for i, layer in enumerate(layers):
            linear = torch.nn.Linear(*layer.weight.shape[1:], dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(layer.weight[k].T)
                linear.bias.copy_(layer.bias[k, 0])
            modules += [linear] if i == len(layers) - 1 else [linear, torch.nn.ReLU()]
        net = torch.nn.Sequential(*modules)
        for j, traj in enumerate(data):
            x = traj[0, :8].copy()
            for t in range(horizon):
                out[k, j, t] = x
                z = (np.concatenate([x, traj[t, 8:]]) - x_norm.mean) / x_norm.std
                with torch.no_grad():
                    y = net(torch.as_tensor(z)).numpy()
                x = x + dt * (y * y_norm.std + y_norm.mean)
    return out


def test_divergence_is_marked_from_its_first_offending_sample(trajectories, norms):
    """A rollout pushed by a constant derivative crosses |z| > BLOWUP at a sample found by hand: NaN from it on."""
    x_norm, y_norm = norms
    a = 10.0 * y_norm.std / x_norm.std[:8]  # normalised state change per unit of normalised derivative
    push = stepper.BLOWUP / (44.5 * a.max())  # crosses between samples 44 and 45 (checked at 63)

    def model(z):
        y = 0.001 * torch.ones_like(z[..., :8])
        y[1, 0] = push
        return y

    x = trajectories[0, 0, :8] + np.arange(120)[:, None] * 10.0 * (push * y_norm.std + y_norm.mean)
    first = int(np.argmax((np.abs((x - x_norm.mean[:8]) / x_norm.std[:8]) > stepper.BLOWUP).any(-1)))
    assert 32 < first < 63
    for dtype in (torch.float64, torch.float32):
        pred = stepper.rollout(model, trajectories, x_norm, y_norm, dtype=dtype, n_models=2, horizon=120)
        assert np.isfinite(pred[1, 0, :first]).all() and np.isnan(pred[1, 0, first:]).all()
        others = np.ones(pred.shape[:2], bool)
        others[1, 0] = False
        assert np.isfinite(pred[others]).all()


def test_stacked_mlp_equals_the_training_ensemble(trajectories, norms):
    from alukit.training import nets

    ens = nets.init_ensemble((13, 16, 16, 8), seeds=[1, 2, 3], bias=True)
    mlp = stepper.StackedMLP.from_ensemble(ens)
    z = torch.randn(3, 7, 13)
    with torch.no_grad():
        np.testing.assert_allclose(mlp(z.clone()).numpy(), ens(z).numpy(), rtol=1e-6, atol=1e-6)
    with torch.no_grad():
        for layer in ens.layers:
            layer.bias.normal_(0.0, 0.1, generator=torch.Generator().manual_seed(5))
    reference = _plain_euler_loops(ens, trajectories, *norms, horizon=50)
    np.testing.assert_allclose(stepper.rollout(ens, trajectories, *norms, horizon=50, dtype=torch.float64), reference,
                               rtol=1e-9, atol=1e-9 * norms[0].std[:8].max())
    np.testing.assert_allclose(stepper.rollout(ens, trajectories, *norms, horizon=50), reference,  # float32
                               rtol=1e-4, atol=1e-4 * norms[0].std[:8].max())
    no_bias = stepper.StackedMLP([torch.ones(2, 13, 8)])
    assert no_bias.n_models == 2 and no_bias(torch.ones(2, 1, 13)).shape == (2, 1, 8)
    with pytest.raises(ValueError, match="weights must be a non-empty list"):
        stepper.StackedMLP([torch.ones(13, 8)])


def test_stacked_mlp_rollout_checks_sizes_and_restores_threads(trajectories, norms):
    before = torch.get_num_threads()
    wrong_input = stepper.StackedMLP([torch.ones(2, 12, 4), torch.ones(2, 4, 8)])
    with pytest.raises(ValueError, match="maps 12 to 8"):
        stepper.rollout(wrong_input, trajectories, *norms, horizon=5)
    two = stepper.StackedMLP([torch.zeros(2, 13, 4), torch.zeros(2, 4, 8)])
    with pytest.raises(ValueError, match="E=3"):
        stepper.rollout(two, trajectories, *norms, horizon=5, n_models=3)
    assert stepper.rollout(two, trajectories, *norms, horizon=5).shape == (2, 4, 5, 8)
    assert torch.get_num_threads() == before


def test_rollout_benchmark_runs_small(tmp_cache, capsys):
    import json
    import runpy

    from alukit.paths import REPO_ROOT

    bench = runpy.run_path(str(REPO_ROOT / "bench" / "rollout.py"), run_name="alukit_bench")
    assert bench["main"](["--json", "--models", "2", "--trajectories", "2", "--steps", "60", "--configs", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"ours_seconds", "reference_seconds", "ratio", "measured"} <= set(out)
    assert out["max_deviation_sigma_first_100"] < 1e-3  # the batched stepper and the per-sample loop agree
