"""The trainer: every seed of a configuration at once, as one batched ensemble.

Public API
----------
``train(config, variant="faithful", profile="quick", models=None, epochs=None, progress=True)``
    → :class:`TrainResult`. ``config`` is a name from :data:`alukit.config.CONFIG_NAMES`
    or a :class:`~alukit.config.Config`. Runs are cached content-addressed
    (configuration + training data + code version) under ``<cache>/train/``; a cached
    run is loaded, never retrained. ``epochs`` overrides the profile's epoch count,
    every schedule scaling with it.
``train_all(profile="quick", variant="faithful")`` → ``{name: TrainResult}`` for all 16.
CLI: ``python -m alukit train CONFIG [--variant V] [--profile P] [--models N] [--epochs N] [--json]``.

The hot path (:func:`fit`) is one hand-written forward/backward pass and Adam update
for all E members per mini-batch — ``torch.baddbmm`` over stacked weights, no
autograd, no Python loop over models or samples — compiled with ``torch.compile``
for long runs (``ALUKIT_COMPILE=0/1`` forces it off/on). It reproduces
``torch.optim.Adam`` + MSE + autograd exactly up to float rounding; the tests check
it against autograd through the ``parametrize``/``prune``-equipped
:class:`~alukit.nets.Ensemble`. Member e draws its initial weights, its mini-batch
order and its DSR randomness from its own seed, so it trains identically alone or in
an ensemble of any size. Training runs with subnormal floats flushed to zero
(:func:`flush_denormals`): about 1.5× faster without L1, the same results.
Faithful freezing is exploited: frozen weights get no gradient (MP trains only its biases after the first prune) and an epoch in which
nothing can learn (DSR after its first reallocation) is not run, its loss being the
training-set loss of the unchanged weights.
"""
from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from . import cache, nets, profiles, sparsity, swa
from .config import CONFIG_NAMES, VARIANTS, Config, as_config, config_hash, make_config

__all__ = ["TrainResult", "train", "train_all", "fit", "build_ensemble", "member_seeds", "main", "flush_denormals",
           "CODE_VERSION", "CONFIG_NAMES", "VARIANTS", "make_config"]


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def member_seeds(seed: int, group: str, n: int) -> list[int]:
    """Seeds of members 0..n−1 of seed group ``group`` (member e's seed does not depend on n)."""
    return [int.from_bytes(hashlib.sha256(f"{seed}/{group}/{e}".encode()).digest()[:7], "big") for e in range(n)]


