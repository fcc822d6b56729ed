"""Build the course website into build/site: every notebook executed in tiny mode.

    python book/build.py          # `make course` runs it offline, after book/vendor_js.py

The notebooks run with the test suite's environment (conftest.suite_environment: tiny mode,
caches under build/, the Hugging Face libraries offline, the network and deprecation guards
in every kernel); what they write goes to build/outputs-site. myst-nb caches each executed
notebook (build/site-cache), and Sphinx keeps its own state (build/site-doctrees), so a
second build re-executes only notebooks whose code, or whose helper package, changed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
OUT = BUILD / "site"
sys.path[:0] = [str(ROOT), str(ROOT / "book")]

import vendor_js  # noqa: E402

from conftest import UNSET, suite_environment  # noqa: E402


def site_environment() -> dict[str, str]:
    """The suite's tiny-mode environment; outputs go to build/outputs-site, plots inline."""
    env = suite_environment("tiny")
    env["LECTURE_OUTPUT_DIR"] = str(BUILD / "outputs-site")
    # The suite draws plots off-screen (Agg); the pages need them as images.
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env["COURSE_SITE_BUILD"] = str(BUILD)
    return env


def main(argv: list[str]) -> int:
    vendored = BUILD / "site-vendor" / vendor_js.VENDOR_DIR
    missing = [p for p in (vendor_js.REQUIREJS, vendor_js.HTML_MANAGER, vendor_js.MATHJAX)
               if not (BUILD / "site-vendor" / p).is_file()]
    if missing:
        print(f"build: {vendored} lacks {missing}. Run `python book/vendor_js.py "
              "build/site-vendor` once with access to the npm registry (make course does).",
              file=sys.stderr)
        return 1
    os.environ.update(site_environment())
    for var in UNSET:
        os.environ.pop(var, None)
    from jupyter_cache import get_cache
    from sphinx.cmd.build import build_main

    start = time.monotonic()
    # Create the execution cache's database now: Sphinx's parallel readers (-j) would
    # otherwise race to create its tables.
    get_cache(BUILD / "site-cache").list_cache_records()
    args = ["-b", "html", "-c", str(ROOT / "book"), "-d", str(BUILD / "site-doctrees"),
            "--keep-going", "-W", *argv, str(ROOT), str(OUT)]
    rc = build_main(args)
    if rc != 0:
        # As in the test suite, a kernel that hangs on start (a rare race when two start at
        # once) gets one more try. Notebooks that ran are cached and do not run again; one
        # that really fails fails again.
        print("build: failed; trying once more", file=sys.stderr)
        rc = build_main(args)
    print(f"build: {'done' if rc == 0 else 'FAILED'} in {time.monotonic() - start:.0f} s; "
          f"open {OUT / 'index.html'}", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
