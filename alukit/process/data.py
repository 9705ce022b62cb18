"""Trajectories of the cell, training pairs and normalisation.

A trajectory is a float64 array ``(n_steps, 13)`` with rows ``[x_i, u_i]`` (states
first, :data:`alukit.process.cell.COLUMNS`), sampled every ``dt`` seconds:
``x_{i+1} = RK4(x_i, u_i, dt)`` and ``u_{i+1}`` is computed from ``x_{i+1}`` by the
controllers plus the excitation (:mod:`alukit.process.excitation`).
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from alukit import cache
from alukit.codeversion import code_version
from alukit import profiles
from alukit.profiles import Profile
from alukit.process import cell, excitation

__all__ = ["generators", "simulate", "Datasets", "SPLITS", "datasets", "profile_datasets", "derivative_pairs",
           "Normalizer"]

MAX_REDRAWS = 20


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")


def _check_args(n_traj, n_steps, dt, mode):
    _positive_int("n_traj", n_traj, 1)
    _positive_int("n_steps", n_steps, 2)
    if not isinstance(dt, (int, float)) or isinstance(dt, bool) or not dt > 0:
        raise ValueError(f"dt must be a number of seconds > 0; got {dt!r}")
    if mode not in excitation.MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, excitation.MODES))}; got {mode!r}")


def generators(seed, first: int, n: int) -> list[np.random.Generator]:
    """Independent NumPy generators of trajectories ``first .. first+n−1`` (``seed``: int or tuple)."""
    entropy = list(seed) if isinstance(seed, (tuple, list)) else seed
    return [np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(k,))) for k in range(first, first + n)]


def _integrate(x0, exc: excitation.Excitation, n_steps: int, dt: float) -> np.ndarray:
    """One loop over time, arrays over trajectories: ``(n, n_steps, 13)``."""
    out = np.empty((n_steps, cell.N_STATES + cell.N_INPUTS, len(x0)))
    x = np.ascontiguousarray(x0.T)  # components first: each x[i] a contiguous row
    with np.errstate(all="ignore"):
        for i in range(n_steps):
            u = excitation.inputs(x, i, exc, dt)
            out[i, : cell.N_STATES] = x
            out[i, cell.N_STATES :] = u
            if i + 1 < n_steps:
                x = cell.rk4_step(x, u, dt, axis=0)
    return np.ascontiguousarray(out.transpose(2, 0, 1))


def _physical(traj: np.ndarray) -> np.ndarray:
    """``(n,)``: True where every sample of a trajectory is finite and physical."""
    with np.errstate(all="ignore"):
        return cell.is_physical(traj[..., : cell.N_STATES]).all(-1) & np.isfinite(traj).all((-1, -2))


def simulate(n_traj, n_steps=5000, seed=0, dt=10.0, mode="random", *, report=False):
    """Simulate ``n_traj`` trajectories of the cell.

    Returns float64 ``(n_traj, n_steps, 13)``, columns ``[x1..x8, u1..u5]``. Trajectory
    k draws from its own generator ``SeedSequence(seed, spawn_key=(k,))``, so it does
    not depend on ``n_traj``. ``seed`` is an int or a tuple of ints. A trajectory that
    becomes non-finite or non-physical (side-ledge or bath mass ≤ 0) is simulated
    again with fresh excitation from its own generator; the number of such re-draws
    is warned about, and returned as ``(data, {"redrawn": count})`` when ``report``.
    """
    _check_args(n_traj, n_steps, dt, mode)
    rngs = generators(seed, 0, n_traj)
    x0 = excitation.initial_states(rngs)
    if mode == "operational":
        data = _integrate(x0, excitation.operational_excitation(n_traj, n_steps), n_steps, dt)
        bad = np.flatnonzero(~_physical(data))
        if len(bad):
            raise RuntimeError(f"operational mode produced non-physical trajectories {bad.tolist()} (seed {seed})")
        return (data, {"redrawn": 0}) if report else data
    data = _integrate(x0, excitation.random_excitation(rngs, n_steps), n_steps, dt)
    redrawn = 0
    for _ in range(MAX_REDRAWS):
        bad = np.flatnonzero(~_physical(data))
        if not len(bad):
            break
        redrawn += len(bad)
        exc = excitation.random_excitation([rngs[k] for k in bad], n_steps)
        data[bad] = _integrate(x0[bad], exc, n_steps, dt)
    else:
        raise RuntimeError(f"trajectories {bad.tolist()} stayed non-physical after {MAX_REDRAWS} re-draws (seed {seed})")
    if redrawn:
        warnings.warn(f"simulate: {redrawn} non-physical trajectory draw(s) re-drawn with fresh excitation", stacklevel=2)
    return (data, {"redrawn": redrawn}) if report else data


class Datasets(NamedTuple):
    """Train, validation and test trajectories, each ``(n_traj, n_steps, 13)``."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


