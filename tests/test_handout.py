import re

import jupytext
import nbformat
import papermill
import pytest

from alukit.book import build as book, handout
from alukit import profiles


def _source(cell):
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def _solution_code(name):
    """Code lines found only inside the solutions of notebooks/NAME.py ({solution-start} ... {solution-end})."""
    inside_lines, outside_lines, inside = set(), set(), False
    for cell in jupytext.read(book.NOTEBOOK_DIR / f"{name}.py").cells:
        src = _source(cell)
        if cell.cell_type == "markdown" and "{solution-start}" in src:
            inside = True
        elif cell.cell_type == "markdown" and "{solution-end}" in src:
            inside = False
        elif cell.cell_type == "code":
            lines = {ln.strip() for ln in src.splitlines() if len(ln.strip()) > 12 and not ln.strip().startswith("#")}
            (inside_lines if inside else outside_lines).update(lines)
    return inside_lines - outside_lines


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("handout")
    return out, handout.write(out)


def test_every_chapter_has_exercises_with_solutions():
    """At least two exercises per chapter (a chapter's sections count with it), every solution collapsed."""
    for chapter, pages in book.chapters().items():
        pages = [p for p in pages if p in book.notebooks()]
        texts = {name: (book.NOTEBOOK_DIR / f"{name}.py").read_text() for name in pages}
        if not texts:
            continue
        assert sum(len(re.findall(r"```+\{exercise\}", t)) for t in texts.values()) >= 2, chapter
        assert sum(t.count("{solution-start}") for t in texts.values()) >= 2, chapter
        for name, text in texts.items():
            assert text.count("{solution-start}") == text.count("{solution-end}"), name
            assert text.count("{solution-start}") == text.count(":class: dropdown"), f"{name}: every solution collapsed"
            assert "{solution-start}" not in text or _solution_code(name), f"{name}: solutions are executed code"


def test_chapter_five_is_split_into_sections():
    assert book.chapters()["05_results"] == ["05_results", "05_tables", "05_conclusions"]
    assert book.notebooks()[4:7] == ["05_results", "05_tables", "05_conclusions"]


def test_handout_has_no_solution_text_or_code(written):
    out, paths = written
    assert [p.name for p in paths] == [f"{n}.ipynb" for n in book.notebooks()]
    for name in book.notebooks():
        nb = nbformat.read(out / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        text = "\n".join(_source(c) for c in nb.cells)
        for marker in handout.SOLUTION_MARKERS:
            assert marker not in text, f"{name}: {marker} survived"
        survivors = _solution_code(name) & {ln.strip() for ln in text.splitlines()}
        assert not survivors, f"{name}: solution code survived: {sorted(survivors)[:3]}"
        # exercise text, exercise cells and the parameters cell are kept; no outputs
        source = jupytext.read(book.NOTEBOOK_DIR / f"{name}.py")
        labels = re.findall(r":label: (ex-[\w-]+)", "\n".join(_source(c) for c in source.cells))
        assert all(f":label: {label}" in text for label in labels), name  # sections may have none
        assert [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])], f"{name}: parameters cell"
        assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")


def test_unbalanced_solution_markers_are_refused():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```{solution-start} ex-a\n```"),
                                         nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(ValueError, match="without a"):
        handout.strip_solutions(nb)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("```{solution-end}\n```")])
    with pytest.raises(ValueError, match="without a"):
        handout.strip_solutions(nb)
    with pytest.raises(ValueError, match="chapters must be"):
        handout.write("unused", ["no_such_chapter"])


def test_cells_tagged_solution_and_whole_solutions_are_removed():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("````{exercise} E\n:label: ex-e\ntext\n````"),
        nbformat.v4.new_markdown_cell("````{solution} ex-e\n:class: dropdown\nanswer 42\n````"),
        nbformat.v4.new_code_cell("secret = 42", metadata={"tags": ["solution"]}),
        nbformat.v4.new_code_cell("kept = 1", outputs=[nbformat.v4.new_output("stream", text="1")], execution_count=3),
    ])
    cells = handout.strip_solutions(nb).cells
    assert [_source(c) for c in cells] == ["````{exercise} E\n:label: ex-e\ntext\n````", "kept = 1"]
    assert cells[1].outputs == [] and cells[1].execution_count is None


@pytest.mark.slow
def test_handout_notebook_runs_under_papermill_with_the_quick_profile(written, tmp_path, tmp_cache):
    out, _ = written
    name = "01_process"  # the cheapest chapter: no training
    declared = papermill.inspect_notebook(str(out / f"{name}.ipynb"))
    params = {k: v for k, v in profiles.load("quick").to_dict().items() if k in declared}
    assert params, "the quick profile sets some of the chapter's parameters"
    result = tmp_path / "executed.ipynb"
    papermill.execute_notebook(str(out / f"{name}.ipynb"), str(result), parameters=params, kernel_name="python3",
                               cwd=str(tmp_path), progress_bar=False)
    nb = nbformat.read(result, as_version=4)
    assert any(c.outputs for c in nb.cells if c.cell_type == "code")
    assert (tmp_cache / "exercises" / "ch1-mass-ratio.json").is_file()  # the exercise cells ran
