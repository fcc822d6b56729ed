"""The exercise checks of notebook 09 · Text generation, on the tiny stand-in."""

from __future__ import annotations

import math

import pytest
import torch

import lecture_utils as lu
from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import generation as ex

MODEL_ID = "distilbert/distilgpt2"
PROMPT = "Honestly, the acting in this film"


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(lu.checkpoint(MODEL_ID))


@pytest.fixture(scope="module")
def model():
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(lu.checkpoint(MODEL_ID))


@pytest.fixture(scope="module")
def logits(tokenizer, model):
    """(seq, vocab) logits of PROMPT."""
    inputs = tokenizer(PROMPT, return_tensors="pt")
    with torch.no_grad():
        return model(**inputs).logits[0]


# --------------------------------------------------------------------------- next token


def check_next(answer, model, tokenizer):
    return ex.check_next_token(answer, model, tokenizer, PROMPT)


def test_next_token_right(model, tokenizer, logits):
    right = int(logits[-1].argmax())
    assert check_next(right, model, tokenizer)
    assert check_next(logits[-1].argmax(), model, tokenizer)  # a 0-d tensor is fine too


def test_next_token_unanswered(model, tokenizer, capsys):
    assert not check_next(..., model, tokenizer)
    assert "not answered yet" in capsys.readouterr().out


def test_next_token_text_instead_of_id(model, tokenizer, logits):
    text = tokenizer.decode([int(logits[-1].argmax())])
    with pytest.raises(ExerciseError, match="not its text"):
        check_next(text, model, tokenizer)


def test_next_token_probability_instead_of_id(model, tokenizer, logits):
    with pytest.raises(ExerciseError, match="probability or a logit"):
        check_next(float(logits[-1].softmax(-1).max()), model, tokenizer)
    with pytest.raises(ExerciseError, match="probability or a logit"):
        check_next(logits[-1].max(), model, tokenizer)


def test_next_token_first_position(model, tokenizer, logits):
    first = int(logits[0].argmax())
    assert first != int(logits[-1].argmax())
    with pytest.raises(ExerciseError, match="FIRST token of the prompt"):
        check_next(first, model, tokenizer)


def test_next_token_argmax_per_position(model, tokenizer, logits):
    with pytest.raises(ExerciseError, match="one argmax per position"):
        check_next(logits.argmax(dim=-1), model, tokenizer)


def test_next_token_argmin(model, tokenizer, logits):
    with pytest.raises(ExerciseError, match="LEAST likely"):
        check_next(int(logits[-1].argmin()), model, tokenizer)


def test_next_token_out_of_range(model, tokenizer):
    with pytest.raises(ExerciseError, match="ids run from 0"):
        check_next(10**6, model, tokenizer)


def test_next_token_prompt_token(model, tokenizer, logits):
    prompt_ids = tokenizer(PROMPT)["input_ids"]
    candidates = [i for i in prompt_ids if i not in (int(logits[-1].argmax()),
                                                     int(logits[0].argmax()),
                                                     int(logits[-1].argmin()))]
    with pytest.raises(ExerciseError, match="token of the prompt itself"):
        check_next(candidates[-1], model, tokenizer)


def test_next_token_plain_wrong_names_probabilities(model, tokenizer, logits):
    second = int(torch.topk(logits[-1], 2).indices[1])
    with pytest.raises(ExerciseError, match=r"has probability 0\.\d+, but token"):
        check_next(second, model, tokenizer)


# --------------------------------------------------------------------------- generated length

N_NEW = 12


@pytest.fixture(scope="module")
def prompt_inputs(tokenizer):
    inputs = tokenizer(PROMPT, return_tensors="pt")
    n_prompt = inputs["input_ids"].shape[1]
    # the typical mistakes must be distinguishable on this prompt
    assert n_prompt not in (len(PROMPT.split()), len(PROMPT), 1, N_NEW)
    return inputs


