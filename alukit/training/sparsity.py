"""Sparsity methods on stacked ensemble weights ``W`` ``(E, n_in, n_out)``.

* L1 — λ·Σ|W| over weight matrices only (never biases), for any method: its gradient
  λ·sign(W) is added in the training kernel (:func:`alukit.training.engine.kernel`).
* STR — :class:`SoftThreshold`: a ``torch.nn.utils.parametrize`` parametrization,
  effective weight ``sign(w)·ReLU(|w| − sigmoid(s))`` with one learnable ``s`` per
  layer and member (shape ``(E, 1, 1)``); :func:`apply_str` registers it.
* Magnitude pruning — :func:`faithful_prune_` (the published code's threshold
  arithmetic: index ⌊(n + zeros)·amount⌋ of the sorted magnitudes, 4 × 25 % → 33.2 %)
  and :func:`iterative_mask` (``amount`` of the *remaining* weights of each member,
  the count rule of ``torch.nn.utils.prune.l1_unstructured``, 4 × 25 % → 68.4 %);
  :func:`apply_masks` attaches persistent masks with ``prune.custom_from_mask``.
* DSR — :func:`random_mask` (sparse start) and :func:`dsr_reallocate_` (prune below
  the adaptive global threshold H, regrow per paper eq. 7).

All functions treat each member (index 0) independently; none loops over samples.
Each method is also an object (:class:`Method` subclasses, :data:`METHODS`, :func:`method`)
whose hooks the training engine calls.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import parametrize, prune

from alukit.training import nets

__all__ = ["soft_threshold", "SoftThreshold", "apply_str", "str_threshold", "faithful_prune_", "iterative_mask",
           "apply_masks", "random_mask", "regrowth_counts", "dsr_reallocate_", "layer_sparsity", "overall_sparsity",
           "Method", "Dense", "STR", "MagnitudePruning", "DSR", "METHODS", "method"]


# -- STR -----------------------------------------------------------------------
def soft_threshold(w: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    """``sign(w)·ReLU(|w| − sigmoid(s))``; ``s`` broadcasts against ``w`` (e.g. ``(E, 1, 1)``)."""
    return torch.sign(w) * torch.relu(w.abs() - torch.sigmoid(s))


class SoftThreshold(nn.Module):
    """STR parametrization of a stacked weight: learnable ``s`` ``(E, 1, 1)``."""

    def __init__(self, n_models: int, s_init: float = -2.0):
        super().__init__()
        self.s = nn.Parameter(torch.full((n_models, 1, 1), float(s_init)))

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        return soft_threshold(w, self.s)


def apply_str(ensemble, s_init: float | torch.Tensor = -2.0):
    """Register :class:`SoftThreshold` on every layer's weight; ``s_init`` scalar or per layer ``(L, E)``."""
    s0 = torch.as_tensor(s_init, dtype=torch.float32)
    for i, layer in enumerate(ensemble.layers):
        st = SoftThreshold(ensemble.n_models)
        with torch.no_grad():
            st.s.copy_(s0[i].reshape(-1, 1, 1) if s0.dim() else s0.expand_as(st.s))
        parametrize.register_parametrization(layer, "weight", st)
    return ensemble


def str_threshold(layer) -> torch.Tensor:
    """The threshold ``sigmoid(s)`` ``(E, 1, 1)`` of a layer with :class:`SoftThreshold`."""
    return torch.sigmoid(layer.parametrizations.weight[0].s)


# -- magnitude pruning ---------------------------------------------------------
@torch.no_grad()
def faithful_prune_(w: torch.Tensor, amount: float) -> torch.Tensor:
    """The published code's prune step, in place, per member: threshold = sorted |w| at index
    ⌊(n + zeros)·amount⌋ (n weights, ``zeros`` already zero), then zero every ``|w| < threshold``.

    Repeated 4 × with ``amount = 0.25`` this ends at ≈ 33.2 % zeros (not 68.4 %). Returns ``w``.
    """
    flat = w.reshape(w.shape[0], -1)
    n = flat.shape[1]
    zeros = (flat == 0).sum(1)
    idx = torch.clamp(((n + zeros) * amount).floor().long(), max=n - 1)
    thr = flat.abs().sort(1).values.gather(1, idx[:, None])
    flat.masked_fill_(flat.abs() < thr, 0.0)
    return w


