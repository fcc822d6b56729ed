"""Exercise checks for notebook 04 · Hidden states and attention.

Every check works out the right answer itself from the objects it is given (the model's
config, ``outputs.hidden_states``, ``outputs.attentions``, the model's own projections), so
it stays right in tiny and in full mode.
"""

from __future__ import annotations

import math

from ..checks import CheckResult, as_int, check_close, check_shape, exercise, fail, unanswered

# --------------------------------------------------------------------------------------------
# small helpers


def _int(value, name: str) -> int:
    return as_int(value, name, float_hint="sizes and positions are ints. Use integer division "
                                          "(//) or int(...).")


def _as_shape(value, name: str) -> tuple[int, ...]:
    """A shape given as torch.Size, tuple or list of ints, as a tuple of ints."""
    if hasattr(value, "shape") and not isinstance(value, (tuple, list)):
        fail(f"{name} should be a shape (a tuple such as (1, 8, 32)), not the tensor itself: "
             "write its .shape, or build the tuple from the config.")
    if not isinstance(value, (tuple, list)):
        fail(f"{name} should be a tuple of ints such as (1, 8, 32), got a "
             f"{type(value).__name__} ({value!r}).")
    return tuple(_int(d, f"each entry of {name}") for d in value)


def _require(outputs, field: str, flag: str) -> tuple:
    values = getattr(outputs, field, None)
    if not values:
        raise ValueError(
            f"outputs.{field} is empty or missing. Call the model with {flag}=True (and, for "
            "attentions, load it with attn_implementation='eager')."
        )
    return values


# --------------------------------------------------------------------------------------------
# Exercise: how many hidden states, and the shape of one attention tensor


def check_hidden_count_and_attention_shape(n_hidden_states, attention_shape, outputs,
                                           config) -> CheckResult:
    """How many tensors ``outputs.hidden_states`` holds, and the shape of ``outputs.attentions[k]``.

    ``outputs`` is the model output for the notebook's single sentence, called with
    ``output_hidden_states=True`` and ``output_attentions=True``; ``config`` is ``model.config``.
    """
    title = "Count the hidden states, shape an attention tensor"
    answer = ... if unanswered(n_hidden_states) or unanswered(attention_shape) else (
        n_hidden_states, attention_shape)
    hidden_states = _require(outputs, "hidden_states", "output_hidden_states")
    attentions = _require(outputs, "attentions", "output_attentions")
    n_layers = config.num_hidden_layers
    expected_n = len(hidden_states)
    expected_shape = tuple(int(d) for d in attentions[0].shape)
    batch, n_heads, seq, _ = expected_shape
    dim = config.hidden_size
    d_k = dim // n_heads

    def check(answer):
        n, shape = answer
        n = _int(n, "n_hidden_states")
        if n != expected_n:
            if n == n_layers:
                fail(f"n_hidden_states is {n}, one short. Besides one output per layer "
                     f"({n_layers} layers), hidden_states starts with the embedding output "
                     "(hidden_states[0], the input to the first layer): n_layers + 1. (It is "
                     "attentions that has one entry per layer and nothing more.)")
            if n == n_layers + 2:
                fail(f"n_hidden_states is {n}, one too many. last_hidden_state is not an extra "
                     "entry: it is hidden_states[-1]. The count is n_layers + 1.")
            fail(f"n_hidden_states is {n}, expected {expected_n}: one tensor for the "
                 "embeddings plus one per layer (config.n_layers + 1).")
        shape = _as_shape(shape, "attention_shape")
        if shape == expected_shape:
            return
        if shape == expected_shape[1:]:
            fail(f"attention_shape {shape} is missing the batch dimension, which comes first: "
                 "(batch, heads, query position, key position).")
        if len(shape) == 5 and shape[1:] == expected_shape:
            fail("attentions is a tuple, not one tensor: the layer is the index into the "
                 "tuple, and each element has four axes, (batch, heads, query, key).")
        if len(shape) == 4 and shape[0] == n_layers and shape[1:] == expected_shape[1:]:
            fail(f"The first axis of attentions[k] is the batch ({batch} here), not the layer: "
                 "the layer is the index into the tuple. The shape is (batch, heads, query, "
                 "key).")
        if shape == (batch, seq, dim):
            fail(f"{shape} is the shape of a hidden state. An attention tensor has one weight "
                 "for every (query, key) pair in every head: (batch, heads, query, key).")
        if len(shape) == 4 and shape[:3] == (batch, n_heads, seq) and shape[3] == d_k:
            fail(f"{shape} is the shape of one layer's queries or keys split into heads. The "
                 "weights compare every query with every key, so the last two axes are both "
                 "the sequence length.")
        if len(shape) == 3 and sorted(shape) == sorted((batch, n_heads, seq)):
            fail(f"attention_shape {shape} has three axes; the weights need four: one for the "
                 "query position AND one for the key position (batch, heads, query, key).")
        if len(shape) == 4 and sorted(shape) == sorted(expected_shape):
            fail(f"attention_shape {shape} has the right numbers in the wrong order. The order "
                 "is (batch, heads, query position, key position).")
        if len(shape) == 4 and shape[0] == batch and shape[2:] == (seq, seq) and shape[1] == dim:
            fail(f"The second number is {shape[1]}, the model width config.dim. That axis "
                 "counts the heads: config.n_heads.")
        if len(shape) == 4 and shape[:2] == (batch, n_heads) and shape[2:] == (seq - 2, seq - 2):
            fail(f"The sequence length is {seq}, not {seq - 2}: you left out the special "
                 "tokens. The model attends from and to [CLS] and [SEP] too.")
        fail(f"attention_shape is {shape}, expected {expected_shape}: (batch, config.n_heads, "
             "sequence length, sequence length), special tokens included.")

    return exercise(title, answer, check)


