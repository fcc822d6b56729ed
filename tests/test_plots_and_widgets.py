import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from transformers import AutoModel, AutoTokenizer  # noqa: E402

import lecture_utils as lu  # noqa: E402
from lecture_utils.plots import plot_attention_grid  # noqa: E402
from lecture_utils.widgets import attention_explorer, token_rows, tokenizer_playground  # noqa: E402


def fake_attentions(layers, heads, seq, batch=1):
    torch.manual_seed(0)
    return tuple(torch.softmax(torch.randn(batch, heads, seq, seq), dim=-1)
                 for _ in range(layers))


@pytest.fixture
def tokens8():
    return ["[CLS]", "Hello", ",", "how", "are", "you", "?", "[SEP]"]


@pytest.mark.parametrize("layers, heads", [(2, 4), (6, 12)])
def test_grid_is_sized_from_the_model(layers, heads, tokens8):
    fig = plot_attention_grid(fake_attentions(layers, heads, 8), tokens8)
    grid = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(grid) == layers * heads
    width, height = fig.get_size_inches()
    assert width <= 13.5  # a notebook shows it about at size, not shrunk to fit
    assert width / heads >= 0.9 and height / layers >= 0.9  # each heatmap stays readable
    bottom_left = grid[(layers - 1) * heads]
    assert min(t.get_fontsize() for t in bottom_left.get_xticklabels()) >= 6
    assert [t.get_text() for t in bottom_left.get_xticklabels()] == tokens8
    assert [t.get_text() for t in bottom_left.get_yticklabels()] == tokens8
    assert grid[0].get_title() == "head 0" and "layer 0" in grid[0].get_ylabel()
    assert f"layer {layers - 1}" in bottom_left.get_ylabel()
    inner = grid[1]  # only the outer row/column carry tick labels
    assert [t.get_text() for t in inner.get_yticklabels()] in ([], [""] * 8)
    plt.close(fig)


def test_grid_shares_one_colour_scale_up_to_the_largest_weight(tokens8):
    # Weights far from 1 (as in a barely trained model) still span the whole colour map.
    attentions = tuple(0.25 * a for a in fake_attentions(2, 3, 8))
    fig = plot_attention_grid(attentions, tokens8)
    largest = float(torch.stack(attentions).max())
    limits = [ax.images[0].get_clim() for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(limits) == 6 and len(set(limits)) == 1  # one scale for every head
    assert limits[0] == (0.0, pytest.approx(largest))
    assert largest < 0.25
    plt.close(fig)


def test_grid_from_a_real_model_has_special_tokens_on_the_axes(mode):
    mode("tiny")
    path = lu.checkpoint("distilbert/distilbert-base-cased")
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path, attn_implementation="eager")
    inputs = tok("Hello, how are you?", return_tensors="pt")
    with torch.no_grad():
        out = model(**inputs, output_attentions=True)
    labels = tok.convert_ids_to_tokens(inputs["input_ids"][0])
    fig = plot_attention_grid(out.attentions, labels)
    ax = [a for a in fig.axes if a.get_label() != "<colorbar>"][-1]
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert ticks[0] == "[CLS]" and ticks[-1] == "[SEP]"
    plt.close(fig)


def test_empty_attentions_explain_eager():
    with pytest.raises(ValueError, match="attn_implementation='eager'"):
        plot_attention_grid((), ["a"])
    with pytest.raises(ValueError, match="output_attentions=True"):
        plot_attention_grid(None, ["a"])


def test_wrong_number_of_labels_is_explained(tokens8):
    with pytest.raises(ValueError, match="Got 6 token labels for 8 positions.*special tokens"):
        plot_attention_grid(fake_attentions(2, 4, 8), tokens8[1:-1])


def test_wrong_shapes_and_batch_index(tokens8):
    with pytest.raises(ValueError, match=r"\(batch, heads, query, key\)"):
        plot_attention_grid((torch.rand(4, 8, 8),), tokens8)
    with pytest.raises(IndexError, match="batch_index=3"):
        plot_attention_grid(fake_attentions(2, 4, 8, batch=2), tokens8, batch_index=3)


def test_token_rows_and_playground(mode):
    mode("tiny")
    tok = AutoTokenizer.from_pretrained(lu.checkpoint("distilbert/distilbert-base-cased"))
    rows = token_rows(tok, "Hello!")
    assert rows[0] == ("[CLS]", tok.cls_token_id) and rows[-1] == ("[SEP]", tok.sep_token_id)
    box = tokenizer_playground(tok, text="Hello")
    text, table = box.children
    assert "Hello" in table.value and "[CLS]" in table.value
    text.value = "Goodbye \N{SNOWMAN}"  # typing updates the table
    assert "[UNK]" in table.value and "Hello" not in table.value
    with pytest.raises(TypeError, match="text must be a string"):
        token_rows(tok, ["a", "list"])


def test_attention_explorer_sliders_match_the_model(tokens8):
    box = attention_explorer(fake_attentions(3, 5, 8), tokens8)
    sliders, _ = box.children
    layer, head = sliders.children
    assert (layer.min, layer.max, head.min, head.max) == (0, 2, 0, 4)
    layer.value, head.value = 2, 4  # moving the sliders redraws without error
    with pytest.raises(ValueError, match="attn_implementation='eager'"):
        attention_explorer((), tokens8)
