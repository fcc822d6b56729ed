"""Time the notebooks as a student runs them: wall time, the kernel's peak memory, slowest cells.

    python scripts/benchmark_notebooks.py                 # every notebook, full mode at full size
    python scripts/benchmark_notebooks.py 06 07 --mode tiny
    python scripts/benchmark_notebooks.py --threads 2     # torch threads per kernel (default: all)

Full mode runs against the full-size registration of `make test-full-size` (the real
checkpoints' small files with random full-size weights, in a throwaway HF_HOME under build/,
offline), so the numbers are those of the real DistilBERT and distilgpt2 sizes, not of
trained weights (training time does not depend on the values of the weights). Each notebook
runs alone, in a fresh kernel, one after the other, with the test suite's environment. The
kernel's peak memory is its peak resident set size (VmHWM); processes the notebook starts
(notebook 11's launches) are reported apart, as the largest total seen while sampling.

Numbers depend on the machine and on what else it is doing: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_rss_bytes(pid: int) -> int:
    """Peak resident set size of a live process (VmHWM in /proc, Linux), or 0 if unknown."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _ChildSampler(threading.Thread):
    """Samples the summed RSS of a process's descendants (not the process itself)."""

    def __init__(self, pid: int, every: float = 0.2):
        super().__init__(daemon=True)
        self.pid, self.every, self.peak, self._done = pid, every, 0, threading.Event()

    def run(self):
        import psutil

        while not self._done.is_set():
            try:
                children = psutil.Process(self.pid).children(recursive=True)
                total = sum(c.memory_info().rss for c in children if c.is_running())
                self.peak = max(self.peak, total)
            except psutil.Error:
                pass
            self._done.wait(self.every)

    def stop(self):
        self._done.set()
        self.join()


def run_notebook(path: Path, timeout: int) -> dict:
    """Execute one notebook in a fresh kernel; return its timings and memory."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    cell_times: list[tuple[float, int, str]] = []
    started: dict[int, float] = {}
    result = {"name": path.stem, "error": None, "kernel_peak": 0}
    watch: dict[str, object] = {}
    raised: list[tuple[int, int, str]] = []  # (bytes the peak grew by, cell, its first line)

    def on_cell_start(cell, cell_index):
        if not watch:  # the kernel is up: note its process and watch what it starts
            watch["pid"] = client.km.provisioner.process.pid
            watch["sampler"] = _ChildSampler(watch["pid"])
            watch["sampler"].start()
        started[cell_index] = time.perf_counter()

    def on_cell_executed(cell, cell_index, execute_reply):
        first_line = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        cell_times.append((time.perf_counter() - started[cell_index], cell_index, first_line))
        # VmHWM only grows, so the reading after the last cell is the kernel's peak; the cells
        # that raised it most are where the memory goes
        peak = _peak_rss_bytes(watch["pid"])
        if peak > result["kernel_peak"]:
            raised.append((peak - result["kernel_peak"], cell_index, first_line))
            result["kernel_peak"] = peak

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}},
                            on_cell_start=on_cell_start, on_cell_executed=on_cell_executed)
    t0 = time.perf_counter()
    try:
        client.execute()
    except Exception as err:  # report the failure, keep benchmarking the others
        result["error"] = f"{type(err).__name__}: {str(err).strip().splitlines()[-1][:200]}"
    finally:
        if "sampler" in watch:
            watch["sampler"].stop()
    result["wall"] = time.perf_counter() - t0
    result["children_peak"] = watch["sampler"].peak if "sampler" in watch else 0
    result["slowest"] = sorted(cell_times, reverse=True)[:3]
    result["memory"] = sorted(raised, reverse=True)[:3]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*",
                        help="numbers or names of notebooks (default: all)")
    parser.add_argument("--mode", choices=["full", "tiny"], default="full")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch/OpenMP threads per kernel (0: PyTorch's default, all cores)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args()

    import conftest

    os.environ.update(conftest.suite_environment(args.mode))
    for var in conftest.UNSET:
        os.environ.pop(var, None)
    os.environ.pop("OMP_NUM_THREADS", None)  # the suite's one thread is for two notebooks at once
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    if args.mode == "full":
        from tests.fullmode import register_real_files_at_full_size

        register_real_files_at_full_size(Path(os.environ["HF_HOME"]))

    every = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    chosen = [p for p in every if not args.notebooks
              or any(p.name.startswith(n) or p.stem == n for n in args.notebooks)]
    if not chosen:
        parser.error(f"no notebook matches {args.notebooks}; known: {[p.stem for p in every]}")

    import psutil

    print(f"{args.mode} mode, {psutil.cpu_count()} cores, "
          f"threads per kernel: {args.threads or 'default'}", flush=True)
    results = []
    for path in chosen:
        r = run_notebook(path, args.timeout)
        results.append(r)
        slow = "; ".join(f"cell {i} {t:.0f} s ({line[:40]})" for t, i, line in r["slowest"])
        extra = f", launched processes {r['children_peak'] / 2**30:.2f} GiB" \
            if r["children_peak"] > 50 * 2**20 else ""
        print(f"{r['name']:<34} {r['wall']:7.1f} s  kernel peak {r['kernel_peak'] / 2**30:5.2f} "
              f"GiB{extra}{'  FAILED: ' + r['error'] if r['error'] else ''}", flush=True)
        print(f"{'':<34} slowest: {slow}", flush=True)
        mem = "; ".join(f"cell {i} +{b / 2**30:.2f} GiB ({line[:40]})" for b, i, line in r["memory"])
        print(f"{'':<34} peak raised most by: {mem}", flush=True)
    total = sum(r["wall"] for r in results)
    print(f"{'total':<34} {total:7.1f} s ({total / 60:.1f} min)")
    return 1 if any(r["error"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
