import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoTokenizer

import lecture_utils as lu
from lecture_utils.standins import STANDINS

ROOT = Path(__file__).resolve().parents[1]
CASED = "distilbert/distilbert-base-cased"
UNCASED = "distilbert/distilbert-base-uncased"
SST2 = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
GPT2 = "distilbert/distilgpt2"


def test_full_mode_returns_the_real_id(mode):
    mode("full")
    for real_id in STANDINS:
        assert lu.checkpoint(real_id) == real_id
    assert lu.checkpoint("google-bert/bert-base-cased") == "google-bert/bert-base-cased"


def test_tiny_mode_returns_a_local_folder_outside_the_hf_cache(mode):
    mode("tiny")
    for real_id in STANDINS:
        folder = Path(lu.checkpoint(real_id))
        assert folder.is_dir()
        names = {p.name for p in folder.iterdir()}
        assert {"config.json", "model.safetensors", "tokenizer.json"} <= names
        assert "huggingface" not in folder.parts and "hub" not in folder.parts
        assert Path(os.environ["LECTURE_CACHE"]) in folder.parents


def test_unknown_id_in_tiny_mode_lists_the_known_ones(mode):
    mode("tiny")
    with pytest.raises(ValueError) as err:
        lu.checkpoint("google-bert/bert-base-cased")
    message = str(err.value)
    assert "google-bert/bert-base-cased" in message
    for real_id in STANDINS:
        assert real_id in message
    assert "LECTURE_MODE=full" in message


@pytest.mark.parametrize("bad, needle", [
    ("distilbert-base-cased", "distilbert/distilbert-base-cased"),  # legacy alias
    ("distilgpt2", "distilbert/distilgpt2"),
    ("", "Hub id"),
    ("   ", "Hub id"),
    (None, "Hub id"),
    (42, "Hub id"),
    ("a/b/c", "owner/name"),
    ("bert", "owner/name"),
])
@pytest.mark.parametrize("which", ["tiny", "full"])
def test_bad_ids_are_clear_errors(mode, which, bad, needle):
    mode(which)
    with pytest.raises(ValueError) as err:
        lu.checkpoint(bad)
    assert needle in str(err.value)


def test_standins_have_the_real_classes_and_tokenizer_kinds(mode):
    mode("tiny")
    expected = {
        CASED: ("distilbert", "DistilBertForMaskedLM", "DistilBertTokenizer"),
        UNCASED: ("distilbert", "DistilBertForMaskedLM", "DistilBertTokenizer"),
        SST2: ("distilbert", "DistilBertForSequenceClassification", "DistilBertTokenizer"),
        GPT2: ("gpt2", "GPT2LMHeadModel", "GPT2Tokenizer"),
    }
    for real_id, (model_type, arch, tok_class) in expected.items():
        path = lu.checkpoint(real_id)
        config = AutoConfig.from_pretrained(path)
        assert config.model_type == model_type
        assert config.architectures == [arch]
        assert type(AutoTokenizer.from_pretrained(path)).__name__ == tok_class


def test_wordpiece_standins_cased_and_uncased(mode):
    mode("tiny")
    cased = AutoTokenizer.from_pretrained(lu.checkpoint(CASED))
    uncased = AutoTokenizer.from_pretrained(lu.checkpoint(UNCASED))
    for tok in (cased, uncased):
        assert [tok.cls_token, tok.sep_token, tok.pad_token, tok.unk_token, tok.mask_token] == \
            ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"]
        assert tok.pad_token_id == 0
        assert tok.model_max_length == 512
        tokens = tok.convert_ids_to_tokens(tok("Tokenization is fun")["input_ids"])
        assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
        assert any(t.startswith("##") for t in tokens), tokens  # subwords
        assert "[UNK]" in tok.tokenize("\N{SNOWMAN}")
    assert cased.tokenize("Hello") == ["Hello"]
    assert uncased.tokenize("Hello") == ["hello"]
    assert uncased.tokenize("Héllo") == ["hello"]  # uncased also strips accents


