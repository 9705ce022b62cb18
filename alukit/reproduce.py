"""The full study: ``python -m alukit reproduce --profile quick|paper [--variant faithful|corrected]``.

Stages, each cached so that nothing is computed twice:

1. **data** — :func:`alukit.data.profile_datasets` (cached by :mod:`alukit.data`);
2. **training** — :func:`alukit.train.train` for each of the 16 configurations
   (cached by :mod:`alukit.train`);
3. **rollouts** — :func:`evaluate`: Euler rollouts of every model on every test
   trajectory and the per-state errors at the horizons (cached here, keyed by the
   trained weights, the data, the variant and this code);
4. **metrics** — Tables 2–4, bootstrap intervals of every entry, and the verdicts on
   the paper's conclusions (cheap: computed from the cached errors).

Everything is written to ``results/<profile>-<variant>/``: ``table2.csv``,
``table3.csv``, ``table4.csv``, ``stats.csv`` (every statistic with its 95 %
bootstrap interval), ``comparisons.csv`` and ``conclusions.csv`` (verdicts),
``errors.npz`` (per-rollout, per-state errors ``(H, E, n, 8)`` per configuration)
and ``provenance.json`` (git commit, date, machine, torch version, seconds per stage,
configuration hash). The book's notebooks read these files through :func:`results`.

Variants: ``faithful`` rolls out with the test set's own normalisation statistics and
measures errors in test-set standard deviations (what the published code did);
``corrected`` uses the training statistics the models were trained with.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from . import cache, conclusions, data, metrics, paper, profiles, stepper
from .cache import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "results"
VARIANTS = stepper.VARIANTS
STAGES = ("data", "training", "rollouts", "metrics")
N_BOOT = 2000
EXAMPLE_TRAJECTORY = 0  # the test trajectory whose rollouts are kept for Figs. 4 and 5


def _check(profile, variant):
    profiles.profile_path(profile)  # raises ValueError naming the allowed profiles
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(map(repr, VARIANTS))}; got {variant!r}")


def _train_module():
    from . import train

    return train


def results_dir(profile: str, variant: str) -> Path:
    """``results/<profile>-<variant>/``."""
    _check(profile, variant)
    return RESULTS_DIR / f"{Path(str(profile)).stem}-{variant}"


def rollout_normalizers(result, variant: str, sets: data.Datasets, dt: float):
    """The ``(x_norm, y_norm)`` a variant rolls out with: test-set statistics (faithful) or the model's own (corrected)."""
    if variant == "faithful":
        return stepper.normalizers("faithful", sets.train, sets.test, dt)
    return result.x_norm, result.y_norm


def _weights_hash(mlp: stepper.StackedMLP) -> str:
    h = hashlib.sha256()
    for w, b in mlp.layers:
        for t in (w, b):
            if t is not None:
                h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()[:20]


_VERSION = None


def _version() -> str:
    global _VERSION
    if _VERSION is None:
        _VERSION = cache.code_version(stepper, metrics, evaluate, rollout_normalizers)
    return _VERSION


