"""Helpers for the course *Hugging Face Transformers, hands-on*.

They decide where models and data come from (tiny or full mode), how things look (plots and
widgets), and check exercises. The Hugging Face calls being taught stay in the notebooks.
"""

from __future__ import annotations

import contextlib

__version__ = "0.1.0"


@contextlib.contextmanager
def quiet_progress():
    """Hide the progress bars of datasets and transformers inside the block."""
    import datasets
    from transformers.utils import logging as hf_logging

    ds_was = datasets.is_progress_bar_enabled()
    tf_was = hf_logging.is_progress_bar_enabled()
    datasets.disable_progress_bars()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if ds_was:
            datasets.enable_progress_bars()
        if tf_was:
            hf_logging.enable_progress_bar()


from . import checks, launch, plots, training, widgets  # noqa: E402
from .checkpoints import checkpoint, known_checkpoints  # noqa: E402
from .data import dataset_path  # noqa: E402
from .modes import ModeError, get_mode  # noqa: E402
from .session import setup  # noqa: E402

__all__ = ["checkpoint", "checks", "dataset_path", "get_mode", "known_checkpoints", "ModeError",
           "launch", "plots", "quiet_progress", "setup", "training", "widgets"]
