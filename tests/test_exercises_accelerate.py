"""Exercise checks of notebook 11 · Accelerate."""

from __future__ import annotations

import pytest
from accelerate import Accelerator, DataLoaderConfiguration

from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import accelerate as ex


def _accelerator(split: bool) -> Accelerator:
    """A real Accelerator object without touching Accelerate's process-wide state.

    Creating one with ``Accelerator()`` would fix the device and mixed precision for the whole
    test process; the check only reads ``split_batches``, which comes from the DataLoader
    configuration.
    """
    accelerator = object.__new__(Accelerator)
    accelerator.dataloader_config = DataLoaderConfiguration(split_batches=split)
    return accelerator


def right_batch(batch_size, num_processes, split_batches):
    return batch_size // num_processes if split_batches else batch_size


# -- Exercise 1: the batch each process gets ------------------------------------------------

def test_batch_right_answer_passes(capsys):
    assert ex.check_per_process_batch(right_batch)
    assert "Exercise 1 · The batch each process gets: correct!" in capsys.readouterr().out


def test_batch_unanswered_is_not_an_error(capsys):
    assert not ex.check_per_process_batch(...)
    assert "not answered yet" in capsys.readouterr().out


def test_a_function_that_still_returns_the_placeholder_is_unanswered(capsys):
    def per_process(batch_size, num_processes, split_batches):
        return ...

    assert not ex.check_per_process_batch(per_process)
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda b, n, s: b * n if s else b, "multiplied instead of divided"),
    (lambda b, n, s: b // n, "nothing is divided"),
    (lambda b, n, s: b, "the whole batch"),
    (lambda b, n, s: b // n if s else b * n, "that is the global batch"),
    (lambda b, n, s: b / n if s else b, "use integer division"),
    (lambda b, n: b // n, "three arguments"),
    (16, "should be a function"),
    (lambda b, n, s: str(b), "should be an int"),
])
def test_batch_typical_mistakes_are_explained(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        ex.check_per_process_batch(wrong)


def test_a_numpy_or_torch_integer_is_accepted():
    import torch

    assert ex.check_per_process_batch(
        lambda b, n, s: torch.tensor(b // n) if s else torch.tensor(b))


# -- Exercise 2: optimizer steps per epoch --------------------------------------------------

SCENARIO = dict(num_examples=25_000, batch_size=16, num_processes=4, split_batches=False)


def test_steps_come_from_accelerates_own_sharding():
    assert ex.steps_per_epoch(**SCENARIO) == 391  # ceil(ceil(25000 / 16) / 4)
    assert ex.steps_per_epoch(25_000, 16, 4, True) == 1563  # every process, every batch
    assert ex.steps_per_epoch(128, 16, 2, True) == 8
    assert ex.steps_per_epoch(128, 16, 2, False) == 4


def test_steps_right_answer_passes(capsys):
    assert ex.check_steps_per_epoch(391, **SCENARIO)
    assert "Exercise 2 · Optimizer steps per epoch: correct!" in capsys.readouterr().out


def test_steps_unanswered_is_not_an_error():
    assert not ex.check_steps_per_epoch(..., **SCENARIO)


@pytest.mark.parametrize("wrong, message", [
    (1563, "what ONE process alone would take"),
    (6250, "counts reviews per process"),
    (390, "you rounded down"),
    (390.625, "not a whole number"),
    (17, "not the number of steps"),
    (True, "whole number"),
])
def test_steps_typical_mistakes_are_explained(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        ex.check_steps_per_epoch(wrong, **SCENARIO)


def test_steps_with_split_batches_explains_the_difference():
    with pytest.raises(ExerciseError, match="would be right without split_batches"):
        ex.check_steps_per_epoch(391, num_examples=25_000, batch_size=16, num_processes=4,
                                 split_batches=True)
    assert ex.check_steps_per_epoch(1563, num_examples=25_000, batch_size=16, num_processes=4,
                                    split_batches=True)


# -- Exercise 3: an Accelerator that splits batches -----------------------------------------

def test_split_accelerator_right_answer_passes(capsys):
    assert ex.check_split_accelerator(_accelerator(split=True))
    assert "Exercise 3 · An Accelerator that splits batches: correct!" in capsys.readouterr().out


def test_split_accelerator_unanswered():
    assert not ex.check_split_accelerator(...)


def test_the_ignored_keyword_is_explained():
    with pytest.raises(ExerciseError, match="silently ignored"):
        ex.check_split_accelerator(_accelerator(split=False))


@pytest.mark.parametrize("wrong, message", [
    (DataLoaderConfiguration(split_batches=True), "Pass it to the Accelerator"),
    ({"split_batches": True}, "should be an Accelerator"),
])
def test_split_accelerator_other_mistakes(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        ex.check_split_accelerator(wrong)
