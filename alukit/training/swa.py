"""Stochastic weight averaging (paper eq. 11) and the learning-rate schedules around it.

* faithful — :class:`EqualAverage`: the equal-weight running average
  ``w_swa ← (w_swa·n + w)/(n + 1)`` of end-of-epoch weights over the last 25 % of
  epochs, under the method's own StepLR (:func:`step_lr`), which by then is
  ~1e-7..1e-10 — the published code's behaviour.
* corrected — ``torch.optim.swa_utils``: :func:`averaged_model` wraps an ensemble in
  ``AveragedModel`` and :func:`swa_lr` gives StepLR before the SWA phase and ``SWALR``
  (cosine anneal to a constant ``swa_lr``) during it.

Schedules are per-epoch arrays ``(epochs,)`` computed by driving PyTorch's schedulers
on a throw-away optimiser, so they are exactly what ``StepLR``/``SWALR`` would give.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.optim.lr_scheduler import StepLR
from torch.optim.swa_utils import SWALR, AveragedModel

__all__ = ["step_lr", "swa_lr", "EqualAverage", "averaged_model"]


def _dummy_optimizer(lr: float) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)


def step_lr(lr: float, epochs: int, step: int, gamma: float = 0.1, start: int = 0) -> np.ndarray:
    """Learning rate per epoch ``(epochs,)``: ``StepLR(step, gamma)`` stepped after every epoch ≥ ``start``."""
    opt = _dummy_optimizer(lr)
    sched = StepLR(opt, step_size=step, gamma=gamma)
    out = np.empty(epochs)
    for e in range(epochs):
        out[e] = opt.param_groups[0]["lr"]
        opt.step()
        if e >= start:
            sched.step()
    return out


def swa_lr(lr: float, epochs: int, step: int, gamma: float, start: int, swa_start: int,
           swa_lr_value: float, anneal_epochs: int) -> np.ndarray:
    """Per-epoch lr ``(epochs,)``: :func:`step_lr` before ``swa_start``, then ``SWALR`` (cosine)."""
    opt = _dummy_optimizer(lr)
    sched = StepLR(opt, step_size=step, gamma=gamma)
    swa_sched = None
    out = np.empty(epochs)
    for e in range(epochs):
        if e == swa_start:
            swa_sched = SWALR(opt, swa_lr=swa_lr_value, anneal_epochs=anneal_epochs, anneal_strategy="cos")
        out[e] = opt.param_groups[0]["lr"]
        opt.step()
        if swa_sched is not None:
            swa_sched.step()
        elif e >= start:
            sched.step()
    return out


class EqualAverage:
    """Running equal-weight average of a list of tensors (paper eq. 11)."""

    def __init__(self):
        self.n = 0
        self.avg: list[torch.Tensor] | None = None

    @torch.no_grad()
    def update(self, tensors) -> None:
        tensors = list(tensors)
        if self.avg is None:
            self.avg = [t.detach().clone() for t in tensors]
        else:
            for a, t in zip(self.avg, tensors):
                a.mul_(self.n).add_(t).div_(self.n + 1)
        self.n += 1


def averaged_model(module: torch.nn.Module) -> AveragedModel:
    """``torch.optim.swa_utils.AveragedModel`` (equal-weight average) of ``module``."""
    return AveragedModel(module, use_buffers=False)