# -- the hot path ------------------------------------------------------------------
def _make_step(use_str: bool, masked: bool, train_w: bool, has_bias: bool, betas, eps: float):
    """One mini-batch for all members: forward, MSE backward, L1, Adam — in place.

    Arguments of the returned ``step``: ``x`` ``(E, B, n_in)``, ``y`` ``(E, B, n_out)``;
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


_KERNELS: dict = {}


def _kernel(flags: tuple, compiled: bool):
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


def _want_compile(compile, steps: int, dev: torch.device) -> bool:
    env = os.environ.get("ALUKIT_COMPILE", "auto")
    if compile is not None:
        return bool(compile)
    if env in ("0", "1"):
        return env == "1"
    return steps >= 20_000 and (dev.type == "cuda" or _have_cxx())


def _have_cxx() -> bool:
    import shutil

    return any(shutil.which(c) for c in ("g++", "c++", "clang++"))


@torch.no_grad()
def _effective(cfg: Config, Ws, ss) -> list[torch.Tensor]:
    if cfg.method == "str":
        return [sparsity.soft_threshold(w, s) for w, s in zip(Ws, ss)]
    return list(Ws)


@torch.no_grad()
def dataset_loss(ensemble_or_fn, z: torch.Tensor, y: torch.Tensor, chunk: int = 16384) -> torch.Tensor:
    """Mean squared error per member ``(E,)`` over all samples ``z`` ``(N, n_in)``, ``y`` ``(N, n_out)``."""
    total = 0.0
    for a in range(0, len(z), chunk):
        out = ensemble_or_fn(z[a:a + chunk])
        total = total + ((out - y[a:a + chunk]) ** 2).sum((1, 2))
    return total / (len(z) * y.shape[1])


def _plain_forward(cfg: Config, Ws, bs, ss):
    effs = _effective(cfg, Ws, ss)

    def f(z):
        h = z.unsqueeze(0).expand(effs[0].shape[0], *z.shape)
        for i, w in enumerate(effs):
            h = torch.baddbmm(bs[i], h, w) if bs else torch.bmm(h, w)
            if i < len(effs) - 1:
                h = torch.relu(h)
        return h

    return f


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


def fit(cfg: Config, z, y, seeds, *, progress: bool = True, compile: bool | None = None,
        device: torch.device | str | None = None, skip_frozen: bool = True, desc: str | None = None) -> dict:
    """Train ``len(seeds)`` members of ``cfg`` on normalised pairs ``z`` ``(N, n_in)`` → ``y`` ``(N, n_out)``.

    Returns a dict: ``final`` and ``swa`` (tensor dicts ``W{l}``, ``b{l}``, ``s{l}``, CPU float32),
    ``masks`` (list, corrected MP/DSR, else empty), ``loss`` ``(E, epochs)`` (mean squared error of
    the training iterate per epoch, normalised units), ``lr`` ``(epochs,)``, ``layer_sparsity``
    ``(E, epochs, L)`` (training iterate, end of epoch), ``dsr_h`` ``(E, epochs)``, ``seconds``.
    Runs under :func:`flush_denormals`.
    """
    with flush_denormals(), torch.no_grad():
        return _fit(cfg, z, y, seeds, progress, compile, device, skip_frozen, desc)


def _fit(cfg: Config, z, y, seeds, progress, compile, device, skip_frozen, desc) -> dict:
    cfg = cfg.validate()
    t0 = time.perf_counter()
    dev = torch.device(device) if device is not None else default_device()
    seeds = [int(s) for s in seeds]
    n_models, n_layers = len(seeds), len(cfg.dims) - 1
    z = torch.as_tensor(np.asarray(z), dtype=torch.float32).to(dev)
    y = torch.as_tensor(np.asarray(y), dtype=torch.float32).to(dev)
    if z.ndim != 2 or z.shape[1] != cfg.n_in or y.shape != (len(z), cfg.n_out):
        raise ValueError(f"z, y must be ({len(z)}, {cfg.n_in}) and ({len(z)}, {cfg.n_out}); got {tuple(z.shape)}, {tuple(y.shape)}")
    n, bsz = len(z), cfg.batch_size
    n_batches = math.ceil(n / bsz)

    ens = nets.init_ensemble(cfg.dims, seeds, cfg.bias, cfg.init_fan)
    use_str = cfg.method == "str"
    if use_str:
        sparsity.apply_str(ens, cfg.s_init)
    ens.to(dev)
    layers = ens.layers
    Ws = [(lay.parametrizations.weight.original if use_str else lay.weight).data for lay in layers]
    bs = [lay.bias.data for lay in layers] if cfg.bias else []
    ss = [lay.parametrizations.weight[0].s.data for lay in layers] if use_str else []
    shuffle_gens = [torch.Generator().manual_seed(s ^ 0x5EED_5EED) for s in seeds]
    method_gens = [torch.Generator().manual_seed(s ^ 0xD5_D5D5) for s in seeds]
    fans = [a if cfg.init_fan == "in" else b for a, b in zip(cfg.dims[:-1], cfg.dims[1:])]

    masked = cfg.method == "dsr" or (cfg.method == "mp" and cfg.prune_mode == "iterative")
    masks: list[torch.Tensor] = []
    if cfg.method == "dsr":
        for w in Ws:
            m = torch.stack([sparsity.random_mask(w.shape[1:], cfg.dsr_sparsity, g) for g in method_gens]).to(dev)
            w.mul_(m)
            masks.append(m)
    elif masked:
        masks = [torch.ones_like(w) for w in Ws]

    mW, vW = [torch.zeros_like(w) for w in Ws], [torch.zeros_like(w) for w in Ws]
    mb, vb = [torch.zeros_like(b) for b in bs], [torch.zeros_like(b) for b in bs]
    ms, vs = [torch.zeros_like(s) for s in ss], [torch.zeros_like(s) for s in ss]
    lam0 = cfg.l1 if cfg.l1_input is None else cfg.l1_input
    lams = torch.tensor([lam0] + [cfg.l1] * (n_layers - 1), dtype=torch.float32, device=dev)
    step_size = torch.zeros((), device=dev)
    bc2s = torch.zeros((), device=dev)
    acc = torch.zeros(n_models, device=dev)
    b1, b2 = cfg.betas

    if cfg.swa_mode == "torch":
        lrs = swa.swa_lr(cfg.lr, cfg.epochs, cfg.lr_step, cfg.lr_gamma, cfg.lr_from, cfg.swa_start,
                         cfg.swa_lr, cfg.swa_anneal_epochs)
        averaged = swa.averaged_model(ens)
    else:
        lrs = swa.step_lr(cfg.lr, cfg.epochs, cfg.lr_step, cfg.lr_gamma, cfg.lr_from)
        averaged = swa.EqualAverage()

    use_compile = _want_compile(compile, n_batches * cfg.epochs, dev)
    flags = lambda tw: (use_str, masked, tw, cfg.bias, tuple(cfg.betas), cfg.eps)  # noqa: E731
    loss_log = np.zeros((n_models, cfg.epochs))
    sparsity_log = np.zeros((n_models, cfg.epochs, n_layers))
    h_log = np.zeros((n_models, cfg.epochs))
    layer_sizes = np.array([a * b for a, b in zip(cfg.dims[:-1], cfg.dims[1:])], dtype=float)
    h = torch.full((n_models,), cfg.dsr_h0, dtype=torch.float64)
    frozen, still_loss, adam_t = False, None, 0
    bar = tqdm(total=cfg.epochs, desc=desc or f"{cfg.name} [{cfg.variant}]", disable=not progress, leave=True)
    for epoch in range(cfg.epochs):
        lr = float(lrs[epoch])
        learns = not frozen or cfg.bias or use_str
        if not learns and skip_frozen:
            if still_loss is None:
                still_loss = dataset_loss(_plain_forward(cfg, Ws, bs, ss), z, y).cpu().numpy()
            loss_log[:, epoch] = still_loss
        else:
            train_w = not frozen
            kern = _kernel(flags(train_w), use_compile)
            eager = _kernel(flags(train_w), False)
            perm = torch.stack([torch.randperm(n, generator=g) for g in shuffle_gens]).to(dev)
            xe, ye = z[perm], y[perm]
            acc.zero_()
            for s in range(n_batches):
                adam_t += 1
                step_size.fill_(lr / (1 - b1 ** adam_t))
                bc2s.fill_(math.sqrt(1 - b2 ** adam_t))
                xb, yb = xe[:, s * bsz:(s + 1) * bsz], ye[:, s * bsz:(s + 1) * bsz]
                (kern if xb.shape[1] == bsz else eager)(
                    xb, yb, Ws, bs, ss, masks, mW, vW, mb, vb, ms, vs, lams, step_size, bc2s, acc)
            loss_log[:, epoch] = (acc / (n * cfg.n_out)).cpu().numpy()
            del xe, ye, perm
            still_loss = None
        done = epoch + 1
        if cfg.method == "mp" and done in cfg.prune_epochs:
            for i, w in enumerate(Ws):
                if cfg.prune_mode == "faithful":
                    sparsity.faithful_prune_(w, cfg.prune_amount)
                else:
                    masks[i] = sparsity.iterative_mask(w, masks[i], cfg.prune_amount)
                    for t in (w, mW[i], vW[i]):
                        t.mul_(masks[i])
            frozen = frozen or cfg.freeze
            still_loss = None
        realloc_ok = done < cfg.epochs and (cfg.swa_mode != "torch" or done <= cfg.swa_start)
        if cfg.method == "dsr" and done % cfg.dsr_every == 0 and realloc_ok:
            sparsity.dsr_reallocate_(Ws, masks, h, n_prune=cfg.dsr_np, delta=cfg.dsr_delta, generators=method_gens,
                                     regrow=cfg.dsr_regrow, fans=fans,
                                     adam_states=[(mW[i], vW[i]) for i in range(n_layers)])
            frozen = frozen or cfg.freeze
            still_loss = None
        h_log[:, epoch] = h.numpy()
        eff = _effective(cfg, Ws, ss)
        sparsity_log[:, epoch] = sparsity.layer_sparsity(eff).cpu().numpy()
        if epoch >= cfg.swa_start:
            if cfg.swa_mode == "torch":
                averaged.update_parameters(ens)
            else:
                averaged.update(Ws + bs + ss)
        bar.update(1)
        overall = sparsity_log[:, epoch] @ layer_sizes / layer_sizes.sum()  # zero fraction of all weights, (E,)
        bar.set_postfix(loss=f"{loss_log[:, epoch].mean():.3g}", sparsity=f"{overall.mean():.3f}")
    bar.close()

    def pack(W, b, s):
        out = {f"W{i}": w.detach().float().cpu().clone() for i, w in enumerate(W)}
        out.update({f"b{i}": t.detach().float().cpu().clone() for i, t in enumerate(b)})
        out.update({f"s{i}": t.detach().float().cpu().clone() for i, t in enumerate(s)})
        return out

    if cfg.swa_mode == "torch":
        am = averaged.module
        aW = [(lay.parametrizations.weight.original if use_str else lay.weight) for lay in am.layers]
        ab = [lay.bias for lay in am.layers] if cfg.bias else []
        as_ = [lay.parametrizations.weight[0].s for lay in am.layers] if use_str else []
        swa_state = pack(aW, ab, as_)
    else:
        avg = averaged.avg
        swa_state = pack(avg[:n_layers], avg[n_layers:n_layers + len(bs)], avg[n_layers + len(bs):])
    return {
        "final": pack(Ws, bs, ss),
        "swa": swa_state,
        "masks": [m.detach().cpu().clone() for m in masks] if (masked and not cfg.freeze) else [],
        "loss": loss_log,
        "lr": np.asarray(lrs, dtype=np.float64),
        "layer_sparsity": sparsity_log,
        "dsr_h": h_log,
        "seconds": time.perf_counter() - t0,
        "compiled": use_compile,
    }


def build_ensemble(cfg: Config, state: dict, masks=()) -> nets.Ensemble:
    """An eval-mode :class:`~alukit.nets.Ensemble` from a tensor dict (``W{l}``, ``b{l}``, ``s{l}``).

    STR layers get the :class:`~alukit.sparsity.SoftThreshold` parametrization; ``masks``
    (corrected MP/DSR) are attached with ``torch.nn.utils.prune.custom_from_mask``.
    """
    n_layers = len(cfg.dims) - 1
    n_models = state["W0"].shape[0]
    ens = nets.Ensemble(cfg.dims, n_models, cfg.bias)
    with torch.no_grad():
        for i, lay in enumerate(ens.layers):
            lay.weight.copy_(state[f"W{i}"])
            if cfg.bias:
                lay.bias.copy_(state[f"b{i}"])
    if cfg.method == "str":
        sparsity.apply_str(ens, torch.stack([state[f"s{i}"].reshape(-1) for i in range(n_layers)]))
    if len(masks):
        sparsity.apply_masks(ens, masks)
    ens.requires_grad_(False)
    return ens.eval()


# -- results and caching -------------------------------------------------------------
@dataclass
class TrainResult:
    """A trained configuration (all E members).

    ``ensemble``: eval-mode :class:`~alukit.nets.Ensemble`, normalised features ``(E, B, 13)`` →
    normalised targets ``(E, B, 8)`` (the SWA-averaged model for "+swa" configurations).
    ``x_norm``/``y_norm``: training-set :class:`alukit.data.Normalizer` of features and targets.
    ``log``: ``loss`` ``(E, epochs)`` (training MSE per epoch, normalised units), ``lr``
    ``(epochs,)``, ``layer_sparsity`` ``(E, epochs, L)`` of the training iterate.
    ``sparsity`` ``(E,)`` and ``layer_sparsity`` ``(E, L)``: fraction of weights exactly zero in
    ``ensemble``. ``final_train_loss`` ``(E,)``: MSE of ``ensemble`` on the whole training set.
    ``seconds``: training time of the run; ``cached``: loaded from the cache.
    """

    config: Config
    variant: str
    ensemble: nets.Ensemble
    x_norm: object
    y_norm: object
    log: dict
    sparsity: np.ndarray
    layer_sparsity: np.ndarray
    final_train_loss: np.ndarray
    seconds: float
    cached: bool
    key: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def models(self) -> int:
        return self.ensemble.n_models

    @property
    def epochs(self) -> int:
        return self.config.epochs

    def summary(self) -> dict:
        """The CLI's JSON object."""
        return {
            "config": self.config.name, "variant": self.variant, "models": self.models, "epochs": self.epochs,
            "sparsity": self.sparsity.tolist(), "layer_sparsity": self.layer_sparsity.tolist(),
            "final_train_loss": self.final_train_loss.tolist(), "seconds": self.seconds, "cached": self.cached,
        }


