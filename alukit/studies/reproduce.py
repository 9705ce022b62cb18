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

import hashlib
import json
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from alukit import cache, profiles, provenance
from alukit.codeversion import code_version
from alukit.evaluation import metrics, stepper
from alukit.process import data
from alukit.profiles import Profile
from alukit.studies import conclusions, paper
from alukit.studies.study import Expected, Study, StudyError
from alukit.training import train
from alukit.training.config import COMMITTED_DSR_READING, make_config
from alukit.commandline import Parser

__all__ = ["VARIANTS", "N_BOOT", "EXERCISE_MODELS", "FORMAT", "FILES", "refresh_command", "study",
           "rollout_normalizers", "profile_normalizers", "evaluation_version", "evaluate", "tables",
           "bootstrap_stats", "configuration_hash", "stale_reason", "Results", "read_table2", "run",
           "write_results", "load", "read", "example_rollouts", "probe_configs", "stacked_model", "main"]

VARIANTS = stepper.VARIANTS
STAGES = ("data", "training", "rollouts", "metrics")
N_BOOT = 2000
EXAMPLE_TRAJECTORY = 0  # the test trajectory whose rollouts are kept for Figs. 4 and 5
EXAMPLE_CONFIGS = ("l1", "str")  # Figs. 4 and 5: the configurations whose example rollouts are kept
# trained models the chapters look inside: ch. 3 the STR layer, ch. 6 DSR + L1 and (exercise) dense, L1, MP rolled out anew
INSPECTED_CONFIGS = ("dense", "l1", "mp", "str", "dsr", "dsr+l1", "dsr+l1+swa")
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



def _check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(map(repr, VARIANTS))}; got {variant!r}")


def _profile_arg(prof: Profile) -> str:
    """How a command line names the profile: its name for the package's own, else its file."""
    return prof.name if prof.name in profiles.PROFILES else prof.path


def refresh_command(profile: Profile, variant: str | None = None) -> str:
    """The command that (re)writes a profile's results: one variant, or both (``make reproduce``)."""
    if variant is None and profile.name in profiles.PROFILES:
        return f"make reproduce PROFILE={profile.name}"
    return f"python -m alukit reproduce --profile {_profile_arg(profile)} --variant {variant or 'both'}"


def study(profile: Profile, variant: str, out_dir: Path | None = None) -> Study:
    """The results folder of a profile's variant: ``results/<profile name>-<variant>/`` (or ``out_dir``)."""
    _check_variant(variant)
    return Study(f"{profile.name}-{variant}", out_dir, refresh=refresh_command(profile, variant))


def rollout_normalizers(result, variant: str, sets: data.Datasets, dt: float):
    """The ``(x_norm, y_norm)`` a variant rolls out ``result`` with: test-set statistics (faithful, as the published
    code did) or the model's own training statistics (corrected)."""
    _check_variant(variant)
    if variant == "faithful":
        return stepper.normalizers("faithful", sets.train, sets.test, dt)
    return result.x_norm, result.y_norm


def profile_normalizers(profile: Profile, variant: str, sets: data.Datasets):
    """:func:`rollout_normalizers` for any model trained on the profile's training set (the chapters' models read
    from a results folder, which keeps no normalisers): its training statistics come from
    :func:`alukit.training.train.training_data`."""
    _, _, x_norm, y_norm, _ = train.training_data(profile)
    return rollout_normalizers(SimpleNamespace(x_norm=x_norm, y_norm=y_norm), variant, sets, profile.dt)


def _weights_hash(mlp: stepper.StackedMLP) -> str:
    h = hashlib.sha256()
    for w, b in mlp.layers:
        for t in (w, b):
            if t is not None:
                h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()[:20]


_EVALUATION_VERSION = None


def evaluation_version() -> str:
    """Version of the evaluation code (rollouts and metric) the folders record."""
    global _EVALUATION_VERSION
    if _EVALUATION_VERSION is None:
        _EVALUATION_VERSION = code_version(evaluate, rollout_normalizers, write_results)
    return _EVALUATION_VERSION


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
                    version=evaluation_version())

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



# ---------------------------------------------------------------- the study

