"""Carry committed results across a behaviour-preserving change: ``python -m alukit verify-equivalence OLD_COMMIT``.

The committed results record the versions of the code that made them
(``training_version``, ``evaluation_version`` in ``provenance.json``;
:func:`alukit.codeversion.code_version`), and the staleness checks compare them with the
current code. A refactoring that changes what the code reaches, but not what it
computes, would make them stale. This command proves, on this machine, that HEAD trains
and evaluates bit-identically to OLD_COMMIT, then records HEAD's versions as equivalent.

The proof: OLD_COMMIT and HEAD are checked out as detached git worktrees in a temporary
folder outside the repository; in each, ``python -m alukit reproduce`` (each variant)
and ``python -m alukit sparse-dnn`` run on the ``quick`` profile, and ``python -m alukit sweep
sweeps/sparse-dnn-quick.yaml`` (whose evaluation reaches the training code), in subprocesses (that
checkout on ``PYTHONPATH`` and as working folder, a fresh ``ALUKIT_CACHE`` per checkout
and engine, ``ALUKIT_COMPILE=1`` then ``0``: the compiled and the eager kernel), writing
into the temporary folder. Every array of the files in :data:`COMPARED` must be equal
bit for bit (dtype, shape and bytes; training times, :data:`NOT_COMPARED`, excepted).
One line per compared file, then a verdict; exit status 1 at the first difference.

On success, each committed results folder made by those studies (``results/*-faithful``,
``*-corrected``, ``*-sparse-dnn``, sparse-DNN sweeps) whose recorded versions are OLD_COMMIT's,
or proven equivalent to them, gets an entry in its provenance's ``"equivalent_versions"`` list:
HEAD's versions, ``proven_against`` (OLD_COMMIT's full hash) and OLD_COMMIT's versions,
the number of arrays ``compared``, the ``profile``, ``engines``, ``date`` and
``machine``. Every other folder that records a training version (the sweeps, the picture's
variants: same training code) gets HEAD's training version beside its own evaluation version,
which the proof does not cover. :func:`accepted_versions` is what the staleness checks accept: the
recorded version and every version linked to it by such entries, each proven against an accepted
pair of versions. The ``*-published`` folder is not covered: no proof runs the loader of
the authors' models (that needs their checkout).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from alukit import cache, paths

__all__ = ["verify", "main"]

KINDS = ("training_version", "evaluation_version")
ENGINES = {"compiled": "1", "eager": "0"}  # engine → ALUKIT_COMPILE
# study run in each checkout → (its command after `python -m alukit`, the files compared)
COMPARED = {
    "faithful": (("reproduce", "--variant", "faithful"),
                 ("models.npz", "errors.npz", "training.npz", "rollouts.npz")),
    "corrected": (("reproduce", "--variant", "corrected"),
                  ("models.npz", "errors.npz", "training.npz", "rollouts.npz")),
    "sparse-dnn": (("sparse-dnn",), ("influence.npz", "errors.npz", "loss.npz")),
    # the sparse-DNN sweep's evaluation reaches the training code: its quick spec (its own profile)
    "sweep-sparse-dnn": (("sweep", "sweeps/sparse-dnn-quick.yaml"), ("errors.npz",)),
}
OWN_PROFILE = ("sweep",)  # commands whose spec names its profile: run without --profile
NOT_COMPARED = ("/seconds",)  # array names ending so: wall-clock training times
# results folder name ending → the study whose versions it records
_FOLDER_STUDY = {"-faithful": "faithful", "-corrected": "corrected", "-sparse-dnn": "sparse-dnn"}


# ---------------------------------------------------------------- accepted versions

def _pairs(provenance: dict) -> set[tuple]:
    """The ``(training_version, evaluation_version)`` pairs accepted for a folder: the recorded pair and
    every pair of an ``equivalent_versions`` entry proven against an accepted pair, transitively."""
    accepted = {tuple(provenance.get(k) for k in KINDS)}
    entries = [e for e in provenance.get("equivalent_versions", []) if isinstance(e, dict)]
    grown = True
    while grown:
        grown = False
        for e in entries:
            old, new = tuple(e.get(f"old_{k}") for k in KINDS), tuple(e.get(k) for k in KINDS)
            if old in accepted and new not in accepted:
                accepted.add(new)
                grown = True
    return accepted


def accepted_versions(provenance: dict, kind: str) -> set[str]:
    """The versions of ``kind`` (``"training_version"`` or ``"evaluation_version"``) a results folder
    with this provenance is current for: the recorded one and those proven equivalent to it."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}; got {kind!r}")
    return {pair[KINDS.index(kind)] for pair in _pairs(provenance)} - {None}


