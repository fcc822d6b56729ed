"""Exercise checks for notebook 06 · A manual training loop.

Each check works out the right answer itself and explains the typical mistakes: counting the
steps of one epoch only or dropping the last, smaller batch; averaging per-batch accuracies
over batches of unequal size, forgetting the argmax, giving a count or a percentage; counting
epochs from 1 or skipping every step done so far instead of the batches of the current epoch.
"""

from __future__ import annotations

import math
import numbers

from ..checks import CheckResult, exercise, fail

__all__ = ["check_num_training_steps", "check_accuracy", "check_resume_position"]


def _whole_number(value, what: str) -> int:
    """Turn an answer into an int, or explain why it is not one."""
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, bool):
        fail(f"Your answer is {value!r}, a bool; {what} is a whole number.")
    if isinstance(value, float):
        if not value.is_integer():
            return value  # handled by the caller, which knows why it is fractional
        value = int(value)
    if not isinstance(value, numbers.Integral):
        fail(f"Your answer is {value!r} ({type(value).__name__}); {what} is a whole number.")
    return int(value)


# ----------------------------------------------------------------------- Exercise 1


def check_num_training_steps(answer, n_examples: int, batch_size: int,
                             num_epochs: int) -> CheckResult:
    """Exercise: optimizer steps of ``num_epochs`` epochs over ``n_examples`` examples.

    The loader keeps the last, smaller batch (``drop_last=False``, the default), so each
    epoch has ``ceil(n_examples / batch_size)`` batches, and each batch is one step.
    """

    def check(value):
        value = _whole_number(value, "a number of optimizer steps")
        per_epoch = math.ceil(n_examples / batch_size)
        expected = num_epochs * per_epoch
        if value == expected:
            return
        if isinstance(value, float):
            fail(f"{value} is not a whole number. A step trains on one whole batch; the last "
                 "batch of an epoch is smaller but still a step: round the batches per epoch "
                 "up (`math.ceil`).")
        if value == per_epoch and num_epochs != 1:
            fail(f"{value} is the number of steps of ONE epoch. The schedule runs over the "
                 f"whole training: multiply by `num_epochs` ({num_epochs}).")
        if value == num_epochs * (n_examples // batch_size) and n_examples % batch_size:
            fail(f"{value} leaves out the last, smaller batch of each epoch. "
                 f"{n_examples} / {batch_size} is not a whole number, and the loader keeps "
                 "the remainder as one more batch: round up (`math.ceil`), not down.")
        if value == math.ceil(num_epochs * n_examples / batch_size) or \
                value == num_epochs * n_examples // batch_size:
            fail(f"{value} divides all {num_epochs} epochs' reviews by the batch size at once. "
                 "Every epoch starts a new pass over the loader and ends with its own smaller "
                 "batch: compute the batches per epoch first, then multiply by the epochs.")
        if value in (n_examples * num_epochs, n_examples):
            fail(f"{value} counts reviews, not batches. One optimizer step trains on a whole "
                 f"batch of {batch_size} reviews.")
        fail(f"{value} is not the number of optimizer steps. Hint: one step per batch, "
             "`math.ceil(reviews / batch_size)` batches per epoch, and `num_epochs` epochs.")

    return exercise("Exercise 1 · Count the optimizer steps", answer, check)


# ----------------------------------------------------------------------- Exercise 2


def _per_batch_results(model, dataloader):
    """(labels, logits) of every batch, computed the right way: eval mode, no gradients."""
    import torch

    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    results = []
    try:
        with torch.no_grad():
            for batch in dataloader:
                batch = {name: tensor.to(device) for name, tensor in batch.items()}
                logits = model(**batch).logits.float().cpu()
                results.append((batch["labels"].cpu(), logits))
    finally:
        model.train(was_training)
    if not results:
        raise ValueError("The dataloader yields no batches.")
    return results


def _wrong_accuracies(results):
    """Accuracies that typical mistakes produce, with what to say about each."""
    n_seen = sum(len(labels) for labels, _ in results)
    batch_means = [float((logits.argmax(dim=-1) == labels).float().mean())
                   for labels, logits in results]
    flat_argmax = sum(int((logits.argmax() == labels).sum()) for labels, logits in results)
    max_scores = sum(int((logits.max(dim=-1).values == labels).sum()) for labels, logits in results)
    return [
        (sum(batch_means) / len(batch_means),
         "That is the mean of the per-batch accuracies. The batches are not all the same size "
         "(the last one is smaller), so its reviews would count more than the others. Add up "
         "the correct predictions and the reviews over all batches, then divide once."),
        (batch_means[-1],
         "That is the accuracy of the last batch only. Keep running totals across the loop: "
         "start them at zero before it and add each batch's counts inside it."),
        (flat_argmax / n_seen,
         "`logits.argmax()` without `dim` returns ONE index into the flattened batch. Take "
         "the highest score per review: `logits.argmax(dim=-1)`."),
        (max_scores / n_seen,
         "You compared the scores themselves with the labels. The predicted class is the "
         "POSITION of the highest score: `logits.argmax(dim=-1)`, not `logits.max(...)`."),
    ]


def check_accuracy(answer, model, dataloader) -> CheckResult:
    """Exercise: the accuracy of ``model`` over every example of ``dataloader``, as a float."""

    def check(value):
        import torch

        if isinstance(value, torch.Tensor):
            fail("Your answer is a tensor. Turn counts into Python numbers with `.item()` "
                 "(e.g. `(predictions == labels).sum().item()`), so that the accuracy is a "
                 "plain float.")
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            fail(f"Your answer is a {type(value).__name__}; the accuracy is one float between "
                 "0 and 1.")
        value = float(value)
        results = _per_batch_results(model, dataloader)
        n_seen = sum(len(labels) for labels, _ in results)
        n_correct = sum(int((logits.argmax(dim=-1) == labels).sum()) for labels, logits in results)
        expected = n_correct / n_seen
        if math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-9):
            return
        if value > 1.0:
            if math.isclose(value, 100 * expected, rel_tol=1e-6):
                fail(f"{value} is a percentage. Give the accuracy as a fraction between 0 and "
                     "1 (do not multiply by 100).")
            if value == n_correct:
                fail(f"{value:g} is the NUMBER of correct predictions. Divide it by the number "
                     "of reviews to get the accuracy.")
            fail(f"{value} is larger than 1; an accuracy is a fraction between 0 and 1.")
        if value < 0.0:
            fail(f"{value} is negative; an accuracy is a fraction between 0 and 1.")
        for wrong, message in _wrong_accuracies(results):
            if not math.isclose(wrong, expected, rel_tol=1e-6) and \
                    math.isclose(value, wrong, rel_tol=1e-6, abs_tol=1e-9):
                fail(message)
        fail(f"{value:.4f} is not the accuracy of this model on this loader. Check that you "
             "call `model.eval()` (dropout changes the predictions in training mode), take "
             "`logits.argmax(dim=-1)`, compare it with `batch[\"labels\"]`, and divide the "
             "correct predictions of ALL batches by the number of ALL reviews.")

    return exercise("Exercise 2 · Accuracy over uneven batches", answer, check)


