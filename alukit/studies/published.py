"""The authors' released models, scored by this project: ``python -m alukit published PATH``.

``PATH`` is a local checkout of the authors' repository (``emilhaugstvedt/sparsity``).
For each of the 16 configurations this reads the ten released models that the
authors' ``results.ipynb`` rolls out, rebuilds them as this project's stacked MLPs,
rolls them out with :mod:`alukit.evaluation.stepper` on this project's test set (the faithful
variant's conventions: test-set normalisation, errors in test-set standard deviations)
and scores them with :mod:`alukit.evaluation.metrics`. The results are written by
:func:`alukit.studies.reproduce.write_results` to ``results/<profile>-published/`` in the same
format as the other variants, with the authors' commit in ``provenance.json``. If
these scores land near the paper, our data and metric are the paper's, and what
differences remain in a re-training are training.

Files (:data:`FILES`). The notebook reads ``models/alu/<folder>/<stem>_N.pickle``,
N = 1..10. Its saved source names some folders as they were before the repository
was tidied (``dynamic_sparse_reparameterization/`` is ``DSR/``, ``L1/`` is ``l1/``)
and, after a search-and-replace, calls the SWA files ``swa_l1_model``; the files it
read, and its printed outputs, are the ``swa_model`` ones. Model files are pickled
``nn.Module`` objects and ``swa_model`` files ``AveragedModel`` state dicts, both
``torch.save`` zip archives.

Security. These files are pickles, and unpickling can run arbitrary code. They are
read with :func:`load_pickle`: ``torch.load(weights_only=True)`` where that suffices
(state dicts), else a restricted unpickler that allows only what tensors and ordered
dicts need (:data:`ALLOWED`) and turns the authors' classes (and ``nn.Linear``,
``nn.ModuleList``) into :class:`StandIn` objects that only hold the pickled
attributes. Any other global is refused with :class:`RefusedGlobal` before anything
is called.

Layers (:data:`KINDS`): ``linear`` (``nn.Linear``: weight ``(out, in)`` and bias),
``str`` (weight ``(in, out)`` and a threshold parameter ``s``; the effective weight
is ``sign(w)·ReLU(|w| − sigmoid(s))``, no bias) and ``dsr`` (weight ``(in, out)``,
zeros where the mask is off, no bias). ReLU between layers, linear output.
"""
from __future__ import annotations

import collections
import hashlib
import pickle
import subprocess
import sys
import time
import types
import zipfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch

from alukit import cache, profiles, provenance
from alukit.codeversion import code_version
from alukit.profiles import Profile
from alukit.process import cell, data
from alukit.evaluation import fingerprints, metrics, stepper
from alukit.training import nets
from alukit.studies import paper, reproduce
from alukit.studies.study import Expected, Study, StudyError
from alukit.training import config
from alukit.commandline import Parser

__all__ = ["N_MODELS", "RestrictedUnpickler", "load_pickle", "study", "stale_reason", "run", "load", "gaps", "main"]

AUTHORS_REPOSITORY = "emilhaugstvedt/sparsity"
N_MODELS = 10
MODELS_DIR = "models/alu"
KINDS = ("linear", "str", "dsr")
# configuration → (folder under models/alu, file stem, layer kind)
FILES = {
    "dense": ("dense_net", "model", "linear"),
    "dense+swa": ("dense_net", "swa_model", "linear"),
    "l1": ("L1_regularization", "model", "linear"),
    "l1+swa": ("L1_regularization", "swa_model", "linear"),
    "str": ("soft_thresholding", "model", "str"),
    "str+l1": ("soft_thresholding/l1", "model", "str"),
    "str+swa": ("soft_thresholding", "swa_model", "str"),
    "str+l1+swa": ("soft_thresholding/l1", "swa_model", "str"),
    "mp": ("magnitude_pruning", "model", "linear"),
    "mp+l1": ("magnitude_pruning/l1", "model", "linear"),
    "mp+swa": ("magnitude_pruning", "swa_model", "linear"),
    "mp+l1+swa": ("magnitude_pruning/l1", "swa_model", "linear"),
    "dsr": ("DSR/0.5", "model", "dsr"),
    "dsr+l1": ("DSR/l1", "model", "dsr"),
    "dsr+swa": ("DSR/0.1", "swa_model", "dsr"),
    "dsr+l1+swa": ("DSR/l1", "swa_model", "dsr"),
}
STAGES = ("data", "loading", "rollouts", "metrics")


# ---------------------------------------------------------------- restricted unpickling

class RefusedGlobal(pickle.UnpicklingError):
    """A pickle asked for a global that :data:`ALLOWED` does not allow."""


