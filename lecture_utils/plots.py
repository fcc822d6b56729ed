"""Plots for the notebooks: how things look, never what is computed."""

from __future__ import annotations

from collections.abc import Sequence


def _attention_stack(attentions, batch_index: int):
    """Validate ``outputs.attentions`` and return a (layers, heads, query, key) tensor."""
    import torch

    if attentions is None or len(attentions) == 0:
        raise ValueError(
            "No attention weights to plot (attentions is empty). Load the model with "
            "attn_implementation='eager' and call it with output_attentions=True."
        )
    shapes = {tuple(a.shape) for a in attentions}
    if len(shapes) != 1 or len(next(iter(shapes))) != 4:
        raise ValueError(
            "Expected outputs.attentions: one tensor per layer, each shaped "
            f"(batch, heads, query, key); got shapes {sorted(shapes)}."
        )
    batch = next(iter(shapes))[0]
    if not -batch <= batch_index < batch:
        raise IndexError(f"batch_index={batch_index} is out of range for a batch of {batch}.")
    return torch.stack([a[batch_index].detach().float().cpu() for a in attentions])


def _check_tokens(tokens: Sequence[str], length: int) -> list[str]:
    tokens = [str(t) for t in tokens]
    if len(tokens) != length:
        raise ValueError(
            f"Got {len(tokens)} token labels for {length} positions. Build the labels from "
            "the same input ids the model saw, special tokens included: "
            "tokenizer.convert_ids_to_tokens(inputs['input_ids'][0])."
        )
    return tokens


def plot_attention_head(ax, weights, tokens: Sequence[str], *, xlabels: bool = True,
                        ylabels: bool = True, fontsize: float = 8):
    """Draw one (query, key) attention matrix on ``ax`` with token labels."""
    weights = weights.detach().float().cpu().numpy() if hasattr(weights, "detach") else weights
    n = weights.shape[-1]
    image = ax.imshow(weights, vmin=0.0, vmax=1.0, cmap="viridis")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(tokens if xlabels else [], rotation=90, fontsize=fontsize)
    ax.set_yticklabels(tokens if ylabels else [], fontsize=fontsize)
    ax.grid(False)
    return image


def plot_attention_grid(attentions, tokens: Sequence[str], *, batch_index: int = 0,
                        title: str | None = None):
    """One heatmap per (layer, head): rows are layers, columns are heads.

    ``attentions`` is ``outputs.attentions`` (a tuple with one ``(batch, heads, query, key)``
    tensor per layer); ``tokens`` labels the positions, special tokens included. Queries
    run down each heatmap, keys across. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    stack = _attention_stack(attentions, batch_index)
    n_layers, n_heads, n_query, _ = stack.shape
    tokens = _check_tokens(tokens, n_query)
    # Size each cell from the sequence length so labels stay readable at 2x4 and 6x12.
    cell = min(2.6, max(1.3, 0.16 * n_query + 0.6))
    fontsize = max(5.0, min(9.0, 110 / max(n_query, 1) / max(1.0, n_heads / 6)))
    fig, axes = plt.subplots(n_layers, n_heads, squeeze=False,
                             figsize=(cell * n_heads + 1.5, cell * n_layers + 1.0))
    for layer in range(n_layers):
        for head in range(n_heads):
            ax = axes[layer, head]
            image = plot_attention_head(ax, stack[layer, head], tokens,
                                        xlabels=layer == n_layers - 1, ylabels=head == 0,
                                        fontsize=fontsize)
            if layer == 0:
                ax.set_title(f"head {head}", fontsize=fontsize + 2)
            if head == 0:
                ax.set_ylabel(f"layer {layer}\nquery", fontsize=fontsize + 2)
            if layer == n_layers - 1:
                ax.set_xlabel("key", fontsize=fontsize + 1)
    fig.colorbar(image, ax=axes, shrink=0.6, label="attention weight")
    fig.suptitle(title or f"Attention weights: {n_layers} layers x {n_heads} heads")
    return fig
