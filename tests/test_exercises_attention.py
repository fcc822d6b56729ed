"""The exercise checks of notebook 04 · Hidden states and attention, on the tiny stand-in."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import lecture_utils as lu
from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import attention as ex

SENTENCES = ["Hello, how are you?", "I'm excited to learn about Hugging Face Transformers!"]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(lu.checkpoint("distilbert/distilbert-base-cased"))


@pytest.fixture(scope="module")
def model():
    from transformers import AutoModel

    return AutoModel.from_pretrained(lu.checkpoint("distilbert/distilbert-base-cased"),
                                     attn_implementation="eager")


@pytest.fixture(scope="module")
def single(tokenizer, model):
    inputs = tokenizer(SENTENCES[0], return_tensors="pt")
    with torch.no_grad():
        outputs = model(**inputs, output_hidden_states=True, output_attentions=True)
    return inputs, outputs


@pytest.fixture(scope="module")
def padded(tokenizer, model):
    batch = tokenizer(SENTENCES, padding=True, return_tensors="pt")
    assert (batch["attention_mask"][0] == 0).any()  # sentence 0 is padded
    with torch.no_grad():
        outputs = model(**batch, output_hidden_states=True, output_attentions=True)
    return batch, outputs


# --------------------------------------------------------------------------- count and shape


def right_answer(single, model):
    inputs, _ = single
    batch, seq = inputs["input_ids"].shape
    return model.config.n_layers + 1, (batch, model.config.n_heads, seq, seq)


def check_count_shape(n, shape, single, model):
    _, outputs = single
    return ex.check_hidden_count_and_attention_shape(n, shape, outputs, model.config)


def test_count_shape_right(single, model):
    _, outputs = single
    n, shape = right_answer(single, model)
    assert shape == tuple(outputs.attentions[0].shape)
    assert check_count_shape(n, shape, single, model)
    assert check_count_shape(n, list(shape), single, model)
    assert check_count_shape(np.int64(n), outputs.attentions[-1].shape, single, model)


def test_count_shape_unanswered(single, model, capsys):
    n, _ = right_answer(single, model)
    assert not check_count_shape(..., ..., single, model)
    assert not check_count_shape(n, ..., single, model)
    assert "not answered yet" in capsys.readouterr().out


def test_count_forgot_embeddings(single, model):
    _, shape = right_answer(single, model)
    with pytest.raises(ExerciseError, match="embedding output"):
        check_count_shape(model.config.n_layers, shape, single, model)


def test_count_last_twice(single, model):
    _, shape = right_answer(single, model)
    with pytest.raises(ExerciseError, match="is hidden_states\\[-1\\]"):
        check_count_shape(model.config.n_layers + 2, shape, single, model)


def test_count_not_an_int(single, model):
    _, shape = right_answer(single, model)
    with pytest.raises(ExerciseError, match="float"):
        check_count_shape(float(model.config.n_layers + 1), shape, single, model)


def test_attention_shape_without_batch(single, model):
    n, shape = right_answer(single, model)
    with pytest.raises(ExerciseError, match="missing the batch dimension"):
        check_count_shape(n, shape[1:], single, model)


def test_attention_shape_layers_stacked(single, model):
    n, shape = right_answer(single, model)
    with pytest.raises(ExerciseError, match="tuple, not one tensor"):
        check_count_shape(n, (model.config.n_layers, *shape), single, model)


def test_attention_shape_layer_as_first_axis(single, model):
    n, (batch, heads, seq, _) = right_answer(single, model)
    assert model.config.n_layers != batch
    with pytest.raises(ExerciseError, match="is the batch .* not the layer"):
        check_count_shape(n, (model.config.n_layers, heads, seq, seq), single, model)


def test_attention_shape_hidden_state_shape(single, model):
    n, (batch, _, seq, _) = right_answer(single, model)
    with pytest.raises(ExerciseError, match="shape of a hidden state"):
        check_count_shape(n, (batch, seq, model.config.dim), single, model)


def test_attention_shape_queries_not_weights(tokenizer, model):
    # the longer sentence: in tiny mode the short one has exactly d_k tokens
    inputs = tokenizer(SENTENCES[1], return_tensors="pt")
    with torch.no_grad():
        outputs = model(**inputs, output_hidden_states=True, output_attentions=True)
    n, (batch, heads, seq, _) = right_answer((inputs, outputs), model)
    d_k = model.config.dim // heads
    assert d_k != seq
    with pytest.raises(ExerciseError, match="queries or keys"):
        check_count_shape(n, (batch, heads, seq, d_k), (inputs, outputs), model)


def test_attention_shape_one_sequence_axis(single, model):
    n, (batch, heads, seq, _) = right_answer(single, model)
    with pytest.raises(ExerciseError, match="query position AND one for the key"):
        check_count_shape(n, (batch, heads, seq), single, model)


def test_attention_shape_wrong_order(single, model):
    n, (batch, heads, seq, _) = right_answer(single, model)
    assert heads != seq
    with pytest.raises(ExerciseError, match="wrong order"):
        check_count_shape(n, (batch, seq, seq, heads), single, model)


def test_attention_shape_model_width_for_heads(single, model):
    n, (batch, _, seq, _) = right_answer(single, model)
    with pytest.raises(ExerciseError, match="counts the heads"):
        check_count_shape(n, (batch, model.config.dim, seq, seq), single, model)


def test_attention_shape_without_special_tokens(single, model):
    n, (batch, heads, seq, _) = right_answer(single, model)
    with pytest.raises(ExerciseError, match="special tokens"):
        check_count_shape(n, (batch, heads, seq - 2, seq - 2), single, model)


def test_attention_shape_tensor_instead_of_shape(single, model):
    _, outputs = single
    n, _ = right_answer(single, model)
    with pytest.raises(ExerciseError, match="not the tensor itself"):
        check_count_shape(n, outputs.attentions[0], single, model)


def test_count_shape_needs_the_outputs(tokenizer, model):
    inputs = tokenizer(SENTENCES[0], return_tensors="pt")
    with torch.no_grad():
        plain = model(**inputs)
        hidden_only = model(**inputs, output_hidden_states=True)
    with pytest.raises(ValueError, match="output_hidden_states=True"):
        ex.check_hidden_count_and_attention_shape(3, (1, 4, 8, 8), plain, model.config)
    with pytest.raises(ValueError, match="output_attentions=True"):
        ex.check_hidden_count_and_attention_shape(3, (1, 4, 8, 8), hidden_only, model.config)


# --------------------------------------------------------------------------- one head by hand


def head_pieces(model, outputs, mask, layer, head, sentence, input_index=None):
    """Scaled scores and the additive mask for one head, written out as in the notebook."""
    n_heads, dim = model.config.n_heads, model.config.dim
    d_k = dim // n_heads
    x = outputs.hidden_states[layer if input_index is None else input_index][sentence]
    attention = model.transformer.layer[layer].attention
    with torch.no_grad():
        q = attention.q_lin(x).view(-1, n_heads, d_k).transpose(0, 1)[head]
        k = attention.k_lin(x).view(-1, n_heads, d_k).transpose(0, 1)[head]
    bias = torch.where(mask[sentence].bool(), 0.0, torch.finfo(q.dtype).min)
    return q, k, bias, d_k


LAYER, HEAD, SENTENCE = 1, 1, 0


def check_head(weights, model, padded, layer=LAYER, head=HEAD, sentence=SENTENCE):
    batch, outputs = padded
    return ex.check_attention_head(weights, model, outputs, batch["attention_mask"],
                                   layer, head, sentence)


def test_attention_head_right(model, padded):
    batch, outputs = padded
    q, k, bias, d_k = head_pieces(model, outputs, batch["attention_mask"], LAYER, HEAD, SENTENCE)
    weights = (q @ k.T / math.sqrt(d_k) + bias).softmax(dim=-1)
    torch.testing.assert_close(weights, outputs.attentions[LAYER][SENTENCE, HEAD])
    assert check_head(weights, model, padded)
    assert check_head(outputs.attentions[LAYER][SENTENCE, HEAD], model, padded)


def test_attention_head_unanswered(model, padded, capsys):
    assert not check_head(..., model, padded)
    assert "not answered yet" in capsys.readouterr().out


def test_attention_head_no_mask(model, padded):
    batch, outputs = padded
    q, k, _, d_k = head_pieces(model, outputs, batch["attention_mask"], LAYER, HEAD, SENTENCE)
    with pytest.raises(ExerciseError, match="padded keys get weight"):
        check_head((q @ k.T / math.sqrt(d_k)).softmax(dim=-1), model, padded)


def test_attention_head_no_scale(model, padded):
    batch, outputs = padded
    q, k, bias, _ = head_pieces(model, outputs, batch["attention_mask"], LAYER, HEAD, SENTENCE)
    with pytest.raises(ExerciseError, match="divide the scores by sqrt"):
        check_head((q @ k.T + bias).softmax(dim=-1), model, padded)


def test_attention_head_softmax_over_queries(model, padded):
    batch, outputs = padded
    q, k, bias, d_k = head_pieces(model, outputs, batch["attention_mask"], LAYER, HEAD, SENTENCE)
    with pytest.raises(ExerciseError, match="wrong axis"):
        check_head((q @ k.T / math.sqrt(d_k) + bias).softmax(dim=0), model, padded)


def test_attention_head_transposed(model, padded):
    batch, outputs = padded
    q, k, bias, d_k = head_pieces(model, outputs, batch["attention_mask"], LAYER, HEAD, SENTENCE)
    with pytest.raises(ExerciseError, match="K Q\\^T"):
        check_head((k @ q.T / math.sqrt(d_k) + bias).softmax(dim=-1), model, padded)


def test_attention_head_next_layer_input(model, padded):
    batch, outputs = padded
    layer = 0
    q, k, bias, d_k = head_pieces(model, outputs, batch["attention_mask"], layer, HEAD, SENTENCE,
                                  input_index=layer + 1)
    with pytest.raises(ExerciseError, match="OUTPUT of layer 0"):
        check_head((q @ k.T / math.sqrt(d_k) + bias).softmax(dim=-1), model, padded, layer=0)


def test_attention_head_strided_split(model, padded):
    batch, outputs = padded
    n_heads, d_k = model.config.n_heads, model.config.dim // model.config.n_heads
    x = outputs.hidden_states[LAYER][SENTENCE]
    attention = model.transformer.layer[LAYER].attention
    with torch.no_grad():
        q = attention.q_lin(x).view(-1, d_k, n_heads)[..., HEAD]
        k = attention.k_lin(x).view(-1, d_k, n_heads)[..., HEAD]
    bias = torch.where(batch["attention_mask"][SENTENCE].bool(), 0.0, torch.finfo(q.dtype).min)
    with pytest.raises(ExerciseError, match="split the wrong way"):
        check_head((q @ k.T / math.sqrt(d_k) + bias).softmax(dim=-1), model, padded)


def test_attention_head_other_head_or_sentence(model, padded):
    _, outputs = padded
    with pytest.raises(ExerciseError, match=f"sentence {SENTENCE}, head {HEAD + 1}"):
        check_head(outputs.attentions[LAYER][SENTENCE, HEAD + 1], model, padded)
    with pytest.raises(ExerciseError, match="sentence 1, head"):
        check_head(outputs.attentions[LAYER][1, HEAD], model, padded)


def test_attention_head_other_layer(model, padded):
    _, outputs = padded
    with pytest.raises(ExerciseError, match="layer 0's matrix"):
        check_head(outputs.attentions[0][SENTENCE, HEAD], model, padded)


def test_attention_head_all_heads(model, padded):
    _, outputs = padded
    with pytest.raises(ExerciseError, match="every head"):
        check_head(outputs.attentions[LAYER][SENTENCE], model, padded)
    with pytest.raises(ExerciseError, match="batch and head axes"):
        check_head(outputs.attentions[LAYER], model, padded)


def test_attention_head_no_softmax(model, padded):
    batch, outputs = padded
    q, k, _, d_k = head_pieces(model, outputs, batch["attention_mask"], LAYER, HEAD, SENTENCE)
    with pytest.raises(ExerciseError, match="do not sum to 1"):
        check_head(q @ k.T / math.sqrt(d_k), model, padded)


def test_attention_head_not_a_tensor(model, padded):
    with pytest.raises(ExerciseError, match="should be a tensor"):
        check_head([[1.0]], model, padded)


# --------------------------------------------------------------------------- top key


def test_top_key_right(single):
    _, outputs = single
    layer, head, query = len(outputs.attentions) - 1, 0, 1
    top = int(outputs.attentions[layer][0, head, query].argmax())
    assert ex.check_top_key(top, outputs.attentions, layer, head, query)
    assert ex.check_top_key(outputs.attentions[layer][0, head, query].argmax(),
                            outputs.attentions, layer, head, query)


def test_top_key_unanswered(single, capsys):
    _, outputs = single
    assert not ex.check_top_key(..., outputs.attentions, 1, 0, 1)
    assert "not answered yet" in capsys.readouterr().out


def synthetic_attentions():
    """Two layers, two heads, four positions, with known argmaxes (rows sum to 1).

    Layer 1, head 0, query 1: the row peaks at key 2 (right), column 1 peaks at query 0
    (argmax over the wrong axis), and layer 0, head 1, query 1 (layer and head swapped)
    peaks at key 1.
    """
    layer0 = torch.full((1, 2, 4, 4), 0.25)
    layer1 = torch.full((1, 2, 4, 4), 0.25)
    layer1[0, 0] = torch.tensor([[0.1, 0.7, 0.1, 0.1],
                                 [0.3, 0.1, 0.5, 0.1],
                                 [0.4, 0.2, 0.2, 0.2],
                                 [0.25, 0.25, 0.25, 0.25]])
    layer0[0, 1, 1] = torch.tensor([0.1, 0.7, 0.1, 0.1])
    return (layer0, layer1)


def test_top_key_synthetic_right():
    assert ex.check_top_key(2, synthetic_attentions(), 1, 0, 1)


def test_top_key_column_instead_of_row():
    with pytest.raises(ExerciseError, match="down column 1, over the queries"):
        ex.check_top_key(0, synthetic_attentions(), 1, 0, 1)


def test_top_key_layer_and_head_swapped():
    with pytest.raises(ExerciseError, match="index the layer first"):
        ex.check_top_key(1, synthetic_attentions(), 1, 0, 1)


def test_top_key_plain_wrong():
    with pytest.raises(ExerciseError, match="Key 3 gets weight 0.1000 .* key 2 gets more"):
        ex.check_top_key(3, synthetic_attentions(), 1, 0, 1)


def test_top_key_token_instead_of_position(single):
    _, outputs = single
    with pytest.raises(ExerciseError, match="not the token"):
        ex.check_top_key("[SEP]", outputs.attentions, 1, 0, 1)


def test_top_key_out_of_range(single):
    _, outputs = single
    with pytest.raises(ExerciseError, match="positions run from 0"):
        ex.check_top_key(99, outputs.attentions, 1, 0, 1)


def test_top_key_whole_row(single):
    _, outputs = single
    with pytest.raises(ExerciseError, match="single number"):
        ex.check_top_key(outputs.attentions[1][0, 0, 1], outputs.attentions, 1, 0, 1)
