"""`make handouts`: student copies without solutions, instructor copies with them.

The slow part executes every student copy in tiny mode with the suite's environment: each
exercise cell must print its "not answered yet" reminder and no cell may fail. Run it alone
with ``pytest -m handouts`` (or ``make test-handouts``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # scripts/ is not a package

import handouts  # noqa: E402

NOTEBOOKS = handouts.source_notebooks()
EXERCISE = 'answer = ...  # YOUR CODE HERE\nchecks.exercise("Exercise 1", answer, check)'
SOLUTION = 'answer = 42\nchecks.exercise("Exercise 1", answer, check)'


def tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def small_course(*, solution_tag: bool = True, heading: bool = True, broken: str = ""):
    """A notebook shaped like the course's: set-up, an exercise, its solution, a summary."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    check = "def check(a):\n    if a != 42:\n        checks.fail('not 42')"
    cells = [md("# 00 · A tiny course"),
             code(f"from lecture_utils import checks\n\n{check}"),
             code(broken or "x = 1"),
             md("### Exercise 1 · The answer"),
             code(EXERCISE)]
    if heading:
        cells.append(md("#### Solution (try first!)"))
    solution = code(SOLUTION)
    cells += [tagged(solution, "solution") if solution_tag else solution, md("## Summary")]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def execute(nb, cwd: Path, *, timeout: int = 150):
    """Run ``nb`` in a fresh kernel in ``cwd`` (errors recorded as outputs, not raised).

    A kernel start that hangs (a rare race when two kernels start at once) is tried once more.
    """
    for attempt in (1, 2):
        client = NotebookClient(nb, timeout=timeout, startup_timeout=60, kernel_name="python3",
                                allow_errors=True, resources={"metadata": {"path": str(cwd)}})
        try:
            return client.execute()
        except RuntimeError as error:
            if attempt == 2 or "didn't respond" not in str(error):
                raise
    raise AssertionError("unreachable")


# ---- building the copies -------------------------------------------------------------------

def test_student_copy_drops_solutions_and_their_headings():
    nb = small_course()
    nb.cells[4].outputs = [nbformat.v4.new_output("stream", text="old output\n")]
    nb.cells[4].execution_count = 3
    student = handouts.student_copy(nb)
    sources = [c.source for c in student.cells]
    assert sources == [c.source for c in nb.cells if "Solution" not in c.source
                       and c.source != SOLUTION]
    assert EXERCISE in sources and SOLUTION not in sources
    assert student.cells[4].outputs == [] and student.cells[4].execution_count is None
    assert len(nb.cells) == 8 and nb.cells[4].outputs  # the source is left as it was


def test_instructor_copy_keeps_every_cell_without_outputs():
    nb = small_course()
    nb.cells[6].outputs = [nbformat.v4.new_output("stream", text="Exercise 1: correct!\n")]
    instructor = handouts.instructor_copy(nb)
    assert [c.source for c in instructor.cells] == [c.source for c in nb.cells]
    assert instructor.cells[6].outputs == [] and "solution" in instructor.cells[6].metadata.tags


def test_a_solution_heading_before_an_untagged_cell_is_refused():
    with pytest.raises(handouts.HandoutError, match="cell 5 is a solution heading.*not tagged"):
        handouts.student_copy(small_course(solution_tag=False))


def test_a_tagged_exercise_is_refused():
    nb = small_course()
    tagged(nb.cells[4], "solution")
    with pytest.raises(handouts.HandoutError, match="cell 4 is tagged 'solution' but holds"):
        handouts.student_copy(nb)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_course_student_copy_has_every_exercise_and_no_solution(path):
    source = nbformat.read(path, as_version=4)
    student = handouts.student_copy(source, path.name)
    exercises = [c for c in source.cells if handouts.is_exercise(c)]
    solutions = [c for c in source.cells if handouts.is_solution(c) and c.cell_type == "code"]
    assert exercises, f"{path.name} has no exercise"
    # one solution code cell per exercise (a markdown cell that discusses a solution may be
    # tagged too, and leaves the student copy with it)
    assert len(solutions) == len(exercises), "one solution cell per exercise cell"
    assert not any(handouts.is_solution(c) or handouts.is_solution_heading(c)
                   for c in student.cells)
    kept = [c for c in source.cells
            if not handouts.is_solution(c) and not handouts.is_solution_heading(c)]
    assert [c.source for c in student.cells] == [c.source for c in kept]
    assert [c.id for c in student.cells] == [c.id for c in kept]


