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