class StandIn:
    """A pickled object of an allowed class, reduced to the attributes it was pickled with.

    ``source``: the qualified name of the class it stands in for. Nothing of that class
    runs: unpickling only creates this object and stores the pickled ``__dict__``.
    """

    source = ""

    def __setstate__(self, state):
        if not isinstance(state, dict):
            raise pickle.UnpicklingError(f"{self.source}: expected a dict of attributes, got {type(state).__name__}")
        self.__dict__.update(state)

    def __repr__(self):
        return f"StandIn({self.source})"


_STAND_INS = (
    "dense_net.DenseNet.DenseNet",
    "L1_regularization.L1RegularizationNet.L1RegularizationNet",
    "magnitude_pruning.MagnitudePruning.MagnitudePruningNet",
    "soft_thresholding.SoftThresholdNet.SoftThresholdNet",
    "soft_thresholding.SoftThresholdNet.SoftThresholdLayer",
    "dynamic_sparse_reparameterization.DynamicSparseReparameterizationNet.DynamicSparseReparameterizationNet",
    "dynamic_sparse_reparameterization.DynamicSparseReparameterizationNet.DynamicSparseReparameterizationLayer",
    "torch.nn.modules.linear.Linear",
    "torch.nn.modules.container.ModuleList",
)
_STORAGES = ("FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage", "LongStorage", "IntStorage",
             "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage")