def check_length(answer, prompt_inputs):
    return ex.check_generated_length(answer, prompt_inputs, N_NEW, PROMPT)


def test_length_right_and_matches_generate(prompt_inputs, model):
    right = prompt_inputs["input_ids"].shape[1] + N_NEW
    assert check_length(right, prompt_inputs)
    out = model.generate(**prompt_inputs, max_new_tokens=N_NEW, min_new_tokens=N_NEW,
                         do_sample=False)
    assert out.shape[1] == right


def test_length_unanswered(prompt_inputs, capsys):
    assert not check_length(..., prompt_inputs)
    assert "not answered yet" in capsys.readouterr().out


def test_length_forgot_the_prompt(prompt_inputs):
    with pytest.raises(ExerciseError, match="counts only the new tokens"):
        check_length(N_NEW, prompt_inputs)


def test_length_only_the_prompt(prompt_inputs):
    with pytest.raises(ExerciseError, match="is just the prompt"):
        check_length(prompt_inputs["input_ids"].shape[1], prompt_inputs)


def test_length_one_too_many(prompt_inputs):
    with pytest.raises(ExerciseError, match="One too many"):
        check_length(prompt_inputs["input_ids"].shape[1] + N_NEW + 1, prompt_inputs)


def test_length_words_or_characters(prompt_inputs):
    with pytest.raises(ExerciseError, match="prompt's words"):
        check_length(len(PROMPT.split()) + N_NEW, prompt_inputs)
    with pytest.raises(ExerciseError, match="prompt's characters"):
        check_length(len(PROMPT) + N_NEW, prompt_inputs)


def test_length_batch_axis(prompt_inputs):
    with pytest.raises(ExerciseError, match="batch size"):
        check_length(prompt_inputs["input_ids"].shape[0] + N_NEW, prompt_inputs)


def test_length_tensor_or_shape_instead_of_number(prompt_inputs):
    with pytest.raises(ExerciseError, match="not the tensor"):
        check_length(torch.zeros(1, 5, dtype=torch.long), prompt_inputs)
    with pytest.raises(ExerciseError, match="not a shape"):
        check_length((1, prompt_inputs["input_ids"].shape[1] + N_NEW), prompt_inputs)


def test_length_float(prompt_inputs):
    with pytest.raises(ExerciseError, match="ints"):
        check_length(float(prompt_inputs["input_ids"].shape[1] + N_NEW), prompt_inputs)


# --------------------------------------------------------------------------- batch tokenizer


def fresh_tokenizer(**kwargs):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(lu.checkpoint(MODEL_ID), **kwargs)


def test_batch_tokenizer_right(model):
    tok = fresh_tokenizer(padding_side="left")
    tok.pad_token = tok.eos_token
    assert ex.check_batch_tokenizer(tok, model)
    tok2 = fresh_tokenizer()
    tok2.pad_token, tok2.padding_side = tok2.eos_token, "left"  # set after loading: also fine
    assert ex.check_batch_tokenizer(tok2, model)


def test_batch_tokenizer_unanswered(model, capsys):
    assert not ex.check_batch_tokenizer(..., model)
    assert "not answered yet" in capsys.readouterr().out


def test_batch_tokenizer_no_pad_token(model):
    with pytest.raises(ExerciseError, match="no pad token"):
        ex.check_batch_tokenizer(fresh_tokenizer(padding_side="left"), model)


def test_batch_tokenizer_right_padding(model):
    tok = fresh_tokenizer()
    tok.pad_token = tok.eos_token
    with pytest.raises(ExerciseError, match="padding_side is 'right'.*continues from a pad"):
        ex.check_batch_tokenizer(tok, model)


def test_batch_tokenizer_new_pad_token(model):
    tok = fresh_tokenizer(padding_side="left")
    tok.add_special_tokens({"pad_token": "[PAD]"})
    with pytest.raises(ExerciseError, match="no embedding for"):
        ex.check_batch_tokenizer(tok, model)


