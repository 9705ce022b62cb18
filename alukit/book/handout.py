"""Student handout: ``python -m alukit handout DIR [--only NAME ...]``.

Writes every chapter of ``_toc.yml`` that is a notebook (``notebooks/NAME.py``) as
``DIR/NAME.ipynb`` for students:

- solutions removed: a solution is a markdown cell opening ``{solution-start}`` up to
  and including the cell with ``{solution-end}`` (sphinx-exercise's gated directives,
  the code cells between them included), a markdown cell holding a one-piece
  ``{solution}`` directive, or a cell tagged ``solution``; the exercise text stays;
- outputs and execution counts cleared;
- the cell tagged ``parameters`` kept, so that a handout runs with papermill
  (``papermill DIR/NAME.ipynb out.ipynb -p profile quick``) or in Jupyter as it is.

The chapters import :mod:`alukit` and find ``params/``, ``results/`` and the cache
through it, so a handout runs from any folder where the package is installed.
"""
from __future__ import annotations

import re
from pathlib import Path

from alukit import folders
from alukit.book import build as book
from alukit.cache import write_text
from alukit.commandline import Parser

__all__ = ["write", "main"]

_START = re.compile(r"^\s*(```+|:::+)\s*\{solution-start\}", re.M)
_END = re.compile(r"^\s*(```+|:::+)\s*\{solution-end\}", re.M)
_WHOLE = re.compile(r"^\s*(```+|:::+)\s*\{solution\}", re.M)
SOLUTION_MARKERS = ("{solution-start}", "{solution-end}", "{solution}")
NOTE = ("*Student handout of the alukit book: the solutions are removed. Run the notebook from "
        "an environment where `alukit` is installed; the cell tagged `parameters` takes papermill "
        "parameters (`-p profile quick`).*")


def strip_solutions(nb):
    """``nb`` (an nbformat notebook, modified in place and returned) without its solutions and outputs.

    Raises ``ValueError`` naming the cell if a ``{solution-start}`` has no matching
    ``{solution-end}`` or an end comes without a start.
    """
    kept, inside = [], None
    for i, cell in enumerate(nb.cells):
        src = cell.source if isinstance(cell.source, str) else "".join(cell.source)
        markdown = cell.cell_type == "markdown"
        if markdown and _START.search(src):
            if inside is not None:
                raise ValueError(f"cell {i}: {{solution-start}} inside the solution opened in cell {inside}")
            inside = i
        if inside is None and markdown and _END.search(src):
            raise ValueError(f"cell {i}: {{solution-end}} without a {{solution-start}}")
        drop = inside is not None or "solution" in cell.get("metadata", {}).get("tags", []) or (
            markdown and _WHOLE.search(src))
        if inside is not None and markdown and _END.search(src):
            inside = None
        if not drop:
            kept.append(cell)
    if inside is not None:
        raise ValueError(f"cell {inside}: {{solution-start}} without a {{solution-end}}")
    for cell in kept:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nb.cells = kept
    return nb


def handout(name: str):
    """The handout notebook of chapter ``name`` (``notebooks/NAME.py``), solutions removed."""
    import jupytext  # the book extra
    import nbformat

    src = book.NOTEBOOK_DIR / f"{name}.py"
    if not src.is_file():
        raise ValueError(f"no notebook notebooks/{name}.py")
    nb = strip_solutions(jupytext.read(src))
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(NOTE))
    nb.metadata["kernelspec"] = {"name": book.KERNEL_NAME, "display_name": "Python 3", "language": "python"}
    nb.metadata.setdefault("language_info", {"name": "python"})
    nb.metadata.pop("jupytext", None)
    return nb


def write(out_dir: Path, names: list[str] | None = None, force: bool = False) -> list[Path]:
    """Write the handouts of ``names`` (default: every notebook chapter of ``_toc.yml``) into ``out_dir``.

    ``out_dir`` must be new, empty or an earlier handout folder (:func:`alukit.folders.claim`); a notebook
    edited there since it was written (a student's work) is never overwritten unless ``force``.
    """
    import nbformat  # the book extra

    chapters = book.notebooks()
    names = list(chapters if names is None else names)
    unknown = [n for n in names if n not in chapters]
    if unknown or not names:
        raise ValueError(f"chapters must be notebooks listed in _toc.yml ({', '.join(chapters)}); got {', '.join(unknown) or 'none'}")
    out_dir = folders.claim(Path(out_dir), "handout", force)
    changed = folders.edited(out_dir, "handout", [f"{n}.ipynb" for n in names])
    if changed and not force:
        raise folders.FolderError(f"{out_dir} holds notebooks edited since they were handed out "
                                  f"({', '.join(changed)}); write into a new folder (or pass --force to replace them)")
    written = []
    for name in names:
        nb = handout(name)
        nbformat.validate(nb)
        written.append(write_text(out_dir / f"{name}.ipynb", nbformat.writes(nb)))
    folders.record(out_dir, "handout", written)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m alukit handout", description=__doc__.splitlines()[0])
    parser.add_argument("dir", type=Path, help="folder to write the handout notebooks into")
    parser.add_argument("--only", metavar="NAME", action="append", help="only this chapter (repeatable)")
    parser.add_argument("--force", action="store_true",
                        help="write into a folder alukit did not make, replacing edited notebooks")
    args = parser.parse_args(argv)
    for p in write(args.dir, args.only, args.force):
        print(p)
    return 0