# hash of the training code: part of every run's cache key and of the results' provenance
CODE_VERSION = cache.code_version(nets.he_normal, nets.init_ensemble, sparsity.soft_threshold,
                                  sparsity.faithful_prune_, sparsity.iterative_mask, sparsity.random_mask,
                                  sparsity.dsr_reallocate_, sparsity.regrowth_counts, swa.step_lr, swa.swa_lr,
                                  swa.EqualAverage, _make_step, flush_denormals, fit, _fit)


def resolve(config, variant: str = "faithful", profile="quick", models: int | None = None,
            epochs: int | None = None) -> tuple[Config, dict, int]:
    """What :func:`train` will run: ``(configuration, profile parameters, number of models)``.

    ``config``: a name or :class:`Config`; ``models`` defaults to the profile's
    ``models``; ``epochs`` to the configuration's epochs × the profile's
    ``train_epoch_scale`` (schedules scaled with them). Raises ``ValueError`` for a
    bad name, variant, profile, model count or scale.
    """
    cfg = as_config(config, variant)
    prof = profiles.load(profile)
    n_models = prof.get("models", 10) if models is None else models
    if not isinstance(n_models, int) or isinstance(n_models, bool) or n_models < 1:
        raise ValueError(f"models must be a positive integer; got {n_models!r}")
    if epochs is None:
        scale = prof.get("train_epoch_scale", 1.0)
        if not isinstance(scale, (int, float)) or not 0 < scale <= 1:
            raise ValueError(f"profile train_epoch_scale must be a number in (0, 1]; got {scale!r}")
        epochs = max(1, round(cfg.epochs * scale))
    cfg = cfg.scaled(epochs)
    return cfg, prof, n_models


