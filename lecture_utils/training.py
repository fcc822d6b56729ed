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


# Files written last by a complete save, and whose checkpoints they mark.
KNOWN_MARKERS = {
    "trainer_state.json": "the Trainer's checkpoints (notebook 07)",
    "training_state.pt": "the manual loop's own checkpoints (notebook 06)",
}


class IncompleteCheckpointsError(FileNotFoundError):
    """Checkpoint folders exist, but none holds the marker file of a complete save."""


def latest_checkpoint(folder: str | os.PathLike, *,
                      marker: str = "trainer_state.json") -> Path | None:
    """The newest complete ``checkpoint-<step>`` folder in ``folder``, or None if none was saved.

    A checkpoint counts as complete when it holds ``marker``, a file written last: the
    Trainer writes ``trainer_state.json`` after the model, optimizer, scheduler and RNG
    states; notebook 06's own checkpoints end with ``training_state.pt`` (pass
    ``marker="training_state.pt"``). ``Trainer.train(resume_from_checkpoint=True)`` takes the
    highest step even if that save was cut short; this skips it. Folders that are not named
    ``checkpoint-<step>`` are ignored.

    Returns None only when ``folder`` holds no ``checkpoint-<step>`` folder at all: nothing
    was saved yet, a run starts from scratch.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        IncompleteCheckpointsError: (a FileNotFoundError) checkpoint folders exist but none
            holds ``marker``. The message names the folders, the missing file and, when the
            folders hold another known marker, the ``marker=`` to pass.
        ValueError: ``marker`` is not a plain file name.
    """
    if not isinstance(marker, str) or not _NAME.match(marker):
        raise ValueError(f"marker must be a plain file name such as 'trainer_state.json' or "
                         f"'training_state.pt', got {marker!r}.")
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"No folder {folder}: nothing was saved there yet.")
    checkpoints = sorted((p for p in folder.iterdir() if p.is_dir() and _CHECKPOINT.match(p.name)),
                         key=checkpoint_step)
    complete = [p for p in checkpoints if (p / marker).is_file()]
    if complete:
        return complete[-1]
    if not checkpoints:
        return None
    raise IncompleteCheckpointsError(_no_complete_checkpoint(folder, checkpoints, marker))


def _no_complete_checkpoint(folder: Path, checkpoints: list[Path], marker: str) -> str:
    names = ", ".join(p.name for p in checkpoints)
    message = (f"{folder} holds checkpoint folders ({names}), but none holds {marker!r}, the "
               f"file written last by a complete save.")
    others = [m for m in KNOWN_MARKERS if m != marker
              and any((p / m).is_file() for p in checkpoints)]
    if others:
        holders = [p for p in checkpoints if (p / others[0]).is_file()]
        who = "They hold" if len(holders) == len(checkpoints) else \
            f"{', '.join(p.name for p in holders)} hold{'s' if len(holders) == 1 else ''}"
        return (f"{message} {who} {others[0]!r}, the last file of "
                f"{KNOWN_MARKERS[others[0]]}: pass marker={others[0]!r}.")
    newest = checkpoints[-1]
    files = sorted(p.name for p in newest.iterdir())
    shown = ", ".join(files[:8]) + (", ..." if len(files) > 8 else "") if files else "nothing"
    return (f"{message} {newest.name} holds {shown}. If your checkpoints end with another "
            f"file, pass it as marker=...; otherwise every save was cut short, so train from "
            f"the start (or resume from an earlier run's folder).")