@torch.no_grad()
def iterative_mask(w: torch.Tensor, mask: torch.Tensor, amount: float) -> torch.Tensor:
    """New 0/1 mask: also prune ``round(amount · remaining)`` smallest-|w| unpruned weights per member.

    ``w``, ``mask`` ``(E, ...)``; pruned entries stay pruned. Same count rule as
    ``torch.nn.utils.prune.l1_unstructured`` applied to the remaining weights.
    """
    e = w.shape[0]
    m = mask.reshape(e, -1).bool()
    score = torch.where(m, w.reshape(e, -1).abs(), torch.full_like(w.reshape(e, -1), -1.0))
    n_pruned = (~m).sum(1)
    k = torch.round(amount * m.sum(1).to(torch.float64)).long()
    rank = torch.empty_like(score, dtype=torch.long)
    order = torch.sort(score, dim=1, stable=True).indices
    rank.scatter_(1, order, torch.arange(score.shape[1], device=score.device).expand(e, -1).contiguous())
    return (rank >= (n_pruned + k)[:, None]).reshape(mask.shape).to(mask.dtype)


def apply_masks(ensemble, masks) -> None:
    """Attach persistent 0/1 masks ``(E, a, b)`` to every layer's weight (``prune.custom_from_mask``)."""
    for layer, mask in zip(ensemble.layers, masks):
        prune.custom_from_mask(layer, "weight", mask.to(layer.weight.dtype))


# -- DSR -----------------------------------------------------------------------
def random_mask(shape, sparsity: float, generator: torch.Generator) -> torch.Tensor:
    """0/1 float mask of ``shape`` with exactly ``round(sparsity · numel)`` zeros at random positions."""
    n = math.prod(shape)
    k = round(sparsity * n)
    mask = torch.ones(n)
    mask[torch.randperm(n, generator=generator)[:k]] = 0.0
    return mask.view(shape)


def regrowth_counts(k: int, survivors: list[int], free: list[int], apportion: str = "round") -> list[int]:
    """How many of ``k`` pruned weights each layer regrows (paper eq. 7, within capacity).

    ``apportion="round"``: G_l = round(R_l / ΣR · K) with R_l the layer's surviving weights. A
    layer cannot regrow more than its ``free`` (zero) positions; what it cannot take goes to the
    layers with room, in proportion to their survivors, so ΣG = ΣG of eq. 7 whenever the layers
    have room for it. With no survivors anywhere, K is spread by free room.
    ``apportion="floor"``: the published layer's rule, G_l = min(⌊R_l / ΣR · K⌋, free_l), what a
    full layer cannot take being lost (so ΣG ≤ K); none without survivors (the published layer then
    regrows what it pruned: :func:`dsr_reallocate_`).
    """
    if len(survivors) != len(free):
        raise ValueError(f"survivors and free must have one entry per layer; got {len(survivors)} and {len(free)}")
    if apportion not in ("round", "floor"):
        raise ValueError(f"apportion must be 'round' or 'floor'; got {apportion!r}")
    if apportion == "floor":
        total = sum(survivors)
        if k <= 0 or not total:
            return [0] * len(free)
        return [min(int(r / total * k), f) for r, f in zip(survivors, free)]
    basis = survivors if sum(survivors) else free
    total = sum(basis)
    if k <= 0 or not total:
        return [0] * len(free)
    want = [round(b / total * k) for b in basis]
    counts = [min(w, f) for w, f in zip(want, free)]
    overflow = sum(want) - sum(counts)
    while overflow > 0:
        room = [f - c for f, c in zip(free, counts)]
        open_ = [i for i, r in enumerate(room) if r > 0]
        if not open_:
            break
        weight = sum(basis[i] for i in open_)
        for i in open_:
            share = basis[i] / weight * overflow if weight else overflow / len(open_)
            add = min(room[i], max(1, round(share)), overflow)
            counts[i] += add
            overflow -= add
            if not overflow:
                break
    return counts


def _regrown_values(regrow: str, g: int, fan, h: float, generator: torch.Generator) -> torch.Tensor | None:
    """``g`` values for regrown weights: He normal (``fan``), N(0, h²) (``"normal"``), None for ``"zero"``."""
    if regrow == "kaiming":
        return nets.he_normal(g, fan, generator)
    if regrow == "normal":
        return torch.randn(g, generator=generator) * h
    return None


def _prune_member(weights, masks, e: int, thr: float, adam_states, live: str) -> tuple[list[int], list[int]]:
    """Prune member ``e``'s live weights with ``|w| < thr`` in place; ``(pruned, surviving)`` counts per layer."""
    k_l, r_l = [], []
    for i, (w, m) in enumerate(zip(weights, masks)):
        if live == "nonzero":
            m[e] = (w[e] != 0).to(m.dtype)
        active = m[e] != 0
        cut = active & (w[e].abs() < thr)
        k_l.append(int(cut.sum()))
        r_l.append(int(active.sum()) - k_l[-1])
        m[e][cut] = 0.0
        w[e][cut] = 0.0
        if adam_states is not None:
            for state in adam_states[i]:
                state[e][cut] = 0.0
    return k_l, r_l


