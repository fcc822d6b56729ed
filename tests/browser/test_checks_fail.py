"""The browser checks fail when they should: broken notebooks run through the same machinery.

- a copy of a course notebook with a deliberately failing cell injected;
- a notebook with a widget that no front-end can render (its model id exists nowhere), a
  widget whose front-end module does not exist, and a plot call whose figure is closed
  before it is shown; next to a working widget and a working plot, which must pass;
- course widgets that render but no longer respond (their controls disconnected from
  Python): every widget driver must report that the page did not change.
"""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from .lab import kernel_output, run_notebook
from .notebook_checks import NotebookCheckError, check_notebook, problems, widget_calls
from .test_notebooks_in_jupyterlab import NOTEBOOKS
from .widget_drivers import DRIVERS, WidgetDidNotRespond

pytestmark = pytest.mark.browser

RAISE = 'raise RuntimeError("a deliberately failing cell")'


def _write(lab, name: str, nb) -> str:
    path = lab.root / "notebooks" / name
    nbformat.write(nb, path)
    return f"notebooks/{name}"


def _notebook(*sources: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


def test_a_failing_cell_fails_the_check(lab, lab_page, shots_root):
    original = NOTEBOOKS[0]
    nb = nbformat.read(lab.root / "notebooks" / original, as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    at = code[2]  # after the set-up cells, so the notebook has started for real
    nb.cells.insert(at, nbformat.v4.new_code_cell(RAISE))
    path = _write(lab, f"zz_failing_cell_{original}", nb)

    run = run_notebook(lab_page, lab, path, shots_root / "fixtures" / "failing_cell")

    with pytest.raises(NotebookCheckError) as caught:
        check_notebook(run)
    message = str(caught.value)
    assert f"cell {at + 1} ('raise RuntimeError" in message
    assert "raised RuntimeError: a deliberately failing cell" in message
    later = len([i for i in code if i >= at and nb.cells[i + 1].source.strip()])
    assert re.search(rf"{later} code cell\(s\) did not run", message), message
    assert run.cells[code[1]].execution_count is not None  # the cells before it did run


BROKEN = _notebook(
    # 1: a working widget and 2: a working plot, which must pass
    "import ipywidgets as widgets\nimport matplotlib.pyplot as plt\n"
    "from IPython.display import display\nimport traitlets\n"
    "widgets.IntSlider(3, description='fine')",
    "plt.plot([1, 3, 2])\nplt.show()",
    # 3: a widget view of a model that no front-end has
    "display({'application/vnd.jupyter.widget-view+json': {'model_id': 'f' * 32, "
    "'version_major': 2, 'version_minor': 0}, 'text/plain': 'a widget nobody can render'}, "
    "raw=True)",
    # 4: a widget whose front-end module does not exist
    "class NoFrontEnd(widgets.DOMWidget):\n"
    "    _model_name = traitlets.Unicode('NoSuchModel').tag(sync=True)\n"
    "    _model_module = traitlets.Unicode('lecture-no-such-module').tag(sync=True)\n"
    "    _model_module_version = traitlets.Unicode('1.0.0').tag(sync=True)\n"
    "    _view_name = traitlets.Unicode('NoSuchView').tag(sync=True)\n"
    "    _view_module = traitlets.Unicode('lecture-no-such-module').tag(sync=True)\n"
    "    _view_module_version = traitlets.Unicode('1.0.0').tag(sync=True)\n\n"
    "NoFrontEnd()",
    # 5: a plot call whose figure is closed before it is shown
    "fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.close(fig)",
)

# Course widgets that render but are deaf: every control's "value" observers removed, so the
# page can change nothing.
DEAF = _notebook(
    "import torch\nfrom transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer\n"
    "import lecture_utils as lu\n\n"
    "def deaf(widget):\n"
    "    stack = [widget]\n"
    "    while stack:\n"
    "        w = stack.pop()\n"
    "        stack.extend(getattr(w, 'children', ()))\n"
    "        if w.has_trait('value'):\n"
    "            w.unobserve_all('value')\n"
    "    return widget\n\n"
    "path = lu.checkpoint('distilbert/distilbert-base-cased')\n"
    "tokenizer = AutoTokenizer.from_pretrained(path)\n"
    "encoder = AutoModel.from_pretrained(path, attn_implementation='eager')\n"
    "gpt_path = lu.checkpoint('distilbert/distilgpt2')\n"
    "gpt_tokenizer = AutoTokenizer.from_pretrained(gpt_path)\n"
    "gpt = AutoModelForCausalLM.from_pretrained(gpt_path)",
    "deaf(lu.widgets.tokenizer_playground(tokenizer, text='Nothing I type changes this'))",
    "inputs = tokenizer('The cat sat on the mat.', return_tensors='pt')\n"
    "with torch.no_grad():\n"
    "    attentions = encoder(**inputs, output_attentions=True).attentions\n"
    "tokens = tokenizer.convert_ids_to_tokens(inputs['input_ids'][0])\n"
    "deaf(lu.widgets.attention_explorer(attentions, tokens))",
    "deaf(lu.widgets.generation_playground(gpt, gpt_tokenizer, prompt='The movie was'))",
)


def test_broken_widgets_and_missing_plots_fail_the_check(lab, lab_page, shots_root,
                                                        pytestconfig):
    path = _write(lab, "zz_broken_widgets.ipynb", BROKEN)
    run = run_notebook(lab_page, lab, path, shots_root / "fixtures" / "broken_widgets")

    # First, while its kernel is up: the kernels run as the suite's, but plot like a student's.
    seen = json.loads(kernel_output(lab_page, (
        "import json, os, socket, matplotlib\n"
        "print(json.dumps({'guarded': getattr(socket.socket, '_lecture_guarded', False), "
        "'mode': os.environ.get('LECTURE_MODE'), 'offline': os.environ.get('HF_HUB_OFFLINE'), "
        "'backend': matplotlib.get_backend(), 'cwd': os.getcwd()}))")))
    assert seen["guarded"] is True  # the suite's network guard, as in every test process
    assert seen["mode"] == pytestconfig.getoption("--lecture-mode") and seen["offline"] == "1"
    assert "inline" in seen["backend"]  # as for a student: not the suite's Agg
    assert seen["cwd"] == str(lab.root / "notebooks")  # a copy, never the committed notebooks

    found = problems(run)
    by_cell = {n: [p for p in found if p.startswith(f"cell {n} (")] for n in range(1, 6)}
    assert by_cell[1] == [] and by_cell[2] == [], found  # the working widget and plot pass
    assert any("a widget, did not render" in p and "model not found" in p for p in by_cell[3]), \
        found
    assert any("a widget, did not render" in p for p in by_cell[4]), found
    assert any("calls plt.subplots but shows no image" in p for p in by_cell[5]), found
    assert len(found) == 3, found
    with pytest.raises(NotebookCheckError):
        check_notebook(run)



def test_widgets_that_do_not_respond_fail_their_drivers(lab, lab_page, shots_root):
    path = _write(lab, "zz_deaf_widgets.ipynb", DEAF)
    shots = shots_root / "fixtures" / "deaf_widgets"
    run = run_notebook(lab_page, lab, path, shots)
    check_notebook(run)  # they all render: only using them shows what is wrong
    driven = set()
    for cell in run.code_cells()[1:]:
        (call,) = widget_calls(cell.source)
        with pytest.raises(WidgetDidNotRespond, match="did not change"):
            DRIVERS[call.factory](lab_page, cell.index, call, shots, timeout=4)
        driven.add(call.factory)
    assert driven == set(DRIVERS)
