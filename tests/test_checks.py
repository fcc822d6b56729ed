import pytest
import torch

from lecture_utils.checks import (
    CheckResult,
    ExerciseError,
    check_close,
    check_equal,
    check_shape,
    exercise,
    unanswered,
)


def test_unanswered_prints_a_reminder_and_does_not_raise(capsys):
    result = exercise("Exercise 1", ..., lambda a: check_equal(a, 3, "answer"))
    assert not result and isinstance(result, CheckResult)
    assert "not answered yet" in capsys.readouterr().out
    assert unanswered(...) and not unanswered(None)


def test_right_answer(capsys):
    assert exercise("Exercise 1", 3, lambda a: check_equal(a, 3, "answer"))
    assert "correct" in capsys.readouterr().out


def test_wrong_answer_says_why():
    with pytest.raises(ExerciseError, match=r"answer is 4, expected 3\. Count again\."):
        exercise("Exercise 1", 4, lambda a: check_equal(a, 3, "answer", hint="Count again."))


def test_a_check_that_returns_a_verdict_instead_of_raising_is_refused(capsys):
    """A check returning False must not print "correct!": checks fail by raising."""
    with pytest.raises(TypeError, match="returned False"):
        exercise("Exercise 1", 4, lambda a: a == 3)
    with pytest.raises(TypeError, match="returned True"):
        exercise("Exercise 1", 3, lambda a: a == 3)
    assert "correct" not in capsys.readouterr().out


def test_check_equal_does_not_take_a_bool_for_a_number():
    with pytest.raises(ExerciseError, match="bool"):
        check_equal(True, 1.0, "ratio")
    with pytest.raises(ExerciseError, match="bool"):
        check_equal(1.0, True, "flag")
    check_equal(1, 1.0, "ratio")  # an int for a float is fine


def test_result_shows_nothing_in_jupyter():
    assert CheckResult(True)._ipython_display_() is None


def test_error_renders_without_traceback():
    err = ExerciseError("the shape is wrong")
    assert err._render_traceback_() == ["\N{CROSS MARK} Not yet: the shape is wrong"]
    assert isinstance(err, AssertionError)


def test_check_equal_types_and_tensors():
    check_equal(torch.tensor([1, 2]), [1, 2], "ids")
    check_equal((1, 2), [1, 2], "ids")
    check_equal(0.1 + 0.2, 0.3, "x")
    with pytest.raises(ExerciseError, match="should be of type int, not str"):
        check_equal("3", 3, "n")
    with pytest.raises(ExerciseError, match="x is 0.5, expected 0.3"):
        check_equal(0.5, 0.3, "x")


def test_check_shape_and_close():
    check_shape(torch.zeros(2, 3), (2, 3), "t")
    with pytest.raises(ExerciseError, match=r"t has shape \(3, 2\), expected \(2, 3\)"):
        check_shape(torch.zeros(3, 2), (2, 3), "t")
    with pytest.raises(ExerciseError, match="should be a tensor with a .shape"):
        check_shape([1, 2], (2,), "t")
    check_close(torch.ones(2), torch.ones(2) + 1e-7, "w")
    with pytest.raises(ExerciseError, match="differs from the expected values by up to 0.5"):
        check_close(torch.ones(2), torch.tensor([1.0, 1.5]), "w")
    with pytest.raises(ExerciseError, match="should be a tensor"):
        check_close([1.0], torch.ones(1), "w")


# ------------------------------------------------------------------ expect_learned


def test_expect_learned_reports_accuracy_and_the_majority_baseline(mode, capsys):
    from lecture_utils.checks import expect_learned

    mode("tiny")
    expect_learned(torch.tensor(0.96875), labels=torch.tensor([0, 0, 0, 1]))
    out = capsys.readouterr().out
    assert "0.969" in out and "most common class scores 0.750" in out and "learned" in out


def test_expect_learned_fails_in_tiny_mode_when_the_stand_in_did_not_learn(mode):
    from lecture_utils.checks import NotLearnedError, expect_learned

    mode("tiny")
    with pytest.raises(NotLearnedError, match="learning rate"):
        expect_learned(0.75, labels=[0, 0, 0, 1])


def test_expect_learned_only_reports_in_full_mode(mode, capsys):
    from lecture_utils.checks import expect_learned

    mode("full")
    expect_learned(0.6)
    assert "Validation accuracy 0.600." in capsys.readouterr().out


@pytest.mark.parametrize("bad, error, message", [
    (90, ValueError, "percentage"),
    ("0.9", TypeError, "number between 0 and 1"),
    (True, TypeError, "number between 0 and 1"),
])
def test_expect_learned_rejects_what_is_not_an_accuracy(mode, bad, error, message):
    from lecture_utils.checks import expect_learned

    mode("tiny")
    with pytest.raises(error, match=message):
        expect_learned(bad)


def test_expect_learned_needs_labels_to_compute_a_baseline(mode):
    from lecture_utils.checks import expect_learned

    mode("tiny")
    with pytest.raises(ValueError, match="validation labels"):
        expect_learned(0.95, labels=[])


# ------------------------------------------------------------------ expect_trained

def test_expect_trained_reports_a_claim_that_holds(mode, capsys):
    from lecture_utils.checks import expect_trained

    for which in ("tiny", "full"):
        mode(which)
        assert expect_trained(True, "the review reads as POSITIVE") is True
        assert "As expected of a trained model: the review reads as POSITIVE." in \
            capsys.readouterr().out


def test_expect_trained_raises_in_tiny_mode_and_reports_in_full_mode(mode, capsys):
    from lecture_utils.checks import NotLearnedError, expect_trained

    mode("tiny")
    with pytest.raises(NotLearnedError, match="the review reads as POSITIVE"):
        expect_trained(False, "the review reads as POSITIVE")
    mode("full")
    assert expect_trained(False, "the review reads as POSITIVE") is False
    out = capsys.readouterr().out
    assert "Not the case with this model: the review reads as POSITIVE" in out
    assert "reported, not checked" in out


@pytest.mark.parametrize("holds, claim, error", [
    (1, "a claim", TypeError),  # a truthy number is not a comparison's result
    (None, "a claim", TypeError),
    (True, "", ValueError),
    (True, None, ValueError),
])
def test_expect_trained_bad_input(mode, holds, claim, error):
    from lecture_utils.checks import expect_trained

    mode("tiny")
    with pytest.raises(error):
        expect_trained(holds, claim)
