"""Training the paper's configurations: one cached run per configuration, all seeds at once.

Public API
----------
``train(config, variant="faithful", profile="quick", models=None, epochs=None, progress=True)``
    → :class:`~alukit.training.runs.TrainResult`. ``config`` is a name from
    :data:`alukit.training.config.CONFIG_NAMES` or a :class:`~alukit.training.config.Config`; ``profile`` a
    name, a YAML path or a :class:`~alukit.profiles.Profile`. Runs are cached
    content-addressed (configuration + training data + :data:`CODE_VERSION`, :mod:`alukit.training.runs`);
    a cached run is loaded, never retrained. ``epochs`` overrides the profile's epoch
    count, every schedule scaling with it.
``train_all(profile="quick", variant="faithful")`` → ``{name: TrainResult}`` for all 16,
    uncached runs in a process pool.
CLI: ``python -m alukit train CONFIG [--variant V] [--profile P] [--models N] [--epochs N] [--json]``.

The training itself is :func:`alukit.training.engine.fit` (one batched ensemble per configuration).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

from alukit import profiles
from alukit.codeversion import code_version
from alukit.training.config import CONFIG_NAMES, VARIANTS, Config, as_config, config_hash
from alukit.training.engine import build_ensemble, dataset_loss, default_device, fit, member_seeds, want_compile
from alukit.training.runs import TrainResult, load, paths, run_key, save

__all__ = ["train", "train_all", "resolve", "training_data", "default_workers", "main", "TrainResult",
           "CODE_VERSION", "config_hash"]


def resolve(config, variant: str = "faithful", profile="quick", models: int | None = None,
            epochs: int | None = None) -> tuple[Config, profiles.Profile, int]:
    """What :func:`train` will run: ``(configuration, profile, number of models)``.

    ``config``: a name or :class:`Config`; ``models`` defaults to the profile's
    ``models``; ``epochs`` to the configuration's epochs × the profile's
    ``train_epoch_scale`` (schedules scaled with them). Raises ``ValueError`` for a
    bad name, variant, profile or model count.
    """
    cfg = as_config(config, variant)
    prof = profiles.load(profile)
    n_models = prof.models if models is None else models
    if not isinstance(n_models, int) or isinstance(n_models, bool) or n_models < 1:
        raise ValueError(f"models must be a positive integer; got {n_models!r}")
    if epochs is None:
        epochs = max(1, round(cfg.epochs * prof.train_epoch_scale))
    return cfg.scaled(epochs), prof, n_models


def training_data(prof: profiles.Profile):
    """``(z, y, x_norm, y_norm, digest)``: normalised training pairs of the profile, their
    normalisers and a digest of the training trajectories (part of the run key)."""
    from alukit.process import data as D

    n_train = prof.n_train if prof.train_trajectories is None else prof.train_trajectories
    ds = D.datasets(prof.n_train, prof.n_val, prof.n_test, prof.n_steps, prof.seed, prof.dt)
    traj = np.ascontiguousarray(ds.train[:n_train])
    x_norm = D.Normalizer.fit(traj)
    feats, targs = D.derivative_pairs(traj, prof.dt)
    y_norm = D.Normalizer.fit(targs)
    digest = hashlib.sha256(traj.tobytes()).hexdigest()[:16]
    return x_norm.transform(feats), y_norm.transform(targs), x_norm, y_norm, digest


def _compiled(cfg: Config, n_samples: int, compile: bool | None) -> bool:
    """Whether :func:`alukit.training.engine.fit` compiles this run (see :func:`alukit.training.engine.want_compile`)."""
    return want_compile(compile, -(-n_samples // cfg.batch_size) * cfg.epochs, default_device())


def train(config, variant: str = "faithful", profile="quick", models: int | None = None, epochs: int | None = None,
          progress: bool = True, *, compile: bool | None = None, workers: int = 1) -> TrainResult:
    """Train (or load from the cache) one configuration's ``models`` members as one ensemble.

    ``config``: a name (``"mp+l1+swa"``, built in ``variant``) or a :class:`Config` (its own
    variant wins). ``profile``: ``"quick"``, ``"paper"``, a YAML path or a Profile (data sizes,
    seed, ``models``, ``train_epoch_scale``). ``epochs`` overrides the epoch count (schedules
    scale). ``workers``: size of the process pool this run trains in (recorded with the run).
    Bad arguments raise ``ValueError`` before any data is made or training starts.
    """
    cfg, prof, n_models = resolve(config, variant, profile, models, epochs)
    z, y, x_norm, y_norm, digest = training_data(prof)
    compiled = _compiled(cfg, len(z), compile)
    key = run_key(cfg, n_models, prof.seed, digest, compiled, CODE_VERSION)
    if all(p.exists() for p in paths(key)):
        return load(key, cfg, cached=True)
    seeds = member_seeds(prof.seed, cfg.seed_group, n_models)
    threads = torch.get_num_threads()
    if default_device().type == "cpu":
        # tiny batched matmuls: one thread per process is fastest, and immune to busy cores
        torch.set_num_threads(int(os.environ.get("ALUKIT_THREADS", "1")))
    try:
        out = fit(cfg, z, y, seeds, progress=progress, compile=compiled,
                  desc=f"{cfg.name} [{cfg.variant}, {prof.profile}]")
    finally:
        torch.set_num_threads(threads)
    zt, yt = torch.as_tensor(z, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    losses = {which: dataset_loss(build_ensemble(cfg, out[which], out["masks"]), zt, yt).numpy()
              for which in ("final", "swa")}
    save(key, cfg, {**out, "workers": workers}, x_norm, y_norm, losses)
    return load(key, cfg, cached=False)


def _worker(name: str, variant: str, prof: profiles.Profile, progress: bool, workers: int) -> float:
    torch.set_num_threads(1)
    return train(name, variant, prof, progress=progress, workers=workers).seconds


def default_workers() -> int:
    """Processes :func:`train_all` uses by default: 2 on CPU if the machine has ≥ 2 cores, 1 on CUDA."""
    return 1 if default_device().type == "cuda" else min(2, os.cpu_count() or 1)


def train_all(profile="quick", variant: str = "faithful", *, workers: int | None = None, progress: bool = True,
              names=CONFIG_NAMES) -> dict[str, TrainResult]:
    """Train (or load) every configuration in ``names`` → ``{name: TrainResult}``.

    Uncached runs go to ``workers`` processes (default :func:`default_workers`, one torch
    thread each), longest first; corrected SWA twins share one run.
    """
    from alukit.training.sparsity import METHODS

    prof = profiles.load(profile)
    configs = {name: resolve(name, variant, prof) for name in names}
    z, _, _, _, digest = training_data(prof)  # make (and cache) the data once, before any worker starts
    todo: dict[str, str] = {}
    for name, (cfg, _, n_models) in configs.items():
        key = run_key(cfg, n_models, prof.seed, digest, _compiled(cfg, len(z), None), CODE_VERSION)
        if not all(p.exists() for p in paths(key)) and key not in todo.values():
            todo[name] = key
    workers = default_workers() if workers is None else workers
    order = sorted(todo, key=lambda nm: -METHODS[configs[nm][0].method].cost)
    if workers > 1 and len(order) > 1:
        import concurrent.futures as cf
        import multiprocessing as mp

        with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
            for fut in [pool.submit(_worker, nm, variant, prof, progress, workers) for nm in order]:
                fut.result()
    else:
        for nm in order:
            train(nm, variant, prof, progress=progress)
    return {name: train(name, variant, prof, progress=False) for name in names}


# the version of everything a trained run depends on: the code train and train_all reach (configurations,
# networks, sparsity methods, SWA, the engine, run records, the training data), not the command line
CODE_VERSION = code_version(train, train_all)


# -- command line ----------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m alukit train", description="Train one configuration as a batched ensemble.")
    ap.add_argument("config", help=f"one of {', '.join(CONFIG_NAMES)}, or 'all'")
    ap.add_argument("--variant", default="faithful", help=f"one of {', '.join(VARIANTS)}")
    ap.add_argument("--profile", default="quick", help="quick, paper or a path to a profile YAML")
    ap.add_argument("--models", type=int, default=None, help="members per configuration (default: the profile's)")
    ap.add_argument("--epochs", type=int, default=None, help="epochs (default: the profile's; schedules scale)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    return ap


def main(argv=None) -> int:
    """``python -m alukit train CONFIG [--variant V] [--profile P] [--models N] [--epochs N] [--json]``."""
    args = _parser().parse_args(argv)
    try:
        prof = profiles.load(args.profile)
        if args.config == "all":
            if args.models is not None or args.epochs is not None:
                raise ValueError("--models/--epochs are not supported with 'all' (set them in the profile)")
            results = train_all(prof, args.variant, progress=not args.no_progress)
            summary = {name: r.summary() for name, r in results.items()}
        else:
            r = train(args.config, args.variant, prof, args.models, args.epochs, progress=not args.no_progress)
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
