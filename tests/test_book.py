"""The book pipeline: command-line validation, chapter links and defaults, and the quick book in a browser.

The browser test makes the quick profile's results (``--reproduce``: missing or stale
results only), builds the quick-profile book into a temporary folder with papermill (so it
never touches ``book/``), serves the HTML from 127.0.0.1 and opens every chapter of
``_toc.yml`` in headless Chromium (Debian's ``chromium`` at ``/usr/bin/chromium``,
driven by Playwright's Python package). Per page it checks that every image has
loaded, that the browser reports no console error, page error or failed local
request, that no element is wider than the window (outside a box that scrolls), that
the equations are typeset by the bundled MathJax, that each figure's smallest text renders
at 9 px or more at its displayed size (the PNG's readability record, alukit.book.figures.png)
with at most 8 colours per legend and no legend on the data, and that captions are numbered
N.1, N.2, … across each chapter's pages. Requests to other hosts are
answered with an empty script: the pages must work without a network. The executed
notebooks of that build are checked for warning or stderr output and machine paths.
"""
from __future__ import annotations

import functools
import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest

from alukit import profiles
from alukit.book import build as book
from alukit.book import sphinx
from alukit.studies import reproduce
from alukit.studies.conclusions import CONCLUSIONS

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
VIEWPORTS = {"wide": {"width": 1400, "height": 900}, "phone": {"width": 390, "height": 844}}
# Tables, display equations, images and code wider than the text column: at 1400 px every table must fit
# (``strict``); otherwise only inside a box that scrolls (overflow-x auto or scroll, never hidden).
# Then text that a box clips (overflow hidden, content wider than the box).
WIDE_ELEMENTS_JS = """(strict) => {
  const article = document.querySelector('article.bd-article') || document.querySelector('main');
  const cs = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  const scroller = el => {
    for (let p = el.parentElement; p && p !== article; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return p;
    }
    return null;
  };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '')
    + ' "' + (el.innerText || '').trim().slice(0, 30) + '"';
  const out = [];
  for (const el of article.querySelectorAll('table, mjx-container[display="true"] > mjx-math, img, pre')) {
    const w = el.getBoundingClientRect().width;
    if (w <= column + 1) continue;
    if (strict && el.tagName === 'TABLE')
      out.push(`${name(el)} ${Math.round(w)} px in a ${Math.round(column)} px column`);
    else if (!scroller(el))
      out.push(`${name(el)} ${Math.round(w)} px in a ${Math.round(column)} px column, outside a scroll box`);
  }
  for (const el of article.querySelectorAll('*')) {
    if (el.closest('mjx-assistive-mml')) continue;  // MathJax's text for screen readers, hidden on purpose
    const st = getComputedStyle(el);
    if ((st.overflowX === 'hidden' || st.overflowX === 'clip') && st.display !== 'inline'
        && el.scrollWidth > el.clientWidth + 1 && (el.innerText || '').trim())
      out.push(`clipped text in ${name(el)}`);
  }
  return [Math.round(column), out.slice(0, 8)];
}"""
# Page text a reader should never see: raw floats, a negative zero, unrendered TeX.
RAW_TEXT = {
    "a float with 6 or more decimals": re.compile(r"(?<![\w./])\d+\.\d{6,}(?![\w/])"),
    "a negative zero": re.compile(r"(?<![\d.])[-−]0\.0+(?![\d])"),
    "raw TeX": re.compile(r"\$[^$\n]{1,80}\$"),
}
# Internal identifiers that must not reach a table: snake_case names (not file names: after "/" or before
# "…"), conclusion keys, configuration keys; text in code spans is exempt.
INTERNAL_ID = re.compile(r"(?<![/\w])[a-z0-9]+_[a-z0-9_]+\b(?!…)|\b(?:" + "|".join(
    re.escape(c.key) for c in CONCLUSIONS) + r")\b|\b(?:dense|l1|str|mp|dsr)\+(?:l1|swa)\b")


