"""The notebooks in Google Colab: the set-up cell, the repository URL, the README's links.

Colab cannot be reached from here, so the cell runs under ``exec`` with ``subprocess.run``
intercepted: once as it runs everywhere else (nothing may happen), once with a fake
``google.colab`` module (exactly the expected pip commands).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

from lecture_utils import course

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))  # scripts/ is not a package

import colab_cell  # noqa: E402
import colab_links  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
HF_LIBRARIES = ["transformers", "datasets", "accelerate", "peft", "huggingface_hub", "tokenizers"]
COLAB_OWN = ["torch", "numpy", "ipywidgets", "matplotlib", "pandas"]
PIP = [sys.executable, "-m", "pip", "install", "--quiet"]
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/(?P<owner>[\w.-]+)/"
                        r"(?P<repo>[\w.-]+)/blob/(?P<branch>[\w.-]+)/(?P<path>[^)\s]+)")


def lock_versions() -> dict[str, str]:
    """requirements.lock as {lower-case name: version}, read independently of colab_cell."""
    lines = (ROOT / "requirements.lock").read_text().split()
    return dict(line.lower().replace("-", "_").split("==") for line in lines)


def setup_cell(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    [source] = [c.source for c in nb.cells if "colab-setup" in c.metadata.get("tags", [])]
    return source


def run_cell(source: str, monkeypatch, *, in_colab: bool, clone_from: Path | None = None):
    """Execute a set-up cell; return (calls to subprocess.run, names it defined)."""
    calls = []

    def fake_run(args, **kwargs):
        calls.append(list(args))
        if args[:2] == ["git", "clone"] and clone_from is not None:
            # Stands in for the clone: the repository's notebooks/ folder is all the cell reads.
            shutil.copytree(clone_from / "notebooks", Path(args[-1]) / "notebooks",
                            dirs_exist_ok=True, ignore=shutil.ignore_patterns("outputs"))
        return subprocess.CompletedProcess(args, 0)

    def refuse(*args, **kwargs):
        raise AssertionError(f"the cell started a process another way: {args}")

    monkeypatch.setattr(subprocess, "run", fake_run)
    for name in ("Popen", "call", "check_call", "check_output"):
        monkeypatch.setattr(subprocess, name, refuse)
    monkeypatch.setattr("os.system", refuse)
    if clone_from is not None:  # the clone's scratch folder goes under the test's tmp_path
        monkeypatch.setattr("tempfile.mkdtemp", lambda: str(Path.cwd().parent / "clone"))
    if in_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    namespace = {}
    exec(compile(source, "colab-setup", "exec"), namespace)
    return calls, sorted(set(namespace) - {"__builtins__"})


def install_problems(calls: list[list[str]]) -> list[str]:
    """What is wrong with the pip commands a cell ran in Colab; empty when right."""
    pins = lock_versions()
    expected = [PIP + [f"{name}=={pins[name]}" for name in HF_LIBRARIES],
                PIP + ["--no-deps", course.pip_requirement()]]
    pip_calls = [c for c in calls if c[:4] == PIP[:4]]
    problems = []
    args = [a for c in pip_calls for a in c]
    for name in COLAB_OWN:
        if any(re.match(rf"{name}\b(?![-_])", a, re.IGNORECASE) for a in args):
            problems.append(f"pins {name}, which Colab provides")
    if len(pip_calls) != 2:
        return problems + [f"expected 2 pip commands, got {len(pip_calls)}: {pip_calls}"]
    first, second = pip_calls
    if first[:len(PIP)] != PIP:
        problems.append(f"the first command does not start with {PIP}: {first}")
    missing = [pin for pin in expected[0][len(PIP):] if pin not in first]
    if missing:
        problems.append(f"not installed at the pinned version: {missing}")
    if second != expected[1]:
        problems.append(f"lecture_utils is installed with {second}, expected {expected[1]}")
    if not re.fullmatch(r"lecture-utils @ git\+https://github\.com/[\w.-]+/[\w.-]+", second[-1]):
        problems.append(f"not the git+https://github.com/<owner>/<repo> form: {second[-1]}")
    return problems


# ---- the cell in every notebook -------------------------------------------------------------

@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_has_the_current_colab_cell(path):
    assert colab_cell.problems(path) == [], "run `make colab` (scripts/colab_cell.py)"


def test_the_cell_check_catches_a_stale_a_missing_and_a_misplaced_cell(tmp_path):
    shutil.copytree(ROOT / "notebooks", tmp_path, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("outputs"))
    path = tmp_path / "02_tokenization.ipynb"
    nb = nbformat.read(path, as_version=4)
    [at] = [i for i, c in enumerate(nb.cells) if c.id == "colab-setup"]

    nb.cells[at].source = nb.cells[at].source.replace("==5.", "==4.")  # an old pin
    nbformat.write(nb, path)
    assert colab_cell.problems(path) == ["02_tokenization.ipynb: the 'colab-setup' cell "
                                         "differs from the template"]
    cell = nb.cells.pop(at)
    nbformat.write(nb, path)
    assert colab_cell.problems(path) == ["02_tokenization.ipynb: no cell tagged 'colab-setup'"]
    nb.cells.append(cell)
    nbformat.write(nb, path)
    assert "not the first code cell" in colab_cell.problems(path)[0]

    assert colab_cell.write(path) is True  # repaired ...
    assert colab_cell.problems(path) == []
    repaired = path.read_bytes()
    assert colab_cell.write(path) is False  # ... and idempotent
    assert path.read_bytes() == repaired
    assert repaired == (ROOT / "notebooks" / path.name).read_bytes()


def test_write_inserts_the_cell_before_the_first_code_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
                                         nbformat.v4.new_code_cell("import lecture_utils")])
    path = tmp_path / "99_new.ipynb"
    nbformat.write(nb, path)
    assert colab_cell.write(path) is True
    cells = nbformat.read(path, as_version=4).cells
    assert [c.cell_type for c in cells] == ["markdown", "code", "code"]
    assert cells[1].metadata.tags == ["colab-setup"] and cells[1].id == "colab-setup"
    assert colab_cell.write(path) is False


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outside_colab_the_cell_does_nothing(path, monkeypatch, capsys):
    calls, names = run_cell(setup_cell(path), monkeypatch, in_colab=False)
    assert calls == []
    assert names == ["sys"]  # only the import the guard needs
    assert capsys.readouterr() == ("", "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_in_colab_the_cell_installs_the_pins_and_lecture_utils(path, monkeypatch, tmp_path):
    (tmp_path / "content").mkdir()
    monkeypatch.chdir(tmp_path / "content")  # Colab runs a notebook in /content
    calls, _ = run_cell(setup_cell(path), monkeypatch, in_colab=True,
                        clone_from=ROOT)
    assert install_problems(calls) == []
    clones = [c for c in calls if c[:2] == ["git", "clone"]]
    if path.name == "11_accelerate.ipynb":  # runs train_accelerate.py from its own folder
        assert clones == [["git", "clone", "--quiet", "--depth=1", course.REPOSITORY_URL,
                           clones[0][-1]]]
        content = tmp_path / "content"
        assert (content / "train_accelerate.py").read_bytes() == \
            (ROOT / "notebooks" / "train_accelerate.py").read_bytes()
        assert (content / "accelerate_configs" / "cpu_2_processes.yaml").is_file()
    else:
        assert clones == [] and list(tmp_path.iterdir()) == [tmp_path / "content"]
        assert list((tmp_path / "content").iterdir()) == []


def test_the_install_check_fails_on_a_wrong_command():
    pins = lock_versions()
    right = [PIP + [f"{n}=={pins[n]}" for n in HF_LIBRARIES],
             PIP + ["--no-deps", course.pip_requirement()]]
    assert install_problems(right) == []
    with_torch = [right[0] + ["torch==2.13.0"], right[1]]
    assert install_problems(with_torch) == ["pins torch, which Colab provides"]
    old = [[a.replace("transformers==", "transformers==4.") for a in right[0]], right[1]]
    assert "not installed at the pinned version" in install_problems(old)[0]
    from_pypi = [right[0], PIP + ["--no-deps", "lecture-utils"]]
    assert "lecture_utils is installed with" in install_problems(from_pypi)[0]
    assert "expected 2 pip commands" in install_problems(right[:1])[0]


def test_the_guard_check_fails_on_a_cell_that_always_installs(monkeypatch):
    source = setup_cell(NOTEBOOKS[0]).replace('if "google.colab" in sys.modules:', "if True:")
    calls, _ = run_cell(source, monkeypatch, in_colab=False)
    assert calls != []  # what test_outside_colab_the_cell_does_nothing would reject


def test_colab_pins_come_from_the_lock_and_never_include_colabs_own_packages(tmp_path):
    pins = colab_cell.colab_pins()
    assert [p.split("==")[0] for p in pins][:6] == HF_LIBRARIES
    assert not any(p.split("==")[0] in COLAB_OWN for p in pins)
    lock = tmp_path / "requirements.lock"
    lock.write_text("transformers==5.23.0\n")
    with pytest.raises(ValueError, match="pins no datasets"):
        colab_cell.colab_pins(lock)
    lock.write_text("transformers>=5\n")
    with pytest.raises(ValueError, match="not pinned as name==version"):
        colab_cell.colab_pins(lock)


# ---- the repository URL and the links built from it -----------------------------------------

def test_colab_url_has_colabs_github_form():
    assert course.colab_url("notebooks/01_hub.ipynb") == (
        "https://colab.research.google.com/github/hf-course/transformers-hands-on/blob/main/"
        "notebooks/01_hub.ipynb")
    assert course.pip_requirement() == \
        "lecture-utils @ git+https://github.com/hf-course/transformers-hands-on"
    assert course.pip_requirement(ref="v1.0").endswith("transformers-hands-on@v1.0")


@pytest.mark.parametrize("bad", ["/notebooks/01_hub.ipynb", "../01_hub.ipynb",
                                 "notebooks/01_hub.py", "notebooks\\01_hub.ipynb"])
def test_colab_url_refuses_a_path_outside_the_repository_or_not_a_notebook(bad):
    with pytest.raises(ValueError, match="notebook must be"):
        course.colab_url(bad)


@pytest.mark.parametrize("url", ["https://gitlab.com/a/b", "https://github.com/a/b/",
                                 "https://github.com/a/b.git", "github.com/a/b",
                                 "https://github.com/a"])
def test_a_repository_url_of_another_form_is_refused(url):
    with pytest.raises(ValueError, match=r"https://github.com/<owner>/<repo>"):
        course.colab_url("notebooks/01_hub.ipynb", url=url)


def link_problems(text: str, root: Path = ROOT) -> list[str]:
    """Colab links in ``text`` that are malformed, point elsewhere or at a missing file,
    and notebooks without exactly one link."""
    owner, repo = course.github_owner_repo()
    problems, linked = [], []
    for url in re.findall(r"https://colab\.research\.google\.com/github/[^)\s]+", text):
        m = COLAB_LINK.fullmatch(url)
        if m is None or not m["path"].startswith("notebooks/") or \
                not m["path"].endswith(".ipynb"):
            problems.append(f"not Colab's github form for a notebook: {url}")
            continue
        if (m["owner"], m["repo"], m["branch"]) != (owner, repo, course.BRANCH):
            problems.append(f"not the course repository's {course.BRANCH}: {url}")
        if not (root / m["path"]).is_file():
            problems.append(f"no such notebook: {m['path']}")
        linked.append(m["path"])
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        n = linked.count(f"notebooks/{path.name}")
        if n != 1:
            problems.append(f"notebooks/{path.name} has {n} Colab links")
    return problems


def test_readme_colab_links_are_current_and_point_at_existing_notebooks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert colab_links.render(text) == text, "run `make colab` (scripts/colab_links.py)"
    assert link_problems(text) == []


def test_the_link_check_fails_on_a_bad_link():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    renamed = text.replace("blob/main/notebooks/03_batching.ipynb",
                           "blob/main/notebooks/03_batches.ipynb")
    assert link_problems(renamed) == ["no such notebook: notebooks/03_batches.ipynb",
                                      "notebooks/03_batching.ipynb has 0 Colab links"]
    other = text.replace("github/hf-course/", "github/someone-else/", 1)
    assert link_problems(other) == [f"not the course repository's main: "
                                    f"{course.colab_url('notebooks/01_hub.ipynb')}"
                                    .replace("hf-course", "someone-else")]


def test_the_links_generator_refuses_a_table_that_misses_or_invents_a_notebook():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if "(notebooks/05_datasets.ipynb)" in line)
    with pytest.raises(colab_links.LinksError, match=r"links \['notebooks/05_datasets.ipynb'\]"):
        colab_links.render(text.replace(row + "\n", ""))
    with pytest.raises(colab_links.LinksError, match="99_x.ipynb, which does not exist"):
        colab_links.render(text.replace("(notebooks/05_datasets.ipynb)",
                                        "(notebooks/99_x.ipynb)"))
    with pytest.raises(colab_links.LinksError, match="needs one"):
        colab_links.render(text.replace(colab_links.END, ""))


def test_the_links_generator_adds_the_column_to_a_plain_table(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "01_a.ipynb").write_text("{}")
    text = (f"# Course\n{colab_links.START}\n| | Notebook | About |\n|---|---|---|\n"
            f"| 01 | [A](notebooks/01_a.ipynb) | text |\n{colab_links.END}\nmore\n")
    out = colab_links.render(text, root=tmp_path)
    assert out == (f"# Course\n{colab_links.START}\n| | Notebook | Colab | About |\n"
                   f"|---|---|---|---|\n| 01 | [A](notebooks/01_a.ipynb) | "
                   f"{colab_links.badge('notebooks/01_a.ipynb')} | text |\n"
                   f"{colab_links.END}\nmore\n")
    assert colab_links.render(out, root=tmp_path) == out
