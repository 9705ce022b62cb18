"""The aluminium electrolysis cell: ẋ = f(x, u) and one RK4 step.

Eight states and five inputs (paper Table 1, units as the data uses them):
``x[..., 8]`` and ``u[..., 5]`` with any leading dimensions. Every function here
works unchanged on NumPy arrays and on torch tensors (float32/float64, CPU or
CUDA): the equations use arithmetic operators and the ``exp``/``sqrt`` of a small
per-array-kind table of numbers (:func:`_numbers`). :func:`rhs` and :func:`rk4_step`
also take the components on the first axis (``axis=0``: ``x[8, ...]``), the layout
the simulator's time loop keeps, where every component is one contiguous row.

Non-physical states: the right-hand side divides by the side-ledge mass ``x1``
and by the bath mass ``x2 + x3 + x4``. Where either is ≤ 0 the returned ẋ is
non-finite (inf or NaN) for that sample only; nothing raises, so a batch is never
aborted by one bad member. :func:`is_physical` tells which samples are valid and
:func:`alukit.process.data.simulate` uses it to detect and re-draw such trajectories.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["STATES", "INPUTS", "N_STATES", "N_INPUTS", "COLUMNS", "K3", "K6", "DEPENDENCIES", "liquidus_temperature",
           "cell_voltage", "is_physical", "rhs", "rk4_step"]


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

# Every number of the equations below, by name. On NumPy they are 0-d arrays of the
# input's dtype: an array–array ufunc call skips the Python-scalar promotion that a
# float operand costs (about 40 % of each call on the simulator's 120-element rows).
_NUMBERS = dict(
    # g1 = L0 + L1 p2 − L2 p2^2.2 + L3 p2^1.5 − L4 p1 / (1 + L5 p2 − L6 p2² − L7 p2 p1)
    L0=991.2, L1=1.12, L2=0.13, L3=0.061, L4=7.93, L5=0.0936, L6=0.0017, L7=0.0023, L_EXP=2.2,
    # g2 = exp(C0 − C1 / (273 + x6) − C2 p1)   (C2 p1 = 2.07 c_Al2O3)
    C0=2.496, C1=2068.4, C2=0.0207, KELVIN=273.0,
    # g3 = B0 + B1 u2 + B2 u2² + B3 u2³ + (B4 − B5 (p1 − p_crit)) / (1 + B6 (p1 − p_crit))
    B0=0.531, B1=6.958e-7, B2=-2.51e-12, B3=3.06e-18, B4=0.431, B5=0.1437, B6=7.353, P_CRIT=P_CRIT,
    # g4 = (D0 + D1 u2) / (1 + D2 u2); g5 = D1 g3 g4 u2 / (g2 (1 − g3)); ohmic drop u2 u5 / (OHM g2)
    D0=0.5517, D1=3.8168e-6, D2=8.271e-6, OHM=2620.0,
    K0=K0, K1=K1, K2=K2, K3=K3, K4=K4, K5=K5, K6=K6, K7=K7, K8=K8, K9=K9, K10=K10, K12=K12, K13=K13, K14=K14,
    K17=K17, T0=T0, ALPHA=ALPHA, BETA=BETA,
    K11_K0=K11 * K0, K15_K0=K15 * K0, K9_K15=K9 / K15, K9_RW=K9 / (K14 + R_W0),
    ONE=1.0, PERCENT=100.0,
)


class _Numbers:
    """The constants of :data:`_NUMBERS` as attributes, plus ``exp`` and ``sqrt``, for one array kind."""

    def __init__(self, convert, exp, sqrt):
        self.__dict__.update({name: convert(value) for name, value in _NUMBERS.items()})
        self.exp, self.sqrt = exp, sqrt


_TABLES: dict = {}


def _numbers(a) -> _Numbers:
    """The number table for arrays like ``a``: 0-d arrays of its float dtype (NumPy) or floats (torch)."""
    kind = a.dtype if isinstance(a, np.ndarray) and a.dtype.kind == "f" else type(a)
    table = _TABLES.get(kind)
    if table is None:
        if isinstance(a, np.ndarray):
            dtype = a.dtype if a.dtype.kind == "f" else np.float64
            table = _Numbers(lambda v: np.array(v, dtype=dtype), np.exp, np.sqrt)
        else:  # torch.Tensor: Python floats keep the tensor's dtype
            table = _Numbers(float, lambda t: t.exp(), lambda t: t.sqrt())
        _TABLES[kind] = table
    return table


def _split(a, axis):
    """The components of ``a`` along ``axis`` (0 or −1) as a tuple of arrays."""
    if axis == 0:
        return tuple(a.unbind(0)) if hasattr(a, "unbind") else tuple(a)
    return tuple(a[..., i] for i in range(a.shape[-1]))


def _join(cols, axis):
    """Stack components on ``axis`` (0 or −1); NumPy results stay component-major in memory."""
    if hasattr(cols[0], "unbind"):  # torch.Tensor
        import torch

        return torch.stack(torch.broadcast_tensors(*cols), dim=axis)
    try:
        a = np.array(cols)
    except ValueError:  # components of different shapes (x and u broadcast)
        a = np.array(np.broadcast_arrays(*cols))
    return a if axis == 0 else np.moveaxis(a, 0, -1)


def _check(x, u=None, axis=-1):
    if axis not in (0, -1):
        raise ValueError(f"axis must be 0 (components first) or -1 (components last); got {axis!r}")
    where = f"({N_STATES}, ...)" if axis == 0 else f"(..., {N_STATES})"
    if x.ndim < 1 or x.shape[axis] != N_STATES:
        raise ValueError(f"x must have shape {where}; got {tuple(x.shape)}")
    if u is not None and (u.ndim < 1 or u.shape[axis] != N_INPUTS):
        where = f"({N_INPUTS}, ...)" if axis == 0 else f"(..., {N_INPUTS})"
        raise ValueError(f"u must have shape {where}; got {tuple(u.shape)}")


def _percent(x2, x3, x4, c):
    """Bath mass (kg) and its Al2O3 and AlF3 contents p1, p2 (weight %)."""
    bath = x2 + x3 + x4
    scale = c.PERCENT / bath
    return bath, x2 * scale, x3 * scale


def _liquidus(p1, p2, c):
    """g1, the liquidus temperature in °C."""
    return (
        c.L0
        + p2 * (c.L1 + c.L3 * c.sqrt(p2))
        - c.L2 * p2**c.L_EXP
        - c.L4 * p1 / (c.ONE + p2 * (c.L5 - c.L6 * p2 - c.L7 * p1))
    )


def _conductivity(x6, p1, c):
    """g2, the bath's electrical conductivity."""
    return c.exp(c.C0 - c.C1 / (c.KELVIN + x6) - c.C2 * p1)


