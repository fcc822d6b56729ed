"""The course website (`make course`, in build/site): complete, and nothing from other hosts.

    make test-site          # builds the site if needed, then runs these tests

Two layers, each also run on a deliberately broken copy of the site to show it can fail:
- the built HTML and CSS, read as files: no script, style, font or image from another host,
  every local asset a page loads exists, a page per notebook, the tiny-mode line on every
  page, solution cells collapsed, every plot and widget of the executed notebook on its page;
- the site in Chromium (Debian's, driven by Playwright), served over loopback: every page
  loads with no request to another host and no script error, every plot is an image that
  loaded, every widget renders exactly once, the tiny-mode line is visible, solutions are
  hidden, search finds a notebook, and the vendored MathJax renders math.

Without a built site or without Chromium these tests are skipped, with the reason; under
CI (CI=true) they fail instead.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import posixpath
import re
import shutil
import sys
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "build" / "site"
EXEC_CACHE = ROOT / "build" / "site-cache"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
IN_CI = os.environ.get("CI", "").lower() == "true"

sys.path.insert(0, str(ROOT / "book"))
import course_site  # noqa: E402
import vendor_js  # noqa: E402

from lecture_utils import course  # noqa: E402

pytestmark = pytest.mark.site

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "image/gif")
TINY_LINE_WORDS = ("tiny mode", "LECTURE_MODE=full make lab")


def _unavailable(reason: str):
    """Skip (loudly: -ra lists the reason), or fail under CI, where nothing may be missing."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: required here)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def site() -> Path:
    if not (SITE / "index.html").is_file():
        _unavailable(f"no built site in {SITE}: run `make course` first")
    return SITE


# --- reading the built files -------------------------------------------------------------

