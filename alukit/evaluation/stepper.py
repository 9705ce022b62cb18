"""The Euler time-stepper (paper Algorithm 2), batched over models × trajectories.

A learned model maps normalised features ``z = [x, u]`` of shape ``(E, B, 13)``
(E ensemble members, B rows) to normalised derivatives ``(E, B, 8)``. The stepper
starts every rollout from the true first state of its test trajectory, replays the
recorded inputs u_t and integrates

    x̂_{t+1} = x̂_t + ΔT · ẋ̂_t,   ẋ̂_t = y_norm.inverse(model([x_norm(x̂_t), x_norm(u_t)]))

for all E models and all trajectories at once: one Python loop over time, nothing
else. The state is carried in normalised coordinates (z_{t+1} = z_t + a·y + b with
a = ΔT·σ_y/σ_x and b = ΔT·μ_y/σ_x, algebraically identical to the update above)
so that float32 keeps the same relative precision for every state whatever its
unit (kg of metal or °C).

Divergence. Every ``CHECK_EVERY`` steps, a rollout whose state is non-finite or
outside ``|z| ≤ BLOWUP`` (10⁸ standard deviations: finite in float32, far beyond
any divergence threshold) is *dead*: its state is reset to 0 so the model keeps
receiving finite input, and afterwards its recorded states are NaN from its first
offending sample on (so the result does not depend on the check interval). Matrix
products are row-independent, so a dead rollout never changes another one's
numbers.

Normalisation. :func:`normalizers` builds the two statistics the study uses: the
test set's own (``faithful``: what the published code did, defect 4) or the
training set's (``corrected``).
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch

from alukit.process import cell
from alukit.training.config import VARIANTS  # noqa: F401  (the study variants; also alukit.evaluation.stepper.VARIANTS)
from alukit.process.data import Normalizer, derivative_pairs
from alukit.training.nets import Ensemble

__all__ = ["N_STATES", "WIDE", "normalizers", "true_model", "StackedMLP", "rollout"]

N_STATES = cell.N_STATES
N_FEATURES = cell.N_STATES + cell.N_INPUTS
BLOWUP = 1e8
WIDE = 64  # units; a StackedMLP this wide rolls out faster on all threads (bench rollout)
CHECK_EVERY = 32


def normalizers(variant: str, train: np.ndarray, test: np.ndarray, dt: float = 10.0) -> tuple[Normalizer, Normalizer]:
    """``(x_norm, y_norm)`` used to roll out on ``test`` in a study ``variant``.

    ``faithful``: fitted on the test trajectories themselves — features ``(13,)`` on
    every test sample, targets ``(8,)`` on the test set's finite-difference
    derivatives (the published code normalised each data set with its own
    statistics). ``corrected``: fitted the same way on the training trajectories, as
    :mod:`alukit.training.train` does for the network. Both arrays are ``(n_traj, T, 13)``.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(map(repr, VARIANTS))}; got {variant!r}")
    source = test if variant == "faithful" else train
    _, targets = derivative_pairs(source, dt)
    return Normalizer.fit(source), Normalizer.fit(targets)


def true_model(x_norm: Normalizer, y_norm: Normalizer):
    """The cell's own right-hand side as a "model" (E = 1) in the stepper's convention.

    Returns a function ``(1, B, 13)`` normalised features → ``(1, B, 8)`` normalised
    ``ẋ = alukit.process.cell.rhs(x, u)``. Rolled out with Euler at ΔT = 10 s it must follow
    the RK4 data closely; use it with ``dtype=torch.float64``.
    """

    def model(z: torch.Tensor) -> torch.Tensor:
        raw = x_norm.inverse(z)
        return y_norm.transform(cell.rhs(raw[..., : cell.N_STATES], raw[..., cell.N_STATES :]))

    model.n_models = 1
    return model


