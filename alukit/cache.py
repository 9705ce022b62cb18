"""Content-addressed on-disk cache with atomic writes.

Entries live under :func:`alukit.paths.cache_dir` (``$ALUKIT_CACHE``, else ``~/.cache/alukit``). A key is the SHA-256 of a canonical JSON of the arguments plus a hash
of the code that produced the entry (:func:`alukit.codeversion.code_version`), so changing either gives a new entry.
Every file is written to a temporary name in the same folder and renamed into
place, so an interrupted run never leaves a file that looks finished.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Callable

import numpy as np

from alukit.paths import cache_dir

__all__ = ["key", "atomic_write", "write_text", "write_json", "read_jsons", "save_npz", "DamagedFile", "CacheWarning",
           "load_npz", "discard", "cached_arrays"]


def key(kind: str, **parts) -> str:
    """``kind-<hash>``: a stable name for the entry described by ``parts`` (JSON-serialisable)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return f"{kind}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}"


def atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename ``tmp_path`` to ``path``; nothing is left on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; finished files get the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    """Atomically write a text file."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: Path, obj, indent: int = 1) -> Path:
    """Atomically write ``obj`` as indented JSON with a final newline."""
    return write_text(path, json.dumps(obj, indent=indent) + "\n")


def read_jsons(folder: Path) -> dict[str, object]:
    """Every ``*.json`` file in ``folder`` by file stem, in name order (empty if none)."""
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(Path(folder).glob("*.json"))}


def save_npz(path: Path, **arrays) -> Path:
    """Atomically write arrays to a compressed ``.npz``."""

    def write(tmp: Path):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    return atomic_write(path, write)


class DamagedFile(OSError):
    """A file that exists but cannot be read as what it should be (truncated, overwritten, not an npz)."""


class CacheWarning(UserWarning):
    """A damaged cache entry was found and is recomputed."""


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """Read every array of an ``.npz`` (never unpickling anything); :class:`DamagedFile` naming ``path`` if it
    is not a readable npz of plain arrays."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        why = "it holds objects, not plain arrays" if "allow_pickle" in str(exc) else type(exc).__name__
        raise DamagedFile(f"{path}: damaged or not an array file ({why})") from None


def discard(path: Path, why: str) -> None:
    """Remove a damaged cache file, with a :class:`CacheWarning` naming it (it will be recomputed)."""
    warnings.warn(f"damaged cache entry {path} ({why}); recomputing it", CacheWarning, stacklevel=3)
    Path(path).unlink(missing_ok=True)


def cached_arrays(name: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Load ``<cache>/<name>.npz`` if present and readable, else ``compute()``, store it and return it (a damaged
    entry is discarded with a warning and recomputed)."""
    path = cache_dir() / f"{name}.npz"
    if path.exists():
        try:
            return load_npz(path)
        except DamagedFile as exc:
            discard(path, str(exc).split(": ", 1)[-1])
    arrays = compute()
    save_npz(path, **arrays)
    return arrays
