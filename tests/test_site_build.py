"""The course website's build parts that need no build: JavaScript pins, notebook preparation.

(The built site itself is tested in test_site.py, after `make course`.)
"""

from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book"))
import course_site  # noqa: E402
import vendor_js  # noqa: E402


def _tarball(path: Path, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def _package(integrity: str, keep=("dist/*.js", "package.json")) -> vendor_js.Package:
    return vendor_js.Package(name="demo", version="1.0.0", integrity=integrity, keep=keep,
                             folder="demo")


def test_integrity_is_npm_format():
    # npm's dist.integrity is "sha512-" + base64(SHA-512 of the tarball); checked here on a
    # known input, the empty string (the real pins match: make course checks them).
    assert vendor_js.integrity_of(b"") == (
        "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg==")


def test_extract_keeps_the_pinned_files(tmp_path):
    tgz = tmp_path / "demo.tgz"
    data = _tarball(tgz, {"dist/a.js": b"a", "dist/a.js.map": b"m", "package.json": b"{}",
                          "src/x.ts": b"x"})
    kept = vendor_js.extract(_package(vendor_js.integrity_of(data)), tgz, tmp_path / "out")
    assert sorted(kept) == ["demo/dist/a.js", "demo/package.json"]
    assert (tmp_path / "out" / "demo" / "dist" / "a.js").read_bytes() == b"a"


def test_extract_refuses_a_tarball_that_is_not_the_pinned_one(tmp_path):
    tgz = tmp_path / "demo.tgz"
    _tarball(tgz, {"dist/a.js": b"a", "package.json": b"{}"})
    wrong = vendor_js.integrity_of(b"another tarball")
    with pytest.raises(vendor_js.VendorError, match="not the pinned"):
        vendor_js.extract(_package(wrong), tgz, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_extract_says_when_the_layout_changed(tmp_path):
    tgz = tmp_path / "demo.tgz"
    data = _tarball(tgz, {"lib/a.js": b"a", "package.json": b"{}"})
    with pytest.raises(vendor_js.VendorError, match=r"dist/\*\.js"):
        vendor_js.extract(_package(vendor_js.integrity_of(data)), tgz, tmp_path / "out")


def test_every_vendored_entry_point_is_kept_by_its_package():
    for entry in (vendor_js.REQUIREJS, vendor_js.HTML_MANAGER, vendor_js.MATHJAX):
        folder, rel = entry.removeprefix(f"{vendor_js.VENDOR_DIR}/").split("/", 1)
        package = next(p for p in vendor_js.PACKAGES if p.folder == folder)
        assert vendor_js._matches(rel, package.keep), entry


def _notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def test_solution_cells_are_collapsed_and_others_untouched():
    exercise = nbformat.v4.new_code_cell("answer = ...")
    solution = nbformat.v4.new_code_cell("answer = 42", metadata={"tags": ["solution"]})
    shown = nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["solution", "remove-input"]})
    nb = course_site.prepare_notebook(
        _notebook(nbformat.v4.new_markdown_cell("# T"), exercise, solution, shown), "digest")
    assert nb.cells[1].metadata == {course_site.INPUTS_KEY: "digest"}
    assert nb.cells[2].metadata["tags"] == ["solution", "hide-cell"]
    assert nb.cells[2].metadata["mystnb"]["code_prompt_show"] == "Show the solution"
    assert nb.cells[3].metadata == {"tags": ["solution", "remove-input"]}  # its own choice


def test_inputs_digest_changes_with_the_helper_package(tmp_path):
    for name in course_site.EXECUTION_INPUTS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / "lecture_utils").mkdir()
    (tmp_path / "lecture_utils" / "a.py").write_text("A = 1\n")
    (tmp_path / "requirements.lock").write_text("torch==2.13.0\n")
    (tmp_path / "book" / "build.py").write_text("# build\n")
    digest = course_site.execution_inputs_digest.__wrapped__
    before = digest(tmp_path)
    (tmp_path / "lecture_utils" / "a.py").write_text("A = 2\n")
    assert digest(tmp_path) != before
    (tmp_path / "lecture_utils" / "a.py").write_text("A = 1\n")
    assert digest(tmp_path) == before
    (tmp_path / "lecture_utils" / "__pycache__").mkdir()
    (tmp_path / "lecture_utils" / "__pycache__" / "a.pyc").write_bytes(b"\0")
    assert digest(tmp_path) == before  # byte-code caches don't count
