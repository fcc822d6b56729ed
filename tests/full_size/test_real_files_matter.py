"""The full-size pass catches what the old pass could not: files that differ from the Hub's.

The earlier full-mode pass registered stand-ins whose small files transformers had written
itself: a `config.json` with a `dtype` key, and a `tokenizer_config.json` naming
`DistilBertTokenizer` (which returns no `token_type_ids`). With those, notebooks 01 and 02
passed while their claims were false for a student with the real files. Here the same
notebooks run in full mode at full size, once with the real files (they pass) and once with
one real file swapped for such a transformers-written one (they fail where the claim is).

Run by `make test-full-size` (slow: each run executes a notebook against full-size weights).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.fullmode import (
    THROWAWAY_ROOT,
    full_size_checkpoint,
    register_dataset,
    register_model,
)

ROOT = Path(__file__).resolve().parents[2]
CASED = "distilbert/distilbert-base-cased"

pytestmark = pytest.mark.slow


def _register(hf_home: Path, swap: dict[str, str]) -> None:
    """Every course checkpoint at full size in ``hf_home``, the cased one with the files in
    ``swap`` (name -> content) replacing the real ones; and the reviews."""
    from lecture_utils.data import IMDB, bundled_reviews
    from lecture_utils.standins import STANDINS

    for real_id in STANDINS:
        source = full_size_checkpoint(real_id)
        if real_id == CASED and swap:
            folder = hf_home.parent / (hf_home.name + "-files")
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for f in source.iterdir():
                if f.name not in swap:
                    os.symlink(f, folder / f.name)
            for name, text in swap.items():
                (folder / name).write_text(text, encoding="utf-8")
            source = folder
        register_model(hf_home, real_id, source)
    register_dataset(hf_home, IMDB, bundled_reviews())


def _run(notebook: str, hf_home: Path) -> None:
    """Execute a notebook in full mode with ``hf_home`` as the Hugging Face cache."""
    import conftest

    env = {**conftest.suite_environment("full"), "HF_HOME": str(hf_home)}
    nb = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment of this process
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _transformers_written(kind: str) -> str:
    """A small file as transformers itself writes it (what the old stand-ins carried)."""
    from transformers import AutoConfig, DistilBertTokenizer

    from lecture_utils.standins import hub_files

    out = THROWAWAY_ROOT / "swapped-files" / kind
    shutil.rmtree(out, ignore_errors=True)
    if kind == "config":
        AutoConfig.from_pretrained(hub_files(CASED), dtype="float32").save_pretrained(out)
        return (out / "config.json").read_text(encoding="utf-8")
    DistilBertTokenizer(vocab=str(hub_files(CASED) / "vocab.txt"),
                        do_lower_case=False).save_pretrained(out)
    return (out / "tokenizer_config.json").read_text(encoding="utf-8")


def test_transformers_written_files_differ_from_the_hub_files():
    assert "dtype" in json.loads(_transformers_written("config"))
    assert json.loads(_transformers_written("tokenizer"))["tokenizer_class"] == \
        "DistilBertTokenizer"


@pytest.mark.parametrize("notebook, swap, failing", [
    ("01_hub.ipynb", "config", "assert config.dtype is None"),
    ("02_tokenization.ipynb", "tokenizer", "token_type_ids"),
])
def test_a_swapped_file_fails_the_notebook(notebook, swap, failing):
    hf_home = THROWAWAY_ROOT / f"hf-home-swapped-{swap}"
    shutil.rmtree(hf_home, ignore_errors=True)
    name = "config.json" if swap == "config" else "tokenizer_config.json"
    _register(hf_home, {name: _transformers_written(swap)})
    with pytest.raises(CellExecutionError) as err:
        _run(notebook, hf_home)
    assert failing in str(err.value)


def test_the_same_notebook_passes_with_the_real_files():
    hf_home = THROWAWAY_ROOT / "hf-home-unswapped"
    shutil.rmtree(hf_home, ignore_errors=True)
    _register(hf_home, {})
    _run("02_tokenization.ipynb", hf_home)
