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


def _color_max(stack) -> float:
    """Top of a shared colour scale for attention weights: the largest weight (at most 1)."""
    return min(1.0, max(float(stack.max()), 1e-6))


def plot_attention_head(ax, weights, tokens: Sequence[str], *, xlabels: bool = True,
                        ylabels: bool = True, fontsize: float = 8, vmax: float = 1.0):
    """Draw one (query, key) attention matrix on ``ax`` with token labels.

    Colours run from 0 to ``vmax`` (an attention weight, at most 1); returns the image, for
    a colour bar.
    """
    weights = weights.detach().float().cpu().numpy() if hasattr(weights, "detach") else weights
    n = weights.shape[-1]
    image = ax.imshow(weights, vmin=0.0, vmax=vmax, cmap="viridis")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xticklabels(tokens if xlabels else [], rotation=90, fontsize=fontsize)
    ax.set_yticklabels(tokens if ylabels else [], fontsize=fontsize)
    ax.grid(False)
    return image


MAX_GRID_WIDTH = 13.0  # inches: about a notebook's width at the course's 100 dpi


def plot_attention_grid(attentions, tokens: Sequence[str], *, batch_index: int = 0,
                        title: str | None = None):
    """One heatmap per (layer, head): rows are layers, columns are heads.

    ``attentions`` is ``outputs.attentions`` (a tuple with one ``(batch, heads, query, key)``
    tensor per layer); ``tokens`` labels the positions, special tokens included. Queries
    run down each heatmap, keys across. All heatmaps share one colour scale, from 0 to the
    largest weight in the grid (shown on the colour bar), so the heads compare at a glance
    even when no weight comes near 1. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    stack = _attention_stack(attentions, batch_index)
    n_layers, n_heads, n_query, _ = stack.shape
    vmax = _color_max(stack)
    tokens = _check_tokens(tokens, n_query)
    # Size each heatmap from the sequence length, but keep the figure within about 13 inches:
    # a notebook shows a wider figure shrunk to its width, labels and all. The labels' font
    # then fills about three quarters of each row's height (72 points to the inch).
    cell = min(2.6, max(1.3, 0.16 * n_query + 0.6), (MAX_GRID_WIDTH - 1.5) / n_heads)
    fontsize = max(5.0, min(9.0, 0.75 * cell * 72 / max(n_query, 1)))
    fig, axes = plt.subplots(n_layers, n_heads, squeeze=False, layout="constrained",
                             figsize=(cell * n_heads + 1.5, cell * n_layers + 1.0))
    for layer in range(n_layers):
        for head in range(n_heads):
            ax = axes[layer, head]
            image = plot_attention_head(ax, stack[layer, head], tokens,
                                        xlabels=layer == n_layers - 1, ylabels=head == 0,
                                        fontsize=fontsize, vmax=vmax)
            if layer == 0:
                ax.set_title(f"head {head}", fontsize=fontsize + 2)
            if head == 0:
                ax.set_ylabel(f"layer {layer}\nquery", fontsize=fontsize + 2)
            if layer == n_layers - 1:
                ax.set_xlabel("key", fontsize=fontsize + 1)
    fig.colorbar(image, ax=axes, shrink=0.6, label="attention weight")
    fig.suptitle(title or f"Attention weights: {n_layers} layers x {n_heads} heads")
    return fig


# --------------------------------------------------------------------------- training


def _numbers(values, what: str) -> list[float]:
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a sequence of numbers, got {values!r}.") from None
    return out


def plot_loss_curves(train_steps: Sequence[float], train_losses: Sequence[float], *,
                     val_steps: Sequence[float] = (), val_losses: Sequence[float] = (),
                     xlabel: str = "optimizer step", title: str = "Loss during training"):
    """Training loss per step (thin line) and validation loss at its steps (dots).

    Pass the x positions explicitly (``train_steps``, ``val_steps``) so both curves share
    one axis: validation usually runs once per epoch, at the step where the epoch ends.
    Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    train_steps, train_losses = (_numbers(train_steps, "train_steps"),
                                 _numbers(train_losses, "train_losses"))
    val_steps, val_losses = _numbers(val_steps, "val_steps"), _numbers(val_losses, "val_losses")
    if len(train_steps) != len(train_losses) or len(val_steps) != len(val_losses):
        raise ValueError(
            f"Each curve needs one x per y: got {len(train_steps)} train steps for "
            f"{len(train_losses)} train losses and {len(val_steps)} validation steps for "
            f"{len(val_losses)} validation losses."
        )
    if not train_losses and not val_losses:
        raise ValueError("Nothing to plot: both loss lists are empty. Did the loop record them?")
    fig, ax = plt.subplots()
    if train_losses:
        ax.plot(train_steps, train_losses, lw=1, alpha=0.8, label="training loss (per batch)")
    if val_losses:
        ax.plot(val_steps, val_losses, "o-", lw=2, label="validation loss")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title)
    ax.legend()
    return fig


