"""Turn a real Hugging Face Hub id into what ``from_pretrained`` should load in this mode."""

from __future__ import annotations

from .modes import get_mode
from .standins import STANDINS, build_standin

# Old ids without an owner still redirect on the Hub; the course teaches the canonical ones.
LEGACY_ALIASES = {real_id.split("/")[1]: real_id for real_id in STANDINS}


def known_checkpoints() -> list[str]:
    """The Hub ids that have a tiny stand-in."""
    return sorted(STANDINS)


def checkpoint(model_id: str) -> str:
    """What to pass to ``from_pretrained`` for the real Hub id ``model_id``.

    Full mode: the id itself. Tiny mode: the folder of its local stand-in (built on first
    use, in a few seconds, then cached).
    """
    if not isinstance(model_id, str) or not model_id.strip():
        raise ValueError(f"Expected a Hub id such as 'distilbert/distilbert-base-cased', got {model_id!r}.")
    if model_id in LEGACY_ALIASES:
        raise ValueError(
            f"{model_id!r} is a legacy alias. Use the canonical id "
            f"{LEGACY_ALIASES[model_id]!r} (owner/name)."
        )
    if model_id.count("/") != 1:
        raise ValueError(
            f"Hub ids look like 'owner/name' (for example 'distilbert/distilgpt2'); got {model_id!r}."
        )
    if not get_mode().is_tiny:
        return model_id
    if model_id not in STANDINS:
        known = "\n  ".join(known_checkpoints())
        raise ValueError(
            f"There is no tiny stand-in for {model_id!r}. Tiny mode knows:\n  {known}\n"
            "Use one of these, or run with LECTURE_MODE=full to load any Hub model."
        )
    return str(build_standin(model_id))
