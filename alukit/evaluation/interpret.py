"""A network's input → output structure, scored against the cell's true dependency graph.

Influence
    :func:`influence`: the path product ``|W_L| · … · |W_1|`` of an MLP, ``(8, 13)``
    (outputs ẋ1..ẋ8 × inputs x1..x8, u1..u5), or ``(E, 8, 13)`` for an ensemble. Entry
    ``[i, j]`` sums, over every path from input j to output i, the product of the
    absolute weights on it: with ReLU (slope 0 or 1) it bounds ``|∂y_i/∂z_j|`` at every
    input, and it is exactly 0 when no path survives. :func:`jacobian_influence` is the
    second reading: the mean ``|∂y_i/∂z_j|`` over data. Both are in the network's
    normalised units (z-scored inputs and targets).

Normalisation before thresholding
    :func:`normalise` divides each output row by its largest entry, so every row's
    strongest input scores 1 and a threshold is a *fraction of the strongest input of
    that derivative*: independent of the units, of the weights' overall scale and of how
    large each derivative is. An all-zero row stays zero (no edges). An edge i ← j is
    predicted when the normalised influence is ``> threshold`` (default
    :data:`THRESHOLD` = 0.1), so ``threshold=0`` keeps every non-zero path.

Scores
    :func:`edge_scores`: precision, recall and F1 of the predicted edges against
    ``truth`` (default :data:`alukit.process.cell.DEPENDENCIES`, the single source of the true
    table), and ``auprc``: the threshold-free area under the precision–recall curve
    (average precision over every threshold: Σ_k (R_k − R_{k−1}) P_k, ties entered
    together). A ranking that puts every true edge first scores 1; a constant influence
    scores the true edge density. Precision of a model that predicts no edge is 0.
    :func:`consistency`: mean pairwise Pearson correlation of the models' normalised
    influence matrices and mean pairwise Jaccard overlap of their edge sets (two empty
    edge sets overlap fully: 1).

Bad shapes or thresholds raise ``ValueError`` naming the argument and what is allowed.
"""
from __future__ import annotations

import numpy as np
import torch

from alukit.process import cell
from alukit.training.nets import Ensemble
from alukit.evaluation.stepper import StackedMLP

__all__ = ["THRESHOLD", "SCORES", "influence", "jacobian_influence", "edges", "edge_scores", "pairwise",
           "median_model"]

N_IN = cell.N_STATES + cell.N_INPUTS
N_OUT = cell.N_STATES
THRESHOLD = 0.1
SCORES = ("precision", "recall", "f1", "auprc")


# ---------------------------------------------------------------- influence

def _layers(weights) -> tuple[list[np.ndarray], bool]:
    """Weights as float64 arrays ``(E, n_in, n_out)`` and whether an ensemble was given."""
    if isinstance(weights, Ensemble):
        return [w.double().numpy() for w in weights.weights()], True
    if isinstance(weights, StackedMLP):
        return [w.double().numpy() for w, _ in weights.layers], True
    if isinstance(weights, (np.ndarray, torch.Tensor)) or not hasattr(weights, "__len__") or len(weights) == 0:
        raise ValueError("weights must be a non-empty sequence of layer weight arrays (n_in, n_out) "
                         "or (E, n_in, n_out), an alukit Ensemble or a StackedMLP")
    arrays = [w.detach().double().numpy() if isinstance(w, torch.Tensor) else np.asarray(w, np.float64)
              for w in weights]
    ndims = {a.ndim for a in arrays}
    if len(ndims) != 1 or ndims.pop() not in (2, 3):
        raise ValueError(f"weights must all be 2-D (n_in, n_out) or all 3-D (E, n_in, n_out); "
                         f"got shapes {[a.shape for a in arrays]}")
    ensemble = arrays[0].ndim == 3
    return (arrays if ensemble else [a[None] for a in arrays]), ensemble


def _check_chain(layers: list[np.ndarray]) -> None:
    shapes = [a.shape for a in layers]
    if len({s[0] for s in shapes}) != 1:
        raise ValueError(f"weights must share the ensemble size E (first axis); got shapes {shapes}")
    if any(a[2] != b[1] for a, b in zip(shapes, shapes[1:])):
        raise ValueError(f"weights must chain, layer l's n_out = layer l+1's n_in (layout (n_in, n_out), "
                         f"forward h @ W); got shapes {shapes}")
    if shapes[0][1] != N_IN or shapes[-1][2] != N_OUT:
        raise ValueError(f"weights must map {N_IN} inputs to {N_OUT} outputs (first layer (…, {N_IN}, ·), last "
                         f"(…, ·, {N_OUT})); got shapes {shapes}")