def _alukit(*args, timeout=60, env=None):
    return subprocess.run(
        [sys.executable, "-m", "alukit", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def test_bad_profile_fails_before_any_work():
    t0 = time.perf_counter()
    proc = _alukit("book", "--profile", "bogus")
    elapsed = time.perf_counter() - t0
    assert proc.returncode != 0
    assert "bogus" in proc.stderr and "quick" in proc.stderr and "paper" in proc.stderr, proc.stderr
    assert "executing" not in proc.stdout, "no notebook may run before the profile is validated"
    assert elapsed < 30


def test_the_paper_book_never_trains():
    proc = _alukit("book", "--reproduce")
    assert proc.returncode != 0 and "--reproduce is not for the paper profile" in proc.stderr, proc.stderr


def test_unknown_notebook_fails_with_the_allowed_names():
    proc = _alukit("book", "--profile", "quick", "--only", "no_such_chapter", "--no-build")
    assert proc.returncode != 0
    assert "no_such_chapter" in proc.stderr and "01_process" in proc.stderr, proc.stderr


def test_failing_notebook_fails_the_command_with_its_name_and_error(tmp_path):
    out = tmp_path / "book"
    proc = _alukit("book", "--profile", "quick", "--only", "01_process", "-p", "mode", "sideways", "--output",
                   str(out), "--no-build", timeout=300)  # a declared parameter with a value the chapter refuses
    assert proc.returncode != 0
    assert "notebook 01_process" in proc.stderr and "ValueError: mode" in proc.stderr, proc.stderr
    assert not (out / "01_process.ipynb").exists(), "a failed notebook must not be published into the book"


def test_chapter_without_results_fails_at_once_with_the_command(tmp_path):
    profile = tmp_path / "ghost.yaml"  # a profile nobody has reproduced: results/ghost-*/ do not exist
    profile.write_text((REPO / "params" / "quick.yaml").read_text().replace("profile: quick", "profile: ghost"))
    proc = _alukit("book", "--profile", str(profile), "--only", "05_results", "--output", str(tmp_path / "book"),
                   "--no-build", timeout=300)
    assert proc.returncode != 0
    assert "StudyError: no results in results/ghost-faithful/" in proc.stderr, proc.stderr
    assert f"run: python -m alukit reproduce --profile {profile} --variant faithful" in proc.stderr, proc.stderr


def test_toc_chapters_are_linked_for_jupyter_book():
    """``jupyter-book build book`` finds every chapter: book/NAME.py links to notebooks/NAME.py."""
    assert book.toc_files()[0] == "index"
    names = book.notebooks()
    assert "01_process" in names
    for name in names:
        link = REPO / "book" / f"{name}.py"
        assert link.is_symlink() and os.readlink(link) == f"../notebooks/{name}.py", f"{link}: run python -m alukit book"
        assert not (REPO / "book" / f"{name}.ipynb").exists(), "an executed copy would duplicate the chapter"


def test_notebook_defaults_are_the_paper_profile():
    """So the default book (jupyter-book executing the sources) is the paper profile's book."""
    paper = profiles.load("paper").to_dict()
    for name in book.notebooks():
        defaults = book.default_parameters(name)
        assert defaults.get("profile", "paper") == "paper", name
        differ = {k: (v, paper[k]) for k, v in defaults.items() if k in paper and paper[k] != v}
        assert not differ, f"{name}: defaults differ from params/paper.yaml: {differ}"
    assert book.is_default("paper") and not book.is_default("quick")
    assert not book.is_default("paper", {"seed": 1})


def test_toc_and_config_are_found_from_the_repository_root():
    # `jupyter-book build book` reads book/_config.yml and book/_toc.yml: links to the root files.
    for name in ("_config.yml", "_toc.yml"):
        assert (REPO / "book" / name).resolve() == (REPO / name).resolve()


def test_staged_book_has_execution_off_and_no_sources(tmp_path):
    import yaml

    book.stage(tmp_path)
    config = yaml.safe_load((tmp_path / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert "sphinx-mathjax-offline" in config["sphinx"]["extra_extensions"]
    assert (tmp_path / "index.md").is_file() and (tmp_path / "_static" / "alukit.css").is_file()
    assert not list(tmp_path.glob("*.py")) and not list(tmp_path.glob("*.ipynb"))


def test_reader_view_hides_parameter_cells(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("profile = 'paper'", metadata={"tags": ["parameters", "hide-cell"]}),
        nbformat.v4.new_code_cell("profile = 'quick'", metadata={"tags": ["injected-parameters"]}),
        nbformat.v4.new_code_cell("x = 1")])
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    book._reader_view(path)
    tags = [c.metadata.get("tags", []) for c in nbformat.read(path, as_version=4).cells]
    assert "remove-cell" in tags[0] and "hide-cell" in tags[1] and tags[2] == []


def _serve(directory: Path):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def quick_book(tmp_path_factory):
    out = tmp_path_factory.mktemp("book") / "book"
    proc = _alukit("book", "--profile", "quick", "--reproduce", "--output", str(out), timeout=3000)
    assert proc.returncode == 0, f"quick book build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    html = out / "_build" / "html"
    assert (html / "index.html").is_file() and (html / "01_process.html").is_file()
    return out


def _current_default_build() -> Path | None:
    """``book/`` when ``make book`` built it from the current inputs (its fingerprint stamp is today's, and every
    page is newer than its chapter and the book's configuration), else None."""
    build = book.BOOK_DIR / "_build"
    stamp = build / sphinx._FINGERPRINT
    if not stamp.is_file() or stamp.read_text() != sphinx.inputs_fingerprint():
        return None
    newest_config = max(p.stat().st_mtime for p in (book.TOC, book.CONFIG))
    for name in book.toc_files():
        page = build / "html" / f"{name}.html"
        source = next((book.BOOK_DIR / f"{name}{s}" for s in (".py", ".md") if (book.BOOK_DIR / f"{name}{s}").exists()),
                      None)
        if source is None or not page.is_file() or page.stat().st_mtime < max(source.stat().st_mtime, newest_config):
            return None
    return book.BOOK_DIR


def test_a_default_build_is_reused_only_while_current(tmp_path, monkeypatch):
    build = tmp_path / "_build"
    (build / "html").mkdir(parents=True)
    monkeypatch.setattr(book, "BOOK_DIR", tmp_path)
    monkeypatch.setattr(book, "toc_files", lambda: ["01_process"])
    monkeypatch.setattr(sphinx, "inputs_fingerprint", lambda: "now")
    for name in ("TOC", "CONFIG"):
        path = tmp_path / f"{name}.yml"
        path.write_text("")
        os.utime(path, (0, 0))
        monkeypatch.setattr(book, name, path)
    (tmp_path / "01_process.py").write_text("# chapter\n")
    os.utime(tmp_path / "01_process.py", (1, 1))
    assert _current_default_build() is None  # never built
    (build / sphinx._FINGERPRINT).write_text("now")
    (build / "html" / "01_process.html").write_text("<html></html>")
    assert _current_default_build() == tmp_path
    (build / sphinx._FINGERPRINT).write_text("before")
    assert _current_default_build() is None  # results, package or profiles changed since
    (build / sphinx._FINGERPRINT).write_text("now")
    os.utime(build / "html" / "01_process.html", (2, 2))
    assert _current_default_build() == tmp_path
    os.utime(tmp_path / "01_process.py", (3, 3))
    assert _current_default_build() is None  # the chapter was edited after the build
    os.utime(tmp_path / "01_process.py", (1, 1))
    os.utime(book.TOC, (3, 3))
    assert _current_default_build() is None  # so was the table of contents


@pytest.fixture(scope="session")
def paper_book(tmp_path_factory):
    """The default book's pages (paper profile, committed results): ``make book``'s own build where it is current
    (CI builds it just before the tests), else executed by papermill into a temporary folder."""
    current = _current_default_build()
    if current is not None:
        return current
    out = tmp_path_factory.mktemp("paper-book") / "book"
    proc = _alukit("book", "--output", str(out), timeout=3000)
    assert proc.returncode == 0, f"paper book build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert (out / "_build" / "html" / "05_results.html").is_file()
    return out


def _outputs(cell):
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            yield output.get("name"), output.get("text", "")
        for mime, value in (output.get("data") or {}).items():
            if mime.startswith("text/"):
                yield mime, value if isinstance(value, str) else "".join(value)


@pytest.mark.book
@pytest.mark.slow
def test_executed_chapters_have_no_warnings_or_machine_paths(quick_book):
    timings = json.loads((quick_book / "_build" / "timings.json").read_text())
    assert set(book.notebooks()) | {"html", "reproduce"} == set(timings["seconds"]), "every stage's time is recorded"
    problems = []
    for name in book.notebooks():
        nb = nbformat.read(quick_book / f"{name}.ipynb", as_version=4)
        for k, cell in enumerate(nb.cells):
            for kind, text in _outputs(cell):
                if kind == "stderr" or "Warning" in text:
                    problems.append(f"{name} cell {k}: {kind}: {text[:200]!r}")
                for path in (str(REPO), "/tmp/", "/home/"):
                    if path in text:
                        problems.append(f"{name} cell {k}: machine path {path!r} in the output")
    assert not problems, "\n".join(problems)


def _figure_problems(page, html: Path, name: str) -> list[str]:
    """Each figure's readability record (alukit.book.figures.png) at its displayed size: no text under 9 px,
    at most 8 colours in one legend, no legend on the data."""
    from alukit.book import figures

    wrong = []
    shown = page.eval_on_selector_all("main img", "els => els.map(e => [e.src, e.naturalWidth, "
                                      "e.getBoundingClientRect().width])")
    for src, natural, width in shown:
        path = html / urlparse(src).path.lstrip("/")
        if path.suffix != ".png" or not path.is_file():
            continue
        for problem in figures.readability_problems(figures.read_report(path.read_bytes()), width, natural):
            wrong.append(f"{name}: figure {path.name}: {problem}")
    return wrong


def _numbering_problems(numbering: dict[str, list[str]]) -> list[str]:
    """Captions read "Figure N.1", "Figure N.2", … in order across a chapter's pages (its sections go on
    with its numbers), and the same for tables."""
    wrong = []
    for chapter, pages in book.chapters().items():
        numbers = [n for p in pages for n in numbering.get(f"{p}.html", [])]
        for kind in ("Figure", "Table"):
            seen = [n.split()[1].rstrip(".") for n in numbers if n.startswith(kind + " ")]
            want = [f"{seen[0].split('.')[0]}.{k}" for k in range(1, len(seen) + 1)] if seen else []
            if seen != want:
                wrong.append(f"chapter {chapter} ({', '.join(pages)}): {kind} numbers {seen} are not {want}")
    return wrong


def _check_page(page, base: str, name: str, strict: bool = True, html: Path | None = None,
                numbering: dict | None = None) -> list[str]:
    """Open one page; return what is wrong with it (``strict``: tables must fit the column, figures' text
    readable at its displayed size, read from ``html``); its caption numbers go into ``numbering``."""
    wrong = []
    response = page.goto(f"{base}/{name}", wait_until="load")
    if response is None or not response.ok:
        return [f"{name} did not load"]
    text = page.inner_text("main")
    if "{glue" in text:
        wrong.append(f"{name}: unresolved glue reference")
    for img in page.query_selector_all("main img"):
        img.scroll_into_view_if_needed()
    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=15000)
    broken = page.eval_on_selector_all("img", "els => els.filter(e => !(e.naturalWidth > 0)).map(e => e.src)")
    wrong += [f"{name}: image did not load: {src}" for src in broken]
    if page.query_selector("main .math, main span.math, main div.math"):
        page.wait_for_function("document.querySelectorAll('main .math').length === 0 || "
                               "document.querySelectorAll('main mjx-container').length > 0", timeout=20000)
        raw = page.evaluate("Array.from(document.querySelectorAll('main .math')).filter("
                            "e => !e.querySelector('mjx-container')).length")
        if raw:
            wrong.append(f"{name}: {raw} equations not typeset")
    if strict and html is not None:
        wrong += _figure_problems(page, html, name)
    page.evaluate("window.scrollTo(0, 0)")
    column, wide = page.evaluate(WIDE_ELEMENTS_JS, strict)
    wrong += [f"{name} ({page.viewport_size['width']} px): {w}" for w in wide]
    text = page.evaluate("Array.from(document.querySelectorAll('main p, main li, main td, main th, main caption, "
                         "main figcaption, main .caption')).map(e => e.innerText).join('\\n')")
    for what, pattern in RAW_TEXT.items():
        found = pattern.search(text)
        if found:
            wrong.append(f"{name}: {what}: ...{text[max(0, found.start() - 40):found.end() + 20]!r}")
    if numbering is not None:
        numbering[name] = page.evaluate("Array.from(document.querySelectorAll('main .caption-number'))"
                                        ".map(e => e.innerText)")
    tables = page.evaluate("Array.from(document.querySelectorAll('main table')).map(t => { const c = t.cloneNode(true); "
                           "c.querySelectorAll('code').forEach(e => e.remove()); return c.textContent; }).join('\\n')")
    found = INTERNAL_ID.search(tables)
    if found:
        wrong.append(f"{name}: internal identifier {found.group(0)!r} in a table")
    return wrong


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.parametrize("which", ["quick_book", "paper_book"])
def test_no_page_warns_of_stale_results_or_shows_a_numpy_repr(request, which):
    """Every results folder a book reads is current for the code (chapter 7 once showed "Stale results": the
    committed sparse-DNN folder predated an evaluation change), and no glued number reads "np.int64(6)"."""
    html = request.getfixturevalue(which) / "_build" / "html"
    pages = {p.name: p.read_text(encoding="utf-8") for p in sorted(html.glob("*.html"))}
    assert not [name for name, text in pages.items() if "Stale results" in text]
    assert not [name for name, text in pages.items() if re.search(r"np\.(int|float|bool_?)\d*\(", text)]


@pytest.mark.book
@pytest.mark.slow
@pytest.mark.parametrize("which", ["quick_book", "paper_book"])
def test_every_chapter_renders_offline_in_chromium(request, which):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium; .ci/run does it)")
    from playwright import sync_api

    html = request.getfixturevalue(which) / "_build" / "html"
    server = _serve(html)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    problems: list[str] = []
    external: set[str] = set()

    def route(r):
        host = urlparse(r.request.url).hostname
        if host in {"127.0.0.1", "localhost"}:
            r.continue_()
        else:  # no network: the page must not need it
            external.add(host or r.request.url)
            r.abort("blockedbyclient")

    def console(m):
        if m.type == "error" and "ERR_BLOCKED_BY_CLIENT" not in m.text:
            problems.append(f"console error: {m.text}")

    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page(viewport=VIEWPORTS["wide"])
                page.route("**/*", route)
                page.on("console", console)
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on("requestfailed", lambda r: urlparse(r.url).hostname in {"127.0.0.1", "localhost"}
                        and problems.append(f"request failed: {r.url} {r.failure}"))
                page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
                pages = [f"{name}.html" for name in book.toc_files()]
                numbering: dict[str, list[str]] = {}
                for name in pages:
                    problems += _check_page(page, base, name, html=html, numbering=numbering)
                problems += _numbering_problems(numbering)
                page.set_viewport_size(VIEWPORTS["phone"])
                for name in pages:
                    problems += _check_page(page, base, name, strict=False)
                page.set_viewport_size(VIEWPORTS["wide"])
                text = page.goto(f"{base}/01_process.html") and page.inner_text("main")
                for caption in ("Figure 1.1", "Figure 1.2", "Figure 1.3", "Table 1.1"):
                    assert caption in text, f"01_process.html: caption {caption!r} missing"
                assert page.query_selector("mjx-container"), "01_process.html: no typeset equation"
                if which == "paper_book":  # chapters read from NAME.py: the download menu offers .ipynb beside .py
                    links = page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href') || '')")
                    for suffix in (".py", ".ipynb"):
                        assert any(h.endswith(f"_sources/01_process{suffix}") for h in links), f"no {suffix} download"
                    assert (html / "_sources" / "01_process.ipynb").is_file()
            finally:
                browser.close()
    finally:
        server.shutdown()
    assert not problems, "\n".join(problems)
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file(), "MathJax is not bundled with the book"


def test_failed_chapters_are_named_with_their_exception(tmp_path):
    (tmp_path / "05_results.err.log").write_text(
        "Traceback\n\x1b[31mFileNotFoundError\x1b[39m: no results in results/paper-faithful/; run: make reproduce\n")
    old = tmp_path / "01_process.err.log"
    old.write_text("ValueError: from an earlier build\n")
    os.utime(old, (0, 0))
    assert book._failed_chapters(tmp_path, since=1.0) == [
        "chapter 05_results failed: FileNotFoundError: no results in results/paper-faithful/; run: make reproduce"]


def test_inputs_change_empties_the_execution_cache(tmp_path, monkeypatch):
    from types import SimpleNamespace

    out, doctrees, jcache = tmp_path / "_build" / "html", tmp_path / "_build" / ".doctrees", tmp_path / "_build" / ".jupyter_cache"
    for d in (out, doctrees, jcache):
        d.mkdir(parents=True)
    app = SimpleNamespace(outdir=str(out), doctreedir=str(doctrees))
    config = SimpleNamespace(nb_execution_mode="cache", nb_execution_cache_path="")
    monkeypatch.setattr(sphinx, "inputs_fingerprint", lambda: "one")
    sphinx._refresh_when_inputs_change(app, config)  # first build: nothing to keep
    assert not jcache.exists() and (tmp_path / "_build" / ".alukit-inputs").read_text() == "one"
    jcache.mkdir()
    sphinx._refresh_when_inputs_change(app, config)  # same inputs: cache kept
    assert jcache.exists()
    monkeypatch.setattr(sphinx, "inputs_fingerprint", lambda: "two")
    sphinx._refresh_when_inputs_change(app, config)  # results or code changed: outputs forgotten
    assert not jcache.exists() and not doctrees.exists()


def test_fingerprint_follows_the_paper_results_package_and_profiles(tmp_path, monkeypatch):
    for path in ("results/paper-faithful/table2.csv", "results/quick-faithful/table2.csv", "alukit/training/x.py",
                 "alukit/params/paper.yaml"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("1")
    monkeypatch.setattr(sphinx, "REPO_ROOT", tmp_path)
    first = sphinx.inputs_fingerprint()
    (tmp_path / "results/quick-faithful/table2.csv").write_text("2")  # not read by the default book
    assert sphinx.inputs_fingerprint() == first
    for path in ("results/paper-faithful/table2.csv", "alukit/training/x.py", "alukit/params/paper.yaml"):
        (tmp_path / path).write_text("changed")
        assert sphinx.inputs_fingerprint() != first, path
        first = sphinx.inputs_fingerprint()


def test_a_chapter_page_offers_its_notebook_as_ipynb(tmp_path):
    """The download menu's ".ipynb" beside the ".py": the chapter as a notebook in the page's _sources."""
    from types import SimpleNamespace

    out = tmp_path / "html"
    app = SimpleNamespace(outdir=str(out), env=SimpleNamespace(doc2path=lambda name: REPO / "book" / f"{name}.py"))
    context = {"page_source_suffix": ".py"}
    sphinx.offer_notebook(app, "01_process", "page.html", context, doctree=object())
    assert context["ipynb_source"] == "01_process.ipynb"
    nb = nbformat.read(out / "_sources" / "01_process.ipynb", as_version=4)
    nbformat.validate(nb)
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert "cell_equations" in "".join(c.source for c in nb.cells)
    context = {"page_source_suffix": ".md"}  # a page without code offers no notebook
    sphinx.offer_notebook(app, "index", "page.html", context, doctree=object())
    assert "ipynb_source" not in context


def test_no_line_of_prose_is_a_myst_comment():
    """A markdown line that begins with "%" is a MyST comment: the reader never sees it (a wrapped "… 12.5\\n% of …")."""
    import jupytext

    for name in book.notebooks():
        for cell in jupytext.read(book.NOTEBOOK_DIR / f"{name}.py").cells:
            if cell.cell_type == "markdown":
                lines = [ln for ln in cell.source.splitlines() if ln.startswith("%")]
                assert not lines, f"{name}: {lines[0]!r} is dropped as a comment"


def test_every_chapter_opens_with_read_first():
    """The first paragraph after a page's title says what it shows and what to read before it."""
    for name in book.toc_files()[1:]:
        path = book.NOTEBOOK_DIR / f"{name}.py"
        text = path.read_text() if path.is_file() else (REPO / "book" / f"{name}.md").read_text()
        lines = [(ln[1:] if path.is_file() else ln).strip() for ln in text.splitlines()]  # a script's "# " prefix
        title = next(k for k, ln in enumerate(lines) if ln.startswith("# "))
        first = next(ln for ln in lines[title + 1:] if ln)
        assert first.startswith("**Read first:**"), f"{name}: {first[:80]!r}"
