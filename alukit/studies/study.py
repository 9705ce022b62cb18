"""A results folder: the one protocol every study's output follows.

A :class:`Study` is a folder (``results/NAME/`` by default) of small, non-pickle files and a
``provenance.json`` that says what made them and holds a **manifest**: the SHA-256 of every
other file. :meth:`Study.write` writes all files into a sibling folder and swaps it in, so an
interrupted write leaves the previous folder or the new one, never a mix; it refuses a
folder it did not make (and ``/``, the home folder, the repository root). :meth:`Study.verify`
checks the manifest, so an edited or truncated file is found before it is read.
:meth:`Study.stale_reason` compares the recorded code versions and settings with the
current ones; a code version proven equivalent (``python -m alukit verify-equivalence``,
recorded under ``equivalent_versions``) counts as current.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Callable, Iterable

from alukit import cache, paths
from alukit.folders import refused_target

__all__ = ["StudyError", "Expected", "accepted_versions", "Study"]

PROVENANCE = "provenance.json"
WRITTEN_BY = "alukit"


class StudyError(RuntimeError):
    """A results folder that cannot be written or read as asked; the message names the folder and the fix."""


class Expected:
    """One recorded fact a folder must match to be current: provenance ``key`` equals ``value``, else ``reason``.

    ``version=True``: a code version, also current when proven equivalent (:func:`accepted_versions`).
    """

    __slots__ = ("key", "value", "reason", "version")

    def __init__(self, key: str, value, reason: str, version: bool = False):
        self.key, self.value, self.reason, self.version = key, value, reason, version


def accepted_versions(provenance: dict, key: str) -> set:
    """The values of code version ``key`` that count as current: the recorded one and every version proven
    equivalent to an accepted one (a chain of proofs is followed; a proof against another version is not)."""
    accepted = {provenance.get(key)}
    proofs = provenance.get("equivalent_versions", [])
    grown = True
    while grown:
        grown = False
        for proof in proofs:
            if proof.get(f"old_{key}") in accepted and proof.get(key) not in accepted:
                accepted.add(proof.get(key))
                grown = True
    return accepted - {None}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Study:
    """The results folder ``path`` (default ``results/NAME``) of one study run.

    ``refresh``: the command that (re)writes it, named in every error and staleness message.
    """

    def __init__(self, name: str, path: Path | str | None = None, refresh: str = ""):
        self.name = name
        self.path = Path(path) if path is not None else paths.results_dir(name)
        self.refresh = refresh or f"the command that wrote {name}"

    def __repr__(self) -> str:
        return f"Study({self.name!r}, path={str(self.path)!r})"

    # -- reading -------------------------------------------------------------------------
    @property
    def exists(self) -> bool:
        """Whether a finished folder is there (its ``provenance.json`` is written last)."""
        return (self.path / PROVENANCE).is_file()

    def shown(self) -> str:
        """The folder as the book and messages show it: relative to the repository when inside it."""
        try:
            return str(self.path.resolve().relative_to(paths.REPO_ROOT.resolve())) + "/"
        except (ValueError, AttributeError):
            return str(self.path) + "/"

    def provenance(self) -> dict:
        """``provenance.json``; :class:`StudyError` naming the refresh command if the folder is missing."""
        if not self.exists:
            raise StudyError(f"no results in {self.shown()}; run: {self.refresh}")
        try:
            return json.loads((self.path / PROVENANCE).read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise StudyError(f"{self.shown()}{PROVENANCE} is not valid JSON ({exc}); run: {self.refresh}") from None

    def verify(self) -> dict:
        """The provenance, after checking every file against its manifest (:class:`StudyError` naming the first
        file that is missing, extra or changed)."""
        prov = self.provenance()
        manifest = prov.get("manifest")
        if not isinstance(manifest, dict):
            raise StudyError(f"{self.shown()} has no manifest (written by an older alukit); run: {self.refresh}")
        for name, digest in manifest.items():
            file = self.path / name
            if not file.is_file():
                raise StudyError(f"{self.shown()}{name} is missing; run: {self.refresh}")
            if _sha256(file) != digest:
                raise StudyError(f"{self.shown()}{name} differs from the file that was written (edited or "
                                 f"damaged); run: {self.refresh}, or restore it with git")
        return prov

    def file(self, name: str) -> Path:
        """The path of one of the folder's files."""
        return self.path / name

    def stale_reason(self, expected: Iterable[Expected]) -> str | None:
        """The first ``expected`` fact the folder's provenance does not match (its reason), or None if current."""
        if not self.exists:
            return "no results"
        prov = self.provenance()
        for fact in expected:
            current = (fact.value in accepted_versions(prov, fact.key) if fact.version
                       else prov.get(fact.key) == fact.value)
            if not current:
                return fact.reason
        return None

    # -- writing -------------------------------------------------------------------------
    def _is_ours(self) -> bool:
        try:
            prov = json.loads((self.path / PROVENANCE).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            return False
        return isinstance(prov, dict) and (prov.get("written_by") == WRITTEN_BY or {"git_commit", "date"} <= set(prov))

    def check_target(self, force: bool = False) -> None:
        """Refuse, before any work, a target alukit must not write: see :meth:`write`."""
        why = refused_target(self.path)
        if why:
            raise StudyError(f"refusing to write results into {self.path} ({why}); choose an empty or new folder")
        if self.path.is_dir() and any(self.path.iterdir()) and not self._is_ours() and not force:
            raise StudyError(f"{self.path} holds files alukit did not write; choose an empty or new folder "
                             "(or pass --force to replace its contents)")

    def _siblings(self, kind: str) -> list[Path]:
        return sorted(self.path.parent.glob(f".{self.path.name}.{kind}-*"))

    def _clean_orphans(self) -> None:
        """Finish or undo an earlier write that was interrupted: restore a moved-away folder, drop partial ones."""
        for old in self._siblings("old"):
            if self.path.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.rename(self.path)
        for partial in self._siblings("partial"):
            pid = partial.name.rsplit("-", 1)[-1]
            if not (pid.isdigit() and _alive(int(pid))):
                shutil.rmtree(partial, ignore_errors=True)

    def write(self, files: dict[str, Callable[[Path], None]], provenance: dict, *, force: bool = False) -> Path:
        """Write the folder: ``files`` maps each file name to a function that writes it at the given path;
        ``provenance`` is written last, with ``written_by`` and the ``manifest`` added.

        Everything goes into a sibling folder that replaces the old one only when complete. Refused (before
        anything is written): ``/``, the home folder, the repository root, a file, a read-only place, and a
        non-empty folder alukit did not write, unless ``force``.
        """
        self.check_target(force)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clean_orphans()
        partial = self.path.parent / f".{self.path.name}.partial-{os.getpid()}"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir()
        try:
            for name, write in files.items():
                write(partial / name)
            manifest = {p.name: _sha256(p) for p in sorted(partial.iterdir()) if p.name != PROVENANCE}
            cache.write_json(partial / PROVENANCE, {**provenance, "written_by": WRITTEN_BY, "manifest": manifest},
                             indent=2)
            old = self.path.parent / f".{self.path.name}.old-{os.getpid()}"
            if self.path.exists():
                self.path.rename(old)
            partial.rename(self.path)
            shutil.rmtree(old, ignore_errors=True)
        except BaseException:
            shutil.rmtree(partial, ignore_errors=True)
            self._clean_orphans()
            raise
        return self.path

    def update_provenance(self, **entries) -> None:
        """Add or replace provenance entries in place (the manifest covers the other files, so it stays valid)."""
        prov = self.provenance()
        cache.write_json(self.path / PROVENANCE, {**prov, **entries}, indent=2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