def _soup(path: Path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _pages(site: Path) -> list[Path]:
    """The site's HTML pages (not the theme's templates in _static or vendored files)."""
    return [p for p in sorted(site.rglob("*.html"))
            if p.relative_to(site).parts[0] not in ("_static", "_sources", "_vendor")]


def _is_external(url: str) -> bool:
    """True for a URL that names another host (http:, https:, protocol-relative, ...)."""
    url = url.strip()
    if not url or url.startswith(("data:", "#", "about:", "blob:", "javascript:")):
        return False
    parts = urlsplit(url)
    return bool(parts.scheme or parts.netloc or url.startswith("//"))


CSS_URL = re.compile(r"""@import\s+(?:url\()?\s*['"]?([^'")\s;]+)|url\(\s*['"]?([^'")]+)""")


def _css_urls(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)  # comments load nothing
    return [a or b for a, b in CSS_URL.findall(css)]


# (tag, attribute) pairs whose URL the browser fetches by itself when the page loads.
LOADED = (("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"),
          ("source", "src"), ("video", "src"), ("video", "poster"), ("audio", "src"),
          ("embed", "src"), ("object", "data"), ("input", "src"))
# <link rel=...> values that are plain navigation, not a download.
NAVIGATION_RELS = {"index", "search", "next", "prev", "canonical", "alternate", "author",
                   "license", "help", "top", "up", "first", "last", "copyright"}


def external_references(site: Path) -> list[str]:
    """Every reference in the built site that makes a browser contact another host.

    HTML: script, stylesheet, preload, icon, image, frame and media URLs, inline ``style``
    and ``<style>`` blocks, and the widget manager's module CDN (data-jupyter-widgets-cdn).
    CSS files: ``url(...)`` and ``@import``. Links to other sites (``<a href>``) are fine:
    following one is the reader's choice. Returns "file: url" strings; empty when clean.
    """
    found = []
    for page in _pages(site):
        rel = page.relative_to(site)
        soup = _soup(page)
        for tag, attr in LOADED:
            for el in soup.find_all(tag):
                url = el.get(attr)
                if tag == "link" and NAVIGATION_RELS.intersection(el.get("rel") or []):
                    continue
                if url and _is_external(url):
                    found.append(f"{rel}: <{tag} {attr}={url}>")
        for el in soup.find_all(attrs={"data-jupyter-widgets-cdn": True}):
            if _is_external(el["data-jupyter-widgets-cdn"]):
                found.append(f"{rel}: data-jupyter-widgets-cdn={el['data-jupyter-widgets-cdn']}")
        for el in soup.find_all(style=True):
            found += [f"{rel}: style url({u})" for u in _css_urls(el["style"]) if _is_external(u)]
        for el in soup.find_all("style"):
            found += [f"{rel}: <style> {u}" for u in _css_urls(el.get_text()) if _is_external(u)]
    for css in sorted(site.rglob("*.css")):
        text = css.read_text(encoding="utf-8", errors="replace")
        found += [f"{css.relative_to(site)}: {u}" for u in _css_urls(text) if _is_external(u)]
    return found


def missing_local_assets(site: Path) -> list[str]:
    """Local scripts, stylesheets and images that pages load but the site lacks."""
    missing = []
    for page in _pages(site):
        rel = page.relative_to(site)
        soup = _soup(page)
        for tag, attr in (("script", "src"), ("link", "href"), ("img", "src")):
            for el in soup.find_all(tag):
                url = el.get(attr)
                if not url or _is_external(url) or url.startswith(("data:", "#")):
                    continue
                if tag == "link" and NAVIGATION_RELS.intersection(el.get("rel") or []):
                    continue
                if not _exists_in_site(site, rel, url):
                    missing.append(f"{rel}: <{tag} {attr}={url}>")
    return missing


def _exists_in_site(site: Path, page: Path, url: str) -> bool:
    """Whether the local ``url``, as written in ``page`` (relative to ``site``), is a file of
    the site (a link that leaves the site does not count)."""
    target = posixpath.normpath(posixpath.join(page.parent.as_posix(),
                                               unquote(urlsplit(url).path)))
    return not target.startswith("..") and (site / target).is_file()


def broken_links(site: Path) -> list[str]:
    """Links in the pages' text (``<a href>`` in the main content) to a local page or file
    the site lacks, such as a notebook's link to ../ERRATA.md when that page is not built."""
    broken = []
    for page in _pages(site):
        rel = page.relative_to(site)
        main = _soup(page).find("main") or _soup(page)
        for a in main.find_all("a", href=True):
            url = a["href"]
            if (_is_external(url) or url.startswith(("#", "mailto:", "data:"))
                    or not urlsplit(url).path):
                continue
            if not _exists_in_site(site, rel, url):
                broken.append(f"{rel}: <a href={url}>")
    return broken


def executed_notebook(path: Path):
    """The executed notebook the site was built from (myst-nb's execution cache).

    Fails when the cache holds no execution of the notebook as it is now: the site is older
    than the notebook, the helper package or book/build.py (run `make course`).
    """
    from jupyter_cache import get_cache

    nb = course_site.read_notebook(path.read_text(encoding="utf-8"))
    try:
        _, executed = get_cache(EXEC_CACHE).merge_match_into_notebook(nb)
    except KeyError:
        pytest.fail(f"the site is older than {path.name} or what it runs: run `make course`")
    return executed


def output_counts(nb) -> dict[str, int]:
    """How many plots (image outputs), widget views and solution cells ``nb`` has."""
    counts = {"images": 0, "widgets": 0, "solutions": 0}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        counts["solutions"] += course_site.SOLUTION_TAG in cell.metadata.get("tags", [])
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            counts["widgets"] += WIDGET_VIEW in data
            counts["images"] += WIDGET_VIEW not in data and any(t in data for t in IMAGE_TYPES)
    return counts


def page_problems(site: Path, notebook: Path) -> list[str]:
    """What is wrong with ``notebook``'s page in the built site, read as HTML."""
    page = site / "notebooks" / f"{notebook.stem}.html"
    if not page.is_file():
        return [f"no page {page.relative_to(site)} for {notebook.name}"]
    want = output_counts(executed_notebook(notebook))
    soup = _soup(page)
    problems = []
    announcement = soup.select_one(".bd-header-announcement")
    text = announcement.get_text(" ", strip=True) if announcement else ""
    if not all(w in text for w in TINY_LINE_WORDS):
        problems.append(f"no tiny-mode line (announcement: {text!r})")
    images = [img for img in soup.select(".cell_output img")]
    if len(images) != want["images"]:
        problems.append(f"{len(images)} plot images on the page, {want['images']} in the notebook")
    if "<Figure size" in soup.get_text():
        problems.append("a plot shown as text ('<Figure size ...>'), not as an image")
    views = soup.find_all("script", type=WIDGET_VIEW)
    states = soup.find_all("script", type=WIDGET_STATE)
    if len(views) != want["widgets"]:
        problems.append(f"{len(views)} widget views on the page, {want['widgets']} in the notebook")
    if views and len(states) != 1:
        problems.append(f"{len(states)} widget-state scripts, not 1")
    solutions = soup.select("div.cell.tag_solution")
    if len(solutions) != want["solutions"]:
        problems.append(f"{len(solutions)} solution cells on the page, {want['solutions']} in "
                        "the notebook")
    for cell in solutions:
        details = cell.find("details", class_="hide")
        if details is None or details.has_attr("open") or not details.find("pre"):
            problems.append("a solution cell that is not collapsed")
    colab = [a["href"] for a in soup.find_all("a", href=True)
             if a["href"].startswith("https://colab.research.google.com/")]
    wanted = course.colab_url(f"notebooks/{notebook.name}")
    if colab != [wanted]:
        problems.append(f"Colab links {colab}, wanted one: {wanted}")
    return problems


# --- tests of the built files --------------------------------------------------------------

def test_nothing_loads_from_another_host(site):
    assert external_references(site) == []


def test_every_loaded_local_file_exists(site):
    assert missing_local_assets(site) == []
    for entry in (vendor_js.REQUIREJS, vendor_js.HTML_MANAGER, vendor_js.MATHJAX):
        assert (site / entry).is_file(), f"vendored {entry} missing from the site"


def test_no_broken_links(site):
    assert broken_links(site) == []
    # Every notebook links the page of what changed since older tutorials.
    for notebook in NOTEBOOKS:
        page = _soup(site / "notebooks" / f"{notebook.stem}.html")
        assert page.find("a", href="../ERRATA.html"), f"{notebook.name}: no link to ERRATA"
    assert "What changed since older tutorials" in _soup(site / "ERRATA.html").title.get_text()


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_page(site, notebook):
    assert page_problems(site, notebook) == []


def test_home_page_is_the_readme_and_links_each_notebook(site):
    index = _soup(site / "index.html")
    assert "Hugging Face Transformers, hands-on" in index.title.get_text()
    links = {a["href"] for a in index.find_all("a", href=True)}
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.stem}.html" in links, notebook.name
        # the README's "Open in Colab" column, from the one repository URL
        assert course.colab_url(f"notebooks/{notebook.name}") in links, notebook.name
    text = index.select_one(".bd-header-announcement").get_text(" ", strip=True)
    assert all(w in text for w in TINY_LINE_WORDS)


