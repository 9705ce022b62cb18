"""The training engine: every member of a configuration at once, as one batched ensemble.

:func:`fit` trains ``len(seeds)`` members of a :class:`~alukit.training.config.Config` on
normalised training pairs and returns their weights and per-epoch logs. It drives a
:class:`Trainer` the way d2l's ``Trainer.fit`` does: set up, then :meth:`Trainer.fit_epoch`
per epoch and :meth:`Trainer.end_epoch` (the sparsity method's hook, logs, SWA).
The sparsity method is an object (:func:`alukit.training.sparsity.method`) whose hooks the
trainer calls; the trainer itself never branches on the method's name.

The hot path is one hand-written forward/backward pass and Adam update for all E
members per mini-batch (:func:`kernel`) — ``torch.baddbmm`` over stacked weights, no
autograd, no Python loop over models or samples — compiled with ``torch.compile`` for
long runs of large ensembles (:func:`want_compile`; ``ALUKIT_COMPILE=0/1`` forces it off/on).
Eager runs use the lean form of the same step (:func:`lean_kernel`): parameters, gradients
and Adam moments in one flat buffer each (:class:`FlatBuffers`), Adam as twelve ops over them;
it gives the per-layer step's results bit for bit (``tests/test_train_step.py``), faster
(``bench/train_step.py`` prints by how much). It reproduces ``nn.Sequential``
+ MSE + autograd + ``torch.optim.Adam`` + ``StepLR`` up to float rounding
(``tests/test_engine.py`` trains both side by side). Member e draws its initial
weights, its mini-batch order and its DSR randomness from its own seed, so it trains
identically alone or in an ensemble of any size. Training runs with subnormal floats
flushed to zero (:func:`flush_denormals`): about 1.5× faster without L1, the same
results. Faithful freezing is exploited: frozen weights get no gradient (MP trains
only its biases after the first prune) and an epoch in which nothing can learn (DSR
after its first reallocation) is not run, its loss being the training-set loss of the
unchanged weights.
"""
from __future__ import annotations

import contextlib
import hashlib
import math
import shutil
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm import tqdm

from alukit import settings
from alukit.training import nets, sparsity, swa
from alukit.training.config import Config

__all__ = ["fit", "Trainer", "TrainState", "kernel", "lean_kernel", "lean_gradients", "FlatBuffers", "build_ensemble",
           "member_seeds", "dataset_loss", "flush_denormals", "want_compile", "default_device"]


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def member_seeds(seed: int, group: str, n: int) -> list[int]:
    """Seeds of members 0..n−1 of seed group ``group`` (member e's seed does not depend on n)."""
    return [int.from_bytes(hashlib.sha256(f"{seed}/{group}/{e}".encode()).digest()[:7], "big") for e in range(n)]


def member_generators(seed: int) -> tuple[torch.Generator, torch.Generator]:
    """Member ``seed``'s two CPU generators: ``(shuffle, method)`` — its mini-batch order (one
    ``torch.randperm(N)`` per epoch, mini-batches its consecutive slices) and its sparsity
    method's randomness (DSR's initial masks and regrowth)."""
    return torch.Generator().manual_seed(seed ^ 0x5EED_5EED), torch.Generator().manual_seed(seed ^ 0xD5_D5D5)