def evaluate(result, variant: str, sets: data.Datasets, dt: float = 10.0, horizons=metrics.HORIZONS) -> dict:
    """Roll out one trained configuration on the test set and measure it (cached).

    ``result``: a :class:`alukit.train.TrainResult` (ensemble of E models, rolled out
    as a :class:`alukit.stepper.StackedMLP` of its effective weights). Returns
    ``errors`` float64 ``(H, E, n_test, 8)`` (:func:`alukit.metrics.state_errors`, σ =
    the rollout normalisation's state std), ``example`` float32 ``(E, T, 8)`` (the
    rollouts of test trajectory 0, for Figs. 4 and 5), ``sigma`` ``(8,)``,
    ``horizons`` ``(H,)`` and ``sparsity`` ``(E,)`` in % of weights exactly zero.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(map(repr, VARIANTS))}; got {variant!r}")
    horizons = metrics.check_horizons(horizons, sets.test.shape[1])
    mlp = stepper.StackedMLP.from_ensemble(result.ensemble)
    x_norm, y_norm = rollout_normalizers(result, variant, sets, dt)
    norms = np.concatenate([x_norm.mean, x_norm.std, y_norm.mean, y_norm.std])
    key = cache.key("rollout", weights=_weights_hash(mlp), norms=hashlib.sha256(norms.tobytes()).hexdigest()[:20],
                    dt=float(dt), test=hashlib.sha256(sets.test.tobytes()).hexdigest()[:20], horizons=horizons,
                    version=_version())

    def compute():
        pred = stepper.rollout(mlp, sets.test, x_norm, y_norm, dt)
        sigma = np.asarray(x_norm.std[: stepper.N_STATES], np.float64)
        return {
            "errors": metrics.state_errors(pred, sets.test, sigma, horizons),
            "example": pred[:, EXAMPLE_TRAJECTORY].astype(np.float32),
            "sigma": sigma,
            "horizons": np.array(horizons),
            "sparsity": 100.0 * np.asarray(result.sparsity, np.float64),  # the engine reports fractions
        }

    return cache.cached_arrays(key, compute)


# ---------------------------------------------------------------- tables

def tables(errors: dict[str, np.ndarray], sparsity: dict[str, np.ndarray], horizons=metrics.HORIZONS):
    """Tables 2, 3 and 4 from per-configuration errors ``(H, E, n, 8)`` and sparsities ``(E,)`` (%).

    Same layout as :func:`alukit.paper.table2` etc. (rows in paper order, missing
    configurations left out); Table 3 has an extra ``survivors`` stat per horizon.
    """
    configs = [c for c in paper.CONFIG_NAMES if c in errors]
    index = pd.Index(configs, name="config")
    t2 = pd.DataFrame([metrics.divergence_percent(errors[c]) for c in configs], index=index, columns=list(horizons))
    rows = []
    for c in configs:
        mean, std, count = metrics.survivor_stats(errors[c])
        rows.append(np.stack([mean, std, count], 1).ravel())
    columns = pd.MultiIndex.from_product([list(horizons), ["mean", "std", "survivors"]], names=["horizon", "stat"])
    t3 = pd.DataFrame(rows, index=index, columns=columns)
    t4 = pd.DataFrame({"sparsity": [float(np.mean(sparsity[c])) for c in configs]}, index=index)
    return t2, t3, t4


def bootstrap_stats(errors: dict[str, np.ndarray], horizons=metrics.HORIZONS, n_boot: int = N_BOOT,
                    seed: int = 0) -> pd.DataFrame:
    """Every statistic of every configuration and horizon with its 95 % bootstrap interval (long format)."""
    rows = []
    for c in (c for c in paper.CONFIG_NAMES if c in errors):
        for k, stat in enumerate(metrics.STATISTICS):
            est, lo, hi = metrics.bootstrap(errors[c], stat, n_boot=n_boot, seed=seed + k)
            rows += [{"config": c, "horizon": h, "statistic": stat, "estimate": e, "low": l, "high": u}
                     for h, e, l, u in zip(horizons, est, lo, hi)]
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- provenance

def git_commit() -> str:
    """``HEAD``'s commit, ``-dirty`` if tracked files outside ``results/`` differ from it; ``unknown`` without git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)results"],
                               cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()  # code only
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def configuration_hash(profile: str, variant: str, configs=paper.CONFIG_NAMES) -> str:
    """Hash of what determines the results: the profile's parameters, the variant and each configuration's training hash."""
    _check(profile, variant)
    train = _train_module()
    resolved = {c: train.resolve(c, variant, profile) for c in configs}  # (Config, params, models)
    parts = {"profile": profiles.load(profile), "variant": variant,
             "configs": {c: [train.config_hash(cfg), n] for c, (cfg, _, n) in resolved.items()}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


# ---------------------------------------------------------------- the study

class Results(NamedTuple):
    """What ``results/<profile>-<variant>/`` holds, loaded."""

    table2: pd.DataFrame
    table3: pd.DataFrame
    table4: pd.DataFrame
    stats: pd.DataFrame
    comparisons: pd.DataFrame
    conclusions: pd.DataFrame
    errors: dict[str, np.ndarray]
    horizons: tuple[int, ...]
    provenance: dict


def _write_table3(t3: pd.DataFrame, path: Path):
    flat = t3.copy()
    flat.columns = [f"{h}_{s}" for h, s in t3.columns]
    cache.write_text(path, flat.to_csv())


def _read_table3(path: Path) -> pd.DataFrame:
    flat = pd.read_csv(path, index_col="config")
    pairs = [c.split("_") for c in flat.columns]
    flat.columns = pd.MultiIndex.from_tuples([(int(h), s) for h, s in pairs], names=["horizon", "stat"])
    return flat


def run(profile: str = "quick", variant: str = "faithful", configs=paper.CONFIG_NAMES, out_dir: Path | None = None,
        progress: bool = True, n_boot: int | None = None) -> Path:
    """Run every stage for ``configs`` and write ``out_dir`` (default :func:`results_dir`); returns ``out_dir``.

    ``n_boot``: bootstrap resamples per interval (default :data:`N_BOOT`).
    """
    _check(profile, variant)
    n_boot = N_BOOT if n_boot is None else n_boot
    unknown = [c for c in configs if c not in paper.CONFIG_NAMES]
    if unknown or not configs:
        raise ValueError(f"configs must be a non-empty subset of {', '.join(paper.CONFIG_NAMES)}; got {list(configs)}")
    out_dir = Path(out_dir) if out_dir is not None else results_dir(profile, variant)
    train = _train_module()
    params = profiles.load(profile)
    dt = float(params.get("dt", 10.0))
    horizons = metrics.check_horizons(params.get("horizons", metrics.HORIZONS), params.get("n_steps", 5000))
    seconds = dict.fromkeys(STAGES, 0.0)
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)

    t = time.perf_counter()
    sets = data.profile_datasets(profile)
    seconds["data"] = time.perf_counter() - t
    say(f"data: {sets.train.shape[0]}/{sets.val.shape[0]}/{sets.test.shape[0]} trajectories "
        f"({seconds['data']:.1f} s)")
    t = time.perf_counter()
    trained = train.train_all(profile, variant, progress=progress, names=tuple(configs))  # 2 processes on 2 cores
    seconds["training"] = time.perf_counter() - t
    errors, sparsity = {}, {}
    for c in configs:
        result = trained[c]
        t = time.perf_counter()
        ev = evaluate(result, variant, sets, dt, horizons)
        seconds["rollouts"] += time.perf_counter() - t
        errors[c], sparsity[c] = ev["errors"], ev["sparsity"]
        say(f"{c}: trained ({result.seconds:.0f} s), rolled out; "
            f"diverged at {horizons[-1]}: {metrics.divergence_percent(ev['errors'])[-1]:.1f} %")

    t = time.perf_counter()
    t2, t3, t4 = tables(errors, sparsity, horizons)
    stats = bootstrap_stats(errors, horizons, n_boot=n_boot)
    comparisons, summary = conclusions.check(errors, horizons, n_boot=n_boot)
    seconds["metrics"] = time.perf_counter() - t

    cache.write_text(out_dir / "table2.csv", t2.to_csv())
    _write_table3(t3, out_dir / "table3.csv")
    cache.write_text(out_dir / "table4.csv", t4.to_csv())
    cache.write_text(out_dir / "stats.csv", stats.to_csv(index=False))
    cache.write_text(out_dir / "comparisons.csv", comparisons.to_csv(index=False))
    cache.write_text(out_dir / "conclusions.csv", summary.to_csv(index=False))
    cache.save_npz(out_dir / "errors.npz", horizons=np.array(horizons), **errors)
    provenance = {
        "profile": str(profile), "variant": variant, "configs": list(configs),
        "git_commit": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(), "torch": _torch_version(),
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
        "configuration_hash": configuration_hash(profile, variant, configs),
        "evaluation_version": _version(),
        "training_version": train.CODE_VERSION,
        "n_boot": n_boot,
    }
    cache.write_json(out_dir / "provenance.json", provenance, indent=2)
    say(f"results written to {out_dir} ({sum(seconds.values()):.0f} s)")
    return out_dir


