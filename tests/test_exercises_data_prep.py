"""Checks of notebook 05 · Datasets: right answers pass, typical mistakes are explained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import datasets
import pytest
import torch
from datasets import DatasetDict, load_dataset
from torch.utils.data import DataLoader
from transformers import AutoTokenizer, DataCollatorWithPadding

import lecture_utils as lu
from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import data_prep as ex

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "05_datasets.ipynb"
SEED, N_ROWS = 1111, 32


@pytest.fixture(scope="module", autouse=True)
def quiet():
    was = datasets.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    yield
    if was:
        datasets.enable_progress_bars()


@pytest.fixture(scope="module")
def raw():
    return load_dataset(lu.dataset_path("stanfordnlp/imdb"))


@pytest.fixture(scope="module")
def test_split(raw):
    return raw["test"]


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(lu.checkpoint("distilbert/distilbert-base-cased"))


@pytest.fixture(scope="module")
def subset(test_split):
    return test_split.shuffle(seed=SEED).select(range(N_ROWS))


def tokenize_with(tokenizer, **kwargs):
    """The notebook's tokenize function; without the token_type_ids that DistilBERT ignores
    (the notebook removes that column after the map), unless asked for."""
    kwargs.setdefault("return_token_type_ids", False)

    def tokenize(batch):
        return tokenizer(batch["text"], truncation=True, **kwargs)
    return tokenize


@pytest.fixture(scope="module")
def ready(subset, tokenizer):
    out = subset.map(tokenize_with(tokenizer), batched=True, remove_columns=["text"])
    out = out.rename_column("label", "labels")
    out.set_format("torch")
    return out


@pytest.fixture(scope="module")
def eval_dataloader(raw, tokenizer):
    small = raw["train"].shuffle(seed=SEED).select(range(128, 160)).map(
        lambda example: {"text": " ".join(example["text"].split()[:50])})
    tokenized = small.map(tokenize_with(tokenizer), batched=True, remove_columns=["text"])
    tokenized = tokenized.rename_column("label", "labels")
    tokenized.set_format("torch")
    return DataLoader(tokenized, batch_size=16, collate_fn=DataCollatorWithPadding(tokenizer))


def wrong(check, *args, match, **kwargs):
    with pytest.raises(ExerciseError, match=match):
        check(*args, **kwargs)


def test_titles_match_the_notebook_headings():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    headings = re.findall(r"^### (Exercise \d+ · .+?)\s*$", markdown, flags=re.MULTILINE)
    assert headings == list(ex.TITLES)


def test_checks_print_their_titles(subset, test_split, ready, tokenizer, eval_dataloader,
                                   capsys):
    n_padding = sum(int((b["attention_mask"] == 0).sum()) for b in eval_dataloader)
    assert ex.check_subset(subset, test_split, seed=SEED, n_rows=N_ROWS)
    assert ex.check_epoch_padding(n_padding, eval_dataloader)
    assert ex.check_model_ready(ready, subset, tokenizer)
    out = capsys.readouterr().out
    assert [line.split(" ", 1)[1] for line in out.splitlines()] == [
        f"{title}: correct!" for title in ex.TITLES]


# Exercise 1: reproducible subset --------------------------------------------------------


def check_subset(answer, split):
    return ex.check_subset(answer, split, seed=SEED, n_rows=N_ROWS)


def test_subset_right_answer(subset, test_split):
    assert check_subset(subset, test_split)
    # Reproducible: the same calls give the same rows again.
    assert check_subset(test_split.shuffle(seed=SEED).select(range(N_ROWS)), test_split)


def test_subset_unanswered(test_split):
    assert not check_subset(..., test_split)


def test_subset_not_shuffled(test_split):
    wrong(check_subset, test_split.select(range(N_ROWS)), test_split, match="sorted by label")


def test_subset_selected_before_shuffling(test_split):
    answer = test_split.select(range(N_ROWS)).shuffle(seed=SEED)
    wrong(check_subset, answer, test_split, match="selected before shuffling")


def test_subset_wrong_order(subset, test_split):
    answer = subset.select(list(reversed(range(N_ROWS))))
    wrong(check_subset, answer, test_split, match="different order")


def test_subset_offset_range(test_split):
    answer = test_split.shuffle(seed=SEED).select(range(1, N_ROWS + 1))
    wrong(check_subset, answer, test_split, match="rows 1 to 32")


def test_subset_wrong_seed_or_split(raw, test_split):
    wrong(check_subset, test_split.shuffle(seed=42).select(range(N_ROWS)), test_split,
          match="seed=1111")
    wrong(check_subset, raw["train"].shuffle(seed=SEED).select(range(N_ROWS)), test_split,
          match="not another split")


def test_subset_wrong_size(test_split):
    wrong(check_subset, test_split.shuffle(seed=SEED), test_split, match="keep only the first")
    wrong(check_subset, test_split.shuffle(seed=SEED).select(range(16)), test_split,
          match="has 16 rows")


def test_subset_truncated(subset, test_split):
    answer = subset.map(lambda example: {"text": " ".join(example["text"].split()[:50])})
    wrong(check_subset, answer, test_split, match="first 50 words")


def test_subset_wrong_types(subset, test_split):
    wrong(check_subset, DatasetDict(test=subset), test_split, match="DatasetDict")
    wrong(check_subset, subset[:], test_split, match="dictionary of columns")
    wrong(check_subset, list(subset["text"]), test_split, match="should be a Dataset")
    wrong(check_subset, subset.remove_columns(["label"]), test_split, match="missing")


def test_subset_changed_labels(subset, test_split):
    answer = subset.map(lambda example: {"label": 1 - example["label"]})
    wrong(check_subset, answer, test_split, match="labels are not")


# Exercise 2: padding of one pass over a DataLoader --------------------------------------


def padding_per_batch(loader):
    return [int((b["attention_mask"] == 0).sum()) for b in loader]


def test_epoch_padding_right_answer(eval_dataloader):
    per_batch = padding_per_batch(eval_dataloader)
    assert sum(per_batch) > 0
    assert ex.check_epoch_padding(sum(per_batch), eval_dataloader)
    assert ex.check_epoch_padding(torch.tensor(sum(per_batch)), eval_dataloader)
    assert ex.check_epoch_padding(float(sum(per_batch)), eval_dataloader)


def test_epoch_padding_unanswered(eval_dataloader):
    assert not ex.check_epoch_padding(..., eval_dataloader)


def test_epoch_padding_real_tokens(eval_dataloader):
    n_real = sum(int(b["attention_mask"].sum()) for b in eval_dataloader)
    wrong(ex.check_epoch_padding, n_real, eval_dataloader, match="real tokens")


def test_epoch_padding_every_position(eval_dataloader):
    n_positions = sum(b["attention_mask"].numel() for b in eval_dataloader)
    wrong(ex.check_epoch_padding, n_positions, eval_dataloader, match="every position")


def test_epoch_padding_one_batch(eval_dataloader):
    per_batch = padding_per_batch(eval_dataloader)
    assert len(set(per_batch)) > 1 and sum(per_batch) not in per_batch
    wrong(ex.check_epoch_padding, per_batch[0], eval_dataloader, match="one batch only")


def test_epoch_padding_per_batch_list(eval_dataloader):
    per_batch = padding_per_batch(eval_dataloader)
    wrong(ex.check_epoch_padding, per_batch, eval_dataloader, match="one number per batch")
    wrong(ex.check_epoch_padding, torch.tensor(per_batch), eval_dataloader,
          match="one number per batch")


def test_epoch_padding_padded_to_the_limit(eval_dataloader, tokenizer):
    masks = [b["attention_mask"] for b in eval_dataloader]
    n_rows = sum(m.shape[0] for m in masks)
    n_real = sum(int(m.sum()) for m in masks)
    answer = n_rows * tokenizer.model_max_length - n_real
    wrong(ex.check_epoch_padding, answer, eval_dataloader, match="padded to 512")


def test_epoch_padding_not_a_number(eval_dataloader):
    wrong(ex.check_epoch_padding, "12", eval_dataloader, match="whole number")
    wrong(ex.check_epoch_padding, True, eval_dataloader, match="bool")
    wrong(ex.check_epoch_padding, torch.zeros(3, 3), eval_dataloader, match="shape")
    wrong(ex.check_epoch_padding, 10**9, eval_dataloader, match="attention_mask` is 0")


def test_epoch_padding_refuses_a_shuffled_loader(eval_dataloader):
    shuffled = DataLoader(eval_dataloader.dataset, batch_size=16, shuffle=True,
                          collate_fn=eval_dataloader.collate_fn)
    with pytest.raises(ValueError, match="does not shuffle"):
        ex.check_epoch_padding(1, shuffled)


# Exercise 3: model-ready columns --------------------------------------------------------


def test_model_ready_right_answer(ready, subset, tokenizer):
    assert ex.check_model_ready(ready, subset, tokenizer)
    # Column order does not matter, and with_format is as good as set_format.
    other = subset.map(tokenize_with(tokenizer), batched=True).remove_columns("text")
    other = other.rename_column("label", "labels").with_format("torch")
    assert ex.check_model_ready(other, subset, tokenizer)


def test_model_ready_unanswered(subset, tokenizer):
    assert not ex.check_model_ready(..., subset, tokenizer)


def test_model_ready_text_left_in(subset, tokenizer):
    answer = subset.map(tokenize_with(tokenizer), batched=True)
    answer = answer.rename_column("label", "labels").with_format("torch")
    wrong(ex.check_model_ready, answer, subset, tokenizer, match="`text` column")


def test_model_ready_token_type_ids_left_in(subset, tokenizer):
    """The exercise asks for input_ids, attention_mask and labels only."""
    answer = subset.map(tokenize_with(tokenizer, return_token_type_ids=True), batched=True,
                        remove_columns=["text"])
    assert "token_type_ids" in answer.column_names
    answer = answer.rename_column("label", "labels").with_format("torch")
    wrong(ex.check_model_ready, answer, subset, tokenizer, match="`token_type_ids` column")
    fixed = answer.remove_columns(["token_type_ids"])
    assert ex.check_model_ready(fixed, subset, tokenizer)


def test_model_ready_label_not_renamed(subset, tokenizer):
    answer = subset.map(tokenize_with(tokenizer), batched=True, remove_columns=["text"])
    wrong(ex.check_model_ready, answer.with_format("torch"), subset, tokenizer,
          match="takes `labels`")


def test_model_ready_labels_removed(subset, tokenizer):
    answer = subset.map(tokenize_with(tokenizer), batched=True,
                        remove_columns=["text", "label"])
    wrong(ex.check_model_ready, answer.with_format("torch"), subset, tokenizer,
          match="labels are gone")


def test_model_ready_extra_or_missing_columns(ready, subset, tokenizer):
    extra = ready.add_column("length", [1] * len(ready))
    wrong(ex.check_model_ready, extra, subset, tokenizer, match="Unexpected columns")
    missing = ready.remove_columns(["attention_mask"])
    wrong(ex.check_model_ready, missing, subset, tokenizer, match="Missing columns")
    no_ids = subset.rename_column("label", "labels").remove_columns("text")
    wrong(ex.check_model_ready, no_ids, subset, tokenizer, match="no `input_ids`")


def test_model_ready_no_torch_format(ready, subset, tokenizer):
    wrong(ex.check_model_ready, ready.with_format(None), subset, tokenizer,
          match="set_format")


def test_model_ready_padded_in_map(subset, tokenizer):
    for padding in (True, "max_length"):
        answer = subset.map(tokenize_with(tokenizer, padding=padding), batched=True,
                            remove_columns=["text"])
        answer = answer.rename_column("label", "labels").with_format("torch")
        wrong(ex.check_model_ready, answer, subset, tokenizer, match="padded inside `map`")


def test_model_ready_without_truncation(subset, tokenizer):
    lengths = [len(ids) for ids in tokenizer(list(subset["text"]))["input_ids"]]
    assert max(lengths) > tokenizer.model_max_length  # the subset holds a long review

    def tokenize(batch):
        return tokenizer(batch["text"], return_token_type_ids=False)

    answer = subset.map(tokenize, batched=True, remove_columns=["text"])
    answer = answer.rename_column("label", "labels").with_format("torch")
    wrong(ex.check_model_ready, answer, subset, tokenizer, match="truncation=True")


def test_model_ready_other_rows(subset, tokenizer, test_split):
    other = test_split.select(range(N_ROWS))
    answer = other.map(tokenize_with(tokenizer), batched=True, remove_columns=["text"])
    answer = answer.rename_column("label", "labels").with_format("torch")
    wrong(ex.check_model_ready, answer, subset, tokenizer, match="token ids differ")


def test_model_ready_wrong_labels(ready, subset, tokenizer):
    answer = ready.with_format(None).map(lambda row: {"labels": 1 - row["labels"]})
    wrong(ex.check_model_ready, answer.with_format("torch"), subset, tokenizer,
          match="labels do not match")


def test_model_ready_wrong_types(ready, subset, tokenizer):
    encoded = tokenizer(list(subset["text"]), truncation=True)
    wrong(ex.check_model_ready, encoded, subset, tokenizer, match="tokenizer on the texts")
    wrong(ex.check_model_ready, DatasetDict(test=ready), subset, tokenizer,
          match="DatasetDict")
    wrong(ex.check_model_ready, ready.select(range(10)), subset, tokenizer,
          match="has 10 rows")
