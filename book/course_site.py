"""Sphinx extension for the course website: what the site needs beyond myst-nb's settings.

- Solution cells (tag ``solution``) are collapsed behind "Show the solution" (myst-nb's
  ``hide-cell``), added when a notebook is read, so the notebooks themselves stay as they are.
- The cache key of each notebook also covers what its outputs depend on outside it (the
  helper package, the pinned environment, notebook 11's script): change one, and the
  notebooks run again instead of showing stale outputs.
- The README, the home page, gets a hidden table of contents of the notebooks (the sidebar's
  navigation) and is also written as index.html.
"""

from __future__ import annotations

import hashlib
import shutil
from functools import cache
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]

SOLUTION_TAG = "solution"
# Hiding tags myst-nb understands; a cell that already has one is left as it is.
HIDING_TAGS = {"hide-cell", "hide-input", "hide-output", "remove-cell", "remove-input",
               "remove_input", "remove-output", "remove_output"}
PROMPTS = {"code_prompt_show": "Show the solution", "code_prompt_hide": "Hide the solution"}

# What the notebooks' outputs depend on besides their own code (paths relative to ROOT).
# book/build.py sets the environment the notebooks run in.
EXECUTION_INPUTS = ("lecture_utils", "requirements.lock", "notebooks/train_accelerate.py",
                    "notebooks/accelerate_configs", "assets", "book/build.py")
INPUTS_KEY = "course_site_inputs"


@cache
def execution_inputs_digest(root: Path = ROOT) -> str:
    """SHA-256 over the files in EXECUTION_INPUTS (paths and bytes; caches skipped)."""
    digest = hashlib.sha256()
    for name in EXECUTION_INPUTS:
        base = root / name
        files = [base] if base.is_file() else sorted(base.rglob("*"))
        for path in files:
            if (not path.is_file() or "__pycache__" in path.parts
                    or path.suffix in {".pyc", ".pyo"}):
                continue
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def prepare_notebook(nb: nbformat.NotebookNode, inputs_digest: str) -> nbformat.NotebookNode:
    """Collapse solution cells and stamp ``inputs_digest`` on the first code cell, in place.

    myst-nb's execution cache hashes code cells with their metadata, so the stamp makes a
    change to the helper package re-execute the notebook. Returns ``nb``.
    """
    stamped = False
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if not stamped:
            cell.metadata[INPUTS_KEY] = inputs_digest
            stamped = True
        tags = list(cell.metadata.get("tags", []))
        if SOLUTION_TAG in tags and not HIDING_TAGS.intersection(tags):
            cell.metadata["tags"] = [*tags, "hide-cell"]
            cell.metadata.setdefault("mystnb", {}).update(PROMPTS)
    return nb


def read_notebook(text: str) -> nbformat.NotebookNode:
    """myst-nb reader for .ipynb (``nb_custom_formats``): nbformat's, then prepare_notebook."""
    nb = nbformat.reads(text, as_version=4)
    return prepare_notebook(nb, execution_inputs_digest())


def _notebook_docnames(env) -> list[str]:
    return sorted(d for d in env.found_docs if d.startswith("notebooks/"))


def add_toctree(app, docname: str, source: list[str]) -> None:
    """Append hidden toctrees to the home page (the sidebar's navigation): the notebooks,
    then the pages the README and the notebooks link: what changed since older tutorials
    (ERRATA.md) and where the real checkpoints' small files come from."""
    if docname != app.config.root_doc:
        return
    entries = "\n".join(_notebook_docnames(app.env))
    source[0] += f"\n\n```{{toctree}}\n:hidden:\n:maxdepth: 1\n:caption: Notebooks\n\n{entries}\n```\n"
    source[0] += "\n```{toctree}\n:hidden:\n:caption: Reference\n\nERRATA\nlecture_utils/data/hub/README\n```\n"


def rerun_on_new_inputs(app, env, added, changed, removed) -> list[str]:
    """Re-read every notebook when the files their outputs depend on have changed."""
    digest = execution_inputs_digest()
    if getattr(env, INPUTS_KEY, None) == digest:
        return []
    setattr(env, INPUTS_KEY, digest)
    return [d for d in _notebook_docnames(env) if d not in added]


def write_index(app, exception) -> None:
    """Also write the home page as index.html, so the site's root URL opens it."""
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    home = out / f"{app.config.root_doc}.html"
    if home.is_file() and app.config.root_doc != "index":
        shutil.copyfile(home, out / "index.html")


def setup(app):
    app.connect("source-read", add_toctree)
    app.connect("env-get-outdated", rerun_on_new_inputs)
    app.connect("build-finished", write_index)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
