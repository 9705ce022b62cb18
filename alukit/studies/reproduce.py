"""The full study: ``python -m alukit reproduce --profile quick|paper [--variant faithful|corrected|both]``.

This command is the only thing in alukit that trains networks and rolls them out; the
book's chapters only read what it writes (:func:`load`). Stages, each cached so that
nothing is computed twice:

1. **data** — :func:`alukit.process.data.profile_datasets` (cached by :mod:`alukit.process.data`);
2. **training** — :func:`alukit.training.train.train` for each of the 16 configurations
   (cached by :mod:`alukit.training.train`);
3. **rollouts** — :func:`evaluate`: Euler rollouts of every model on every test
   trajectory and the per-state errors at the horizons (cached here, keyed by the
   trained weights, the data, the variant and this code);
4. **metrics** — Tables 2–4, bootstrap intervals of every entry, and the verdicts on
   the paper's conclusions (cheap: computed from the cached errors).

Everything is written to ``results/<profile>-<variant>/``, small files, no pickle.
:data:`FILES` lists and documents each one; the same text is written into the
folder's ``README.md``. ``provenance.json`` records the git commit, date, machine,
torch version, seconds per stage, configuration hash, the code versions and the
:data:`FORMAT` of the folder; :func:`stale_reason` compares it with the current code
and configuration.

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

from alukit import cache, paths, profiles
from alukit.codeversion import code_version
from alukit.studies import conclusions, paper, sparse_dnn
from alukit.studies.equivalence import accepted_versions
from alukit.process import data
from alukit.evaluation import metrics, stepper
from alukit.paths import REPO_ROOT

RESULTS_DIR = paths.RESULTS
VARIANTS = stepper.VARIANTS
STAGES = ("data", "training", "rollouts", "metrics")
N_BOOT = 2000
EXAMPLE_TRAJECTORY = 0  # the test trajectory whose rollouts are kept for Figs. 4 and 5
EXAMPLE_CONFIGS = ("l1", "str")  # Figs. 4 and 5: the configurations whose example rollouts are kept
# trained models the chapters look inside: ch. 3 the STR layer, ch. 6 DSR + L1 and (exercise) dense, L1, MP rolled out anew
INSPECTED_CONFIGS = ("dense", "l1", "mp", "str", "dsr+l1")
# chapter 5's exercise "a stronger L1 penalty": the L1 configuration with λ × this factor, its first models
EXERCISE_L1_FACTOR = 10.0
EXERCISE_MODELS = 3
FORMAT = 3  # version of the folder layout below; load() refuses folders of another format
FILES = {
    "table2.csv": "Table 2: % of rollouts diverged; one row per configuration (`config`), one column per horizon "
                  "(samples of dt seconds).",
    "table3.csv": "Table 3: error (the paper's RFMSE) of the rollouts that did not diverge; columns "
                  "`<horizon>_mean`, `<horizon>_std` (ddof 0) and `<horizon>_survivors` (how many rollouts).",
    "table4.csv": "Table 4: `sparsity`, % of weights exactly zero, mean over the ensemble's models.",
    "stats.csv": "Every statistic (`divergence` %, `survivor_mean`, `capped_mean`) of every configuration and "
                 "horizon with its 95 % bootstrap interval (`estimate`, `low`, `high`; models and trajectories "
                 "resampled); long format.",
    "comparisons.csv": "Each comparison behind the paper's conclusions: `better` vs `worse` configuration, statistic, "
                       "horizon, difference with its bootstrap interval, `verdict`.",
    "conclusions.csv": "The paper's five conclusions (`claim`), how they are tested, and the `verdict` "
                       "(holds / does not hold / inconclusive).",
    "errors.npz": "Per-rollout, per-state normalised errors e_s(L): one array per configuration, float64 "
                  "(H, E, n_test, 8) (horizons x models x test trajectories x states), `extra/<name>` the same for "
                  "the exercise and probe runs (`exercise_configs`, `probe_configs`), and `horizons` (H,).",
    "training.npz": "Per-epoch training logs of every configuration (and of the exercise and probe runs, "
                    "`exercise_configs`, `probe_configs`): "
                    "`<config>/log/<key>` for every key of the "
                    "trainer's log (`loss` (E, epochs) training MSE in normalised units, `lr` (epochs,), "
                    "`layer_sparsity` (E, epochs, L) fraction of zero weights per layer, `dsr_h` (E, epochs) DSR's "
                    "threshold H, and any further key such as STR thresholds); and the final models' "
                    "`<config>/final/<key>`: `sparsity` (E,) and `layer_sparsity` (E, L) fractions of weights "
                    "exactly zero, `train_loss` (E,) training-set MSE, `epochs` and `seconds` (0-d).",
    "rollouts.npz": "Example rollouts behind Figs. 4 and 5: `true` (T, 13) the test trajectory "
                    "(8 states then 5 inputs, physical units) they start from and are compared to, `trajectory` "
                    "(its index in the test set), `dt` (s); per configuration of EXAMPLE_CONFIGS "
                    "`<config>/pred` float32 (E, T, 8) the E models' rollouts (NaN after a rollout blew up) and "
                    "`<config>/sigma` (8,) the state scales of the variant's metric.",
    "models.npz": "The trained ensembles the chapters inspect (INSPECTED_CONFIGS and the exercise and probe runs of "
                  "`exercise_configs`, `probe_configs`): `<config>/weight<l>` float32 "
                  "(E, n_in, n_out) effective weights of layer l (what the model computes with), "
                  "`<config>/bias<l>` (E, 1, n_out) if the layers have biases, `<config>/raw_weight<l>` (E, n_in, "
                  "n_out) the weights before soft thresholding and `<config>/threshold` (E, L) the learned "
                  "thresholds sigmoid(s) (STR only), `<config>/mask<l>` bool (E, n_in, n_out) the persistent "
                  "masks, True where a weight is active (corrected MP and DSR only), and `<config>/dims` the layer widths.",
    "provenance.json": "How the folder was made: profile, variant, configurations, git commit, date, machine, torch, "
                       "seconds per stage, configuration hash, evaluation and training code versions, bootstrap "
                       "resamples, `format`.",
}


def _check(profile, variant):
    profiles.profile_path(profile)  # raises ValueError naming the allowed profiles
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(map(repr, VARIANTS))}; got {variant!r}")


def _train_module():
    """:mod:`alukit.training.train`, imported on first use (the tests put a fake trainer here)."""
    from alukit.training import train

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
        _VERSION = code_version(evaluate, rollout_normalizers, write_results)
    return _VERSION


def evaluate(result, variant: str, sets: data.Datasets, dt: float = 10.0, horizons=metrics.HORIZONS) -> dict:
    """Roll out one trained configuration on the test set and measure it (cached).

    ``result``: a :class:`alukit.training.train.TrainResult` (ensemble of E models, rolled out
    as a :class:`alukit.evaluation.stepper.StackedMLP` of its effective weights). Returns
    ``errors`` float64 ``(H, E, n_test, 8)`` (:func:`alukit.evaluation.metrics.state_errors`, σ =
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

    Same layout as :func:`alukit.studies.paper.table2` etc. (rows in paper order, missing
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


# profile keys that no result of the study depends on (chapter 1, the sparse-DNN chapter)
NOT_STUDY_KEYS = ("process_trajectories", *sparse_dnn.PROFILE_KEYS)


def configuration_hash(profile: str, variant: str, configs=paper.CONFIG_NAMES) -> str:
    """Hash of what determines the results: the profile's parameters (less those of other chapters,
    :data:`NOT_STUDY_KEYS`), the variant and each configuration's training hash."""
    _check(profile, variant)
    train = _train_module()
    resolved = {c: train.resolve(c, variant, profile) for c in configs}  # (Config, params, models)
    study = {k: v for k, v in profile_values(profile).items() if k not in NOT_STUDY_KEYS}
    parts = {"profile": study, "variant": variant,
             "configs": {c: [train.config_hash(cfg), n] for c, (cfg, _, n) in resolved.items()}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


# ---------------------------------------------------------------- the study

class Results(NamedTuple):
    """What ``results/<profile>-<variant>/`` holds, loaded (see :data:`FILES`).

    ``training``: ``{config: {"log": {key: array}, "final": {key: array}}}`` from
    ``training.npz``; ``rollouts``: ``{"true", "trajectory", "dt", "pred": {config: (E, T, 8)},
    "sigma": {config: (8,)}}`` from ``rollouts.npz``; ``models``: ``{config: {name: array}}``
    from ``models.npz``.
    """

    table2: pd.DataFrame
    table3: pd.DataFrame
    table4: pd.DataFrame
    stats: pd.DataFrame
    comparisons: pd.DataFrame
    conclusions: pd.DataFrame
    errors: dict[str, np.ndarray]
    horizons: tuple[int, ...]
    provenance: dict
    training: dict
    rollouts: dict
    models: dict
    extra_errors: dict  # exercise and probe run → errors (H, E, n_test, 8), as ``errors``


def read_table2(out_dir: Path) -> pd.DataFrame | None:
    """A results folder's ``table2.csv`` (index ``config``, integer horizon columns); None if absent."""
    path = Path(out_dir) / "table2.csv"
    if not path.is_file():
        return None
    t2 = pd.read_csv(path, index_col="config")
    t2.columns = [int(c) for c in t2.columns]
    return t2


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
    params = profile_values(profile)
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
    extra = {name: train.train(cfg, variant, profile, models=n, progress=progress)
             for name, (cfg, n) in {**exercise_configs(variant), **probe_configs(variant)}.items()}
    seconds["training"] = time.perf_counter() - t
    errors, sparsity, examples = {}, {}, {}
    for c in configs:
        t = time.perf_counter()
        ev = evaluate(trained[c], variant, sets, dt, horizons)
        seconds["rollouts"] += time.perf_counter() - t
        errors[c], sparsity[c] = ev["errors"], ev["sparsity"]
        if c in EXAMPLE_CONFIGS:
            examples[f"{c}/pred"], examples[f"{c}/sigma"] = ev["example"], ev["sigma"]
        say(f"{c}: trained ({trained[c].seconds:.0f} s), rolled out; "
            f"diverged at {horizons[-1]}: {metrics.divergence_percent(ev['errors'])[-1]:.1f} %")
    t = time.perf_counter()
    extra_errors = {name: evaluate(r, variant, sets, dt, horizons)["errors"] for name, r in extra.items()}
    seconds["rollouts"] += time.perf_counter() - t

    logs, skipped = training_arrays({**trained, **extra})
    cache.save_npz(out_dir / "training.npz", **logs)
    cache.save_npz(out_dir / "rollouts.npz", true=sets.test[EXAMPLE_TRAJECTORY], trajectory=np.array(EXAMPLE_TRAJECTORY),
                   dt=np.array(dt), **examples)
    cache.save_npz(out_dir / "models.npz", **model_arrays({**trained, **extra}, INSPECTED_CONFIGS + tuple(extra)))
    cache.write_text(out_dir / "README.md", folder_readme(profile, variant))
    provenance = {
        "profile": str(profile), "variant": variant, "configs": list(configs),
        "git_commit": git_commit(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(), "torch": _torch_version(),
        "seconds": seconds,
        "configuration_hash": configuration_hash(profile, variant, configs),
        "evaluation_version": _version(),
        "training_version": train.CODE_VERSION,
        # each distinct run's own training time, from its record (also when it was cached before this command)
        "training_run_seconds": round(sum({getattr(r, "key", id(r)): r.seconds
                                           for r in [*trained.values(), *extra.values()]}.values()), 1),
        "training_engine": sorted({"compiled" if r.extra.get("compiled") else "eager" for r in trained.values()}),
        "training_workers": sorted({r.extra.get("workers") or 1 for r in trained.values()}),
        "format": FORMAT,
        "log_keys_not_saved": skipped,
    }
    write_results(out_dir, errors, sparsity, horizons, provenance, n_boot,  # provenance.json last: a finished folder
                  extra_errors=extra_errors)
    say(f"results written to {out_dir} ({sum(seconds.values()):.0f} s)")
    return out_dir


def write_results(out_dir: Path, errors: dict[str, np.ndarray], sparsity: dict[str, np.ndarray], horizons,
                  provenance: dict, n_boot: int = N_BOOT, extra_errors: dict[str, np.ndarray] | None = None) -> None:
    """Compute Tables 2–4, the bootstrap intervals and the verdicts, and write them with ``provenance.json``.

    ``errors``: configuration → per-state errors ``(H, E, n, 8)``; ``sparsity``:
    configuration → ``(E,)`` % of weights exactly zero. Writes the CSV files,
    ``errors.npz`` (with ``extra_errors``, runs outside the tables, as ``extra/<name>``) and,
    last, ``provenance.json`` (``provenance`` with
    ``seconds["metrics"]``, the time this took, and ``n_boot`` added). A folder with
    only these files (no ``training.npz`` etc.) is read with ``load(..., tables_only=True)``.
    """
    t = time.perf_counter()
    t2, t3, t4 = tables(errors, sparsity, horizons)
    stats = bootstrap_stats(errors, horizons, n_boot=n_boot)
    comparisons, summary = conclusions.check(errors, horizons, n_boot=n_boot)
    seconds = {**provenance.get("seconds", {}), "metrics": time.perf_counter() - t}

    cache.write_text(out_dir / "table2.csv", t2.to_csv())
    _write_table3(t3, out_dir / "table3.csv")
    cache.write_text(out_dir / "table4.csv", t4.to_csv())
    cache.write_text(out_dir / "stats.csv", stats.to_csv(index=False))
    cache.write_text(out_dir / "comparisons.csv", comparisons.to_csv(index=False))
    cache.write_text(out_dir / "conclusions.csv", summary.to_csv(index=False))
    extra = {f"extra/{name}": e for name, e in (extra_errors or {}).items()}
    cache.save_npz(out_dir / "errors.npz", horizons=np.array(horizons), **errors, **extra)
    provenance = {**provenance, "seconds": {k: round(v, 3) for k, v in seconds.items()}, "n_boot": n_boot}
    cache.write_json(out_dir / "provenance.json", provenance, indent=2)


def training_arrays(trained: dict) -> tuple[dict[str, np.ndarray], list[str]]:
    """``training.npz``'s arrays from ``{config: TrainResult}``, and the log keys left out (not numeric).

    Every key of each ``result.log`` becomes ``<config>/log/<key>``, whatever the
    trainer logs; the final models' figures become ``<config>/final/<key>``.
    """
    out, skipped = {}, []
    for c, r in trained.items():
        for k, v in r.log.items():
            a = np.asarray(v)
            if a.dtype.kind not in "biuf":
                skipped.append(f"{c}/log/{k}")
                continue
            out[f"{c}/log/{k}"] = a
        out[f"{c}/final/sparsity"] = np.asarray(r.sparsity, np.float64)
        out[f"{c}/final/layer_sparsity"] = np.asarray(r.layer_sparsity, np.float64)
        out[f"{c}/final/train_loss"] = np.asarray(r.final_train_loss, np.float64)
        out[f"{c}/final/epochs"] = np.asarray(int(r.config.epochs))
        out[f"{c}/final/seconds"] = np.asarray(float(r.seconds))
    return out, skipped


def model_arrays(trained: dict, configs=INSPECTED_CONFIGS) -> dict[str, np.ndarray]:
    """``models.npz``'s arrays: the trained ensembles of ``configs`` (those present), as documented in :data:`FILES`."""
    import torch

    out = {}
    for c in (c for c in configs if c in trained):
        ens = trained[c].ensemble
        out[f"{c}/dims"] = np.asarray(ens.dims)
        thresholds = []
        with torch.no_grad():
            for i, layer in enumerate(ens.layers):
                out[f"{c}/weight{i}"] = layer.weight.detach().float().numpy()
                if layer.bias is not None:
                    out[f"{c}/bias{i}"] = layer.bias.detach().float().numpy()
                mask = getattr(layer, "weight_mask", None)
                if mask is not None:
                    out[f"{c}/mask{i}"] = mask.detach().numpy() != 0
                params = getattr(layer, "parametrizations", None)
                if params is not None and "weight" in params:
                    out[f"{c}/raw_weight{i}"] = params.weight.original.detach().float().numpy()
                    if hasattr(params.weight[0], "s"):
                        thresholds.append(torch.sigmoid(params.weight[0].s).reshape(-1).float().numpy())
        if thresholds:
            out[f"{c}/threshold"] = np.stack(thresholds, 1)  # (E, L)
    return out


def folder_readme(profile, variant: str) -> str:
    """The ``README.md`` written into a results folder: what made it and every file (:data:`FILES`)."""
    name = Path(str(profile)).stem
    lines = [f"# results/{name}-{variant}/", "",
             f"Written by `{refresh_command(profile, variant)}` (`alukit/reproduce.py`); do not edit by hand.",
             f"The book's chapters read these files with `alukit.studies.reproduce.load({name!r}, {variant!r})`; "
             "nothing in the book trains or rolls out networks. Configurations are named as in "
             "`alukit.studies.paper.CONFIG_NAMES` (`dense`, `l1+swa`, `mp+l1`, ...); E models per configuration, "
             "L layers; horizons in samples of `dt` seconds. Arrays are plain `.npz` (no pickle): "
             "`numpy.load(path, allow_pickle=False)`.", "", "| File | Contents |", "|---|---|"]
    lines += [f"| `{f}` | {text} |" for f, text in FILES.items()]
    return "\n".join(lines + [f"| `README.md` | This file (results format {FORMAT}). |", ""])


def refresh_command(profile, variant: str | None = None) -> str:
    """The command that (re)writes a profile's results: one variant, or both (``make reproduce``)."""
    if variant is None and str(profile) in profiles.PROFILES:
        return f"make reproduce PROFILE={profile}"
    return f"python -m alukit reproduce --profile {profile} --variant {variant or 'both'}"


def _machine() -> dict:
    from alukit.book.bench import machine

    return machine()


def _torch_version() -> str:
    import torch

    return torch.__version__


def _nested(arrays: dict[str, np.ndarray]) -> dict:
    """``{"a/b/c": x}`` → ``{"a": {"b": {"c": x}}}``."""
    out: dict = {}
    for k, v in arrays.items():
        *head, last = k.split("/")
        node = out
        for part in head:
            node = node.setdefault(part, {})
        node[last] = v
    return out


def load(profile: str = "quick", variant: str = "faithful", out_dir: Path | None = None, *,
         tables_only: bool = False) -> Results:
    """Read ``results/<profile>-<variant>/``; never computes anything.

    Raises ``FileNotFoundError`` naming the missing files and the command that writes
    them if the folder is absent, incomplete or in an older :data:`FORMAT`.
    ``tables_only``: read the tables, errors and provenance only (any format; the
    ``training``, ``rollouts`` and ``models`` fields are then empty): the README's
    tables, and folders that hold nothing else (:func:`write_results`).
    """
    out_dir = Path(out_dir) if out_dir is not None else results_dir(profile, variant)
    command = refresh_command(profile, variant)
    prov_path = out_dir / "provenance.json"
    if not prov_path.exists():
        raise FileNotFoundError(f"no results in {_shown(out_dir)}; run: {command}")
    provenance = json.loads(prov_path.read_text())
    missing = [f for f in FILES if not (out_dir / f).exists() and not (tables_only and f.endswith(".npz")
                                                                          and f != "errors.npz")]
    if missing or (provenance.get("format") != FORMAT and not tables_only):
        raise FileNotFoundError(
            f"{_shown(out_dir)} was written in an older format (format {provenance.get('format', 1)}, this code reads "
            f"format {FORMAT}; missing: {', '.join(missing) or 'none'}); run: {command}")
    arrays = cache.load_npz(out_dir / "errors.npz")
    horizons = tuple(int(h) for h in arrays.pop("horizons"))
    res = Results(
        table2=read_table2(out_dir), table3=_read_table3(out_dir / "table3.csv"),
        table4=pd.read_csv(out_dir / "table4.csv", index_col="config"),
        stats=pd.read_csv(out_dir / "stats.csv"), comparisons=pd.read_csv(out_dir / "comparisons.csv"),
        conclusions=pd.read_csv(out_dir / "conclusions.csv"),
        errors={c: arrays[c] for c in paper.CONFIG_NAMES if c in arrays}, horizons=horizons,
        provenance=provenance, training={}, rollouts={}, models={},
        extra_errors={k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("extra/")},
    )
    if tables_only:
        return res
    rollouts = cache.load_npz(out_dir / "rollouts.npz")
    examples = _nested({k: v for k, v in rollouts.items() if "/" in k})
    return res._replace(
        training=_nested(cache.load_npz(out_dir / "training.npz")),
        rollouts={"true": rollouts["true"], "trajectory": int(rollouts["trajectory"]), "dt": float(rollouts["dt"]),
                  "pred": {c: v["pred"] for c, v in examples.items()},
                  "sigma": {c: v["sigma"] for c, v in examples.items()}},
        models=_nested(cache.load_npz(out_dir / "models.npz")),
    )


def _shown(path: Path) -> str:
    """A path relative to the repository when inside it (no machine-specific prefix in the book)."""
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT)) + "/"
    except ValueError:
        return str(path)


results = load  # the notebooks' name for it: results are read, never computed


def stale_reason(profile: str = "quick", variant: str = "faithful") -> str | None:
    """Why ``results/<profile>-<variant>/`` does not match the current code and configuration; None if it does.

    Compared: the format, all 16 configurations, the configuration hash, the
    evaluation code (stepper, metrics) and the training code versions.
    """
    prov = results_dir(profile, variant) / "provenance.json"
    if not prov.exists():
        return "no results"
    p = json.loads(prov.read_text())
    if p.get("format") != FORMAT:
        return f"written in results format {p.get('format', 1)}, this code reads format {FORMAT}"
    if p.get("configs") != list(paper.CONFIG_NAMES):
        return "not all 16 configurations were run"
    if _version() not in accepted_versions(p, "evaluation_version"):
        return "the rollout or metric code changed since they were written"
    if _train_module().CODE_VERSION not in accepted_versions(p, "training_version"):
        return "the training code changed since they were written"
    if p.get("configuration_hash") != configuration_hash(profile, variant):
        return "the profile or a configuration changed since they were written"
    return None


def is_current(profile: str = "quick", variant: str = "faithful") -> bool:
    """True if ``results/<profile>-<variant>/`` matches the current code and configuration (:func:`stale_reason`)."""
    return stale_reason(profile, variant) is None


def example_rollouts(config: str, profile: str = "quick", variant: str = "faithful", res: Results | None = None):
    """``(true (T, 13), predicted (E, T, 8), sigma (8,))`` of one configuration of :data:`EXAMPLE_CONFIGS`.

    Read from ``rollouts.npz`` (``res`` if given, else :func:`load`); ``sigma`` is the
    state scale of the variant's metric.
    """
    res = load(profile, variant) if res is None else res
    if config not in res.rollouts["pred"]:
        raise ValueError(f"config must be one of {', '.join(res.rollouts['pred'])} (EXAMPLE_CONFIGS); got {config!r}")
    return res.rollouts["true"], res.rollouts["pred"][config], res.rollouts["sigma"][config]


def exercise_configs(variant: str) -> dict:
    """``{name: (Config, models)}``: the extra runs the chapters' exercises read from the results
    (``training.npz``, ``models.npz``), e.g. ``"l1x10"``: the L1 configuration with λ ×
    :data:`EXERCISE_L1_FACTOR`, members 0..:data:`EXERCISE_MODELS` − 1 (the chapter's L1 seeds)."""
    from alukit.training.config import make_config

    base = make_config("l1", variant)
    name = f"l1x{EXERCISE_L1_FACTOR:g}"
    return {name: (make_config("l1", variant, l1=base.l1 * EXERCISE_L1_FACTOR), EXERCISE_MODELS)}


def probe_configs(variant: str) -> dict:
    """``{name: (Config, models)}``: runs that test a reading of the authors' code, beside the study.

    ``"dsr-frozen"`` (faithful only): the faithful DSR row, members 0..:data:`EXERCISE_MODELS`
    − 1, with its weights frozen after the first reallocation as the committed DSR code
    freezes them (and the other three faithful DSR rows). The row itself trains on under
    its mask, as its released models' weights suggest (:mod:`alukit.training.config`); chapter 6
    sets both readings beside the released models.
    """
    from alukit.training.config import make_config

    if variant != "faithful":
        return {}
    return {"dsr-frozen": (make_config("dsr", variant, freeze=True), EXERCISE_MODELS)}


def stacked_model(res: Results, config: str) -> stepper.StackedMLP:
    """The trained ensemble of ``config`` (one of :data:`INSPECTED_CONFIGS`) from ``models.npz``, for rollouts."""
    arrays = res.models.get(config)
    if arrays is None:
        raise ValueError(f"config must be one of {', '.join(res.models)} (INSPECTED_CONFIGS); got {config!r}")
    n_layers = len(arrays["dims"]) - 1
    return stepper.StackedMLP([arrays[f"weight{i}"] for i in range(n_layers)],
                              [arrays.get(f"bias{i}") for i in range(n_layers)])


def profile_values(profile) -> dict:
    """A profile's parameters as a plain dict (:meth:`alukit.profiles.Profile.to_dict`)."""
    return profiles.load(profile).to_dict()


def _admonition(kind: str, title: str, body: str, more: str = "") -> str:
    """An admonition box: ``title``, the paragraph ``body`` and further HTML ``more``."""
    return f'<div class="admonition {kind}"><p class="admonition-title">{title}</p><p>{body}</p>{more}</div>'


def banner(profile: str, variants=()) -> str:
    """HTML banner of a chapter: which profile it shows and, for each variant read, whether its results are current.

    The paper profile gets a short note; a reduced profile a warning on its fidelity; a
    variant whose results are stale (:func:`stale_reason`) a warning naming the command
    that refreshes them.
    """
    p = profile_values(profile)
    name = p.get("profile", Path(str(profile)).stem)
    folders = ", ".join(f"<code>results/{Path(str(profile)).stem}-{v}/</code>" for v in variants)
    read = f" Its results are read from {folders}." if variants else ""
    if name == "paper":
        parts = [_admonition("note", "Paper profile", "This chapter was built with the <code>paper</code> profile "
                             f"(<code>params/paper.yaml</code>): the papers' data sizes and models.{read}")]
    else:
        paper_p = profile_values("paper")
        facts = [f"{p.get(k, '?')} {what} (paper: {paper_p.get(k, '?')})" for k, what in
                 (("n_train", "training trajectories"), ("n_test", "test trajectories"),
                  ("models", "models per configuration"))]
        if "epochs" in p or "train_epoch_scale" in p:
            facts.append(f"{p.get('train_epoch_scale', 1.0):g} × the paper's epochs" if "epochs" not in p
                         else f"{p['epochs']} epochs (paper: 100–200)")
        parts = [_admonition("warning", f"{str(name).capitalize()} profile",
                             f"This chapter was built with the <code>{name}</code> profile: {', '.join(facts)}. It "
                             "runs the same code as the paper profile on far less data and compute, so its numbers "
                             "are indicative only: percentages move in steps of "
                             f"{100 / (p.get('models', 1) * p.get('n_test', 1)):.2g} points and intervals are wide. "
                             f"The book's default build (<code>make book</code>) shows the paper profile.{read}",
                             _picture_note(profile))]
    for v in variants:
        reason = stale_reason(profile, v)
        if reason is not None:
            parts.append(_admonition("danger", "Stale results",
                                     f"<code>results/{Path(str(profile)).stem}-{v}/</code> does not match the current "
                                     f"code: {reason}. The numbers below are those of the committed run. Refresh "
                                     f"them with <code>{refresh_command(profile)}</code> (or "
                                     f"<code>{refresh_command(profile, v)}</code>), then rebuild the book."))
    return "\n".join(parts)


def _picture_note(profile) -> str:
    """:func:`alukit.studies.picture.note` on the profile's faithful Table 2, if it has been written ('' otherwise)."""
    from alukit.studies import picture

    t2 = read_table2(results_dir(profile, "faithful"))
    if t2 is None or not set(paper.CONFIG_NAMES) <= set(t2.index):
        return ""
    try:
        return picture.note(t2, profile)
    except ValueError:  # a profile without the 1000 and 2500 ΔT horizons the picture is judged at
        return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m alukit reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", help="quick | paper | path to a params YAML (default quick)")
    parser.add_argument("--variant", default="faithful", choices=(*VARIANTS, "both"),
                        help="faithful (default), corrected, or both one after the other")
    parser.add_argument("--configs", default=",".join(paper.CONFIG_NAMES),
                        help="comma-separated configuration names (default: all 16)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default results/<profile>-<variant>)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    variants = VARIANTS if args.variant == "both" else (args.variant,)
    if args.out is not None and len(variants) > 1:
        parser.error("--out needs a single --variant")
    for variant in variants:
        try:
            out = run(args.profile, variant, [c for c in args.configs.split(",") if c], args.out,
                      progress=not args.quiet)
        except ValueError as exc:
            parser.error(str(exc))
        print(f"{variant}: {_shown(out)}")
        print(load(args.profile, variant, out).table2.to_string())
    return 0