def record(provenance: dict, entry: dict) -> dict:
    """``provenance`` with ``entry`` appended to its ``"equivalent_versions"`` (every other key unchanged, in order).

    Raises ``ValueError`` if the entry's old versions are not accepted for the folder (the proof
    would not link to what it records).
    """
    old = tuple(entry.get(f"old_{k}") for k in KINDS)
    if old not in _pairs(provenance):
        raise ValueError(f"entry must be proven against the folder's versions {sorted(_pairs(provenance), key=str)}; "
                         f"got old versions {old}")
    return {**provenance, "equivalent_versions": [*provenance.get("equivalent_versions", []), entry]}


def record_folder(folder: Path, new: dict, old: dict, facts: dict) -> str:
    """Record ``new`` versions (``{kind: version}``) as proven equivalent to ``old`` in ``folder/provenance.json``.

    ``facts``: the entry's other fields (``proven_against``, ``compared``, ...). Written
    atomically in the file's own indentation. Returns a line saying what was done (a folder
    whose versions do not link to ``old`` is left unchanged).
    """
    path = Path(folder) / "provenance.json"
    text = path.read_text(encoding="utf-8")
    provenance = json.loads(text)
    pairs = _pairs(provenance)
    if tuple(new.get(k) for k in KINDS) in pairs:
        return f"{folder.name}: HEAD's versions are already accepted; unchanged"
    if tuple(old.get(k) for k in KINDS) not in pairs:
        return (f"{folder.name}: records {provenance.get('training_version')}/{provenance.get('evaluation_version')}, "
                f"not OLD's {old.get('training_version')}/{old.get('evaluation_version')}; unchanged")
    entry = {**{k: new.get(k) for k in KINDS}, "proven_against": facts["proven_against"],
             **{f"old_{k}": old.get(k) for k in KINDS}, **{k: v for k, v in facts.items() if k != "proven_against"}}
    lines = text.splitlines()
    indent = len(lines[1]) - len(lines[1].lstrip(" ")) if len(lines) > 1 else 1
    cache.write_json(path, record(provenance, entry), indent=indent or 1)
    return f"{folder.name}: recorded {entry['training_version']}/{entry['evaluation_version']} as equivalent"


# ---------------------------------------------------------------- comparing outputs

def compare_files(old: Path, new: Path) -> tuple[int, str | None]:
    """``(arrays compared, first difference or None)`` between two ``.npz`` files, bit for bit."""
    missing = [label for label, path in (("old", old), ("new", new)) if not Path(path).is_file()]
    if missing:
        return 0, f"{Path(old).name} not written by {' and '.join(missing)}"
    a, b = cache.load_npz(old), cache.load_npz(new)
    names = sorted(k for k in a.keys() | b.keys() if not k.endswith(NOT_COMPARED))
    for count, name in enumerate(names):
        if name not in a or name not in b:
            return count, f"array {name!r} only in {'new' if name in b else 'old'}"
        x, y = a[name], b[name]
        if x.dtype != y.dtype or x.shape != y.shape:
            return count, f"array {name!r}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}"
        if np.ascontiguousarray(x).tobytes() != np.ascontiguousarray(y).tobytes():
            where = np.flatnonzero(~((x == y) | (np.isnan(x) & np.isnan(y))) if x.dtype.kind == "f"
                                   else (x != y).ravel())
            return count, f"array {name!r} differs at {where.size} of {x.size} entries"
    return len(names), None


# ---------------------------------------------------------------- the proof

def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if done.returncode:
        raise ValueError(f"git {' '.join(args)} failed: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout.strip()


class _Scratch:
    """What one verification created (folders, git worktrees), to remove afterwards."""

    def __init__(self, repo: Path):
        self.repo, self.folders, self.worktrees = repo, [], []

    def folder(self, path: Path) -> Path:
        """``path``, made (and remembered for removal) if absent."""
        if not path.exists():
            path.mkdir(parents=True)
            self.folders.append(path)
        return path

    def worktree(self, path: Path, commit: str) -> Path:
        """A detached git worktree of ``commit`` at ``path``."""
        _git(self.repo, "worktree", "add", "--detach", str(path), commit)
        self.worktrees.append(path)
        return path

    def remove(self, worktrees: bool = True, folders: bool = True):
        """Remove the worktrees (``git worktree remove --force``) and the folders this created."""
        for path in reversed(self.worktrees if worktrees else []):
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=self.repo, capture_output=True)
        if worktrees:
            self.worktrees = []
        for path in reversed(self.folders if folders else []):
            shutil.rmtree(path, ignore_errors=True)


def _run(checkout: Path, args, env: dict, log: Path) -> None:
    """``python -m alukit ARGS`` in ``checkout`` (its alukit imported); output to ``log``; ValueError if it fails."""
    with open(log, "w") as f:
        done = subprocess.run([sys.executable, "-m", "alukit", *args], cwd=checkout, env=env, stdout=f,
                              stderr=subprocess.STDOUT)
    if done.returncode:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:]
        raise ValueError(f"`python -m alukit {' '.join(args)}` failed in {checkout} (see {log}): {tail}")


