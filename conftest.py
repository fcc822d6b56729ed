"""Test-suite environment, shared by the unit tests and the notebook runs (nbmake).

Everything the suite writes goes under build/: its own HF_HOME, its own stand-in cache,
never the user's. Every process it starts (notebook kernels included) gets the guards in
tests/guard (no network but loopback; deprecations from the Hugging Face libraries fail).

    pytest tests                              # unit tests
    pytest --nbmake notebooks                 # notebooks, tiny mode
    pytest --nbmake notebooks --lecture-mode=full
        # full mode at full size, offline: the real checkpoints' small files with random
        # full-size weights, in a throwaway HF_HOME, as a student's cache holds them
        # (tests/fullmode.py)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
BUILD = ROOT / "build"
GUARD_DIR = ROOT / "tests" / "guard"


def pytest_addoption(parser):
    parser.addoption("--lecture-mode", choices=["tiny", "full"], default="tiny",
                     help="run the notebooks in tiny mode, or in full mode at full size against "
                          "the real checkpoints' files (offline)")


def suite_environment(mode: str) -> dict[str, str]:
    """Environment variables for the suite in ``mode``; every path is under build/."""
    env = {
        "LECTURE_MODE": mode,
        "LECTURE_CACHE": str(BUILD / "lecture-cache"),
        "LECTURE_OUTPUT_DIR": str(BUILD / f"outputs-{mode}"),
        "HF_HOME": str(BUILD / f"hf-home-{mode}"),
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "MPLBACKEND": "Agg",
        "TOKENIZERS_PARALLELISM": "false",
        # Two notebooks run at once on a 2-core machine: one thread each, not two fighting
        # over both cores (which makes tiny training steps 20x slower).
        "OMP_NUM_THREADS": "1",
        "LECTURE_GUARDS": "1",
        "XDG_CACHE_HOME": str(BUILD / "xdg-cache"),
        "MPLCONFIGDIR": str(BUILD / "matplotlib"),
        "IPYTHONDIR": str(BUILD / "ipython"),
        "JUPYTER_RUNTIME_DIR": str(BUILD / "jupyter-runtime"),
        "PYTHONPATH": os.pathsep.join(
            [str(GUARD_DIR), str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(
                os.pathsep) if p]
        ),
    }
    return env


# Variables that could point the suite at the user's own caches or at a server.
UNSET = ("HF_DATASETS_CACHE", "HF_HUB_CACHE", "HF_XET_CACHE", "TRANSFORMERS_CACHE",
         "HUGGINGFACE_HUB_CACHE", "HF_ENDPOINT", "HF_TOKEN")


def pytest_configure(config):
    mode = config.getoption("--lecture-mode")
    os.environ.update(suite_environment(mode))
    for var in UNSET:
        os.environ.pop(var, None)
    if str(GUARD_DIR) not in sys.path:
        sys.path.insert(0, str(GUARD_DIR))
    import lecture_guard

    lecture_guard.install_network_guard()
    if mode == "full" and not hasattr(config, "workerinput"):  # once, in the controller
        from tests.fullmode import register_real_files_at_full_size

        register_real_files_at_full_size(Path(os.environ["HF_HOME"]))
