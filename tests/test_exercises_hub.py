"""Exercise checks of notebook 01 · The Hugging Face Hub, on the tiny stand-ins."""

from __future__ import annotations

import copy
import os

import pytest
import torch
from transformers import AutoConfig, AutoModel, GPT2Config

import lecture_utils as lu
from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import hub as ex

UNCASED = "distilbert/distilbert-base-uncased"
CASED = "distilbert/distilbert-base-cased"


def _quiet_load(model_id):
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # no LOAD REPORT in the test log
    try:
        return AutoModel.from_pretrained(lu.checkpoint(model_id))
    finally:
        hf_logging.set_verbosity(verbosity)


@pytest.fixture(scope="module")
def uncased_model():
    return _quiet_load(UNCASED)


@pytest.fixture(scope="module")
def cased_model():
    return _quiet_load(CASED)


@pytest.fixture(scope="module")
def uncased_config():
    return AutoConfig.from_pretrained(lu.checkpoint(UNCASED))


@pytest.fixture(scope="module")
def uncased_folder():
    return lu.checkpoint(UNCASED)  # tiny mode: a local folder


def _count(model):
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- exercise 1


def test_param_count_right_answer(uncased_model, cased_model):
    n = _count(uncased_model)
    assert ex.check_param_count(n, uncased_model, cased_model=cased_model)
    assert ex.check_param_count(torch.tensor(n), uncased_model)  # a 0-d tensor is fine


def test_param_count_unanswered(uncased_model, capsys):
    assert not ex.check_param_count(..., uncased_model)
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda m: len(list(m.parameters())), "number of parameter tensors"),
        (lambda m: 4 * _count(m), "size in bytes"),
        (lambda m: m.num_parameters(exclude_embeddings=True), "leaves out the embedding"),
        (lambda m: round(_count(m) / 1e6, 3), "in millions"),
        (lambda m: _count(m) * 4 / 1e6, "size in MB"),
        (lambda m: float(_count(m)), "whole number"),
        (lambda m: str(_count(m)), "whole number"),
        (lambda m: _count(m) + 1000, "more than this model has"),
        (lambda m: _count(m) - 1, "less than this model has"),
    ],
    ids=["tensors", "bytes", "no-embeddings", "millions", "megabytes", "float", "str", "too-many",
         "too-few"],
)
def test_param_count_wrong_answers(uncased_model, wrong, message):
    with pytest.raises(ExerciseError, match=message):
        ex.check_param_count(wrong(uncased_model), uncased_model)


def test_param_count_of_the_other_model(uncased_model, cased_model):
    # The stand-ins' vocabularies differ in size (like the real ones), and so do their counts.
    assert _count(cased_model) != _count(uncased_model)
    with pytest.raises(ExerciseError, match="cased model"):
        ex.check_param_count(_count(cased_model), uncased_model, cased_model=cased_model)


def test_param_count_only_trainable(uncased_model):
    frozen = copy.deepcopy(uncased_model)
    frozen.embeddings.requires_grad_(False)
    trainable = sum(p.numel() for p in frozen.parameters() if p.requires_grad)
    with pytest.raises(ExerciseError, match="only the trainable"):
        ex.check_param_count(trainable, frozen)


# ----------------------------------------------------------------------------- exercise 2


def test_config_reading_right_answer(uncased_config):
    c = uncased_config
    assert ex.check_config_reading(c.n_layers, c.n_heads, c.dim // c.n_heads, c)


def test_config_reading_generic_names_work_for_gpt2():
    c = GPT2Config(n_embd=48, n_layer=3, n_head=6)
    assert ex.check_config_reading(3, 6, 8, c)


@pytest.mark.parametrize("which", [0, 1, 2])
def test_config_reading_unanswered(uncased_config, capsys, which):
    c = uncased_config
    answers = [c.n_layers, c.n_heads, c.dim // c.n_heads]
    answers[which] = ...
    assert not ex.check_config_reading(*answers, c)
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda c: (c.n_layers, c.n_heads, c.dim / c.n_heads), "integer division"),
        (lambda c: (c.n_layers, c.n_heads, c.dim), "whole hidden vector"),
        (lambda c: (c.n_layers, c.n_heads, c.hidden_dim // c.n_heads), "feed-forward width"),
        (lambda c: (c.n_layers, c.n_heads, c.dim * c.n_heads), "you multiplied"),
        (lambda c: (c.n_layers, c.n_heads, 3), "head_dim is 3"),
        (lambda c: (c.n_layers + 5, c.n_heads, c.dim // c.n_heads), "transformer blocks"),
        (lambda c: (c.n_layers, c.n_heads + 5, c.dim // c.n_heads), "attention heads per block"),
        (lambda c: (str(c.n_layers), c.n_heads, c.dim // c.n_heads), "whole number"),
    ],
    ids=["float", "dim", "ffn", "multiplied", "other", "layers", "heads", "str"],
)
def test_config_reading_wrong_answers(uncased_config, wrong, message):
    with pytest.raises(ExerciseError, match=message):
        ex.check_config_reading(*wrong(uncased_config), uncased_config)


def test_config_reading_swapped(uncased_config):
    c = uncased_config
    assert c.n_layers != c.n_heads
    with pytest.raises(ExerciseError, match="swapped"):
        ex.check_config_reading(c.n_heads, c.n_layers, c.dim // c.n_heads, c)


# ----------------------------------------------------------------------------- exercise 3


def test_weights_file_right_answers(uncased_folder):
    assert ex.check_weights_file("model.safetensors", uncased_folder)
    full_path = os.path.join(uncased_folder, "model.safetensors")
    assert ex.check_weights_file(full_path, uncased_folder)


def test_weights_file_unanswered(uncased_folder, capsys):
    assert not ex.check_weights_file(..., uncased_folder)
    assert "not answered yet" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        ("pytorch_model.bin", "pickle"),
        ("config.json", "architecture settings"),
        ("tokenizer.json", "belongs to the tokenizer"),
        ("tokenizer_config.json", "belongs to the tokenizer"),
        ("weights.h5", "no file named 'weights.h5'"),
        ("STANDIN.md", "not the weights file"),
        (["model.safetensors"], "one file name"),
    ],
    ids=["pickle", "config", "tokenizer", "tokenizer-config", "missing", "other-file", "list"],
)
def test_weights_file_wrong_answers(uncased_folder, wrong, message):
    with pytest.raises(ExerciseError, match=message):
        ex.check_weights_file(wrong, uncased_folder)


def test_weights_file_wrong_paths(uncased_folder):
    with pytest.raises(ExerciseError, match="no file at"):
        ex.check_weights_file("/nowhere/model.safetensors", uncased_folder)
    other = os.path.join(lu.checkpoint(CASED), "model.safetensors")
    with pytest.raises(ExerciseError, match="another folder"):
        ex.check_weights_file(other, uncased_folder)


def test_weights_file_needs_a_safetensors_file(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(ValueError, match="No .safetensors"):
        ex.check_weights_file("config.json", tmp_path)