def test_make_handouts_writes_both_sets(tmp_path):
    out = tmp_path / "handouts"
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "handouts.py"),
                             "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in NOTEBOOKS)
    for kind in ("student", "instructor"):
        folder = out / kind
        assert sorted(p.name for p in folder.glob("*.ipynb")) == names
        assert (folder / "train_accelerate.py").is_file()  # notebook 11 runs it from here
        assert (folder / "accelerate_configs" / "cpu_2_processes.yaml").is_file()
        assert not (folder / "outputs").exists()
    for path in NOTEBOOKS:  # committed without outputs, so the instructor copy is the source
        assert (out / "instructor" / path.name).read_text(encoding="utf-8") == \
            path.read_text(encoding="utf-8")
        student = nbformat.read(out / "student" / path.name, as_version=4)
        assert not any(handouts.is_solution(c) for c in student.cells)
    assert "student" in result.stdout and "instructor" in result.stdout


# ---- the check on executed student copies ---------------------------------------------------

def stream(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def executed(*outputs_per_cell):
    """A small executed student copy: a set-up cell, then an exercise cell."""
    cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(EXERCISE)]
    for cell, name, outputs in zip(cells, ("setup", "exercise"), outputs_per_cell, strict=True):
        cell.id, cell.outputs = name, outputs
    return nbformat.v4.new_notebook(cells=cells)


def test_run_check_passes_a_clean_run_and_names_each_problem():
    reminder = stream("⌛ Exercise 1: not answered yet. Replace the ... and run the cell again.\n")
    assert handouts.student_run_problems(executed([], [reminder])) == []

    error = nbformat.v4.new_output("error", ename="NameError", evalue="name 'y' is not defined",
                                   traceback=[])
    assert handouts.student_run_problems(executed([error], [reminder]), "nb") == [
        "nb cell 0 (setup) failed: NameError: name 'y' is not defined"]
    [silent] = handouts.student_run_problems(executed([], []))
    assert "cell 1" in silent and "no 'not answered yet' reminder" in silent
    [answered] = handouts.student_run_problems(
        executed([stream("✅ Exercise 1: correct!\n")], [reminder]))
    assert "cell 0" in answered and "holds an answer" in answered
    no_exercise = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    assert handouts.student_run_problems(no_exercise, "nb") == [
        "nb has no exercise cell (none holds '# YOUR CODE HERE')."]


@pytest.mark.slow
def test_run_check_catches_a_leaked_solution_and_a_failing_cell_in_a_real_kernel(tmp_path):
    good = handouts.student_copy(small_course())
    assert handouts.student_run_problems(execute(good, tmp_path), "good") == []

    # A solution that lost both its tag and its heading is invisible to the builder; the run
    # shows it: the check prints "correct!".
    leaked = handouts.student_copy(small_course(solution_tag=False, heading=False))
    [problem] = handouts.student_run_problems(execute(leaked, tmp_path), "leaked")
    assert "holds an answer" in problem

    broken = handouts.student_copy(small_course(broken="y = undefined_name + 1"))
    [problem] = handouts.student_run_problems(execute(broken, tmp_path), "broken")
    assert problem.startswith("broken cell 2") and "NameError" in problem


# ---- the course's student copies, executed ---------------------------------------------------

@pytest.fixture(scope="module")
def student_set(tmp_path_factory):
    out = tmp_path_factory.mktemp("handouts") / "student"
    handouts.write_set("student", out)
    return out


@pytest.mark.slow
@pytest.mark.handouts
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_copy_runs_with_every_exercise_unanswered(path, student_set, monkeypatch):
    # Tiny mode with the suite's environment (conftest.py); outputs in a folder of their own.
    monkeypatch.setenv("LECTURE_OUTPUT_DIR", str(ROOT / "build" / "outputs-handouts"))
    nb = nbformat.read(student_set / path.name, as_version=4)
    problems = handouts.student_run_problems(execute(nb, student_set), path.name)
    assert problems == [], "\n".join(problems)