# (module, name) → the object a pickle gets for it; nothing else is allowed
ALLOWED = {
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("__builtin__", "set"): set,
    **{("torch", name): getattr(torch, name) for name in _STORAGES},
    **{tuple(q.rsplit(".", 1)): type(q.rsplit(".", 1)[1], (StandIn,), {"source": q}) for q in _STAND_INS},
}


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the globals in :data:`ALLOWED` and refuses every other one."""

    def find_class(self, module, name):
        try:
            return ALLOWED[(module, name)]
        except (KeyError, TypeError):
            raise RefusedGlobal(f"refused to unpickle global {module}.{name}: only tensors, ordered dicts and "
                                "the authors' network classes (as plain stand-ins) are allowed") from None


_PICKLE_MODULE = types.ModuleType("alukit_restricted_pickle")  # for torch.load(pickle_module=...)
_PICKLE_MODULE.Unpickler = RestrictedUnpickler
_PICKLE_MODULE.load = lambda file, **kw: RestrictedUnpickler(file, **kw).load()
_PICKLE_MODULE.__name__ = "alukit_restricted_pickle"


MAX_FILE_BYTES = 16 * 2**20  # the largest released model (4 × 128 units) is about 0.4 MB


def _check_size(path: Path) -> None:
    """Refuse a file, or a member of a ``torch.save`` archive, larger than any released model could need."""
    size = path.stat().st_size
    members = zipfile.ZipFile(path).infolist() if zipfile.is_zipfile(path) else []
    big = max([size, *(m.file_size for m in members)])
    if big > MAX_FILE_BYTES or sum(m.file_size for m in members) > MAX_FILE_BYTES:
        raise pickle.UnpicklingError(f"{path}: holds {big:,} bytes in one piece; a released model needs at most "
                                     f"{MAX_FILE_BYTES:,}, so it is not one of them")


def load_pickle(path):
    """One released file, loaded without running code from it.

    A ``torch.save`` zip archive is read with ``torch.load(weights_only=True)`` if it
    only holds tensors and containers (a state dict), else with torch's loader and
    :class:`RestrictedUnpickler`; any other file is read by :class:`RestrictedUnpickler`
    alone. Returns a state dict (``OrderedDict`` of tensors) or a :class:`StandIn`.
    Raises :class:`RefusedGlobal` (naming the global and the file) for anything else.
    """
    path = Path(path)
    _check_size(path)
    try:
        if not zipfile.is_zipfile(path):
            with open(path, "rb") as f:
                return RestrictedUnpickler(f).load()
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError:  # a pickled module: allowed classes become stand-ins
            return torch.load(path, map_location="cpu", weights_only=False, pickle_module=_PICKLE_MODULE)
    except RefusedGlobal as exc:
        raise RefusedGlobal(f"{path}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError, zipfile.BadZipFile) as exc:
        raise pickle.UnpicklingError(f"{path}: not a readable model file ({type(exc).__name__}: "
                                     f"{str(exc).splitlines()[0][:200] if str(exc) else 'empty'})") from None


# ---------------------------------------------------------------- networks from released files

class Released(NamedTuple):
    """One configuration's released models, as :func:`alukit.studies.reproduce.evaluate` takes them.

    ``ensemble``: an :class:`alukit.training.nets.Ensemble` of the effective weights; ``sparsity``
    ``(E,)``: fraction of weights exactly zero; ``facts``: what the files say (hidden
    widths, bias, and the attributes DSR and SWA saved); ``files``: relative paths and
    SHA-256 digests.
    """

    ensemble: nets.Ensemble
    sparsity: np.ndarray
    facts: dict
    files: dict


def _tensor(value, what):
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{what}: expected a tensor, got {type(value).__name__}")
    return value.detach().to(torch.float32)


def _effective(params: dict, kind: str, what: str):
    """``(W (in, out), b (out,) or None)`` of one layer from its parameters (module or state dict)."""
    w = _tensor(params.get("weight"), f"{what}.weight")
    if kind == "linear":
        return w.T.contiguous(), _tensor(params.get("bias"), f"{what}.bias")
    if kind == "str":
        s = _tensor(params.get("s"), f"{what}.s")
        return torch.sign(w) * torch.relu(w.abs() - torch.sigmoid(s)), None
    return w, None


def _layers_of(obj, kind: str, path: Path):
    """The layers of one loaded file and its saved facts: ``([(W, b)], facts)``."""
    facts = {}
    if isinstance(obj, dict):  # an AveragedModel state dict: module.layers.<i>.<param>
        groups: dict[int, dict] = {}
        for key, value in obj.items():
            parts = key.split(".")
            if len(parts) == 4 and parts[:2] == ["module", "layers"] and parts[2].isdigit():
                groups.setdefault(int(parts[2]), {})[parts[3]] = value
            elif key == "n_averaged":
                facts["n_averaged"] = int(value)
            else:
                raise ValueError(f"{path}: unexpected state dict entry {key!r}")
        params = [groups[i] for i in sorted(groups)]
    elif isinstance(obj, StandIn) and "layers" in obj.__dict__.get("_modules", {}):
        facts.update({k: float(v) if isinstance(v, torch.Tensor) else v for k, v in vars(obj).items()
                      if k in ("sparsity", "H", "Np")})
        layers = obj._modules["layers"].__dict__["_modules"].values()
        params = [layer.__dict__.get("_parameters", {}) for layer in layers]
    else:
        raise ValueError(f"{path}: expected a network with .layers or an AveragedModel state dict, got {obj!r}")
    layers = [_effective(p, kind, f"{path} layer {i}") for i, p in enumerate(params)]
    dims = [layers[0][0].shape[0]] + [w.shape[1] for w, _ in layers] if layers else []
    if not layers or dims[0] != cell.N_STATES + cell.N_INPUTS or dims[-1] != cell.N_STATES \
            or any(w.shape[0] != d for (w, _), d in zip(layers, dims)):
        raise ValueError(f"{path}: layers do not chain 13 features to 8 derivatives as '{kind}' layers: "
                         f"{[tuple(w.shape) for w, _ in layers]}")
    return layers, {"dims": dims, "bias": layers[0][1] is not None, **facts}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_checkout(root) -> Path:
    """``root`` if it holds the released models (``models/alu/...``); else ValueError saying what is missing."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"PATH must be a local checkout of {AUTHORS_REPOSITORY}; {root} is not a directory")
    missing = [str(Path(MODELS_DIR, folder, f"{stem}_1.pickle")) for folder, stem, _ in FILES.values()
               if not (root / MODELS_DIR / folder / f"{stem}_1.pickle").is_file()]
    if missing:
        raise ValueError(f"PATH must be a local checkout of {AUTHORS_REPOSITORY} with its released models; "
                         f"{root} lacks {len(missing)} of them, e.g. {missing[0]}")
    return root