def _input_terms(u, c):
    """Parts of f that depend on the inputs only (constant over an RK4 step); ``u`` is the 5 components."""
    u1, u2, u3, u4, u5 = u
    g3_current = c.B0 + u2 * (c.B1 + u2 * (c.B2 + c.B3 * u2))
    bubble = c.D1 * (c.D0 + c.D1 * u2) / (c.ONE + c.D2 * u2) * u2  # D1·g4·u2
    joule = u2 * u2 * u5 / c.OHM  # u2 · u2 u5 / 2620, divided by g2 later
    return u2, g3_current, bubble, joule, u1 - c.K3 * u2, u3 - c.K4 * u1, c.K6 * u2 - u4, c.K5 * u1


def _bubble_coverage(g3_current, p1, c):
    """g3: the current-dependent part plus the alumina-dependent part."""
    d = p1 - c.P_CRIT
    return g3_current + (c.B4 - c.B5 * d) / (c.ONE + c.B6 * d)


def liquidus_temperature(x):
    """Liquidus temperature g1 of the bath in °C; ``x[..., 8]`` → ``[...]``."""
    _check(x)
    c = _numbers(x)
    _, p1, p2 = _percent(x[..., 1], x[..., 2], x[..., 3], c)
    return _liquidus(p1, p2, c)