def _training_data(prof: dict):
    from . import data as D

    n_train = prof.get("train_trajectories", prof["n_train"])
    ds = D.datasets(prof["n_train"], prof["n_val"], prof["n_test"], prof["n_steps"], prof["seed"], prof["dt"])
    traj = np.ascontiguousarray(ds.train[:n_train])
    x_norm = D.Normalizer.fit(traj)
    feats, targs = D.derivative_pairs(traj, prof["dt"])
    y_norm = D.Normalizer.fit(targs)
    digest = hashlib.sha256(traj.tobytes()).hexdigest()[:16]
    return x_norm.transform(feats), y_norm.transform(targs), x_norm, y_norm, digest


def _paths(key: str) -> tuple[Path, Path]:
    folder = cache.cache_dir() / "train"
    return folder / f"{key}.pt", folder / f"{key}.npz"


def run_key(cfg: Config, n_models: int, seed: int, data_digest: str, compiled: bool) -> str:
    """Cache key of a training run (configuration run-hash, members, seed, data, code, compiled or eager).

    Compiled and eager kernels round differently, so their runs are cached apart.
    """
    return cache.key("train", run=config_hash(cfg, run=True), models=n_models, seed=seed, data=data_digest, code=CODE_VERSION,
                     engine="compiled" if compiled else "eager")


