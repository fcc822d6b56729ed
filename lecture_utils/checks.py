"""Self-checks for exercises: say whether an answer is right and, if not, why.

An exercise cell leaves ``...`` (Ellipsis) as the answer until the student fills it in;
checking an unanswered exercise only prints a reminder, so a notebook still runs top to
bottom. A wrong answer raises :class:`ExerciseError` with a message that says what is off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any


class ExerciseError(AssertionError):
    """A wrong answer. Displayed in Jupyter as a short message, without a traceback."""

    def _render_traceback_(self):  # IPython calls this instead of printing a traceback
        return [f"\N{CROSS MARK} Not yet: {self}"]


def unanswered(value: Any) -> bool:
    """True while the student has not replaced the ``...`` placeholder."""
    return value is Ellipsis


def fail(message: str) -> None:
    raise ExerciseError(message)


def as_int(value, name: str, *, float_hint: str = "Use int(...).") -> int:
    """``value`` as a Python int (0-d tensors and NumPy integers too), or a helpful failure."""
    import operator

    if isinstance(value, bool):
        fail(f"{name} should be a whole number, got the bool {value!r}.")
    if isinstance(value, str):
        fail(f"{name} should be a number (an int), got the string {value!r}.")
    if isinstance(value, float):
        if value.is_integer():
            fail(f"{name} is the float {value!r}; {float_hint}")
        fail(f"{name} should be a whole number (an int), got {value!r}.")
    numel = getattr(value, "numel", None)
    if callable(numel) and numel() != 1:
        fail(f"{name} should be a single number, got a tensor of shape "
             f"{tuple(value.shape)}. Reduce it to one value (for example with .item()).")
    if hasattr(value, "item") and not isinstance(value, int):
        value = value.item()
        if isinstance(value, float):
            return as_int(value, name, float_hint=float_hint)
    try:
        return operator.index(value)
    except TypeError:
        fail(f"{name} should be an int, got a {type(value).__name__} ({value!r}).")
    raise AssertionError("unreachable")  # pragma: no cover  (fail always raises)


def as_count(answer, *, n_parts: int, per_part: str) -> int:
    """A token count as a Python int, or a failure that explains what the answer is instead.

    ``n_parts`` is how many pieces the total is made of (rows of a batch, batches of a pass);
    an answer with one number per piece fails with ``per_part``, which says what to add up.
    """
    import numbers

    import torch

    if isinstance(answer, torch.Tensor):
        if answer.numel() == 1:
            answer = answer.item()
        elif answer.dim() == 1 and answer.numel() == n_parts:
            fail(per_part)
        else:
            fail(f"Your answer is a tensor of shape {tuple(answer.shape)}; the answer is one "
                 "number. Reduce it with `.sum()` (and `int(...)` for a plain int).")
    if isinstance(answer, (list, tuple)):
        if len(answer) == n_parts:
            fail(per_part)
        fail(f"Your answer is a {type(answer).__name__}; the answer is one number.")
    if isinstance(answer, bool):
        fail(f"Your answer is {answer!r}, a bool; the answer is a count (an int).")
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    if not isinstance(answer, numbers.Integral):
        fail(f"Your answer is {answer!r} ({type(answer).__name__}); the answer is a whole "
             "number of tokens.")
    return int(answer)


def _as_tuple_shape(value) -> tuple[int, ...] | None:
    shape = getattr(value, "shape", None)
    if shape is None:
        return None
    return tuple(int(d) for d in shape)


def check_shape(value, expected: Sequence[int], name: str) -> None:
    shape = _as_tuple_shape(value)
    if shape is None:
        fail(f"{name} should be a tensor with a .shape, but it is a {type(value).__name__}.")
    if shape != tuple(expected):
        fail(f"{name} has shape {shape}, expected {tuple(expected)}.")


def check_equal(value, expected, name: str, hint: str = "") -> None:
    """Fail unless ``value`` equals ``expected`` (floats within a relative 1e-6).

    Tensors and arrays are compared as lists; a list and a tuple with the same items match.
    A bool never stands in for a number, nor a number for a bool.
    """
    if isinstance(value, bool) != isinstance(expected, bool) and \
            isinstance(value, (bool, int, float)) and isinstance(expected, (bool, int, float)):
        fail(f"{name} is {value!r}, expected {expected!r}: a bool and a number are different "
             f"answers. {hint}".strip())
    if isinstance(expected, float) or isinstance(value, float):
        if not isinstance(value, (int, float)) or not math.isclose(value, expected,
                                                                   rel_tol=1e-6, abs_tol=1e-9):
            fail(f"{name} is {value!r}, expected {expected!r}. {hint}".strip())
        return
    if hasattr(value, "tolist") and not isinstance(expected, type(value)):
        value = value.tolist()
    if hasattr(expected, "tolist"):
        expected = expected.tolist()
    if type(value) is not type(expected) and not (
        isinstance(value, (list, tuple)) and isinstance(expected, (list, tuple))
    ):
        fail(f"{name} should be of type {type(expected).__name__}, not "
             f"{type(value).__name__} ({value!r}). {hint}".strip())
    if isinstance(value, (list, tuple)):
        value, expected = list(value), list(expected)
    if value != expected:
        fail(f"{name} is {value!r}, expected {expected!r}. {hint}".strip())


def check_close(value, expected, name: str, atol: float = 1e-5) -> None:
    import torch

    if not isinstance(value, torch.Tensor):
        fail(f"{name} should be a tensor, got a {type(value).__name__}.")
    expected = torch.as_tensor(expected)
    check_shape(value, expected.shape, name)
    diff = (value.detach().float().cpu() - expected.detach().float().cpu()).abs().max().item()
    if diff > atol:
        fail(f"{name} differs from the expected values by up to {diff:.3g} (tolerance {atol}).")


class CheckResult:
    """Truthy when the answer was right, falsy while unanswered.

    Shows nothing when it is the last value of a cell: the printed message says it all.
    """

    def __init__(self, passed: bool):
        self.passed = passed

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return f"CheckResult(passed={self.passed})"

    def _ipython_display_(self) -> None:
        pass


def exercise(title: str, answer, check: Callable[[Any], None]) -> CheckResult:
    """Run ``check(answer)``; print success, or a reminder if unanswered.

    The result is truthy for a right answer and falsy if unanswered; a wrong answer raises
    :class:`ExerciseError`. ``check`` says an answer is wrong by raising (``fail(...)``) and
    returns None; one that returns anything else (a ``False`` verdict, say) raises TypeError
    instead of passing every answer.
    """
    if unanswered(answer):
        print(f"\N{HOURGLASS} {title}: not answered yet. Replace the ... with your code and run "
              "the cell again.")
        return CheckResult(False)
    verdict = check(answer)
    if verdict is not None:
        raise TypeError(
            f"The check of {title!r} returned {verdict!r} instead of raising: a check reports a "
            "wrong answer with fail(...) (ExerciseError) and returns None, so this answer "
            "was not judged."
        )
    print(f"\N{WHITE HEAVY CHECK MARK} {title}: correct!")
    return CheckResult(True)


class NotLearnedError(AssertionError):
    """In tiny mode, a model did not do what the stand-ins are trained to do."""


def expect_trained(holds: bool, claim: str) -> bool:
    """Check a claim that only a *trained* model makes true, where the weights are known.

    ``claim`` says in words what a trained model does (for example "the first review reads as
    POSITIVE"), and ``holds`` whether this model does it. In tiny mode the stand-ins are
    trained for every such claim in the notebooks, so a claim that does not hold means broken
    code, and this raises :class:`NotLearnedError`. In full mode it only reports: the real
    checkpoints can disagree on a borderline example, and the course's full-size test runs
    with random weights. Returns ``holds``.
    """
    from .modes import get_mode

    if not isinstance(holds, bool):
        raise TypeError(f"holds must be True or False (the result of the comparison), "
                        f"got {holds!r}.")
    if not isinstance(claim, str) or not claim.strip():
        raise ValueError("claim must say in words what a trained model does.")
    mode = get_mode(announce=False).name
    if holds:
        print(f"As expected of a trained model: {claim}.")
    elif mode == "tiny":
        raise NotLearnedError(f"Expected of the trained tiny stand-in, but not the case: {claim}."
                              " The stand-ins are built to do this, so the code above is off.")
    else:
        print(f"Not the case with this model: {claim}. (A trained model does it; reported, "
              "not checked, in full mode.)")
    return holds


def expect_learned(accuracy: float, *, labels=None, tiny_minimum: float = 0.9) -> None:
    """Report a validation accuracy next to the majority-class baseline, and guard tiny mode.

    ``labels`` (the validation labels) give the baseline: the accuracy of always answering
    the most common class. In tiny mode the stand-ins are built so that the notebooks' recipes
    reach ``tiny_minimum``; falling short means the training code is broken, and this raises
    (the course's CI relies on it). In full mode nothing is guaranteed with 128 reviews, so
    this only reports.
    """
    import numbers

    from .modes import get_mode

    if isinstance(accuracy, bool) or not isinstance(accuracy, numbers.Real) \
            and not hasattr(accuracy, "item"):
        raise TypeError(f"accuracy must be a number between 0 and 1, got {accuracy!r}.")
    accuracy = float(accuracy)
    if not 0.0 <= accuracy <= 1.0:
        raise ValueError(f"accuracy must be between 0 and 1, got {accuracy}. "
                         "(A percentage? Divide by 100.)")
    line = f"Validation accuracy {accuracy:.3f}"
    if labels is not None:
        import numpy as np

        values = np.asarray(labels.tolist() if hasattr(labels, "tolist") else list(labels))
        if values.size == 0:
            raise ValueError("labels is empty: pass the validation labels.")
        baseline = float(np.unique(values, return_counts=True)[1].max() / values.size)
        line += f" (always answering the most common class scores {baseline:.3f})"
    mode = get_mode(announce=False).name
    if mode == "tiny" and accuracy < tiny_minimum:
        raise NotLearnedError(
            f"{line}. The tiny stand-in reaches at least {tiny_minimum} with this recipe, so "
            "something in the training code is off: check the learning rate, that labels "
            "reach the model, that the optimizer steps and that evaluation uses model.eval()."
        )
    print(line + ("." if mode == "full" else f": learned (tiny mode needs >= {tiny_minimum})."))
