"""Benchmark: Euler rollouts of a 10-model ensemble on 40 test trajectories × 5000 steps.

Ours: :func:`alukit.evaluation.stepper.rollout`, all models × trajectories in one batched
tensor, one loop over time; best of ``--repeat`` runs. Reference: the published
code's way — one model, one trajectory, one torch forward per sample of a single ``nn.Sequential`` — timed on
``--ref-models`` × ``--ref-trajectories`` rollouts and extrapolated to all. Also
times the rollouts of all 16 configurations (16 × 10 × 40 × 5000 steps).

Models are untrained ensembles from :func:`alukit.training.nets.init_ensemble` (He init) of the
published code's sizes (4 hidden layers of 25 for dense / L1 / STR, 64 for MP, 128
for DSR), rolled out as :class:`alukit.evaluation.stepper.StackedMLP` like the study does: the
cost of a rollout depends only on the layer sizes, not on the trained values. The
reference runs :meth:`alukit.training.nets.Ensemble.member`, the same weights as plain
``nn.Sequential`` models.

    python -m alukit bench rollout [--json] [--models 10] [--trajectories 40] [--steps 5000] [--repeat 3] [--threads N]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from alukit.process import data
from alukit.training import nets
from alukit.studies import paper
from alukit.evaluation import stepper
from alukit.book.bench import best_of, report

WIDTH = {"dense": 25, "l1": 25, "str": 25, "mp": 64, "dsr": 128}
DEPTH = 4


def random_ensemble(n_models: int, width: int, seed: int = 0) -> nets.Ensemble:
    """E He-initialised MLPs 13 → width×4 → 8 (the training engine's initialisation), untrained."""
    return nets.init_ensemble((13, *[width] * DEPTH, 8), seeds=[seed * 1000 + e for e in range(n_models)])


def reference_rollout(net: torch.nn.Module, traj: np.ndarray, x_norm, y_norm, dt: float = 10.0) -> np.ndarray:
    """One model, one trajectory, one forward per sample (the published code's loop); ``(T, 8)``."""
    T = traj.shape[0]
    pred = np.empty((T, 8))
    x = traj[0, :8].copy()
    for t in range(T):
        pred[t] = x
        if t + 1 == T:
            break
        features = torch.tensor(x_norm.transform(np.concatenate([x, traj[t, 8:]]))[None], dtype=torch.float32)
        with torch.no_grad():
            y = net(features).numpy()[0]
        x = x + dt * y_norm.inverse(y)
    return pred


def _config_width(name: str) -> int:
    return WIDTH[name.split("+")[0]]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m alukit bench rollout")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--trajectories", type=int, default=40)
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--ref-models", type=int, default=1, help="models timed for the reference")
    parser.add_argument("--ref-trajectories", type=int, default=2, help="trajectories timed for the reference")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs of ours (10 x 40 x 5000)")
    parser.add_argument("--configs", type=int, default=16, help="configurations in the all-configurations timing")
    parser.add_argument("--threads", type=int, default=None,
                        help=f"torch threads during our rollouts (default: 1 below {stepper.WIDE} units, else all)")
    args = parser.parse_args(argv)
    for name in ("models", "trajectories", "steps", "ref_models", "ref_trajectories", "repeat", "configs",
                 "threads"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")

    test = data.datasets(1, 1, args.trajectories, args.steps).test
    x_norm, y_norm = stepper.normalizers("faithful", test, test)
    ensemble = random_ensemble(args.models, WIDTH["dense"])
    fast = stepper.StackedMLP.from_ensemble(ensemble)

    ours, times = best_of(args.repeat, lambda: stepper.rollout(fast, test, x_norm, y_norm, threads=args.threads))
    ours_seconds = min(times)

    n_m, n_t = min(args.ref_models, args.models), min(args.ref_trajectories, args.trajectories)
    t = time.perf_counter()
    ref = np.stack([np.stack([reference_rollout(ensemble.member(k), test[j], x_norm, y_norm)
                              for j in range(n_t)]) for k in range(n_m)])
    ref_measured = time.perf_counter() - t
    ref_seconds = ref_measured * (args.models * args.trajectories) / (n_m * n_t)
    # the same rollouts up to float32 rounding (first 100 samples: random networks are
    # unstable, so rounding differences grow without bound later on)
    deviation = float(np.max(np.abs(ref - ours[:n_m, :n_t])[:, :, :100] / x_norm.std[:8]))

    configs = paper.CONFIG_NAMES[: args.configs]
    ensembles = [stepper.StackedMLP.from_ensemble(random_ensemble(args.models, _config_width(c), seed=i))
                 for i, c in enumerate(configs)]
    per_width: dict[str, float] = {}
    for name, model in zip(configs, ensembles):
        t = time.perf_counter()
        stepper.rollout(model, test, x_norm, y_norm, threads=args.threads)
        key = f"4x{_config_width(name)}"
        per_width[key] = per_width.get(key, 0.0) + time.perf_counter() - t
    all_seconds = sum(per_width.values())

    report(
        {
            "measured": f"rollout {args.models} models x {args.trajectories} trajectories x {args.steps} steps "
            f"(dense 4x25, best of {args.repeat}) vs per-model per-trajectory per-sample loop on {n_m} x {n_t} rollouts, "
            f"extrapolated x{args.models * args.trajectories / (n_m * n_t):g}",
            "ours_seconds": ours_seconds,
            "ours_all_repeats_seconds": times,
            "reference_seconds": ref_seconds,
            "ratio": ref_seconds / ours_seconds,
            "reference_measured_seconds": ref_measured,
            "max_deviation_sigma_first_100": deviation,
            "all_configs_seconds": all_seconds,
            "all_configs_seconds_by_width": per_width,
            "all_configs_measured": f"{len(configs)} configurations x {args.models} x {args.trajectories} x {args.steps}",
            "threads": args.threads or f"default: 1 below {stepper.WIDE} units, else {torch.get_num_threads()}",
            "target": ">= 200x; all 16 configurations <= 10 s",
        },
        args.json,
    )
    return 0
