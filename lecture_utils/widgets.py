"""Interactive widgets (ipywidgets) for exploring in JupyterLab.

Where widgets cannot run (a notebook exported to HTML or shown by a viewer such as GitHub's,
a front end without the widget manager, a terminal), each widget shows a static view of its
current state instead: a snapshot in HTML and a one-line summary in plain text.
"""

from __future__ import annotations

import base64
import functools
import html
import io
from collections.abc import Callable, Sequence

from .plots import _attention_stack, _check_tokens, _color_max, plot_attention_head


def token_rows(tokenizer, text: str) -> list[tuple[str, int]]:
    """(token, id) for each token the tokenizer makes of ``text``, special tokens included."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}.")
    ids = tokenizer(text)["input_ids"]
    return list(zip(tokenizer.convert_ids_to_tokens(ids), ids, strict=True))


def _token_table(tokenizer, text: str) -> str:
    rows = token_rows(tokenizer, text)
    special = set(tokenizer.all_special_ids)
    cells = []
    for token, token_id in rows:
        style = "background:#fde2a3" if token_id in special else "background:#d9ecff"
        if token_id == tokenizer.unk_token_id:
            style = "background:#f8b4b4"
        cells.append(
            f"<td style='{style};padding:2px 6px;font-family:monospace;text-align:center'>"
            f"{html.escape(token)}<br><small>{token_id}</small></td>"
        )
    return (f"<div>{len(rows)} tokens (yellow: special, red: unknown)</div>"
            f"<table><tr>{''.join(cells)}</tr></table>")


STATIC_NOTE = ("<div><small><i>A static view of an interactive widget: run the notebook in "
               "Jupyter to use its controls.</i></small></div>")


@functools.cache
def _static_vbox_class():
    import ipywidgets as widgets

    class StaticFallbackVBox(widgets.VBox):
        """A ``VBox`` that also offers a static view of its current state.

        Its display data holds the widget view, a ``text/html`` snapshot and a ``text/plain``
        summary: front ends that run widgets show the widget, the others the richest of the
        two static views they can render.
        """

        def __init__(self, children, *, snapshot: Callable[[], str],
                     summary: Callable[[], str]):
            super().__init__(children)
            self._snapshot, self._summary = snapshot, summary

        def _repr_mimebundle_(self, **kwargs):
            data = dict(super()._repr_mimebundle_(**kwargs) or {})
            data["text/html"] = self._snapshot() + STATIC_NOTE
            data["text/plain"] = self._summary()
            return data

    return StaticFallbackVBox


def with_static_view(children, *, snapshot: Callable[[], str], summary: Callable[[], str]):
    """A ``VBox`` of ``children`` whose display also carries a static view.

    ``snapshot()`` returns HTML showing the widget's current state and ``summary()`` a
    one-line plain-text description; both are called each time the widget is displayed.
    """
    return _static_vbox_class()(children, snapshot=snapshot, summary=summary)


def tokenizer_playground(tokenizer, text: str = "Hello, how are you?"):
    """A text box: type, and see the tokens and their ids as you go."""
    import ipywidgets as widgets

    box = widgets.Text(value=text, description="Text:", continuous_update=True,
                       layout=widgets.Layout(width="90%"))
    out = widgets.HTML()

    def render(change=None):
        out.value = _token_table(tokenizer, box.value)

    def summary() -> str:
        tokens = [token for token, _ in token_rows(tokenizer, box.value)]
        return (f"Tokenizer playground, {len(tokens)} tokens for {box.value!r}: "
                f"{' '.join(tokens)}")

    box.observe(render, names="value")
    render()
    view = with_static_view([box, out], summary=summary, snapshot=lambda: (
        f"<div><b>Text:</b> {html.escape(box.value)}</div>{out.value}"))
    view.add_class("lecture-tokenizer-playground")  # a stable hook for the browser tests
    return view


def attention_explorer(attentions, tokens: Sequence[str], *, batch_index: int = 0):
    """Sliders for layer and head; shows that head's attention heatmap.

    ``attentions`` is ``outputs.attentions`` (one ``(batch, heads, query, key)`` tensor per
    layer), ``tokens`` the labels of the positions. Every head is drawn on one colour scale,
    from 0 to the largest weight of any head (the colour bar), so moving the sliders compares
    heads rather than rescaling each one.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    stack = _attention_stack(attentions, batch_index)
    n_layers, n_heads, n_query, _ = stack.shape
    tokens = _check_tokens(tokens, n_query)
    vmax = _color_max(stack)
    layer = widgets.IntSlider(0, 0, n_layers - 1, description="layer")
    head = widgets.IntSlider(0, 0, n_heads - 1, description="head")
    out = widgets.Output()

    def figure():
        size = min(8.0, 2.0 + 0.3 * n_query)
        fig, ax = plt.subplots(figsize=(size + 1.2, size))
        image = plot_attention_head(ax, stack[layer.value, head.value], tokens, fontsize=9,
                                    vmax=vmax)
        fig.colorbar(image, ax=ax, shrink=0.8, label="attention weight")
        ax.set_title(f"layer {layer.value}, head {head.value}")
        ax.set_xlabel("key (attended to)")
        ax.set_ylabel("query (attending)")
        return fig

    def render(change=None):
        with out:
            out.clear_output(wait=True)
            fig = figure()
            display(fig)
            plt.close(fig)  # shown once via display; do not keep it open

    def snapshot() -> str:
        fig = figure()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        plt.close(fig)
        png = base64.b64encode(buffer.getvalue()).decode("ascii")
        return (f"<div>layer {layer.value} of 0-{n_layers - 1}, head {head.value} of "
                f"0-{n_heads - 1}</div><img src='data:image/png;base64,{png}' "
                f"alt='attention of layer {layer.value}, head {head.value}'>")

    layer.observe(render, names="value")
    head.observe(render, names="value")
    render()
    def summary() -> str:
        return (f"Attention explorer, layer {layer.value} of 0-{n_layers - 1}, head "
                f"{head.value} of 0-{n_heads - 1}, over {n_query} tokens: {' '.join(tokens)}")

    view = with_static_view([widgets.HBox([layer, head]), out], snapshot=snapshot,
                            summary=summary)
    view.add_class("lecture-attention-explorer")  # a stable hook for the browser tests
    return view


