"""The full-size registration itself: real small files plus full-size weights, found by real id
offline. Run by `make test-full-size` (each test builds or loads hundreds of MB of weights)."""

import json
import os
import subprocess
import sys

import pytest

from tests.fullmode import (
    ROOT,
    THROWAWAY_ROOT,
    full_size_checkpoint,
    register_real_files_at_full_size,
)

SST2 = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"


@pytest.mark.slow
def test_real_files_at_full_size_load_by_real_id_offline():
    """What the full-size notebook run relies on: the standard caches resolve the real ids to
    the real small files and full-size weights, with the network off."""
    hf_home = THROWAWAY_ROOT / "hf-home-full-size-test"
    register_real_files_at_full_size(hf_home)
    code = (
        "import json\n"
        "from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer\n"
        "from datasets import load_dataset\n"
        f"m = AutoModelForSequenceClassification.from_pretrained({SST2!r})\n"
        f"t = AutoTokenizer.from_pretrained({SST2!r})\n"
        f"c = AutoConfig.from_pretrained({SST2!r})\n"
        "d = load_dataset('stanfordnlp/imdb')\n"
        "print(json.dumps([m.config.dim, m.num_parameters(), type(t).__name__, "
        "t('Hello, how are you?')['input_ids'], c.dtype is None, m.config.id2label[1], "
        "sorted(d), d['train'].features['label'].names]))\n"
    )
    env = {"HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    dim, n_params, tok_class, ids, no_dtype, label, splits, names = json.loads(
        out.stdout.strip().splitlines()[-1])
    assert dim == 768 and n_params > 60_000_000  # the real size
    assert tok_class == "BertTokenizer"  # what the real tokenizer_config.json gives
    assert ids == [101, 7592, 1010, 2129, 2024, 2017, 1029, 102]
    assert no_dtype and label == "POSITIVE"
    assert splits == ["test", "train", "unsupervised"] and names == ["neg", "pos"]


@pytest.mark.slow
def test_full_size_checkpoint_is_the_real_files_plus_weights():
    from lecture_utils.standins import hub_files

    folder = full_size_checkpoint(SST2)
    reference = hub_files(SST2)
    assert {f.name for f in folder.iterdir()} == {f.name for f in reference.iterdir()} | {
        "model.safetensors"}
    for f in reference.iterdir():
        assert (folder / f.name).read_bytes() == f.read_bytes(), f.name
    assert (folder / "model.safetensors").stat().st_size > 200e6  # 66M float32 values