class StackedMLP:
    """A frozen batched MLP for rollouts: ``(E, B, n_in)`` → ``(E, B, n_out)``, ReLU between layers.

    ``weights``: per layer ``(E, n_in, n_out)``; ``biases``: per layer ``(E, 1, n_out)`` or
    ``None``. Plain tensors and one ``bmm`` (+ in-place bias and ReLU) per layer: no
    module calls, parametrizations or pruning hooks are evaluated per step, which
    roughly halves the per-step cost of a small network.
    """

    def __init__(self, weights, biases=None):
        weights = [torch.as_tensor(w).detach() for w in weights]
        biases = [None] * len(weights) if biases is None else [None if b is None else torch.as_tensor(b).detach()
                                                               for b in biases]
        if not weights or any(w.ndim != 3 or w.shape[0] != weights[0].shape[0] for w in weights) \
                or len(biases) != len(weights):
            raise ValueError("weights must be a non-empty list of (E, n_in, n_out) tensors with one bias (or None) each")
        self.n_models = int(weights[0].shape[0])
        self.dtype = weights[0].dtype
        self.layers = list(zip(weights, biases))  # [(W, b)] per layer

    @classmethod
    def from_ensemble(cls, ensemble) -> "StackedMLP":
        """From an :class:`alukit.training.nets.Ensemble`: its effective weights and biases, copied."""
        layers = list(ensemble.layers)
        with torch.no_grad():
            return cls([lay.weight.detach().clone() for lay in layers],
                       [None if lay.bias is None else lay.bias.detach().clone() for lay in layers])

    def to(self, device=None, dtype=None) -> "StackedMLP":
        """A copy on ``device`` / in ``dtype``."""
        move = lambda t: None if t is None else t.to(device=device, dtype=dtype)  # noqa: E731
        return StackedMLP([move(w) for w, _ in self.layers], [move(b) for _, b in self.layers])

    def augmented(self, scale, shift, dtype, device) -> list[torch.Tensor]:
        """The layers as bias-free products for inputs that end in a constant-1 column.

        Layer ``(E, n_in, n_out)`` becomes ``(E, n_in + 1, n_out + 1)``: its bias is the
        last row and the extra output unit copies the 1 (ReLU(1) = 1). The output layer
        ``(E, n_in + 1, n_out)`` is multiplied by ``scale`` ``(n_out,)`` with ``shift``
        added to its bias row, so one step costs one ``bmm`` (+ in-place ReLU) per layer
        and returns ``scale·y + shift``.
        """
        out = []
        for i, (w, b) in enumerate(self.layers):
            E, n_in, n_out = w.shape
            last = i == len(self.layers) - 1
            aug = torch.zeros((E, n_in + 1, n_out + (not last)), dtype=dtype, device=device)
            aug[:, :n_in, :n_out] = w
            if b is not None:
                aug[:, n_in, :n_out] = b[:, 0]
            if last:
                aug.mul_(scale)[:, n_in] += shift
            else:
                aug[:, n_in, n_out] = 1.0
            out.append(aug)
        return out

    def __call__(self, z: torch.Tensor) -> torch.Tensor:
        *hidden, (w_out, b_out) = self.layers
        for w, b in hidden:
            z = torch.bmm(z, w)
            z = (z if b is None else z.add_(b)).relu_()
        z = torch.bmm(z, w_out)
        return z if b_out is None else z.add_(b_out)


def _n_models(model) -> int:
    """Ensemble size: ``model.n_models`` if set, else the leading dim of a 3-D parameter, else 1."""
    n = getattr(model, "n_models", None)
    if n is not None:
        return int(n)
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            if p.ndim == 3:
                return int(p.shape[0])
    return 1


def _model_dtype(model):
    if isinstance(model, StackedMLP):
        return model.dtype
    if isinstance(model, torch.nn.Module):
        for p in model.parameters():
            return p.dtype
    return torch.float64


def _check(data, x_norm, y_norm, dt, horizon):
    if not isinstance(data, np.ndarray) or data.ndim != 3 or data.shape[-1] != N_FEATURES or data.shape[1] < 1:
        raise ValueError(f"data must be a NumPy array (n_traj, T, {N_FEATURES}); got "
                         f"{getattr(data, 'shape', type(data).__name__)}")
    if len(np.shape(x_norm.mean)) != 1 or len(x_norm.mean) != N_FEATURES:
        raise ValueError(f"x_norm must have {N_FEATURES} columns; got {np.shape(x_norm.mean)}")
    if len(np.shape(y_norm.mean)) != 1 or len(y_norm.mean) != cell.N_STATES:
        raise ValueError(f"y_norm must have {cell.N_STATES} columns; got {np.shape(y_norm.mean)}")
    if isinstance(dt, bool) or not isinstance(dt, (int, float)) or not dt > 0:
        raise ValueError(f"dt must be a number of seconds > 0; got {dt!r}")
    T = data.shape[1]
    if horizon is None:
        return T
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or not 1 <= horizon <= T:
        raise ValueError(f"horizon must be an integer in 1..{T} (the trajectory length); got {horizon!r}")
    return int(horizon)


