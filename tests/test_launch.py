"""lecture_utils.launch.run_command: streams, reports, fails clearly, and always cleans up."""

from __future__ import annotations

import _thread
import os
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest

from lecture_utils.launch import CommandError, CommandTimeout, run_command

PY = sys.executable

# A child that starts two sleeping grandchildren, one in its own process group and one in a
# session of its own (as torchrun starts its workers), writes their pids, then hangs.
SPAWNER = textwrap.dedent("""
    import subprocess, sys, time
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    same_group = subprocess.Popen(sleeper)
    own_session = subprocess.Popen(sleeper, start_new_session=True)
    with open(sys.argv[1], "w") as f:
        f.write(f"{same_group.pid} {own_session.pid}")
    print("grandchildren started", flush=True)
    time.sleep(120)
""")


def _gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (a zombie waiting for a reaper counts as gone)."""
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _stopped(pid: int, timeout: float = 10) -> bool:
    """True once ``pid`` is gone; a signal takes a moment to land on a loaded machine."""
    deadline = time.monotonic() + timeout
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _wait_for_pids(path: Path, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return [int(p) for p in path.read_text().split()]
        time.sleep(0.05)
    raise AssertionError("the child never wrote its grandchildren's pids")


def test_normal_exit_streams_output_and_parses_the_report(capsys):
    code = "print('hello'); print('REPORT {\"world_size\": 2}'); print('bye')"
    result = run_command([PY, "-c", code], timeout=60)
    assert result.returncode == 0
    assert result.output.splitlines() == ["hello", 'REPORT {"world_size": 2}', "bye"]
    assert result.report == {"world_size": 2}
    assert "hello" in capsys.readouterr().out  # streamed to the cell as it came


def test_a_malformed_report_line_raises_a_command_error_that_shows_it():
    code = "print('REPORT {\"world_size\": 2,')"
    with pytest.raises(CommandError) as info:
        run_command([PY, "-c", code], echo=False, timeout=60)
    assert "REPORT line is not valid JSON" in str(info.value)
    assert 'REPORT {"world_size": 2,' in str(info.value)
    assert info.value.returncode == 0 and "REPORT" in info.value.output


def test_env_is_added_and_echo_can_be_off(capsys):
    code = "import os; print(os.environ['LAUNCH_TEST_VALUE'])"
    result = run_command([PY, "-c", code], env={"LAUNCH_TEST_VALUE": "42"}, echo=False,
                         report_prefix=None, timeout=60)
    assert result.output.strip() == "42"
    assert capsys.readouterr().out == ""


def test_failure_raises_with_the_exit_code_and_the_tail_of_the_output():
    code = "import sys\nfor i in range(100): print(f'line {i}')\nsys.exit(3)"
    with pytest.raises(CommandError) as info:
        run_command([PY, "-c", code], echo=False, tail_lines=10, timeout=60)
    message = str(info.value)
    assert "exit code 3" in message
    assert "line 99" in message and "line 90" in message
    assert "line 89" not in message and "[... 90 earlier lines]" in message
    assert info.value.returncode == 3 and "line 0" in info.value.output


def test_stderr_is_part_of_the_output():
    code = "import sys; print('oops', file=sys.stderr); sys.exit(1)"
    with pytest.raises(CommandError, match="oops"):
        run_command([PY, "-c", code], echo=False, timeout=60)


def test_timeout_stops_the_child_and_every_grandchild(tmp_path):
    script = tmp_path / "spawner.py"
    script.write_text(SPAWNER)
    pid_file = tmp_path / "pids"
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as info:
        run_command([PY, str(script), str(pid_file)], echo=False, timeout=4, grace=2)
    assert time.monotonic() - started < 30
    assert "did not finish within 4 s" in str(info.value)
    assert "grandchildren started" in str(info.value)
    assert isinstance(info.value, TimeoutError)
    for pid in _wait_for_pids(pid_file):
        assert _stopped(pid), f"grandchild {pid} survived"


def test_keyboard_interrupt_stops_everything(tmp_path):
    script = tmp_path / "spawner.py"
    script.write_text(SPAWNER)
    pid_file = tmp_path / "pids"

    def interrupt_once_started():  # what the stop button of a notebook cell does
        _wait_for_pids(pid_file)
        time.sleep(0.6)  # let run_command see the grandchildren at least once
        _thread.interrupt_main()

    threading.Thread(target=interrupt_once_started, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        run_command([PY, str(script), str(pid_file)], echo=False, timeout=120, grace=2)
    for pid in _wait_for_pids(pid_file):
        assert _stopped(pid), f"grandchild {pid} survived the interrupt"


def test_an_error_in_the_cell_while_running_stops_everything(tmp_path):
    script = tmp_path / "spawner.py"
    script.write_text(SPAWNER)
    pid_file = tmp_path / "pids"

    def on_line(line):
        if "grandchildren started" in line:
            time.sleep(0.6)
            raise ValueError("the cell failed")

    with pytest.raises(ValueError, match="the cell failed"):
        run_command([PY, str(script), str(pid_file)], echo=False, timeout=120, grace=2,
                    on_line=on_line)
    for pid in _wait_for_pids(pid_file):
        assert _stopped(pid)


def test_a_background_process_left_by_a_successful_command_is_stopped(tmp_path):
    pid_file = tmp_path / "pid"
    code = textwrap.dedent(f"""
        import subprocess, sys
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"],
                             stdout=subprocess.DEVNULL)
        open({str(pid_file)!r}, "w").write(str(p.pid))
    """)
    run_command([PY, "-c", code], echo=False, timeout=60, grace=2)
    (pid,) = _wait_for_pids(pid_file)
    assert _stopped(pid)


def test_a_missing_report_is_an_error_that_shows_the_output_not_none():
    result = run_command([PY, "-c", "print('trained, but no report line')"], echo=False,
                         timeout=60)
    with pytest.raises(CommandError, match="no line starting with 'REPORT '") as info:
        _ = result.report
    assert "trained, but no report line" in str(info.value)
    quiet = run_command([PY, "-c", "print(1)"], echo=False, report_prefix=None, timeout=60)
    with pytest.raises(CommandError, match="report_prefix=None"):
        _ = quiet.report


def test_an_env_value_of_none_is_refused_not_turned_into_the_string_none():
    with pytest.raises(TypeError, match="LAUNCH_TEST_VALUE"):
        run_command([PY, "-c", "print(1)"], env={"LAUNCH_TEST_VALUE": None}, echo=False)


def test_an_empty_command_is_refused():
    with pytest.raises(ValueError):
        run_command([])


def test_no_process_is_left_in_our_own_group():
    before = {p.pid for p in psutil.Process(os.getpid()).children(recursive=True)}
    run_command([PY, "-c", "print(1)"], echo=False, timeout=60)
    after = {p.pid for p in psutil.Process(os.getpid()).children(recursive=True)
             if p.status() != psutil.STATUS_ZOMBIE}
    assert after <= before
