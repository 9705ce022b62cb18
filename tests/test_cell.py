"""The cell model against the authors' simulator, SciPy, and its own balance laws."""
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.integrate import solve_ivp

from alukit.process import cell, data

REFERENCE = Path(__file__).resolve().parent / "data" / "authors_test_trajectories.npz"  # see tests/data/README.md


@pytest.fixture(scope="module")
def reference():
    assert REFERENCE.exists(), f"conformance fixture missing: {REFERENCE} (part of the repository; see tests/data/README.md)"
    with np.load(REFERENCE, allow_pickle=False) as f:
        return f["data"].astype(np.float64)


@pytest.fixture(scope="module")
def samples():
    return data.simulate(6, 400, seed=3)[:, ::7].reshape(-1, 13)


def test_rk4_matches_authors_trajectories(reference):
    x, u = reference[:, :-1, :8], reference[:, :-1, 8:]
    assert x.shape == (5, 9999, 8)
    predicted = cell.rk4_step(x, u, 10.0)
    relative = np.abs(predicted - reference[:, 1:, :8]) / np.abs(reference[:, 1:, :8])
    assert relative.max() < 1e-6, f"max relative error {relative.max():.3g}"


def test_rk4_matches_solve_ivp_with_held_inputs(samples):
    x0, u = samples[0, :8], samples[0, 8:]
    x = x0.copy()
    for _ in range(30):
        x = cell.rk4_step(x, u, 10.0)
    sol = solve_ivp(lambda t, y: cell.rhs(y, u), (0, 300.0), x0, method="DOP853", rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(x, sol.y[:, -1], rtol=1e-8)


def test_mass_balances(samples):
    x, u = samples[:, :8], samples[:, 8:]
    f = cell.rhs(x, u)
    np.testing.assert_allclose(f[:, 0] + f[:, 3], cell.K5 * u[:, 0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(f[:, 1], u[:, 0] - cell.K3 * u[:, 1], rtol=1e-12)
    np.testing.assert_allclose(f[:, 2], u[:, 2] - cell.K4 * u[:, 0], rtol=1e-12)
    np.testing.assert_allclose(f[:, 4], cell.K6 * u[:, 1] - u[:, 3], rtol=1e-12)


def test_dependencies_match_finite_differences(samples):
    z = samples[::5]
    found = np.zeros((8, 13), dtype=bool)
    for j in range(13):
        h = 1e-6 * np.maximum(np.abs(z[:, j]), 1e-3)
        up, down = z.copy(), z.copy()
        up[:, j] += h
        down[:, j] -= h
        df = (cell.rhs(up[:, :8], up[:, 8:]) - cell.rhs(down[:, :8], down[:, 8:])) / (2 * h[:, None])
        scale = np.abs(cell.rhs(z[:, :8], z[:, 8:])) + 1e-12
        found[:, j] = (np.abs(df) * np.abs(z[:, j:j + 1] + 1e-3) / scale > 1e-7).any(0)
    np.testing.assert_array_equal(found, cell.DEPENDENCIES)
    assert not cell.DEPENDENCIES[:, 4].any(), "x5 (metal mass) drives nothing"


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_matches_numpy(samples, dtype):
    x, u = samples[:, :8], samples[:, 8:]
    expected = cell.rk4_step(x, u, 10.0)
    got = cell.rk4_step(torch.tensor(x, dtype=dtype), torch.tensor(u, dtype=dtype), 10.0)
    assert got.dtype == dtype and got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5 if dtype == torch.float32 else 1e-12)
    voltage = cell.cell_voltage(torch.tensor(x, dtype=dtype), torch.tensor(u, dtype=dtype))
    np.testing.assert_allclose(voltage.numpy(), cell.cell_voltage(x, u), rtol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda(samples):
    x = torch.tensor(samples[:, :8], device="cuda")
    u = torch.tensor(samples[:, 8:], device="cuda")
    np.testing.assert_allclose(cell.rk4_step(x, u, 10.0).cpu().numpy(), cell.rk4_step(samples[:, :8], samples[:, 8:], 10.0), rtol=1e-10)


def test_leading_dimensions(samples):
    x, u = samples[:12, :8].reshape(3, 4, 8), samples[:12, 8:].reshape(3, 4, 5)
    assert cell.rhs(x, u).shape == (3, 4, 8)
    assert cell.liquidus_temperature(x).shape == (3, 4)
    np.testing.assert_allclose(cell.rhs(x, u).reshape(12, 8), cell.rhs(samples[:12, :8], samples[:12, 8:]))


@pytest.mark.parametrize("kind", ["numpy64", "numpy32", "torch32", "torch64"])
def test_components_first_layout_matches(samples, kind):
    """``axis=0`` (x[8, n], the simulator's loop layout) gives the transposed ``axis=-1`` result, same dtype."""
    x, u = samples[:, :8], samples[:, 8:]
    if kind.startswith("numpy"):
        x, u = x.astype(kind.replace("numpy", "float")), u.astype(kind.replace("numpy", "float"))
    else:
        x, u = (torch.tensor(a, dtype=getattr(torch, kind.replace("torch", "float"))) for a in (x, u))
    last, first = cell.rk4_step(x, u, 10.0), cell.rk4_step(x.T, u.T, 10.0, axis=0)
    assert first.dtype == last.dtype == x.dtype and first.shape == (8, len(samples))
    np.testing.assert_array_equal(np.asarray(first).T, np.asarray(last))
    np.testing.assert_array_equal(np.asarray(cell.rhs(x.T, u.T, axis=0)).T, np.asarray(cell.rhs(x, u)))


def test_bad_axis(samples):
    with pytest.raises(ValueError, match="axis must be 0 .* or -1"):
        cell.rhs(samples[:, :8], samples[:, 8:], axis=1)
    with pytest.raises(ValueError, match=r"x must have shape \(8, \.\.\.\)"):
        cell.rk4_step(samples[:, :8], samples[:, 8:], 10.0, axis=0)


def test_derived_outputs_are_plausible(samples):
    x, u = samples[:, :8], samples[:, 8:]
    t_liq = cell.liquidus_temperature(x)
    assert ((t_liq > 900) & (t_liq < 1000)).all()
    superheat = x[:, 5] - t_liq
    assert ((superheat > -20) & (superheat < 60)).all()
    voltage = cell.cell_voltage(x, u)
    assert ((voltage > 0.5) & (voltage < 5)).all()


def test_liquidus_temperature_hand_worked():
    """g1 at p1 = 3.125 %, p2 = 9.375 % (bath 500 + 1500 + 14000 kg):
    991.2 + 1.12·9.375 − 0.13·137.510800 + 0.061·28.704958 − 7.93·3.125 / 1.660703 = 970.652455 °C."""
    x = np.array([3000.0, 500.0, 1500.0, 14000.0, 10000.0, 970.0, 820.0, 580.0])
    p1, p2 = 3.125, 9.375
    by_hand = (991.2 + 1.12 * p2 - 0.13 * p2 ** 2.2 + 0.061 * p2 ** 1.5
               - 7.93 * p1 / (1 + 0.0936 * p2 - 0.0017 * p2 ** 2 - 0.0023 * p2 * p1))
    assert by_hand == pytest.approx(970.652455, abs=1e-6)
    assert cell.liquidus_temperature(x) == pytest.approx(by_hand, rel=1e-13)


def test_cell_voltage_hand_worked():
    """U = g5 + u2 u5 / (2620 g2), worked by hand from the model's equations at a round state.

    Bath 500 + 1500 + 14000 = 16000 kg: c_Al2O3 = 0.03125, p1 = 3.125 %, p2 = 9.375 %; x6 = 970 °C;
    u2 = 150 kA, u5 = 0.045 m.
      g2 = exp(2.496 − 2068.4 / 1243 − 2.07 · 0.03125)                      = 2.153886498
      g3 = 0.531 + 6.958e-7 u2 − 2.51e-12 u2² + 3.06e-18 u2³
           + (0.431 − 0.1437 · 0.925) / (1 + 7.353 · 0.925)                  = 0.627430094
      g4 = (0.5517 + 3.8168e-6 u2) / (1 + 8.271e-6 u2)                       = 0.501738335
      g5 = 3.8168e-6 g3 g4 u2 / (g2 (1 − g3))                                = 0.224596356 V
      ohmic drop u2 u5 / (2620 g2)                                           = 1.196133538 V
      U = 1.420729894 V
    """
    x = np.array([3000.0, 500.0, 1500.0, 14000.0, 10000.0, 970.0, 820.0, 580.0])
    u = np.array([0.1, 150000.0, 0.05, 0.0, 0.045])
    g2 = math.exp(2.496 - 2068.4 / 1243.0 - 2.07 * 0.03125)
    g3 = 0.531 + 6.958e-7 * 1.5e5 - 2.51e-12 * 1.5e5 ** 2 + 3.06e-18 * 1.5e5 ** 3 + (0.431 - 0.1437 * 0.925) / (
        1 + 7.353 * 0.925)
    g4 = (0.5517 + 3.8168e-6 * 1.5e5) / (1 + 8.271e-6 * 1.5e5)
    g5 = 3.8168e-6 * g3 * g4 * 1.5e5 / (g2 * (1 - g3))
    by_hand = g5 + 1.5e5 * 0.045 / (2620 * g2)
    assert by_hand == pytest.approx(1.420729894, abs=1e-9)
    assert cell.cell_voltage(x, u) == pytest.approx(by_hand, rel=1e-12)
    # the bubble drop grows with the coverage g3 / (1 − g3); a lower ACD only lowers the ohmic drop
    lower_acd = u.copy()
    lower_acd[4] = 0.03
    assert cell.cell_voltage(x, lower_acd) == pytest.approx(g5 + 1.5e5 * 0.03 / (2620 * g2), rel=1e-12)


def test_non_physical_state_is_flagged_not_raised(samples):
    x, u = samples[:3, :8].copy(), samples[:3, 8:]
    x[1, 0] = 0.0  # no side ledge
    x[2, 1:4] = 0.0  # no bath
    with np.errstate(all="ignore"):
        f = cell.rhs(x, u)
    assert np.isfinite(f[0]).all()
    assert not np.isfinite(f[1]).all() and not np.isfinite(f[2]).all()
    np.testing.assert_array_equal(cell.is_physical(x), [True, False, False])


@pytest.mark.parametrize(
    "x, u, match",
    [(np.zeros(7), np.zeros(5), "x must have shape"), (np.zeros(8), np.zeros(4), "u must have shape")],
)
def test_bad_shapes(x, u, match):
    with pytest.raises(ValueError, match=match):
        cell.rhs(x, u)


def test_bad_dt(samples):
    with pytest.raises(ValueError, match="dt must be > 0"):
        cell.rk4_step(samples[0, :8], samples[0, 8:], 0.0)


def test_table1_metadata():
    assert [v.symbol for v in cell.STATES] == [f"x{i}" for i in range(1, 9)]
    assert [v.unit for v in cell.INPUTS] == ["kg/s", "A", "kg/s", "kg/s", "m"]
    assert cell.DEPENDENCIES.shape == (8, 13) and cell.DEPENDENCIES.dtype == bool