# --------------------------------------------------------------------------------------------
# Exercise: recompute one head for a padded sentence


def _head_variants(model, hidden_states, attention_mask, layer: int, head: int,
                   batch_index: int) -> dict:
    """The right attention matrix and the ones that typical mistakes produce."""
    import torch

    config = model.config
    n_heads = config.num_attention_heads
    d_k = config.hidden_size // n_heads
    attention = model.transformer.layer[layer].attention

    def scores_for(x, strided=False):
        with torch.no_grad():
            q = attention.q_lin(x[batch_index])  # (seq, dim)
            k = attention.k_lin(x[batch_index])
        seq = q.shape[0]
        if strided:  # a wrong split: every n_heads-th feature instead of one chunk of d_k
            q, k = q.view(seq, d_k, n_heads)[..., head], k.view(seq, d_k, n_heads)[..., head]
        else:
            q = q.view(seq, n_heads, d_k).transpose(0, 1)[head]  # (seq, d_k)
            k = k.view(seq, n_heads, d_k).transpose(0, 1)[head]
        return q @ k.T  # (query, key)

    raw = scores_for(hidden_states[layer])
    keep = attention_mask[batch_index].to(raw.device).bool()
    bias = torch.zeros(keep.shape, dtype=raw.dtype, device=raw.device)
    bias[~keep] = torch.finfo(raw.dtype).min
    scaled = raw / math.sqrt(d_k)
    variants = {
        "right": (scaled + bias).softmax(dim=-1),
        "no_mask": scaled.softmax(dim=-1),
        "no_scale": (raw + bias).softmax(dim=-1),
        "query_axis": (scaled + bias).softmax(dim=-2),
        "transposed": (scaled.T + bias).softmax(dim=-1),
        "strided": (scores_for(hidden_states[layer], strided=True) / math.sqrt(d_k)
                    + bias).softmax(dim=-1),
    }
    if layer + 1 < len(hidden_states):
        variants["next_input"] = (scores_for(hidden_states[layer + 1]) / math.sqrt(d_k)
                                  + bias).softmax(dim=-1)
    return variants


