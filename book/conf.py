"""Sphinx configuration of the course website (`make course`; built by book/build.py).

Sphinx + myst-nb + sphinx-book-theme, the engine of Jupyter Book 1, configured directly
(jupyter-book 1.x itself pins an old myst-nb that cannot install beside our markdown-it-py).
The source folder is the repository root, so the README is the home page and its links to
notebooks/NN_x.ipynb lead to the notebook pages. Nothing is fetched at build or view time:
no intersphinx, no CDN; the widget and math JavaScript is vendored by book/vendor_js.py.
"""

from __future__ import annotations

import os
import posixpath
import sys
from pathlib import Path

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
BUILD = Path(os.environ.get("COURSE_SITE_BUILD", ROOT / "build"))
sys.path.insert(0, str(BOOK))

import vendor_js  # noqa: E402

# The repository on GitHub, from the course's one repository-URL constant
# (lecture_utils/course.py; COURSE_REPOSITORY_URL overrides it, an empty value switches the
# buttons off): every notebook page gets an "Open in Colab" launch button for
# notebooks/NN_x.ipynb on the course's branch.
sys.path.insert(0, str(ROOT))
from lecture_utils import course  # noqa: E402

REPOSITORY_URL = os.environ.get("COURSE_REPOSITORY_URL", course.REPOSITORY_URL)
REPOSITORY_BRANCH = course.BRANCH

# The line shown at the top of every page.
TINY_MODE_LINE = (
    "Outputs from <strong>tiny mode</strong>: small local stand-in models and data, not the "
    "real checkpoints, so the numbers differ. To run it for real: "
    "<code>LECTURE_MODE=full make lab</code>"
)

project = "Hugging Face Transformers, hands-on"
author = "the course's authors"
copyright = "the course's authors"  # noqa: A001 (Sphinx's name)

extensions = ["myst_nb", "course_site"]

root_doc = "README"
include_patterns = ["README.md", "ERRATA.md", "lecture_utils/data/hub/README.md",
                    "notebooks/[0-9][0-9]_*.ipynb"]
exclude_patterns = [".venv", "build", ".git", "**/.ipynb_checkpoints", "notebooks/outputs"]

# Nothing from other hosts: no intersphinx (not loaded), math from the vendored MathJax.
# Sphinx puts "_static/" before a local script path; "../" steps out again to the site's
# root, where html_extra_path puts _vendor/.
mathjax_path = f"../{vendor_js.MATHJAX}"
html_extra_path = [str(BUILD / "site-vendor")]

html_theme = "sphinx_book_theme"
html_title = project
html_context = {"default_mode": "light"}
html_static_path = ["_static"]  # CSS only (course.css); the JavaScript is in _vendor/
html_css_files = ["course.css"]  # plots and widgets are drawn for a light page
html_theme_options = {
    "announcement": TINY_MODE_LINE,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "path_to_docs": "",
    "repository_branch": REPOSITORY_BRANCH,
}
if REPOSITORY_URL:
    html_theme_options["repository_url"] = REPOSITORY_URL
    html_theme_options["launch_buttons"] = {"colab_url": "https://colab.research.google.com"}

# --- notebooks: executed in tiny mode by book/build.py's environment, cached -------------
nb_execution_mode = "cache"
nb_execution_cache_path = str(BUILD / "site-cache")
nb_execution_timeout = 300
nb_execution_raise_on_error = True  # a notebook that fails fails the build
nb_execution_show_tb = True
nb_merge_streams = True
# Solution cells (tag "solution") are collapsed: see course_site.read_notebook.
nb_custom_formats = {".ipynb": "course_site.read_notebook"}
# ipywidgets render in their saved state with the vendored html-manager, not a CDN.
# data-jupyter-widgets-cdn is where the manager would fetch widget modules it lacks (the
# course uses none): a local path, so even that never leaves the site.
# The widget bundle's modules (@jupyter-widgets/base, controls, ...) find their fonts beside
# the URL RequireJS gives each module, so RequireJS is told they all live in the vendored
# folder (a URL made from require.js's own, as pages sit at different depths).
WIDGET_MODULE_PATHS = """
(function () {
  var loader = document.querySelector('script[src*="LOADER"]');
  var dist = new URL("DIST", loader.src).href.replace(/\\/$/, "");
  require.config({paths: {"@jupyter-widgets": dist, "@jupyter-widgets/html-manager/dist": dist}});
})();
""".replace("LOADER", vendor_js.REQUIREJS).replace("DIST", posixpath.relpath(
    posixpath.dirname(vendor_js.HTML_MANAGER), posixpath.dirname(vendor_js.REQUIREJS)))
nb_ipywidgets_js = {
    f"../{vendor_js.REQUIREJS}": {},
    "": {"body": WIDGET_MODULE_PATHS},
    f"../{vendor_js.HTML_MANAGER}": {
        "data-jupyter-widgets-cdn": f"{vendor_js.VENDOR_DIR}/no-widget-cdn/",
    },
}

myst_heading_anchors = 3
suppress_warnings = ["myst.header"]
