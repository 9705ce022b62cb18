"""The book pipeline: command-line validation, and the quick book opened in a browser.

The browser test builds the quick-profile book into a temporary folder (so it never
overwrites the book in ``book/``), serves the HTML from 127.0.0.1 and opens the index
and the process chapter in headless Chromium (Debian's ``chromium`` at
``/usr/bin/chromium``, driven by Playwright's Python package). It checks that the
pages load, that every image has loaded (natural width > 0) and that the browser
reports no console error, page error or failed local request. The machine has no
network: requests to other hosts (the MathJax CDN) are answered with an empty script.
"""
from __future__ import annotations

import functools
import http.server
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from alukit import book

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# External hosts a built page may reference; anything else is a test failure.
ALLOWED_EXTERNAL = {"cdn.jsdelivr.net"}


def _alukit(*args, timeout=60):
    return subprocess.run(
        [sys.executable, "-m", "alukit", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


def test_bad_profile_fails_before_any_work():
    t0 = time.perf_counter()
    proc = _alukit("book", "--profile", "bogus")
    elapsed = time.perf_counter() - t0
    assert proc.returncode != 0
    assert "bogus" in proc.stderr and "quick" in proc.stderr and "paper" in proc.stderr, proc.stderr
    assert "executing" not in proc.stdout, "no notebook may run before the profile is validated"
    assert elapsed < 30


def test_unknown_notebook_fails_with_the_allowed_names():
    proc = _alukit("book", "--profile", "quick", "--only", "no_such_chapter", "--no-build")
    assert proc.returncode != 0
    assert "no_such_chapter" in proc.stderr and "01_process" in proc.stderr, proc.stderr


def test_failing_notebook_fails_the_command_with_its_name_and_error(tmp_path):
    profile = tmp_path / "broken.yaml"
    profile.write_text("profile: broken\nseed: 0\nn_train: 1\nn_val: 1\nn_test: 1\nn_steps: 1\ndt: 10.0\n"
                       "models: 1\nprocess_trajectories: 2\n")  # a valid profile; the chapter refuses n_steps < 2
    out = tmp_path / "book"
    proc = _alukit("book", "--profile", str(profile), "--only", "01_process", "--output", str(out), "--no-build",
                   timeout=300)
    assert proc.returncode != 0
    assert "notebook 01_process" in proc.stderr and "ValueError: n_steps" in proc.stderr, proc.stderr
    assert not (out / "01_process.ipynb").exists(), "a failed notebook must not be published into the book"


def test_toc_entries_exist_and_process_chapter_is_a_notebook():
    assert book.toc_files()[0] == "index"
    assert "01_process" in book.notebooks()


def test_toc_is_found_from_the_repository_root():
    # `jupyter-book build book` reads book/_config.yml and book/_toc.yml: links to the root files.
    for name in ("_config.yml", "_toc.yml"):
        assert (REPO / "book" / name).resolve() == (REPO / name).resolve()


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
    proc = _alukit("book", "--profile", "quick", "--output", str(out), timeout=3000)
    assert proc.returncode == 0, f"quick book build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    html = out / "_build" / "html"
    assert (html / "index.html").is_file() and (html / "01_process.html").is_file()
    return html


@pytest.mark.book
@pytest.mark.slow
def test_quick_book_renders_in_chromium(request):
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium; .ci/run does it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed")
    quick_book = request.getfixturevalue("quick_book")  # build only once we know a browser can check it

    server = _serve(quick_book)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    problems: list[str] = []
    external: set[str] = set()

    def route(r):
        host = urlparse(r.request.url).hostname
        if host in {"127.0.0.1", "localhost"}:
            r.continue_()
        else:
            external.add(host or r.request.url)
            r.fulfill(status=200, content_type="application/javascript", body="")

    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
            try:
                page = browser.new_page()
                page.route("**/*", route)
                page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
                page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
                page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} {r.failure}"))
                page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
                for name, min_images in (("index.html", 0), ("01_process.html", 5)):
                    response = page.goto(f"{base}/{name}", wait_until="load")
                    assert response is not None and response.ok, f"{name} did not load"
                    assert "alukit" in page.title()
                    text = page.inner_text("main")
                    assert "{glue" not in text, f"{name}: unresolved glue reference"
                    for img in page.query_selector_all("img"):
                        img.scroll_into_view_if_needed()
                    page.wait_for_function("Array.from(document.images).every(i => i.complete)", timeout=15000)
                    images = page.eval_on_selector_all("img", "els => els.map(e => [e.getAttribute('src'), e.naturalWidth])")
                    assert len(images) >= min_images, f"{name}: {len(images)} images, expected >= {min_images}"
                    broken = [src for src, width in images if not width > 0]
                    assert not broken, f"{name}: images that did not load: {broken}"
                    if name == "01_process.html":
                        for caption in ("Figure 1.", "Figure 2.", "Figure 3.", "Table 1."):
                            assert caption in text, f"{name}: caption {caption!r} missing"
            finally:
                browser.close()
    finally:
        server.shutdown()
    assert not problems, "\n".join(problems)
    assert external <= ALLOWED_EXTERNAL, f"pages load from unexpected hosts: {sorted(external - ALLOWED_EXTERNAL)}"