def _compiled(cfg: Config, n_samples: int, compile: bool | None) -> bool:
    """Whether :func:`fit` compiles this run (see :func:`_want_compile`)."""
    return _want_compile(compile, math.ceil(n_samples / cfg.batch_size) * cfg.epochs, default_device())


def _save(key: str, cfg: Config, out: dict, x_norm, y_norm, final_losses: dict) -> None:
    pt, npz = _paths(key)
    tensors = {f"final.{k}": v for k, v in out["final"].items()}
    tensors.update({f"swa.{k}": v for k, v in out["swa"].items()})
    tensors.update({f"mask{i}": m for i, m in enumerate(out["masks"])})
    cache.atomic_write(pt, lambda tmp: torch.save(tensors, tmp))
    meta = json.dumps({"config": cfg.to_dict(), "seconds": out["seconds"], "compiled": out["compiled"]})
    cache.save_npz(npz, loss=out["loss"], lr=out["lr"], layer_sparsity=out["layer_sparsity"], dsr_h=out["dsr_h"],
                   x_mean=x_norm.mean, x_std=x_norm.std, y_mean=y_norm.mean, y_std=y_norm.std,
                   final_train_loss_final=final_losses["final"], final_train_loss_swa=final_losses["swa"],
                   meta=np.array(meta))