def test_byte_level_bpe_standin(mode):
    mode("tiny")
    tok = AutoTokenizer.from_pretrained(lu.checkpoint(GPT2))
    assert tok.eos_token == tok.bos_token == "<|endoftext|>"
    assert tok.pad_token is None  # like the real GPT-2
    assert tok.tokenize(" time")[0].startswith("\N{LATIN CAPITAL LETTER G WITH DOT ABOVE}")
    text = "Once upon a time \N{SNOWMAN} ünïcödé"
    assert tok.decode(tok(text)["input_ids"]) == text  # byte level: nothing is unknown
    assert tok.model_max_length == 1024


def test_tiny_dimensions(mode):
    mode("tiny")
    model = AutoModel.from_pretrained(lu.checkpoint(CASED))
    assert model.config.dim <= 64 and model.config.n_layers <= 2
    assert sum(p.numel() for p in model.parameters()) < 500_000


def test_sentiment_labels(mode):
    mode("tiny")
    config = AutoConfig.from_pretrained(lu.checkpoint(SST2))
    assert config.id2label == {0: "NEGATIVE", 1: "POSITIVE"}
    assert config.label2id == {"NEGATIVE": 0, "POSITIVE": 1}


def _build_in(cache: Path, hash_seed: str, real_ids) -> subprocess.Popen:
    env = {**os.environ, "LECTURE_CACHE": str(cache), "PYTHONHASHSEED": hash_seed}
    code = ("import sys\nfrom lecture_utils.standins import build_standin\n"
            "print([str(build_standin(k)) for k in sys.argv[1:]])")
    return subprocess.Popen([sys.executable, "-c", code, *real_ids], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc) -> str:
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return out


@pytest.mark.slow
def test_concurrent_cold_builds_share_one_result_identical_to_ours(mode, tmp_path):
    """Two processes (other hash seeds) ask for every stand-in in one empty cache at the same
    moment: both succeed with one result, and it is byte for byte what this process built."""
    mode("tiny")
    ours = {real_id: Path(lu.checkpoint(real_id)) for real_id in STANDINS}
    procs = [_build_in(tmp_path, seed, list(STANDINS)) for seed in ("1", "2")]
    outputs = [_finish(p) for p in procs]
    assert outputs[0] == outputs[1]
    assert [p.name for p in tmp_path.rglob("*") if ".tmp-" in p.name] == []  # no leftovers
    for real_id, folder in ours.items():
        theirs = next((tmp_path / "standins").glob(f"*/{folder.name}"))
        assert sorted(f.name for f in theirs.iterdir()) == sorted(f.name for f in folder.iterdir())
        for f in folder.iterdir():
            assert f.read_bytes() == (theirs / f.name).read_bytes(), f"{real_id}: {f.name} differs"


def test_same_ids_on_every_machine(mode):
    """The vocabularies are built deterministically; these ids pin them down.
    If a library upgrade changes them, stand-ins built on different machines would disagree."""
    mode("tiny")
    pinned = json.loads((Path(__file__).parent / "data" / "standin_ids.json").read_text())
    for real_id, cases in pinned.items():
        tok = AutoTokenizer.from_pretrained(lu.checkpoint(real_id))
        for text, ids in cases.items():
            assert tok(text)["input_ids"] == ids, (real_id, text)


def test_load_from_cache_is_local_and_offline(mode):
    mode("tiny")
    path = lu.checkpoint(CASED)
    model = AutoModel.from_pretrained(path, local_files_only=True)
    assert isinstance(model.embeddings.word_embeddings.weight, torch.nn.Parameter)


def test_cache_root_follows_lecture_cache_then_xdg(monkeypatch, tmp_path):
    from lecture_utils.standins import cache_root

    monkeypatch.setenv("LECTURE_CACHE", str(tmp_path / "mine"))
    assert cache_root() == tmp_path / "mine"
    monkeypatch.delenv("LECTURE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_root() == tmp_path / "xdg" / "lecture_utils"
