"""Checks of notebook 06 · A manual training loop: right answers pass, typical mistakes are
explained."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import training_loop as ex

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06_manual_training_loop.ipynb"

# The checker prints these titles; the notebook's "### Exercise N · Title" headings must match.
TITLES = [
    "Exercise 1 · Count the optimizer steps",
    "Exercise 2 · Accuracy over uneven batches",
    "Exercise 3 · Where to resume",
]


def wrong(check, *args, match):
    with pytest.raises(ExerciseError, match=match):
        check(*args)


# ---------------------------------------------------------------- a model we control fully


class TableModel(torch.nn.Module):
    """Logits looked up by example id (the first input id); training mode flips them, as if
    dropout changed every prediction."""

    def __init__(self, logits):
        super().__init__()
        self.table = torch.nn.Parameter(torch.as_tensor(logits, dtype=torch.float32))

    def forward(self, input_ids, attention_mask=None, labels=None):
        logits = self.table[input_ids[:, 0]]
        if self.training:
            logits = -logits
        return SimpleNamespace(logits=logits)


# Ten reviews in batches of 4, 4 and 2: 4 + 1 + 1 = 6 correct. Every score is 3 or -3, so
# comparing max scores with labels never matches; each batch's largest score is in row 0.
LOGITS = [[3, -3], [-3, 3], [3, -3], [-3, 3],     # batch 1: all 4 right
          [3, -3], [-3, 3], [-3, 3], [3, -3],     # batch 2: 1 right
          [-3, 3], [3, -3]]                      # batch 3: 1 right
LABELS = [0, 1, 0, 1,
          0, 0, 0, 1,
          1, 1]
SIZES = [4, 4, 2]


@pytest.fixture
def model():
    return TableModel(LOGITS).eval()


@pytest.fixture
def loader():
    batches, start = [], 0
    for size in SIZES:
        ids = torch.arange(start, start + size)
        batches.append({"input_ids": ids[:, None], "attention_mask": torch.ones(size, 1),
                        "labels": torch.tensor(LABELS[start:start + size])})
        start += size
    return batches


TRUE_ACCURACY = 6 / 10
PER_BATCH_MEAN = (4 / 4 + 1 / 4 + 1 / 2) / 3
LAST_BATCH = 1 / 2


def flat_argmax_accuracy(loader, model):
    hits = 0
    for batch in loader:
        logits = model(**batch).logits
        hits += int((logits.argmax() == batch["labels"]).sum())
    return hits / 10


def test_the_fixture_tells_every_mistake_apart(model, loader):
    flat = flat_argmax_accuracy(loader, model)
    values = [TRUE_ACCURACY, PER_BATCH_MEAN, LAST_BATCH, flat, 0.0, 1 - TRUE_ACCURACY]
    assert len(set(values)) == len(values), values


def test_titles_match_the_notebook_headings():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    headings = re.findall(r"^### (Exercise \d+ · .+?)\s*$", markdown, flags=re.MULTILINE)
    assert headings == TITLES


def test_checks_print_their_titles(model, loader, capsys):
    assert ex.check_num_training_steps(189, 1000, 16, 3)
    assert ex.check_accuracy(TRUE_ACCURACY, model, loader)
    assert ex.check_resume_position((2, 5), 21, 8)
    out = capsys.readouterr().out
    assert [line.split(" ", 1)[1] for line in out.splitlines()] == [
        f"{title}: correct!" for title in TITLES]


def test_unanswered_exercises_only_remind(model, loader, capsys):
    assert not ex.check_num_training_steps(..., 1000, 16, 3)
    assert not ex.check_accuracy(..., model, loader)
    assert not ex.check_resume_position(..., 21, 8)
    assert capsys.readouterr().out.count("not answered yet") == 3


# Exercise 1: optimizer steps ---------------------------------------------------------------


@pytest.mark.parametrize("answer", [189, 189.0, np.int64(189), torch.tensor(189)])
def test_steps_right_answers_pass(answer):
    assert ex.check_num_training_steps(answer, 1000, 16, 3)


def test_steps_when_the_batches_divide_evenly():
    assert ex.check_num_training_steps(24, 128, 16, 3)
    wrong(ex.check_num_training_steps, 8, 128, 16, 3, match="ONE epoch")


@pytest.mark.parametrize("answer, match", [
    (63, "ONE epoch"),
    (186, "leaves out the last, smaller batch"),
    (188, "all 3 epochs' reviews by the batch size at once"),
    (187, "all 3 epochs' reviews by the batch size at once"),
    (187.5, "not a whole number"),
    (3000, "counts reviews, not batches"),
    (1000, "counts reviews, not batches"),
    (100, "not the number of optimizer steps"),
    (True, "a bool"),
    ("189", "whole number"),
])
def test_steps_mistakes_are_explained(answer, match):
    wrong(ex.check_num_training_steps, answer, 1000, 16, 3, match=match)


# Exercise 2: accuracy ----------------------------------------------------------------------


@pytest.mark.parametrize("answer", [0.6, 6 / 10, np.float64(0.6)])
def test_accuracy_right_answers_pass(answer, model, loader):
    assert ex.check_accuracy(answer, model, loader)


def test_accuracy_check_leaves_the_model_as_it_found_it(model, loader):
    model.train()
    assert ex.check_accuracy(TRUE_ACCURACY, model, loader)
    assert model.training
    model.eval()
    assert ex.check_accuracy(TRUE_ACCURACY, model, loader)
    assert not model.training


@pytest.mark.parametrize("answer, match", [
    (PER_BATCH_MEAN, "mean of the per-batch accuracies"),
    (LAST_BATCH, "last batch only"),
    (0.0, r"POSITION of the highest score"),
    (60.0, "percentage"),
    (6, "NUMBER of correct predictions"),
    (7, "larger than 1"),
    (-0.5, "negative"),
    (1 - TRUE_ACCURACY, r"model\.eval\(\)"),  # computed in training mode
    (torch.tensor(0.6), r"\.item\(\)"),
    ("0.6", "one float between 0 and 1"),
    (True, "one float between 0 and 1"),
])
def test_accuracy_mistakes_are_explained(answer, match, model, loader):
    wrong(ex.check_accuracy, answer, model, loader, match=match)


def test_accuracy_flat_argmax_is_explained(model, loader):
    wrong(ex.check_accuracy, flat_argmax_accuracy(loader, model), model, loader,
          match=r"argmax\(\)` without `dim`")


def test_accuracy_on_the_tiny_standin_with_a_padding_collator():
    """The notebook's setting: a real classifier, a collator, batches of unequal size."""
    from torch.utils.data import DataLoader
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        DataCollatorWithPadding,
    )

    import lecture_utils as lu

    checkpoint = lu.checkpoint("distilbert/distilbert-base-uncased-finetuned-sst-2-english")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    classifier = AutoModelForSequenceClassification.from_pretrained(checkpoint)
    texts = ["a wonderful film", "a boring film", "great acting", "terrible acting",
             "I loved it", "I hated it", "dull and slow"]
    labels = [1, 0, 1, 0, 1, 0, 0]
    examples = [dict(tokenizer(t), labels=y) for t, y in zip(texts, labels, strict=True)]
    uneven = DataLoader(examples, batch_size=3, collate_fn=DataCollatorWithPadding(tokenizer))
    classifier.eval()
    n_correct = n_seen = 0
    with torch.no_grad():
        for batch in uneven:
            predictions = classifier(**batch).logits.argmax(dim=-1)
            n_correct += (predictions == batch["labels"]).sum().item()
            n_seen += len(batch["labels"])
    assert ex.check_accuracy(n_correct / n_seen, classifier, uneven)


# Exercise 3: where to resume ---------------------------------------------------------------


@pytest.mark.parametrize("answer", [(2, 5), [2, 5], (2.0, 5.0), (np.int64(2), torch.tensor(5))])
def test_resume_right_answers_pass(answer):
    assert ex.check_resume_position(answer, 21, 8)


def test_resume_at_an_epoch_boundary():
    assert ex.check_resume_position((2, 0), 16, 8)
    wrong(ex.check_resume_position, (3, 0), 16, 8, match="counts from 1")


@pytest.mark.parametrize("answer, match", [
    ((3, 5), "counts from 1"),
    ((5, 2), "wrong order"),
    ((2, 21), "every step done so far"),
    ((2, 3), "still to train"),
    ((1, 5), "Epoch 1 is not it"),
    ((2, 4), "The epoch is right but 4 batches is not"),
    ((2.625, 5), "fraction"),
    ((True, 5), "a bool"),
    ("2, 5", "tuple of two ints"),
    ((2, 5, 0), "tuple of two ints"),
    (21, "tuple of two ints"),
])
def test_resume_mistakes_are_explained(answer, match):
    wrong(ex.check_resume_position, answer, 21, 8, match=match)
