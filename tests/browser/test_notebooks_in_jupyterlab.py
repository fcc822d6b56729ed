"""Every notebook, run in JupyterLab in headless Chromium, as a student would run it.

For each notebook: open it in a fresh page, Run All, wait for the kernel, then check that no
cell raised, every cell ran, every plot cell shows an image and every widget renders in the
page (notebook_checks.py). Then use each course widget's controls and check that the page
responds (widget_drivers.py). Screenshots and a report go to build/browser/<mode>/.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .lab import run_notebook
from .notebook_checks import check_notebook, problems, widget_calls, widget_cells
from .report import notebook_summary, save_summary
from .widget_drivers import DRIVERS

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# The later notebooks train and take longest: handing them out first to the two test
# processes keeps one from being left alone with a long notebook at the end.
SCHEDULE = NOTEBOOKS[::-1]


def test_the_course_has_notebooks():
    assert len(NOTEBOOKS) >= 11, NOTEBOOKS


@pytest.mark.parametrize("name", SCHEDULE, ids=[n.removesuffix(".ipynb") for n in SCHEDULE])
def test_notebook_in_jupyterlab(name, lab, lab_page, shots_root, pytestconfig):
    shots = shots_root / name.removesuffix(".ipynb")
    run = run_notebook(lab_page, lab, f"notebooks/{name}", shots)
    found = problems(run)
    interactions: dict[int, dict] = {}
    try:
        check_notebook(run)
        start = time.monotonic()
        for cell in widget_cells(run):
            seen: dict[str, int] = {}
            for call in widget_calls(cell.source):
                nth = seen[call.factory] = seen.get(call.factory, -1) + 1
                interactions[cell.index] = DRIVERS[call.factory](
                    lab_page, cell.index, call, shots, nth=nth)
        run.timings["widgets"] = time.monotonic() - start
    except AssertionError as error:
        if not found:
            found = [str(error)]
        raise
    finally:
        save_summary(shots, notebook_summary(
            run, shots, problems=found, interactions=interactions,
            mode=pytestconfig.getoption("--lecture-mode")))
