"""`make test-latest` (scripts/test_latest.py): its report, without installing anything.

The real run needs the package index and takes minutes; these tests check what it makes
of pytest's output and of the versions, and that it refuses to start on a bad lock file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # scripts/ is not a package

import test_latest  # noqa: E402

UNIT_LOG = """\
=================================== FAILURES ===================================
\x1b[31m________ test_resume[cpu] ________\x1b[0m
    def test_resume():
>       assert a == b
E       AssertionError: weights differ
E       assert 1 == 2
tests/test_x.py:3: AssertionError
_______________ /repo/notebooks/09_generation.ipynb ________________
with torch.no_grad():
    step = model(input_ids=next_id, past_key_values=cache)
\x1b[31mLibraryDeprecationError\x1b[39m                   Traceback (most recent call last)
LibraryDeprecationError: FutureWarning from transformers: `past_key_values` is deprecated.
=========================== short test summary info ============================
FAILED tests/test_x.py::test_resume[cpu] - AssertionError: weights differ
FAILED notebooks/09_generation.ipynb::09_generation.ipynb - -----------------...
=================== 2 failed, 10 passed in 224.75s (0:03:44) ===================
"""


def test_failures_name_each_broken_test_and_notebook_with_its_error(monkeypatch):
    monkeypatch.setattr(test_latest, "ROOT", Path("/repo"))
    assert test_latest.failures(UNIT_LOG) == [
        ("FAILED", "tests/test_x.py::test_resume[cpu]", "AssertionError: weights differ"),
        ("FAILED", "notebooks/09_generation.ipynb::09_generation.ipynb",
         "LibraryDeprecationError: FutureWarning from transformers: `past_key_values` is "
         "deprecated."),
    ]
    assert test_latest.failures("=== 12 passed in 3.0s ===") == []


def test_rerun_command_runs_notebooks_through_nbmake_and_tests_by_id():
    command = test_latest.pytest_command(["notebooks/09_generation.ipynb::09_generation.ipynb"])
    assert command[-2:] == ["--nbmake", "notebooks/09_generation.ipynb"]
    assert command[1] == str(ROOT / "build" / "venv-latest" / "bin" / "python")
    assert test_latest.pytest_command(["tests/test_x.py::test_a"])[-1] == "tests/test_x.py::test_a"


def result(target, broken=(), flaky=(), returncode=0):
    return {"target": target, "returncode": returncode, "broken": list(broken),
            "flaky": list(flaky), "counts": "3 passed", "seconds": 1.0,
            "log": ROOT / "build" / "test-latest" / f"{target}.log"}


def test_report_gives_versions_old_to_new_and_what_broke():
    pins = {"transformers": "5.23.0", "datasets": "5.2.0", "accelerate": "1.15.0",
            "peft": "0.21.2", "huggingface-hub": "2.4.0", "tokenizers": "0.23.3",
            "torch": "2.13.0", "regex": "2026.11.15"}
    now = {**pins, "transformers": "5.24.0", "torch": "2.13.0+cpu", "regex": "2026.12.1",
           "pip": "23.2.1"}
    text = test_latest.report(pins, now, {"transformers": "5.24.0"}, [
        result("test-unit", flaky=[("FAILED", "tests/test_c.py::test_slow", "Failed: Timeout")],
               returncode=2),
        result("test-notebooks", returncode=2, broken=[
            ("FAILED", "notebooks/09_generation.ipynb::09_generation.ipynb",
             "LibraryDeprecationError: FutureWarning from transformers: x")])])
    assert "transformers           5.23.0 -> 5.24.0       UPGRADED" in text
    assert "torch                  2.13.0 -> 2.13.0+cpu   held" in text
    assert "already at their newest" not in text
    assert "Also changed as a consequence: regex 2026.11.15 -> 2026.12.1" in text
    assert "pip" not in text.split("consequence:")[1].split("\n")[0]
    assert "make test-unit: ok once re-run" in text
    assert "flaky, passed when run again alone: tests/test_c.py::test_slow" in text
    assert "make test-notebooks: BROKEN (1 items)" in text
    assert "notebooks that break: 09_generation.ipynb" in text
    assert "1 failures are deprecation warnings" in text

    same = test_latest.report(pins, pins, {}, [result("test-unit")])
    assert "All six are already at their newest release" in same
    assert "make test-unit: ok; 3 passed" in same


def test_a_lock_without_torch_stops_before_anything_is_installed(tmp_path, monkeypatch, capsys):
    lock = tmp_path / "requirements.lock"
    lock.write_text("transformers==5.23.0\n")
    monkeypatch.setattr(test_latest, "LOCK", lock)
    monkeypatch.setattr(test_latest, "REPORT", tmp_path / "report")
    monkeypatch.setattr(test_latest, "VENV", tmp_path / "venv")
    assert test_latest.main([]) == 2
    assert "requirements.lock pins no" in capsys.readouterr().err
    assert not (tmp_path / "venv").exists()


def test_it_never_touches_the_course_environment():
    assert test_latest.VENV == ROOT / "build" / "venv-latest"
    assert test_latest.HELD == ("torch",)
    assert set(test_latest.UPGRADED) == {"transformers", "datasets", "accelerate", "peft",
                                         "huggingface_hub", "tokenizers"}


@pytest.mark.parametrize("a, b, same", [("2.13.0", "2.13.0+cpu", True), ("5.23.0", "5.24.0", False),
                                        ("1.0", None, False)])
def test_same_release_ignores_only_the_local_label(a, b, same):
    assert test_latest.same_release(a, b) is same
