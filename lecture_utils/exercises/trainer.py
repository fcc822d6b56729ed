"""Exercise checks for notebook 07 · The Trainer.

Each check works out the right answer itself and explains the typical mistakes: comparing
logits with labels without an argmax, scoring the wrong class, swapping precision and recall,
returning arrays instead of numbers, leaving a strategy at its default, asking for the wrong
direction of "best", and pairing predictions with labels in the dataset's order although the
Trainer's evaluation loader put them in another.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from pathlib import Path

from ..checks import CheckResult, exercise, fail

__all__ = ["check_precision_recall", "check_training_args", "check_predict_accuracy",
           "metrics_case"]

TITLES = (
    "Exercise 1 · Precision and recall",
    "Exercise 2 · Arguments for a requirement",
    "Exercise 3 · Accuracy from predict()",
)

POSITIVE = 1
METRIC_NAMES = ("accuracy", "precision", "recall", "f1")


# --------------------------------------------------------------------------- helpers


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def _binary_scores(predictions, labels, positive: int = POSITIVE) -> dict[str, float]:
    """Accuracy, precision, recall and F1 of class ``positive`` (0 where undefined)."""
    import numpy as np

    predictions, labels = np.asarray(predictions), np.asarray(labels)
    tp = int(np.sum((predictions == positive) & (labels == positive)))
    fp = int(np.sum((predictions == positive) & (labels != positive)))
    fn = int(np.sum((predictions != positive) & (labels == positive)))
    return {
        "accuracy": float(np.mean(predictions == labels)),
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
    }


def metrics_case(kind: str = "main"):
    """A crafted ``(logits, labels)`` pair the checker feeds to the student's function.

    ``main``: ten reviews, 4 positive; the argmax predictions give TP=2, FP=1, FN=2, TN=5,
    so accuracy 0.7, precision 2/3, recall 1/2, F1 4/7, and every usual mistake gives a
    different number. Several rows have a positive second logit but a larger first one (and
    the other way round), so thresholding one logit at 0 does not match the argmax.
    ``other``: twelve reviews with random logits, to check the function is not tuned to one
    case.
    """
    import numpy as np

    if kind == "main":
        logits = np.array([
            [-1.0, 2.0],   # label 1, predicted 1 (TP)
            [-3.0, -1.0],  # label 1, predicted 1 (TP): both logits negative
            [3.0, 1.0],    # label 1, predicted 0 (FN): second logit positive, first larger
            [0.5, -0.5],   # label 1, predicted 0 (FN)
            [1.0, 1.5],    # label 0, predicted 1 (FP)
            [2.0, 0.5],    # label 0, predicted 0 (TN): second logit positive
            [1.5, -2.0],   # label 0, predicted 0 (TN)
            [4.0, 3.0],    # label 0, predicted 0 (TN): second logit positive
            [0.2, -0.1],   # label 0, predicted 0 (TN)
            [2.5, 2.0],    # label 0, predicted 0 (TN): second logit positive
        ], dtype=np.float32)
        labels = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], dtype=np.int64)
        return logits, labels
    if kind == "other":
        rng = np.random.default_rng(7)
        logits = rng.normal(size=(12, 2)).astype(np.float32)
        labels = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 1], dtype=np.int64)
        return logits, labels
    raise ValueError(f"Unknown case {kind!r}: use 'main' or 'other'.")


def _as_number(value, name: str) -> float:
    """A metric value as a float, or a failure that says why it is not one number."""
    import numpy as np

    if isinstance(value, bool) or isinstance(value, np.bool_):
        fail(f"{name!r} is {value!r}, a bool. Average the comparisons (`np.mean(...)`) to get "
             "a fraction.")
    if hasattr(value, "detach"):  # a torch tensor
        fail(f"{name!r} is a torch tensor. The Trainer hands NumPy arrays to compute_metrics: "
             "compute with NumPy and return a plain number (`float(...)`).")
    if isinstance(value, np.ndarray):
        if value.size != 1:
            fail(f"{name!r} is an array of shape {value.shape}; each metric is one number. "
                 "Reduce it (`np.mean`, `np.sum`) before returning, e.g. `float(np.mean(...))`.")
        value = value.item()
    if not isinstance(value, numbers.Real):
        fail(f"{name!r} is {value!r} ({type(value).__name__}); each metric should be a number.")
    value = float(value)
    if math.isnan(value):
        fail(f"{name!r} is nan: a division by zero? Guard the denominators (when there are no "
             "positive predictions, precision is 0 by convention).")
    return value


# --------------------------------------------------------------------------- Exercise 1


def _call_metrics(fn: Callable, logits, labels):
    from transformers import EvalPrediction

    try:
        return fn(EvalPrediction(predictions=logits, label_ids=labels))
    except ValueError as err:
        if "broadcast" in str(err):
            fail("Your function compares arrays of different shapes (" + str(err).split("\n")[0]
                 + "). The logits have one column per class: turn them into class ids with "
                 "`np.argmax(logits, axis=-1)` before comparing them with the labels.")
        raise


def check_precision_recall(answer) -> CheckResult:
    """Exercise: a compute_metrics function returning accuracy, precision, recall and F1.

    ``answer`` is the student's function. While it still returns ``...`` the exercise counts
    as unanswered.
    """
    import numpy as np

    if callable(answer):
        logits, labels = metrics_case("main")
        if _call_metrics(answer, logits, labels) is Ellipsis:
            answer = ...

    def check(fn):
        if not callable(fn):
            fail(f"Your answer is a {type(fn).__name__}; pass the function itself "
                 "(its name, without calling it), the way you would pass it to the Trainer.")
        logits, labels = metrics_case("main")
        result = _call_metrics(fn, logits, labels)
        if result is None:
            fail("Your function returns None: did you forget the `return`?")
        if not isinstance(result, Mapping):
            fail(f"Your function returns a {type(result).__name__}; the Trainer expects a dict "
                 "that maps metric names to numbers.")
        missing = [name for name in METRIC_NAMES if name not in result]
        if missing:
            fail(f"The dict has no {missing}; it has {sorted(result)}. Use exactly these names: "
                 f"{list(METRIC_NAMES)} (the Trainer logs them as eval_accuracy, ...).")
        got = {name: _as_number(result[name], name) for name in METRIC_NAMES}
        right = _binary_scores(np.argmax(logits, axis=-1), labels)
        if not _close(got["accuracy"], right["accuracy"]):
            threshold = _binary_scores((logits[:, 1] > 0).astype(int), labels)
            if _close(got["accuracy"], threshold["accuracy"]):
                fail("Your predictions look like `logits[:, 1] > 0`. A review is positive when "
                     "its positive logit is larger than its negative one: "
                     "`np.argmax(logits, axis=-1)`.")
            if _close(got["accuracy"], right["accuracy"] * len(labels)):
                fail(f"accuracy is {got['accuracy']:g}: that is the number of correct "
                     "predictions. Divide by the number of examples (or use `np.mean`).")
            if _close(got["accuracy"], 100 * right["accuracy"]):
                fail("accuracy is a percentage; return a fraction between 0 and 1.")
            fail(f"accuracy is {got['accuracy']:g}, expected {right['accuracy']:g}: the share "
                 "of examples whose argmax prediction equals the label.")
        for name in ("precision", "recall", "f1"):
            if _close(got[name], right[name]):
                continue
            negative = _binary_scores(np.argmax(logits, axis=-1), labels, positive=0)
            if _close(got[name], negative[name]):
                fail(f"{name} is {got[name]:.4f}: that is the {name} of the negative class. "
                     "Score the positive class (label 1, 'pos').")
            if name == "precision" and _close(got[name], right["recall"]):
                fail("precision and recall are swapped. Precision: of the reviews predicted "
                     "positive, the share that really are (TP / (TP + FP)). Recall: of the "
                     "positive reviews, the share that were found (TP / (TP + FN)).")
            if name == "recall" and _close(got[name], right["precision"]):
                fail("recall and precision are swapped. Recall: of the positive reviews, the "
                     "share that were found (TP / (TP + FN)).")
            if name == "f1":
                macro = (right["f1"] + negative["f1"]) / 2
                if _close(got[name], macro):
                    fail("f1 is the average of both classes' F1 (macro F1). The task asks for "
                         "the F1 of the positive class only.")
                if _close(got[name], right["accuracy"]):
                    fail("f1 equals the accuracy (that is what F1 averaged over all examples, "
                         "'micro' F1, gives). The task asks for the F1 of the positive class: "
                         "2 * precision * recall / (precision + recall).")
                if _close(got[name], (right["precision"] + right["recall"]) / 2):
                    fail("f1 is the plain average of precision and recall. F1 is their "
                         "harmonic mean: 2 * precision * recall / (precision + recall).")
            fail(f"{name} is {got[name]:.4f}, expected {right[name]:.4f} on a test case with "
                 "TP=2, FP=1, FN=2, TN=5.")
        # A second case, so a function tuned to the first one does not pass by accident.
        logits, labels = metrics_case("other")
        result = _call_metrics(fn, logits, labels)
        right = _binary_scores(np.argmax(logits, axis=-1), labels)
        for name in METRIC_NAMES:
            value = _as_number(result[name], name)
            if not _close(value, right[name]):
                fail(f"On a second test case {name} is {value:.4f}, expected {right[name]:.4f}. "
                     "Compute every metric from `eval_pred` (no numbers fixed in advance).")

    return exercise(TITLES[0], answer, check)


# --------------------------------------------------------------------------- Exercise 2


def check_training_args(answer, output_dir) -> CheckResult:
    """Exercise: TrainingArguments for the requirement stated in the notebook.

    Requirement: write into ``output_dir``; evaluate and save once per epoch; at the end load
    the checkpoint with the lowest validation loss; keep at most 3 checkpoints on disk; log
    the training loss every 4 steps.
    """

    def check(args):
        from transformers import TrainingArguments

        if not isinstance(args, TrainingArguments):
            fail(f"Your answer is a {type(args).__name__}; build it with "
                 "`TrainingArguments(output_dir=..., ...)`.")
        if Path(args.output_dir).resolve() != Path(output_dir).resolve():
            fail(f"output_dir is {args.output_dir!r}; write into {str(output_dir)!r} "
                 "(`output_dir=str(out / \"exercise\")`).")
        if args.eval_strategy != "epoch":
            fail(f"eval_strategy is {str(args.eval_strategy.value)!r}: the Trainer would "
                 + ("never evaluate" if args.eval_strategy == "no" else "evaluate every "
                    f"{args.eval_steps} steps")
                 + ". Evaluate once per epoch: `eval_strategy=\"epoch\"`.")
        if args.save_strategy != "epoch":
            fail(f"save_strategy is {str(args.save_strategy.value)!r}; save once per epoch "
                 "(`save_strategy=\"epoch\"`), so that every evaluated model has a checkpoint "
                 "the Trainer can go back to.")
        if not args.load_best_model_at_end:
            fail("load_best_model_at_end is False: after training the model would be the last "
                 "one, not the best. Set `load_best_model_at_end=True`.")
        metric = args.metric_for_best_model
        if metric not in ("loss", "eval_loss"):
            fail(f"metric_for_best_model is {metric!r}; the requirement is the lowest "
                 "validation loss (\"eval_loss\", or \"loss\", which the Trainer prefixes "
                 "with eval_; it is also the default).")
        if args.greater_is_better:
            fail("greater_is_better is True, so the Trainer would keep the checkpoint with the "
                 "HIGHEST loss. For a loss lower is better: leave greater_is_better out (names "
                 "ending in 'loss' default to False) or set it to False.")
        if args.save_total_limit is None:
            fail("save_total_limit is not set, so every checkpoint stays on disk. Keep at most "
                 "3: `save_total_limit=3`.")
        if args.save_total_limit != 3:
            fail(f"save_total_limit is {args.save_total_limit}; the requirement is at most 3 "
                 "checkpoints.")
        if args.logging_strategy != "steps" or args.logging_steps != 4:
            fail(f"The training loss is logged with logging_strategy="
                 f"{str(args.logging_strategy.value)!r} and logging_steps={args.logging_steps:g}; "
                 "the requirement is every 4 steps (`logging_steps=4`).")

    return exercise(TITLES[1], answer, check)


# --------------------------------------------------------------------------- Exercise 3


def check_predict_accuracy(answer, prediction, dataset_labels) -> CheckResult:
    """Exercise: the validation accuracy computed from ``trainer.predict(...)``'s output.

    ``prediction`` is the PredictionOutput; ``dataset_labels`` are the labels in the
    dataset's own order (to recognise the mistake of pairing them with the predictions).
    """

    def check(value):
        import numpy as np

        value = _as_number(value, "accuracy")
        predicted = np.argmax(np.asarray(prediction.predictions), axis=-1)
        label_ids = np.asarray(prediction.label_ids)
        right = float(np.mean(predicted == label_ids))
        if _close(value, right):
            return
        in_dataset_order = np.array([int(label) for label in dataset_labels])
        if in_dataset_order.shape == predicted.shape and _close(
                value, float(np.mean(predicted == in_dataset_order))):
            fail("You compared the predictions with the dataset's labels in the dataset's order. "
                 "The Trainer's evaluation loader groups the reviews by length, so the "
                 "predictions come in another order: use `prediction.label_ids`, which is in "
                 "the same order as `prediction.predictions`.")
        if _close(value, 100 * right):
            fail("That is a percentage; give the accuracy as a fraction between 0 and 1.")
        if _close(value, right * len(label_ids)):
            fail(f"{value:g} is the number of correct predictions; divide by the number of "
                 "reviews.")
        fail(f"The accuracy is {value:g}, expected {right:g}. Take the argmax of "
             "`prediction.predictions` over the last axis and compare it with "
             "`prediction.label_ids`.")

    return exercise(TITLES[2], answer, check)
