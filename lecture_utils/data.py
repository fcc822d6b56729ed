"""Where the course's datasets come from.

The notebooks call ``load_dataset`` themselves; this module only says what to pass to it:
the Hub name in full mode, the bundled review folder in tiny mode.
"""

from __future__ import annotations

from pathlib import Path

from .modes import get_mode

IMDB = "stanfordnlp/imdb"
_BUNDLED = {IMDB: Path(__file__).resolve().parent / "data" / "imdb_tiny"}


def bundled_reviews() -> Path:
    """Folder of the bundled IMDB-shaped reviews (parquet files plus a dataset card)."""
    return _BUNDLED[IMDB]


def dataset_path(name: str = IMDB) -> str:
    """What to pass to ``load_dataset`` for the dataset ``name`` in the current mode.

    Full mode: ``name`` itself (from the Hub or the datasets cache).
    Tiny mode: the folder of the bundled stand-in, laid out like the Hub repository.
    """
    if not isinstance(name, str) or name.count("/") != 1:
        raise ValueError(
            f"Dataset names look like 'owner/name' (for example {IMDB!r}); got {name!r}."
        )
    if get_mode().is_tiny:
        if name not in _BUNDLED:
            known = ", ".join(sorted(_BUNDLED))
            raise ValueError(
                f"No bundled tiny version of {name!r}. Tiny mode knows: {known}. "
                "Use one of these, or run with LECTURE_MODE=full to load it from the Hub."
            )
        return str(_BUNDLED[name])
    return name