def _load(key: str, cfg: Config, cached: bool) -> TrainResult:
    from . import data as D

    pt, npz = _paths(key)
    arrays = cache.load_npz(npz)  # written last: its presence marks a finished run
    tensors = torch.load(pt, weights_only=True, map_location="cpu")
    which = "swa" if cfg.swa else "final"
    state = {k.split(".", 1)[1]: v for k, v in tensors.items() if k.startswith(which + ".")}
    masks = [tensors[f"mask{i}"] for i in range(len(cfg.dims) - 1) if f"mask{i}" in tensors]
    ens = build_ensemble(cfg, state, masks)
    eff = ens.weights()
    meta = json.loads(str(arrays["meta"]))
    return TrainResult(
        config=cfg, variant=cfg.variant, ensemble=ens,
        x_norm=D.Normalizer(arrays["x_mean"], arrays["x_std"]), y_norm=D.Normalizer(arrays["y_mean"], arrays["y_std"]),
        log={"loss": arrays["loss"], "lr": arrays["lr"], "layer_sparsity": arrays["layer_sparsity"], "dsr_h": arrays["dsr_h"]},
        sparsity=sparsity.overall_sparsity(eff).numpy(), layer_sparsity=sparsity.layer_sparsity(eff).double().numpy(),
        final_train_loss=arrays[f"final_train_loss_{which}"], seconds=float(meta["seconds"]), cached=cached, key=key,
        extra={"compiled": meta.get("compiled")},
    )


