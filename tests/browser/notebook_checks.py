"""What a notebook run in JupyterLab must show, checked on data read back from the page.

Pure functions, no browser: ``lab.py`` fills a :class:`NotebookRun` from the notebook model
(each code cell's execution count and outputs) and from the DOM (which images loaded, which
widget views rendered); :func:`check_notebook` turns it into a list of problems.

Which cells must plot and which must show a widget is read from each cell's source, so the
lists follow the notebooks as they change:

- a **plot cell** calls ``plt.<anything>`` (but ``plt.close``, ``plt.rc``... which draw
  nothing) or a ``plot_*`` function of ``lecture_utils.plots``; it must show an image;
- a **widget cell** calls one of ``lecture_utils.widgets``' widget factories
  (:data:`WIDGET_FACTORIES`); it must show a widget, and the widget must render in the page.

Cell numbers in messages count from 1, as JupyterLab's status bar does ("Cell 5/61").
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache

IMAGE = "image/png"
WIDGET = "application/vnd.jupyter.widget-view+json"

# pyplot functions that draw nothing: calling only these does not make a plot cell.
PLT_NON_DRAWING = frozenset({
    "close", "rc", "rc_context", "rcdefaults", "ioff", "ion", "isinteractive",
    "switch_backend", "get_backend", "get_cmap", "style", "xkcd",
})
# lecture_utils.widgets functions that build an interactive widget for the notebook
# (the others are helpers: token_rows returns a list). tests/browser/widget_drivers.py has
# one driver per factory; a test fails if widgets.py gains a public function that is in
# neither list, so the lists cannot go stale silently.
WIDGET_FACTORIES = ("tokenizer_playground", "attention_explorer", "generation_playground")
WIDGET_HELPERS = ("token_rows", "with_static_view")


class NotebookCheckError(AssertionError):
    """A notebook run in JupyterLab did not show what it should (message lists every problem)."""


@dataclass
class Output:
    """One output of a code cell as the notebook model holds it."""

    output_type: str  # stream, display_data, execute_result or error
    mimetypes: list[str] = field(default_factory=list)
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    text: str = ""  # stream text, truncated


@dataclass
class DomOutput:
    """What the page shows for one output of a cell (read after scrolling the cell into view)."""

    images: int = 0  # <img> elements that loaded (naturalWidth > 0)
    widget_rendered: bool = False  # a widget view with a real control (.widget-*), no error
    widget_error: str = ""  # the error the widget manager shows instead, if any
    text: str = ""  # the output's visible text, truncated (for messages)


@dataclass
class Cell:
    index: int  # 0-based position in the notebook
    cell_type: str  # code, markdown or raw
    source: str
    execution_count: int | None = None
    outputs: list[Output] = field(default_factory=list)
    dom: list[DomOutput] | None = None  # one per output, for cells whose outputs were inspected

    @property
    def label(self) -> str:
        first = next((line.strip() for line in self.source.splitlines() if line.strip()), "")
        if len(first) > 60:
            first = first[:57] + "..."
        return f"cell {self.index + 1} ({first!r})"

    def has(self, mimetype: str) -> bool:
        return any(mimetype in o.mimetypes for o in self.outputs)

    @property
    def errors(self) -> list[Output]:
        return [o for o in self.outputs if o.output_type == "error"]


@dataclass
class NotebookRun:
    """A notebook after "Run All" in JupyterLab: its cells as the page shows them."""

    path: str  # as opened in JupyterLab, relative to the server root
    cells: list[Cell]
    run_all: dict = field(default_factory=dict)  # what notebook:run-all-cells resolved to
    timings: dict[str, float] = field(default_factory=dict)  # seconds, per phase

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.cell_type == "code"]


# --------------------------------------------------------------------------- source analysis


def _python_source(source: str) -> str:
    """Cell source as plain Python (IPython's %magics and !shell lines translated)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


@cache
def _plot_functions() -> frozenset[str]:
    import lecture_utils.plots as plots

    return frozenset(name for name in dir(plots)
                     if name.startswith("plot_") and callable(getattr(plots, name)))


def calls(source: str) -> list[tuple[str, ast.Call]]:
    """Every call in a cell as (dotted name of what is called, the call node), in order.

    Raises SyntaxError with the cell's text if the cell is not valid Python.
    """
    tree = ast.parse(_python_source(source))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name:
                found.append((name, node))
    found.sort(key=lambda item: (item[1].lineno, item[1].col_offset))
    return found


def plot_calls(source: str) -> list[str]:
    """The plotting calls in a cell's source (``plt.show``, ``lu.plots.plot_loss_curves``...)."""
    out = []
    for name, _ in calls(source):
        head, _, last = name.rpartition(".")
        if head == "plt" and last not in PLT_NON_DRAWING:
            out.append(name)
        elif last in _plot_functions() and (head == "" or head.endswith("plots")):
            out.append(name)
    return out


@dataclass(frozen=True)
class WidgetCall:
    factory: str  # e.g. "tokenizer_playground"
    args: tuple[str, ...]  # the positional arguments' source, e.g. ("tokenizer",)
    kwargs: tuple[tuple[str, str], ...]


def widget_calls(source: str) -> list[WidgetCall]:
    """The calls to ``lecture_utils.widgets``' widget factories in a cell's source."""
    out = []
    for name, node in calls(source):
        head, _, last = name.rpartition(".")
        if last in WIDGET_FACTORIES and (head == "" or head.endswith("widgets")):
            out.append(WidgetCall(
                factory=last,
                args=tuple(ast.unparse(a) for a in node.args),
                kwargs=tuple((k.arg, ast.unparse(k.value)) for k in node.keywords if k.arg),
            ))
    return out


def _syntax_ok(cell: Cell) -> bool:
    try:
        calls(cell.source)
    except SyntaxError:
        return False
    return True


def plot_cells(run: NotebookRun) -> list[Cell]:
    return [c for c in run.code_cells() if _syntax_ok(c) and plot_calls(c.source)]


def widget_cells(run: NotebookRun) -> list[Cell]:
    return [c for c in run.code_cells() if _syntax_ok(c) and widget_calls(c.source)]


# --------------------------------------------------------------------------- the checks


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def _error_problem(cell: Cell, error: Output) -> str:
    tail = [line for line in _strip_ansi("\n".join(error.traceback)).splitlines() if line.strip()]
    where = "\n      ".join(tail[-4:])
    return f"{cell.label} raised {error.ename}: {error.evalue}" + (
        f"\n      {where}" if where else "")


def _ranges(numbers: list[int]) -> str:
    if len(numbers) <= 6:
        return ", ".join(map(str, numbers))
    return f"{', '.join(map(str, numbers[:5]))} ... {numbers[-1]}"


def problems(run: NotebookRun) -> list[str]:
    """Everything wrong with a notebook run, one line (or a few) per problem; [] if none."""
    found: list[str] = []
    if run.run_all.get("error"):
        found.append(f"Run All failed in JupyterLab: {run.run_all['error']}")
    code = run.code_cells()
    for cell in code:
        if not _syntax_ok(cell):
            found.append(f"{cell.label} is not valid Python")
        for error in cell.errors:
            found.append(_error_problem(cell, error))
    not_run = [c.index + 1 for c in code if c.source.strip() and c.execution_count is None]
    if not_run:
        found.append(f"{len(not_run)} code cell(s) did not run (Run All stopped early): "
                     f"cells {_ranges(not_run)}")
    ran_clean = {c.index for c in code if c.execution_count is not None and not c.errors}
    for cell in plot_cells(run):
        if cell.index in ran_clean and not cell.has(IMAGE):
            found.append(f"{cell.label} calls {', '.join(plot_calls(cell.source))} but shows no "
                         "image (was the figure closed before it was shown?)")
    for cell in widget_cells(run):
        if cell.index in ran_clean and not cell.has(WIDGET):
            names = ", ".join(w.factory for w in widget_calls(cell.source))
            found.append(f"{cell.label} calls {names} but shows no widget (is the widget the "
                         "cell's last expression?)")
    for cell in code:
        found.extend(_dom_problems(cell))
    return found


def _dom_problems(cell: Cell) -> list[str]:
    wanted = [i for i, o in enumerate(cell.outputs) if IMAGE in o.mimetypes or WIDGET in o.mimetypes]
    if not wanted:
        return []
    if cell.dom is None:
        return [f"{cell.label}: its outputs were not looked at in the page"]
    if len(cell.dom) != len(cell.outputs):
        return [f"{cell.label}: the notebook holds {len(cell.outputs)} outputs but the page "
                f"shows {len(cell.dom)}"]
    found = []
    for i in wanted:
        output, dom = cell.outputs[i], cell.dom[i]
        if WIDGET in output.mimetypes and not dom.widget_rendered:
            shown = dom.widget_error or dom.text or "nothing"
            found.append(f"{cell.label}: output {i + 1}, a widget, did not render in the page; "
                         f"it shows {shown!r}")
        elif IMAGE in output.mimetypes and WIDGET not in output.mimetypes and dom.images < 1:
            found.append(f"{cell.label}: output {i + 1} is an image in the notebook but the page "
                         "shows no loaded image")
    return found


def check_notebook(run: NotebookRun) -> None:
    """Raise :class:`NotebookCheckError` listing every problem of ``run``; return if none."""
    found = problems(run)
    if found:
        raise NotebookCheckError(
            f"{run.name} in JupyterLab: {len(found)} problem(s)\n  - " + "\n  - ".join(found))


# --------------------------------------------------------------------------- the report


def nearby_markdown(run: NotebookRun, cell: Cell) -> tuple[str, str]:
    """The markdown just before a cell and the markdown just after it (up to the next code).

    That is where a notebook says what to notice in a plot or a widget.
    """
    before = ""
    i = cell.index - 1
    if i >= 0 and run.cells[i].cell_type == "markdown":
        before = run.cells[i].source
    after = []
    for other in run.cells[cell.index + 1:]:
        if other.cell_type != "markdown":
            break
        after.append(other.source)
    return before, "\n\n".join(after)
