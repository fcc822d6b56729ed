"""Interactive widgets (ipywidgets) for exploring in JupyterLab."""

from __future__ import annotations

import html
from collections.abc import Sequence

from .plots import _attention_stack, _check_tokens, plot_attention_head


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


def tokenizer_playground(tokenizer, text: str = "Hello, how are you?"):
    """A text box: type, and see the tokens and their ids as you go."""
    import ipywidgets as widgets

    box = widgets.Text(value=text, description="Text:", continuous_update=True,
                       layout=widgets.Layout(width="90%"))
    out = widgets.HTML()

    def render(change=None):
        out.value = _token_table(tokenizer, box.value)

    box.observe(render, names="value")
    render()
    return widgets.VBox([box, out])


def attention_explorer(attentions, tokens: Sequence[str], *, batch_index: int = 0):
    """Sliders for layer and head; shows that head's attention heatmap."""
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    stack = _attention_stack(attentions, batch_index)
    n_layers, n_heads, n_query, _ = stack.shape
    tokens = _check_tokens(tokens, n_query)
    layer = widgets.IntSlider(0, 0, n_layers - 1, description="layer")
    head = widgets.IntSlider(0, 0, n_heads - 1, description="head")
    out = widgets.Output()

    def render(change=None):
        with out:
            out.clear_output(wait=True)
            size = min(8.0, 2.0 + 0.3 * n_query)
            fig, ax = plt.subplots(figsize=(size, size))
            plot_attention_head(ax, stack[layer.value, head.value], tokens, fontsize=9)
            ax.set_title(f"layer {layer.value}, head {head.value}")
            ax.set_xlabel("key (attended to)")
            ax.set_ylabel("query (attending)")
            display(fig)
            plt.close(fig)  # shown once via display; do not keep it open

    layer.observe(render, names="value")
    head.observe(render, names="value")
    render()
    return widgets.VBox([widgets.HBox([layer, head]), out])