def released(root, config: str) -> Released:
    """The ten released models of ``config`` from the checkout ``root``, as one ensemble."""
    if config not in FILES:
        raise ValueError(f"config must be one of {', '.join(FILES)}; got {config!r}")
    root = Path(root)
    folder, stem, kind = FILES[config]
    members, facts, files = [], [], {}
    for n in range(1, N_MODELS + 1):
        path = root / MODELS_DIR / folder / f"{stem}_{n}.pickle"
        layers, fact = _layers_of(load_pickle(path), kind, path)
        members.append(layers)
        facts.append(fact)
        files[str(path.relative_to(root))] = _digest(path)
    if any(f["dims"] != facts[0]["dims"] for f in facts):
        raise ValueError(f"{config}: the released models differ in shape: {[f['dims'] for f in facts]}")
    ensemble = nets.Ensemble(facts[0]["dims"], N_MODELS, bias=facts[0]["bias"])
    with torch.no_grad():
        for k, layer in enumerate(ensemble.layers):
            layer.weight.copy_(torch.stack([m[k][0] for m in members]))
            if layer.bias is not None:
                layer.bias.copy_(torch.stack([m[k][1] for m in members]).unsqueeze(1))
    zeros = np.array([sum(int((w == 0).sum()) for w, _ in m) / sum(w.numel() for w, _ in m) for m in members])
    summary = {key: sorted({f[key] for f in facts if key in f}) for key in ("sparsity", "H", "Np", "n_averaged")}
    if all("H" in f for f in facts):
        summary["H_by_model"] = [f["H"] for f in facts]
    summary = {"folder": f"{MODELS_DIR}/{folder}", "stem": stem, "kind": kind, "dims": facts[0]["dims"],
               "bias": facts[0]["bias"], **{k: v for k, v in summary.items() if v}}
    return Released(ensemble.eval(), zeros, summary, files)


# ---------------------------------------------------------------- the study

def refresh_command(profile: Profile) -> str:
    """The command that (re)writes the profile's published-model results."""
    arg = profile.name if profile.name in profiles.PROFILES else profile.path
    return f"python -m alukit published PATH --profile {arg} (PATH: a checkout of {AUTHORS_REPOSITORY})"


def study(profile: Profile, out_dir: Path | None = None) -> Study:
    """The results folder ``results/<profile name>-published/`` (or ``out_dir``)."""
    return Study(f"{profile.name}-published", out_dir, refresh=refresh_command(profile))


def evaluation_version() -> str:
    """Version of the code that reads and scores the released models (recorded, compared by :func:`stale_reason`)."""
    return code_version(reproduce.evaluate, reproduce.rollout_normalizers, released, _fingerprints,
                        fingerprints.training_inputs)


def stale_reason(profile: Profile | str) -> str | None:
    """Why the profile's published-model results do not match the current code; None if they do."""
    profile = profiles.load(profile)
    return study(profile).stale_reason([
        Expected("evaluation_version", evaluation_version(), "the model reading, rollout or metric code changed "
                 "since they were written", version=True),
        Expected("profile", profile.name, "they were scored on another profile's test set")])


def _fingerprints(models: Released, inputs) -> dict:
    """:func:`alukit.evaluation.fingerprints.weight_fingerprints` of released DSR models: ``{column: [per model]}``."""
    weights = models.ensemble.weights()
    table = fingerprints.weight_fingerprints(weights, inputs, h=models.facts.get("H_by_model"))
    return {col: [None if np.isnan(v) else round(float(v), 6) for v in table[col]] for col in table}


def _authors_commit(root: Path) -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def run(root, profile: Profile | str, out_dir: Path | None = None, configs=paper.CONFIG_NAMES,
        progress: bool = True, n_boot: int | None = None, force: bool = False) -> Path:
    """Score the released models of ``configs`` on ``profile``'s test set; write its :func:`study` folder."""
    root = check_checkout(root)
    profile = profiles.load(profile)
    folder = study(profile, out_dir)
    folder.check_target(force)
    unknown = [c for c in configs if c not in FILES]
    if unknown or not configs:
        raise ValueError(f"configs must be a non-empty subset of {', '.join(FILES)}; got {list(configs)}")
    dt = profile.dt
    horizons = metrics.check_horizons(profile.horizons or metrics.HORIZONS, profile.n_steps)
    say = (lambda msg: print(msg, file=sys.stderr, flush=True)) if progress else (lambda msg: None)
    seconds = dict.fromkeys(STAGES[:-1], 0.0)
    t = time.perf_counter()
    sets = data.profile_datasets(profile)
    fingerprint_inputs = fingerprints.training_inputs(sets, dt)
    seconds["data"] = time.perf_counter() - t
    errors, sparsity, facts, files = {}, {}, {}, {}
    for c in configs:
        t = time.perf_counter()
        models = released(root, c)
        seconds["loading"] += time.perf_counter() - t
        t = time.perf_counter()
        ev = reproduce.evaluate(models, "faithful", sets, dt, horizons)
        seconds["rollouts"] += time.perf_counter() - t
        errors[c], sparsity[c], facts[c], files[c] = ev["errors"], ev["sparsity"], models.facts, models.files
        if models.facts["kind"] == "dsr":
            facts[c]["fingerprints"] = _fingerprints(models, fingerprint_inputs)
        say(f"{c}: {models.facts['folder']}/{models.facts['stem']}_1..{N_MODELS}, hidden "
            f"{models.facts['dims'][1:-1]}; diverged at {horizons[-1]}: "
            f"{metrics.divergence_percent(ev['errors'])[-1]:.2f} %")
    prov = {
        "profile": profile.name, "variant": "published", "conventions": "faithful", "configs": list(configs),
        "authors_repository": AUTHORS_REPOSITORY, "authors_commit": _authors_commit(root),
        "models": facts, "files": files,
        "git_commit": provenance.git_commit(), "date": provenance.now(),
        "machine": provenance.machine(), "torch": torch.__version__, "seconds": seconds,
        "evaluation_version": evaluation_version(),
    }
    reproduce.write_results(folder, errors, sparsity, horizons, prov, reproduce.N_BOOT if n_boot is None
                            else n_boot, force=force)
    say(f"results written to {folder.shown()}")
    return folder.path