# ----------------------------------------------------------------------- Exercise 3


def check_resume_position(answer, step: int, steps_per_epoch: int) -> CheckResult:
    """Exercise: after ``step`` steps, the (0-based) epoch a resumed run is in and the
    batches of that epoch it skips."""

    def check(value):
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            fail(f"Give a tuple of two ints, `(epoch, skipped)`; got {value!r}.")
        epoch, skipped = (_whole_number(v, "each entry") for v in value)
        if isinstance(epoch, float) or isinstance(skipped, float):
            fail(f"{tuple(value)!r} has a fraction in it. Use whole-number division (`//`) for "
                 "the epoch and the remainder (`%`) for the batches to skip.")
        expected = (step // steps_per_epoch, step % steps_per_epoch)
        if (epoch, skipped) == expected:
            return
        if (epoch, skipped) == (expected[0] + 1, expected[1]):
            fail(f"Epoch {epoch} counts from 1. The loop's `range(num_epochs)` counts from 0, "
                 f"so the run resumes in epoch {expected[0]} (printed as epoch {epoch}).")
        if (skipped, epoch) == expected:
            fail("You have the right numbers in the wrong order: the epoch first, then the "
                 "batches to skip.")
        if epoch == expected[0] and skipped == step:
            fail(f"{skipped} is every step done so far. Epochs before this one are not "
                 "replayed at all; the skip counts only the batches already done in THIS "
                 "epoch: the remainder `step % steps_per_epoch`.")
        if epoch == expected[0] and skipped == steps_per_epoch - expected[1]:
            fail(f"{skipped} is the number of batches still to train in this epoch. The "
                 "question asks how many it skips, the ones done before the crash.")
        if epoch != expected[0]:
            fail(f"Epoch {epoch} is not it. With {steps_per_epoch} steps per epoch, a run "
                 f"that has done 0 to {steps_per_epoch - 1} steps is in epoch 0, one that has "
                 f"done {steps_per_epoch} to {2 * steps_per_epoch - 1} in epoch 1, and so on: "
                 "`step // steps_per_epoch`.")
        fail(f"The epoch is right but {skipped} batches is not: the batches already done in "
             "this epoch are `step % steps_per_epoch`.")

    return exercise("Exercise 3 · Where to resume", answer, check)