def influence(weights) -> np.ndarray:
    """Path-product influence ``|W_L| · … · |W_1|`` (outputs × inputs), float64.

    ``weights``: the layers of one network, each ``(n_in, n_out)`` in the engine's layout
    (forward ``h @ W``), → ``(8, 13)``; or of an ensemble, each ``(E, n_in, n_out)``, →
    ``(E, 8, 13)``. An :class:`alukit.training.nets.Ensemble` or :class:`alukit.evaluation.stepper.StackedMLP`
    is read as its effective weights (→ ``(E, 8, 13)``). Biases do not enter.
    """
    layers, ensemble = _layers(weights)
    _check_chain(layers)
    prod = np.abs(layers[0])
    for w in layers[1:]:
        prod = prod @ np.abs(w)  # (E, 13, n_out of this layer)
    out = np.ascontiguousarray(prod.transpose(0, 2, 1))
    return out if ensemble else out[0]


def jacobian_influence(model, data, chunk: int = 2048) -> np.ndarray:
    """Mean absolute input → output Jacobian over ``data``: ``(E, 8, 13)`` (``(8, 13)`` for one network).

    ``model``: an :class:`alukit.training.nets.Ensemble`, a :class:`~alukit.evaluation.stepper.StackedMLP`
    (ReLU between layers) or one ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU``.
    ``data``: normalised features ``(N, 13)``, shared by every member. The Jacobian of a
    ReLU network at z is ``W_1 D_1(z) W_2 … D_{L−1}(z) W_L`` with D the active units; it is
    built layer by layer for ``chunk`` samples at a time (no autograd).
    """
    single = isinstance(model, torch.nn.Sequential)
    if single:
        model = Ensemble.from_members([model])
    if isinstance(model, Ensemble):
        model = StackedMLP.from_ensemble(model)
    if not isinstance(model, StackedMLP):
        raise ValueError(f"model must be an alukit Ensemble, a StackedMLP or an nn.Sequential; "
                         f"got {type(model).__name__}")
    _check_chain([w.numpy() for w, _ in model.layers])
    z = np.asarray(data, np.float64)
    if z.ndim != 2 or z.shape[1] != N_IN or len(z) == 0:
        raise ValueError(f"data must be normalised features (N >= 1, {N_IN}); got {z.shape}")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"chunk must be a positive integer; got {chunk!r}")
    layers = [(w.double(), None if b is None else b.double()) for w, b in model.layers]
    E = model.n_models
    total = torch.zeros((E, N_IN, N_OUT), dtype=torch.float64)
    with torch.no_grad():
        for a in range(0, len(z), chunk):
            h = torch.as_tensor(z[a:a + chunk]).expand(E, -1, -1)
            B = h.shape[1]
            grad = None  # (E, B·13, width): ∂h/∂z per sample, transposed, as one batched matrix
            for k, (w, b) in enumerate(layers):
                h = torch.bmm(h, w) if b is None else torch.baddbmm(b, h, w)
                grad = w.repeat(1, B, 1) if grad is None else torch.bmm(grad, w)
                if k < len(layers) - 1:
                    active = (h > 0).to(h.dtype)
                    h = h * active
                    grad = (grad.view(E, B, N_IN, -1) * active[:, :, None, :]).view(E, B * N_IN, -1)
            total += grad.view(E, B, N_IN, N_OUT).abs().sum(1)
    out = (total / len(z)).transpose(1, 2).numpy()
    return out[0] if single else out


# ---------------------------------------------------------------- scores

def _influences(values, name: str = "influence") -> tuple[np.ndarray, bool]:
    a = np.asarray(values, np.float64)
    if a.shape[-2:] != (N_OUT, N_IN) or a.ndim not in (2, 3):
        raise ValueError(f"{name} must be ({N_OUT}, {N_IN}) or (E, {N_OUT}, {N_IN}); got {a.shape}")
    if not np.isfinite(a).all() or (a < 0).any():
        raise ValueError(f"{name} must be finite and >= 0")
    return (a if a.ndim == 3 else a[None]), a.ndim == 3


def _threshold(threshold) -> float:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)) or not 0 <= threshold < 1:
        raise ValueError(f"threshold must be a number in [0, 1) (a fraction of each row's largest influence); "
                         f"got {threshold!r}")
    return float(threshold)


def _columns(inputs) -> np.ndarray:
    """Indices of the scored input columns (names such as ``"x5"`` or indices 0..12); all if None."""
    if inputs is None:
        return np.arange(N_IN)
    names = list(cell.COLUMNS)
    out = []
    for c in inputs:
        if isinstance(c, str) and c in names:
            out.append(names.index(c))
        elif isinstance(c, (int, np.integer)) and not isinstance(c, bool) and 0 <= c < N_IN:
            out.append(int(c))
        else:
            raise ValueError(f"inputs must be column names ({', '.join(names)}) or indices 0..{N_IN - 1}; got {c!r}")
    if not out or len(set(out)) != len(out):
        raise ValueError(f"inputs must be a non-empty list of distinct columns; got {list(inputs)!r}")
    return np.array(sorted(out))


