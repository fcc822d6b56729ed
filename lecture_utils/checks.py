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
    :class:`ExerciseError`.
    """
    if unanswered(answer):
        print(f"\N{HOURGLASS} {title}: not answered yet. Replace the ... with your code and run "
              "the cell again.")
        return CheckResult(False)
    check(answer)
    print(f"\N{WHITE HEAVY CHECK MARK} {title}: correct!")
    return CheckResult(True)
