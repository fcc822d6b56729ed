"""Exercise checks for notebook 11 · Accelerate.

The checks work the right answer out themselves (the step count by asking Accelerate's own
batch sharding) and explain the typical mistakes: multiplying the batch by the number of
processes instead of dividing it, forgetting that the default does not split batches,
rounding the last partial batch away, using the ``split_batches`` keyword that Accelerate
accepts and ignores.
"""

from __future__ import annotations

import math
import numbers

from ..checks import CheckResult, exercise, fail

__all__ = ["check_per_process_batch", "check_steps_per_epoch", "check_split_accelerator",
           "per_process_batch", "steps_per_epoch"]

TITLE_BATCH = "Exercise 1 · The batch each process gets"
TITLE_STEPS = "Exercise 2 · Optimizer steps per epoch"
TITLE_SPLIT = "Exercise 3 · An Accelerator that splits batches"

# (DataLoader batch_size, number of processes, split_batches)
_BATCH_CASES = [(16, 2, True), (16, 2, False), (32, 4, True), (32, 4, False), (8, 1, True),
                (8, 1, False), (64, 8, True), (12, 3, False)]


def per_process_batch(batch_size: int, num_processes: int, split_batches: bool) -> int:
    """Rows per batch on each process for a DataLoader prepared by Accelerate."""
    return batch_size // num_processes if split_batches else batch_size


def steps_per_epoch(num_examples: int, batch_size: int, num_processes: int,
                    split_batches: bool) -> int:
    """Batches (so optimizer steps) per epoch on each process, as Accelerate shards them.

    Asks Accelerate's own ``BatchSamplerShard`` (``drop_last=False``, ``even_batches=True``,
    the defaults), so the answer is what a prepared DataLoader really yields.
    """
    from accelerate.data_loader import BatchSamplerShard
    from torch.utils.data import BatchSampler, SequentialSampler

    batches = BatchSampler(SequentialSampler(range(num_examples)), batch_size, drop_last=False)
    shard = BatchSamplerShard(batches, num_processes=num_processes, process_index=0,
                              split_batches=split_batches, even_batches=True)
    return len(shard)


def _as_whole_number(value, what: str, *, allow_float: bool = True) -> int:
    if isinstance(value, bool) or value is None:
        fail(f"{what} should be a whole number, got {value!r}.")
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:  # a 0-d tensor or array
        value = value.item()
    if isinstance(value, float):
        if not allow_float:
            fail(f"{what} is {value!r}, a float: `/` always gives one. A batch size is a "
                 "whole number of rows, so use integer division (//).")
        if not value.is_integer():
            fail(f"{what} is {value!r}, not a whole number: a batch holds whole reviews, so "
                 "use integer division (//) or round up with math.ceil where a last, partial "
                 "batch still counts.")
        value = int(value)
    if not isinstance(value, numbers.Integral):
        fail(f"{what} should be an int, got a {type(value).__name__} ({value!r}).")
    return int(value)


def check_per_process_batch(answer) -> CheckResult:
    """Exercise: a function (batch_size, num_processes, split_batches) -> per-process batch.

    A function that still returns ``...`` (the placeholder) counts as unanswered.
    """
    if callable(answer):
        try:
            if answer(16, 2, True) is Ellipsis:
                answer = ...
        except Exception:  # the check below explains what is wrong with it
            pass

    def check(fn):
        if not callable(fn):
            fail("The answer should be a function of (batch_size, num_processes, split_batches), "
                 f"for example a `def` or a lambda; got a {type(fn).__name__}.")
        for batch_size, n, split in _BATCH_CASES:
            call = f"({batch_size}, {n}, split_batches={split})"
            try:
                got = fn(batch_size, n, split)
            except TypeError as err:
                fail(f"Calling your function with {call} raised TypeError: {err}. It should take "
                     "three arguments: batch_size, num_processes, split_batches.")
            got = _as_whole_number(got, f"Your function's result for {call}", allow_float=False)
            expected = per_process_batch(batch_size, n, split)
            if got == expected:
                continue
            if split and got == batch_size * n:
                fail(f"For {call} you give {got}: you multiplied instead of divided. With "
                     "split_batches=True the DataLoader's batch_size is the GLOBAL batch, shared "
                     f"out among the processes: each gets {batch_size} // {n} = {expected}.")
            if split and got == batch_size:
                fail(f"For {call} you give {got}, the whole batch. With split_batches=True the "
                     "processes share each batch: divide it by the number of processes.")
            if not split and got == batch_size // n:
                fail(f"For {call} you give {got}, but without split_batches (the default) "
                     f"nothing is divided: every process gets batch_size = {batch_size} rows, "
                     f"and one step uses {batch_size * n} reviews in all.")
            if not split and got == batch_size * n:
                fail(f"For {call} you give {got}: that is the global batch, all processes "
                     f"together. The question asks for ONE process: {expected}.")
            fail(f"For {call} your function gives {got}; each process gets {expected}.")

    return exercise(TITLE_BATCH, answer, check)


def check_steps_per_epoch(answer, *, num_examples: int, batch_size: int, num_processes: int,
                          split_batches: bool) -> CheckResult:
    """Exercise: optimizer steps per epoch on each process, for a prepared DataLoader."""

    def check(value):
        value = _as_whole_number(value, "Your number of steps")
        expected = steps_per_epoch(num_examples, batch_size, num_processes, split_batches)
        if value == expected:
            return
        batches = math.ceil(num_examples / batch_size)
        if split_batches:
            if value == math.ceil(batches / num_processes):
                fail(f"{value} would be right without split_batches. With split_batches=True "
                     "every process works on a slice of EVERY batch, so each takes one step "
                     f"per batch: {expected}.")
        else:
            if value == batches:
                fail(f"{value} is the number of batches of {batch_size} in {num_examples} "
                     "reviews: what ONE process alone would take. Here the processes take "
                     f"turns: each gets every {num_processes}-th batch.")
            if value == math.ceil(num_examples / num_processes):
                fail(f"{value} counts reviews per process, not steps. Each step takes a batch "
                     f"of {batch_size} reviews.")
        if value == expected - 1:
            fail(f"{value} is one short: you rounded down. The last, partial batch is still a "
                 "step (drop_last=False), and Accelerate evens the processes out so that each "
                 "takes the same number of steps: round UP (math.ceil).")
        fail(f"{value} is not the number of steps each process takes per epoch ({expected} "
             "for these numbers). Count the batches first, then how they are shared out.")

    return exercise(TITLE_STEPS, answer, check)


def check_split_accelerator(answer) -> CheckResult:
    """Exercise: an Accelerator whose prepared DataLoaders split each batch across processes."""

    def check(value):
        from accelerate import Accelerator, DataLoaderConfiguration

        if isinstance(value, DataLoaderConfiguration):
            fail("That is the DataLoader configuration alone. Pass it to the Accelerator: "
                 "Accelerator(dataloader_config=...).")
        if not isinstance(value, Accelerator):
            fail(f"The answer should be an Accelerator, got a {type(value).__name__}.")
        if not value.split_batches:
            fail("This Accelerator does not split batches (its .split_batches is False). "
                 "A split_batches=True passed straight to Accelerator is accepted and "
                 "silently ignored by today's Accelerate; the setting lives in "
                 "dataloader_config=DataLoaderConfiguration(split_batches=True).")

    return exercise(TITLE_SPLIT, answer, check)