# -- the hot path ------------------------------------------------------------------
def _make_step(use_str: bool, masked: bool, train_w: bool, has_bias: bool, betas, eps: float):
    """One mini-batch for all members, in place: forward, MSE backward, L1, Adam (the per-layer reference step,
    compiled for long runs). Arguments of the returned ``step``: ``x`` ``(E, B, n_in)``, ``y`` ``(E, B, n_out)``;
    per-layer lists ``Ws`` (raw weights ``(E, a, b)``), ``bs`` (``(E, 1, b)``), ``ss`` (STR
    ``(E, 1, 1)``), ``masks``, Adam moments ``mW, vW, mb, vb, ms, vs``; ``lams`` ``(L,)`` L1
    factors; 0-d tensors ``step_size`` = lr / (1 − β1^t) and ``bc2s`` = √(1 − β2^t); ``acc``
    ``(E,)`` accumulates the batch's summed squared error.
    """
    b1, b2 = betas

    def adam(p, g, m, v, step_size, bc2s):
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        p.sub_(m / (v.sqrt() / bc2s + eps) * step_size)

    def step(x, y, Ws, bs, ss, masks, mW, vW, mb, vb, ms, vs, lams, step_size, bc2s, acc):
        n_layers = len(Ws)
        hs, effs, keeps = [x], [], []
        h = x
        for i in range(n_layers):
            w = Ws[i]
            if use_str:
                t = torch.sigmoid(ss[i])
                mag = w.abs() - t
                keeps.append((mag > 0, t))
                w = torch.sign(w) * torch.relu(mag)
            effs.append(w)
            h = torch.baddbmm(bs[i], h, w) if has_bias else torch.bmm(h, w)
            if i < n_layers - 1:
                h = torch.relu(h)
            hs.append(h)
        d = h - y
        acc.add_((d * d).sum((1, 2)))
        d = d * (2.0 / (d.shape[1] * d.shape[2]))
        g_w: list = [None] * n_layers
        g_b: list = [None] * n_layers
        for i in range(n_layers - 1, -1, -1):
            if train_w:
                g_w[i] = torch.bmm(hs[i].transpose(1, 2), d)
            if has_bias:
                g_b[i] = d.sum(1, keepdim=True)
            if i > 0:
                d = torch.bmm(d, effs[i].transpose(1, 2)) * (hs[i] > 0)
        if train_w:
            for i in range(n_layers):
                g = g_w[i]
                if use_str:
                    keep, t = keeps[i]
                    g = g * keep
                    g_s = -(g * torch.sign(Ws[i])).sum((1, 2), keepdim=True) * (t * (1 - t))
                    adam(ss[i], g_s, ms[i], vs[i], step_size, bc2s)
                if masked:
                    g = g * masks[i]
                g = g + lams[i] * torch.sign(Ws[i])
                adam(Ws[i], g, mW[i], vW[i], step_size, bc2s)
        if has_bias:
            for i in range(n_layers):
                adam(bs[i], g_b[i], mb[i], vb[i], step_size, bc2s)

    return step


def _v_floor_factor(eps: float) -> float:
    """``q``, a quarter of an ulp of float32 ``eps``: Adam's second moment ``v`` below ``(q·bc2s)²`` leaves
    its denominator ``√v / bc2s + eps`` at ``eps`` exactly.

    For ``v`` below that floor, ``√v / bc2s < q`` (with the float32 roundings of the square, the square
    root and the division, under ``q·(1 + 2⁻²¹)``), under half an ulp of ``eps``, so
    ``√max(v, floor) / bc2s + eps`` rounds to the same float as ``√v / bc2s + eps``. ``torch.sqrt`` on
    CPU is several times slower on exact zeros (masked weights, dead units) and on values below about
    6e-34 than on others; the floor, 4.9e-32 for ``eps`` = 1e-8 once ``bc2s`` ≈ 1 (``bc2s²`` grows from
    1 − β2 at the first step), avoids them without changing a bit.
    """
    _, exponent = math.frexp(float(np.float32(eps)))  # eps in [2^(e−1), 2^e): its ulp is 2^(e−24)
    return math.ldexp(1.0, exponent - 26)


