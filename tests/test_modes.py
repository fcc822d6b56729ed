import pytest

import lecture_utils.modes as modes
from lecture_utils import ModeError, get_mode


@pytest.mark.parametrize("value, expected", [("tiny", "tiny"), ("full", "full"),
                                             (" FULL ", "full"), ("Tiny", "tiny")])
def test_explicit_mode(mode, value, expected):
    mode(value)
    m = get_mode()
    assert m.name == expected
    assert "LECTURE_MODE" in m.reason
    assert m.is_tiny == (expected == "tiny")


@pytest.mark.parametrize("value", ["small", "1", "tiny mode", "gpu"])
def test_unknown_mode_is_a_clear_error(mode, value):
    mode(value)
    with pytest.raises(ModeError) as err:
        get_mode()
    message = str(err.value)
    assert repr(value) in message
    assert "LECTURE_MODE=tiny" in message and "LECTURE_MODE=full" in message


def _fake_machine(monkeypatch, cached, offline, reachable):
    monkeypatch.setattr(modes, "_real_checkpoint_cached", lambda: cached)
    monkeypatch.setattr(modes, "_offline_env", lambda: offline)
    monkeypatch.setattr(modes, "_hub_reachable", lambda timeout=2.0: reachable)


@pytest.mark.parametrize("cached, offline, reachable, expected, why", [
    (True, True, False, "full", "cache"),
    (False, True, True, "tiny", "HF_HUB_OFFLINE"),
    (False, False, True, "full", "reachable"),
    (False, False, False, "tiny", "not reachable"),
])
def test_unset_mode_picks_what_works_and_says_why(mode, monkeypatch, capsys, cached, offline,
                                                  reachable, expected, why):
    mode(None)
    _fake_machine(monkeypatch, cached, offline, reachable)
    m = get_mode()
    assert m.name == expected
    assert why in m.reason
    out = capsys.readouterr().out
    assert f"Using {expected.upper()} mode" in out and why in out
    # Decided once per process: asking again neither changes nor re-announces it.
    _fake_machine(monkeypatch, not cached, not offline, not reachable)
    assert get_mode().name == expected
    assert capsys.readouterr().out == ""


def test_unset_mode_on_this_offline_machine_is_tiny(mode, capsys):
    # Real probes: the suite's HF_HOME has no real checkpoint and the network guard refuses
    # the Hub, so the automatic choice must be tiny.
    mode(None)
    assert get_mode().name == "tiny"
    assert "tiny" in capsys.readouterr().out.lower()