def test_batch_tokenizer_a_batch_instead(model):
    tok = fresh_tokenizer(padding_side="left")
    tok.pad_token = tok.eos_token
    with pytest.raises(ExerciseError, match="not a batch"):
        ex.check_batch_tokenizer(tok(["a", "b c"], padding=True), model)
    with pytest.raises(ExerciseError, match="should be a tokenizer"):
        ex.check_batch_tokenizer("left", model)


# --------------------------------------------------------------------------- entropy

TEMPERATURES = [0.5, 1.0, 2.0]


def entropies_of(logits, temperatures, base=math.e):
    out = []
    for t in temperatures:
        log_p = (logits / t).log_softmax(-1)
        out.append(float(-(log_p.exp() * log_p).sum()) / math.log(base))
    return out


def test_entropy_right(logits):
    right = entropies_of(logits[-1], TEMPERATURES)
    assert ex.check_temperature_entropy(right, logits[-1], TEMPERATURES)
    assert ex.check_temperature_entropy(torch.tensor(right), logits[-1], TEMPERATURES)
    assert right == sorted(right)  # entropy grows with the temperature
    probs = logits[-1].softmax(-1)
    assert math.isclose(ex.entropy(logits[-1]), float(torch.special.entr(probs).sum()),
                        rel_tol=1e-4)


def test_entropy_unanswered(logits, capsys):
    assert not ex.check_temperature_entropy(..., logits[-1], TEMPERATURES)
    assert "not answered yet" in capsys.readouterr().out


def test_entropy_multiplied_by_temperature(logits):
    wrong = entropies_of(logits[-1], [1 / t for t in TEMPERATURES])
    with pytest.raises(ExerciseError, match="DIVIDES"):
        ex.check_temperature_entropy(wrong, logits[-1], TEMPERATURES)


def test_entropy_bits(logits):
    with pytest.raises(ExerciseError, match="bits"):
        ex.check_temperature_entropy(entropies_of(logits[-1], TEMPERATURES, base=2),
                                     logits[-1], TEMPERATURES)


def test_entropy_sign(logits):
    with pytest.raises(ExerciseError, match="MINUS"):
        ex.check_temperature_entropy([-h for h in entropies_of(logits[-1], TEMPERATURES)],
                                     logits[-1], TEMPERATURES)


def test_entropy_reversed_or_constant(logits):
    # with 0.5, 1, 2 a reversed list equals "multiplied by T"; use temperatures without that
    temperatures = [0.5, 1.0, 1.5]
    reversed_right = entropies_of(logits[-1], temperatures)[::-1]
    with pytest.raises(ExerciseError, match="reverse order"):
        ex.check_temperature_entropy(reversed_right, logits[-1], temperatures)
    right = entropies_of(logits[-1], TEMPERATURES)
    with pytest.raises(ExerciseError, match="All entropies are the same"):
        ex.check_temperature_entropy([right[1]] * 3, logits[-1], TEMPERATURES)


def test_entropy_nan_count_and_scalar(logits):
    with pytest.raises(ExerciseError, match="NaN"):
        ex.check_temperature_entropy([float("nan")] * 3, logits[-1], TEMPERATURES)
    with pytest.raises(ExerciseError, match="Got 2 entropies for 3"):
        ex.check_temperature_entropy([1.0, 2.0], logits[-1], TEMPERATURES)
    with pytest.raises(ExerciseError, match="one entropy per temperature"):
        ex.check_temperature_entropy(1.0, logits[-1], TEMPERATURES)


def test_entropy_plain_wrong(logits):
    with pytest.raises(ExerciseError, match="expected"):
        ex.check_temperature_entropy([0.1, 0.2, 0.3], logits[-1], TEMPERATURES)


def test_entropy_needs_one_position(logits):
    with pytest.raises(ValueError, match="shape \\(vocab,\\)"):
        ex.check_temperature_entropy([1.0], logits, [1.0])
