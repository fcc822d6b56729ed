"""Where the course lives: its repository URL, and the links built from it.

``REPOSITORY_URL`` is the one place that names the course's GitHub repository. The Colab
set-up cell of every notebook (``scripts/colab_cell.py``), the "Open in Colab" links in the
README (``scripts/colab_links.py``) and the website all read it from here.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

# PLACEHOLDER: the course has no public repository yet. Change this line (and nothing else)
# when it has one, then run `make colab` to regenerate the notebooks' set-up cells and the
# README's links.
REPOSITORY_URL = "https://github.com/hf-course/transformers-hands-on"
BRANCH = "main"

_GITHUB = re.compile(r"https://github\.com/(?P<owner>[A-Za-z0-9][A-Za-z0-9-]*)/"
                     r"(?P<repo>[A-Za-z0-9._-]+)")


def github_owner_repo(url: str = REPOSITORY_URL) -> tuple[str, str]:
    """``(owner, repo)`` of a ``https://github.com/<owner>/<repo>`` URL.

    Raises ValueError for anything else (another host, a trailing path, ``.git``), since
    Colab's links and pip's ``git+`` form both need exactly that shape.
    """
    match = _GITHUB.fullmatch(url)
    if match is None or match["repo"].endswith(".git"):
        raise ValueError(f"The repository URL must look like https://github.com/<owner>/<repo> "
                         f"(no trailing slash, path or .git); got {url!r}.")
    return match["owner"], match["repo"]


def pip_requirement(url: str = REPOSITORY_URL, *, ref: str | None = None) -> str:
    """The pip requirement that installs ``lecture_utils`` from the course repository.

    ``lecture-utils @ git+https://github.com/<owner>/<repo>`` (``@<ref>`` appended when a
    branch, tag or commit is given).
    """
    owner, repo = github_owner_repo(url)
    suffix = f"@{ref}" if ref else ""
    return f"lecture-utils @ git+https://github.com/{owner}/{repo}{suffix}"


def colab_url(notebook: str, url: str = REPOSITORY_URL, branch: str = BRANCH) -> str:
    """The "Open in Colab" URL of a notebook of the repository.

    ``notebook`` is the notebook's path relative to the repository root, with forward
    slashes, e.g. ``"notebooks/01_hub.ipynb"``. Returns
    ``https://colab.research.google.com/github/<owner>/<repo>/blob/<branch>/<notebook>``.
    Raises ValueError for an absolute path, a path that climbs out with ``..``, or a file
    that is not a ``.ipynb``. It does not check that the file exists (the tests do).
    """
    path = PurePosixPath(notebook)
    if path.is_absolute() or ".." in path.parts or "\\" in notebook:
        raise ValueError(f"notebook must be a path inside the repository such as "
                         f"'notebooks/01_hub.ipynb', got {notebook!r}.")
    if path.suffix != ".ipynb":
        raise ValueError(f"notebook must be a .ipynb file, got {notebook!r}.")
    owner, repo = github_owner_repo(url)
    return f"https://colab.research.google.com/github/{owner}/{repo}/blob/{branch}/{path}"
