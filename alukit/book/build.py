"""Build the companion book: ``python -m alukit book [--profile quick|paper|FILE.yaml] [--record]``.

The chapters are the Jupytext percent-format notebooks ``notebooks/NAME.py`` listed in
``_toc.yml``; pages without code are ``book/NAME.md``. Chapters never train: they read
the results written by ``python -m alukit reproduce`` (:func:`alukit.studies.reproduce.load`).
Every notebook's cell tagged ``parameters`` holds the paper profile's values, so there
are two ways to build, giving the same pages for the paper profile:

**The default book** (paper profile, no overrides) is ``jupyter-book build book -W
--keep-going``, exactly what typing that command on a fresh clone does. ``book/NAME.py``
are symbolic links to ``../notebooks/NAME.py`` (:func:`link_chapters` creates missing
ones); Jupyter Book reads them through Jupytext (``nb_custom_formats`` in
``_config.yml``) and executes them itself in ``cache`` mode (jupyter-cache under
``book/_build/.jupyter_cache``), with their default parameters, reading the committed
``results/paper-*/``. HTML: ``book/_build/html/``. Because jupyter-cache keys a
notebook by its code only, this module is also a small Sphinx extension
(:mod:`alukit.book.sphinx`, listed in ``_config.yml``): when the results, the package or the profiles
change (:func:`inputs_fingerprint`), it empties the execution cache and the Sphinx
environment before the build, so that no page shows outputs of older inputs.

**Any other profile** (or parameter overrides, ``--only`` or ``--no-build``): papermill executes each notebook with
the values of ``params/<profile>.yaml`` that its ``parameters`` cell declares, in the
Python running this command (kernel ``python3`` pinned to ``sys.executable``), with the
repository root as working directory, into a staged copy of the book
(:func:`staged_dir`: ``build/book-<profile>/``, or ``--output DIR``) whose
configuration has execution off. The default parameter cell is removed from the page
and papermill's injected one is collapsed; the chapter's banner names the profile. A
failing cell stops the command with the notebook's name and the cell's error (the
failed notebook is kept under ``<staged>/_build/papermill/``). With ``--reproduce``
(what ``make book PROFILE=quick`` passes), the profile's missing or stale results are
first written by :func:`alukit.studies.reproduce.run` (cached stages); the paper profile's
results are committed and never made by a book build.

Each build writes its times (seconds per notebook, HTML, total) to
``<build>/_build/timings.json``, an ignored file. ``--record`` builds from an empty build
folder and also writes them to ``results/book/<profile>.json``, the committed
measurement the READMEs quote (``python -m alukit readme``); no other build changes a
tracked file.

``--only NAME`` with ``-p KEY VALUE`` (repeatable) overrides a parameter that the
notebook's ``parameters`` cell declares (VALUE read as a YAML scalar; unknown keys are
refused, naming the declared ones): :func:`parameter_overrides`.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import yaml

from alukit import folders, paths, profiles, provenance
from alukit.cache import read_jsons, write_json, write_text
from alukit.paths import REPO_ROOT
from alukit.profiles import Profile
from alukit.book import bench
from alukit.book.sphinx import KERNEL_NAME, inputs_fingerprint, kernel_path
from alukit.studies import reproduce, sparse_dnn
from alukit.training import pool, train
from alukit.commandline import Parser

__all__ = ["NOTEBOOK_DIR", "BookError", "notebooks", "chapters", "run", "recorded", "main"]

BOOK_DIR = paths.BOOK
NOTEBOOK_DIR = paths.NOTEBOOKS
CONFIG = paths.CONFIG
TOC = paths.TOC
STAGED_ROOT = paths.STAGED
TIMES_DIR = paths.RESULTS / "book"
DEFAULT_PROFILE = "paper"  # the profile whose values the notebooks' parameter cells hold
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class BookError(RuntimeError):
    """The book could not be built; the message says which notebook or step failed and why."""


# ---------------------------------------------------------------- chapters

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
        elif not (BOOK_DIR / f"{name}.md").is_file():
            raise BookError(f"_toc.yml lists {name!r}, but neither notebooks/{name}.py nor book/{name}.md exists")
    return out


def chapters(toc: Path = TOC) -> dict[str, list[str]]:
    """Each chapter of the table of contents with its pages: itself, then its ``sections`` (chapter 5's
    tables and conclusions are sections of 5_results: one chapter, one numbering of figures and tables)."""
    data = yaml.safe_load(toc.read_text()) or {}
    out: dict[str, list[str]] = {}

    def walk(node, into):
        for child in node.get("sections") or []:
            into.append(child["file"])
            walk(child, into)

    for chapter in [c for part in data.get("parts") or [data] for c in part.get("chapters") or []]:
        out[chapter["file"]] = [chapter["file"]]
        walk(chapter, out[chapter["file"]])
    return out


def link_chapters(names=None) -> list[str]:
    """Create the missing links ``book/NAME.py -> ../notebooks/NAME.py``; return the names linked now.

    Also removes ``book/NAME.ipynb`` files that older versions of this command wrote
    (they would give Sphinx two documents of one name).
    """
    made = []
    for name in notebooks() if names is None else names:
        link = BOOK_DIR / f"{name}.py"
        target = Path("..") / "notebooks" / f"{name}.py"
        if link.is_symlink() and os.readlink(link) == str(target):
            pass
        else:
            if link.exists() or link.is_symlink():
                link.unlink()
            link.symlink_to(target)
            made.append(name)
        (BOOK_DIR / f"{name}.ipynb").unlink(missing_ok=True)
    return made


def default_parameters(name: str) -> dict:
    """The values of the cell tagged ``parameters`` of ``notebooks/NAME.py`` (evaluated, no other cell run)."""
    import jupytext

    nb = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise BookError(f"notebooks/{name}.py must have exactly one cell tagged 'parameters'; found {len(cells)}")
    namespace: dict = {}
    exec(compile(cells[0].source, f"notebooks/{name}.py:parameters", "exec"), {}, namespace)
    return {k: v for k, v in namespace.items() if not k.startswith("_")}


def _values(profile, overrides: dict | None = None) -> dict:
    """The values a notebook may receive: the profile's, ``profile`` as given (a name or a path), overrides last."""
    return {**profiles.load(profile).to_dict(), "profile": str(profile), **(overrides or {})}


