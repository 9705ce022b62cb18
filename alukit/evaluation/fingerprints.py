"""What a network's weights say about how it was trained: the fingerprints of chapter 6's defect 10.

A weight that no gradient reaches keeps the value it was given. Two such sets are read here:

* the outgoing weights of **dead units**, hidden ReLU units that are never active on the
  inputs (nothing flows back through them, so their outgoing weights keep their initial
  values, or those of their last regrowth): U(0, 1) initial weights leave them all
  positive with median 0.5, He-normal ones half positive with median 0;
* **small non-zero weights** below DSR's threshold H: a reallocation prunes every
  non-zero weight under H, so non-zeros found below it were regrown after the last prune
  and never trained away from their regrowth values.

The spread of the non-zero weights (their RMS and largest magnitude) tells a network that
trained for long from one whose weights kept their initial spread.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from alukit.evaluation import stepper
from alukit.process import data

__all__ = ["FINGERPRINTS", "weight_fingerprints", "dead_units", "training_inputs"]

N_INPUTS = 10_000

FINGERPRINTS = {
    "zeros [%]": "share of all weights exactly zero",
    "RMS of non-zeros": "root mean square of the non-zero weights, all layers",
    "largest |w|": "largest weight magnitude",
    "dead units [%]": "share of hidden units never active on the inputs",
    "dead units' weights > 0 [%]": "share of the dead units' non-zero outgoing weights that are positive",
    "dead units' weights, median": "median of the dead units' non-zero outgoing weights",
    "non-zeros below H [%]": "share of the non-zero weights with |w| < H, the model's final DSR threshold",
}


def training_inputs(sets: data.Datasets, dt: float, n: int = N_INPUTS) -> np.ndarray:
    """``(≤ n, 13)`` training features (evenly spaced over the training set) normalised with the faithful
    variant's feature statistics, the inputs every model is read on here."""
    features, _ = data.derivative_pairs(sets.train, dt)
    x_norm, _ = stepper.normalizers("faithful", sets.train, sets.test, dt)
    step = max(1, len(features) // n)
    return x_norm.transform(features[::step][:n])


def _as_tensors(arrays) -> list[torch.Tensor]:
    return [torch.as_tensor(np.asarray(a), dtype=torch.float64) for a in arrays]


def dead_units(weights: Sequence, inputs, biases: Sequence | None = None) -> list[torch.Tensor]:
    """Per hidden layer, ``(E, width)`` bool: the units of each member never active (ReLU output 0) on ``inputs``.

    ``weights``: per layer ``(E, a, b)`` (input-major, as :mod:`alukit.training.nets` stores them);
    ``biases``: per layer ``(E, b)`` / ``(E, 1, b)`` or None; ``inputs`` ``(N, a_0)``, normalised as the
    model sees them.
    """
    ws = _as_tensors(weights)
    bs = [None if b is None else torch.as_tensor(np.asarray(b), dtype=torch.float64)
          for b in (biases if biases is not None else [None] * len(ws))]
    h = torch.as_tensor(np.asarray(inputs), dtype=torch.float64).unsqueeze(0).expand(ws[0].shape[0], -1, -1)
    dead = []
    for w, b in zip(ws[:-1], bs[:-1]):
        h = h @ w
        if b is not None:
            h = h + b.reshape(b.shape[0], 1, -1)
        h = torch.relu(h)
        dead.append((h > 0).sum(1) == 0)
    return dead


def weight_fingerprints(weights: Sequence, inputs, h=None, biases: Sequence | None = None) -> pd.DataFrame:
    """One row per member, the columns of :data:`FINGERPRINTS` (NaN where a member has no dead unit; the
    last column only with ``h``).

    ``weights`` per layer ``(E, a, b)``; ``inputs`` ``(N, a_0)`` as the model sees them; ``h`` ``(E,)`` each
    member's final DSR threshold; ``biases`` as :func:`dead_units`.
    """
    ws = _as_tensors(weights)
    dead = dead_units(ws, inputs, biases)
    rows = []
    for e in range(ws[0].shape[0]):
        flat = torch.cat([w[e].reshape(-1) for w in ws])
        nz = flat[flat != 0]
        outgoing = torch.cat([ws[i + 1][e][d[e]].reshape(-1) for i, d in enumerate(dead)])
        outgoing = outgoing[outgoing != 0]
        n_dead = sum(int(d[e].sum()) for d in dead)
        row = {"zeros [%]": 100 * float((flat == 0).double().mean()),
               "RMS of non-zeros": float(nz.square().mean().sqrt()) if len(nz) else np.nan,
               "largest |w|": float(flat.abs().max()),
               "dead units [%]": 100 * n_dead / sum(d.shape[1] for d in dead),
               "dead units' weights > 0 [%]": 100 * float((outgoing > 0).double().mean()) if len(outgoing) else np.nan,
               "dead units' weights, median": float(outgoing.median()) if len(outgoing) else np.nan}
        if h is not None:
            row["non-zeros below H [%]"] = 100 * float((nz.abs() < float(np.asarray(h)[e])).double().mean())
        rows.append(row)
    return pd.DataFrame(rows)
