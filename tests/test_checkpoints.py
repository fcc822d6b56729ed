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
        assert {"config.json", "model.safetensors"} <= names
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


def _reference(real_id: str) -> Path:
    from lecture_utils.standins import hub_files

    return hub_files(real_id)


@pytest.mark.parametrize("real_id", sorted(STANDINS))
def test_standin_small_files_are_the_real_ones(mode, real_id):
    """Every small file of the real checkpoint is in the stand-in, byte for byte, except
    config.json, which differs only in the size fields; the stand-in adds only its weights
    and a note saying what it is."""
    from lecture_utils.standins import TINY_SIZES

    mode("tiny")
    standin = Path(lu.checkpoint(real_id))
    reference = _reference(real_id)
    ref_names = {f.name for f in reference.iterdir()}
    assert {f.name for f in standin.iterdir()} == ref_names | {"model.safetensors", "STANDIN.md"}
    for name in ref_names - {"config.json"}:
        assert (standin / name).read_bytes() == (reference / name).read_bytes(), name
    real = json.loads((reference / "config.json").read_text())
    tiny = json.loads((standin / "config.json").read_text())
    assert list(tiny) == list(real)  # the same keys, in the same order: none added or lost
    size_fields = set(TINY_SIZES[real["model_type"]])
    assert {k for k in real if tiny[k] != real[k]} == size_fields
    for field in size_fields:
        assert tiny[field] < real[field]


@pytest.mark.parametrize("real_id", sorted(STANDINS))
def test_standin_tokenizer_is_the_real_tokenizer(mode, real_id):
    """Same class, inputs, special tokens, size and limits as the tokenizer that the real
    files give (AutoTokenizer on the reference folder, as a student's cache would)."""
    mode("tiny")
    ours = AutoTokenizer.from_pretrained(lu.checkpoint(real_id))
    real = AutoTokenizer.from_pretrained(_reference(real_id))
    assert type(ours) is type(real)
    assert ours.model_input_names == real.model_input_names
    assert ours.special_tokens_map == real.special_tokens_map
    assert ours.all_special_ids == real.all_special_ids
    assert len(ours) == len(real) and ours.vocab_size == real.vocab_size
    assert ours.model_max_length == real.model_max_length
    assert ours.padding_side == real.padding_side
    assert ours.get_vocab() == real.get_vocab()


def test_standins_have_the_real_classes_and_tokenizer_kinds(mode):
    mode("tiny")
    expected = {
        CASED: ("distilbert", "DistilBertForMaskedLM", "BertTokenizer"),
        UNCASED: ("distilbert", "DistilBertForMaskedLM", "BertTokenizer"),
        SST2: ("distilbert", "DistilBertForSequenceClassification", "BertTokenizer"),
        GPT2: ("gpt2", "GPT2LMHeadModel", "GPT2Tokenizer"),
    }
    for real_id, (model_type, arch, tok_class) in expected.items():
        path = lu.checkpoint(real_id)
        config = AutoConfig.from_pretrained(path)
        assert config.model_type == model_type
        assert config.architectures == [arch]
        assert type(AutoTokenizer.from_pretrained(path)).__name__ == tok_class
        model = AutoModel.from_pretrained(path)
        assert model.get_input_embeddings().weight.shape[0] == config.vocab_size
        assert config.dtype is None  # like the real config.json: no dtype key
        assert model.config.dtype == torch.float32


# The lecture's sentence, encoded by the real tokenizers (the lecture prints the cased ids).
LECTURE_IDS = {
    CASED: [101, 8667, 117, 1293, 1132, 1128, 136, 102],
    UNCASED: [101, 7592, 1010, 2129, 2024, 2017, 1029, 102],
    SST2: [101, 7592, 1010, 2129, 2024, 2017, 1029, 102],
    GPT2: [15496, 11, 703, 389, 345, 30],
}


@pytest.mark.parametrize("real_id", sorted(LECTURE_IDS))
def test_tiny_tokenizers_give_the_lectures_ids(mode, real_id):
    mode("tiny")
    tok = AutoTokenizer.from_pretrained(lu.checkpoint(real_id))
    assert tok("Hello, how are you?")["input_ids"] == LECTURE_IDS[real_id]