@torch.no_grad()
def dsr_reallocate_(weights, masks, h, *, n_prune: int, delta: float, generators, regrow: str,
                    fans=None, adam_states=None, live: str = "mask", apportion: str = "round") -> dict:
    """One DSR prune-and-regrow phase, in place, for every member.

    ``weights``/``masks``: lists over layers of ``(E, a, b)``; ``h``: thresholds ``(E,)`` float64
    (updated in place: doubled when fewer than (1−δ)·Np weights were pruned, halved when more
    than (1+δ)·Np). Live weights with ``|w| < H`` are pruned — live: ``m != 0`` (``live="mask"``)
    or ``w != 0`` (``"nonzero"``, the published layer's rule; the masks are first set to it).
    Then G_l per layer are regrown at random dead positions (:func:`regrowth_counts` with
    ``apportion``, paper eq. 7), with He-normal values (``regrow="kaiming"``, fan per layer from
    ``fans``), N(0, H²) values with H after its update (``"normal"``) or at zero (``"zero"``).
    Adam moments in ``adam_states`` (list of ``(m, v)`` per layer) are reset where weights are
    pruned and, for ``"zero"``, where they are regrown.
    Returns counts ``pruned`` ``(E, L)`` and ``regrown`` ``(E, L)`` and the old and new ``h``.
    """
    n_layers, e_count = len(weights), weights[0].shape[0]
    pruned = torch.zeros(e_count, n_layers, dtype=torch.long)
    regrown = torch.zeros_like(pruned)
    h_old = h.clone()
    for e in range(e_count):
        thr = float(h[e])
        k_l, r_l = _prune_member(weights, masks, e, thr, adam_states, live)
        k = sum(k_l)
        if k < (1 - delta) * n_prune:
            h[e] = thr * 2
        elif k > (1 + delta) * n_prune:
            h[e] = thr / 2
        free = [int((m[e] == 0).sum()) for m in masks]
        if apportion == "floor" and not sum(r_l):  # the published layer: each regrows what it pruned
            counts = [min(c, f) for c, f in zip(k_l, free)]
        else:
            counts = regrowth_counts(k, r_l, free, apportion)
        for i, (g, w, m) in enumerate(zip(counts, weights, masks)):
            if g == 0:
                continue
            zeros = (m[e] == 0).nonzero()
            pick = zeros[torch.randperm(len(zeros), generator=generators[e])[:g].to(zeros.device)]
            rows, cols = pick[:, 0], pick[:, 1]
            m[e][rows, cols] = 1.0
            fresh = _regrown_values(regrow, g, fans[i] if fans else None, float(h[e]), generators[e])
            if fresh is not None:
                w[e][rows, cols] = fresh.to(device=w.device, dtype=w.dtype)
            else:
                w[e][rows, cols] = 0.0
                if adam_states is not None:
                    for state in adam_states[i]:
                        state[e][rows, cols] = 0.0
            regrown[e, i] = g
        pruned[e] = torch.tensor(k_l)
    return {"pruned": pruned, "regrown": regrown, "h_before": h_old, "h_after": h.clone()}


# -- measurement ---------------------------------------------------------------
@torch.no_grad()
def layer_sparsity(weights) -> torch.Tensor:
    """Fraction of exactly-zero entries per member and layer ``(E, L)`` of effective weights."""
    return torch.stack([(w == 0).flatten(1).float().mean(1) for w in weights], 1)


@torch.no_grad()
def overall_sparsity(weights) -> torch.Tensor:
    """Fraction of exactly-zero weights over all layers, per member ``(E,)``."""
    zeros = sum((w == 0).flatten(1).sum(1) for w in weights)
    total = sum(w[0].numel() for w in weights)
    return zeros.double() / total


