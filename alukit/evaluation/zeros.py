"""How sparse an ensemble's weights are: the share of weights exactly zero, and of weights near zero.

Layers are ``(E, n_in, n_out)`` arrays or tensors (biases excluded); every share is per member, ``(E,)``.
"""
from __future__ import annotations

import numpy as np

__all__ = ["SMALL", "zero_fraction", "small_fraction"]

SMALL = 1e-3  # |w| below this counts as "small" (near zero): Adam's step size, the sweeps' `small` column


def _share(masks) -> np.ndarray:
    """Share of True entries per member over all ``(E, …)`` boolean ``masks`` together → ``(E,)`` float64."""
    hits = sum(np.asarray(m.reshape(m.shape[0], -1).sum(1), dtype=np.float64) for m in masks)
    return hits / sum(m[0].numel() if hasattr(m, "numel") else m[0].size for m in masks)


def zero_fraction(weights) -> np.ndarray:
    """Fraction of weights exactly zero per member: a list of ``(E, n_in, n_out)`` layers → ``(E,)``."""
    return _share([w == 0 for w in weights])


def small_fraction(weights, tol: float = SMALL) -> np.ndarray:
    """Fraction of weights with ``|w| < tol`` per member: a list of ``(E, n_in, n_out)`` layers → ``(E,)``."""
    return _share([abs(w) < tol for w in weights])
