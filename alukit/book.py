"""Build the companion book: ``python -m alukit book --profile quick|paper``.

1. Read the chapter list from ``_toc.yml`` (repository root). A chapter ``file: NAME``
   is a notebook when ``notebooks/NAME.py`` (Jupytext percent format) exists, and a
   page (``book/NAME.md``) otherwise.
2. Execute every notebook with papermill, in the Python that runs this command
   (kernel ``python3`` pinned to ``sys.executable``), with the repository root as
   working directory. Parameters come from ``params/<profile>.yaml``; a notebook gets
   only the keys its cell tagged ``parameters`` declares. The executed notebook is
   written to a scratch file and renamed to ``book/NAME.ipynb``, so an interrupted
   run never leaves a half-executed chapter behind. A failing cell stops the command
   with the notebook's name and the cell's error; the failed notebook is kept in
   ``book/_build/papermill/`` for inspection.
3. Run ``jupyter-book build book -W --keep-going`` (warnings are errors).

``--only NAME`` executes one notebook (then builds, if every other chapter has been
executed before); with it, ``-p KEY VALUE`` (repeatable) overrides a parameter that the
notebook's ``parameters`` cell declares (VALUE read as a YAML scalar; unknown keys are
refused, naming the declared ones); ``--no-build`` stops after execution; ``--output DIR`` builds a
separate copy of the book in ``DIR`` (the tests use it so that they never overwrite
the book in ``book/``).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from . import profiles
from .cache import REPO_ROOT, read_jsons, write_json, write_text

BOOK_DIR = REPO_ROOT / "book"
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
CONFIG = REPO_ROOT / "_config.yml"
TOC = REPO_ROOT / "_toc.yml"
KERNEL_NAME = "python3"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class BookError(RuntimeError):
    """The book could not be built; the message says which notebook or step failed and why."""


def toc_files(toc: Path = TOC) -> list[str]:
    """Every ``file:`` entry of a Jupyter Book table of contents, root first, in order."""
    if not toc.is_file():
        raise BookError(f"table of contents not found: {toc}")
    data = yaml.safe_load(toc.read_text()) or {}
    names: list[str] = []

    def walk(node):
        if isinstance(node, dict):
            for k in ("root", "file"):
                if isinstance(node.get(k), str):
                    names.append(node[k])
            for k in ("parts", "chapters", "sections"):
                for child in node.get(k) or []:
                    walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(data)
    return names


def notebooks(toc: Path = TOC) -> list[str]:
    """The chapters of the table of contents that are notebooks (``notebooks/NAME.py``)."""
    out = []
    for name in toc_files(toc):
        if (NOTEBOOK_DIR / f"{name}.py").is_file():
            out.append(name)
        elif not any((BOOK_DIR / f"{name}{ext}").is_file() for ext in (".md", ".ipynb", ".rst")):
            raise BookError(f"_toc.yml lists {name!r}, but neither notebooks/{name}.py nor book/{name}.md exists")
    return out


def _kernel_path(scratch: Path) -> Path:
    """A Jupyter data folder whose ``python3`` kernel is this very interpreter.

    Put first on ``JUPYTER_PATH`` so that a user-wide ``python3`` kernel pointing at
    another Python cannot take over.
    """
    spec = {
        # log level ERROR: the kernel's own log (not the notebook's output) would otherwise
        # warn on every run that its local TCP sockets are unencrypted
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--IPKernelApp.log_level=ERROR"],
        "display_name": "Python 3 (alukit)",
        "language": "python",
    }
    path = scratch / "jupyter"
    write_text(path / "kernels" / KERNEL_NAME / "kernel.json", json.dumps(spec, indent=1))
    return path


def _error_message(name: str, exc, failed: Path) -> str:
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = getattr(exc, "evalue", str(exc))
    tb = _ANSI.sub("", "\n".join(getattr(exc, "traceback", []) or []))
    tail = "\n".join(tb.strip().splitlines()[-15:])
    where = f"cell {exc.exec_count}" if getattr(exc, "exec_count", None) is not None else "a cell"
    first_line = next((ln.strip() for ln in (getattr(exc, "source", "") or "").splitlines() if ln.strip()), "")
    if first_line:
        where += f" ({first_line[:70]}{'…' if len(first_line) > 70 else ''})"
    return (
        f"notebook {name} (notebooks/{name}.py) failed in {where}: {ename}: {evalue}\n"
        f"{tail}\n(executed notebook with the error kept at {failed})"
    )


def execute(name: str, params: dict, out_dir: Path = BOOK_DIR) -> dict:
    """Execute ``notebooks/NAME.py`` into ``out_dir/NAME.ipynb``; return the injected parameters."""
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    src = NOTEBOOK_DIR / f"{name}.py"
    if not src.is_file():
        raise BookError(f"notebook source not found: {src}")
    scratch = out_dir / "_build" / "papermill"
    scratch.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    source_nb = scratch / f"{name}.source.ipynb"
    write_text(source_nb, nbformat.writes(nb))

    declared = papermill.inspect_notebook(str(source_nb))
    injected = {k: params[k] for k in declared if k in params}
    result = scratch / f"{name}.ipynb"
    old_path = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(_kernel_path(scratch)), old_path]))
    try:
        papermill.execute_notebook(
            str(source_nb),
            str(result),
            parameters=injected,
            kernel_name=KERNEL_NAME,
            language="python",
            cwd=str(REPO_ROOT),
            progress_bar=False,
            log_output=False,
        )
    except PapermillExecutionError as exc:
        raise BookError(_error_message(name, exc, result)) from None
    except Exception as exc:  # kernel died, timeout, bad notebook
        raise BookError(f"notebook {name} (notebooks/{name}.py) could not be executed: {type(exc).__name__}: {exc}") from exc
    finally:
        if old_path is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old_path
    os.replace(result, out_dir / f"{name}.ipynb")  # same file system: atomic
    source_nb.unlink(missing_ok=True)
    return injected


def stage(out_dir: Path) -> None:
    """Copy the book's static sources (pages, bibliography, config, toc) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in BOOK_DIR.iterdir():
        if item.name.startswith(".") or item.name == "_build" or item.suffix == ".ipynb":
            continue
        target = out_dir / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)
    for f in (CONFIG, TOC):
        target = out_dir / f.name
        if target.is_symlink():
            target.unlink()
        shutil.copy2(f, target)


