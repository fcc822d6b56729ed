"""Write the Colab set-up cell into every notebook (`make colab`); idempotent.

Each notebook gets one code cell tagged ``colab-setup``, placed before its first other code
cell. In Google Colab (detected by ``"google.colab" in sys.modules``) it installs the
course's pinned Hugging Face libraries, read here from ``requirements.lock``, and
``lecture_utils`` from the course repository (``lecture_utils/course.py``). It leaves
Colab's own torch, numpy, ipywidgets, matplotlib and pandas alone: replacing them would
force a runtime restart. A notebook that reads files next to it (notebook 11 runs
``train_accelerate.py``) also fetches those from the repository. Anywhere else the cell does
nothing.

    python scripts/colab_cell.py            # insert or update the cell in notebooks/*.ipynb
    python scripts/colab_cell.py --check    # exit 1 if any notebook's cell is not current

Edit TEMPLATE below, never the cells: the test suite fails when a notebook's cell differs
from what this script writes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lecture_utils.course import REPOSITORY_URL, pip_requirement  # noqa: E402

NOTEBOOKS = ROOT / "notebooks"
LOCK = ROOT / "requirements.lock"
TAG = "colab-setup"
CELL_ID = "colab-setup"

# Pinned in Colab: the Hugging Face libraries the course is tested with. Everything else
# (torch, numpy, ipywidgets, matplotlib, pandas, pyarrow, ...) is Colab's own.
COLAB_PINNED = ("transformers", "datasets", "accelerate", "peft", "huggingface_hub",
                "tokenizers", "safetensors")
# Never pinned in Colab, whatever COLAB_PINNED says (checked by the tests).
COLAB_PROVIDED = ("torch", "numpy", "ipywidgets", "matplotlib", "pandas")

TEMPLATE = """\
# Google Colab only: install the course's tested Hugging Face libraries and its helper
# package lecture_utils (Colab's own torch, numpy and ipywidgets stay as they are).
# Anywhere else this cell does nothing. Written by scripts/colab_cell.py: edit it there.
import sys

if "google.colab" in sys.modules:
    import subprocess

    course = "{url}"
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip,
{pins}], check=True)
    subprocess.run([*pip, "--no-deps", "lecture-utils @ git+" + course], check=True)
{fetch}"""

FETCH = """\
    # Files this notebook reads from its own folder in the repository.
    import os
    import shutil
    import tempfile

    clone = tempfile.mkdtemp()
    subprocess.run(["git", "clone", "--quiet", "--depth=1", course, clone], check=True)
    for name in {names}:
        source = os.path.join(clone, "notebooks", name)
        if os.path.isdir(source):
            shutil.copytree(source, name, dirs_exist_ok=True)
        else:
            shutil.copy(source, name)
"""


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path = LOCK) -> dict[str, str]:
    """``{normalised name: version}`` of every ``name==version`` line of a lock file."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise ValueError(f"{path}: {line!r} is not pinned as name==version.")
        pins[_normalise(name)] = version.strip()
    return pins


def colab_pins(lock: Path = LOCK) -> list[str]:
    """``name==version`` for each package of COLAB_PINNED, as ``lock`` pins it."""
    pins = read_lock(lock)
    provided = {_normalise(n) for n in COLAB_PROVIDED}
    result = []
    for name in COLAB_PINNED:
        key = _normalise(name)
        if key in provided:
            raise ValueError(f"{name} is provided by Colab and must not be pinned there.")
        if key not in pins:
            raise ValueError(f"{lock} pins no {name}; add it (make lock) or drop it from "
                             "COLAB_PINNED in scripts/colab_cell.py.")
        result.append(f"{name}=={pins[key]}")
    return result


def side_files(notebook: Path) -> list[str]:
    """The files and folders next to ``notebook`` that its code cells name (e.g.
    ``train_accelerate.py``): Colab opens the notebook alone, so the cell fetches them."""
    siblings = sorted(p.name for p in notebook.parent.iterdir()
                      if p.suffix != ".ipynb" and not p.name.startswith((".", "_"))
                      and p.name != "outputs")
    nb = nbformat.read(notebook, as_version=4)
    code = "\n".join(c.source for c in nb.cells
                     if c.cell_type == "code" and TAG not in c.metadata.get("tags", []))
    return [name for name in siblings if re.search(rf"(?<![\w.]){re.escape(name)}\b", code)]


def cell_source(notebook: Path, lock: Path = LOCK, url: str = REPOSITORY_URL) -> str:
    """The set-up cell's source for ``notebook``, from TEMPLATE."""
    items = [f'"{pin}"' for pin in colab_pins(lock)]
    pins = textwrap.fill(", ".join(items), width=99, initial_indent=" " * 20,
                         subsequent_indent=" " * 20, break_long_words=False,
                         break_on_hyphens=False)
    names = side_files(notebook)
    fetch = FETCH.format(names=json.dumps(names)) if names else ""
    pip_requirement(url)  # checks the URL's form: https://github.com/<owner>/<repo>
    source = TEMPLATE.format(url=url, pins=pins, fetch=fetch)
    return source.rstrip("\n")


def _setup_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if TAG in c.metadata.get("tags", [])]


def updated(nb, source: str):
    """``nb`` with exactly one set-up cell holding ``source``, just before the first other
    code cell (the cell is created, updated or moved as needed; ``nb`` is changed in place)."""
    existing = _setup_cells(nb)
    for i in reversed(existing[1:]):  # a duplicate: keep the first
        del nb.cells[i]
    if existing:
        cell = nb.cells.pop(existing[0])
    else:
        cell = nbformat.v4.new_code_cell(metadata={"tags": [TAG]})
        cell.id = CELL_ID
    cell.source = source
    cell.outputs, cell.execution_count = [], None
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"),
                      len(nb.cells))
    nb.cells.insert(first_code, cell)
    return nb


def problems(notebook: Path, lock: Path = LOCK, url: str = REPOSITORY_URL) -> list[str]:
    """Why ``notebook``'s set-up cell is not what this script writes; empty when it is."""
    nb = nbformat.read(notebook, as_version=4)
    found = _setup_cells(nb)
    if not found:
        return [f"{notebook.name}: no cell tagged {TAG!r}"]
    result = []
    if len(found) > 1:
        result.append(f"{notebook.name}: {len(found)} cells tagged {TAG!r}, expected one")
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    if found[0] != first_code:
        result.append(f"{notebook.name}: the {TAG!r} cell is not the first code cell")
    if nb.cells[found[0]].source != cell_source(notebook, lock, url):
        result.append(f"{notebook.name}: the {TAG!r} cell differs from the template")
    return result


def write(notebook: Path, lock: Path = LOCK, url: str = REPOSITORY_URL) -> bool:
    """Insert or update the set-up cell of ``notebook``; True if the file changed."""
    before = notebook.read_text(encoding="utf-8")
    nb = updated(nbformat.reads(before, as_version=4), cell_source(notebook, lock, url))
    after = nbformat.writes(nb) + "\n"
    if after == before:
        return False
    notebook.write_text(after, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a notebook's cell is not current")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to update (default: notebooks/*.ipynb)")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    if args.check:
        found = [p for path in paths for p in problems(path)]
        print("\n".join(found) or f"colab-setup cells are current in {len(paths)} notebooks")
        return 1 if found else 0
    changed = [path for path in paths if write(path)]
    print(f"colab-setup cell: {len(changed)} of {len(paths)} notebooks changed"
          + "".join(f"\n  {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}"
                    for p in changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