def is_default(profile, overrides: dict | None = None) -> bool:
    """True if the notebooks' own parameters are this profile's, so that Jupyter Book can execute them directly."""
    if overrides:
        return False
    values = _values(profile)
    for name in notebooks():
        defaults = default_parameters(name)
        if any(k in values and values[k] != v for k, v in defaults.items()):
            return False
    return True


# ---------------------------------------------------------------- papermill (other profiles)

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


def _reader_view(path: Path) -> None:
    """Remove the default parameter cell from the page and collapse papermill's injected one."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if "parameters" in tags and "remove-cell" not in tags:
            tags.append("remove-cell")
        if "injected-parameters" in tags and "hide-cell" not in tags:
            tags.append("hide-cell")
    write_text(path, nbformat.writes(nb))


def execute(name: str, params: dict, out_dir: Path) -> dict:
    """Execute ``notebooks/NAME.py`` into ``out_dir/NAME.ipynb``; return the injected parameters."""
    with _kernel_on_path(out_dir):
        return _execute(name, params, out_dir)


@contextlib.contextmanager
def _kernel_on_path(out_dir: Path):
    """The block runs with the book's kernel spec (in ``out_dir/_build/papermill/``) on ``JUPYTER_PATH``."""
    scratch = out_dir / "_build" / "papermill"
    scratch.mkdir(parents=True, exist_ok=True)
    old_path = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(kernel_path(scratch)), old_path]))
    try:
        yield
    finally:
        if old_path is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old_path


THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


