"""Plots and the widget of notebook 09 · Text generation, on the tiny GPT-2 stand-in."""

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import lecture_utils as lu  # noqa: E402
from lecture_utils.plots import (  # noqa: E402
    plot_next_token_probs,
    plot_probs_comparison,
    token_label,
)
from lecture_utils.widgets import generation_playground  # noqa: E402

MODEL_ID = "distilbert/distilgpt2"


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(lu.checkpoint(MODEL_ID))


@pytest.fixture(scope="module")
def model():
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(lu.checkpoint(MODEL_ID))


@pytest.fixture(scope="module")
def probs(tokenizer, model):
    inputs = tokenizer("This movie was", return_tensors="pt")
    with torch.no_grad():
        return model(**inputs).logits[0, -1].softmax(-1)


def bar_axes(fig):
    return [ax for ax in fig.axes if ax.patches]


def labels_top_down(ax):
    """The y tick labels, from the top of the chart down."""
    pairs = zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()], strict=True)
    return [label for _, label in sorted(pairs, key=lambda pair: -pair[0])]


# --------------------------------------------------------------------------- plots


def test_next_token_plot_shows_the_top_k_in_order(probs, tokenizer):
    fig = plot_next_token_probs(probs, tokenizer, k=7)
    (ax,) = bar_axes(fig)
    assert len(ax.patches) == 7
    top = torch.topk(probs, 7)
    labels = labels_top_down(ax)  # the most likely token at the top
    assert labels == [token_label(tokenizer, i) for i in top.indices.tolist()]
    widths = sorted((p.get_y(), p.get_width()) for p in ax.patches)
    assert [w for _, w in widths][::-1] == pytest.approx(top.values.tolist())
    assert labels[0].startswith(("'", '"'))  # quoted, so leading spaces show
    plt.close(fig)


def test_next_token_plot_accepts_a_batch_of_one_and_an_axis(probs, tokenizer):
    fig0, ax = plt.subplots()
    fig = plot_next_token_probs(probs.unsqueeze(0), tokenizer, k=3, ax=ax, title="mine")
    assert fig is fig0 and ax.get_title() == "mine"
    plt.close(fig)


def test_next_token_plot_rejects_logits_and_sequences(probs, tokenizer):
    logits = torch.log(probs)
    with pytest.raises(ValueError, match="softmax"):
        plot_next_token_probs(logits, tokenizer)
    with pytest.raises(ValueError, match=r"logits\[0, -1\]"):
        plot_next_token_probs(torch.stack([probs, probs, probs]).unsqueeze(0), tokenizer)
    with pytest.raises(ValueError, match="NaN"):
        plot_next_token_probs(torch.full_like(probs, float("nan")), tokenizer)
    with pytest.raises(ValueError, match="positive int"):
        plot_next_token_probs(probs, tokenizer, k=0)


def test_comparison_plot_uses_the_first_distributions_tokens(probs, tokenizer):
    filtered = torch.zeros_like(probs)
    top3 = torch.topk(probs, 3).indices
    filtered[top3] = probs[top3] / probs[top3].sum()
    fig = plot_probs_comparison({"original": probs, "top-k, k=3": filtered}, tokenizer, k=5)
    (ax,) = bar_axes(fig)
    assert len(ax.patches) == 2 * 5  # one bar per token per distribution
    assert labels_top_down(ax) == [token_label(tokenizer, i)
                                   for i in torch.topk(probs, 5).indices.tolist()]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[1] == "top-k, k=3 (3 tokens with p > 0)"
    assert legend[0] == f"original ({int((probs > 0).sum())} tokens with p > 0)"
    plt.close(fig)


def test_comparison_plot_errors(probs, tokenizer):
    with pytest.raises(TypeError, match="non-empty dict"):
        plot_probs_comparison([probs], tokenizer)
    with pytest.raises(ValueError, match="same vocabulary"):
        plot_probs_comparison({"a": probs, "b": torch.tensor([0.5, 0.5])}, tokenizer)
    with pytest.raises(ValueError, match="does not look like probabilities"):
        plot_probs_comparison({"a": probs, "logits": torch.log(probs)}, tokenizer)


