"""Where training notebooks write, and how they write checkpoints that survive a crash.

The training itself (the loop, the Trainer call, what goes into a checkpoint) stays in the
notebooks. This module only decides *where* files go and makes a save all-or-nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def output_root() -> Path:
    """The one folder every notebook writes into.

    ``$LECTURE_OUTPUT_DIR`` if set (the test suite points it into ``build/``), else
    ``outputs/`` next to the notebooks (the current folder), which git ignores.
    """
    env = os.environ.get("LECTURE_OUTPUT_DIR")
    return Path(env).expanduser().resolve() if env else (Path.cwd() / "outputs").resolve()


def output_dir(name: str, *, fresh: bool = True) -> Path:
    """Return ``output_root() / name``, created; emptied first when ``fresh`` (the default).

    A fresh folder makes a rerun of a notebook behave like the first run: no stale
    checkpoint from last time gets picked up by a resume. Pass ``fresh=False`` to keep what
    an earlier run wrote.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"output_dir() wants a plain folder name such as '06_manual_training_loop' "
            f"(letters, digits, '_', '-', '.'; no slashes), got {name!r}."
        )
    folder = output_root() / name
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Write a folder all-or-nothing: ``with atomic_dir(path) as tmp: save into tmp``.

    Everything is written into a temporary folder next to ``target``. Only when the block
    finishes without an error is the folder renamed to ``target`` (a rename is atomic), so a
    crash in the middle of a save leaves no half-written ``target`` behind, and earlier
    checkpoints stay as they were. An existing ``target`` is replaced.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, old / target.name)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def checkpoint_step(path: str | os.PathLike) -> int:
    """The step number in a ``checkpoint-<step>`` folder name."""
    match = _CHECKPOINT.match(Path(path).name)
    if not match:
        raise ValueError(f"{Path(path).name!r} is not named checkpoint-<step>.")
    return int(match.group(1))


def latest_checkpoint(folder: str | os.PathLike, *,
                      marker: str = "trainer_state.json") -> Path | None:
    """The newest complete ``checkpoint-<step>`` folder in ``folder``, or None if there is none.

    A checkpoint counts as complete when it holds ``marker``, a file written last: the
    Trainer writes ``trainer_state.json`` after the model, optimizer, scheduler and RNG
    states. (``Trainer.train(resume_from_checkpoint=True)`` takes the highest step even if
    that save was cut short.) Folders that are not named ``checkpoint-<step>`` are ignored.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No folder {folder}: nothing was saved there yet.")
    complete = [p for p in folder.iterdir()
                if p.is_dir() and _CHECKPOINT.match(p.name) and (p / marker).is_file()]
    return max(complete, key=checkpoint_step, default=None)
