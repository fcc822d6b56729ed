"""Exercise checks for notebook 03 · Batching.

Each check works out the right answer itself from the batch, tokenizer or model it is given,
and explains the typical mistakes: counting real tokens instead of padding, leaving out the
batch dimension, reading the feed-forward size from the config, padding only to the longest
text, cutting the token ids by hand instead of letting the tokenizer truncate.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

from ..checks import CheckResult, as_count, exercise, fail

__all__ = ["check_padding_count", "check_hidden_shape", "check_truncated_batch"]


def _mask_of(batch):
    try:
        return batch["attention_mask"]
    except (KeyError, TypeError, IndexError):
        raise ValueError("Pass the batch the tokenizer returned (it has an 'attention_mask').") from None


def check_padding_count(answer, batch) -> CheckResult:
    """Exercise: how many padding tokens does ``batch`` hold, in all its rows together?"""

    def check(value):
        mask = _mask_of(batch)
        n_rows = int(mask.shape[0])
        value = as_count(value, n_parts=n_rows, per_part=(
            "You have one number per sentence. The question asks for the padding tokens in "
            "the whole batch: add them up (`.sum()`)."))
        n_padding = int((mask == 0).sum())
        n_real = int((mask == 1).sum())
        n_total = int(mask.numel())
        if value == n_padding:
            return
        if value == n_real:
            fail(f"{value} is the number of real tokens (the 1s in the attention mask). "
                 "Padding is where the mask is 0.")
        if value == n_total:
            fail(f"{value} is every position in the batch (rows x columns). Count only the "
                 "positions where the attention mask is 0.")
        if value == n_real - 2 * n_rows:
            fail(f"{value} is the number of real tokens without [CLS] and [SEP]. The question "
                 "asks for padding: the 0s in the attention mask.")
        per_row = (mask == 0).sum(dim=1).tolist()
        if value in per_row:
            fail(f"{value} is the padding of one sentence only. Count the padding in every "
                 "row of the batch.")
        fail(f"{value} is not the number of padding tokens. Hint: padding is where "
             "`attention_mask` is 0; count those positions over the whole batch.")

    return exercise("Exercise 1 · Count the padding", answer, check)


def _as_shape(answer) -> tuple[int, ...]:
    import torch

    if isinstance(answer, torch.Tensor):
        fail("Your answer is a tensor. Give its shape as a tuple of numbers, worked out from "
             "the batch and `model.config` (e.g. `(rows, columns, size)`).")
    if not isinstance(answer, (tuple, list, torch.Size)):
        fail(f"Your answer is a {type(answer).__name__}; give the shape as a tuple of ints, "
             "like `(2, 7, 32)`.")
    if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in answer):
        fail(f"Every entry of the shape should be an int; got {tuple(answer)!r}.")
    return tuple(int(d) for d in answer)


def check_hidden_shape(answer, batch, model) -> CheckResult:
    """Exercise: the shape of ``model(**batch).last_hidden_state``, without running the model.

    ``model`` may be the model or its config.
    """

    def check(value):
        value = _as_shape(value)
        config = getattr(model, "config", model)
        hidden = getattr(config, "dim", None) or config.hidden_size
        n_rows, seq_len = (int(d) for d in batch["input_ids"].shape)
        expected = (n_rows, seq_len, hidden)
        if value == expected:
            return
        if len(value) == 2:
            if value == (seq_len, hidden):
                fail(f"{value} leaves out the batch dimension: the model returns one "
                     f"{seq_len} x {hidden} matrix per sentence, and the batch size comes first.")
            if value == (n_rows, seq_len):
                fail(f"{value} is the shape of `input_ids`. The model turns every token id into "
                     "a vector, which adds a third dimension.")
        if len(value) != 3:
            fail(f"last_hidden_state has three dimensions (batch, seq_len, hidden); your "
                 f"answer {value} has {len(value)}.")
        if sorted(value) == sorted(expected):
            fail(f"{value} has the right numbers in the wrong order. The order is "
                 "(batch, seq_len, hidden): the batch dimension first, the vector size last.")
        b, s, h = value
        hidden_ffn = getattr(config, "hidden_dim", None)
        if h != hidden and h == hidden_ffn:
            fail(f"{h} is `config.hidden_dim`, the width of the feed-forward layer inside each "
                 f"block. The hidden states have size `config.dim` ({hidden}).")
        if h != hidden and h == getattr(config, "vocab_size", None):
            fail(f"{h} is the vocabulary size: that is the last dimension of a language-model "
                 "head's logits. `AutoModel` has no head; its hidden states have size "
                 "`config.dim`.")
        if h != hidden:
            fail(f"The last entry should be the hidden size, `model.config.dim`; {h} is not it.")
        if b != n_rows:
            fail(f"The first entry is the batch size, the number of sentences ({n_rows}); "
                 f"you have {b}.")
        if s != seq_len:
            real_lengths = batch["attention_mask"].sum(dim=1).tolist()
            if s in real_lengths:
                fail(f"{s} is the length of one sentence. Every row of a padded batch has the "
                     "same length: `input_ids.shape[1]`, padding included.")
            if s == getattr(config, "max_position_embeddings", None):
                fail(f"{s} is the longest input the model accepts. `padding=True` pads only to "
                     "the longest sentence in this batch: use `input_ids.shape[1]`.")
            fail(f"The middle entry is the padded sequence length, `input_ids.shape[1]`; "
                 f"{s} is not it.")
        fail(f"{value} is not the shape of last_hidden_state.")  # pragma: no cover

    return exercise("Exercise 2 · Predict the output shape", answer, check)


def check_truncated_batch(answer, tokenizer, texts, max_length: int) -> CheckResult:
    """Exercise: tokenize ``texts`` so every row has exactly ``max_length`` tokens, as tensors."""

    def check(value):
        import torch

        if not isinstance(value, Mapping) or "input_ids" not in value:
            fail("Your answer should be what the tokenizer returns: a BatchEncoding with "
                 "`input_ids` and `attention_mask`.")
        ids = value["input_ids"]
        if not isinstance(ids, torch.Tensor):
            fail(f"`input_ids` is a {type(ids).__name__}, not a tensor: pass "
                 "`return_tensors=\"pt\"`.")
        if "attention_mask" not in value:
            fail("The batch has no `attention_mask`. Without it the model cannot tell padding "
                 "from real tokens; don't remove it.")
        if ids.dim() != 2 or ids.shape[0] != len(texts):
            fail(f"`input_ids` has shape {tuple(ids.shape)}; expected one row per text "
                 f"({len(texts)} rows). Tokenize the whole list `texts` in one call.")
        width = int(ids.shape[1])
        if width > max_length:
            fail(f"Your rows have {width} tokens, more than max_length={max_length}. Long texts "
                 "are cut only with `truncation=True` (and `max_length=...`).")
        if width < max_length:
            fail(f"Your rows have {width} tokens, fewer than max_length={max_length}. "
                 "`padding=True` pads only to the longest text in the batch; "
                 "`padding=\"max_length\"` pads every row to `max_length`.")
        expected = tokenizer(texts, padding="max_length", truncation=True,
                             max_length=max_length, return_tensors="pt")
        ids = ids.detach().cpu()
        mask = value["attention_mask"].detach().cpu()
        if not torch.equal(ids, expected["input_ids"]):
            untruncated = tokenizer(texts, padding=True, return_tensors="pt")["input_ids"]
            if untruncated.shape[1] >= max_length and torch.equal(
                    ids, untruncated[:, :max_length]):
                fail(f"Cutting the token ids by hand drops the final {tokenizer.sep_token!r} of "
                     "long rows. Let the tokenizer truncate (`truncation=True`): it keeps the "
                     "special tokens and cuts the text.")
            fail("The token ids differ from the expected ones. Tokenize `texts` with this "
                 "tokenizer, with truncation and padding to `max_length`.")
        if not torch.equal(mask, expected["attention_mask"]):
            fail("`input_ids` are right but `attention_mask` is not: it should be 1 for every "
                 "real token and 0 for every padding token. Use the mask the tokenizer made.")

    return exercise("Exercise 3 · Rows of a fixed length", answer, check)
