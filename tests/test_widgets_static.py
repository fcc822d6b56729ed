"""Widgets degrade to a static view where they cannot run.

A front end with the widget manager (JupyterLab, Colab, VS Code) renders the widget view; one
without it, an HTML export (nbconvert skips a widget view whose state was not saved) or a
terminal shows the ``text/html`` snapshot or the ``text/plain`` summary instead. The export
below is exactly what the course website or GitHub shows of an executed notebook.
"""

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from IPython.core.formatters import DisplayFormatter  # noqa: E402
from nbconvert import HTMLExporter  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

import lecture_utils as lu  # noqa: E402
from lecture_utils.widgets import (  # noqa: E402
    STATIC_NOTE,
    attention_explorer,
    generation_playground,
    tokenizer_playground,
)

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TOKENS = ["[CLS]", "Hello", ",", "how", "are", "you", "?", "[SEP]"]


def display_data(widget) -> dict:
    """What IPython sends to the front end when a cell shows ``widget``."""
    data, _ = DisplayFormatter().format(widget)
    return data


def exported_html(data: dict) -> str:
    """The body of an HTML export of a notebook whose one cell showed ``data`` (no widget
    state saved, as in any notebook executed outside a browser)."""
    cell = nbformat.v4.new_code_cell("widget")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data)]
    body, _ = HTMLExporter(template_name="classic").from_notebook_node(
        nbformat.v4.new_notebook(cells=[cell]))
    return body[body.index("<body"):]


@pytest.fixture
def tokenizer(mode):
    mode("tiny")
    return AutoTokenizer.from_pretrained(lu.checkpoint("distilbert/distilbert-base-cased"))


def test_tokenizer_playground_offers_the_widget_and_a_current_static_view(tokenizer):
    box = tokenizer_playground(tokenizer, text="Hello there")
    data = display_data(box)
    assert data[WIDGET_VIEW]["model_id"] == box.model_id
    assert "[CLS]" in data["text/html"] and "there" in data["text/html"]
    assert data["text/html"].endswith(STATIC_NOTE)
    n = len(tokenizer("Hello there")["input_ids"])
    assert data["text/plain"] == (f"Tokenizer playground, {n} tokens for 'Hello there': "
                                  + " ".join(tokenizer.convert_ids_to_tokens(
                                      tokenizer("Hello there")["input_ids"])))
    box.children[0].value = "Goodbye \N{SNOWMAN}"  # typing changes the static view too
    data = display_data(box)
    assert "[UNK]" in data["text/html"] and "there" not in data["text/html"]
    assert "Goodbye" in data["text/plain"]


def test_an_html_export_shows_the_snapshot_not_the_widget_repr(tokenizer):
    page = exported_html(display_data(tokenizer_playground(tokenizer, text="Hello there")))
    assert "[CLS]" in page and "A static view of an interactive widget" in page
    assert "VBox(" not in page


def test_a_plain_widget_would_export_only_its_repr(tokenizer):
    """What the check above rejects: ipywidgets' own display data has no static view."""
    plain = ipywidgets.VBox([ipywidgets.HTML("<b>tokens</b>")])
    page = exported_html(display_data(plain))
    assert "VBox(" in page and "<b>tokens</b>" not in page


def test_attention_explorer_snapshot_is_the_selected_heads_heatmap():
    attentions = tuple(torch.softmax(torch.randn(1, 5, 8, 8), dim=-1) for _ in range(3))
    box = attention_explorer(attentions, TOKENS)
    layer, head = box.children[0].children
    layer.value, head.value = 2, 4
    data = display_data(box)
    assert data["text/html"].startswith(
        "<div>layer 2 of 0-2, head 4 of 0-4</div><img src='data:image/png;base64,")
    assert data["text/plain"] == ("Attention explorer, layer 2 of 0-2, head 4 of 0-4, over 8 "
                                  "tokens: " + " ".join(TOKENS))
    assert 'alt="attention of layer 2, head 4"' in exported_html(data)


def test_generation_playground_snapshot_holds_the_generated_text(mode):
    mode("tiny")
    checkpoint = lu.checkpoint("distilbert/distilgpt2")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForCausalLM.from_pretrained(checkpoint)
    box = generation_playground(model, tokenizer, prompt="The movie was", max_new_tokens=5)
    data = display_data(box)
    assert "<b>The movie was</b>" in data["text/html"]
    assert data["text/plain"].startswith("Generation playground: 'The movie was' + '")
    assert "seed 42" in data["text/plain"] and "max_new_tokens=5" in data["text/plain"]
    box.children[0].value = "   "
    assert display_data(box)["text/plain"] == "Generation playground: (no prompt)"
