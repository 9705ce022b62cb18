"""Output folders a command may write into: never one it did not make.

A command that writes a folder claims it (:func:`claim`): a new or empty folder gets a marker file
naming the command; a folder holding that marker is the command's own and may be written again; any
other non-empty folder is refused (``force`` overrides), and so are ``/``, the home folder, the
repository's root, an empty path, a file and a read-only place. The marker also records the SHA-256 of
every file the command wrote (:func:`record`), so that a file someone edited since is found
(:func:`edited`) and not overwritten.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from alukit import cache, paths

__all__ = ["FolderError", "refused_target", "claim", "owned", "record", "edited"]


class FolderError(ValueError):
    """An output folder the command must not write; the message names it and what to do instead."""


def refused_target(path: Path) -> str | None:
    """Why ``path`` may never be an output folder (None if it may)."""
    if str(path) in ("", "."):
        return "an empty path"
    resolved = Path(path).expanduser().resolve()
    if resolved == Path(resolved.anchor):
        return "the file system's root"
    if resolved == Path.home().resolve():
        return "your home folder"
    if paths.REPO_ROOT is not None and resolved == paths.REPO_ROOT.resolve():
        return "the repository's root"
    if resolved.exists() and not resolved.is_dir():
        return "a file, not a folder"
    parent = resolved
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK):
        return f"read-only ({parent} cannot be written)"
    return None


def _marker(path: Path, kind: str) -> Path:
    return Path(path) / f".alukit-{kind}"


def owned(path: Path, kind: str) -> bool:
    """Whether ``path`` holds the marker of a ``kind`` command."""
    return _marker(path, kind).is_file()


def claim(path: Path, kind: str, force: bool = False) -> Path:
    """Make ``path`` the ``kind`` command's output folder, or raise :class:`FolderError` (see the module)."""
    path = Path(path)
    why = refused_target(path)
    if why:
        raise FolderError(f"refusing to write into {path or repr(str(path))} ({why}); choose a new or empty folder")
    if path.is_dir() and any(path.iterdir()) and not owned(path, kind) and not force:
        raise FolderError(f"{path} holds files that python -m alukit {kind} did not write; choose a new or empty "
                          "folder (or pass --force to write into it anyway)")
    path.mkdir(parents=True, exist_ok=True)
    if not owned(path, kind):
        cache.write_json(_marker(path, kind), {"written_by": f"python -m alukit {kind}", "files": {}})
    return path


def _digest(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def record(path: Path, kind: str, files: list[Path]) -> None:
    """Remember the SHA-256 of ``files`` (just written into ``path``) in its marker."""
    marker = _marker(path, kind)
    data = json.loads(marker.read_text(encoding="utf-8")) if marker.is_file() else {"files": {}}
    data.setdefault("files", {}).update({Path(f).name: _digest(Path(f)) for f in files})
    cache.write_json(marker, data)


def edited(path: Path, kind: str, names: list[str]) -> list[str]:
    """Those of ``names`` in ``path`` that differ from what the command last wrote there (or that it never wrote)."""
    marker = _marker(path, kind)
    known = json.loads(marker.read_text(encoding="utf-8")).get("files", {}) if marker.is_file() else {}
    return [n for n in names if (Path(path) / n).is_file() and known.get(n) != _digest(Path(path) / n)]
