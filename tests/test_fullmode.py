import subprocess
import sys

import pytest

from tests.fullmode import ROOT, THROWAWAY_ROOT, register_model, register_standins_under_real_ids


def test_refuses_to_register_in_a_real_cache(tmp_path):
    with pytest.raises(ValueError, match="would shadow the real checkpoints"):
        register_model(tmp_path / "hf-home", "distilbert/distilbert-base-cased", tmp_path)
    with pytest.raises(ValueError, match="would shadow"):
        register_standins_under_real_ids(ROOT.parent / "somewhere-else")


@pytest.mark.slow
def test_registered_standins_load_by_real_id_offline():
    """What the full-mode notebook run relies on: the standard caches resolve the real ids."""
    hf_home = THROWAWAY_ROOT / "hf-home-fullmode-test"
    register_standins_under_real_ids(hf_home)
    code = (
        "from transformers import AutoConfig\n"
        "from datasets import load_dataset\n"
        "c = AutoConfig.from_pretrained('distilbert/distilbert-base-uncased-finetuned-sst-2-english')\n"
        "d = load_dataset('stanfordnlp/imdb')\n"
        "print(c.id2label[1], sorted(d), d['train'].features['label'].names)\n"
    )
    env = {"HF_HOME": str(hf_home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "POSITIVE ['test', 'train', 'unsupervised'] ['neg', 'pos']" in out.stdout


@pytest.mark.slow
def test_registered_dataset_follows_the_bundled_data(tmp_path):
    """New bundled data replaces the registered copy instead of being shadowed by it."""
    import shutil

    from lecture_utils.data import bundled_reviews
    from tests.fullmode import register_dataset

    hf_home = THROWAWAY_ROOT / "hf-home-fullmode-data-test"
    shutil.rmtree(hf_home, ignore_errors=True)
    source = tmp_path / "reviews"
    shutil.copytree(bundled_reviews(), source)
    first = {p.name for p in register_dataset(hf_home, "stanfordnlp/imdb", source).rglob("*")
             if p.parent.name == "0.0.0" and p.is_dir()}
    assert len(first) == 1
    victim = source / "plain_text" / "test-00000-of-00001.parquet"
    shutil.copy(source / "plain_text" / "train-00000-of-00001.parquet", victim)  # new data
    second = {p.name for p in register_dataset(hf_home, "stanfordnlp/imdb", source).rglob("*")
              if p.parent.name == "0.0.0" and p.is_dir()}
    assert len(second) == 1 and second != first
    shutil.rmtree(hf_home)