def plot_log_history(log_history: Sequence[dict], *, metrics: Sequence[str] = ("eval_accuracy",)):
    """Plot ``trainer.state.log_history``: training and validation loss, plus ``metrics``.

    Training entries carry ``loss``, evaluation entries ``eval_loss`` and the metrics that
    ``compute_metrics`` returned (prefixed ``eval_``); each entry has its ``step``.
    Returns the matplotlib figure (losses on the left axis, metrics on the right).

    Raises ValueError if ``metrics`` are asked for but the log has no evaluation entries
    (pass ``metrics=()`` to plot the losses only), and KeyError naming the metric and the
    step of an evaluation entry that lacks one of them.
    """
    import matplotlib.pyplot as plt

    if not isinstance(log_history, Sequence) or not all(isinstance(e, dict) for e in log_history):
        raise TypeError("Pass trainer.state.log_history: a list of dicts, one per log event.")
    train = [(e["step"], e["loss"]) for e in log_history if "loss" in e]
    evals = [e for e in log_history if "eval_loss" in e]
    if not train and not evals:
        raise ValueError(
            "log_history has no 'loss' or 'eval_loss' entries. Train first, and set "
            "logging_steps / eval_strategy so the Trainer logs something."
        )
    metrics = list(metrics)
    if metrics and not evals:
        raise ValueError(
            f"log_history has no evaluation entries, so there is no {metrics} to plot. Set "
            "eval_strategy (and compute_metrics) so the Trainer evaluates, or pass metrics=() "
            "to plot the training loss only."
        )
    for entry in evals:
        missing = [m for m in metrics if m not in entry]
        if missing:
            raise KeyError(f"No {missing} in the evaluation entry of step {entry.get('step')}; "
                           f"it holds {sorted(k for k in entry if k.startswith('eval_'))}.")
    fig, ax = plt.subplots(figsize=(8, 4.5), layout="constrained")
    if train:
        ax.plot([s for s, _ in train], [loss for _, loss in train], lw=1, label="training loss")
    if evals:
        ax.plot([e["step"] for e in evals], [e["eval_loss"] for e in evals], "o-", lw=2,
                label="validation loss")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("loss")
    handles, labels = ax.get_legend_handles_labels()
    if evals and metrics:
        ax2 = ax.twinx()
        # Colours after the two loss curves' C0 and C1. Each metric also gets its own marker
        # and line style, each a little smaller than the one before, so that metrics with
        # equal values (accuracy and F1 both 1.0, say) stay visible one inside the other.
        styles = [("s", "--"), ("^", ":"), ("D", "-."), ("v", (0, (3, 1, 1, 1)))]
        for i, m in enumerate(metrics):
            marker, linestyle = styles[i % len(styles)]
            ax2.plot([e["step"] for e in evals], [e[m] for e in evals], marker=marker,
                     linestyle=linestyle, markersize=max(10 - 2.5 * i, 3),
                     markerfacecolor="none" if i == 0 else None, label=m, color=f"C{i + 2}")
        ax2.set_ylim(0, 1.05)
        ax2.set_ylabel("metric")
        ax2.grid(False)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    # Beside the plot, not on it: inside, some curve always runs through the legend.
    fig.legend(handles, labels, loc="outside right upper")
    ax.set_title("Trainer log history")
    return fig


