"""Run a command from a notebook, show its output live, and never leave a process behind.

Notebook 11 starts ``accelerate launch ...`` from a cell. The command itself stays in the
notebook; this module only runs it: output streamed into the cell as it comes, the finished
output (and a ``REPORT {json}`` line, if the command prints one) returned, a clear error with
the end of the output when it fails. Whatever happens (a failure, a time limit, the cell
interrupted with the stop button, an error in the cell), every process the command started is
stopped: its whole process group, and any descendant that moved to a session of its own
(``torchrun`` starts its workers that way).
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

__all__ = ["CommandError", "CommandTimeout", "CompletedCommand", "run_command"]

_POLL_SECONDS = 0.1
_TRACK_SECONDS = 0.5
_EOF = object()


class CommandError(RuntimeError):
    """The command exited with a non-zero status. ``output`` holds everything it printed."""

    def __init__(self, message: str, *, returncode: int | None, output: str):
        super().__init__(message)
        self.returncode = returncode
        self.output = output


class CommandTimeout(CommandError, TimeoutError):
    """The command ran longer than ``timeout`` seconds and was stopped."""


@dataclass
class CompletedCommand:
    """What a finished command left: exit status, full output, duration, and its report."""

    args: list[str]
    returncode: int
    output: str
    seconds: float
    report_prefix: str | None = None
    _report: dict | None = field(default=None, repr=False)

    @property
    def report(self) -> dict:
        """The JSON of the last output line that started with ``report_prefix``.

        Raises :class:`CommandError` (with the end of the output) when the command printed
        no such line, or when ``run_command`` was told not to look for one.
        """
        if self._report is not None:
            return self._report
        if not self.report_prefix:
            raise CommandError("run_command(..., report_prefix=None) parses no report; pass "
                               "the prefix of the command's report line to get one.",
                               returncode=self.returncode, output=self.output)
        raise CommandError(
            f"The command finished but printed no line starting with {self.report_prefix!r}, so "
            f"there is no report.\nCommand: {' '.join(self.args)}\nLast lines of its output:\n"
            f"{_tail(self.output.splitlines(keepends=True), 20)}",
            returncode=self.returncode, output=self.output)


def _tail(lines: list[str], n: int) -> str:
    shown = lines[-n:]
    text = "".join(shown).rstrip("\n")
    skipped = len(lines) - len(shown)
    return (f"[... {skipped} earlier lines]\n" if skipped else "") + text


def _parse_report(lines: list[str], prefix: str | None) -> dict | None:
    if not prefix:
        return None
    for line in reversed(lines):
        if line.startswith(prefix):
            try:
                return json.loads(line[len(prefix):])
            except json.JSONDecodeError as error:
                raise CommandError(
                    f"The command's {prefix.strip()} line is not valid JSON ({error}).\n"
                    f"The line: {line.rstrip()}",
                    returncode=0, output="".join(lines),
                ) from error
    return None


class _ProcessTree:
    """The command's process and every descendant seen so far (psutil, when available)."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.seen: dict[int, object] = {}
        try:
            import psutil

            self._root = psutil.Process(proc.pid)
        except Exception:  # psutil missing, or the process already gone
            self._root = None

    def track(self) -> None:
        if self._root is None:
            return
        try:
            for child in self._root.children(recursive=True):
                self.seen.setdefault(child.pid, child)
        except Exception:  # the root exited meanwhile: keep what we saw
            pass

    def _alive_descendants(self) -> list:
        alive = []
        for p in self.seen.values():
            try:
                if p.is_running() and p.status() != "zombie":
                    alive.append(p)
            except Exception:
                pass
        return alive

    def _signal_all(self, sig: int) -> None:
        if os.name == "posix":
            try:
                os.killpg(self.proc.pid, sig)  # the group: the command and what it forked
            except (ProcessLookupError, PermissionError):
                pass
        elif self.proc.poll() is None:
            self.proc.send_signal(sig)
        for p in self._alive_descendants():  # those that left the group (own session)
            try:
                p.send_signal(sig)
            except Exception:
                pass

    def stop(self, grace: float) -> None:
        """SIGTERM everything, wait up to ``grace`` seconds, then SIGKILL what is left."""
        if self.proc.poll() is None:
            self.track()
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and not self._alive_descendants() and (
                    self._root is not None or not self._group_alive()):
                break  # (with psutil, zombies left to a non-reaping init do not count)
            time.sleep(0.05)
        self._signal_all(signal.SIGKILL if os.name == "posix" else signal.SIGTERM)
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be refused
            pass

    def _group_alive(self) -> bool:
        if os.name != "posix":
            return False
        try:
            os.killpg(self.proc.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True


_RUNNING: set[_ProcessTree] = set()


@atexit.register
def _stop_leftovers() -> None:  # the interpreter is exiting while a command still runs
    for tree in list(_RUNNING):
        tree.stop(grace=1.0)


def _reader(stream, lines: queue.Queue) -> None:
    try:
        for line in iter(stream.readline, ""):
            lines.put(line)
    finally:
        lines.put(_EOF)


def run_command(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike | None = None,
    timeout: float = 600,
    echo: bool = True,
    report_prefix: str | None = "REPORT ",
    tail_lines: int = 40,
    grace: float = 5.0,
    on_line: Callable[[str], None] | None = None,
) -> CompletedCommand:
    """Run ``args`` (a list, no shell), stream its output, return a :class:`CompletedCommand`.

    - ``env``: variables to add to (or override in) this process's environment.
    - ``timeout``: seconds before the command is stopped and :class:`CommandTimeout` raised.
    - ``echo``: print each line (stdout and stderr together) as it arrives.
    - ``report_prefix``: the last line starting with it is parsed as JSON into ``.report``
      (reading ``.report`` raises :class:`CommandError` if no line started with it).
    - ``on_line``: called with each line as it arrives (after echoing it).

    A non-zero exit raises :class:`CommandError` whose message ends with the last
    ``tail_lines`` lines of output. On every way out (success, failure, timeout,
    KeyboardInterrupt, an exception in ``on_line``) the command's processes are stopped:
    SIGTERM first, so that launchers can stop their workers, then SIGKILL after ``grace``
    seconds for anything still running.
    """
    args = [os.fspath(a) for a in args]
    if not args:
        raise ValueError("run_command() needs a command, e.g. ['python', 'script.py'].")
    unset = [k for k, v in (env or {}).items() if v is None]
    if unset:
        raise TypeError(f"env values must be strings; {unset} are None. Leave a variable out "
                        "of env to inherit it, or pass '' to set it empty.")
    full_env = dict(os.environ)
    if env:
        full_env.update({str(k): str(v) for k, v in env.items()})
    full_env.setdefault("PYTHONUNBUFFERED", "1")  # Python children: lines arrive when printed

    started = time.monotonic()
    proc = subprocess.Popen(
        args, cwd=cwd, env=full_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace", bufsize=1,
        start_new_session=(os.name == "posix"),  # its own process group, led by proc
    )
    tree = _ProcessTree(proc)
    _RUNNING.add(tree)
    lines: list[str] = []
    incoming: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_reader, args=(proc.stdout, incoming), daemon=True)
    reader.start()
    timed_out = False

    def take(line: str) -> None:
        lines.append(line)
        if echo:
            sys.stdout.write(line)
            sys.stdout.flush()
        if on_line is not None:
            on_line(line)

    try:
        next_track = 0.0
        eof = False
        while not eof:
            now = time.monotonic()
            if now >= next_track:
                tree.track()
                next_track = now + _TRACK_SECONDS
            if now - started > timeout:
                timed_out = True
                break
            try:
                item = incoming.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if proc.poll() is not None:
                    break  # exited, but something it left behind still holds the output open
                continue
            if item is _EOF:
                eof = True
            else:
                take(item)
        if not timed_out:
            # The command is finishing or has finished. Wait for it within the time left.
            try:
                proc.wait(timeout=max(0.0, timeout - (time.monotonic() - started)))
            except subprocess.TimeoutExpired:
                timed_out = True
    finally:
        try:
            tree.stop(grace)
        except KeyboardInterrupt:  # interrupted again while stopping: no more grace
            tree.stop(0)
            raise
        finally:
            _RUNNING.discard(tree)
        reader.join(timeout=2)
        while True:  # whatever arrived before the pipe closed
            try:
                item = incoming.get_nowait()
            except queue.Empty:
                break
            if item is not _EOF:
                lines.append(item)
                if echo:
                    sys.stdout.write(item)
        if echo:
            sys.stdout.flush()
        if proc.stdout is not None and not reader.is_alive():
            proc.stdout.close()  # (a reader still blocked on it would block the close)

    seconds = time.monotonic() - started
    output = "".join(lines)
    shown = " ".join(args)
    if timed_out:
        raise CommandTimeout(
            f"The command did not finish within {timeout:g} s, so it was stopped together with "
            f"every process it started.\nCommand: {shown}\n"
            f"Last lines of its output:\n{_tail(lines, tail_lines)}",
            returncode=proc.returncode, output=output,
        )
    if proc.returncode != 0:
        raise CommandError(
            f"The command failed with exit code {proc.returncode} after {seconds:.1f} s.\n"
            f"Command: {shown}\nLast lines of its output:\n{_tail(lines, tail_lines)}",
            returncode=proc.returncode, output=output,
        )
    return CompletedCommand(args=args, returncode=proc.returncode, output=output,
                            seconds=seconds, report_prefix=report_prefix,
                            _report=_parse_report(lines, report_prefix))
