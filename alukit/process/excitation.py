"""Inputs of the cell: feedback controllers, random excitation, initial conditions.

Everything is vectorised over trajectories: controllers act on ``x[n, 8]``; the
random (APRBS) excitation of a whole trajectory is drawn up front as per-sample
arrays, one independent ``numpy.random.Generator`` per trajectory, so the time loop
in :func:`alukit.process.data.simulate` only evaluates controllers and the ODE.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["MODES", "alumina_feed", "alf3_feed", "metal_tapping", "Excitation", "inputs", "random_excitation",
           "operational_excitation", "initial_states"]

MODES = ("random", "operational")

LINE_CURRENT_A = 140000.0
ACD_M = 0.05

# (low, high) inclusive integer ranges, aluminium-cell-model.md "Excitation".
FIRST_HOLD = (100, 1100)
CURRENT_STEP = (-22000, 15000)  # A, added to LINE_CURRENT_A
CURRENT_HOLD = (100, 1100)
ACD_STEP = (-70, 70)  # 1e-4 m, added to ACD_M
ACD_HOLD = (100, 1100)
ALUMINA_IMPULSE = (100, 2000)  # 1e-2 kg/s, one sample
ALUMINA_HOLD = (500, 2000)
ALF3_IMPULSE = (100, 1000)  # 1e-2 kg/s, one sample
ALF3_HOLD = (1000, 3000)

# Initial conditions, aluminium-cell-model.md "Initial conditions".
X1_RANGE = (2060, 4460)
ALUMINA_PERCENT = (2, 5)
ALF3_PERCENT = (9, 13)
X4_RANGE = (11500, 16000)
X5_RANGE = (9750, 10000)
X6_RANGE = (960, 990)
X7_RANGE = (790, 850)
X8_RANGE = (555, 610)


def _deadband(v, low, high):
    """0 below ``low`` (> 0, so negative demands too), clipped at ``high``."""
    return np.where(v < low, 0.0, np.minimum(v, high))


def _alumina_feed(x2, x3, x4, dt):
    return _deadband(30000 * (0.023 - x2 / (x2 + x3 + x4)), 140 / dt, 220 / dt)


def _alf3_feed(x2, x3, x4, dt):
    return _deadband(13000 * (0.105 - x3 / (x2 + x3 + x4)), 20 / dt, 80 / dt)


def _metal_tapping(x5, dt):
    return _deadband(300 * (x5 - 10000), 20 / dt, 90 / dt)


def alumina_feed(x, dt=10.0):
    """Alumina feed controller u1 in kg/s from ``x[..., 8]``."""
    return _alumina_feed(x[..., 1], x[..., 2], x[..., 3], dt)


def alf3_feed(x, dt=10.0):
    """AlF3 feed controller u3 in kg/s from ``x[..., 8]``."""
    return _alf3_feed(x[..., 1], x[..., 2], x[..., 3], dt)


def metal_tapping(x, dt=10.0):
    """Metal tapping controller u4 in kg/s from ``x[..., 8]``."""
    return _metal_tapping(x[..., 4], dt)


class Excitation(NamedTuple):
    """Per-sample open-loop signals of ``n`` trajectories, each ``(n_steps, n)`` (time-major)."""

    line_current: np.ndarray  # u2, A
    acd: np.ndarray  # u5, m
    alumina_impulse: np.ndarray  # added to u1, kg/s
    alf3_impulse: np.ndarray  # added to u3, kg/s


def inputs(x, step: int, excitation: Excitation, dt=10.0):
    """Inputs ``u[5, n]`` at sample ``step``: controllers on ``x[8, n]`` plus the excitation.

    Components first (the simulator's time-loop layout, see :func:`alukit.process.cell.rk4_step`).
    """
    _, x2, x3, x4, x5, *_ = x
    return np.array((
        _alumina_feed(x2, x3, x4, dt) + excitation.alumina_impulse[step],
        excitation.line_current[step],
        _alf3_feed(x2, x3, x4, dt) + excitation.alf3_impulse[step],
        _metal_tapping(x5, dt),
        excitation.acd[step],
    ))


def _integers(rng, bounds, size=None):
    return rng.integers(bounds[0], bounds[1] + 1, size=size)


def _event_times(rng, n_steps, hold):
    """Sample indices where a signal changes: first after FIRST_HOLD, then every ``hold``."""
    n_max = n_steps // hold[0] + 2
    gaps = np.concatenate([[_integers(rng, FIRST_HOLD)], _integers(rng, hold, n_max - 1)])
    times = np.cumsum(gaps)
    return times[times < n_steps]


def _held(rng, n_steps, hold, step, base, scale):
    """Piecewise-constant signal: ``base`` until the first event, then base + scale·r per hold."""
    times = _event_times(rng, n_steps, hold)
    values = base + scale * _integers(rng, step, len(times))
    signal = np.full(n_steps, base, dtype=float)
    if len(times):
        which = np.searchsorted(times, np.arange(n_steps), side="right") - 1
        signal[times[0]:] = values[which[times[0]:]]
    return signal


def _impulses(rng, n_steps, hold, size, scale):
    times = _event_times(rng, n_steps, hold)
    signal = np.zeros(n_steps)
    signal[times] = scale * _integers(rng, size, len(times))
    return signal


def random_excitation(rngs, n_steps: int) -> Excitation:
    """APRBS excitation: one independent draw per generator in ``rngs`` (one per trajectory)."""
    per_traj = [
        (
            _held(rng, n_steps, CURRENT_HOLD, CURRENT_STEP, LINE_CURRENT_A, 1.0),
            _held(rng, n_steps, ACD_HOLD, ACD_STEP, ACD_M, 1e-4),
            _impulses(rng, n_steps, ALUMINA_HOLD, ALUMINA_IMPULSE, 1e-2),
            _impulses(rng, n_steps, ALF3_HOLD, ALF3_IMPULSE, 1e-2),
        )
        for rng in rngs
    ]
    return Excitation(*(np.stack(col, axis=1) for col in zip(*per_traj)))


def operational_excitation(n: int, n_steps: int) -> Excitation:
    """The original simulator's operational scenario: smooth current and ACD, no impulses."""
    i = np.arange(n_steps, dtype=float)
    ones = np.ones((1, n))
    zeros = np.zeros((n_steps, n))
    return Excitation(
        (LINE_CURRENT_A + 2000 * np.sin(0.01 * i))[:, None] * ones,
        (ACD_M + 0.005 * np.cos(0.1 * i))[:, None] * ones,
        zeros,
        zeros.copy(),
    )


def initial_states(rngs) -> np.ndarray:
    """Random initial states ``(len(rngs), 8)``; x2, x3 solved from the drawn bath fractions."""
    rows = []
    for rng in rngs:
        x1 = _integers(rng, X1_RANGE)
        c2 = _integers(rng, ALUMINA_PERCENT) / 100
        c3 = _integers(rng, ALF3_PERCENT) / 100
        x4, x5, x6, x7, x8 = (_integers(rng, r) for r in (X4_RANGE, X5_RANGE, X6_RANGE, X7_RANGE, X8_RANGE))
        bath = x4 / (1 - c2 - c3)
        rows.append([x1, c2 * bath, c3 * bath, x4, x5, x6, x7, x8])
    return np.asarray(rows, dtype=float)