def test_the_site_has_plots_widgets_and_solutions(site):
    """The checks above would pass vacuously on a site without any: make sure it has them."""
    totals = {"images": 0, "widgets": 0, "solutions": 0}
    for notebook in NOTEBOOKS:
        for key, n in output_counts(executed_notebook(notebook)).items():
            totals[key] += n
    assert totals["images"] >= 5 and totals["widgets"] >= 3 and totals["solutions"] >= 11


def _broken_copy(site: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "site"
    shutil.copytree(site, copy, ignore=shutil.ignore_patterns("_images", "_sources"))
    return copy


def test_file_checks_fail_on_a_broken_site(site, tmp_path):
    copy = _broken_copy(site, tmp_path)
    page = copy / "notebooks" / f"{NOTEBOOKS[0].stem}.html"
    html = page.read_text(encoding="utf-8")
    page.write_text(html.replace(
        "</head>", '<script src="https://cdn.jsdelivr.net/npm/x@1/x.js"></script>\n'
        '<style>@import url("https://fonts.googleapis.com/css?family=Roboto");</style>\n'
        "</head>", 1), encoding="utf-8")
    (copy / vendor_js.HTML_MANAGER).unlink()
    (copy / "_static" / "broken.css").write_text("a { background: url(//cdn.example/x.png) }")
    external = external_references(copy)
    assert any("cdn.jsdelivr.net" in e for e in external)
    assert any("fonts.googleapis.com" in e for e in external)
    assert any("cdn.example" in e for e in external)
    assert any("embed-amd.js" in m for m in missing_local_assets(copy))
    (copy / "ERRATA.html").unlink()
    assert any("ERRATA.html" in b for b in broken_links(copy))
    # A page whose solutions are open and whose widget is gone.
    widget_nb = next(nb for nb in NOTEBOOKS if output_counts(executed_notebook(nb))["widgets"])
    page = copy / "notebooks" / f"{widget_nb.stem}.html"
    html = page.read_text(encoding="utf-8")
    html = html.replace('<details class="admonition hide', '<details open class="admonition hide')
    html = re.sub(r'<script type="application/vnd\.jupyter\.widget-view\+json">.*?</script>',
                  "", html, flags=re.S)
    page.write_text(html, encoding="utf-8")
    problems = page_problems(copy, widget_nb)
    assert any("widget views" in p for p in problems), problems
    assert any("not collapsed" in p for p in problems), problems


# --- the site in a browser -----------------------------------------------------------------

@contextlib.contextmanager
def serve(directory: Path):
    """Serve ``directory`` over HTTP on a free loopback port; yields the base URL."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.is_file():
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: make install")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Per widget-view script: the html-manager renders its widget into a .widget-subarea that it
# inserts just before the script (one per script, even when a cell has several). For each
# script: how many such areas sit right before it, and how many of those hold a widget that
# takes up space. Rendered once means [1, 1]; loaded twice, the manager makes [2, 2].
WIDGET_AREAS_JS = """() => Array.from(document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')).map(s => {
        let areas = 0, rendered = 0;
        for (let el = s.previousElementSibling;
             el && el.classList.contains('widget-subarea'); el = el.previousElementSibling) {
            areas += 1;
            if (el.querySelector('.jupyter-widgets') && el.getBoundingClientRect().height > 0) {
                rendered += 1;
            }
        }
        return [areas, rendered];
    })"""

# Height of the tiny-mode line's text, in lines.
ONE_LINE_JS = """() => {
    const el = document.querySelector('.bd-header-announcement__content')
        || document.querySelector('.bd-header-announcement');
    const range = document.createRange();
    range.selectNodeContents(el);
    return range.getBoundingClientRect().height
        / parseFloat(getComputedStyle(el).lineHeight || '20');
}"""

IMAGES_JS = """async () => {
    const imgs = Array.from(document.querySelectorAll('.cell_output img'));
    for (const img of imgs) {
        img.loading = 'eager';
        if (!img.complete) {
            await new Promise(r => { img.onload = img.onerror = r; setTimeout(r, 10000); });
        }
    }
    return imgs.map(img => [img.getAttribute('src').slice(0, 80), img.naturalWidth]);
}"""


class BrowserSession:
    """A browser context that records every request and script error of its pages."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.context.set_default_timeout(30_000)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.pending: set = set()
        self.context.on("request", self._started)
        self.context.on("requestfinished", lambda r: self.pending.discard(r))
        self.context.on("requestfailed", lambda r: self.pending.discard(r))
        # Local files that are missing or fail (Chromium's own /favicon.ico probe aside).
        self.context.on("response", lambda r: r.status >= 400 and not r.url.endswith(
            "/favicon.ico") and self.errors.append(f"HTTP {r.status}: {r.url}"))
        self.context.on("requestfailed", lambda r: self.errors.append(
            f"request failed: {r.url} ({r.failure})"))

    def _started(self, request) -> None:
        self.requests.append(request.url)
        self.pending.add(request)

    def settle(self, page, quiet_ms: int = 500, timeout_ms: int = 30_000) -> None:
        """Wait until none of the context's requests has been in flight for ``quiet_ms``.

        (Playwright's "networkidle" wait proved flaky on a loaded machine.)
        """
        quiet = waited = 0
        while quiet < quiet_ms:
            assert waited < timeout_ms, f"requests still open: {[r.url for r in self.pending]}"
            page.wait_for_timeout(100)
            waited += 100
            quiet = quiet + 100 if not self.pending else 0

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests
                if not u.startswith((self.base, "data:", "blob:", "about:"))]

    def open(self, path: str):
        page = self.context.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"{path}: {e}"))
        # "Failed to load resource" repeats, without the URL, what the response handler saw.
        page.on("console", lambda m: m.type == "error" and not m.text.startswith(
            "Failed to load resource") and self.errors.append(f"{path}: console: {m.text}"))
        response = page.goto(self.base + path, wait_until="load")
        assert response is not None and response.ok, f"{path}: {response and response.status}"
        return page


