"""Fixtures for the browser tests: Debian's Chromium through pytest-playwright, one JupyterLab.

Run them alone with ``make test-browser`` (or ``pytest -m browser tests/browser``). Without a
Chromium they are skipped, loudly, with how to install one; in CI (``CI=true``) a missing
Chromium is a failure instead. Screenshots and a report go to ``build/browser/<mode>/``.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from .lab import (
    CHROMIUM_ARGS,
    INSTALL_HINT,
    VIEWPORT,
    LabServer,
    find_chromium,
    in_ci,
    prepare_root,
    session_id,
)
from .report import write_index

ROOT = Path(__file__).resolve().parents[2]
SKIP_REASON = "browser tests skipped: no Chromium found."


def browser_dir(config) -> Path:
    """Where this mode's screenshots and report go: build/browser/<mode>/."""
    return ROOT / "build" / "browser" / config.getoption("--lecture-mode")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium binary; skips (or, with CI=true, fails) every browser test without one."""
    path = find_chromium()
    if path is None:
        if in_ci():
            pytest.fail(f"CI=true and no Chromium: the browser tests cannot run. {INSTALL_HINT}",
                        pytrace=False)
        pytest.skip(f"{SKIP_REASON} {INSTALL_HINT}")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_path):
    # pytest-playwright's own launch options (--headed, --slowmo) plus the system Chromium:
    # Playwright never downloads a browser of its own here.
    return {**browser_type_launch_args, "executable_path": chromium_path,
            "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url():
    # Replaces pytest-playwright 0.10's own fallback fixture, which pytest 9.2 flags as
    # deprecated (a session fixture defined as an instance method): the tests build URLs
    # from the server's port and token, and need no base URL.
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture(scope="session")
def shots_root(pytestconfig) -> Path:
    path = browser_dir(pytestconfig)
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def lab(chromium_path, shots_root, worker_id):
    """One JupyterLab server per test process, serving a fresh copy of the course.

    Each notebook then opens in a fresh page and a workspace of its own. The server's
    kernels get the suite's environment (offline, build/ caches, guards), with their own
    output folder per test process.
    """
    work = shots_root / "servers" / worker_id
    root = prepare_root(work / "root")
    env = {**os.environ, "LECTURE_OUTPUT_DIR": str(work / "outputs")}
    start = time.monotonic()
    server = LabServer(root, work / "jupyter", env).start()
    server.start_seconds = time.monotonic() - start
    yield server
    server.stop()


@pytest.fixture(scope="session")
def lab_context(browser, browser_context_args):
    """One browser context per test process. Each notebook still gets a page of its own and a
    workspace of its own, but the pages share the context's HTTP cache: JupyterLab's
    JavaScript is fetched from the server once per process, not once per notebook."""
    context = browser.new_context(**browser_context_args)
    yield context
    context.close()


@pytest.fixture
def lab_page(lab_context, lab, request):
    """A fresh page; the notebook's kernel is stopped and the page closed afterwards."""
    request.node.user_properties.append(("lecture_browser", True))  # see pytest_sessionfinish
    page = lab_context.new_page()
    page.set_default_timeout(30_000)
    yield page
    try:
        sid = session_id(page)
    except Exception:  # the page may be gone after a failure
        sid = None
    page.close()
    if sid:  # in the background: the next test need not wait for this kernel to stop
        threading.Thread(target=lab.shutdown_session, args=(sid,), daemon=True).start()


def pytest_runtest_logreport(report):
    if report.when == "call" and ("lecture_browser", True) in report.user_properties:
        _ran.append(report.nodeid)


_ran: list[str] = []  # browser tests that ran in this session (seen by the xdist controller)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = [r for r in terminalreporter.stats.get("skipped", [])
               if SKIP_REASON in str(getattr(r, "longrepr", ""))]
    if skipped:
        line = "!" * 100
        terminalreporter.write_line("")
        terminalreporter.write_line(line, red=True, bold=True)
        terminalreporter.write_line(
            f"!!  {len(skipped)} BROWSER TESTS SKIPPED: no Chromium was found, so nothing checked "
            "the notebooks in JupyterLab.", red=True, bold=True)
        terminalreporter.write_line(f"!!  {INSTALL_HINT}", red=True, bold=True)
        terminalreporter.write_line(line, red=True, bold=True)


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return  # a pytest-xdist worker: the controller writes the report once
    folder = browser_dir(session.config)
    if _ran and any(folder.glob("*/summary.json")):
        index = write_index(folder, {p.name for p in (ROOT / "notebooks").glob("*.ipynb")})
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"browser screenshots and report: {index}")
