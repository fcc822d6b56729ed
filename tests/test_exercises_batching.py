"""Checks of notebook 03 · Batching: right answers pass, typical mistakes are explained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch
from transformers import AutoConfig, AutoTokenizer

import lecture_utils as lu
from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import batching as ex

TEXTS = [
    "I love this movie!",
    "The food was terrible and the service was slow.",
    "Why not?",
    "Once upon a time there was a king who lived in a castle by the sea.",
]


@pytest.fixture(scope="module")
def checkpoint():
    return lu.checkpoint("distilbert/distilbert-base-cased")


@pytest.fixture(scope="module")
def tokenizer(checkpoint):
    return AutoTokenizer.from_pretrained(checkpoint)


@pytest.fixture(scope="module")
def config(checkpoint):
    return AutoConfig.from_pretrained(checkpoint)


@pytest.fixture(scope="module")
def batch(tokenizer):
    return tokenizer(TEXTS, padding=True, return_tensors="pt")


NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "03_batching.ipynb"

# The checker prints these titles; the notebook's "### Exercise N · Title" headings must match.
TITLES = [
    "Exercise 1 · Count the padding",
    "Exercise 2 · Predict the output shape",
    "Exercise 3 · Rows of a fixed length",
]


def wrong(check, *args, match):
    with pytest.raises(ExerciseError, match=match):
        check(*args)


def test_titles_match_the_notebook_headings():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    headings = re.findall(r"^### (Exercise \d+ · .+?)\s*$", markdown, flags=re.MULTILINE)
    assert headings == TITLES


def test_checks_print_their_titles(batch, config, tokenizer, capsys):
    rows, columns = (int(d) for d in batch["input_ids"].shape)
    assert ex.check_padding_count(int((batch["attention_mask"] == 0).sum()), batch)
    assert ex.check_hidden_shape((rows, columns, config.dim), batch, config)
    fixed = tokenizer(TEXTS, padding="max_length", truncation=True, max_length=8,
                      return_tensors="pt")
    assert ex.check_truncated_batch(fixed, tokenizer, TEXTS, 8)
    out = capsys.readouterr().out
    assert [line.split(" ", 1)[1] for line in out.splitlines()] == [
        f"{title}: correct!" for title in TITLES]


# Exercise 1: padding count -------------------------------------------------------------


def test_padding_count_right_answer(batch):
    n_padding = int((batch["attention_mask"] == 0).sum())
    assert n_padding > 0
    assert ex.check_padding_count(n_padding, batch)
    # A 0-d tensor is accepted too: it is what `(mask == 0).sum()` gives.
    assert ex.check_padding_count((batch["attention_mask"] == 0).sum(), batch)


def test_padding_count_unanswered(batch):
    assert not ex.check_padding_count(..., batch)


def test_padding_count_real_tokens(batch):
    n_real = int(batch["attention_mask"].sum())
    wrong(ex.check_padding_count, n_real, batch, match="real tokens")


def test_padding_count_every_position(batch):
    wrong(ex.check_padding_count, batch["attention_mask"].numel(), batch,
          match="every position")


def test_padding_count_without_special_tokens(batch):
    n = int(batch["attention_mask"].sum()) - 2 * len(TEXTS)
    wrong(ex.check_padding_count, n, batch, match=r"without \[CLS\] and \[SEP\]")


def test_padding_count_per_sentence(batch):
    per_row = (batch["attention_mask"] == 0).sum(dim=1)
    wrong(ex.check_padding_count, per_row, batch, match="one number per sentence")
    wrong(ex.check_padding_count, per_row.tolist(), batch, match="one number per sentence")


def test_padding_count_one_row_only(batch):
    per_row = (batch["attention_mask"] == 0).sum(dim=1).tolist()
    wrong(ex.check_padding_count, max(per_row), batch, match="one sentence only")


def test_padding_count_not_a_number(batch):
    wrong(ex.check_padding_count, "12", batch, match="whole number")
    wrong(ex.check_padding_count, True, batch, match="bool")


def test_padding_count_other_number(batch):
    wrong(ex.check_padding_count, 10_000, batch, match="attention_mask` is 0")


# Exercise 2: shape of last_hidden_state ------------------------------------------------


def test_hidden_shape_right_answer(batch, config):
    rows, columns = batch["input_ids"].shape
    assert ex.check_hidden_shape((rows, columns, config.dim), batch, config)
    assert ex.check_hidden_shape(torch.Size([rows, columns, config.dim]), batch, config)
    assert ex.check_hidden_shape([int(rows), int(columns), config.dim], batch, config)


def test_hidden_shape_accepts_a_model(batch, checkpoint):
    from transformers import AutoModel

    model = AutoModel.from_pretrained(checkpoint)
    rows, columns = batch["input_ids"].shape
    assert ex.check_hidden_shape((rows, columns, model.config.dim), batch, model)


def test_hidden_shape_unanswered(batch, config):
    assert not ex.check_hidden_shape(..., batch, config)


def test_hidden_shape_missing_batch_dimension(batch, config):
    _, columns = batch["input_ids"].shape
    wrong(ex.check_hidden_shape, (int(columns), config.dim), batch, config,
          match="leaves out the batch dimension")


def test_hidden_shape_input_ids_shape(batch, config):
    wrong(ex.check_hidden_shape, tuple(batch["input_ids"].shape), batch, config,
          match="shape of `input_ids`")


def test_hidden_shape_wrong_order(batch, config):
    rows, columns = (int(d) for d in batch["input_ids"].shape)
    wrong(ex.check_hidden_shape, (columns, rows, config.dim), batch, config,
          match="wrong order")


def test_hidden_shape_feed_forward_size(batch, config):
    rows, columns = (int(d) for d in batch["input_ids"].shape)
    assert config.hidden_dim != config.dim
    wrong(ex.check_hidden_shape, (rows, columns, config.hidden_dim), batch, config,
          match="feed-forward")


def test_hidden_shape_vocab_size(batch, config):
    rows, columns = (int(d) for d in batch["input_ids"].shape)
    wrong(ex.check_hidden_shape, (rows, columns, config.vocab_size), batch, config,
          match="vocabulary size")


def test_hidden_shape_one_sentence_length(batch, config):
    rows = len(TEXTS)
    shortest = int(batch["attention_mask"].sum(dim=1).min())
    wrong(ex.check_hidden_shape, (rows, shortest, config.dim), batch, config,
          match="length of one sentence")


def test_hidden_shape_model_limit(batch, config):
    wrong(ex.check_hidden_shape, (len(TEXTS), config.max_position_embeddings, config.dim),
          batch, config, match="longest input the model accepts")


def test_hidden_shape_wrong_batch_size(batch, config):
    columns = int(batch["input_ids"].shape[1])
    wrong(ex.check_hidden_shape, (1, columns, config.dim), batch, config,
          match="number of sentences")


def test_hidden_shape_tensor_or_wrong_type(batch, config):
    wrong(ex.check_hidden_shape, torch.zeros(2, 3, 4), batch, config, match="is a tensor")
    wrong(ex.check_hidden_shape, "(4, 19, 32)", batch, config, match="tuple of ints")
    wrong(ex.check_hidden_shape, (1, 2, 3, 4), batch, config, match="three dimensions")


# Exercise 3: truncation to max_length ---------------------------------------------------

MAX_LENGTH = 8


def test_truncated_right_answer(tokenizer):
    answer = tokenizer(TEXTS, padding="max_length", truncation=True, max_length=MAX_LENGTH,
                       return_tensors="pt")
    assert ex.check_truncated_batch(answer, tokenizer, TEXTS, MAX_LENGTH)


def test_truncated_padding_true_is_fine_when_a_text_is_long_enough(tokenizer):
    # With at least one text longer than max_length, padding=True gives the same batch.
    answer = tokenizer(TEXTS, padding=True, truncation=True, max_length=MAX_LENGTH,
                       return_tensors="pt")
    assert ex.check_truncated_batch(answer, tokenizer, TEXTS, MAX_LENGTH)


def test_truncated_unanswered(tokenizer):
    assert not ex.check_truncated_batch(..., tokenizer, TEXTS, MAX_LENGTH)


def test_truncated_not_a_batch(tokenizer):
    wrong(ex.check_truncated_batch, [[2, 3]], tokenizer, TEXTS, MAX_LENGTH,
          match="BatchEncoding")


def test_truncated_lists_not_tensors(tokenizer):
    answer = tokenizer(TEXTS, padding="max_length", truncation=True, max_length=MAX_LENGTH)
    wrong(ex.check_truncated_batch, answer, tokenizer, TEXTS, MAX_LENGTH,
          match="return_tensors")


def test_truncated_without_truncation(tokenizer):
    answer = tokenizer(TEXTS, padding=True, return_tensors="pt")
    wrong(ex.check_truncated_batch, answer, tokenizer, TEXTS, MAX_LENGTH,
          match="truncation=True")


def test_truncated_padding_only_to_longest(tokenizer):
    short_texts = ["Why not?", "Yes, please."]
    answer = tokenizer(short_texts, padding=True, truncation=True, max_length=MAX_LENGTH,
                       return_tensors="pt")
    assert answer["input_ids"].shape[1] < MAX_LENGTH
    wrong(ex.check_truncated_batch, answer, tokenizer, short_texts, MAX_LENGTH,
          match="padding=\"max_length\"")


def test_truncated_by_slicing(tokenizer):
    full = tokenizer(TEXTS, padding=True, return_tensors="pt")
    answer = {key: value[:, :MAX_LENGTH] for key, value in full.items()}
    wrong(ex.check_truncated_batch, answer, tokenizer, TEXTS, MAX_LENGTH,
          match="by hand")


def test_truncated_missing_mask(tokenizer):
    full = tokenizer(TEXTS, padding="max_length", truncation=True, max_length=MAX_LENGTH,
                     return_tensors="pt")
    wrong(ex.check_truncated_batch, {"input_ids": full["input_ids"]}, tokenizer, TEXTS,
          MAX_LENGTH, match="no `attention_mask`")


def test_truncated_wrong_mask(tokenizer):
    full = tokenizer(TEXTS, padding="max_length", truncation=True, max_length=MAX_LENGTH,
                     return_tensors="pt")
    answer = {"input_ids": full["input_ids"],
              "attention_mask": torch.ones_like(full["attention_mask"])}
    wrong(ex.check_truncated_batch, answer, tokenizer, TEXTS, MAX_LENGTH,
          match="`attention_mask` is not")


def test_truncated_wrong_texts(tokenizer):
    answer = tokenizer(TEXTS[:3], padding="max_length", truncation=True,
                       max_length=MAX_LENGTH, return_tensors="pt")
    wrong(ex.check_truncated_batch, answer, tokenizer, TEXTS, MAX_LENGTH,
          match="one row per text")
    other = tokenizer(list(reversed(TEXTS)), padding="max_length", truncation=True,
                      max_length=MAX_LENGTH, return_tensors="pt")
    wrong(ex.check_truncated_batch, other, tokenizer, TEXTS, MAX_LENGTH,
          match="token ids differ")
