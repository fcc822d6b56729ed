"""Build the student and instructor copies of the course from notebooks/ (`make handouts`).

The notebooks are the one source of truth. Each exercise is a code cell with a
``# YOUR CODE HERE`` placeholder, followed by a "#### Solution (try first!)" heading and a
code cell tagged ``solution``. Then:

- the **student** copy drops every cell tagged ``solution`` (markdown included) and the
  "Solution" heading just before each one, and has no outputs;
- the **instructor** copy keeps every cell, and has no outputs.

Each set is a folder that works on its own: the notebooks plus the files they read next to
them (``train_accelerate.py``, ``accelerate_configs/``); ``assets/`` is copied beside the two
folders so that ``../assets/...`` links still resolve.

    python scripts/handouts.py                 # -> build/handouts/{student,instructor}/
    python scripts/handouts.py --out DIR

``tests/test_handouts.py`` executes the student copies (every exercise cell must print the
"not answered yet" reminder and no cell may fail) and checks the instructor copies.
"""

from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor, TagRemovePreprocessor

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "build" / "handouts"

SOLUTION_TAG = "solution"
EXERCISE_MARKER = "# YOUR CODE HERE"
# A markdown cell that is only a heading naming a solution: "#### Solution (try first!)".
SOLUTION_HEADING = re.compile(r"\A\s*#{1,6}\s+Solution\b[^\n]*\s*\Z", re.IGNORECASE)
# Not copied from notebooks/ into a handout folder.
IGNORED = shutil.ignore_patterns("*.ipynb", "outputs", ".ipynb_checkpoints", "__pycache__",
                                 "*.pyc")


class HandoutError(ValueError):
    """A notebook whose solution cells cannot be told apart safely."""


def is_solution(cell) -> bool:
    return SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def is_solution_heading(cell) -> bool:
    return cell.cell_type == "markdown" and bool(SOLUTION_HEADING.match(cell.source))


def is_exercise(cell) -> bool:
    """A code cell the student fills in (it holds the ``# YOUR CODE HERE`` placeholder)."""
    return cell.cell_type == "code" and EXERCISE_MARKER in cell.source


def _clear_outputs(nb):
    nb, _ = ClearOutputPreprocessor().preprocess(nb, {})
    return nb


def student_copy(nb, name: str = "notebook"):
    """A copy of ``nb`` without solutions and without outputs (``nb`` is left unchanged).

    Removes every cell tagged ``solution`` and each "Solution" heading cell that introduces
    one. Raises :class:`HandoutError` when a "Solution" heading is not followed by a cell
    tagged ``solution`` (the solution would otherwise reach students: tag that cell), or
    when a cell tagged ``solution`` holds the ``# YOUR CODE HERE`` placeholder (an exercise
    tagged by mistake would vanish from the student copy).
    """
    nb = copy.deepcopy(nb)
    cells = nb.cells
    for i, cell in enumerate(cells):
        if is_solution(cell) and is_exercise(cell):
            raise HandoutError(f"{name} cell {i} is tagged {SOLUTION_TAG!r} but holds "
                               f"{EXERCISE_MARKER!r}: an exercise must stay in the student "
                               "copy. Remove the tag from that cell.")
        if is_solution_heading(cell):
            following = cells[i + 1] if i + 1 < len(cells) else None
            if following is None or not is_solution(following):
                raise HandoutError(
                    f"{name} cell {i} is a solution heading ({cell.source.strip()!r}) but the "
                    f"cell after it is not tagged {SOLUTION_TAG!r}; tag the solution cell, or "
                    "the student copy would contain the solution.")
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            tags.append(SOLUTION_TAG)  # removed with the solution it introduces
    remover = TagRemovePreprocessor(remove_cell_tags={SOLUTION_TAG}, enabled=True)
    nb, _ = remover.preprocess(nb, {})
    return _clear_outputs(nb)


def instructor_copy(nb):
    """A copy of ``nb`` with every cell, solutions included, and without outputs."""
    return _clear_outputs(copy.deepcopy(nb))


REMINDER = "not answered yet"  # what lecture_utils.checks.exercise prints for a `...` answer
SUCCESS = re.compile(r": correct!$", re.MULTILINE)  # ... and for a right answer


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")


def student_run_problems(nb, name: str = "notebook") -> list[str]:
    """What is wrong with an executed student copy; an empty list when nothing is.

    In a student copy, nothing may fail, every exercise cell must print the "not answered
    yet" reminder (its ``...`` placeholder reached the check), and no cell may print a
    check's "correct!" (an answer reached the student copy).
    """
    problems = []
    n_exercises = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        where = f"{name} cell {i} ({cell.get('id', '?')})"
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                problems.append(f"{where} failed: {output.get('ename')}: "
                                f"{output.get('evalue', '')[:300]}")
        stdout = _stdout(cell)
        if is_exercise(cell):
            n_exercises += 1
            if REMINDER not in stdout:
                problems.append(f"{where} is an exercise but printed no {REMINDER!r} "
                                "reminder (does it still call its check?)")
        if SUCCESS.search(stdout):
            problems.append(f"{where} printed a check's 'correct!': the student copy holds "
                            "an answer (a solution cell without its 'solution' tag?)")
    if n_exercises == 0:
        problems.append(f"{name} has no exercise cell (none holds {EXERCISE_MARKER!r}).")
    return problems


def source_notebooks(folder: Path = NOTEBOOKS) -> list[Path]:
    paths = sorted(folder.glob("*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"No notebooks in {folder}.")
    return paths


def write_set(kind: str, out: Path, folder: Path = NOTEBOOKS) -> list[Path]:
    """Write the ``kind`` ("student" or "instructor") copies of ``folder``'s notebooks and
    their side files into ``out`` (emptied first). Returns the notebooks written."""
    make = {"student": lambda nb, name: student_copy(nb, name),
            "instructor": lambda nb, name: instructor_copy(nb)}.get(kind)
    if make is None:
        raise ValueError(f"kind must be 'student' or 'instructor', got {kind!r}.")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(folder, out, ignore=IGNORED)  # side files, without the notebooks
    written = []
    for path in source_notebooks(folder):
        nb = nbformat.read(path, as_version=4)
        target = out / path.name
        nbformat.write(make(nb, path.name), target)
        written.append(target)
    return written


def build(out: Path = DEFAULT_OUT, folder: Path = NOTEBOOKS) -> dict[str, list[Path]]:
    """Both sets under ``out``: ``out/student``, ``out/instructor`` and ``out/assets``."""
    out.mkdir(parents=True, exist_ok=True)
    sets = {kind: write_set(kind, out / kind, folder) for kind in ("student", "instructor")}
    assets = folder.parent / "assets"
    if assets.is_dir():
        shutil.rmtree(out / "assets", ignore_errors=True)
        shutil.copytree(assets, out / "assets")
    return sets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="folder for the two sets (default: build/handouts)")
    args = parser.parse_args(argv)
    try:
        sets = build(args.out)
    except HandoutError as error:
        print(f"handouts: {error}", file=sys.stderr)
        return 1
    for kind, paths in sets.items():
        n_cells = sum(len(nbformat.read(p, as_version=4).cells) for p in paths)
        print(f"{kind:10} {len(paths)} notebooks, {n_cells} cells -> {paths[0].parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