def generation_playground(model, tokenizer, prompt: str = "The movie was", *,
                          max_new_tokens: int = 20, seed: int = 42):
    """Sliders for temperature, top-k, top-p and length; each change calls ``model.generate``.

    The prompt is shown in bold, the generated continuation after it, and below them the
    exact ``model.generate(...)`` call that produced it. Untick "sample" for greedy decoding
    (the sampling sliders, the seed and "New sample" are then switched off). "New sample"
    draws again with the next seed; the same seed and the same settings give the same text.
    """
    import ipywidgets as widgets
    import torch

    style = {"description_width": "130px"}  # wide enough for "max_new_tokens" in full
    layout = widgets.Layout(width="420px")
    text = widgets.Text(value=prompt, description="prompt", style=style,
                        continuous_update=False, layout=widgets.Layout(width="90%"))
    sample = widgets.Checkbox(value=True, description="sample (untick: greedy)", style=style,
                              layout=widgets.Layout(width="340px"))
    temperature = widgets.FloatSlider(1.0, min=0.05, max=2.0, step=0.05, description="temperature",
                                      continuous_update=False, style=style, layout=layout)
    top_k = widgets.IntSlider(50, min=0, max=200, description="top_k (0: off)",
                              continuous_update=False, style=style, layout=layout)
    top_p = widgets.FloatSlider(1.0, min=0.05, max=1.0, step=0.05, description="top_p (1: off)",
                                continuous_update=False, style=style, layout=layout)
    length = widgets.IntSlider(max_new_tokens, min=1, max=100, description="max_new_tokens",
                               continuous_update=False, style=style, layout=layout)
    seed_box = widgets.IntText(seed, description="seed", style=style,
                               layout=widgets.Layout(width="220px"))
    again = widgets.Button(description="New sample")
    out = widgets.HTML()
    shown = {"text": ""}  # the last prompt and continuation, for the plain-text view
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None \
        else tokenizer.eos_token_id

    def generate_kwargs() -> dict:
        kwargs = {"max_new_tokens": length.value, "pad_token_id": pad_id}
        if sample.value:
            kwargs.update(do_sample=True, temperature=float(temperature.value),
                          top_k=int(top_k.value), top_p=float(top_p.value))
        else:
            kwargs["do_sample"] = False
        return kwargs

    def render(change=None):
        for control in (temperature, top_k, top_p, seed_box, again):
            control.disabled = not sample.value  # greedy decoding draws nothing at random
        if not text.value.strip():
            out.value = "<i>Type a prompt.</i>"
            shown["text"] = "(no prompt)"
            return
        inputs = tokenizer(text.value, return_tensors="pt").to(model.device)
        kwargs = generate_kwargs()
        torch.manual_seed(seed_box.value)
        try:
            with torch.no_grad():
                output = model.generate(**inputs, **kwargs)
        except Exception as error:  # show it in the widget (e.g. a prompt beyond the context)
            out.value = (f"<b>generate raised {type(error).__name__}:</b> "
                         f"{html.escape(str(error))}")
            shown["text"] = f"generate raised {type(error).__name__}: {error}"
            return
        new_ids = output[0, inputs["input_ids"].shape[1]:]
        continuation = tokenizer.decode(new_ids, skip_special_tokens=True)
        call = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        drawn = f"seed {seed_box.value}" if sample.value else "greedy, no seed needed"
        shown["text"] = f"{text.value!r} + {continuation!r} ({drawn}, {call})"
        out.value = (
            f"<div style='font-family:monospace;white-space:pre-wrap'>"
            f"<b>{html.escape(text.value)}</b>{html.escape(continuation)}</div>"
            f"<div><small>{len(new_ids)} new tokens, {drawn}: "
            f"model.generate(**inputs, {html.escape(call)})</small></div>"
        )

    def next_seed(button=None):
        seed_box.value += 1  # observing the seed re-renders

    for control in (text, sample, temperature, top_k, top_p, length, seed_box):
        control.observe(render, names="value")
    again.on_click(next_seed)
    render()
    view = with_static_view(
        [text, widgets.HBox([sample, seed_box, again]), widgets.HBox([temperature, top_k]),
         widgets.HBox([top_p, length]), out],
        snapshot=lambda: out.value, summary=lambda: f"Generation playground: {shown['text']}")
    view.add_class("lecture-generation-playground")  # a stable hook for the browser tests
    return view