def browser_page_problems(session: BrowserSession, path: str, widgets: int = 0,
                          solutions: int = 0) -> list[str]:
    """Open ``path`` and return what is wrong with it as the reader sees it."""
    page = session.open(path)
    problems = []
    try:
        bar = page.locator(".bd-header-announcement")
        if not bar.is_visible() or not all(w in bar.inner_text() for w in TINY_LINE_WORDS):
            problems.append("the tiny-mode line is not visible")
        elif page.evaluate(ONE_LINE_JS) >= 1.5:
            problems.append("the tiny-mode line takes more than one line at 1280 px")
        if widgets:
            try:
                page.wait_for_function(
                    "n => Array.from(document.querySelectorAll('.widget-subarea'))"
                    ".filter(a => a.querySelector('.jupyter-widgets')).length >= n",
                    arg=widgets, timeout=30_000)
            except Exception:  # noqa: BLE001 (Playwright's TimeoutError; reported below)
                pass
        areas = page.evaluate(WIDGET_AREAS_JS)
        if len(areas) != widgets or any(a != [1, 1] for a in areas):
            problems.append(f"widgets not rendered exactly once each: {areas} "
                            f"(want {widgets} x [1, 1])")
        bad_images = [src for src, width in page.evaluate(IMAGES_JS) if width <= 0]
        if bad_images:
            problems.append(f"plot images that did not load: {bad_images}")
        cells = page.locator("div.cell.tag_solution")
        if cells.count() != solutions:
            problems.append(f"{cells.count()} solution cells, {solutions} expected")
        for i in range(cells.count()):
            if cells.nth(i).locator("pre").first.is_visible():
                problems.append(f"solution cell {i + 1} shows its code")
        session.settle(page)
    finally:
        page.close()
    return problems