def _first_call(model, features, E):
    """The first model call, with shape errors reported in the stepper's terms."""
    expected = f"model must map (E, B, {N_FEATURES}) to (E, B, {N_STATES}) with E={E} (see n_models)"
    try:
        y = model(features)
    except RuntimeError as exc:
        raise ValueError(f"{expected}; calling it failed: {exc}") from exc
    if tuple(y.shape) != (E, features.shape[1], N_STATES):
        raise ValueError(f"{expected}; got output {tuple(y.shape)}")
    return y


def _default_threads(model) -> int:
    if isinstance(model, StackedMLP) and max(w.shape[-1] for w, _ in model.layers) < WIDE:
        return 1
    return torch.get_num_threads()


@contextlib.contextmanager
def _threads(n: int):
    """Run the block with ``torch.set_num_threads(n)`` and restore the previous count."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _mark_dead(out: torch.Tensor, flag_step: torch.Tensor) -> torch.Tensor:
    """Set ``out`` ``(E, n, T, 8)`` to NaN from each dead rollout's first offending sample on.

    ``flag_step`` ``(E, n)``: the step at which a check found the rollout dead (T if
    never). Only the ``CHECK_EVERY`` samples ending there are searched: an earlier
    offending sample would have been caught by the previous check unless the state
    came back within range, and then it stays as recorded (|z| > BLOWUP: diverged
    under any metric).
    """
    E, n, T, S = out.shape
    flagged = flag_step < T
    if not bool(flagged.any()):
        return out
    low = (flag_step - (CHECK_EVERY - 1)).clamp(min=0)
    index = (low[..., None] + torch.arange(CHECK_EVERY, device=out.device)).clamp(max=T - 1)
    window = out.gather(2, index[..., None].expand(E, n, CHECK_EVERY, S))
    bad = ~(window.abs() <= BLOWUP).all(-1)  # NaN compares False
    start = torch.where(flagged, low + bad.to(torch.uint8).argmax(-1), T)
    return out.masked_fill_((torch.arange(T, device=out.device) >= start[..., None])[..., None], float("nan"))


def rollout(model, data, x_norm, y_norm, dt=10.0, horizon=None, device=None, dtype=None, n_models=None,
            threads=None) -> np.ndarray:
    """Euler rollouts of every ensemble member on every trajectory of ``data``.

    ``model``: callable ``(E, B, 13)`` → ``(E, B, 8)`` on normalised values (an
    ``nn.Module`` ensemble or :func:`true_model`); it is called under
    ``torch.inference_mode``. ``data``: float64 ``(n_traj, T, 13)``, columns
    ``[x1..x8, u1..u5]``, sampled every ``dt`` seconds. ``x_norm`` (13 columns) and
    ``y_norm`` (8 columns): objects with ``.mean``/``.std`` (:class:`alukit.process.data.Normalizer`).
    ``horizon``: samples to produce, 1..T (default T). ``dtype``: torch dtype of the
    computation (default: the model's parameter dtype, float64 for a function).
    ``n_models``: E (default ``model.n_models``, else the leading dimension of the
    model's first 3-D parameter, else 1). ``threads``: torch intra-op threads during
    the loop (restored afterwards). Default: 1 for a :class:`StackedMLP` narrower
    than ``WIDE`` units, whose steps cost call overhead that more threads only add
    to; torch's current count otherwise. An
    :class:`alukit.training.nets.Ensemble` is rolled out as its :class:`StackedMLP`, whose
    steps use :meth:`StackedMLP.augmented`.

    Returns a NumPy array ``(E, n_traj, horizon, 8)`` in the state units of ``data``,
    of the computation's dtype (float32 for a float32 model: ample for the metric,
    whose errors are ≥ 10⁻⁶ σ); sample 0 is the true x0. Diverged rollouts are NaN
    from their divergence on (module docstring).
    """
    T = _check(data, x_norm, y_norm, dt, horizon)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer or None; got {threads!r}")
    if isinstance(model, Ensemble):
        model = StackedMLP.from_ensemble(model)
    E = _n_models(model) if n_models is None else int(n_models)
    dtype = _model_dtype(model) if dtype is None else dtype
    device = torch.device(device or "cpu")
    n = data.shape[0]
    sx, mx = np.asarray(x_norm.std, np.float64), np.asarray(x_norm.mean, np.float64)
    sy, my = np.asarray(y_norm.std, np.float64), np.asarray(y_norm.mean, np.float64)
    S = N_STATES

    def tensor(a):
        return torch.as_tensor(np.ascontiguousarray(a), dtype=dtype, device=device)

    u = tensor((data[:, :T, S:] - mx[S:]) / sx[S:])  # (n, T, 5) normalised inputs
    scale = tensor(dt * sy / sx[:S])  # a
    shift = tensor(dt * my / sx[:S])  # b
    features, increment = _increment(model, E, n, scale, shift, dtype, device)
    features[..., :S].copy_(tensor((data[:, 0, :S] - mx[:S]) / sx[:S]).expand(E, n, S))
    with torch.inference_mode(), _threads(threads or _default_threads(model)):
        out = _march(features, u, increment, T)
        out = out.mul_(tensor(sx[:S])).add_(tensor(mx[:S]))
    return out.cpu().numpy()


def _march(features: torch.Tensor, u: torch.Tensor, increment, T: int) -> torch.Tensor:
    """The Euler loop: ``T`` normalised states ``(E, n, T, 8)`` from the state held in ``features[..., :8]``
    ``(E, n, 13)``, with inputs ``u`` ``(n, T, 5)``; dead rollouts NaN from their blow-up on (:func:`_mark_dead`)."""
    S = N_STATES
    E, n = features.shape[:2]
    z = features[..., :S]  # the state lives inside the model's input buffer
    out = torch.empty((E, n, T, S), dtype=features.dtype, device=features.device)
    # per-step views made once: indexing inside the loop costs as much as the arithmetic
    records, inputs, steps = out.unbind(2), features[..., S:N_FEATURES], u.unbind(1)
    flag_step = torch.full((E, n), T, dtype=torch.long, device=features.device)
    for t in range(T):
        records[t].copy_(z)
        if t % CHECK_EVERY == CHECK_EVERY - 1:  # after recording: the bad value stays in `out`
            dead = ~(z.abs() <= BLOWUP).all(-1)
            if bool(dead.any()):
                flag_step[dead & (flag_step == T)] = t
                z[dead] = 0.0
        if t + 1 == T:
            break
        inputs.copy_(steps[t])
        z.add_(increment(features))
    return _mark_dead(out, flag_step)


def _increment(model, E: int, n: int, scale, shift, dtype, device):
    """``(features, increment)`` of a rollout: the model's input buffer ``(E, n, 13[+1])`` and
    ``increment(features)`` → ``a·y + b`` ``(E, n, 8)``, the Euler step of the state in normalised units.

    A :class:`StackedMLP` steps through its bias-free augmented products (the buffer ends
    in a constant 1); any other callable is called on the buffer and checked on its first call.
    """
    if isinstance(model, StackedMLP):
        sizes = (model.n_models, model.layers[0][0].shape[1], model.layers[-1][0].shape[2])
        if sizes != (E, N_FEATURES, N_STATES):
            raise ValueError(f"model must map (E, B, {N_FEATURES}) to (E, B, {N_STATES}) with E={E}; "
                             f"this StackedMLP has E={sizes[0]} and maps {sizes[1]} to {sizes[2]}")
        *hidden, w_out = model.augmented(scale, shift, dtype, device)

        def stacked(h):
            for w in hidden:
                h = torch.bmm(h, w).relu_()
            return torch.bmm(h, w_out)

        return torch.ones((E, n, N_FEATURES + 1), dtype=dtype, device=device), stacked
    checked = False

    def called(f):
        nonlocal checked
        y = model(f) if checked else _first_call(model, f, E)
        checked = True
        return torch.addcmul(shift, y, scale)

    return torch.empty((E, n, N_FEATURES), dtype=dtype, device=device), called