# --------------------------------------------------------------------------- widget


@pytest.fixture
def spy(model, monkeypatch):
    """Record every model.generate call of the widget (and still generate)."""
    calls = []
    real = model.generate

    def recording_generate(*args, **kwargs):
        inputs = {k: kwargs[k] for k in ("input_ids", "attention_mask")}
        calls.append({k: v for k, v in kwargs.items() if k not in inputs})
        assert not args and inputs["attention_mask"].all()  # the prompt, with its mask
        return real(*args, **kwargs)

    monkeypatch.setattr(model, "generate", recording_generate)
    return calls


def controls(box):
    text, row1, row2, row3, out = box.children
    sample, seed, again = row1.children
    temperature, top_k = row2.children
    top_p, length = row3.children
    return dict(text=text, sample=sample, seed=seed, again=again, temperature=temperature,
                top_k=top_k, top_p=top_p, length=length, out=out)


def test_playground_generates_with_the_slider_values(model, tokenizer, spy):
    box = generation_playground(model, tokenizer, prompt="This movie was", max_new_tokens=5)
    c = controls(box)
    assert len(spy) == 1  # drawn once on creation
    assert spy[0]["do_sample"] is True and spy[0]["max_new_tokens"] == 5
    assert "<b>This movie was</b>" in c["out"].value

    c["temperature"].value = 0.5
    c["top_k"].value = 7
    c["top_p"].value = 0.8
    c["length"].value = 3
    last = spy[-1]
    assert last == {"max_new_tokens": 3, "pad_token_id": tokenizer.eos_token_id,
                    "do_sample": True, "temperature": 0.5, "top_k": 7, "top_p": 0.8}
    assert re.search(r"\d+ new tokens, seed 42", c["out"].value)
    assert "temperature=0.5" in c["out"].value and "top_k=7" in c["out"].value


def test_playground_greedy_disables_the_sampling_sliders(model, tokenizer, spy):
    box = generation_playground(model, tokenizer, prompt="The film", max_new_tokens=4)
    c = controls(box)
    c["sample"].value = False
    assert spy[-1] == {"max_new_tokens": 4, "pad_token_id": tokenizer.eos_token_id,
                       "do_sample": False}
    assert c["temperature"].disabled and c["top_k"].disabled and c["top_p"].disabled
    inputs = tokenizer("The film", return_tensors="pt")
    expected = model.generate(**inputs, max_new_tokens=4, do_sample=False,
                              pad_token_id=tokenizer.eos_token_id)
    continuation = tokenizer.decode(expected[0, inputs["input_ids"].shape[1]:],
                                     skip_special_tokens=True)
    assert f"<b>The film</b>{continuation}" in c["out"].value.replace("&#x27;", "'")


def test_playground_same_seed_same_text_and_new_sample(model, tokenizer, spy):
    box = generation_playground(model, tokenizer, prompt="This movie was", max_new_tokens=12)
    c = controls(box)
    first = c["out"].value
    c["seed"].value = 7
    c["seed"].value = 42  # back to the first seed: the same text again
    assert c["out"].value == first
    c["again"].click()
    assert c["seed"].value == 43 and len(spy) == 4


def test_playground_empty_prompt_and_errors(model, tokenizer, spy, monkeypatch):
    box = generation_playground(model, tokenizer, prompt="")
    c = controls(box)
    assert spy == [] and "Type a prompt" in c["out"].value

    def failing_generate(*args, **kwargs):
        raise ValueError("Input length of input_ids is 30, but `max_length` is set to 20.")

    monkeypatch.setattr(model, "generate", failing_generate)
    c["text"].value = "The film"  # the error shows in the widget instead of a traceback
    assert "generate raised ValueError" in c["out"].value
    assert "max_length" in c["out"].value
