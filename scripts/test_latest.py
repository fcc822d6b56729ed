"""`make test-latest`: run the tiny suite against the newest Hugging Face releases.

A canary, not a gate: it builds its own environment in build/venv-latest (never touching
.venv), installs requirements.lock there, upgrades transformers, datasets, accelerate, peft,
huggingface_hub and tokenizers to their newest releases with torch held at its pinned
version, installs lecture_utils, and runs `make test-unit` and `make test-notebooks` in that
environment. It then prints the versions it used (pinned -> newest) and which tests and
notebooks broke. The suite turns the Hugging Face libraries' FutureWarnings and
DeprecationWarnings into errors, so an API on its way out shows up here months before it is
removed.

Exit status: 0 when the report was made, whatever the tests said; 2 when the environment
could not be set up (the package index is the only network it needs).

    python scripts/test_latest.py           # reuses build/venv-latest if it exists
    python scripts/test_latest.py --fresh   # rebuilds it from scratch

Standard library only: it runs with the system Python, before any environment exists.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "build" / "venv-latest"
REPORT = ROOT / "build" / "test-latest"
LOCK = ROOT / "requirements.lock"
UPGRADED = ("transformers", "datasets", "accelerate", "peft", "huggingface_hub", "tokenizers")
HELD = ("torch",)  # kept at the locked version
TARGETS = ("test-unit", "test-notebooks")
BOOTSTRAP = {"pip", "setuptools", "wheel", "lecture-utils"}  # not part of the comparison
# pytest's short summary (-ra): "FAILED tests/test_x.py::test_y - Error: message"
OUTCOME = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$", re.MULTILINE)
RESULT_LINE = re.compile(r"^=+ (.*(?:passed|failed|error|skipped).*) in [\d.]+s", re.MULTILINE)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
BLOCK_HEADER = re.compile(r"^_{3,} (.+?) _{3,}$", re.MULTILINE)
# The line of a failure that names what went wrong, e.g. "E   AssertionError: ..." or
# "LibraryDeprecationError: FutureWarning from transformers: ..."
REASON = re.compile(r"^(?:E\s+)?((?:[\w.]*(?:Error|Exception|Warning)|Failed|Timeout)\b:? .*)$",
                    re.MULTILINE)


class SetupError(RuntimeError):
    """The environment could not be built; nothing was tested."""


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def rel(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def read_lock(path: Path | None = None) -> dict[str, str]:
    """``{normalised name: version}`` for each ``name==version`` line of the lock file."""
    path = path or LOCK
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            if not sep:
                raise SetupError(f"{path}: {line!r} is not pinned as name==version.")
            pins[normalise(name)] = version.strip()
    return pins


def run(args: list[str], what: str, log: Path, **kwargs) -> None:
    """Run a set-up step, its output appended to ``log``; SetupError if it fails."""
    print(f"test-latest: {what} ...", flush=True)
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(map(str, args))}\n")
        out.flush()
        result = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    if result.returncode != 0:
        tail = "".join(log.read_text(encoding="utf-8").splitlines(keepends=True)[-25:])
        raise SetupError(f"{what} failed (exit {result.returncode}); end of {log}:\n{tail}")


def installed_versions(python: Path) -> dict[str, str]:
    out = subprocess.run([str(python), "-m", "pip", "list", "--format=json",
                          "--disable-pip-version-check"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SetupError(f"pip list failed: {out.stderr.strip()}")
    return {normalise(p["name"]): p["version"] for p in json.loads(out.stdout)}


def newest_on_index(python: Path, name: str) -> str | None:
    """The newest release of ``name`` the package index offers (None if it cannot say)."""
    out = subprocess.run([str(python), "-m", "pip", "index", "versions", name,
                          "--disable-pip-version-check"], capture_output=True, text=True)
    match = re.search(r"LATEST:\s*(\S+)", out.stdout)
    if match:
        return match.group(1)
    match = re.search(rf"^{re.escape(name)} \(([^)]+)\)", out.stdout, re.IGNORECASE | re.M)
    return match.group(1) if match else None


def set_up(fresh: bool, log: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Build build/venv-latest; return (locked versions, versions installed there)."""
    pins = read_lock(LOCK)
    missing = [n for n in (*UPGRADED, *HELD) if normalise(n) not in pins]
    if missing:
        raise SetupError(f"requirements.lock pins no {missing}.")
    if fresh and VENV.exists():
        shutil.rmtree(VENV)
    python = VENV / "bin" / "python"
    if not python.exists():
        run([sys.executable, "-m", "venv", str(VENV)], f"creating {rel(VENV)}",
            log)
    constraints = REPORT / "constraints.txt"
    constraints.write_text("".join(f"{n}=={pins[normalise(n)]}\n" for n in HELD))
    pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
    run([*pip, "-r", str(LOCK)], "installing requirements.lock", log)
    run([*pip, "--upgrade", *UPGRADED, "-c", str(constraints)],
        f"upgrading {', '.join(UPGRADED)} (torch held at {pins['torch']})", log)
    run([*pip, "--no-deps", "-e", str(ROOT)], "installing lecture_utils", log)
    # The Makefile's targets reinstall the lock when this stamp is older than it: keep ours.
    (VENV / ".installed").touch()
    return pins, installed_versions(python)