def load(profile: Profile | str = "paper", out_dir: Path | None = None) -> reproduce.Results:
    """Read the profile's published-model results (checked against their manifest; :class:`StudyError`, with
    the command that writes them, if absent or damaged)."""
    return reproduce.read(study(profiles.load(profile), out_dir), tables_only=True)


def _shape(dims, zeros: float) -> str:
    hidden = list(dims)[1:-1]
    width = f"{len(hidden)}×{hidden[0]}" if len(set(hidden)) == 1 else "×".join(map(str, hidden))
    return f"{width}, {zeros:.0f} % zeros"


def gaps(released_res: reproduce.Results, ours: reproduce.Results, ours_dims: dict | None = None,
         tol: float = 5.0) -> pd.DataFrame:
    """The Table 2 entries where ours and the released models differ by more than ``tol`` points, explained.

    ``ours_dims``: configuration → layer widths of our networks (default: those of
    :func:`alukit.training.config.make_config` in ``ours``' variant). One row per entry, index
    ``(config, horizon)``: ``released`` with its 95 % interval (``low``, ``high``),
    ``ours`` with ours (``ours_low``, ``ours_high``), ``difference`` (ours − released),
    ``ours_inside`` (ours in the released models' interval), ``released_inside`` (theirs
    in ours) and ``reason``: which of those holds or, when neither, how the networks
    differ (hidden layers, or % of zero weights by more than ``tol``), or else that the
    difference is training.
    """
    frame = paper.agreement(released_res.stats, reference=ours.table2, tol=tol)
    frame = frame[~frame.within]
    div = ours.stats[ours.stats.statistic == "divergence"].astype({"horizon": int}).set_index(["config", "horizon"])
    out = pd.DataFrame({"released": frame.estimate, "low": frame.low, "high": frame.high, "ours": frame.reference,
                        "ours_low": div.low.reindex(frame.index), "ours_high": div.high.reindex(frame.index)})
    out["difference"] = out.ours - out.released
    out["ours_inside"] = frame.inside
    out["released_inside"] = (out.ours_low - 1e-9 <= out.released) & (out.released <= out.ours_high + 1e-9)
    if ours_dims is None:
        ours_dims = {c: config.make_config(c, ours.provenance["variant"]).dims for c, _ in out.index}
    reasons = []
    for (c, _), row in out.iterrows():
        theirs, mine = released_res.provenance["models"][c]["dims"], ours_dims[c]
        zeros = released_res.table4.at[c, "sparsity"], ours.table4.at[c, "sparsity"]
        if row.ours_inside:
            reasons.append("ours is inside the released models' interval")
        elif row.released_inside:
            reasons.append("the released models' value is inside our interval")
        elif list(theirs) != list(mine) or abs(zeros[0] - zeros[1]) > tol:
            reasons.append(f"different networks: released {_shape(theirs, zeros[0])}; ours {_shape(mine, zeros[1])}")
        else:
            reasons.append(f"training: the same network ({_shape(mine, zeros[1])}), and neither interval "
                           "holds the other's value")
    out["reason"] = reasons
    return out


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m alukit published", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help=f"a local checkout of {AUTHORS_REPOSITORY}")
    parser.add_argument("--profile", default="paper", help="quick | paper | path to a params YAML (default paper)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default results/<profile>-published)")
    parser.add_argument("--force", action="store_true", help="replace a non-empty --out folder alukit did not write")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    t = time.perf_counter()
    prof = profiles.load(args.profile)
    try:
        out = run(args.path, prof, args.out, progress=not args.quiet, force=args.force)
    except pickle.UnpicklingError as exc:  # a malformed or refused model file: the message names it
        raise ValueError(str(exc)) from None
    print(load(prof, out).table2.to_string())
    print(f"({time.perf_counter() - t:.1f} s)", file=sys.stderr)
    return 0