def test_wordpiece_standins_cased_and_uncased(mode):
    mode("tiny")
    cased = AutoTokenizer.from_pretrained(lu.checkpoint(CASED))
    uncased = AutoTokenizer.from_pretrained(lu.checkpoint(UNCASED))
    for tok in (cased, uncased):
        assert [tok.cls_token, tok.sep_token, tok.pad_token, tok.unk_token, tok.mask_token] == \
            ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"]
        assert tok.pad_token_id == 0
        assert tok.model_max_length == 512
        assert "token_type_ids" in tok("Hello")  # BertTokenizer, as with the real files
        tokens = tok.convert_ids_to_tokens(tok("Tokenization is fun")["input_ids"])
        assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
        assert any(t.startswith("##") for t in tokens), tokens  # subwords
        assert "[UNK]" in tok.tokenize("\N{SNOWMAN}")
    assert len(cased) == 28_996 and len(uncased) == 30_522
    assert cased.tokenize("Hello") == ["Hello"]
    assert uncased.tokenize("Hello") == ["hello"]
    assert uncased.tokenize("Héllo") == ["hello"]  # uncased also strips accents


def test_byte_level_bpe_standin(mode):
    mode("tiny")
    tok = AutoTokenizer.from_pretrained(lu.checkpoint(GPT2))
    assert tok.eos_token == tok.bos_token == "<|endoftext|>"
    assert tok.pad_token is None  # like the real GPT-2
    assert len(tok) == 50_257
    assert tok.tokenize(" time")[0].startswith("\N{LATIN CAPITAL LETTER G WITH DOT ABOVE}")
    text = "Once upon a time \N{SNOWMAN} ünïcödé"
    assert tok.decode(tok(text)["input_ids"]) == text  # byte level: nothing is unknown
    # No tokenizer_config.json on the Hub: no length limit of its own, only the config's.
    assert tok.model_max_length > 10**9
    assert AutoConfig.from_pretrained(lu.checkpoint(GPT2)).n_positions == 1024


def test_tiny_dimensions(mode):
    """Only the sizes are shrunk: widths and depths are toy-sized, the vocabulary is real, so
    nearly all of a stand-in's parameters sit in its embedding table."""
    from lecture_utils.standins import TINY_SIZES

    mode("tiny")
    model = AutoModel.from_pretrained(lu.checkpoint(CASED))
    for field, value in TINY_SIZES["distilbert"].items():
        assert getattr(model.config, field) == value
    n_embedding = model.embeddings.word_embeddings.weight.numel()
    assert n_embedding == 28_996 * model.config.dim
    assert sum(p.numel() for p in model.parameters()) - n_embedding < 100_000


def test_sentiment_labels(mode):
    mode("tiny")
    config = AutoConfig.from_pretrained(lu.checkpoint(SST2))
    assert config.id2label == {0: "NEGATIVE", 1: "POSITIVE"}
    assert config.label2id == {"NEGATIVE": 0, "POSITIVE": 1}
    assert config.finetuning_task == "sst-2"


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
    """Two processes (other hash seeds) ask for the same stand-ins in one empty cache at the
    same moment: both succeed with one result, and it is byte for byte what this process
    built. (One encoder: the stand-ins' files are copied, not learned, and every stand-in is
    trained by the same single-threaded, seeded code.)"""
    mode("tiny")
    ours = {real_id: Path(lu.checkpoint(real_id)) for real_id in (CASED,)}
    procs = [_build_in(tmp_path, seed, list(ours)) for seed in ("1", "2")]
    outputs = [_finish(p) for p in procs]
    assert outputs[0] == outputs[1]
    assert [p.name for p in tmp_path.rglob("*") if ".tmp-" in p.name] == []  # no leftovers
    for real_id, folder in ours.items():
        theirs = next((tmp_path / "standins").glob(f"*/{folder.name}"))
        assert sorted(f.name for f in theirs.iterdir()) == sorted(f.name for f in folder.iterdir())
        for f in folder.iterdir():
            assert f.read_bytes() == (theirs / f.name).read_bytes(), f"{real_id}: {f.name} differs"


def test_same_ids_on_every_machine(mode):
    """The stand-ins carry the real vocabularies; these ids (those of the real tokenizers)
    pin them down, so a library upgrade that changes tokenization shows up here."""
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
