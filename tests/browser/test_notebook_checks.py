"""The browser checks' logic, without a browser: what counts as a plot or widget cell, and
which runs are reported as broken (on hand-made runs, each with one deliberate fault)."""

from __future__ import annotations

import inspect
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lecture_utils.widgets as widgets_module

from .notebook_checks import (
    IMAGE,
    WIDGET,
    WIDGET_FACTORIES,
    WIDGET_HELPERS,
    Cell,
    DomOutput,
    NotebookCheckError,
    NotebookRun,
    Output,
    calls,
    check_notebook,
    nearby_markdown,
    plot_calls,
    problems,
    widget_calls,
)
from .widget_drivers import DRIVERS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("source, expected", [
    ("fig = lu.plots.plot_loss_curves(a, b)", ["lu.plots.plot_loss_curves"]),
    ("fig, ax = plt.subplots()\nax.hist(x)\nplt.show()\nplt.close(fig)",
     ["plt.subplots", "plt.show"]),
    ("plt.close('all')", []),
    ("# plt.show() is only mentioned here\nx = 'plt.plot(1)'", []),
    ("label = lu.plots.token_label(tokenizer, 5)", []),  # not a plotting function
    ("%matplotlib inline\nplt.plot([1, 2])", ["plt.plot"]),
    ("plt.style.use('ggplot')", []),
])
def test_plot_calls_are_read_from_the_source(source, expected):
    assert plot_calls(source) == expected


def test_widget_calls_keep_their_arguments():
    (call,) = widget_calls("lu.widgets.tokenizer_playground(tok, text='hi')")
    assert call.factory == "tokenizer_playground"
    assert call.args == ("tok",) and call.kwargs == (("text", "'hi'"),)
    assert widget_calls("rows = lu.widgets.token_rows(tok, 'hi')") == []
    assert [c.factory for c in widget_calls(
        "w = attention_explorer(a, t)\ng = lu.widgets.generation_playground(m, t)")] == [
        "attention_explorer", "generation_playground"]


def test_every_widget_function_is_a_driven_factory_or_a_listed_helper():
    public = {name for name, f in inspect.getmembers(widgets_module, inspect.isfunction)
              if not name.startswith("_") and f.__module__ == widgets_module.__name__}
    assert public == set(WIDGET_FACTORIES) | set(WIDGET_HELPERS), (
        "lecture_utils.widgets changed: list a new widget factory in WIDGET_FACTORIES and "
        "give it a driver in widget_drivers.DRIVERS, or list a helper in WIDGET_HELPERS")
    assert set(DRIVERS) == set(WIDGET_FACTORIES)


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")),
                         ids=lambda p: p.stem)
def test_every_code_cell_of_the_course_can_be_analysed(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            calls("".join(cell["source"]))  # raises SyntaxError for a cell it cannot read


# --------------------------------------------------------------------------- hand-made runs


def _ok_run() -> NotebookRun:
    return NotebookRun(path="notebooks/x.ipynb", cells=[
        Cell(0, "markdown", "# Title"),
        Cell(1, "code", "import lecture_utils as lu", 1),
        Cell(2, "code", "fig = lu.plots.plot_loss_curves(s, l)", 2,
             [Output("display_data", [IMAGE, "text/plain"])], [DomOutput(images=1)]),
        Cell(3, "markdown", "What to notice: the loss goes down."),
        Cell(4, "code", "lu.widgets.tokenizer_playground(tok)", 3,
             [Output("execute_result", [WIDGET, "text/plain"])],
             [DomOutput(widget_rendered=True)]),
        Cell(5, "code", "", None),  # an empty cell never runs, and that is fine
    ])


def test_a_clean_run_has_no_problems():
    run = _ok_run()
    assert problems(run) == []
    check_notebook(run)
    assert nearby_markdown(run, run.cells[2]) == ("", "What to notice: the loss goes down.")


def _broken(change) -> list[str]:
    run = _ok_run()
    change(run.cells)
    found = problems(run)
    with pytest.raises(NotebookCheckError):
        check_notebook(run)
    return found


def test_an_error_output_is_reported_with_its_traceback():
    def change(cells):
        cells[1].outputs = [Output("error", ename="ValueError", evalue="bad",
                                   traceback=["\x1b[31mTraceback\x1b[0m", "ValueError: bad"])]
    (found,) = _broken(change)
    assert found.startswith("cell 2 ('import lecture_utils as lu') raised ValueError: bad")
    assert "\x1b" not in found and "Traceback" in found


def test_cells_that_did_not_run_are_reported():
    def change(cells):
        cells[2].execution_count = None
        cells[4].execution_count = None
    assert _broken(change) == ["2 code cell(s) did not run (Run All stopped early): cells 3, 5"]


def test_a_plot_cell_without_an_image_is_reported():
    def change(cells):
        cells[2].outputs, cells[2].dom = [], None
    (found,) = _broken(change)
    assert "cell 3 " in found and "calls lu.plots.plot_loss_curves but shows no image" in found


def test_a_widget_cell_without_a_widget_is_reported():
    def change(cells):
        cells[4].outputs, cells[4].dom = [Output("stream", text="oops")], None
    (found,) = _broken(change)
    assert "cell 5 " in found and "calls tokenizer_playground but shows no widget" in found


def test_a_widget_that_did_not_render_in_the_page_is_reported():
    def change(cells):
        cells[4].dom = [DomOutput(widget_error="Error displaying widget: model not found")]
    (found,) = _broken(change)
    assert "did not render in the page" in found and "model not found" in found


def test_an_image_the_page_does_not_show_is_reported():
    def change(cells):
        cells[2].dom = [DomOutput(images=0)]
    (found,) = _broken(change)
    assert "the page shows no loaded image" in found


def test_outputs_never_looked_at_or_miscounted_in_the_page_are_reported():
    def unseen(cells):
        cells[2].dom = None
    assert "were not looked at in the page" in _broken(unseen)[0]

    def miscounted(cells):
        cells[2].dom = []
    assert "the page shows 0" in _broken(miscounted)[0]


def test_run_all_failing_in_jupyterlab_is_reported():
    run = _ok_run()
    run.run_all = {"ok": False, "error": "Error: no kernel"}
    assert problems(run) == ["Run All failed in JupyterLab: Error: no kernel"]


# --------------------------------------------------------------------------- without a browser


def _browser_tests_without_chromium(ci: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LECTURE_CHROMIUM": "none", "CI": ci}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-m",
         "browser", "tests/browser/test_notebooks_in_jupyterlab.py", "-k", "not course"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.slow
def test_without_chromium_the_browser_tests_are_skipped_loudly():
    result = _browser_tests_without_chromium(ci="")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "BROWSER TESTS SKIPPED: no Chromium was found" in result.stdout
    assert "apt-get install chromium" in result.stdout
    assert re.search(r"\b\d+ skipped\b", result.stdout) and " passed" not in result.stdout


@pytest.mark.slow
def test_without_chromium_in_ci_the_browser_tests_fail():
    result = _browser_tests_without_chromium(ci="true")
    assert result.returncode == 1, result.stdout[-3000:]
    assert "CI=true and no Chromium: the browser tests cannot run" in result.stdout
    assert "SKIPPED" not in result.stdout