# -- the methods, as objects the trainer calls ---------------------------------------
class Method:
    """A sparsity method: the hooks :class:`alukit.training.engine.Trainer` calls (here: no sparsity).

    The trainer owns the tensors; a hook gets its :class:`~alukit.training.engine.TrainState`
    ``st`` (lists over layers: raw weights ``Ws`` ``(E, a, b)``, biases ``bs``, STR
    parameters ``ss`` ``(E, 1, 1)``, 0/1 ``masks``, Adam moments ``mW``/``vW``; DSR
    threshold ``h`` ``(E,)``; per-member ``generators``; He ``fans``; ``frozen``).
    A new method is a subclass plus its name in :data:`METHODS` and
    :data:`alukit.training.config.METHODS`.
    """

    thresholded = False  # the kernel learns an STR threshold per layer
    cost = 0  # relative training time (the longest runs start first)

    def __init__(self, cfg):
        self.cfg = cfg

    @property
    def masked(self) -> bool:
        """Whether the kernel multiplies weight gradients by ``st.masks``."""
        return False

    def prepare(self, ensemble) -> None:
        """Equip a freshly initialised ensemble (e.g. register a parametrization)."""

    def init_masks(self, st) -> list:
        """The initial masks (may also zero ``st.Ws``); ``[]`` for an unmasked method."""
        return []

    def kernel_flags(self) -> tuple[bool, bool]:
        """``(thresholded, masked)``: the method's part of the kernel's specialisation."""
        return self.thresholded, self.masked

    def after_epoch(self, st, done: int) -> bool:
        """Act after epoch ``done`` (1-based); True when the weights changed outside Adam."""
        return False

    def effective(self, st) -> list[torch.Tensor]:
        """The effective weights ``(E, a, b)`` per layer."""
        return list(st.Ws)

    def kept_masks(self, st) -> list[torch.Tensor]:
        """The masks saved with the run (persistent masks of corrected MP/DSR), CPU copies."""
        return [m.detach().cpu().clone() for m in st.masks] if (self.masked and not self.cfg.freeze) else []


class Dense(Method):
    """No sparsity method (L1, if configured, is the kernel's penalty, for any method)."""


class STR(Method):
    """Soft threshold reparametrization: :class:`SoftThreshold` on every layer."""

    thresholded = True
    cost = 1

    def prepare(self, ensemble) -> None:
        apply_str(ensemble, self.cfg.s_init)

    def effective(self, st) -> list[torch.Tensor]:
        return [soft_threshold(w, s) for w, s in zip(st.Ws, st.ss)]


class MagnitudePruning(Method):
    """Magnitude pruning after each of ``cfg.prune_epochs``: faithful or iterative (masks)."""

    cost = 2

    @property
    def masked(self) -> bool:
        return self.cfg.prune_mode == "iterative"

    def init_masks(self, st) -> list:
        return [torch.ones_like(w) for w in st.Ws] if self.masked else []

    def after_epoch(self, st, done: int) -> bool:
        cfg = self.cfg
        if done not in cfg.prune_epochs:
            return False
        for i, w in enumerate(st.Ws):
            if cfg.prune_mode == "faithful":
                faithful_prune_(w, cfg.prune_amount)
            else:
                st.masks[i] = iterative_mask(w, st.masks[i], cfg.prune_amount)
                for t in (w, st.mW[i], st.vW[i]):
                    t.mul_(st.masks[i])
        st.frozen = st.frozen or cfg.freeze
        return True


class DSR(Method):
    """Dynamic sparse reparametrization: a random sparse start, prune-and-regrow after the epochs ``cfg.dsr_epochs``."""

    cost = 3

    @property
    def masked(self) -> bool:
        return True

    def init_masks(self, st) -> list:
        masks = []
        for w in st.Ws:
            m = torch.stack([random_mask(w.shape[1:], self.cfg.dsr_sparsity, g) for g in st.generators]).to(w.device)
            w.mul_(m)
            masks.append(m)
        return masks

    def after_epoch(self, st, done: int) -> bool:
        cfg = self.cfg
        in_time = done < cfg.epochs and (cfg.swa_mode != "torch" or done <= cfg.swa_start)
        if done not in cfg.dsr_epochs or not in_time:
            return False
        dsr_reallocate_(st.Ws, st.masks, st.h, n_prune=cfg.dsr_np, delta=cfg.dsr_delta, generators=st.generators,
                        regrow=cfg.dsr_regrow, fans=st.fans, adam_states=list(zip(st.mW, st.vW)),
                        live=cfg.dsr_live, apportion=cfg.dsr_apportion)
        st.frozen = st.frozen or cfg.freeze
        return True


METHODS: dict[str, type[Method]] = {"dense": Dense, "str": STR, "mp": MagnitudePruning, "dsr": DSR}


def method(cfg) -> Method:
    """The :class:`Method` object of configuration ``cfg`` (by ``cfg.method``)."""
    if cfg.method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}; got {cfg.method!r}")
    return METHODS[cfg.method](cfg)
