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
``train_many(jobs, workers=None)`` → ``[TrainResult]``: runs given as ``(Config, profile, models)``
    (a Config trained as it is), deduplicated by run key, uncached ones in one process pool.
``train_all(profile="quick", variant="faithful")`` → ``{name: TrainResult}`` for all 16 (through
    ``train_many``).
CLI: ``python -m alukit train CONFIG [--variant V] [--profile P] [--models N] [--epochs N] [--json]``.

The training itself is :func:`alukit.training.engine.fit` (one batched ensemble per configuration).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import threading

import numpy as np
import torch
from tqdm import tqdm

from alukit import cache, profiles, settings
from alukit.codeversion import code_version
from alukit.process import data as D
from alukit.training import cluster, pool
from alukit.training.config import CONFIG_NAMES, VARIANTS, Config, as_config, config_hash
from alukit.training.engine import build_ensemble, dataset_loss, default_device, fit, member_seeds, want_compile
from alukit.training.runs import TrainResult, finished, load, paths, run_key, save
from alukit.training.sparsity import METHODS

__all__ = ["train", "train_many", "train_all", "resolve", "training_data", "default_workers", "main", "TrainResult",
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
    n_train = prof.n_train if prof.train_trajectories is None else prof.train_trajectories
    ds = D.datasets(prof.n_train, prof.n_val, prof.n_test, prof.n_steps, prof.seed, prof.dt)
    traj = np.ascontiguousarray(ds.train[:n_train])
    x_norm = D.Normalizer.fit(traj)
    feats, targs = D.derivative_pairs(traj, prof.dt)
    y_norm = D.Normalizer.fit(targs)
    digest = hashlib.sha256(traj.tobytes()).hexdigest()[:16]
    return x_norm.transform(feats), y_norm.transform(targs), x_norm, y_norm, digest


def _compiled(cfg: Config, n_samples: int, n_models: int, compile: bool | None) -> bool:
    """Whether :func:`alukit.training.engine.fit` compiles this run (see :func:`alukit.training.engine.want_compile`)."""
    return want_compile(compile, -(-n_samples // cfg.batch_size) * cfg.epochs, default_device(), n_models)


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
    compiled = _compiled(cfg, len(z), n_models, compile)
    key = run_key(cfg, n_models, prof.seed, digest, compiled, CODE_VERSION)
    done = finished(key, cfg)  # a damaged record is discarded (with a warning) and trained again
    if done is not None:
        return done
    seeds = member_seeds(prof.seed, cfg.seed_group, n_models)
    threads = torch.get_num_threads()
    if default_device().type == "cpu":
        # tiny batched matmuls: one thread per process is fastest, and immune to busy cores
        torch.set_num_threads(settings.threads())
    try:
        out = fit(cfg, z, y, seeds, progress=progress, compile=compiled,
                  desc=f"{cfg.name} [{cfg.variant}, {prof.name}"
                       + ("]" if prof.train_trajectories is None else f", {prof.train_trajectories} trajectories]"))
    finally:
        torch.set_num_threads(threads)
    zt, yt = torch.as_tensor(z, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    losses = {which: dataset_loss(build_ensemble(cfg, out[which], out["masks"]), zt, yt).numpy()
              for which in ("final", "swa")}
    save(key, cfg, {**out, "workers": workers}, x_norm, y_norm, losses)
    return load(key, cfg, cached=False)


def _job(job) -> tuple[Config, profiles.Profile, int]:
    """A :func:`train_many` job, checked: ``(config, Profile, models)`` with the config's epochs kept."""
    try:
        cfg, prof, n_models = job
    except (TypeError, ValueError):
        raise ValueError(f"a job must be a (config, profile, models) triple; got {job!r}") from None
    if not isinstance(cfg, Config):
        raise ValueError(f"a job's config must be a Config (resolve() makes one from a name); got {cfg!r}")
    return resolve(cfg, cfg.variant, prof, n_models, epochs=cfg.epochs)


def _train_job(job: tuple[Config, profiles.Profile, int], progress: bool, workers: int) -> float:
    """Train (or load) one checked job; its training seconds."""
    cfg, prof, n_models = job
    return train(cfg, cfg.variant, prof, n_models, cfg.epochs, progress=progress, workers=workers).seconds


def _worker(args: tuple) -> float:
    """One job in a worker process (one torch thread): ``args`` = ``(job, progress, workers)``."""
    torch.set_num_threads(1)
    return _train_job(*args)


def _pool(jobs: list, keys: list[str], workers: int, progress: bool, on_done=None) -> None:
    """Train checked ``jobs`` (run ``keys``), started in this order, on ``workers`` spawned processes (in this
    process when ``workers`` or the number of jobs is 1). On Ctrl-C or SIGTERM the workers stop at once and
    :class:`alukit.training.pool.Stopped` says how many runs finished: they are in the cache, and the same
    command resumes from there. ``on_done(finished)``: called as runs finish (a progress bar over runs)."""
    try:
        if workers > 1 and len(jobs) > 1:
            pool.run_all(_worker, [(job, progress, workers) for job in jobs], workers, on_done=on_done)
        else:
            pool.run_all(lambda job: _train_job(job, progress, 1), jobs, 1, on_done=on_done)
    except pool.Stopped:
        raise _stopped(keys) from None


def _stopped(keys: list[str]) -> pool.Stopped:
    """What a stop keeps: the runs of ``keys`` whose cache entries are complete, counted in the cache (a run a
    worker finished is kept even where its completion had not reached this process yet)."""
    return pool.Stopped(sum(all(p.exists() for p in paths(key)) for key in keys), len(keys))


def _remote_run(item: tuple, workers: int) -> dict:
    """A cluster task (:mod:`alukit.training.cluster`): train (or load) one checked job in the worker's own cache,
    one torch thread as in :func:`_worker`; ``item`` = ``(job, compiled)``. Returns the run's ``key`` and the
    bytes of its cache entry (``pt``, ``npz``) for the client to write into its cache."""
    (cfg, prof, n_models), compiled = item
    torch.set_num_threads(1)
    tqdm.set_lock(threading.RLock())  # not tqdm's semaphore, which a worker closed mid-task would leave registered
    result = train(cfg, cfg.variant, prof, n_models, cfg.epochs, progress=False, compile=compiled, workers=workers)
    pt, npz = paths(result.key)
    return {"key": result.key, "pt": pt.read_bytes(), "npz": npz.read_bytes()}


def _receive(key: str, entry: dict) -> None:
    """Write a run's cache entry that a cluster task returned (:func:`_remote_run`) into this cache, ``.npz`` last."""
    if entry["key"] != key:
        raise cluster.ClusterError(f"a worker trained run {entry['key']} where this alukit expects {key}: the "
                                   "workers run another version of alukit, make other training data or set another ALUKIT_COMPILE")
    for path, blob in zip(paths(key), (entry["pt"], entry["npz"])):
        if not (path.exists() and path.read_bytes() == blob):  # a worker sharing this cache wrote it already
            cache.atomic_write(path, lambda tmp, blob=blob: tmp.write_bytes(blob))


def _on_cluster(jobs: list, keys: list[str], compiled: list[bool], scheduler: str, workers: int,
                progress: bool) -> int:
    """Train checked ``jobs`` as tasks of a Dask cluster (:func:`alukit.training.cluster.run_tasks`), each run's
    cache entry written here as it comes back; the number of workers. Ctrl-C: :class:`alukit.training.pool.Stopped`."""
    try:
        return cluster.run_tasks(_remote_run, list(zip(jobs, compiled)), scheduler=scheduler, workers=workers,
                                 keys=[f"alukit-train-{key}" for key in keys], progress=progress,
                                 on_result=lambda i, entry: _receive(keys[i], entry))
    except pool.Stopped:
        raise _stopped(keys) from None


def _kernel_shape(cfg: Config) -> tuple:
    """What a compiled kernel is specialised to: the layer widths and the step's flags."""
    return cfg.dims, cfg.method, cfg.bias, cfg.l1 > 0, cfg.l1_input is not None


def _spread_kernels(order: list[int], configs: list[Config], workers: int) -> list[int]:
    """``order`` (longest first) with each run moved behind runs of other kernel shapes while a run of its shape
    is among the last ``workers − 1`` started: two workers then do not compile the same kernel at once (the
    second finds it in the compile cache). The order of results is unaffected."""
    out, left = [], list(order)
    while left:
        busy = {_kernel_shape(configs[i]) for i in out[len(out) - workers + 1:]} if workers > 1 else set()
        pick = next((i for i in left if _kernel_shape(configs[i]) not in busy), left[0])
        out.append(pick)
        left.remove(pick)
    return out


def default_workers() -> int:
    """Processes :func:`train_many` uses by default: 2 on CPU if the machine has ≥ 2 cores, 1 on CUDA."""
    return 1 if default_device().type == "cuda" else min(2, os.cpu_count() or 1)


def train_many(jobs, *, workers: int | None = None, progress: bool = True, scheduler: str | None = None,
               runs_bar: bool = False) -> list[TrainResult]:
    """Train (or load) ``jobs`` → one :class:`TrainResult` per job, in order.

    A job is ``(config, profile, models)``: ``config`` a :class:`Config` trained as it is (its
    epochs are kept, the profile's ``train_epoch_scale`` is not applied; :func:`resolve` makes
    one from a name), ``profile`` a name, path or Profile (the data: the first
    ``train_trajectories`` of its ``n_train`` training trajectories), ``models`` members.
    Jobs with one run key train once; uncached runs go to ``workers`` processes (default
    :func:`default_workers`, one torch thread each), the longest first. A result's ``cached``
    is False where this call trained its run.

    ``scheduler``: None (the process pool above), ``"local"`` (a Dask ``LocalCluster`` of ``workers``
    processes) or ``tcp://HOST:PORT`` (a running Dask scheduler): the same runs as cluster tasks, the
    same results, their cache entries written here (:mod:`alukit.training.cluster`). ``runs_bar``: show
    a tqdm bar over runs instead of one per run (always so on a cluster).
    """
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    if scheduler is not None:
        cluster.check_scheduler(scheduler)
    jobs = [_job(job) for job in jobs]
    samples: dict[profiles.Profile, tuple[int, str]] = {}
    for _, prof, _ in jobs:  # make (and cache) the data once per profile, before any worker starts
        if prof not in samples:
            z, _, _, _, digest = training_data(prof)
            samples[prof] = (len(z), digest)
    compiled = [_compiled(cfg, samples[prof][0], n_models, None) for cfg, prof, n_models in jobs]
    keys = [run_key(cfg, n_models, prof.seed, samples[prof][1], c, CODE_VERSION)
            for (cfg, prof, n_models), c in zip(jobs, compiled)]
    todo: dict[str, int] = {}  # uncached run key → its first job
    for i, key in enumerate(keys):
        if key not in todo and finished(key, jobs[i][0]) is None:
            todo[key] = i

    def cost(i: int) -> tuple[int, int]:  # mini-batches × members, then the method's relative cost
        cfg, prof, n_models = jobs[i]
        return -(-samples[prof][0] // cfg.batch_size) * cfg.epochs * n_models, METHODS[cfg.method].cost

    n_workers = default_workers() if workers is None else workers
    order = _spread_kernels(sorted(todo.values(), key=cost, reverse=True), [jobs[i][0] for i in range(len(jobs))],
                            n_workers)
    if scheduler is not None and order:
        _on_cluster([jobs[i] for i in order], [keys[i] for i in order], [compiled[i] for i in order], scheduler,
                    n_workers, progress)
    elif order:
        with tqdm(total=len(order), desc="runs", unit="run", disable=not (progress and runs_bar)) as bar:
            _pool([jobs[i] for i in order], [keys[i] for i in order], n_workers, progress and not runs_bar,
                  on_done=lambda k: bar.update(k - bar.n))
    return [load(key, cfg, cached=key not in todo) for key, (cfg, _, _) in zip(keys, jobs)]


def train_all(profile="quick", variant: str = "faithful", *, workers: int | None = None, progress: bool = True,
              names=CONFIG_NAMES) -> dict[str, TrainResult]:
    """Train (or load) every configuration in ``names`` → ``{name: TrainResult}``.

    The profile's runs (:func:`resolve`) through :func:`train_many`: uncached runs on ``workers``
    processes (default :func:`default_workers`), longest first; corrected SWA twins share one run.
    """
    prof = profiles.load(profile)
    jobs = [resolve(name, variant, prof) for name in names]
    return dict(zip(names, train_many(jobs, workers=workers, progress=progress)))


# the version of everything a trained run depends on: the code train and train_all reach (configurations,
# networks, sparsity methods, SWA, the engine, run records, the training data), not the command line
CODE_VERSION = code_version(train)


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
