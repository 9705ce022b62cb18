"""MLPs as batched ensembles: E models' weights stacked, evaluated with ``torch.baddbmm``.

Layout: layer ``l`` of an :class:`Ensemble` holds ``weight`` ``(E, n_in, n_out)``
(transposed with respect to ``nn.Linear``, so a forward pass is ``h @ W + b``)
and an optional ``bias`` ``(E, 1, n_out)``. ReLU between layers, linear output.
Member ``i`` of an ensemble is an ordinary MLP; :meth:`Ensemble.member` turns it
into a plain ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU`` and
:meth:`Ensemble.from_members` stacks such modules back.

Sparsity methods act on the stacked tensors with PyTorch's own tools
(``torch.nn.utils.parametrize`` / ``torch.nn.utils.prune``, see
:mod:`alukit.training.sparsity`); ``layer.weight`` is always the *effective* weight.
"""
from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["he_normal", "forward", "Ensemble", "init_ensemble"]


def he_normal(shape, fan: int, generator: torch.Generator | None = None, dtype=torch.float32) -> torch.Tensor:
    """He (Kaiming) normal values: N(0, 2 / fan) of ``shape``."""
    return torch.randn(shape, generator=generator, dtype=dtype) * math.sqrt(2.0 / fan)


def forward(z: torch.Tensor, weights, biases=()) -> torch.Tensor:
    """The MLP: ``z`` ``(E, B, n_in)`` through layers ``weights`` ``(E, a, b)`` (+ ``biases``
    ``(E, 1, b)``, or none), ReLU between layers, linear output → ``(E, B, n_out)``."""
    last = len(weights) - 1
    for i, w in enumerate(weights):
        z = torch.baddbmm(biases[i], z, w) if len(biases) else torch.bmm(z, w)
        if i < last:
            z = torch.relu(z)
    return z


class StackedLinear(nn.Module):
    """E linear layers at once: ``(E, B, n_in)`` → ``(E, B, n_out)``."""

    def __init__(self, n_models: int, n_in: int, n_out: int, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_models, n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_models, 1, n_out)) if bias else None

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        w = self.weight
        return torch.bmm(h, w) if self.bias is None else torch.baddbmm(self.bias, h, w)


class Ensemble(nn.Module):
    """E MLPs with widths ``dims = (n_in, *hidden, n_out)``, stacked.

    ``forward(z)``: normalised features ``z`` ``(E, B, n_in)`` (or ``(B, n_in)``, shared by
    every member) → normalised targets ``(E, B, n_out)``; member e only sees ``z[e]``.
    """

    def __init__(self, dims, n_models: int, bias: bool = True):
        super().__init__()
        dims = tuple(int(d) for d in dims)
        if len(dims) < 2 or min(dims) < 1 or n_models < 1:
            raise ValueError(f"dims must be >= 2 positive widths and n_models >= 1; got {dims}, {n_models}")
        self.dims, self.n_models, self.has_bias = dims, int(n_models), bool(bias)
        self.layers = nn.ModuleList(StackedLinear(n_models, a, b, bias) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z.unsqueeze(0).expand(self.n_models, *z.shape)
        if z.dim() != 3 or z.shape[0] != self.n_models or z.shape[-1] != self.dims[0]:
            raise ValueError(f"z must have shape ({self.n_models}, B, {self.dims[0]}) or (B, {self.dims[0]}); got {tuple(z.shape)}")
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):  # each layer's forward, so prune/parametrize hooks run
            z = layer(z)
            if i < last:
                z = torch.relu(z)
        return z

    @torch.no_grad()
    def weights(self) -> list[torch.Tensor]:
        """Effective weight matrices, each ``(E, n_in, n_out)`` (detached copies)."""
        return [layer.weight.detach().clone() for layer in self.layers]

    @torch.no_grad()
    def member(self, i: int) -> nn.Sequential:
        """Member ``i`` as a plain ``nn.Sequential`` of ``nn.Linear`` and ``nn.ReLU`` (effective weights)."""
        if not 0 <= i < self.n_models:
            raise ValueError(f"member index must be in [0, {self.n_models}); got {i}")
        mods: list[nn.Module] = []
        for k, layer in enumerate(self.layers):
            w = layer.weight[i]
            lin = nn.Linear(w.shape[0], w.shape[1], bias=layer.bias is not None)
            lin.weight.copy_(w.T)
            if layer.bias is not None:
                lin.bias.copy_(layer.bias[i, 0])
            mods.append(lin)
            if k < len(self.layers) - 1:
                mods.append(nn.ReLU())
        return nn.Sequential(*mods).eval()

    @classmethod
    @torch.no_grad()
    def from_members(cls, members) -> "Ensemble":
        """Stack plain MLPs (``nn.Sequential`` of ``nn.Linear``/``nn.ReLU``, equal shapes) into an Ensemble."""
        members = list(members)
        linears = [[m for m in seq if isinstance(m, nn.Linear)] for seq in members]
        if not linears or any(len(ls) != len(linears[0]) for ls in linears):
            raise ValueError("members must be non-empty and have the same number of nn.Linear layers")
        dims = (linears[0][0].in_features, *(lin.out_features for lin in linears[0]))
        bias = linears[0][0].bias is not None
        ens = cls(dims, len(members), bias)
        for k, layer in enumerate(ens.layers):
            layer.weight.copy_(torch.stack([ls[k].weight.T for ls in linears]))
            if bias:
                layer.bias.copy_(torch.stack([ls[k].bias for ls in linears]).unsqueeze(1))
        return ens.eval()

    def extra_repr(self) -> str:
        return f"models={self.n_models}, dims={self.dims}, bias={self.has_bias}"


def init_ensemble(dims, seeds, bias: bool = True, fan: str = "in", init: str = "he") -> Ensemble:
    """An Ensemble with He-normal weights and ``nn.Linear``-style uniform(±1/√n_in) biases.

    Member e is drawn from its own ``torch.Generator`` seeded with ``seeds[e]``, so a member
    is the same whatever the ensemble size. ``fan``: ``"in"`` (standard) or ``"out"``
    (the published STR/DSR code). ``init``: ``"he"`` (He normal) or ``"uniform01"``
    (U(0, 1) weights, ``torch.rand``, as the published DSR layer drew them before 2022-12-05).
    """
    if fan not in ("in", "out"):
        raise ValueError(f"fan must be 'in' or 'out'; got {fan!r}")
    if init not in ("he", "uniform01"):
        raise ValueError(f"init must be 'he' or 'uniform01'; got {init!r}")
    seeds = [int(s) for s in seeds]
    ens = Ensemble(dims, len(seeds), bias)
    with torch.no_grad():
        for e, seed in enumerate(seeds):
            g = torch.Generator().manual_seed(seed)
            for layer, (a, b) in zip(ens.layers, zip(ens.dims[:-1], ens.dims[1:])):
                if init == "he":
                    layer.weight[e] = he_normal((a, b), a if fan == "in" else b, g)
                else:
                    layer.weight[e] = torch.rand((a, b), generator=g)
                if layer.bias is not None:
                    layer.bias[e, 0] = (torch.rand(b, generator=g) * 2 - 1) / math.sqrt(a)
    return ens