def test_site_in_chromium(site, browser):
    with serve(site) as base:
        session = BrowserSession(browser, base)
        problems = {}
        for path in ("index.html", "README.html", "genindex.html"):
            problems[path] = browser_page_problems(session, path)
        widget_pages = 0
        for notebook in NOTEBOOKS:
            counts = output_counts(executed_notebook(notebook))
            widget_pages += counts["widgets"] > 0
            path = f"notebooks/{notebook.stem}.html"
            problems[path] = browser_page_problems(session, path, counts["widgets"],
                                                   counts["solutions"])
        assert widget_pages > 0, "no notebook has a widget: the widget check checked nothing"

        # Search (the index is a local script) finds the tokenization notebook.
        page = session.open("search.html?q=tokenizer")
        page.wait_for_selector("#search-results li a", timeout=30_000)
        hits = page.eval_on_selector_all("#search-results li a", "els => els.map(e => e.href)")
        assert any("notebooks/02_tokenization.html" in h for h in hits), hits
        session.settle(page)  # the search fetches each hit's page for its summary
        page.close()

        # Math: the vendored MathJax (the one pages with math load) renders with no CDN.
        page = session.open("index.html")
        page.evaluate("""src => {
            document.querySelector('main').insertAdjacentHTML('beforeend',
                '<p id="math-check">\\\\(e^{i\\\\pi} + 1 = 0\\\\)</p>');
            const s = document.createElement('script'); s.src = src;
            document.head.appendChild(s);
        }""", vendor_js.MATHJAX)
        page.wait_for_selector("#math-check mjx-container", timeout=30_000)
        session.settle(page)
        page.close()
        session.context.close()

    assert {p: v for p, v in problems.items() if v} == {}
    assert session.foreign_requests() == []
    assert session.errors == []
    assert any(vendor_js.HTML_MANAGER in u for u in session.requests)


def test_browser_checks_fail_on_a_broken_site(site, browser, tmp_path):
    """Widget JavaScript loaded twice, or missing, and a script from a CDN: all caught."""
    copy = _broken_copy(site, tmp_path)
    widget_nb = next(nb for nb in NOTEBOOKS if output_counts(executed_notebook(nb))["widgets"])
    counts = output_counts(executed_notebook(widget_nb))
    path = f"notebooks/{widget_nb.stem}.html"
    page = copy / path
    html = page.read_text(encoding="utf-8")
    tag = re.search(r"<script data-jupyter-widgets-cdn[^>]*></script>", html).group(0)
    page.write_text(html.replace(tag, tag + tag.replace("embed-amd.js?", "embed-amd.js?again&")),
                    encoding="utf-8")
    readme = copy / "README.html"
    readme.write_text(readme.read_text(encoding="utf-8").replace(
        "</head>", '<script src="https://cdn.jsdelivr.net/npm/x@1/x.js"></script></head>', 1),
        encoding="utf-8")
    with serve(copy) as base:
        session = BrowserSession(browser, base)
        twice = browser_page_problems(session, path, counts["widgets"], counts["solutions"])
        browser_page_problems(session, "README.html")
        session.context.close()
        assert any("cdn.jsdelivr.net" in u for u in session.foreign_requests())

        page.write_text(html, encoding="utf-8")
        (copy / vendor_js.HTML_MANAGER).unlink()
        session = BrowserSession(browser, base)  # a fresh context: nothing cached
        missing = browser_page_problems(session, path, counts["widgets"], counts["solutions"])
        session.context.close()
    assert any("widgets not rendered" in p and "[2, 2]" in p for p in twice), twice
    assert any("widgets not rendered" in p and "[0, 0]" in p for p in missing), missing
    assert any("HTTP 404" in e and "embed-amd.js" in e for e in session.errors), session.errors