def _check_out_option(checkout: Path, label: str, log_dir: Path) -> None:
    """Refuse a checkout whose commands cannot write outside its ``results/`` (no ``--out``)."""
    for command in dict.fromkeys(spec[0][0] for spec in COMPARED.values()):
        log = log_dir / f"{label}-{command}-help.log"
        _run(checkout, (command, "--help"), dict(os.environ, PYTHONPATH=str(checkout)), log)
        if "--out" not in log.read_text():
            raise ValueError(f"{label}'s `{command}` has no --out option: it cannot write outside results/")


def _run_studies(checkout: Path, label: str, commit: str, engine: str, out: Path, profile: str,
                 scratch: _Scratch) -> dict[str, dict]:
    """Every study of :data:`COMPARED` in one checkout and engine → ``{study: provenance}``."""
    env = dict(os.environ, PYTHONPATH=str(checkout), ALUKIT_COMPILE=ENGINES[engine],
               ALUKIT_CACHE=str(scratch.folder(out / f"cache-{label}-{engine}")))
    provenance = {}
    for study, (command, files) in COMPARED.items():
        folder = out / f"{label}-{engine}" / study
        if label == "old" and _finished(folder, commit, files):  # OLD's outputs of an earlier run with --keep
            provenance[study] = json.loads((folder / "provenance.json").read_text())
            print(f"reused {label} {engine} {study} (written by {commit[:10]} in an earlier run)", flush=True)
            continue
        t = time.perf_counter()
        profile_args = () if command[0] in OWN_PROFILE else ("--profile", profile)
        _run(checkout, (*command, *profile_args, "--out", str(folder), "--quiet"), env,
             out / "logs" / f"{label}-{engine}-{study}.log")
        provenance[study] = json.loads((folder / "provenance.json").read_text())
        if not str(provenance[study].get("git_commit", "")).startswith(commit):
            raise ValueError(f"{label}'s {study} ran commit {provenance[study].get('git_commit')}, not {commit}: "
                             "another alukit was imported")
        print(f"ran {label} {engine} {study} ({time.perf_counter() - t:.0f} s)", flush=True)
    return provenance


def _finished(folder: Path, commit: str, files) -> bool:
    """Whether ``folder`` holds a finished output of ``commit`` with every compared file."""
    try:
        prov = json.loads((folder / "provenance.json").read_text())
    except (OSError, ValueError):
        return False
    return str(prov.get("git_commit", "")).startswith(commit) and all((folder / f).is_file() for f in files)


def _compare_engine(out: Path, engine: str) -> tuple[int, str | None]:
    """Compare OLD's and HEAD's outputs of one engine; prints one line per file."""
    total = 0
    for study, (_, files) in COMPARED.items():
        for name in files:
            n, difference = compare_files(out / f"old-{engine}" / study / name, out / f"head-{engine}" / study / name)
            total += n
            print(f"{engine:<8} {study:<10} {name:<14} {n:>4} arrays "
                  f"{'identical' if difference is None else 'DIFFER: ' + difference}", flush=True)
            if difference is not None:
                return total, f"{engine} {study}/{name}: {difference}"
    return total, None


def _versions(provenance: dict) -> dict:
    """``{kind: version}`` of an output's provenance."""
    return {k: provenance.get(k) for k in KINDS}


def _record_all(results: Path, old: dict, head: dict, facts: dict) -> None:
    """Record the equivalence in every committed results folder that records a training version.

    A folder made by a compared study (a sparse-DNN sweep: by the quick one) gets that study's two versions.
    Any other (a sweep, the picture's variants) trains with the same code, so it gets the proven training
    version beside its own evaluation version, which this proof does not cover: the folder stays stale if
    its evaluation code changed.
    """
    old_training, head_training = old["faithful"]["training_version"], head["faithful"]["training_version"]
    for folder in sorted(p.parent for p in Path(results).glob("*/provenance.json")):
        own = json.loads((folder / "provenance.json").read_text(encoding="utf-8"))
        study = next((s for end, s in _FOLDER_STUDY.items() if folder.name.endswith(end)), None)
        if own.get("sweep") and own.get("study") == "sparse-dnn":
            study = "sweep-sparse-dnn"
        if study is not None:
            print(record_folder(folder, _versions(head[study]), _versions(old[study]), facts))
            continue
        if "training_version" not in own:
            print(f"{folder.name}: records no training version; unchanged")
            continue
        evaluation = {"evaluation_version": own.get("evaluation_version")}
        print(record_folder(folder, {"training_version": head_training, **evaluation},
                            {"training_version": old_training, **evaluation}, facts))


