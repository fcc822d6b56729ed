from __future__ import annotations

import pytest


@pytest.fixture
def mode(monkeypatch):
    """Set LECTURE_MODE for one test: ``mode("full")``."""
    import lecture_utils.modes as modes

    monkeypatch.setattr(modes, "_auto_choice", None)

    def set_mode(value: str | None):
        if value is None:
            monkeypatch.delenv("LECTURE_MODE", raising=False)
        else:
            monkeypatch.setenv("LECTURE_MODE", value)

    return set_mode
