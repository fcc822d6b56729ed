"""Exercise checks, one module per notebook.

Each function takes the student's answer (``...`` until they fill it in) plus whatever it
needs to compute the right answer itself, and reports through :func:`lecture_utils.checks.exercise`:
a reminder while unanswered, a check mark when right, an :class:`~lecture_utils.checks.ExerciseError`
that says what is off when wrong.
"""