def cell_voltage(x, u):
    """Cell voltage U = g5 + u2·u5 / (2620·g2) in V; ``x[..., 8]``, ``u[..., 5]`` → ``[...]``."""
    _check(x, u)
    c = _numbers(x)
    _, p1, _ = _percent(x[..., 1], x[..., 2], x[..., 3], c)
    g2 = _conductivity(x[..., 5], p1, c)
    u2, g3_current, bubble, joule, *_ = _input_terms(_split(u, -1), c)
    g3 = _bubble_coverage(g3_current, p1, c)
    return (g3 * bubble / (c.ONE - g3) + joule / u2) / g2


def is_physical(x):
    """True where the side-ledge mass and the bath mass are positive and x is finite; ``[...]``."""
    _check(x)
    ok = (x[..., 0] > 0) & (x[..., 1] + x[..., 2] + x[..., 3] > 0)
    finite = (x == x) & (x.abs() < float("inf")) if hasattr(x, "exp") else np.isfinite(x)
    return ok & finite.all(-1)


def rhs(x, u, *, axis=-1):
    """Time derivative ẋ = f(x, u) in state units per second.

    ``x[..., 8]``, ``u[..., 5]`` → ``[..., 8]``; with ``axis=0`` the components come
    first: ``x[8, ...]``, ``u[5, ...]`` → ``[8, ...]``.
    """
    _check(x, u, axis)
    c = _numbers(x)
    return _join(_f(_split(x, axis), _input_terms(_split(u, axis), c), c), axis)


def _f(x, terms, c):
    """The 8 components of ẋ from the 8 state components ``x`` and :func:`_input_terms`."""
    u2, g3_current, bubble, joule, dx2, dx3, dx5, alumina_melt = terms
    x1, x2, x3, x4, _, x6, x7, x8 = x
    bath, p1, p2 = _percent(x2, x3, x4, c)
    g1 = _liquidus(p1, p2, c)
    g2 = _conductivity(x6, p1, c)
    g3 = _bubble_coverage(g3_current, p1, c)

    inv_ledge = c.ONE / (c.K0 * x1)  # 1 / (k0 x1)
    superheat = x6 - g1
    below_liq = g1 - x7
    below_inv = below_liq * inv_ledge
    wall_flux = c.K9 * (x7 - x8) / (c.K14 + c.K15_K0 * x1)
    q = c.K1 * below_inv - c.K2 * superheat

    # u2·(g5 + u2 u5 / (2620 g2)) with g5 = bubble·g3 / (g2 (1 − g3))
    electric = (u2 * g3 * bubble / (c.ONE - g3) + joule) / g2
    dx6 = (c.ALPHA / bath) * (
        electric
        - c.K9 * (x6 - x7) / (c.K10 + c.K11_K0 * x1)
        - superheat * (c.K7 * superheat - c.K8 * below_inv)
    )
    dx7 = (c.BETA / x1) * (
        c.K9_K15 * below_inv
        - wall_flux
        - below_liq * (c.K12 * superheat - c.K13 * below_inv)
    )
    dx8 = c.K17 * (wall_flux - c.K9_RW * (x8 - c.T0))
    return q, dx2, dx3, alumina_melt - q, dx5, dx6, dx7, dx8


def rk4_step(x, u, dt, *, axis=-1):
    """One classical Runge–Kutta-4 step of length ``dt`` seconds with ``u`` held; returns x(t+dt).

    Shapes as :func:`rhs` (``axis=-1``: ``x[..., 8]``; ``axis=0``: ``x[8, ...]``).
    """
    if not dt > 0:
        raise ValueError(f"dt must be > 0 seconds; got {dt}")
    _check(x, u, axis)
    c = _numbers(x)
    terms = _input_terms(_split(u, axis), c)

    def f(y):
        return _join(_f(_split(y, axis), terms, c), axis)

    k1 = f(x)
    k2 = f(x + (0.5 * dt) * k1)
    k3 = f(x + (0.5 * dt) * k2)
    k4 = f(x + dt * k3)
    return x + (dt / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