class FlatBuffers:
    """An ensemble's parameters ``P``, gradients ``G`` and Adam moments ``M``, ``V``: one 1-D float32 buffer each.

    ``D`` is scratch of the same length (Adam's denominator, then its update). Layout: the layers'
    weights ``W_l`` ``(E, a, b)``, then STR parameters ``s_l`` ``(E, 1, 1)``, then biases ``b_l``
    ``(E, 1, b)``, each starting on a multiple of :data:`ALIGN` elements (zeros between), so that every view has the address alignment of a tensor of its own: BLAS's results depend on it (an
    ensemble of 3 members of width 50 trains to other bits with 8-byte-aligned layers). ``Ws``, ``ss``,
    ``bs`` (and ``gWs``, ``gss``, ``gbs`` of ``G``) are views; ``n_w`` and ``n_ws`` end the weights and the
    STR parameters; ``pw``, ``gw`` the weights' part of ``P``, ``G``; ``trained[train_w]`` the
    ``(P, G, M, V, D)`` parts Adam updates. ``masks`` ``(n_w,)`` 0/1 with per-layer views ``mask_views``;
    ``lam`` ``(n_w,)`` each weight's L1 factor, or None where all are 0. The padding stays 0 throughout.
    """

    ALIGN = 16  # elements: 64 bytes of float32, the CPU allocator's alignment

    def __init__(self, Ws, ss, bs, moments, lams: torch.Tensor):
        groups = (Ws, ss, bs)
        self._shapes = [[t.shape for t in grp] for grp in groups]
        self._offsets, end = [], 0
        for shapes in self._shapes:
            starts = []
            for shape in shapes:
                starts.append(end)
                end += -(-math.prod(shape) // self.ALIGN) * self.ALIGN
            self._offsets.append(starts)
        self.n_w = self._offsets[1][0] if ss else (self._offsets[2][0] if bs else end)
        self.n_ws = self._offsets[2][0] if bs else end
        ref = Ws[0]
        self.P, self.G, self.M, self.V = (torch.zeros(end, dtype=ref.dtype, device=ref.device) for _ in range(4))
        self.D = torch.empty(end, dtype=ref.dtype, device=ref.device)  # Adam's denominator and update, scratch
        for buf, ts in ((self.P, [t for grp in groups for t in grp]),
                        *((buf, m) for buf, m in zip((self.M, self.V), moments))):
            for view, t in zip((v for grp in self.views(buf) for v in grp), ts):
                view.copy_(t)
        self.Ws, self.ss, self.bs = self.views(self.P)
        self.gWs, self.gss, self.gbs = self.views(self.G)
        self.masks = torch.zeros(self.n_w, dtype=self.P.dtype, device=self.P.device)
        self.mask_views = self.views(self.masks, 1)[0]
        for view in self.mask_views:
            view.fill_(1.0)
        self.lam = None
        if bool((lams != 0).any()):
            self.lam = torch.zeros_like(self.masks)
            for i, view in enumerate(self.views(self.lam, 1)[0]):
                view.fill_(float(lams[i]))
        self.gw, self.pw = self.G[:self.n_w], self.P[:self.n_w]
        # Adam's operands (P, G, M, V): all of them, or the biases alone (weights frozen)
        self.trained = {True: (self.P, self.G, self.M, self.V, self.D),
                        False: tuple(t[self.n_ws:] for t in (self.P, self.G, self.M, self.V, self.D))}

    def views(self, buf: torch.Tensor, groups: int = 3) -> tuple[list, ...]:
        """``buf``'s per-layer views ``(weights, STR parameters, biases)`` in this layout (the first ``groups``)."""
        return tuple([buf[o:o + math.prod(shape)].view(shape) for o, shape in zip(starts, shapes)]
                     for starts, shapes in zip(self._offsets[:groups], self._shapes[:groups]))

    def sync_masks(self, masks: list) -> list:
        """Copy masks a method replaced (e.g. MP's iterative prune) into ``self.masks``; returns the views."""
        for view, m in zip(self.mask_views, masks):
            if m is not view:
                view.copy_(m)
        return list(self.mask_views[:len(masks)])


def _lean_forward(x, fb: FlatBuffers, use_str: bool, has_bias: bool):
    """Forward pass: activations ``hs`` (input first), effective weights, STR's ``(keep, t, sign)`` per layer."""
    n_layers = len(fb.Ws)
    hs, effs, keeps = [x], [], []
    h = x
    for i in range(n_layers):
        w = fb.Ws[i]
        if use_str:
            t = torch.sigmoid(fb.ss[i])
            mag = (w.abs() - t).clamp_min_(0)  # relu_ is clamp_min_(0)
            sign = torch.sign(w)
            keeps.append((torch.sign(mag), t, sign))  # 1.0 where |w| > t, else 0.0: (|w| − t > 0) as a float
            w = sign * mag
        effs.append(w)
        h = torch.baddbmm(fb.bs[i], h, w) if has_bias else torch.bmm(h, w)
        if i < n_layers - 1:
            h = h.clamp_min_(0)
        hs.append(h)
    return hs, effs, keeps


def lean_gradients(x, y, fb: FlatBuffers, acc, use_str: bool, masked: bool, train_w: bool, has_bias: bool) -> None:
    """Forward, MSE backward, STR's threshold gradient, masks and L1 for all members, into ``fb.G``.

    ``x`` ``(E, B, n_in)``, ``y`` ``(E, B, n_out)``; ``acc`` ``(E,)`` adds the batch's summed squared
    error. The L1 term ``λ·sign(W)`` is skipped where every λ is 0 (the per-layer step adds ±0 there,
    which changes no value). Weight gradients are written only when ``train_w``.
    """
    hs, effs, keeps = _lean_forward(x, fb, use_str, has_bias)
    d = hs[-1] - y
    acc.add_((d * d).sum((1, 2)))
    d.mul_(2.0 / (d.shape[1] * d.shape[2]))
    for i in range(len(fb.Ws) - 1, -1, -1):
        if train_w:
            torch.bmm(hs[i].transpose(1, 2), d, out=fb.gWs[i])
        if has_bias:
            torch.sum(d, 1, keepdim=True, out=fb.gbs[i])
        if i > 0:
            d = torch.bmm(d, effs[i].transpose(1, 2)).mul_(torch.sign(hs[i]))  # ReLU'(h) = sign(h), h ≥ 0
    if not train_w:
        return
    for i, (keep, t, sign) in enumerate(keeps):
        g = fb.gWs[i].mul_(keep)
        torch.mul(-(g * sign).sum((1, 2), keepdim=True), t * (1 - t), out=fb.gss[i])
    if masked:
        fb.gw.mul_(fb.masks)
    if fb.lam is not None:
        fb.gw.addcmul_(torch.sign(fb.pw), fb.lam)


def _make_lean_step(use_str: bool, masked: bool, train_w: bool, has_bias: bool, betas, eps: float):
    """The eager mini-batch step on :class:`FlatBuffers`, bit-identical to :func:`_make_step`'s.

    Same arithmetic per element in the same order: :func:`lean_gradients`, then Adam in twelve ops over
    the trained part of the flat buffers (all of it, or the biases alone when ``not train_w``), with
    ``√max(v, floor)`` (:func:`_v_floor_factor`; the floor follows ``bc2s``), its denominator and update
    written into the scratch buffer ``D`` (no allocation). Arguments of the returned
    ``step``: ``x`` ``(E, B, n_in)``, ``y`` ``(E, B, n_out)``, ``fb``, 0-d tensors ``step_size`` =
    lr / (1 − β1^t) and ``bc2s`` = √(1 − β2^t), ``acc`` ``(E,)`` (adds the summed squared error).
    """
    b1, b2 = betas
    q = _v_floor_factor(eps)

    def step(x, y, fb: FlatBuffers, step_size, bc2s, acc):
        lean_gradients(x, y, fb, acc, use_str, masked, train_w, has_bias)
        p, g, m, v, d = fb.trained[train_w]
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        torch.clamp_min(v, torch.mul(bc2s, q).square_(), out=d).sqrt_().div_(bc2s).add_(eps)
        p.sub_(torch.div(m, d, out=d).mul_(step_size))

    return step


_KERNELS: dict = {}


def kernel(flags: tuple, compiled: bool):
    """The mini-batch step for ``flags = (thresholded, masked, train_w, bias, betas, eps)``, cached.

    ``compiled``: through ``torch.compile`` (static shapes); else eager. See :func:`_make_step`.
    """
    key = (flags, compiled)
    if key not in _KERNELS:
        fn = _make_step(*flags)
        if compiled:
            import torch._dynamo

            for name in ("cache_size_limit", "recompile_limit"):
                if hasattr(torch._dynamo.config, name):
                    setattr(torch._dynamo.config, name, max(64, getattr(torch._dynamo.config, name)))
            fn = torch.compile(fn, dynamic=False)
        _KERNELS[key] = fn
    return _KERNELS[key]


def lean_kernel(flags: tuple):
    """The lean eager step (:func:`_make_lean_step`) for ``flags`` as in :func:`kernel`, cached."""
    key = (flags, "lean")
    if key not in _KERNELS:
        _KERNELS[key] = _make_lean_step(*flags)
    return _KERNELS[key]


COMPILE_MIN_STEPS = 20_000  # mini-batches: a kernel's compile (2–10 s) is then a small part of the run
COMPILE_MIN_WORK = 200_000  # member-steps: small ensembles train as fast eagerly, and save the compile


def want_compile(compile: bool | None, steps: int, dev: torch.device, members: int = 10) -> bool:
    """Whether a run of ``steps`` mini-batches of a ``members``-member ensemble compiles its kernel.

    ``compile`` True/False decides; ``None`` follows ``ALUKIT_COMPILE=0/1``, else compiles runs of
    ≥ :data:`COMPILE_MIN_STEPS` mini-batches and ≥ :data:`COMPILE_MIN_WORK` member-steps on CUDA or where
    a C++ compiler is installed: the paper profile's runs of 20 000 mini-batches or more (≥ 250 000
    member-steps), none of the quick profile's (≤ 120 000), whose 2–4-member ensembles train faster
    eagerly than compiled from a cold compile cache (the quick study's runs: 1.3–3× faster).
    """
    env = settings.compile_mode()
    if compile is not None:
        return bool(compile)
    if env in ("0", "1"):
        return env == "1"
    return (steps >= COMPILE_MIN_STEPS and steps * members >= COMPILE_MIN_WORK
            and (dev.type == "cuda" or any(shutil.which(c) for c in ("g++", "c++", "clang++"))))


@torch.no_grad()
def dataset_loss(ensemble_or_fn, z: torch.Tensor, y: torch.Tensor, chunk: int = 16384) -> torch.Tensor:
    """Mean squared error per member ``(E,)`` over all samples ``z`` ``(N, n_in)``, ``y`` ``(N, n_out)``."""
    total = 0.0
    for a in range(0, len(z), chunk):
        out = ensemble_or_fn(z[a:a + chunk])
        total = total + ((out - y[a:a + chunk]) ** 2).sum((1, 2))
    return total / (len(z) * y.shape[1])


@contextlib.contextmanager
def flush_denormals():
    """Run the block with subnormal floats flushed to zero on the CPU (where supported).

    Adam's second moment of a weight that stops receiving gradient (a dead ReLU unit)
    decays by β2 per step into the subnormal range, where x86 arithmetic is many times
    slower: without flushing, training without L1 runs about 1.5× longer. The values
    flushed are below 1.2·10⁻³⁸. Restores the default (no flushing) afterwards.
    """
    flushing = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if flushing:
            torch.set_flush_denormal(False)


# -- the fit loop --------------------------------------------------------------------
def _tensors(ensemble, thresholded: bool, bias: bool):
    """The ensemble's raw weights, biases and STR parameters (lists over layers)."""
    layers = ensemble.layers
    Ws = [(lay.parametrizations.weight.original if thresholded else lay.weight).data for lay in layers]
    bs = [lay.bias.data for lay in layers] if bias else []
    ss = [lay.parametrizations.weight[0].s.data for lay in layers] if thresholded else []
    return Ws, bs, ss


def _pack(Ws, bs, ss) -> dict:
    """CPU float32 copies as a tensor dict ``W{l}``, ``b{l}``, ``s{l}``."""
    out = {f"W{i}": w.detach().float().cpu().clone() for i, w in enumerate(Ws)}
    out.update({f"b{i}": t.detach().float().cpu().clone() for i, t in enumerate(bs)})
    out.update({f"s{i}": t.detach().float().cpu().clone() for i, t in enumerate(ss)})
    return out


@dataclass
class TrainState:
    """The tensors training changes (lists over layers; see :class:`alukit.training.sparsity.Method`)."""

    Ws: list
    bs: list
    ss: list
    generators: list  # per member: the method's randomness (DSR masks and regrowth)
    fans: list  # He-init fan per layer
    h: torch.Tensor  # DSR threshold per member (E,), float64
    masks: list = field(default_factory=list)
    mW: list = field(default_factory=list)
    vW: list = field(default_factory=list)
    mb: list = field(default_factory=list)
    vb: list = field(default_factory=list)
    ms: list = field(default_factory=list)
    vs: list = field(default_factory=list)
    frozen: bool = False


class Trainer:
    """One :func:`fit` run: set up by the constructor, then :meth:`fit_epoch` and
    :meth:`end_epoch` for every epoch, then :meth:`result`. Call under ``torch.no_grad()``."""

    def __init__(self, cfg: Config, z, y, seeds, *, compile=None, device=None, skip_frozen: bool = True,
                 lean: bool = True):
        self.cfg, self.method, self.skip_frozen = cfg.validate(), sparsity.method(cfg), skip_frozen
        self.dev = dev = torch.device(device) if device is not None else default_device()
        seeds = [int(s) for s in seeds]
        self.z, self.y = (torch.as_tensor(np.asarray(a), dtype=torch.float32).to(dev) for a in (z, y))
        n = len(self.z)
        if self.z.ndim != 2 or self.z.shape[1] != cfg.n_in or self.y.shape != (n, cfg.n_out):
            raise ValueError(f"z, y must be ({n}, {cfg.n_in}) and ({n}, {cfg.n_out}); "
                             f"got {tuple(self.z.shape)}, {tuple(self.y.shape)}")
        self.n_batches = math.ceil(n / cfg.batch_size)
        self.ens = nets.init_ensemble(cfg.dims, seeds, cfg.bias, cfg.init_fan, cfg.init)
        self.method.prepare(self.ens)
        self.ens.to(dev)
        self.st = st = TrainState(*_tensors(self.ens, self.method.thresholded, cfg.bias),
                                  generators=[member_generators(s)[1] for s in seeds],
                                  fans=[a if cfg.init_fan == "in" else b for a, b in zip(cfg.dims[:-1], cfg.dims[1:])],
                                  h=torch.full((len(seeds),), cfg.dsr_h0, dtype=torch.float64))
        self.shuffle_gens = [member_generators(s)[0] for s in seeds]
        st.masks = self.method.init_masks(st)
        st.mW, st.vW = [torch.zeros_like(w) for w in st.Ws], [torch.zeros_like(w) for w in st.Ws]
        st.mb, st.vb = [torch.zeros_like(b) for b in st.bs], [torch.zeros_like(b) for b in st.bs]
        st.ms, st.vs = [torch.zeros_like(s) for s in st.ss], [torch.zeros_like(s) for s in st.ss]
        self._setup_schedule(len(seeds))
        self.compiled = want_compile(compile, self.n_batches * cfg.epochs, dev, len(seeds))
        self.still_loss, self.adam_t = None, 0
        self.flat = self._flatten() if lean and not self.compiled else None

    def _flatten(self) -> FlatBuffers:
        """Move the training tensors into :class:`FlatBuffers`; ``st`` and the ensemble's parameters become views."""
        st = self.st
        fb = FlatBuffers(st.Ws, st.ss, st.bs, (st.mW + st.ms + st.mb, st.vW + st.vs + st.vb), self.lams)
        st.Ws, st.ss, st.bs = fb.Ws, fb.ss, fb.bs
        st.mW, st.ms, st.mb = fb.views(fb.M)
        st.vW, st.vs, st.vb = fb.views(fb.V)
        st.masks = fb.sync_masks(st.masks)
        for i, lay in enumerate(self.ens.layers):
            (lay.parametrizations.weight.original if self.method.thresholded else lay.weight).data = fb.Ws[i]
            if self.cfg.bias:
                lay.bias.data = fb.bs[i]
            if self.method.thresholded:
                lay.parametrizations.weight[0].s.data = fb.ss[i]
        return fb

    def _setup_schedule(self, n_models: int) -> None:
        """Adam's scalars and L1 factors, the per-epoch lr schedule, the SWA average and the logs."""
        cfg, n_layers, dev = self.cfg, len(self.cfg.dims) - 1, self.dev
        lam0 = cfg.l1 if cfg.l1_input is None else cfg.l1_input
        self.lams = torch.tensor([lam0] + [cfg.l1] * (n_layers - 1), dtype=torch.float32, device=dev)
        self.step_size, self.bc2s = torch.zeros((), device=dev), torch.zeros((), device=dev)
        self.acc = torch.zeros(n_models, device=dev)
        if cfg.swa_mode == "torch":
            self.lrs = swa.swa_lr(cfg.lr, cfg.epochs, cfg.lr_step, cfg.lr_gamma, cfg.lr_from, cfg.swa_start,
                                  cfg.swa_lr, cfg.swa_anneal_epochs)
            self.averaged = swa.averaged_model(self.ens)
        else:
            self.lrs = swa.step_lr(cfg.lr, cfg.epochs, cfg.lr_step, cfg.lr_gamma, cfg.lr_from)
            self.averaged = swa.EqualAverage()
        self.log = {"loss": np.zeros((n_models, cfg.epochs)), "layer_sparsity": np.zeros((n_models, cfg.epochs, n_layers)),
                    "dsr_h": np.zeros((n_models, cfg.epochs)), "str_threshold": np.zeros((n_models, cfg.epochs, n_layers))}

    def _plain_forward(self):
        effs, bs = self.method.effective(self.st), self.st.bs

        def f(z):
            return nets.forward(z.unsqueeze(0).expand(effs[0].shape[0], *z.shape), effs, bs)

        return f

    def fit_epoch(self, epoch: int) -> None:
        """Train one epoch (all mini-batches, reshuffled per member); log its loss ``(E,)``."""
        cfg, st = self.cfg, self.st
        learns = not st.frozen or cfg.bias or self.method.thresholded
        if not learns and self.skip_frozen:
            if self.still_loss is None:
                self.still_loss = dataset_loss(self._plain_forward(), self.z, self.y).cpu().numpy()
            self.log["loss"][:, epoch] = self.still_loss
            return
        flags = (*self.method.kernel_flags(), not st.frozen, cfg.bias, tuple(cfg.betas), cfg.eps)
        if self.flat is not None:
            st.masks = self.flat.sync_masks(st.masks)
            lean = lean_kernel(flags)

            def run(xb, yb):
                lean(xb, yb, self.flat, self.step_size, self.bc2s, self.acc)
        else:
            full, eager = kernel(flags, self.compiled), kernel(flags, False)

            def run(xb, yb):
                (full if xb.shape[1] == cfg.batch_size else eager)(
                    xb, yb, st.Ws, st.bs, st.ss, st.masks, st.mW, st.vW, st.mb, st.vb, st.ms, st.vs, self.lams,
                    self.step_size, self.bc2s, self.acc)
        self._batches(run, float(self.lrs[epoch]), epoch)

    def _batches(self, run, lr: float, epoch: int) -> None:
        """Epoch ``epoch``'s mini-batches (a fresh order per member) through ``run(xb, yb)``; logs its loss ``(E,)``."""
        cfg, (b1, b2), bsz, n = self.cfg, self.cfg.betas, self.cfg.batch_size, len(self.z)
        perm = torch.stack([torch.randperm(n, generator=g) for g in self.shuffle_gens]).to(self.dev)
        xe, ye = self.z[perm], self.y[perm]
        self.acc.zero_()
        for xb, yb in zip(xe.split(bsz, 1), ye.split(bsz, 1)):
            self.adam_t += 1
            self.step_size.fill_(lr / (1 - b1 ** self.adam_t))
            self.bc2s.fill_(math.sqrt(1 - b2 ** self.adam_t))
            run(xb, yb)
        self.log["loss"][:, epoch] = (self.acc / (n * cfg.n_out)).cpu().numpy()
        self.still_loss = None

    def end_epoch(self, epoch: int) -> None:
        """After epoch ``epoch`` (0-based): the method's hook, the logs, the SWA average."""
        cfg, st = self.cfg, self.st
        if self.method.after_epoch(st, epoch + 1):
            self.still_loss = None
        self.log["dsr_h"][:, epoch] = st.h.numpy()
        self.log["layer_sparsity"][:, epoch] = sparsity.layer_sparsity(self.method.effective(st)).cpu().numpy()
        if st.ss:
            self.log["str_threshold"][:, epoch] = torch.cat([torch.sigmoid(s).reshape(-1, 1) for s in st.ss], 1).cpu().double().numpy()
        if epoch >= cfg.swa_start:
            if cfg.swa_mode == "torch":
                self.averaged.update_parameters(self.ens)
            else:
                self.averaged.update(st.Ws + st.bs + st.ss)

    def result(self) -> dict:
        """The :func:`fit` dict (without ``seconds``)."""
        cfg, st = self.cfg, self.st
        if cfg.swa_mode == "torch":
            swa_state = _pack(*_tensors(self.averaged.module, self.method.thresholded, cfg.bias))
        else:
            avg, n_w, n_b = self.averaged.avg, len(st.Ws), len(st.bs)
            swa_state = _pack(avg[:n_w], avg[n_w:n_w + n_b], avg[n_w + n_b:])
        return {"final": _pack(st.Ws, st.bs, st.ss), "swa": swa_state, "masks": self.method.kept_masks(st),
                "lr": np.asarray(self.lrs, dtype=np.float64), **self.log, "compiled": self.compiled}


def fit(cfg: Config, z, y, seeds, *, progress: bool = True, compile: bool | None = None,
        device: torch.device | str | None = None, skip_frozen: bool = True, desc: str | None = None,
        lean: bool = True) -> dict:
    """Train ``len(seeds)`` members of ``cfg`` on normalised pairs ``z`` ``(N, n_in)`` → ``y`` ``(N, n_out)``.

    Returns a dict: ``final`` and ``swa`` (tensor dicts ``W{l}``, ``b{l}``, ``s{l}``, CPU float32),
    ``masks`` (list, corrected MP/DSR, else empty), ``loss`` ``(E, epochs)`` (mean squared error of
    the training iterate per epoch, normalised units), ``lr`` ``(epochs,)``, ``layer_sparsity``
    ``(E, epochs, L)`` (training iterate, end of epoch), ``dsr_h`` ``(E, epochs)`` (DSR's threshold
    H after the epoch), ``str_threshold`` ``(E, epochs, L)`` float64 (STR's sigmoid(s_l) at the end of
    each epoch; zeros for other methods), ``seconds``, ``compiled``. Runs under :func:`flush_denormals`.
    ``lean``: eager runs use the flat-buffer step (:func:`lean_kernel`), bit-identical to the per-layer
    reference step (:func:`kernel` eager), which ``lean=False`` runs.
    """
    t0 = time.perf_counter()
    with flush_denormals(), torch.no_grad():
        tr = Trainer(cfg, z, y, seeds, compile=compile, device=device, skip_frozen=skip_frozen, lean=lean)
        layer_sizes = np.array([a * b for a, b in zip(tr.cfg.dims[:-1], tr.cfg.dims[1:])], dtype=float)
        with tqdm(total=tr.cfg.epochs, desc=desc or f"{tr.cfg.name} [{tr.cfg.variant}]", disable=not progress,
                  leave=True) as bar:
            for epoch in range(tr.cfg.epochs):
                tr.fit_epoch(epoch)
                tr.end_epoch(epoch)
                bar.update(1)
                overall = tr.log["layer_sparsity"][:, epoch] @ layer_sizes / layer_sizes.sum()  # (E,)
                bar.set_postfix(loss=f"{tr.log['loss'][:, epoch].mean():.3g}", sparsity=f"{overall.mean():.3f}")
        return {**tr.result(), "seconds": time.perf_counter() - t0}


def build_ensemble(cfg: Config, state: dict, masks=()) -> nets.Ensemble:
    """An eval-mode :class:`~alukit.training.nets.Ensemble` from a tensor dict (``W{l}``, ``b{l}``, ``s{l}``).

    STR layers get the :class:`~alukit.training.sparsity.SoftThreshold` parametrization; ``masks``
    (corrected MP/DSR) are attached with ``torch.nn.utils.prune.custom_from_mask``.
    """
    n_layers = len(cfg.dims) - 1
    ens = nets.Ensemble(cfg.dims, state["W0"].shape[0], cfg.bias)
    with torch.no_grad():
        for i, lay in enumerate(ens.layers):
            lay.weight.copy_(state[f"W{i}"])
            if cfg.bias:
                lay.bias.copy_(state[f"b{i}"])
    if sparsity.method(cfg).thresholded:
        sparsity.apply_str(ens, torch.stack([state[f"s{i}"].reshape(-1) for i in range(n_layers)]))
    if len(masks):
        sparsity.apply_masks(ens, masks)
    ens.requires_grad_(False)
    return ens.eval()