def plot_confusion_matrix(labels: Sequence[int], predictions: Sequence[int],
                          class_names: Sequence[str], *, title: str = "Confusion matrix"):
    """Counts of (true class, predicted class) pairs as an annotated heatmap.

    Rows are the true classes, columns the predictions; the diagonal holds the correct
    answers. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt
    import numpy as np

    labels = np.asarray(labels).reshape(-1)
    predictions = np.asarray(predictions).reshape(-1)
    n = len(class_names)
    if labels.shape != predictions.shape:
        raise ValueError(f"Got {labels.size} labels but {predictions.size} predictions: "
                         "pass one prediction per example (argmax over the logits).")
    if labels.size == 0:
        raise ValueError("No examples: labels and predictions are empty.")
    for name, arr in (("labels", labels), ("predictions", predictions)):
        if not np.issubdtype(arr.dtype, np.integer) or arr.min() < 0 or arr.max() >= n:
            raise ValueError(
                f"{name} must be class ids 0..{n - 1} (one per example) for the {n} classes "
                f"{list(class_names)}; got values {sorted(set(arr.tolist()))[:10]}. For "
                "logits, take predictions = logits.argmax(-1)."
            )
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (labels, predictions), 1)
    fig, ax = plt.subplots(figsize=(1.3 * n + 2.5, 1.3 * n + 1.5))
    ax.imshow(counts, cmap="Blues")
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(counts[i, j]), ha="center", va="center",
                    color="white" if counts[i, j] > counts.max() / 2 else "black")
    ax.set_xticks(range(n), labels=list(class_names))
    ax.set_yticks(range(n), labels=list(class_names))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.grid(False)
    ax.set_title(f"{title} (accuracy {np.trace(counts) / counts.sum():.2f})")
    return fig


# --------------------------------------------------------------------------- generation


def _probability_vector(probs, what: str = "probs"):
    """Validate one next-token distribution and return it as a 1-D float CPU tensor."""
    import torch

    if hasattr(probs, "detach"):
        vector = probs.detach().float().cpu()
    else:
        try:
            vector = torch.as_tensor(probs, dtype=torch.float32)
        except (TypeError, ValueError):
            raise TypeError(f"{what} must be a tensor of probabilities, got "
                            f"{type(probs).__name__}.") from None
    if vector.dim() == 2 and vector.shape[0] == 1:
        vector = vector[0]
    if vector.dim() != 1:
        raise ValueError(
            f"{what} must be one probability vector over the vocabulary, shape (vocab,); got "
            f"shape {tuple(vector.shape)}. For a model output, take the last position of one "
            "sequence first: logits[0, -1].softmax(-1)."
        )
    if torch.isnan(vector).any():
        raise ValueError(f"{what} contains NaN values.")
    if (vector < 0).any() or abs(float(vector.sum()) - 1.0) > 1e-3:
        raise ValueError(
            f"{what} does not look like probabilities (they are >= 0 and sum to 1; these sum "
            f"to {float(vector[torch.isfinite(vector)].sum()):.3g}). Logits? Turn them into "
            "probabilities first: logits.softmax(dim=-1)."
        )
    return vector


def token_label(tokenizer, token_id: int) -> str:
    """A readable label for one token id: its text, quoted, so leading spaces show."""
    return repr(tokenizer.decode([int(token_id)]))


def plot_next_token_probs(probs, tokenizer, k: int = 10, *, title: str | None = None,
                          ax=None):
    """Bar chart of the ``k`` most likely next tokens of one probability vector.

    ``probs`` is a next-token distribution over the vocabulary, shape ``(vocab,)`` (for
    example ``logits[0, -1].softmax(-1)``). Each bar is labelled with the token's text in
    quotes, so a leading space is visible. Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt
    import torch

    vector = _probability_vector(probs)
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}.")
    k = min(k, vector.shape[0])
    top = torch.topk(vector, k)
    labels = [token_label(tokenizer, i) for i in top.indices.tolist()]
    values = top.values.tolist()
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.5, 0.35 * k + 1.4))
    else:
        fig = ax.figure
    positions = list(range(k))[::-1]  # the most likely token at the top
    ax.barh(positions, values, color="tab:blue")
    ax.set_yticks(positions, labels=labels)
    for y, value in zip(positions, values, strict=True):
        ax.text(value, y, f" {value:.3f}", va="center", fontsize=8)
    ax.set_xlim(0, max(values) * 1.2 if max(values) > 0 else 1)
    ax.set_xlabel("probability")
    ax.set_title(title or f"Top {k} next tokens (together {sum(values):.2f} of the probability)")
    return fig


def plot_probs_comparison(distributions, tokenizer, k: int = 10, *, title: str | None = None):
    """Grouped bars: several next-token distributions over the same ``k`` tokens.

    ``distributions`` maps a label to a probability vector of shape ``(vocab,)``, e.g.
    ``{"original": probs, "temperature 0.5": hotter}``. The tokens are the ``k`` most likely
    ones under the FIRST distribution, so you see how the others move the same tokens (a
    token filtered out by top-k or top-p shows as a missing bar: probability 0). The legend
    says for each distribution how many tokens keep a probability above 0. Returns the figure.
    """
    import matplotlib.pyplot as plt
    import torch

    if not isinstance(distributions, dict) or not distributions:
        raise TypeError("distributions must be a non-empty dict {label: probability vector}.")
    vectors = {str(name): _probability_vector(p, f"distributions[{name!r}]")
               for name, p in distributions.items()}
    sizes = {v.shape[0] for v in vectors.values()}
    if len(sizes) != 1:
        raise ValueError(f"All distributions must cover the same vocabulary; got sizes "
                         f"{sorted(sizes)}.")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}.")
    reference = next(iter(vectors.values()))
    k = min(k, reference.shape[0])
    ids = torch.topk(reference, k).indices
    labels = [token_label(tokenizer, i) for i in ids.tolist()]
    n = len(vectors)
    height = 0.8 / n
    fig, ax = plt.subplots(figsize=(7, 0.3 * k * max(n, 2) / 2 + 1.6))
    for j, (name, vector) in enumerate(vectors.items()):
        positions = [(k - 1 - i) + 0.4 - height * (j + 0.5) for i in range(k)]
        kept = int((vector > 0).sum())
        ax.barh(positions, vector[ids].tolist(), height=height,
                label=f"{name} ({kept} tokens with p > 0)")
    ax.set_yticks(list(range(k))[::-1], labels=labels)
    ax.set_xlabel("probability")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title or f"The top {k} tokens of {next(iter(vectors))!r}, compared")
    return fig