def check_attention_head(weights, model, outputs, attention_mask, layer: int, head: int,
                         batch_index: int) -> CheckResult:
    """One head's (query, key) attention matrix, recomputed by hand for one sentence.

    ``outputs`` is the model output for the padded batch (with ``output_hidden_states`` and
    ``output_attentions``); ``attention_mask`` is that batch's mask.
    """
    import torch

    title = "Recompute a head for the padded sentence"
    attentions = _require(outputs, "attentions", "output_attentions")
    hidden_states = _require(outputs, "hidden_states", "output_hidden_states")
    expected = attentions[layer][batch_index, head].detach().float().cpu()
    n_heads = attentions[layer].shape[1]

    def close(a, b) -> bool:
        return a.shape == b.shape and torch.allclose(a, b, atol=1e-5, rtol=1e-4)

    def check(answer):
        if not isinstance(answer, torch.Tensor):
            fail(f"weights should be a tensor, got a {type(answer).__name__}.")
        got = answer.detach().float().cpu()
        if got.dim() == expected.dim() + 1 and got.shape[0] == n_heads:
            fail(f"weights has shape {tuple(got.shape)}: that is every head. Select head {head} "
                 "so that one (query, key) matrix is left.")
        if got.dim() == expected.dim() + 2:
            fail(f"weights has shape {tuple(got.shape)}, which still has the batch and head "
                 f"axes. Select sentence {batch_index} and head {head}.")
        check_shape(got, expected.shape, "weights")
        if close(got, expected):
            return
        for b in range(attentions[layer].shape[0]):
            for h in range(n_heads):
                if (b, h) != (batch_index, head) and close(
                        got, attentions[layer][b, h].detach().float().cpu()):
                    fail(f"That is the matrix of sentence {b}, head {h}. Index the batch "
                         f"(sentence) first, then the head: sentence {batch_index}, head {head}.")
        for other in range(len(attentions)):
            if other != layer and close(got, attentions[other][batch_index, head].detach()
                                        .float().cpu()):
                fail(f"That is layer {other}'s matrix. For layer {layer}, start from "
                     f"hidden_states[{layer}] and use model.transformer.layer[{layer}].attention.")
        variants = {name: v.float().cpu() for name, v in _head_variants(
            model, hidden_states, attention_mask, layer, head, batch_index).items()}
        if close(got, variants["no_mask"]):
            fail("The padded keys get weight: apply the attention mask before the softmax. Add "
                 "torch.finfo(scores.dtype).min to the scores of keys where attention_mask is 0 "
                 "(the key axis, the last one), as the model does.")
        if close(got, variants["no_scale"]):
            fail("Almost: divide the scores by sqrt(d_k) before the softmax.")
        if close(got, variants["query_axis"]):
            fail("The softmax runs over the wrong axis: the columns sum to 1 instead of the "
                 "rows. Each query (row) spreads its attention over the keys: softmax(dim=-1).")
        if close(got, variants["transposed"]):
            fail("You computed K Q^T, whose rows are keys. The scores are Q K^T: row i, "
                 "column j is query i dotted with key j.")
        if close(got, variants["strided"]):
            fail("The heads are split the wrong way. Each head owns one consecutive chunk of "
                 "d_k features: view(seq, n_heads, d_k), not view(seq, d_k, n_heads).")
        if "next_input" in variants and close(got, variants["next_input"]):
            fail(f"You started from hidden_states[{layer + 1}], which is the OUTPUT of layer "
                 f"{layer}. The input of layer {layer} is hidden_states[{layer}] "
                 "(hidden_states[0] is the embeddings, the input of layer 0).")
        sums = got.sum(dim=-1)
        if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
            fail("The rows of weights do not sum to 1, so the softmax over the key axis "
                 "(dim=-1) is missing or was applied to something else.")
        check_close(got, expected, "weights", atol=1e-5)

    return exercise(title, weights, check)


# --------------------------------------------------------------------------------------------
# Exercise: which key does a query attend to most


def check_top_key(top_key, attentions, layer: int, head: int, query: int,
                  batch_index: int = 0) -> CheckResult:
    """The key position that ``query`` gives the largest weight in ``layer``, ``head``."""
    if not attentions:
        raise ValueError("attentions is empty: load the model with attn_implementation='eager' "
                         "and call it with output_attentions=True.")
    title = "The most-attended key"
    matrix = attentions[layer][batch_index, head].detach().float().cpu()  # (query, key)
    row = matrix[query]
    expected = int(row.argmax())
    n_keys = row.shape[0]

    def check(answer):
        if isinstance(answer, str):
            fail(f"Give the key's position (an int from 0 to {n_keys - 1}), not the token "
                 f"{answer!r}; tokens[top_key] turns the position into its token.")
        value = _int(answer, "top_key")
        if value == expected:
            return
        if not 0 <= value < n_keys:
            fail(f"top_key is {value}, but the positions run from 0 to {n_keys - 1}.")
        if value == int(matrix[:, query].argmax()):
            fail(f"You took the argmax down column {query}, over the queries. Row {query} holds "
                 f"how query {query} spreads its attention over the keys: "
                 f"attentions[layer][0, head, {query}].argmax() (the last axis).")
        n_layers, n_heads = len(attentions), attentions[0].shape[1]
        if head < n_layers and layer < n_heads and value == int(
                attentions[head][batch_index, layer, query].argmax()):
            fail("That is the answer for layer and head swapped. attentions has one tensor per "
                 "layer: index the layer first, then batch, head, query: "
                 "attentions[layer][0, head, query].")
        fail(f"Key {value} gets weight {float(row[value]):.4f} from query {query}, but key "
             f"{expected} gets more ({float(row[expected]):.4f}). Take the argmax over the "
             "last axis of attentions[layer][0, head, query].")

    return exercise(title, top_key, check)
