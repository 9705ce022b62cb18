"""The book's Sphinx extension (``_config.yml`` lists ``alukit.book.sphinx`` in ``extra_extensions``).

Jupyter Book executes the default book's chapters in ``cache`` mode, and jupyter-cache keys a notebook
by its code only: when the committed results, the package or the profiles change
(:func:`inputs_fingerprint`), this extension empties the execution cache and the Sphinx environment
before the build, so that no page shows outputs of older inputs. It also pins the ``python3`` kernel to
this interpreter (:func:`kernel_path`), drops duplicate ``<script>`` entries, offers each chapter read
from ``NAME.py`` as a ``.ipynb`` download too (:func:`offer_notebook`), and writes each chapter's
execution time to ``<build>/execution.json``.

Numbering: a glued figure named ``tbl-*`` is a table (:class:`TableFigure`, numbered "Table N.M" apart from
the figures), and a figure inside an exercise's solution takes no number (its caption becomes a
paragraph), so that the numbers a reader sees run without gaps.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

from docutils import nodes

from alukit.cache import write_json, write_text
from alukit.paths import REPO_ROOT

__all__ = ["inputs_fingerprint", "kernel_path", "KERNEL_NAME", "TableFigure", "offer_notebook"]

KERNEL_NAME = "python3"
_FINGERPRINT = ".alukit-inputs"


def kernel_path(scratch: Path) -> Path:
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


def inputs_fingerprint() -> str:
    """Hash of what the default book's pages depend on besides the chapters' code.

    The ``results/paper-*/`` and ``results/sweep-*/`` folders, the sweep specs, the package's modules and the
    profiles.
    """
    h = hashlib.sha256()
    files = [*sorted((REPO_ROOT / "results").glob("paper-*/**/*")), *sorted((REPO_ROOT / "results").glob("sweep-*/**/*")),
             *sorted((REPO_ROOT / "sweeps").glob("*.yaml")),
             *sorted((REPO_ROOT / "alukit").rglob("*.py")), *sorted((REPO_ROOT / "alukit" / "params").glob("*.yaml"))]
    for f in files:
        if f.is_file():
            h.update(str(f.relative_to(REPO_ROOT)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:20]


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


def _refresh_when_inputs_change(app, config) -> None:
    """``config-inited``: if results, package or profiles changed since the last build, forget executed outputs."""
    if config.nb_execution_mode != "cache":
        return
    build = Path(app.outdir).parent
    stamp = build / _FINGERPRINT
    fingerprint = inputs_fingerprint()
    if stamp.is_file() and stamp.read_text() == fingerprint:
        return
    cache_path = Path(config.nb_execution_cache_path or build / ".jupyter_cache")
    shutil.rmtree(cache_path, ignore_errors=True)
    shutil.rmtree(app.doctreedir, ignore_errors=True)  # the environment: every page is read again
    write_text(stamp, fingerprint)


def _pin_kernel(app, config) -> None:
    """``config-inited``: Jupyter Book's ``python3`` kernel is this interpreter, logging errors only.

    (ipykernel otherwise logs a warning about unencrypted local sockets for every
    chapter into the build output.)
    """
    if config.nb_execution_mode == "off":
        return
    path = kernel_path(Path(app.outdir).parent)
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(path), old]))


def _execution_times(app, exc) -> None:
    """``build-finished``: write ``<build>/execution.json``, each notebook's execution seconds and method."""
    if exc is not None:
        return
    from myst_nb.sphinx_ import NbMetadataCollector  # the book extra

    out = {}
    for docname in sorted(app.env.found_docs):
        data = NbMetadataCollector.get_exec_data(app.env, docname)
        if data:
            out[docname] = {"seconds": round(float(data.get("runtime") or 0.0), 1), "method": data.get("method"),
                            "succeeded": data.get("succeeded")}
    write_json(Path(app.outdir).parent / "execution.json", out)


def offer_notebook(app, pagename, templatename, context, doctree) -> None:
    """``html-page-context``, before the theme's header buttons: a chapter read from ``NAME.py`` is also
    written as ``_sources/NAME.ipynb`` (Jupytext, no outputs), which the download menu then offers as
    ".ipynb" beside the ".py"."""
    if context.get("page_source_suffix") != ".py" or doctree is None:
        return
    import jupytext  # the book extra
    import nbformat

    source = Path(app.env.doc2path(pagename))
    notebook = jupytext.read(source, fmt="py:percent")
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(target))
    context["ipynb_source"] = f"{pagename}.ipynb"


class TableFigure(nodes.figure):
    """A glued table with its caption: rendered as a figure, numbered as a table."""


def _visit_table_figure(self, node):
    self.visit_figure(node)


def _depart_table_figure(self, node):
    self.depart_figure(node)


def _inside_solution(node) -> bool:
    parent = node.parent
    while parent is not None:
        if "solution" in parent.__class__.__name__:
            return True
        parent = parent.parent
    return False


def _number_tables_apart(app, doctree) -> None:
    """``doctree-read``: figures named ``tbl-*`` become :class:`TableFigure`; figures in solutions lose their number.

    Nodes change class in place, so that the document's ``ids`` (which cross-references resolve) keep them.
    """
    for fig in list(doctree.findall(nodes.figure)):
        if _inside_solution(fig):
            for cap in list(fig.findall(nodes.caption)):
                cap.__class__ = nodes.paragraph
                cap["classes"].append("caption")
            fig.__class__ = nodes.container
            fig["classes"] += ["figure", "alukit-unnumbered"]
        elif type(fig) is nodes.figure and any(name.startswith("tbl-") for name in fig.get("names", [])):
            fig.__class__ = TableFigure


def setup(app):
    """Sphinx extension hook (``_config.yml`` lists ``alukit.book.sphinx`` in ``extra_extensions``)."""
    app.connect("html-page-context", _unique_scripts)
    app.connect("html-page-context", offer_notebook, priority=490)  # sphinx-book-theme adds its buttons at 501
    app.connect("config-inited", _refresh_when_inputs_change)
    app.connect("config-inited", _pin_kernel)
    app.connect("build-finished", _execution_times)
    app.add_enumerable_node(TableFigure, "table", html=(_visit_table_figure, _depart_table_figure),
                            latex=(_visit_table_figure, _depart_table_figure))
    app.connect("doctree-read", _number_tables_apart)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