def train(config, variant: str = "faithful", profile="quick", models: int | None = None, epochs: int | None = None,
          progress: bool = True, *, compile: bool | None = None) -> TrainResult:
    """Train (or load from the cache) one configuration's ``models`` members as one ensemble.

    ``config``: a name (``"mp+l1+swa"``, built in ``variant``) or a :class:`Config` (its own
    variant wins). ``profile``: ``"quick"``, ``"paper"`` or a YAML path (data sizes, seed,
    ``models``, ``train_epoch_scale``). ``epochs`` overrides the epoch count (schedules scale).
    Bad arguments raise ``ValueError`` before any data is made or training starts.
    """
    cfg, prof, n_models = resolve(config, variant, profile, models, epochs)
    z, y, x_norm, y_norm, digest = _training_data(prof)
    compiled = _compiled(cfg, len(z), compile)
    key = run_key(cfg, n_models, prof["seed"], digest, compiled)
    pt, npz = _paths(key)
    if pt.exists() and npz.exists():
        return _load(key, cfg, cached=True)
    seeds = member_seeds(prof["seed"], cfg.seed_group, n_models)
    threads = torch.get_num_threads()
    if default_device().type == "cpu":
        # tiny batched matmuls: one thread per process is fastest, and immune to busy cores
        torch.set_num_threads(int(os.environ.get("ALUKIT_THREADS", "1")))
    try:
        out = fit(cfg, z, y, seeds, progress=progress, compile=compiled,
                  desc=f"{cfg.name} [{cfg.variant}, {prof.get('profile', profile)}]")
    finally:
        torch.set_num_threads(threads)
    zt, yt = torch.as_tensor(z, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    losses = {}
    for which in ("final", "swa"):
        ens = build_ensemble(cfg, out[which], out["masks"])
        losses[which] = dataset_loss(ens, zt, yt).numpy()
    _save(key, cfg, out, x_norm, y_norm, losses)
    return _load(key, cfg, cached=False)


def _worker(name: str, variant: str, profile: str, progress: bool) -> float:
    torch.set_num_threads(1)
    return train(name, variant, profile, progress=progress).seconds


def train_all(profile="quick", variant: str = "faithful", *, workers: int | None = None, progress: bool = True,
              names=CONFIG_NAMES) -> dict[str, TrainResult]:
    """Train (or load) every configuration in ``names`` → ``{name: TrainResult}``.

    Uncached runs go to ``workers`` processes (default: 2 on CPU if the machine has ≥ 2 cores,
    one torch thread each; 1 on CUDA), longest first; corrected SWA twins share one run.
    """
    configs = {name: resolve(name, variant, profile) for name in names}
    prof = next(iter(configs.values()))[1] if configs else profiles.load(profile)
    z, _, _, _, digest = _training_data(prof)  # make (and cache) the data once, before any worker starts
    todo: dict[str, str] = {}
    for name, (cfg, _, n_models) in configs.items():
        key = run_key(cfg, n_models, prof["seed"], digest, _compiled(cfg, len(z), None))
        if not all(p.exists() for p in _paths(key)) and key not in todo.values():
            todo[name] = key
    if workers is None:
        workers = 1 if default_device().type == "cuda" else min(2, os.cpu_count() or 1)
    cost = {"dsr": 3, "mp": 2, "str": 1, "dense": 0}
    order = sorted(todo, key=lambda nm: -cost[configs[nm][0].method])
    if workers > 1 and len(order) > 1:
        import concurrent.futures as cf
        import multiprocessing as mp

        with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            for fut in [pool.submit(_worker, nm, variant, str(profile), progress) for nm in order]:
                fut.result()
    else:
        for nm in order:
            train(nm, variant, profile, progress=progress)
    return {name: train(name, variant, profile, progress=False) for name in names}


# -- command line ----------------------------------------------------------------------
def main(argv=None) -> int:
    """``python -m alukit train CONFIG [--variant V] [--profile P] [--models N] [--epochs N] [--json]``."""
    ap = argparse.ArgumentParser(prog="python -m alukit train", description="Train one configuration as a batched ensemble.")
    ap.add_argument("config", help=f"one of {', '.join(CONFIG_NAMES)}, or 'all'")
    ap.add_argument("--variant", default="faithful", help=f"one of {', '.join(VARIANTS)}")
    ap.add_argument("--profile", default="quick", help="quick, paper or a path to a profile YAML")
    ap.add_argument("--models", type=int, default=None, help="members per configuration (default: the profile's)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs (default: the profile's; schedules scale)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    try:
        if args.config == "all":
            if args.models is not None or args.epochs is not None:
                raise ValueError("--models/--epochs are not supported with 'all' (set them in the profile)")
            results = train_all(args.profile, args.variant, progress=not args.no_progress)
            summary = {name: r.summary() for name, r in results.items()}
        else:
            r = train(args.config, args.variant, args.profile, args.models, args.epochs, progress=not args.no_progress)
            summary = r.summary()
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary))
    else:
        rows = summary.values() if args.config == "all" else [summary]
        for s in rows:
            print(f"{s['config']:<12} {s['variant']:<9} models={s['models']} epochs={s['epochs']} "
                  f"sparsity={np.mean(s['sparsity']):.3f} loss={np.mean(s['final_train_loss']):.4g} "
                  f"{s['seconds']:.1f}s{' (cached)' if s['cached'] else ''}")
    return 0