def build_html(book_dir: Path = BOOK_DIR) -> Path:
    """``jupyter-book build BOOK_DIR -W --keep-going``; returns the path of ``index.html``."""
    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(book_dir), "-W", "--keep-going"]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout, end="", flush=True)
    if proc.returncode != 0:
        warnings = [ln for ln in proc.stdout.splitlines() if "WARNING" in ln or "ERROR" in ln]
        detail = "\n".join(warnings[-20:]) or "\n".join(proc.stdout.splitlines()[-20:])
        raise BookError(f"jupyter-book build {book_dir} failed (warnings are errors):\n{detail}")
    return book_dir / "_build" / "html" / "index.html"


def declared_parameters(name: str) -> dict[str, dict]:
    """The parameters that ``notebooks/NAME.py`` declares in its cell tagged ``parameters``.

    ``{name: {"default": source text, "inferred_type_name": ..., "help": ...}}``, read
    with ``papermill.inspect_notebook``.
    """
    import tempfile

    import jupytext
    import nbformat
    import papermill

    src = NOTEBOOK_DIR / f"{name}.py"
    if not src.is_file():
        raise BookError(f"notebook source not found: {src}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{name}.ipynb"
        path.write_text(nbformat.writes(jupytext.read(src)))
        return dict(papermill.inspect_notebook(str(path)))


def parameter_overrides(names: list[str], pairs: list[tuple[str, str]]) -> dict:
    """``-p KEY VALUE`` pairs → ``{KEY: value}``, each KEY checked against the notebooks' parameters cells.

    ``names``: the notebooks the overrides go to (``--only``); a KEY that none of them
    declares is refused with the names they do declare. VALUE is read as a YAML scalar
    (``10`` → int, ``1e-3`` → float, ``true`` → bool, ``null`` → None, else text).
    """
    if not pairs:
        return {}
    if not names:
        raise ValueError("-p/--parameter needs --only NAME: parameters belong to one notebook's parameters cell")
    allowed: dict[str, None] = {}
    for name in names:
        allowed.update(dict.fromkeys(declared_parameters(name)))
    out = {}
    for key, text in pairs:
        if key not in allowed:
            raise ValueError(f"parameter {key!r} is not declared by {', '.join(names)}; "
                             f"allowed: {', '.join(allowed) or 'none'}")
        value = yaml.safe_load(text) if text.strip() else text
        if isinstance(value, str):
            try:
                value = float(value) if text.strip().lower() not in ("nan", "inf", "-inf", "infinity") else value
            except ValueError:
                pass  # plain text
        if isinstance(value, (dict, list)):
            raise ValueError(f"parameter {key!r}: value must be a single YAML scalar; got {text!r}")
        out[key] = value
    return out


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m alukit book",
        description="Execute the book's notebooks with papermill and build the HTML book with jupyter-book.",
    )
    p.add_argument("--profile", default="quick",
                   help=f"parameter profile: one of {', '.join(profiles.PROFILES)} (params/NAME.yaml) or a .yaml path; default quick")
    p.add_argument("--only", metavar="NAME", action="append",
                   help="execute only this notebook (a _toc.yml entry, e.g. 01_process); repeatable")
    p.add_argument("-p", "--parameter", nargs=2, metavar=("KEY", "VALUE"), action="append", default=[],
                   help="with --only: override a parameter of the notebook's parameters cell (VALUE read as YAML); "
                        "repeatable")
    p.add_argument("--no-build", action="store_true", help="execute the notebooks but do not run jupyter-book")
    p.add_argument("--output", metavar="DIR", type=Path,
                   help="build a copy of the book in DIR instead of book/ (the tests use this)")
    return p


