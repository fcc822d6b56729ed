import re

import pytest
import torch

import lecture_utils as lu
from lecture_utils.session import pick_device, set_seed


def test_setup_prints_mode_reason_device_versions_and_seed(mode, capsys):
    mode("tiny")
    session = lu.setup()
    out = capsys.readouterr().out
    assert "Mode:     TINY" in out and "stand-ins" in out
    assert "Why: LECTURE_MODE=tiny is set" in out
    assert f"Device:   {session.device}" in out
    for lib in ("python", "torch", "transformers", "datasets", "accelerate"):
        assert re.search(rf"{lib} \d+\.\d+", out), lib
    assert "Seed:     42" in out
    assert session.mode.name == "tiny" and session.seed == 42


def test_setup_in_full_mode_says_so(mode, capsys):
    mode("full")
    session = lu.setup(seed=7)
    out = capsys.readouterr().out
    assert "Mode:     FULL" in out and "Hugging Face Hub" in out and "Seed:     7" in out
    assert session.mode.name == "full"


def test_setup_seeds_everything(mode):
    mode("tiny")
    lu.setup(show=False)
    a = torch.rand(3)
    lu.setup(show=False)
    assert torch.equal(a, torch.rand(3))


def test_setup_silences_weight_loading_bars(mode):
    from transformers.utils import logging as hf_logging

    mode("tiny")
    hf_logging.enable_progress_bar()
    lu.setup(show=False)
    assert not hf_logging.is_progress_bar_enabled()


def test_setup_with_a_bad_mode_is_a_clear_error(mode):
    mode("medium")
    with pytest.raises(lu.ModeError, match="LECTURE_MODE=tiny"):
        lu.setup()


@pytest.mark.parametrize("seed", [-1, 1.5, "42", True, None])
def test_bad_seed(seed):
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        set_seed(seed)


def test_pick_device_here():
    expected = "cuda" if torch.cuda.is_available() else None
    assert pick_device() in ({expected} if expected else {"cpu", "mps"})


def test_quiet_progress_restores_state():
    import datasets

    datasets.enable_progress_bars()
    with lu.quiet_progress():
        assert not datasets.is_progress_bar_enabled()
    assert datasets.is_progress_bar_enabled()


def test_setup_keeps_download_bars_visible(mode):
    from huggingface_hub.utils import are_progress_bars_disabled, disable_progress_bars

    mode("tiny")
    disable_progress_bars()
    lu.setup(show=False)
    assert not are_progress_bars_disabled()  # a first download in full mode shows progress


def test_setup_silences_the_pin_memory_warning_on_a_cpu_only_machine(mode, monkeypatch):
    import warnings

    import torch
    from torch.utils.data import DataLoader

    import lecture_utils.session as session

    mode("tiny")
    monkeypatch.setattr(session, "pick_device", lambda: "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        session.setup(show=False)
        next(iter(DataLoader(torch.zeros(4, 2), batch_size=2, pin_memory=True)))
