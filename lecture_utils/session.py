"""The first cell of every notebook: mode, device, versions, seeds, quiet logs, plot style."""

from __future__ import annotations

import platform
import random
from dataclasses import dataclass

from .modes import Mode, get_mode

SEED = 42
_SOURCES = {
    "tiny": "models are small local stand-ins, data is the bundled review set (offline)",
    "full": "models and data are the real ones, from the Hugging Face Hub or its cache",
}


@dataclass(frozen=True)
class Session:
    mode: Mode
    device: str
    seed: int
    versions: dict[str, str]


def pick_device() -> str:
    """'cuda' if an NVIDIA GPU is usable, else 'mps' on Apple silicon, else 'cpu'."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def library_versions() -> dict[str, str]:
    import accelerate
    import datasets
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "datasets": datasets.__version__,
        "accelerate": accelerate.__version__,
    }


def set_seed(seed: int = SEED) -> None:
    """Seed Python, NumPy and PyTorch (CPU and GPU) so reruns give the same numbers."""
    import numpy as np
    import torch

    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def _plot_style() -> None:
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.figsize": (7, 4),
        "figure.dpi": 100,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
    })


def setup(seed: int = SEED, *, show: bool = True) -> Session:
    """Prepare a notebook: choose the mode, pick the device, seed everything, quiet the logs.

    Prints one line each for the mode (and why), the device, the library versions and the
    seed, and returns them.
    """
    from huggingface_hub.utils import enable_progress_bars
    from transformers.utils import logging as hf_logging

    set_seed(seed)
    mode = get_mode(announce=False)
    device = pick_device()
    versions = library_versions()
    # One progress bar per weight load is noise in a notebook; warnings stay visible, and
    # so do the download bars of the Hub client (a first download in full mode takes time).
    hf_logging.disable_progress_bar()
    enable_progress_bars()
    if device == "cpu":
        # The Trainer asks its DataLoaders to pin memory (a GPU speed-up); on a CPU-only
        # machine PyTorch then warns at every loader. Nothing is wrong: silence that one.
        import warnings

        warnings.filterwarnings("ignore", message="'pin_memory' argument is set as true",
                                category=UserWarning)
    _plot_style()
    if show:
        gpu = ""
        if device == "cuda":
            import torch

            gpu = f" ({torch.cuda.get_device_name(0)})"
        print(f"Mode:     {mode.name.upper()}: {_SOURCES[mode.name]}.")
        print(f"          Why: {mode.reason}.")
        print(f"Device:   {device}{gpu}")
        print("Versions: " + " | ".join(f"{k} {v}" for k, v in versions.items()))
        print(f"Seed:     {seed}")
    return Session(mode=mode, device=device, seed=seed, versions=versions)
