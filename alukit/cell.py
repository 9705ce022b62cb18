"""The aluminium electrolysis cell: ẋ = f(x, u) and one RK4 step.

Eight states and five inputs (paper Table 1, units as the data uses them):
``x[..., 8]`` and ``u[..., 5]`` with any leading dimensions. Every function here
works unchanged on NumPy arrays and on torch tensors (float32/float64, CPU or
CUDA): only arithmetic operators and a ``.exp()``/``np.exp`` shim are used.

Non-physical states: the right-hand side divides by the side-ledge mass ``x1``
and by the bath mass ``x2 + x3 + x4``. Where either is ≤ 0 the returned ẋ is
non-finite (inf or NaN) for that sample only; nothing raises, so a batch is never
aborted by one bad member. :func:`is_physical` tells which samples are valid and
:func:`alukit.data.simulate` uses it to detect and re-draw such trajectories.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Variable(NamedTuple):
    symbol: str
    name: str
    unit: str
    description: str


STATES: tuple[Variable, ...] = (
    Variable("x1", "side ledge mass", "kg", "mass of frozen bath on the side walls"),
    Variable("x2", "Al2O3 mass", "kg", "mass of dissolved alumina in the bath"),
    Variable("x3", "AlF3 mass", "kg", "mass of aluminium fluoride in the bath"),
    Variable("x4", "Na3AlF6 mass", "kg", "mass of cryolite in the bath"),
    Variable("x5", "metal mass", "kg", "mass of the liquid aluminium pad"),
    Variable("x6", "bath temperature", "°C", "temperature of the electrolyte bath"),
    Variable("x7", "side ledge temperature", "°C", "temperature of the side ledge"),
    Variable("x8", "wall temperature", "°C", "temperature of the cell wall"),
)
INPUTS: tuple[Variable, ...] = (
    Variable("u1", "Al2O3 feed", "kg/s", "alumina fed to the bath"),
    Variable("u2", "line current", "A", "current through the cell"),
    Variable("u3", "AlF3 feed", "kg/s", "aluminium fluoride fed to the bath"),
    Variable("u4", "metal tapping", "kg/s", "liquid metal siphoned out"),
    Variable("u5", "anode–cathode distance", "m", "distance from anode to metal pad"),
)
N_STATES, N_INPUTS = len(STATES), len(INPUTS)
COLUMNS: tuple[str, ...] = tuple(v.symbol for v in STATES + INPUTS)

# Physical parameters (aluminium-cell-model.md, "Constants").
_K_SL, _K_WALL, _X_WALL, _H_BSL, _H_W0 = 2.5, 6.5, 0.1, 1200.0, 25.0
_A_SL, _DH_FUS, _CP_LIQ, _CP_S = 17.92, 119495.0, 1881.0, 1320.0

K0 = 2e-5
K1 = 2 * _K_SL * _A_SL / _DH_FUS
K2 = _H_BSL * _A_SL / _DH_FUS
K3, K4, K5, K6 = 1.7e-7, 0.02, 0.03, 4.43e-8
K7, K8 = K2 * _CP_LIQ, K1 * _CP_LIQ
K9 = _A_SL
K10 = 1 / _H_BSL
K11 = 1 / (2 * _K_SL)
K12, K13 = K2 * _CP_S, K1 * _CP_S
K14 = _X_WALL / (2 * _K_WALL)
K15 = 1 / (2 * _K_SL)
K17 = 6e-7
T0 = 35.0
R_W0 = 1 / _H_W0
ALPHA, BETA = 5.66e-4, 7.58e-4
P_CRIT = 2.2

# Which of the 13 columns [x1..x8, u1..u5] each ẋ_i reads (sparse-dnn-chapter.md).
DEPENDENCIES = np.array(
    [
        # x1 x2 x3 x4 x5 x6 x7 x8 u1 u2 u3 u4 u5
        [1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0],
        [1, 1, 1, 1, 0, 1, 1, 0, 1, 0, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0],
        [1, 1, 1, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1],
        [1, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0],
    ],
    dtype=bool,
)
DEPENDENCIES.setflags(write=False)


def _exp(a):
    return a.exp() if hasattr(a, "exp") else np.exp(a)


def _stack(cols):
    """Stack columns on a new last axis, stored column-major so ``a[..., i]`` stays contiguous."""
    if hasattr(cols[0], "exp"):  # torch.Tensor
        import torch

        return torch.stack(torch.broadcast_tensors(*cols), dim=0).movedim(0, -1)
    shape = np.shape(cols[0])
    if any(np.shape(c) != shape for c in cols):
        cols = np.broadcast_arrays(*cols)
    return np.moveaxis(np.array(cols), 0, -1)


def _check(x, u=None):
    if x.shape[-1:] != (N_STATES,):
        raise ValueError(f"x must have shape (..., {N_STATES}); got {tuple(x.shape)}")
    if u is not None and u.shape[-1:] != (N_INPUTS,):
        raise ValueError(f"u must have shape (..., {N_INPUTS}); got {tuple(u.shape)}")


def _percent(x):
    """Bath mass (kg) and its Al2O3 and AlF3 contents p1, p2 (weight %)."""
    bath = x[..., 1] + x[..., 2] + x[..., 3]
    scale = 100 / bath
    return bath, x[..., 1] * scale, x[..., 2] * scale


def _liquidus(p1, p2):
    """g1 = 991.2 + 1.12 p2 − 0.13 p2^2.2 + 0.061 p2^1.5 − 7.93 p1 / (1 + 0.0936 p2 − 0.0017 p2² − 0.0023 p2 p1)."""
    return (
        991.2
        + p2 * (1.12 + 0.061 * p2**0.5)
        - 0.13 * p2**2.2
        - 7.93 * p1 / (1 + p2 * (0.0936 - 0.0017 * p2 - 0.0023 * p1))
    )


def _conductivity(x6, p1):
    return _exp(2.496 - 2068.4 / (273 + x6) - 0.0207 * p1)


def _input_terms(u):
    """Parts of f that depend on the inputs only (constant over an RK4 step)."""
    u1, u2, u3, u4, u5 = (u[..., i] for i in range(N_INPUTS))
    g3_current = 0.531 + u2 * (6.958e-7 + u2 * (-2.51e-12 + 3.06e-18 * u2))
    bubble = 3.8168e-6 * (0.5517 + 3.8168e-6 * u2) / (1 + 8.271e-6 * u2) * u2  # 3.8168e-6·g4·u2
    joule = u2 * u2 * u5 / 2620  # u2 · u2 u5 / 2620, divided by g2 later
    return u2, g3_current, bubble, joule, u1 - K3 * u2, u3 - K4 * u1, K6 * u2 - u4, K5 * u1


def _bubble_coverage(g3_current, p1):
    """g3: the current-dependent part plus the alumina-dependent part."""
    d = p1 - P_CRIT
    return g3_current + (0.431 - 0.1437 * d) / (1 + 7.353 * d)


def liquidus_temperature(x):
    """Liquidus temperature g1 of the bath in °C; ``x[..., 8]`` → ``[...]``."""
    _check(x)
    _, p1, p2 = _percent(x)
    return _liquidus(p1, p2)


def cell_voltage(x, u):
    """Cell voltage U = g5 + u2·u5 / (2620·g2) in V; ``x[..., 8]``, ``u[..., 5]`` → ``[...]``."""
    _check(x, u)
    _, p1, _ = _percent(x)
    g2 = _conductivity(x[..., 5], p1)
    u2, g3_current, bubble, joule, *_ = _input_terms(u)
    g3 = _bubble_coverage(g3_current, p1)
    return (g3 * bubble / (1 - g3) + joule / u2) / g2


def is_physical(x):
    """True where the side-ledge mass and the bath mass are positive and x is finite; ``[...]``."""
    _check(x)
    ok = (x[..., 0] > 0) & (x[..., 1] + x[..., 2] + x[..., 3] > 0)
    finite = (x == x) & (x.abs() < float("inf")) if hasattr(x, "exp") else np.isfinite(x)
    return ok & finite.all(-1)


def rhs(x, u):
    """Time derivative ẋ = f(x, u) in state units per second; ``[..., 8]``, ``[..., 5]`` → ``[..., 8]``."""
    _check(x, u)
    return _rhs(x, _input_terms(u))


def _rhs(x, terms):
    u2, g3_current, bubble, joule, dx2, dx3, dx5, alumina_melt = terms
    x1, x6, x7, x8 = x[..., 0], x[..., 5], x[..., 6], x[..., 7]
    bath, p1, p2 = _percent(x)
    g1 = _liquidus(p1, p2)
    g2 = _conductivity(x6, p1)
    g3 = _bubble_coverage(g3_current, p1)

    inv_ledge = 1 / (K0 * x1)  # 1 / (k0 x1)
    superheat = x6 - g1
    below_liq = g1 - x7
    wall_flux = K9 * (x7 - x8) / (K14 + K15 * K0 * x1)
    q = K1 * below_liq * inv_ledge - K2 * superheat
    superheat_below = superheat * below_liq

    # u2·(g5 + u2 u5 / (2620 g2)) with g5 = bubble·g3 / (g2 (1 − g3))
    electric = (u2 * g3 * bubble / (1 - g3) + joule) / g2
    dx6 = (ALPHA / bath) * (
        electric
        - K9 * (x6 - x7) / (K10 + K11 * K0 * x1)
        - (K7 * superheat * superheat - K8 * superheat_below * inv_ledge)
    )
    dx7 = (BETA / x1) * (
        (K9 / K15) * below_liq * inv_ledge
        - wall_flux
        - (K12 * superheat_below - K13 * below_liq * below_liq * inv_ledge)
    )
    dx8 = K17 * (wall_flux - (K9 / (K14 + R_W0)) * (x8 - T0))
    return _stack([q, dx2, dx3, alumina_melt - q, dx5, dx6, dx7, dx8])


def rk4_step(x, u, dt):
    """One classical Runge–Kutta-4 step of length ``dt`` seconds with ``u`` held; returns x(t+dt)."""
    if not dt > 0:
        raise ValueError(f"dt must be > 0 seconds; got {dt}")
    _check(x, u)
    terms = _input_terms(u)
    k1 = _rhs(x, terms)
    k2 = _rhs(x + (0.5 * dt) * k1, terms)
    k3 = _rhs(x + (0.5 * dt) * k2, terms)
    k4 = _rhs(x + dt * k3, terms)
    return x + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
