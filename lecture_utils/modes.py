"""Tiny or full: where the course's models and data come from.

- ``full``: the real checkpoints and ``stanfordnlp/imdb`` from the Hugging Face Hub (or its
  local cache, which also works offline with ``HF_HUB_OFFLINE=1``).
- ``tiny``: small local stand-ins built by this package and a bundled review dataset, with
  no network at all.

``LECTURE_MODE=tiny`` or ``LECTURE_MODE=full`` picks one. When it is unset, :func:`get_mode`
looks at this machine and picks what will work, and says why.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlparse

MODES = ("tiny", "full")
ENV_VAR = "LECTURE_MODE"
# If this checkpoint is in the Hugging Face cache, full mode can work without a network.
PROBE_CHECKPOINT = "distilbert/distilbert-base-cased"


class ModeError(ValueError):
    """LECTURE_MODE holds something that is not a mode."""


@dataclass(frozen=True)
class Mode:
    name: str
    reason: str

    @property
    def is_tiny(self) -> bool:
        return self.name == "tiny"

    def __str__(self) -> str:
        return self.name


def _real_checkpoint_cached() -> bool:
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(PROBE_CHECKPOINT, "config.json")
    return isinstance(found, str)


def _hub_reachable(timeout: float = 2.0) -> bool:
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    url = urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _offline_env() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


_auto_choice: Mode | None = None


def get_mode(*, announce: bool = True) -> Mode:
    """Return the mode in force and the reason for it.

    When ``LECTURE_MODE`` is unset the choice is made once per process and, with
    ``announce``, printed so that it is never a surprise.

    Raises :class:`ModeError` if ``LECTURE_MODE`` is set to anything but ``tiny`` or ``full``.
    """
    raw = os.environ.get(ENV_VAR, "")
    value = raw.strip().lower()
    if value in MODES:
        return Mode(value, f"{ENV_VAR}={value} is set")
    if value:
        raise ModeError(
            f"{ENV_VAR}={raw!r} is not a mode. Set {ENV_VAR}=tiny (small local stand-ins, "
            f"offline, seconds) or {ENV_VAR}=full (the real checkpoints from the Hugging Face "
            f"Hub), or unset it to let the course choose."
        )
    global _auto_choice
    if _auto_choice is None:  # decide once per process, so every cell agrees
        _auto_choice = _choose_automatically()
        if announce:
            print(f"[lecture_utils] Using {_auto_choice.name.upper()} mode: {_auto_choice.reason}.")
    return _auto_choice


def _choose_automatically() -> Mode:
    hint = f"set {ENV_VAR}=tiny or {ENV_VAR}=full to choose yourself"
    if _real_checkpoint_cached():
        return Mode("full", f"{ENV_VAR} is unset and the real checkpoints are in your "
                            f"Hugging Face cache ({hint})")
    if _offline_env():
        return Mode("tiny", f"{ENV_VAR} is unset, HF_HUB_OFFLINE is set and the real "
                            f"checkpoints are not cached ({hint})")
    if _hub_reachable():
        return Mode("full", f"{ENV_VAR} is unset and the Hugging Face Hub is reachable ({hint})")
    return Mode("tiny", f"{ENV_VAR} is unset and the Hugging Face Hub is not reachable ({hint})")
