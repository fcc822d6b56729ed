"""Write the "Open in Colab" column of the README's notebook table (`make colab`).

The table sits between ``<!-- colab-links: start -->`` and ``<!-- colab-links: end -->``.
Each row links its notebook (``[Title](notebooks/NN_name.ipynb)``); this script fills the
``Colab`` column (adding it after the ``Notebook`` column if it is missing) with a link
linking to the notebook on Colab, built from ``lecture_utils.course.REPOSITORY_URL``. Every
other cell is left as written. It fails when a notebook in notebooks/ has no row or a row
links a notebook that does not exist.

    python scripts/colab_links.py            # rewrite README.md
    python scripts/colab_links.py --check    # exit 1 if README.md is not current
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lecture_utils.course import colab_url  # noqa: E402

README = ROOT / "README.md"
START, END = "<!-- colab-links: start -->", "<!-- colab-links: end -->"
COLUMN = "Colab"
NOTEBOOK_LINK = re.compile(r"\]\((notebooks/[^)\s]+\.ipynb)\)")
_PIPE = re.compile(r"(?<!\\)\|")


class LinksError(ValueError):
    """The README's notebook table cannot be brought up to date as it is."""


def badge(notebook: str) -> str:
    """The Markdown link opening ``notebook`` (a path from the repository root) in Colab.

    A text link, not Colab's badge image: an image from Colab's server would be fetched by
    every page that shows the table (the offline course website refuses other hosts)."""
    return f"[Open in Colab]({colab_url(notebook)})"


def _cells(row: str) -> list[str]:
    parts = _PIPE.split(row.strip())
    if len(parts) < 3 or parts[0].strip() or parts[-1].strip():
        raise LinksError(f"Not a table row (it must start and end with '|'): {row!r}")
    return [p.strip() for p in parts[1:-1]]


def _row(cells: list[str]) -> str:
    if all(set(cell) <= set(":-") for cell in cells):  # the separator, written compactly
        return "|" + "|".join(cells) + "|"
    return "|" + "|".join(f" {cell} " if cell else " " for cell in cells) + "|"


def render(text: str, root: Path = ROOT) -> str:
    """``text`` (a README) with its Colab column filled in; raises LinksError if it can't."""
    if text.count(START) != 1 or text.count(END) != 1 or text.index(START) > text.index(END):
        raise LinksError(f"The README needs one {START!r} line, then one {END!r} line, "
                         "around the notebook table.")
    head, rest = text.split(START, 1)
    block, tail = rest.split(END, 1)
    lines = [line for line in block.strip("\n").splitlines() if line.strip()]
    if len(lines) < 3:
        raise LinksError("The block between the colab-links markers must be a Markdown table "
                         "with a header, a separator and one row per notebook.")
    header, separator, rows = _cells(lines[0]), _cells(lines[1]), [_cells(r) for r in lines[2:]]
    if COLUMN not in header:
        if "Notebook" not in header:
            raise LinksError(f"The table has neither a {COLUMN!r} nor a 'Notebook' column: "
                             f"{header}")
        at = header.index("Notebook") + 1
        header.insert(at, COLUMN)
        separator.insert(at, "---")
        for cells in rows:
            cells.insert(at, "")
    column = header.index(COLUMN)
    linked = []
    for cells in rows:
        if len(cells) != len(header):
            raise LinksError(f"A row has {len(cells)} cells, the header {len(header)}: {cells}")
        found = {m for cell in cells for m in NOTEBOOK_LINK.findall(cell)}
        if len(found) != 1:
            raise LinksError(f"Each row must link one notebook as (notebooks/NN_name.ipynb); "
                             f"this one links {sorted(found) or 'none'}: {cells}")
        notebook = found.pop()
        if not (root / notebook).is_file():
            raise LinksError(f"The README links {notebook}, which does not exist.")
        cells[column] = badge(notebook)
        linked.append(notebook)
    missing = sorted({f"notebooks/{p.name}" for p in (root / "notebooks").glob("*.ipynb")}
                     - set(linked))
    if missing:
        raise LinksError(f"No row of the README's notebook table links {missing}; add one.")
    table = "\n".join(_row(c) for c in [header, separator, *rows])
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if README.md is not current")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    try:
        new = render(text)
    except LinksError as error:
        print(f"colab_links: {error}", file=sys.stderr)
        return 1
    if args.check:
        print("README Colab links are current" if new == text
              else "README Colab links are out of date: run `make colab`")
        return 0 if new == text else 1
    if new != text:
        README.write_text(new, encoding="utf-8")
    print("README Colab links " + ("updated" if new != text else "already current"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
