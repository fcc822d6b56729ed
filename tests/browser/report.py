"""The browser tests' report: build/browser/<mode>/index.md, for a person to read.

For every notebook: how long each phase took, the problems found, and for every plot and
widget cell its screenshot next to the notebook's own words about it (the markdown just
before and after the cell, where a "what to notice" line lives), so the two can be compared.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from .notebook_checks import (
    NotebookRun,
    nearby_markdown,
    plot_calls,
    plot_cells,
    widget_calls,
    widget_cells,
)


def notebook_summary(run: NotebookRun, shots: Path, *, problems: list[str],
                     interactions: dict[int, dict], mode: str) -> dict:
    """What the report says about one notebook run (saved as ``shots/summary.json``)."""
    cells = []
    plots = {c.index for c in plot_cells(run)}
    for cell in sorted(plot_cells(run) + [c for c in widget_cells(run) if c.index not in plots],
                       key=lambda c: c.index):
        before, after = nearby_markdown(run, cell)
        number = cell.index + 1
        cells.append({
            "cell": number,
            "kind": "plot" if cell.index in plots else "widget",
            "calls": plot_calls(cell.source) + [w.factory for w in widget_calls(cell.source)],
            "shots": [p.name for p in sorted(shots.glob(f"cell-{number:03d}*.png"),
                                             key=lambda p: p.stat().st_mtime)],  # as taken
            "markdown_before": before,
            "markdown_after": after,
            "interaction": interactions.get(cell.index),
        })
    return {
        "notebook": run.name,
        "mode": mode,
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "passed": not problems,
        "problems": problems,
        "timings": {k: round(v, 1) for k, v in run.timings.items()},
        "cells": cells,
    }


def save_summary(shots: Path, summary: dict) -> None:
    shots.mkdir(parents=True, exist_ok=True)
    (shots / "summary.json").write_text(json.dumps(summary, indent=1))


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in text.strip().splitlines()) or "> (none)"


def write_index(folder: Path, notebooks: set[str] | None = None) -> Path:
    """Write ``folder/index.md`` from ``folder/*/summary.json``; return its path.

    With ``notebooks``, only the summaries of those notebooks (file names) are used, so a
    notebook renamed or removed since an earlier run drops out of the report.
    """
    summaries = [json.loads(p.read_text()) for p in sorted(folder.glob("*/summary.json"))]
    if notebooks is not None:
        summaries = [s for s in summaries if s["notebook"] in notebooks]
    lines = ["# The notebooks in JupyterLab, as the browser tests saw them", "",
             "Written by `make test-browser`. Each notebook ran top to bottom in headless "
             "Chromium; the screenshots are of the page after Run All (and, for widgets, after "
             "the test used their controls). Cell numbers count from 1, as JupyterLab's status "
             "bar does.", "",
             "| notebook | run at | result | page (s) | page + kernel (s) | Run All (s) "
             "| checks (s) | screenshots (s) | widgets (s) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for s in summaries:
        t = s["timings"]
        lines.append(
            f"| {s['notebook']} | {s['when']} | {'ok' if s['passed'] else 'FAILED'} "
            f"| {t.get('page', '')} | {t.get('open', '')} | {t.get('run_all', '')} "
            f"| {t.get('inspect', '')} "
            f"| {t.get('screenshots', '')} | {t.get('widgets', '')} |")
    for s in summaries:
        stem = s["notebook"].removesuffix(".ipynb")
        lines += ["", f"## {s['notebook']} ({s['mode']} mode)", "",
                  f"![the notebook after Run All]({stem}/notebook.png)", ""]
        if s["problems"]:
            lines += ["**Problems:**", ""] + [f"- `{p}`" for p in s["problems"]] + [""]
        for c in s["cells"]:
            lines += [f"### Cell {c['cell']}: {c['kind']} ({', '.join(c['calls'])})", ""]
            lines += [f"![cell {c['cell']}: {shot}]({stem}/{shot})" for shot in c["shots"]]
            if c.get("interaction"):
                lines += ["", f"Used in the page: {c['interaction']}"]
            lines += ["", "Text before the cell:", "", _quote(c["markdown_before"]), "",
                      "Text after the cell:", "", _quote(c["markdown_after"]), ""]
    index = folder / "index.md"
    index.write_text("\n".join(lines) + "\n")
    return index