@contextlib.contextmanager
def _shared_cores(workers: int):
    """Processes (kernels, pool workers) started in the block share the cores: each gets ``cpu_count // workers``
    threads (at least 1) through :data:`THREAD_VARIABLES`, unless the user set them. Two processes of 2 threads each
    on 2 cores spin against each other: the quick book's notebook stage took 134 s that way, 113 s with one thread
    each, and its two rollout workers 81 s where one process alone takes 15."""
    n = str(max(1, (os.cpu_count() or 1) // max(1, workers)))
    added = [v for v in THREAD_VARIABLES if v not in os.environ]
    os.environ.update({v: n for v in added})
    try:
        yield
    finally:
        for v in added:
            os.environ.pop(v, None)


def _execute(name: str, params: dict, out_dir: Path) -> dict:
    """:func:`execute` with the kernel spec already on ``JUPYTER_PATH`` (:func:`_kernel_on_path`); thread-safe."""
    import jupytext
    import nbformat
    import papermill
    from papermill.exceptions import PapermillExecutionError

    src = NOTEBOOK_DIR / f"{name}.py"
    if not src.is_file():
        raise BookError(f"notebook source not found: {src}")
    scratch = out_dir / "_build" / "papermill"
    nb = jupytext.read(src)
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    source_nb = scratch / f"{name}.source.ipynb"
    write_text(source_nb, nbformat.writes(nb))

    declared = papermill.inspect_notebook(str(source_nb))
    injected = {k: params[k] for k in declared if k in params}
    result = scratch / f"{name}.ipynb"
    try:
        papermill.execute_notebook(str(source_nb), str(result), parameters=injected, kernel_name=KERNEL_NAME,
                                   language="python", cwd=str(REPO_ROOT), progress_bar=False, log_output=False)
    except PapermillExecutionError as exc:
        raise BookError(_error_message(name, exc, result)) from None
    except Exception as exc:  # kernel died, timeout, bad notebook
        raise BookError(f"notebook {name} (notebooks/{name}.py) could not be executed: {type(exc).__name__}: {exc}") from exc
    _reader_view(result)
    os.replace(result, out_dir / f"{name}.ipynb")  # same file system: atomic
    source_nb.unlink(missing_ok=True)
    return injected


def staged_dir(profile) -> Path:
    """Where a non-default profile's book is staged and built: ``build/book-<profile>/``."""
    return STAGED_ROOT / f"book-{profiles.load(profile).name}"


def stage(out_dir: Path) -> None:
    """Copy the book's pages, bibliography and static files into ``out_dir``, with execution switched off.

    The staged ``_config.yml`` is the root one with ``execute_notebooks: off`` (the
    notebooks there are already executed by papermill); chapter links are not copied.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    for item in BOOK_DIR.iterdir():
        if item.name.startswith(".") or item.name == "_build" or item.suffix in (".ipynb", ".py") \
                or item.name in (CONFIG.name, TOC.name):
            continue
        target = out_dir / item.name
        if item.is_dir():
            shutil.copytree(item, target, dirs_exist_ok=True)
        else:
            shutil.copy2(item, target)
    config = yaml.safe_load(CONFIG.read_text())
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    write_text(out_dir / CONFIG.name, yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    shutil.copy2(TOC, out_dir / TOC.name)


# ---------------------------------------------------------------- jupyter-book

def build_html(book_dir: Path = BOOK_DIR) -> Path:
    """``jupyter-book build BOOK_DIR -W --keep-going``; returns the path of ``index.html``."""
    cmd = [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())",
           "build", str(book_dir), "-W", "--keep-going"]
    started = time.time()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    print(proc.stdout, end="", flush=True)
    if proc.returncode != 0:
        failed = _failed_chapters(book_dir / "_build" / "html" / "reports", started)
        lines = [_ANSI.sub("", ln) for ln in proc.stdout.splitlines()]
        problems = [ln for ln in lines if ("WARNING" in ln or "ERROR" in ln)
                    and not (failed and "found in glue data" in ln)]  # missing glue: a consequence of a failed chapter
        detail = "\n".join([*failed, *problems[-20:]]) or "\n".join(lines[-20:])
        raise BookError(f"jupyter-book build {_shown(book_dir)} failed (warnings are errors):\n{detail}")
    folders.claim(book_dir / "_build", "book", force=True)  # marks the build folder as this command's
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


def _failed_chapters(reports: Path, since: float = 0.0) -> list[str]:
    """One line per chapter whose execution failed (since ``since``, a time stamp): its exception, from myst-nb's
    ``reports/NAME.err.log``."""
    out = []
    for log in sorted(reports.glob("*.err.log")):
        if log.stat().st_mtime < since:
            continue
        lines = [ln.strip() for ln in _ANSI.sub("", log.read_text(errors="replace")).splitlines() if ln.strip()]
        error = next((ln for ln in reversed(lines) if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", ln)),
                     lines[-1] if lines else "(no traceback)")
        out.append(f"chapter {log.name.removesuffix('.err.log')} failed: {error}")
    return out


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _write_timings(build_dir: Path, record: dict) -> None:
    write_json(build_dir / "_build" / "timings.json", record)


# ---------------------------------------------------------------- the command

def _parser() -> Parser:
    p = Parser(
        prog="python -m alukit book",
        description="Build the HTML book: jupyter-book executes the chapters (paper profile), or papermill "
                    "executes them with another profile's values into a staged copy.",
    )
    p.add_argument("--profile", default=DEFAULT_PROFILE,
                   help=f"parameter profile: one of {', '.join(profiles.PROFILES)} (params/NAME.yaml) or a .yaml path; "
                        f"default {DEFAULT_PROFILE}")
    p.add_argument("--only", metavar="NAME", action="append",
                   help="execute only this notebook (a _toc.yml entry, e.g. 01_process) with papermill into the "
                        "staged copy, then build it; repeatable")
    p.add_argument("--no-build", action="store_true",
                   help="execute the notebooks with papermill into the staged copy, skip jupyter-book")
    p.add_argument("-p", "--parameter", nargs=2, metavar=("KEY", "VALUE"), action="append", default=[],
                   help="with --only: override a parameter of the notebook's parameters cell (VALUE read as YAML); "
                        "repeatable")
    p.add_argument("--output", metavar="DIR", type=Path,
                   help="stage and build the book in DIR (default: book/ for the default book, "
                        "build/book-<profile>/ for papermill builds)")
    p.add_argument("--force", action="store_true",
                   help="with --output: build into a folder this command did not make (its files may be replaced)")
    p.add_argument("--record", action="store_true",
                   help="build from an empty build folder and write the times to results/book/<profile>.json")
    p.add_argument("--reproduce", action="store_true",
                   help="first write this profile's missing or stale results (python -m alukit reproduce, cached "
                        "stages); not for the paper profile, whose results are committed")
    return p


def _selected(only: list[str] | None) -> list[str]:
    names = notebooks()
    if not only:
        return names
    unknown = [n for n in only if n not in names]
    if unknown:
        raise ValueError(f"--only must name notebooks listed in _toc.yml ({', '.join(names) or 'none'}); got {', '.join(unknown)}")
    return [n for n in names if n in only]


def _build_default(out_dir: Path, names: list[str]) -> dict:
    """Jupyter Book executes the chapters itself; returns seconds per notebook and for the rest of the build."""
    if out_dir != BOOK_DIR:
        stage(out_dir)
        config = yaml.safe_load(CONFIG.read_text())
        write_text(out_dir / CONFIG.name, yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
        for name in names:
            (out_dir / f"{name}.py").unlink(missing_ok=True)
            (out_dir / f"{name}.py").symlink_to(NOTEBOOK_DIR / f"{name}.py")
    else:
        link_chapters(names)
    t0 = time.perf_counter()
    index = build_html(out_dir)
    total = time.perf_counter() - t0
    executed = json.loads((index.parent.parent / "execution.json").read_text())
    seconds = {n: executed.get(n, {}).get("seconds", 0.0) for n in names}
    seconds["html"] = max(total - sum(seconds.values()), 0.0)
    return seconds


def _build_papermill(params: dict, out_dir: Path, names: list[str], selected: list[str], build: bool) -> dict:
    """Execute the ``selected`` notebooks with papermill, :func:`notebook_workers` at a time, then build the HTML."""
    stage(out_dir)
    seconds: dict[str, float] = {}
    workers = min(notebook_workers(), len(selected))
    order = longest_first(selected, params.get("profile"))
    print(f"executing {len(selected)} notebook{'s' * (len(selected) != 1)} (profile {params.get('profile', '?')}), "
          f"{workers} at a time", flush=True)

    def run(name: str) -> tuple[dict, float]:
        t0 = time.perf_counter()
        return _execute(name, params, out_dir), time.perf_counter() - t0

    with _kernel_on_path(out_dir), _shared_cores(workers):
        for i, (name, (injected, seconds[name])) in enumerate(_as_completed(run, order, workers), 1):
            print(f"[{i}/{len(selected)}] notebooks/{name}.py: {seconds[name]:.1f} s, parameters {injected} -> "
                  f"{_shown(out_dir / (name + '.ipynb'))}", flush=True)
    seconds = {name: seconds[name] for name in selected}
    if not build:
        return seconds
    missing = [n for n in names if not (out_dir / f"{n}.ipynb").is_file()]
    if missing:
        raise BookError(f"not executed yet: {', '.join(missing)}; run without --only first")
    t0 = time.perf_counter()
    build_html(out_dir)
    seconds["html"] = time.perf_counter() - t0
    return seconds


def longest_first(selected: list[str], profile: str | None) -> list[str]:
    """``selected`` in the order to start them: longest first by the profile's recorded build
    (``results/book/<profile>.json``), notebooks it does not time first, ties in ``selected``'s order.
    With the quick profile's 11 notebooks on 2 workers, the table of contents' order starts the longest last."""
    try:
        before = recorded().get(str(profile), {}).get("seconds", {})
        key = {name: -float(before.get(name, math.inf)) for name in selected}
    except (OSError, ValueError, TypeError, AttributeError):  # an unreadable record only costs the order
        return list(selected)
    return sorted(selected, key=key.__getitem__)


def _as_completed(task, items: list, workers: int):
    """``(item, task(item))`` as each finishes, ``task`` running on ``workers`` daemon threads; a task's
    exception is raised here. Ctrl-C or an error stops the wait at once: no new item starts after it, and the
    running ones end with the process (a notebook is moved into place only when complete; its kernel exits with its
    parent)."""
    todo, done, stop = queue.SimpleQueue(), queue.SimpleQueue(), threading.Event()
    for item in items:
        todo.put(item)

    def work():
        while not stop.is_set():
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            try:
                done.put((item, task(item), None))
            except BaseException as exc:  # handed to the waiting thread; this worker stops
                done.put((item, None, exc))
                return

    for _ in range(max(1, min(workers, len(items)))):
        threading.Thread(target=work, daemon=True).start()
    try:
        for _ in items:
            item, result, exc = done.get()
            if exc is not None:
                raise exc
            yield item, result
    finally:
        stop.set()


def notebook_workers() -> int:
    """How many notebooks a papermill build executes at once: one per CPU core, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def _reproduce(profile) -> float:
    """Write the profile's results that are missing or stale (both variants of the study, and the
    sparse-DNN experiment); returns the seconds it took. Every study's runs train in one pool first
    (the longest first); then the studies roll out their cached runs and write their folders side by
    side, one process per core (:func:`_write_study`)."""
    prof = profiles.load(profile)
    t0 = time.perf_counter()
    todo = [(name, reason) for name, reason in ((v, reproduce.stale_reason(prof, v)) for v in reproduce.VARIANTS)
            if reason is not None]
    if not sparse_dnn.is_current(prof):
        todo.append((SPARSE_DNN, "missing or stale"))
    jobs = [job for name, _ in todo for job in _study_jobs(prof, name)]
    if jobs:
        print(f"training the runs of {prof.name}'s missing or stale results ({len(jobs)} jobs, cached runs loaded)",
              flush=True)
        train.train_many(jobs, progress=False)
    for name, reason in todo:
        command = sparse_dnn.refresh_command(prof) if name == SPARSE_DNN else reproduce.refresh_command(prof, name)
        what = f"sparse-DNN results of {prof.name}" if name == SPARSE_DNN else f"results of {prof.name}-{name}"
        print(f"{what}: {reason}; running {command}", flush=True)
    workers = train.default_workers()
    try:
        with _shared_cores(workers):
            pool.run_all(_write_study, [(prof, name) for name, _ in todo], workers)
    except pool.Stopped as stop:
        raise KeyboardInterrupt(f"every training run and {stop.finished} of {stop.total} results folders "
                                "finished") from None
    return time.perf_counter() - t0


SPARSE_DNN = "sparse-dnn"  # :func:`_reproduce`'s name for the sparse-DNN experiment beside the study's variants


def _study_jobs(prof: Profile, name: str) -> list:
    """The training jobs of one study :func:`_reproduce` writes: a variant of the study, or :data:`SPARSE_DNN`."""
    if name == SPARSE_DNN:
        return list(sparse_dnn.training_jobs(sparse_dnn.setup(prof)).values())
    return list(reproduce.training_jobs(prof, name).values())


def _write_study(task: tuple) -> str:
    """Write one study's results folder from its cached runs; ``task`` = ``(profile, name)`` (:func:`_study_jobs`).

    A run missing from the cache (removed since the pool trained it) trains here, in this process: a worker of
    :func:`alukit.training.pool.run_all` may start no processes of its own."""
    prof, name = task
    train.train_many(_study_jobs(prof, name), workers=1, progress=False)
    if name == SPARSE_DNN:
        sparse_dnn.run(prof, progress=False)
    else:
        reproduce.run(prof, name, progress=False)
    return name


def _output_dir(profile, output: Path | None, default: bool, force: bool) -> Path:
    """Where the book is built: ``book/`` (the default book), ``build/book-<profile>/`` (staged, ours), or
    ``output``, claimed (:func:`alukit.folders.claim`: never a folder this command did not make, unless ``force``)."""
    if output is None:
        return BOOK_DIR if default else folders.claim(staged_dir(profile), "book", force=True)
    return folders.claim(Path(output), "book", force).resolve()


def run(profile: str = DEFAULT_PROFILE, only: list[str] | None = None, build: bool = True, output: Path | None = None,
        record: bool = False, overrides: dict | None = None, make_results: bool = False,
        force: bool = False) -> Path | None:
    """Validate everything, execute the notebooks, build the book; see the module docstring.

    ``overrides``: parameter values that replace the profile's (always a papermill build).
    ``make_results``: first run :func:`alukit.studies.reproduce.run` for the profile's missing or
    stale results (refused for the paper profile). ``force``: build into an ``output`` folder this command
    did not make. Returns the path of ``index.html`` (None with ``build=False``).
    """
    params = _values(profile, overrides)  # ValueError naming the allowed profiles
    names = notebooks()
    selected = _selected(only)
    default = is_default(profile, overrides) and not only and build  # else papermill into a staged copy
    if make_results and profiles.load(profile).name == DEFAULT_PROFILE:
        raise ValueError(f"--reproduce is not for the {DEFAULT_PROFILE} profile: its results are committed and the book "
                         f"never trains; refresh them with: make reproduce")
    out_dir = _output_dir(profile, output, default, force)
    if record and (out_dir == BOOK_DIR or folders.owned(out_dir / "_build", "book")):
        shutil.rmtree(out_dir / "_build", ignore_errors=True)
    cold = not (out_dir / "_build").exists()
    cached_runs = _cached_training_runs()
    t0 = time.perf_counter()
    reproduce_seconds = _reproduce(profile) if make_results else None
    if default:
        seconds = _build_default(out_dir, names)
    else:
        seconds = _build_papermill(params, out_dir, names, selected, build)
    if reproduce_seconds is not None:
        seconds = {"reproduce": reproduce_seconds, **seconds}
    if not build:
        return None
    total = time.perf_counter() - t0
    index = out_dir / "_build" / "html" / "index.html"
    print(f"built {_shown(index)} in {total:.1f} s", flush=True)
    if selected == names:
        timing = _record(profile, seconds, total, cold, cached_runs)
        _write_timings(out_dir, timing)
        if record:
            write_json(TIMES_DIR / f"{timing['profile']}.json", timing)
            print(f"recorded in {_shown(TIMES_DIR / (timing['profile'] + '.json'))}", flush=True)
    return index


def _cached_training_runs() -> int:
    return len(list((paths.cache_dir() / "train").glob("*.npz")))


def _record(profile, seconds: dict, total: float, cold: bool, cached_runs: int) -> dict:
    """A build's times: seconds per notebook and for the HTML, the total, whether the build folder was empty at
    the start, how many training runs were cached, commit, date, machine and its speed (``sgemm_gflops``)."""
    prof = profiles.load(profile)
    return {"profile": prof.name, "total_seconds": round(total, 1),
            "seconds": {k: round(v, 1) for k, v in seconds.items()}, "empty_build_folder": cold,
            "training_runs_cached_at_start": cached_runs, "git_commit": provenance.git_commit(),
            "date": provenance.now(),
            "machine": {**provenance.machine(), "sgemm_gflops": round(bench.sgemm_gflops(), 1)},
            "table2": _table2_shown(prof)}


def _table2_shown(profile: Profile) -> dict | None:
    """The faithful Table 2 the build showed (``{config: {horizon: %}}``), so that a recorded build of a
    profile whose results are not committed (quick) can still be quoted beside the paper profile's; None
    if the profile's faithful results are missing."""
    t2 = reproduce.read_table2(reproduce.study(profile, "faithful").path)
    if t2 is None:
        return None
    return {c: {str(h): round(float(v), 2) for h, v in row.items()} for c, row in t2.iterrows()}


def recorded() -> dict[str, dict]:
    """The build times recorded with ``--record``, by profile (empty if none)."""
    return read_jsons(TIMES_DIR)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides = parameter_overrides(list(args.only or []), [tuple(kv) for kv in args.parameter])
    run(args.profile, args.only, not args.no_build, args.output, args.record, overrides=overrides or None,
        make_results=args.reproduce, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