def configuration_hash(profile: Profile, variant: str, configs=paper.CONFIG_NAMES) -> str:
    """Hash of what determines the results: the profile's study keys (:meth:`Profile.study_values`), the
    variant and each configuration's training hash."""
    resolved = {c: train.resolve(c, variant, profile) for c in configs}  # (Config, profile, models)
    parts = {"profile": profile.study_values(), "variant": variant,
             "configs": {c: [train.config_hash(cfg), n] for c, (cfg, _, n) in resolved.items()}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


def expected(profile: Profile, variant: str) -> list[Expected]:
    """What a current folder of the profile's variant records (:meth:`Study.stale_reason`)."""
    return [
        Expected("format", FORMAT, f"written in another results format (this code reads format {FORMAT})"),
        Expected("configs", list(paper.CONFIG_NAMES), "not all 16 configurations were run"),
        Expected("evaluation_version", evaluation_version(), "the rollout or metric code changed since they were "
                 "written", version=True),
        Expected("training_version", train.CODE_VERSION, "the training code changed since they were written",
                 version=True),
        Expected("configuration_hash", configuration_hash(profile, variant),
                 "the profile or a configuration changed since they were written"),
    ]


def stale_reason(profile: Profile | str, variant: str = "faithful") -> str | None:
    """Why the profile's variant's results do not match the current code and configuration; None if they do."""
    profile = profiles.load(profile)
    return study(profile, variant).stale_reason(expected(profile, variant))


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


def _train_and_evaluate(profile: Profile, variant: str, configs, sets, horizons, say, progress: bool) -> dict:
    """Train every configuration (and the exercise and probe runs), roll each out; arrays and seconds."""
    seconds = {"training": 0.0, "rollouts": 0.0}
    t = time.perf_counter()
    jobs = training_jobs(profile, variant, configs)
    runs = dict(zip(jobs, train.train_many(jobs.values(), progress=progress)))  # 2 processes on 2 cores
    trained = {c: runs[c] for c in configs}
    extra = {name: run for name, run in runs.items() if name not in trained}
    seconds["training"] = time.perf_counter() - t
    errors, sparsity, examples = {}, {}, {}
    t = time.perf_counter()
    for c in configs:
        ev = evaluate(trained[c], variant, sets, profile.dt, horizons)
        errors[c], sparsity[c] = ev["errors"], ev["sparsity"]
        if c in EXAMPLE_CONFIGS:
            examples[f"{c}/pred"], examples[f"{c}/sigma"] = ev["example"], ev["sigma"]
        say(f"{c}: trained ({trained[c].seconds:.0f} s), rolled out; "
            f"diverged at {horizons[-1]}: {metrics.divergence_percent(ev['errors'])[-1]:.1f} %")
    extra_errors = {name: evaluate(r, variant, sets, profile.dt, horizons)["errors"] for name, r in extra.items()}
    seconds["rollouts"] = time.perf_counter() - t
    return dict(trained=trained, extra=extra, errors=errors, sparsity=sparsity, examples=examples,
                extra_errors=extra_errors, seconds=seconds)


def _provenance(profile: Profile, variant: str, configs, out: dict, seconds: dict) -> dict:
    runs = [*out["trained"].values(), *out["extra"].values()]
    return {
        "profile": profile.name, "variant": variant, "configs": list(configs),
        "git_commit": provenance.git_commit(), "date": provenance.now(),
        "machine": provenance.machine(), "torch": torch.__version__,
        "seconds": seconds,
        "configuration_hash": configuration_hash(profile, variant, configs),
        "evaluation_version": evaluation_version(),
        "training_version": train.CODE_VERSION,
        # each distinct run's own training time, from its record (also when it was cached before this command)
        "training_run_seconds": round(sum({getattr(r, "key", id(r)): r.seconds for r in runs}.values()), 1),
        "training_engine": sorted({"compiled" if r.extra.get("compiled") else "eager"
                                   for r in out["trained"].values()}),
        "training_workers": sorted({r.extra.get("workers") or 1 for r in out["trained"].values()}),
        "format": FORMAT,
    }


def run(profile: Profile | str, variant: str = "faithful", configs=paper.CONFIG_NAMES, out_dir: Path | None = None,
        progress: bool = True, n_boot: int | None = None, force: bool = False) -> Path:
    """Run every stage for ``configs`` and write the variant's :class:`Study` folder (or ``out_dir``); returns it.

    ``n_boot``: bootstrap resamples per interval (default :data:`N_BOOT`). The target is checked before any
    work (:meth:`Study.check_target`; ``force`` replaces a folder alukit did not write).
    """
    profile = profiles.load(profile)
    n_boot = N_BOOT if n_boot is None else n_boot
    unknown = [c for c in configs if c not in paper.CONFIG_NAMES]
    if unknown or not configs:
        raise ValueError(f"configs must be a non-empty subset of {', '.join(paper.CONFIG_NAMES)}; got {list(configs)}")
    folder = study(profile, variant, out_dir)
    folder.check_target(force)
    horizons = metrics.check_horizons(profile.horizons or metrics.HORIZONS, profile.n_steps)
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    t = time.perf_counter()
    sets = data.profile_datasets(profile)
    seconds = {"data": time.perf_counter() - t}
    say(f"data: {sets.train.shape[0]}/{sets.val.shape[0]}/{sets.test.shape[0]} trajectories ({seconds['data']:.1f} s)")
    out = _train_and_evaluate(profile, variant, configs, sets, horizons, say, progress)
    seconds.update(out["seconds"])
    logs, skipped = training_arrays({**out["trained"], **out["extra"]})
    models = model_arrays({**out["trained"], **out["extra"]}, INSPECTED_CONFIGS + tuple(out["extra"]))
    files = {
        "training.npz": lambda p: cache.save_npz(p, **logs),
        "rollouts.npz": lambda p: cache.save_npz(p, true=sets.test[EXAMPLE_TRAJECTORY],
                                                 trajectory=np.array(EXAMPLE_TRAJECTORY), dt=np.array(profile.dt),
                                                 **out["examples"]),
        "models.npz": lambda p: cache.save_npz(p, **models),
        "README.md": lambda p: cache.write_text(p, folder_readme(profile, variant)),
    }
    prov = {**_provenance(profile, variant, configs, out, seconds), "log_keys_not_saved": skipped}
    write_results(folder, out["errors"], out["sparsity"], horizons, prov, n_boot, extra_errors=out["extra_errors"],
                  files=files, force=force)
    say(f"results written to {folder.shown()} ({sum(seconds.values()):.0f} s)")
    return folder.path


def write_results(folder: Study, errors: dict[str, np.ndarray], sparsity: dict[str, np.ndarray], horizons,
                  provenance: dict, n_boot: int = N_BOOT, extra_errors: dict[str, np.ndarray] | None = None,
                  files: dict | None = None, force: bool = False) -> Path:
    """Compute Tables 2–4, the bootstrap intervals and the verdicts, and write them, ``files`` and the provenance
    into ``folder`` (:meth:`Study.write`).

    ``errors``: configuration → per-state errors ``(H, E, n, 8)``; ``sparsity``: configuration → ``(E,)`` % of
    weights exactly zero; ``extra_errors``: runs outside the tables, saved as ``extra/<name>``. ``provenance``
    gets ``seconds["metrics"]`` and ``n_boot``. A folder with only these files is read with
    ``load(..., tables_only=True)``.
    """
    t = time.perf_counter()
    t2, t3, t4 = tables(errors, sparsity, horizons)
    stats = bootstrap_stats(errors, horizons, n_boot=n_boot)
    comparisons, summary = conclusions.check(errors, horizons, n_boot=n_boot)
    seconds = {**provenance.get("seconds", {}), "metrics": time.perf_counter() - t}
    extra = {f"extra/{name}": e for name, e in (extra_errors or {}).items()}
    csv = lambda frame, **kw: (lambda p: cache.write_text(p, frame.to_csv(**kw)))  # noqa: E731
    tables_files = {
        "table2.csv": csv(t2), "table3.csv": lambda p: _write_table3(t3, p), "table4.csv": csv(t4),
        "stats.csv": csv(stats, index=False), "comparisons.csv": csv(comparisons, index=False),
        "conclusions.csv": csv(summary, index=False),
        "errors.npz": lambda p: cache.save_npz(p, horizons=np.array(horizons), **errors, **extra),
    }
    provenance = {**provenance, "seconds": {k: round(v, 3) for k, v in seconds.items()}, "n_boot": n_boot}
    return folder.write({**tables_files, **(files or {})}, provenance, force=force)


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


def folder_readme(profile: Profile, variant: str) -> str:
    """The ``README.md`` written into a results folder: what made it and every file (:data:`FILES`)."""
    lines = [f"# results/{profile.name}-{variant}/", "",
             f"Written by `{refresh_command(profile, variant)}` (`alukit/studies/reproduce.py`); do not edit by "
             "hand: `provenance.json` holds the SHA-256 of every file, checked when the folder is read.",
             f"The book's chapters read these files with `alukit.load({profile.name!r}, {variant!r})`; "
             "nothing in the book trains or rolls out networks. Configurations are named as in "
             "`alukit.studies.paper.CONFIG_NAMES` (`dense`, `l1+swa`, `mp+l1`, ...); E models per configuration, "
             "L layers; horizons in samples of `dt` seconds. Arrays are plain `.npz` (no pickle): "
             "`numpy.load(path, allow_pickle=False)`.", "", "| File | Contents |", "|---|---|"]
    lines += [f"| `{f}` | {text} |" for f, text in FILES.items()]
    return "\n".join(lines + [f"| `README.md` | This file (results format {FORMAT}). |", ""])


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


def load(profile: Profile | str = "quick", variant: str = "faithful", out_dir: Path | None = None, *,
         tables_only: bool = False) -> Results:
    """Read the profile's variant's results folder (or ``out_dir``); never computes anything.

    ``profile``: a :class:`Profile`, or a name or YAML path (loaded here, once). The folder's files are checked
    against its manifest first. Raises :class:`StudyError` naming the command that writes the folder if it is
    absent, damaged or in another :data:`FORMAT`. ``tables_only``: read the tables, errors and provenance
    only (the ``training``, ``rollouts`` and ``models`` fields are then empty).
    """
    profile = profiles.load(profile)
    return read(study(profile, variant, out_dir), tables_only=tables_only)


def read(folder: Study, *, tables_only: bool = False) -> Results:
    """A results folder of this study's format (:data:`FILES`), checked against its manifest first."""
    prov = folder.verify()
    if prov.get("format") != FORMAT and not tables_only:
        raise StudyError(f"{folder.shown()} was written in results format {prov.get('format', 1)}; this code reads "
                         f"format {FORMAT}; run: {folder.refresh}")
    arrays = cache.load_npz(folder.file("errors.npz"))
    horizons = tuple(int(h) for h in arrays.pop("horizons"))
    res = Results(
        table2=read_table2(folder.path), table3=_read_table3(folder.file("table3.csv")),
        table4=pd.read_csv(folder.file("table4.csv"), index_col="config"),
        stats=pd.read_csv(folder.file("stats.csv")), comparisons=pd.read_csv(folder.file("comparisons.csv")),
        conclusions=pd.read_csv(folder.file("conclusions.csv")),
        errors={c: arrays[c] for c in paper.CONFIG_NAMES if c in arrays}, horizons=horizons,
        provenance=prov, training={}, rollouts={}, models={},
        extra_errors={k.split("/", 1)[1]: v for k, v in arrays.items() if k.startswith("extra/")},
    )
    if tables_only:
        return res
    rollouts = cache.load_npz(folder.file("rollouts.npz"))
    examples = _nested({k: v for k, v in rollouts.items() if "/" in k})
    return res._replace(
        training=_nested(cache.load_npz(folder.file("training.npz"))),
        rollouts={"true": rollouts["true"], "trajectory": int(rollouts["trajectory"]), "dt": float(rollouts["dt"]),
                  "pred": {c: v["pred"] for c, v in examples.items()},
                  "sigma": {c: v["sigma"] for c, v in examples.items()}},
        models=_nested(cache.load_npz(folder.file("models.npz"))),
    )


def example_rollouts(config: str, profile: str = "quick", variant: str = "faithful", res: Results | None = None):
    """``(true (T, 13), predicted (E, T, 8), sigma (8,))`` of one configuration of :data:`EXAMPLE_CONFIGS`.

    Read from ``rollouts.npz`` (``res`` if given, else :func:`load`); ``sigma`` is the
    state scale of the variant's metric.
    """
    res = load(profile, variant) if res is None else res
    if config not in res.rollouts["pred"]:
        raise ValueError(f"config must be one of {', '.join(res.rollouts['pred'])} (EXAMPLE_CONFIGS); got {config!r}")
    return res.rollouts["true"], res.rollouts["pred"][config], res.rollouts["sigma"][config]


def training_jobs(profile: Profile, variant: str, configs=paper.CONFIG_NAMES) -> dict:
    """``{name: (Config, Profile, models)}``, the study's training runs as :func:`alukit.training.train.train_many`
    jobs: the configurations, then the exercise and probe runs (:func:`exercise_configs`, :func:`probe_configs`),
    each scaled to the profile (:func:`alukit.training.train.resolve`)."""
    jobs = {name: train.resolve(name, variant, profile) for name in configs}
    jobs.update({name: train.resolve(cfg, variant, profile, models=n)
                 for name, (cfg, n) in {**exercise_configs(variant), **probe_configs(variant)}.items()})
    return jobs


def exercise_configs(variant: str) -> dict:
    """``{name: (Config, models)}``: the extra runs the chapters' exercises read from the results
    (``training.npz``, ``models.npz``), e.g. ``"l1x10"``: the L1 configuration with λ ×
    :data:`EXERCISE_L1_FACTOR`, members 0..:data:`EXERCISE_MODELS` − 1 (the chapter's L1 seeds)."""
    base = make_config("l1", variant)
    name = f"l1x{EXERCISE_L1_FACTOR:g}"
    return {name: (make_config("l1", variant, l1=base.l1 * EXERCISE_L1_FACTOR), EXERCISE_MODELS)}


def probe_configs(variant: str) -> dict:
    """``{name: (Config, models)}``: runs that test a reading of the authors' code, beside the study.

    Faithful only, the 4 × 50 DSR row on the committed DSR script's reading
    (:data:`~alukit.training.config.COMMITTED_DSR_READING`: He init, reallocations from epoch 1),
    members 0..:data:`EXERCISE_MODELS` − 1: ``"dsr-trained"`` trains its weights on under the mask,
    ``"dsr-frozen"`` freezes them after the first reallocation as that code does. The row itself
    trains as its released models' weights show (:data:`~alukit.training.config.RELEASED_DSR_TRAINING`);
    chapter 6 sets the three readings beside the released models.
    """
    if variant != "faithful":
        return {}
    return {f"dsr-{name}": (make_config("dsr", variant, freeze=freeze, **COMMITTED_DSR_READING), EXERCISE_MODELS)
            for name, freeze in (("trained", False), ("frozen", True))}


def stacked_model(res: Results, config: str) -> stepper.StackedMLP:
    """The trained ensemble of ``config`` (one of :data:`INSPECTED_CONFIGS`) from ``models.npz``, for rollouts."""
    arrays = res.models.get(config)
    if arrays is None:
        raise ValueError(f"config must be one of {', '.join(res.models)} (INSPECTED_CONFIGS); got {config!r}")
    n_layers = len(arrays["dims"]) - 1
    return stepper.StackedMLP([arrays[f"weight{i}"] for i in range(n_layers)],
                              [arrays.get(f"bias{i}") for i in range(n_layers)])


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m alukit reproduce", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick", help="quick | paper | path to a profile YAML (default quick)")
    parser.add_argument("--variant", default="faithful", choices=(*VARIANTS, "both"),
                        help="faithful (default), corrected, or both one after the other")
    parser.add_argument("--configs", default=",".join(paper.CONFIG_NAMES),
                        help="comma-separated configuration names (default: all 16)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder (default results/<profile name>-<variant>)")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out folder alukit did not write")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    variants = VARIANTS if args.variant == "both" else (args.variant,)
    if args.out is not None and len(variants) > 1:
        parser.error("--out needs a single --variant")
    prof = profiles.load(args.profile)
    configs = [c for c in args.configs.split(",") if c]
    folders = [study(prof, v, args.out) for v in variants]
    for folder in folders:  # refused before any work
        folder.check_target(args.force)
    if prof.name == "paper" and args.out is None:
        print("rewriting the committed paper results: " + ", ".join(f.shown() for f in folders), file=sys.stderr)
    for variant in variants:
        out = run(prof, variant, configs, args.out, progress=not args.quiet, force=args.force)
        print(f"{variant}: {study(prof, variant, out).shown()}")
        print(load(prof, variant, out).table2.to_string())
    return 0