def failures(text: str) -> list[tuple[str, str, str]]:
    """(FAILED or ERROR, test id, what went wrong) for each failure in a pytest log."""
    text = ANSI.sub("", text)
    reasons = {}
    headers = list(BLOCK_HEADER.finditer(text))
    for i, header in enumerate(headers):
        block = text[header.end():headers[i + 1].start() if i + 1 < len(headers) else len(text)]
        block = block.split("short test summary info", 1)[0]
        found = REASON.findall(block)
        if found:
            # pytest puts the exception first ("E   ..."); a notebook's error comes last.
            first_e = next((m for m in re.findall(r"^E\s+(.+)$", block, re.M)), None)
            reasons[header.group(1).strip()] = (first_e or found[-1]).strip()
    result = []
    for kind, item, summary in OUTCOME.findall(text):
        path, _, name = item.partition("::")
        reason = (reasons.get(name.split("::")[-1]) or reasons.get(str(ROOT / path))
                  or reasons.get(path) or summary.strip())
        result.append((kind, item, reason))
    return result


def pytest_command(items: list[str]) -> list[str]:
    """The command that runs ``items`` (test ids or notebooks) alone, offline, in the venv."""
    python = str(VENV / "bin" / "python")
    command = [str(ROOT / "scripts" / "offline"), python, "-m", "pytest", "-p",
               "no:cacheprovider", "--timeout=300"]
    if all(item.split("::")[0].endswith(".ipynb") for item in items):
        return [*command, "--nbmake", *sorted({item.split("::")[0] for item in items})]
    return [*command, *items]