def run(profile: str = "quick", only: list[str] | None = None, build: bool = True, output: Path | None = None,
        parameters: list[tuple[str, str]] = ()) -> Path | None:
    """Validate everything, execute the notebooks, build the book; see the module docstring.

    ``parameters``: ``(KEY, VALUE)`` overrides for the ``only`` notebooks (:func:`parameter_overrides`).
    """
    params = profiles.load(profile)  # ValueError naming the allowed profiles
    names = notebooks()
    if only:
        unknown = [n for n in only if n not in names]
        if unknown:
            raise ValueError(f"--only must name notebooks listed in _toc.yml ({', '.join(names) or 'none'}); got {', '.join(unknown)}")
        selected = [n for n in names if n in only]
    else:
        selected = names
    params = {**params, **parameter_overrides(list(only or []), list(parameters))}
    out_dir = BOOK_DIR if output is None else Path(output).resolve()
    if out_dir != BOOK_DIR:
        stage(out_dir)

    total = time.perf_counter()
    cached_runs = _cached_training_runs()
    seconds: dict[str, float] = {}
    for i, name in enumerate(selected, 1):
        t0 = time.perf_counter()
        print(f"[{i}/{len(selected)}] executing notebooks/{name}.py (profile {profile})", flush=True)
        injected = execute(name, params, out_dir)
        seconds[name] = time.perf_counter() - t0
        print(f"      parameters {injected}; {seconds[name]:.1f} s -> {out_dir / (name + '.ipynb')}", flush=True)
    if not build:
        return None
    missing = [n for n in names if not (out_dir / f"{n}.ipynb").is_file()]
    if missing:
        raise BookError(f"not executed yet: {', '.join(missing)}; run without --only first")
    t0 = time.perf_counter()
    index = build_html(out_dir)
    seconds["html"] = time.perf_counter() - t0
    print(f"built {index} in {seconds['html']:.1f} s (total {time.perf_counter() - total:.1f} s)", flush=True)
    if selected == names and out_dir == BOOK_DIR and not parameters:
        _record(profile, seconds, time.perf_counter() - total, cached_runs)
    return index


TIMES_DIR = REPO_ROOT / "results" / "book"


def _cached_training_runs() -> int:
    from .cache import cache_dir

    return len(list((cache_dir() / "train").glob("*.npz")))


def _record(profile, seconds: dict, total: float, cached_runs: int) -> None:
    """Write ``results/book/<profile>.json``: seconds per notebook and for the HTML, the total, and
    how many training runs were cached at the start (0: the build trained everything)."""
    from datetime import datetime, timezone

    from .bench import machine
    from .reproduce import git_commit

    record = {"profile": Path(str(profile)).stem, "total_seconds": round(total, 1),
              "seconds": {k: round(v, 1) for k, v in seconds.items()}, "training_runs_cached_at_start": cached_runs,
              "git_commit": git_commit(), "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "machine": machine()}
    write_json(TIMES_DIR / f"{record['profile']}.json", record)


def recorded() -> dict[str, dict]:
    """The build times written by full builds, by profile (empty if none)."""
    return read_jsons(TIMES_DIR)


def _unique_scripts(app, pagename, templatename, context, doctree):
    """``html-page-context`` handler: keep the first of identical ``<script>`` entries."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        key = (str(getattr(script, "filename", script) or ""), tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    """Sphinx extension hook (``_config.yml`` lists ``alukit.book`` in ``extra_extensions``)."""
    app.connect("html-page-context", _unique_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run(args.profile, args.only, not args.no_build, args.output, [tuple(kv) for kv in args.parameter])
    except (ValueError, BookError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
