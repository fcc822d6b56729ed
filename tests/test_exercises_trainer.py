"""Checks of notebook 07 · The Trainer: right answers pass, typical mistakes are explained."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from transformers import TrainingArguments
from transformers.trainer_utils import PredictionOutput

from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import trainer as ex

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "07_trainer.ipynb"


def wrong(check, *args, match):
    with pytest.raises(ExerciseError, match=match):
        check(*args)


def test_titles_match_the_notebook_headings():
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    headings = re.findall(r"^### (Exercise \d+ · .+?)\s*$", markdown, flags=re.MULTILINE)
    assert headings == list(ex.TITLES)


# Exercise 1: compute_metrics with precision and recall ----------------------------------


def scores(predictions, labels, positive=1):
    tp = np.sum((predictions == positive) & (labels == positive))
    fp = np.sum((predictions == positive) & (labels != positive))
    fn = np.sum((predictions != positive) & (labels == positive))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return float(np.mean(predictions == labels)), float(precision), float(recall), float(f1)


def right_metrics(eval_pred):
    logits, labels = eval_pred.predictions, eval_pred.label_ids
    accuracy, precision, recall, f1 = scores(np.argmax(logits, axis=-1), labels)
    return {"accuracy": accuracy, "precision": precision, "recall": recall, "f1": f1}


def metrics_with(**changes):
    """A compute_metrics that is right except for the entries computed by ``changes``."""

    def fn(eval_pred):
        result = right_metrics(eval_pred)
        logits, labels = eval_pred.predictions, eval_pred.label_ids
        for name, make in changes.items():
            result[name] = make(logits, labels)
        return result

    return fn


def test_metrics_case_is_as_documented():
    logits, labels = ex.metrics_case("main")
    assert scores(np.argmax(logits, axis=-1), labels) == pytest.approx((0.7, 2 / 3, 0.5, 4 / 7))
    assert scores((logits[:, 1] > 0).astype(int), labels)[0] != pytest.approx(0.7)
    with pytest.raises(ValueError, match="Unknown case"):
        ex.metrics_case("nope")


def test_precision_recall_right_answer(capsys):
    assert ex.check_precision_recall(right_metrics)
    assert capsys.readouterr().out.strip().endswith(f"{ex.TITLES[0]}: correct!")


def test_precision_recall_accepts_numpy_scalars():
    def numpy_metrics(eval_pred):
        return {name: np.float32(value) for name, value in right_metrics(eval_pred).items()}

    assert ex.check_precision_recall(numpy_metrics)


def test_precision_recall_unanswered():
    def template(eval_pred):
        return ...

    assert not ex.check_precision_recall(...)
    assert not ex.check_precision_recall(template)


def test_precision_recall_not_a_function():
    wrong(ex.check_precision_recall, {"accuracy": 0.7}, match="pass the function itself")


def test_precision_recall_forgot_return():
    def no_return(eval_pred):
        right_metrics(eval_pred)

    wrong(ex.check_precision_recall, no_return, match="forget the `return`")


def test_precision_recall_not_a_dict():
    wrong(ex.check_precision_recall, lambda eval_pred: [0.7, 0.6, 0.5, 0.5],
          match="expects a dict")


def test_precision_recall_missing_names():
    def short(eval_pred):
        result = right_metrics(eval_pred)
        del result["recall"]
        return result

    wrong(ex.check_precision_recall, short, match=r"no \['recall'\]")


def test_precision_recall_forgot_argmax():
    def no_argmax(eval_pred):
        logits, labels = eval_pred.predictions, eval_pred.label_ids
        return {"accuracy": float(np.mean(logits == labels)), "precision": 0.0, "recall": 0.0,
                "f1": 0.0}

    wrong(ex.check_precision_recall, no_argmax, match="np.argmax")


def test_precision_recall_thresholded_logit():
    fn = metrics_with(accuracy=lambda logits, labels: float(
        np.mean((logits[:, 1] > 0).astype(int) == labels)))
    wrong(ex.check_precision_recall, fn, match=r"logits\[:, 1\] > 0")


def test_precision_recall_count_or_percentage():
    count = metrics_with(accuracy=lambda logits, labels: int(
        np.sum(np.argmax(logits, axis=-1) == labels)))
    wrong(ex.check_precision_recall, count, match="number of correct predictions")
    percent = metrics_with(accuracy=lambda logits, labels: 100 * float(
        np.mean(np.argmax(logits, axis=-1) == labels)))
    wrong(ex.check_precision_recall, percent, match="percentage")


def test_precision_recall_array_bool_or_tensor():
    array = metrics_with(accuracy=lambda logits, labels: np.argmax(logits, axis=-1) == labels)
    wrong(ex.check_precision_recall, array, match="each metric is one number")
    boolean = metrics_with(accuracy=lambda logits, labels: True)
    wrong(ex.check_precision_recall, boolean, match="a bool")
    tensor = metrics_with(accuracy=lambda logits, labels: torch.tensor(0.7))
    wrong(ex.check_precision_recall, tensor, match="torch tensor")


def test_precision_recall_nan():
    fn = metrics_with(precision=lambda logits, labels: float("nan"))
    wrong(ex.check_precision_recall, fn, match="division by zero")


def test_precision_recall_negative_class():
    fn = metrics_with(precision=lambda logits, labels: scores(
        np.argmax(logits, axis=-1), labels, positive=0)[1])
    wrong(ex.check_precision_recall, fn, match="negative class")
    fn = metrics_with(f1=lambda logits, labels: scores(
        np.argmax(logits, axis=-1), labels, positive=0)[3])
    wrong(ex.check_precision_recall, fn, match="negative class")


def test_precision_recall_swapped():
    def swapped(eval_pred):
        result = right_metrics(eval_pred)
        result["precision"], result["recall"] = result["recall"], result["precision"]
        return result

    wrong(ex.check_precision_recall, swapped, match="swapped")
    only_recall = metrics_with(recall=lambda logits, labels: scores(
        np.argmax(logits, axis=-1), labels)[1])
    wrong(ex.check_precision_recall, only_recall, match="swapped")


def test_precision_recall_wrong_f1_variants():
    def macro(logits, labels):
        predictions = np.argmax(logits, axis=-1)
        return (scores(predictions, labels, 1)[3] + scores(predictions, labels, 0)[3]) / 2

    wrong(ex.check_precision_recall, metrics_with(f1=macro), match="macro F1")
    micro = metrics_with(f1=lambda logits, labels: float(
        np.mean(np.argmax(logits, axis=-1) == labels)))
    wrong(ex.check_precision_recall, micro, match="micro")
    mean = metrics_with(f1=lambda logits, labels: sum(
        scores(np.argmax(logits, axis=-1), labels)[1:3]) / 2)
    wrong(ex.check_precision_recall, mean, match="harmonic mean")


def test_precision_recall_hard_coded_numbers():
    def memorised(eval_pred):
        return {"accuracy": 0.7, "precision": 2 / 3, "recall": 0.5, "f1": 4 / 7}

    wrong(ex.check_precision_recall, memorised, match="second test case")


# Exercise 2: TrainingArguments for a requirement ----------------------------------------


@pytest.fixture
def folder(tmp_path):
    return tmp_path / "exercise"


def make_args(folder, **overrides):
    kwargs = dict(output_dir=str(folder), eval_strategy="epoch", save_strategy="epoch",
                  load_best_model_at_end=True, save_total_limit=3, logging_steps=4,
                  report_to="none")
    kwargs.update(overrides)
    return TrainingArguments(**kwargs)


def test_training_args_right_answers(folder, capsys):
    assert ex.check_training_args(make_args(folder), folder)  # metric defaults to the loss
    assert ex.check_training_args(make_args(folder, metric_for_best_model="eval_loss"), folder)
    assert ex.check_training_args(
        make_args(folder, metric_for_best_model="loss", greater_is_better=False), folder)
    assert capsys.readouterr().out.strip().endswith(f"{ex.TITLES[1]}: correct!")


def test_training_args_unanswered(folder):
    assert not ex.check_training_args(..., folder)


def test_training_args_not_training_arguments(folder):
    wrong(ex.check_training_args, {"eval_strategy": "epoch"}, folder,
          match="TrainingArguments")


def test_training_args_wrong_folder(folder, tmp_path):
    wrong(ex.check_training_args, make_args(tmp_path / "elsewhere"), folder,
          match="output_dir")


def test_training_args_strategies(folder):
    no_eval = make_args(folder, eval_strategy="no", load_best_model_at_end=False)
    wrong(ex.check_training_args, no_eval, folder, match="never evaluate")
    steps = make_args(folder, eval_strategy="steps", eval_steps=10, save_strategy="steps",
                      save_steps=10)
    wrong(ex.check_training_args, steps, folder, match="every 10 steps")
    save_steps = make_args(folder, save_strategy="steps", load_best_model_at_end=False)
    wrong(ex.check_training_args, save_steps, folder, match="save_strategy is 'steps'")


def test_training_args_forgot_load_best(folder):
    wrong(ex.check_training_args, make_args(folder, load_best_model_at_end=False), folder,
          match="load_best_model_at_end")


def test_training_args_wrong_metric_or_direction(folder):
    wrong(ex.check_training_args, make_args(folder, metric_for_best_model="accuracy"), folder,
          match="lowest validation loss")
    wrong(ex.check_training_args,
          make_args(folder, metric_for_best_model="eval_loss", greater_is_better=True), folder,
          match="HIGHEST loss")


def test_training_args_checkpoint_limit(folder):
    wrong(ex.check_training_args, make_args(folder, save_total_limit=None), folder,
          match="every checkpoint stays")
    wrong(ex.check_training_args, make_args(folder, save_total_limit=2), folder,
          match="at most 3")


def test_training_args_logging(folder):
    wrong(ex.check_training_args, make_args(folder, logging_steps=10), folder,
          match="every 4 steps")
    wrong(ex.check_training_args, make_args(folder, logging_strategy="epoch"), folder,
          match="logging_strategy='epoch'")


# Exercise 3: accuracy from predict() -----------------------------------------------------

# Six reviews as the Trainer's evaluation loader yields them (grouped by length), and their
# labels in the dataset's own order.
LOGITS = np.array([[2.0, -1.0], [0.5, 1.0], [1.0, 0.0], [-1.0, 1.0], [3.0, 0.0], [0.2, 0.1]])
LABEL_IDS = np.array([0, 1, 0, 1, 1, 0])  # predictions 0 1 0 1 0 0: five of six right
DATASET_LABELS = [1, 1, 0, 0, 0, 0]


@pytest.fixture
def prediction():
    return PredictionOutput(predictions=LOGITS, label_ids=LABEL_IDS, metrics={})


def test_predict_accuracy_right_answer(prediction, capsys):
    assert ex.check_predict_accuracy(5 / 6, prediction, DATASET_LABELS)
    assert ex.check_predict_accuracy(np.mean(LOGITS.argmax(-1) == LABEL_IDS), prediction,
                                     DATASET_LABELS)
    assert ex.check_predict_accuracy(torch.tensor([5 / 6]).numpy(), prediction,
                                     [torch.tensor(x) for x in DATASET_LABELS])
    assert capsys.readouterr().out.strip().endswith(f"{ex.TITLES[2]}: correct!")


def test_predict_accuracy_unanswered(prediction):
    assert not ex.check_predict_accuracy(..., prediction, DATASET_LABELS)


def test_predict_accuracy_dataset_order(prediction):
    in_dataset_order = float(np.mean(LOGITS.argmax(-1) == np.array(DATASET_LABELS)))
    assert in_dataset_order != pytest.approx(5 / 6)
    wrong(ex.check_predict_accuracy, in_dataset_order, prediction, DATASET_LABELS,
          match="prediction.label_ids")


def test_predict_accuracy_percentage_or_count(prediction):
    wrong(ex.check_predict_accuracy, 100 * 5 / 6, prediction, DATASET_LABELS, match="percentage")
    wrong(ex.check_predict_accuracy, 5, prediction, DATASET_LABELS,
          match="number of correct predictions")


def test_predict_accuracy_not_a_number(prediction):
    wrong(ex.check_predict_accuracy, LOGITS.argmax(-1) == LABEL_IDS, prediction, DATASET_LABELS,
          match="one number")
    wrong(ex.check_predict_accuracy, "0.83", prediction, DATASET_LABELS, match="should be a number")


def test_predict_accuracy_other_number(prediction):
    wrong(ex.check_predict_accuracy, 0.5, prediction, DATASET_LABELS, match="expected 0.833")