def run_target(target: str) -> dict:
    """Run ``make <target>`` with this environment; what passed and what broke.

    What failed runs once more on its own: a failure that does not come back (a timeout on
    a busy machine) is reported as flaky, not broken.
    """
    log = REPORT / f"{target}.log"
    print(f"test-latest: make {target} (log: {rel(log)}) ...", flush=True)
    start = time.monotonic()
    with log.open("w", encoding="utf-8") as out:
        result = subprocess.run(["make", "--no-print-directory", f"VENV={VENV}", target],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    text = log.read_text(encoding="utf-8", errors="replace")
    broken = failures(text)
    counts = RESULT_LINE.findall(ANSI.sub("", text))
    flaky = []
    if broken:
        rerun_log = REPORT / f"{target}-rerun.log"
        print(f"test-latest: running the {len(broken)} failures again, alone "
              f"(log: {rel(rerun_log)}) ...", flush=True)
        with rerun_log.open("w", encoding="utf-8") as out:
            subprocess.run(pytest_command([item for _, item, _ in broken]), cwd=ROOT,
                           stdout=out, stderr=subprocess.STDOUT)
        rerun = rerun_log.read_text(encoding="utf-8", errors="replace")
        again = {item for _, item, _ in failures(rerun)}
        if RESULT_LINE.search(ANSI.sub("", rerun)):  # the rerun reported: trust it
            flaky = [b for b in broken if b[1] not in again]
            broken = [b for b in broken if b[1] in again]
    return {"target": target, "returncode": result.returncode, "broken": broken,
            "flaky": flaky, "counts": counts[-1] if counts else "no pytest summary (see the log)",
            "seconds": time.monotonic() - start, "log": log}


def same_release(a: str | None, b: str | None) -> bool:
    """Versions equal but for a local label (``2.13.0`` and ``2.13.0+cpu``)."""
    return a is not None and b is not None and a.split("+")[0] == b.split("+")[0]


def report(pins: dict[str, str], now: dict[str, str], newest: dict[str, str | None],
           results: list[dict]) -> str:
    lines = ["", "=" * 72, "test-latest: the tiny suite against the newest releases", "=" * 72,
             "", "Versions (requirements.lock -> build/venv-latest):"]
    for name in (*UPGRADED, *HELD):
        key = normalise(name)
        old, new = pins[key], now.get(key, "not installed")
        note = "unchanged" if same_release(old, new) else "UPGRADED"
        if name in HELD:
            note = "held" if same_release(old, new) else "NOT HELD: the run is not valid"
        latest = newest.get(name)
        if latest and latest != new and name not in HELD:
            note += f" (the index's newest is {latest}; it does not install with these pins)"
        lines.append(f"  {name:16} {old:>12} -> {new:<12} {note}")
    if all(same_release(pins[normalise(n)], now.get(normalise(n))) for n in UPGRADED):
        lines.append("  All six are already at their newest release: this run tests the "
                     "locked set.")
    others = sorted(k for k in set(pins) | set(now)
                    if k not in {normalise(n) for n in (*UPGRADED, *HELD)} | BOOTSTRAP
                    and not same_release(pins.get(k), now.get(k)))
    if others:
        lines.append("  Also changed as a consequence: " + ", ".join(
            f"{k} {pins.get(k, '-')} -> {now.get(k, '-')}" for k in others))
    lines.append("")
    for result in results:
        broken = result["broken"]
        status = "ok" if result["returncode"] == 0 and not broken else (
            f"BROKEN ({len(broken)} items)" if broken else "ok once re-run")
        lines.append(f"make {result['target']}: {status}; {result['counts']} "
                     f"[{result['seconds']:.0f} s, log {rel(result['log'])}]")
        notebooks = sorted({item.split("::")[0] for _, item, _ in broken
                            if item.split("::")[0].endswith(".ipynb")})
        if notebooks:
            lines.append("  notebooks that break: " + ", ".join(Path(n).name for n in notebooks))
        for kind, item, reason in broken:
            lines.append(f"  {kind} {item}" + (f"\n      {reason[:300]}" if reason else ""))
        for _, item, reason in result["flaky"]:
            lines.append(f"  flaky, passed when run again alone: {item}"
                         + (f"\n      first run: {reason[:300]}" if reason else ""))
        if result["returncode"] != 0 and not broken and not result["flaky"]:
            lines.append("  (the run failed before pytest reported; see the log)")
    deprecations = sum("Deprecation" in r or "FutureWarning" in r
                       for res in results for _, _, r in res["broken"])
    if deprecations:
        lines.append(f"\n{deprecations} failures are deprecation warnings turned into errors: "
                     "APIs the course uses are on their way out.")
    lines.append("\nA report only: `make test` and CI still use requirements.lock.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fresh", action="store_true", help="rebuild build/venv-latest")
    args = parser.parse_args(argv)
    REPORT.mkdir(parents=True, exist_ok=True)
    setup_log = REPORT / "setup.log"
    setup_log.write_text("")
    try:
        pins, now = set_up(args.fresh, setup_log)
    except (SetupError, OSError) as error:
        print(f"test-latest: could not set up {rel(VENV)}: {error}",
              file=sys.stderr)
        return 2
    python = VENV / "bin" / "python"
    newest = {name: newest_on_index(python, name) for name in UPGRADED}
    results = [run_target(target) for target in TARGETS]
    text = report(pins, now, newest, results)
    (REPORT / "summary.txt").write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\n(also in {rel(REPORT / 'summary.txt')})")
    return 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