def normalise(values) -> np.ndarray:
    """Each output row divided by its largest entry (an all-zero row stays 0): ``(…, 8, 13)`` in [0, 1]."""
    a, ensemble = _influences(values)
    top = a.max(-1, keepdims=True)
    out = np.divide(a, top, out=np.zeros_like(a), where=top > 0)
    return out if ensemble else out[0]


def edges(values, threshold: float = THRESHOLD) -> np.ndarray:
    """Predicted edges, bool ``(…, 8, 13)``: normalised influence ``> threshold``."""
    return normalise(values) > _threshold(threshold)


def _truth(truth) -> np.ndarray:
    t = np.asarray(cell.DEPENDENCIES if truth is None else truth)
    if t.shape != (N_OUT, N_IN) or not np.isin(t, (0, 1)).all():
        raise ValueError(f"truth must be a ({N_OUT}, {N_IN}) boolean table; got shape {t.shape}")
    return t.astype(bool)


def average_precision(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Area under the precision–recall curve ``(E,)`` of ranking ``scores`` ``(E, K)`` against ``truth`` ``(K,)`` (bool).

    Every distinct score is a threshold (predict ``score >= t``): tied entries enter together.
    """
    if not truth.any():
        raise ValueError("truth must contain at least one true edge among the scored columns")
    above = scores[:, None, :] >= scores[:, :, None]  # (E, K, K): [e, k, m] = m ranked at or above k
    precision = (above & truth).sum(-1) / above.sum(-1)
    return (precision * truth).sum(-1) / truth.sum()


def edge_scores(values, truth=None, threshold: float = THRESHOLD, inputs=None) -> dict:
    """Precision, recall, F1 (at ``threshold``) and the threshold-free ``auprc`` of the influence graph.

    ``values``: influence ``(8, 13)`` → floats; ``(E, 8, 13)`` → arrays ``(E,)`` (per model).
    ``truth``: ``(8, 13)`` bool, default :data:`alukit.process.cell.DEPENDENCIES`. ``inputs``:
    score only these input columns (names ``"x1".."u5"`` or indices), e.g. all but
    ``"x5"``. Also returns the counts ``tp``, ``fp``, ``fn``.
    """
    a, ensemble = _influences(values)
    t = _truth(truth)
    cols = _columns(inputs)
    norm = normalise(a)[..., cols]
    t = t[:, cols]
    pred = norm > _threshold(threshold)
    tp = (pred & t).sum((1, 2))
    fp = (pred & ~t).sum((1, 2))
    fn = (~pred & t).sum((1, 2))
    precision = np.divide(tp, tp + fp, out=np.zeros(len(a)), where=(tp + fp) > 0)
    recall = tp / max(int(t.sum()), 1)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(len(a)), where=(precision + recall) > 0)
    auprc = average_precision(norm.reshape(len(a), -1), t.ravel())
    out = {"precision": precision, "recall": recall, "f1": f1, "auprc": auprc, "tp": tp, "fp": fp, "fn": fn}
    return out if ensemble else {k: v[0].item() for k, v in out.items()}


def pairwise(values, threshold: float = THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """``(correlation, jaccard)``, each ``(E, E)``: Pearson correlation of the normalised influence
    matrices and Jaccard overlap of the edge sets of every pair of models (diagonal 1)."""
    a, ensemble = _influences(values, "influences")
    if not ensemble or len(a) < 2:
        raise ValueError(f"influences must be (E >= 2, {N_OUT}, {N_IN}); got {np.shape(values)}")
    flat = normalise(a).reshape(len(a), -1)
    centred = flat - flat.mean(1, keepdims=True)
    norm = np.sqrt((centred ** 2).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = centred @ centred.T / np.outer(norm, norm)  # NaN for a constant matrix
    e = (flat > _threshold(threshold)).astype(float)
    inter = e @ e.T
    union = e.sum(1)[:, None] + e.sum(1)[None, :] - inter
    jac = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
    return corr, jac


def consistency(values, threshold: float = THRESHOLD) -> dict:
    """Mean pairwise ``correlation`` and ``jaccard`` (see :func:`pairwise`) over the E(E−1)/2 pairs of models."""
    corr, jac = pairwise(values, threshold)
    upper = np.triu_indices(len(corr), 1)
    return {"correlation": float(np.mean(corr[upper])), "jaccard": float(np.mean(jac[upper]))}


def median_model(scores: dict) -> int:
    """Index of the median model by F1 (ties broken by ``auprc``; lower middle for even E)."""
    f1, ap = np.asarray(scores["f1"]), np.asarray(scores["auprc"])
    if f1.ndim != 1 or f1.shape != ap.shape or len(f1) == 0:
        raise ValueError("scores must hold per-model arrays 'f1' and 'auprc' of equal length (E >= 1)")
    order = np.lexsort((ap, f1))
    return int(order[(len(f1) - 1) // 2])