def _machine() -> dict:
    from .bench import machine

    return machine()


def _torch_version() -> str:
    import torch

    return torch.__version__


def load(profile: str = "quick", variant: str = "faithful", out_dir: Path | None = None) -> Results:
    """Read ``results/<profile>-<variant>/`` (FileNotFoundError if it was never written)."""
    out_dir = Path(out_dir) if out_dir is not None else results_dir(profile, variant)
    if not (out_dir / "provenance.json").exists():
        raise FileNotFoundError(f"no results in {out_dir}; run: python -m alukit reproduce --profile {profile} "
                                f"--variant {variant}")
    arrays = cache.load_npz(out_dir / "errors.npz")
    horizons = tuple(int(h) for h in arrays.pop("horizons"))
    t2 = pd.read_csv(out_dir / "table2.csv", index_col="config")
    t2.columns = [int(c) for c in t2.columns]
    return Results(
        table2=t2, table3=_read_table3(out_dir / "table3.csv"),
        table4=pd.read_csv(out_dir / "table4.csv", index_col="config"),
        stats=pd.read_csv(out_dir / "stats.csv"), comparisons=pd.read_csv(out_dir / "comparisons.csv"),
        conclusions=pd.read_csv(out_dir / "conclusions.csv"),
        errors={c: arrays[c] for c in paper.CONFIG_NAMES if c in arrays}, horizons=horizons,
        provenance=json.loads((out_dir / "provenance.json").read_text()),
    )