SPLITS = Datasets._fields


def datasets(n_train=40, n_val=40, n_test=40, n_steps=5000, seed=0, dt=10.0) -> Datasets:
    """Train / val / test sets from disjoint seeds ``(seed, 0)``, ``(seed, 1)``, ``(seed, 2)``.

    Each split is cached on disk as ``.npz`` (key: arguments and generator code
    version); trajectory k of a split is the same whatever the split's size.
    """
    sizes = dict(zip(SPLITS, (n_train, n_val, n_test)))
    for name, n in sizes.items():
        _positive_int(f"n_{name}", n)
    _check_args(1, n_steps, dt, "random")
    splits = []
    for index, (name, n) in enumerate(sizes.items()):
        entry = cache.key("traj", split=index, n=n, n_steps=n_steps, seed=seed, dt=float(dt), version=_VERSION)
        arrays = cache.cached_arrays(entry, lambda: {"data": simulate(n, n_steps, (seed, index), dt)})
        splits.append(arrays["data"])
    return Datasets(*splits)


# the version of the code that makes a split: the simulator, the cell, the excitation and the split seeds
_VERSION = code_version(simulate, datasets)


def profile_datasets(profile: Profile | str) -> Datasets:
    """The data of a run profile (a :class:`Profile`, or a name or YAML path, loaded here): its ``n_train``,
    ``n_val``, ``n_test`` trajectories of ``n_steps`` samples."""
    profile = profiles.load(profile)
    return datasets(profile.n_train, profile.n_val, profile.n_test, profile.n_steps, profile.seed, profile.dt)


def derivative_pairs(data, dt=10.0):
    """Training pairs from trajectories ``(n_traj, n_steps, 13)``.

    Returns ``(features, targets)``: features ``(n_traj·(n_steps−1), 13)`` are the rows
    ``[x_t, u_t]``; targets ``(…, 8)`` are finite differences ``(x_{t+1} − x_t) / dt``.
    """
    data = np.asarray(data)
    if data.ndim != 3 or data.shape[-1] != cell.N_STATES + cell.N_INPUTS or data.shape[1] < 2:
        raise ValueError(f"data must have shape (n_traj, n_steps >= 2, 13); got {data.shape}")
    if not dt > 0:
        raise ValueError(f"dt must be > 0 seconds; got {dt!r}")
    features = data[:, :-1].reshape(-1, data.shape[-1])
    targets = (np.diff(data[:, :, : cell.N_STATES], axis=1) / dt).reshape(-1, cell.N_STATES)
    return features, targets


class Normalizer:
    """Per-column z-scoring: ``(a − mean) / std`` with the unbiased std of the fitted set.

    A column that is constant in the fitted set gets std 1 (centred, not scaled).

    ``mean`` and ``std`` are float64 arrays ``(C,)``; ``transform`` and ``inverse`` take
    NumPy arrays or torch tensors ``(..., C)`` and return the same kind (dtype and
    device of the input).
    """

    def __init__(self, mean, std):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.std = np.asarray(std, dtype=np.float64)
        if self.mean.shape != self.std.shape or self.mean.ndim != 1:
            raise ValueError(f"mean and std must be 1-D of equal length; got {self.mean.shape}, {self.std.shape}")
        if not (self.std >= 0).all():
            raise ValueError(f"std must be >= 0 in every column; got {self.std}")
        self.std = np.where(self.std > 1e-12 * np.maximum(np.abs(self.mean), 1.0), self.std, 1.0)

    @classmethod
    def fit(cls, a) -> "Normalizer":
        """Fit on ``a[..., C]`` (every leading index is a sample)."""
        flat = np.asarray(a, dtype=np.float64).reshape(-1, np.shape(a)[-1])
        if len(flat) < 2:
            raise ValueError("Normalizer.fit needs at least 2 samples")
        return cls(flat.mean(0), flat.std(0, ddof=1))

    def _like(self, a):
        if hasattr(a, "exp"):  # torch.Tensor
            import torch

            return (torch.as_tensor(self.mean, dtype=a.dtype, device=a.device),
                    torch.as_tensor(self.std, dtype=a.dtype, device=a.device))
        return self.mean, self.std

    def transform(self, a):
        mean, std = self._like(a)
        return (a - mean) / std

    def inverse(self, a):
        mean, std = self._like(a)
        return a * std + mean

    def to_dict(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, d) -> "Normalizer":
        return cls(d["mean"], d["std"])

    def __repr__(self):
        return f"Normalizer(columns={len(self.mean)})"
