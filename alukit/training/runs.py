"""Training runs on disk: their records and cache keys.

A run is cached content-addressed under ``<cache>/train/`` by :func:`run_key`
(configuration run-hash, members, seed, training-data digest, the training code's version
:data:`alukit.training.train.CODE_VERSION`, compiled or eager): ``<key>.pt`` holds the final and SWA tensor dicts and the kept
masks (a ``torch.save`` state dict, loaded ``weights_only=True``); ``<key>.npz`` the
per-epoch logs, normalisers, final losses and metadata, written last, so its presence
marks a finished run. :func:`load` turns a record into a :class:`TrainResult`.
"""
from __future__ import annotations

import json
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from alukit import cache
from alukit.training import nets, sparsity
from alukit.training.config import Config, config_hash
from alukit.process.data import Normalizer
from alukit.training.engine import build_ensemble

__all__ = ["TrainResult", "run_key", "paths", "save", "load", "finished"]

LOGS = ("loss", "lr", "layer_sparsity", "dsr_h", "str_threshold")  # per-epoch logs of a run


@dataclass
class TrainResult:
    """A trained configuration (all E members).

    ``ensemble``: eval-mode :class:`~alukit.training.nets.Ensemble`, normalised features ``(E, B, 13)`` →
    normalised targets ``(E, B, 8)`` (the SWA-averaged model for "+swa" configurations).
    ``x_norm``/``y_norm``: training-set :class:`alukit.process.data.Normalizer` of features and targets.
    ``log``: ``loss`` ``(E, epochs)`` (training MSE per epoch, normalised units), ``lr``
    ``(epochs,)``, ``layer_sparsity`` ``(E, epochs, L)`` of the training iterate, ``dsr_h``
    ``(E, epochs)`` (DSR's threshold H), ``str_threshold`` ``(E, epochs, L)`` (STR's sigmoid(s_l);
    zeros for other methods), all at the end of each epoch.
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


def run_key(cfg: Config, n_models: int, seed: int, data_digest: str, compiled: bool, code: str) -> str:
    """Cache key of a training run (configuration run-hash, members, seed, data, ``code``: the training
    code's version :data:`alukit.training.train.CODE_VERSION`, compiled or eager).

    Compiled and eager kernels round differently, so their runs are cached apart.
    """
    return cache.key("train", run=config_hash(cfg, run=True), models=n_models, seed=seed, data=data_digest,
                     code=code, engine="compiled" if compiled else "eager")


def paths(key: str) -> tuple[Path, Path]:
    """The run's ``(<key>.pt, <key>.npz)`` under ``<cache>/train/``."""
    folder = cache.cache_dir() / "train"
    return folder / f"{key}.pt", folder / f"{key}.npz"


def save(key: str, cfg: Config, out: dict, x_norm, y_norm, final_losses: dict) -> None:
    """Write a :func:`alukit.training.engine.fit` output as run ``key`` (``final_losses``: ``{"final", "swa"}`` → ``(E,)``;
    ``out["workers"]``: size of the process pool it trained in, recorded in the metadata)."""
    pt, npz = paths(key)
    tensors = {f"final.{k}": v for k, v in out["final"].items()}
    tensors.update({f"swa.{k}": v for k, v in out["swa"].items()})
    tensors.update({f"mask{i}": m for i, m in enumerate(out["masks"])})
    cache.atomic_write(pt, lambda tmp: torch.save(tensors, tmp))
    meta = json.dumps({"config": cfg.to_dict(), "seconds": out["seconds"], "compiled": out["compiled"],
                       "workers": out.get("workers", 1)})
    cache.save_npz(npz, **{k: out[k] for k in LOGS},
                   x_mean=x_norm.mean, x_std=x_norm.std, y_mean=y_norm.mean, y_std=y_norm.std,
                   final_train_loss_final=final_losses["final"], final_train_loss_swa=final_losses["swa"],
                   meta=np.array(meta))


def finished(key: str, cfg: Config) -> TrainResult | None:
    """The saved run ``key`` of ``cfg`` if it is there and readable; None if it is not there, or damaged (then
    both its files are discarded with a :class:`alukit.cache.CacheWarning` naming them, to be trained again)."""
    if not all(p.exists() for p in paths(key)):
        return None
    try:
        return load(key, cfg, cached=True)
    except (OSError, RuntimeError, EOFError, KeyError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        for path in paths(key):
            cache.discard(path, f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}")
        return None


def load(key: str, cfg: Config, cached: bool) -> TrainResult:
    """The :class:`TrainResult` of the saved run ``key`` of ``cfg``."""
    pt, npz = paths(key)
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
        x_norm=Normalizer(arrays["x_mean"], arrays["x_std"]), y_norm=Normalizer(arrays["y_mean"], arrays["y_std"]),
        log={k: arrays[k] for k in LOGS},
        sparsity=sparsity.overall_sparsity(eff).numpy(), layer_sparsity=sparsity.layer_sparsity(eff).double().numpy(),
        final_train_loss=arrays[f"final_train_loss_{which}"], seconds=float(meta["seconds"]), cached=cached, key=key,
        extra={"compiled": meta.get("compiled"), "workers": meta.get("workers")},
    )