def is_current(profile: str = "quick", variant: str = "faithful") -> bool:
    """True if ``results/<profile>-<variant>/`` holds all 16 configurations for the current configuration and code.

    Code: the evaluation's (stepper, metrics) and the training engine's, whose runs the
    notebooks load alongside these results.
    """
    prov = results_dir(profile, variant) / "provenance.json"
    if not prov.exists():
        return False
    p = json.loads(prov.read_text())
    return (p.get("configs") == list(paper.CONFIG_NAMES) and p.get("evaluation_version") == _version()
            and p.get("configuration_hash") == configuration_hash(profile, variant)
            and p.get("training_version") == _train_module().CODE_VERSION)


def results(profile: str = "quick", variant: str = "faithful") -> Results:
    """The study's results for the notebooks: loaded if current (:func:`is_current`), else run first (cached stages)."""
    if not is_current(profile, variant):
        run(profile, variant, progress=False)
    return load(profile, variant)


def example_rollouts(config: str, profile: str = "quick", variant: str = "faithful"):
    """``(true (T, 13), predicted (E, T, 8), sigma (8,))`` for test trajectory 0 of one configuration.

    Uses the cached stages (data, training, rollouts); ``sigma`` is the state scale of
    the variant's metric.
    """
    _check(profile, variant)
    sets = data.profile_datasets(profile)
    result = _train_module().train(config, variant=variant, profile=profile, progress=False)
    params = profiles.load(profile)
    ev = evaluate(result, variant, sets, float(params.get("dt", 10.0)), params.get("horizons", metrics.HORIZONS))
    return sets.test[EXAMPLE_TRAJECTORY], ev["example"], ev["sigma"]


def banner(profile: str) -> str:
    """HTML note on the fidelity of a profile's results (empty for the paper profile)."""
    p = profiles.load(profile)
    if p.get("profile", profile) == "paper":
        return ""
    paper_p = profiles.load("paper")
    facts = [f"{p.get(k, '?')} {what} (paper: {paper_p.get(k, '?')})" for k, what in
             (("n_train", "training trajectories"), ("n_test", "test trajectories"),
              ("models", "models per configuration"))]
    if "epochs" in p:
        facts.append(f"{p['epochs']} epochs (paper: 100–200)")
    if p.get("train_epoch_scale", 1.0) != paper_p.get("train_epoch_scale", 1.0):
        facts.append(f"{100 * p['train_epoch_scale']:g} % of the paper's training epochs")
    return ('<div class="admonition warning"><p class="admonition-title">'
            f"{p.get('profile', profile).capitalize()} profile</p><p>These results come from the "
            f"<code>{p.get('profile', profile)}</code> profile: {', '.join(facts)}. It runs the same code as the "
            "paper profile with far less compute, so its numbers are indicative only: percentages move in "
            "steps of " f"{100 / (p.get('models', 1) * p.get('n_test', 1)):.2g} points and intervals are wide. "
            "Build the book with <code>--profile paper</code> for the full study.</p>"
            f"{_picture_note(profile)}</div>")


def _picture_note(profile) -> str:
    """:func:`alukit.picture.note` on the profile's faithful Table 2, if it has been written ('' otherwise)."""
    from . import picture

    path = results_dir(profile, "faithful") / "table2.csv"
    t2 = pd.read_csv(path, index_col="config") if path.is_file() else None
    return picture.note(t2, profile) if t2 is not None and set(paper.CONFIG_NAMES) <= set(t2.index) else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alukit reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", help="quick | paper | path to a params YAML (default quick)")
    parser.add_argument("--variant", default="faithful", choices=VARIANTS)
    parser.add_argument("--configs", default=",".join(paper.CONFIG_NAMES),
                        help="comma-separated configuration names (default: all 16)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default results/<profile>-<variant>)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        out = run(args.profile, args.variant, [c for c in args.configs.split(",") if c], args.out,
                  progress=not args.quiet)
    except ValueError as exc:
        parser.error(str(exc))
    print(load(args.profile, args.variant, out).table2.to_string())
    return 0
