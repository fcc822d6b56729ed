"""The runtime guards: no network but loopback; no deprecations from the HF libraries.

Each guard is shown to fail on a deliberately broken notebook, run through nbmake exactly as
the notebooks are, and to let a well-behaved one through.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import lecture_guard
import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"


class FakeSocket:
    def __init__(self, family):
        self.family = family


@pytest.mark.parametrize("host", ["127.0.0.1", "127.5.0.1", "::1", "localhost", "[::1]"])
def test_loopback_is_allowed(host):
    lecture_guard._check_address(FakeSocket(socket.AF_INET), (host, 80))


@pytest.mark.parametrize("host", ["huggingface.co", "8.8.8.8", "2001:db8::1", "example.org"])
def test_other_hosts_are_refused_before_any_packet(host):
    with pytest.raises(lecture_guard.NetworkBlockedError, match="Network access blocked"):
        lecture_guard._check_address(FakeSocket(socket.AF_INET6), (host, 443))


def test_the_guard_is_installed_in_this_process():
    assert getattr(socket.socket, "_lecture_guarded", False)
    with pytest.raises(lecture_guard.NetworkBlockedError, match="look up"):
        socket.create_connection(("huggingface.co", 443), timeout=1)  # refused before DNS
    assert socket.getaddrinfo("localhost", 80)


def test_warning_origin_looks_at_the_caller():
    # A function whose module namespace says it lives in transformers.
    ns = {"__name__": "transformers.fake_module", "origin": lecture_guard.warning_origin}
    exec("def probe():\n    return origin('x.py')\n", ns)
    assert ns["probe"]() == "transformers"
    assert lecture_guard.warning_origin("/site-packages/datasets/arrow_dataset.py") == "datasets"
    assert lecture_guard.warning_origin("/home/me/my_notebook.py") is None


def _run_notebooks(*names):
    env = {**os.environ}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-p", "no:cacheprovider", "-q",
         "--rootdir", str(ROOT), *[str(FIXTURES / n) for n in names]],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


@pytest.mark.slow
def test_guards_fail_broken_notebooks_and_pass_good_ones():
    code, out = _run_notebooks("calls_the_hub.ipynb", "deprecated_api.ipynb", "allowed.ipynb")
    assert code == 1, out
    assert "2 failed, 1 passed" in out, out
    assert "FAILED tests/fixtures/calls_the_hub.ipynb" in out
    assert "FAILED tests/fixtures/deprecated_api.ipynb" in out
    assert "NetworkBlockedError" in out and "huggingface.co" in out
    assert "LibraryDeprecationError" in out and "FutureWarning from transformers" in out
    assert "gradient_checkpointing_enable" in out