def _prove(repo: Path, old: str, head: str, out: Path, profile: str, results: Path | None,
           scratch: _Scratch) -> int:
    """Check both commits out, run and compare every study per engine, then record (see the module's text)."""
    logs = scratch.folder(out / "logs")
    checkouts = {"old": (scratch.worktree(out / "checkout-old", old), old),
                 "head": (scratch.worktree(out / "checkout-head", head), head)}
    for label, (checkout, _) in checkouts.items():
        _check_out_option(checkout, label, logs)
    provenance, total = {}, 0
    for engine in ENGINES:
        for label, (checkout, commit) in checkouts.items():
            scratch.folder(out / f"{label}-{engine}")
            provenance[label] = _run_studies(checkout, label, commit, engine, out, profile, scratch)
        n, difference = _compare_engine(out, engine)
        total += n
        if difference is not None:
            print(f"NOT EQUIVALENT: HEAD {head[:10]} differs from {old[:10]}: {difference}")
            return 1
    print(f"EQUIVALENT: HEAD {head[:10]} trains and evaluates bit-identically to {old[:10]} "
          f"({total} arrays, profile {profile}, engines {', '.join(ENGINES)})")
    facts = {"proven_against": old, "compared": total, "profile": str(profile), "engines": list(ENGINES),
             "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
             "machine": provenance["head"]["faithful"].get("machine"), "commit": head}
    if results is not None:
        _record_all(results, provenance["old"], provenance["head"], facts)
    return 0


def verify(old_commit: str, out: Path | None = None, keep: bool = False, profile: str = "quick",
           repo: Path | None = paths.REPO_ROOT, results: Path | None = paths.RESULTS) -> int:
    """Prove HEAD bit-identical to ``old_commit`` and record it in ``results``: 0 on success, 1 on a
    difference, 130 if interrupted (Ctrl-C; the worktrees are removed). OLD_COMMIT's outputs kept in ``out`` by an earlier run
    (``--keep``) are reused: they depend on OLD_COMMIT only.

    Raises ``ValueError`` (one line) without a repository, for an unknown commit, for
    uncommitted changes under ``alukit/``, or if a study cannot run. ``out``: the temporary
    folder (default a new one in the system's temporary folder); ``keep``: leave what was
    created there (outputs, logs, worktrees) for inspection; otherwise it is removed.
    """
    if repo is None:
        raise ValueError("verify-equivalence needs a git checkout of alukit, not an installed package")
    repo = Path(repo).resolve()
    if _git(repo, "status", "--porcelain", "--", "alukit"):
        raise ValueError("uncommitted changes under alukit/ would not be what is recorded; commit them first")
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{old_commit}^{{commit}}"], cwd=repo,
                           capture_output=True, text=True)
    if found.returncode or not old_commit:
        raise ValueError(f"OLD_COMMIT must be a commit of this repository; got {old_commit!r}")
    old, head = found.stdout.strip(), _git(repo, "rev-parse", "HEAD")
    profile = str(Path(profile).resolve()) if Path(str(profile)).is_file() else str(profile)
    scratch = _Scratch(repo)
    if out is None:
        out = Path(tempfile.mkdtemp(prefix="alukit-verify-"))
        scratch.folders.append(out)
    elif Path(out).resolve().is_relative_to(repo):
        raise ValueError(f"out must be a folder outside the repository; got {out}")
    else:
        out = scratch.folder(Path(out).resolve())
    interrupted = False
    try:
        return _prove(repo, old, head, out, profile, results, scratch)
    except KeyboardInterrupt:
        interrupted = True
        print("interrupted: the worktrees are removed", file=sys.stderr)
        return 130
    finally:
        if keep:
            print(f"kept {out}" + ("" if interrupted or not scratch.worktrees else
                                   "; remove its worktrees with: git worktree remove --force " +
                                   " ".join(map(str, scratch.worktrees))))
        scratch.remove(worktrees=interrupted or not keep, folders=not keep)


def main(argv: list[str] | None = None) -> int:
    """``python -m alukit verify-equivalence OLD_COMMIT [--out DIR] [--keep] [--profile P]``."""
    ap = argparse.ArgumentParser(prog="python -m alukit verify-equivalence", description=__doc__.splitlines()[0])
    ap.add_argument("old_commit", metavar="OLD_COMMIT", help="the commit that made the committed results")
    ap.add_argument("--out", type=Path, default=None,
                    help="temporary folder outside the repository (default: a new one in the system's temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep the outputs, logs and worktrees for inspection")
    ap.add_argument("--profile", default="quick", help="quick (default) or a profile YAML both commits can read")
    args = ap.parse_args(argv)
    t = time.perf_counter()
    try:
        status = verify(args.old_commit, args.out, args.keep, args.profile)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"({time.perf_counter() - t:.0f} s)")
    return status
