import copy

import pytest
import torch

import lecture_utils as lu
from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import fine_tuning as ex

MODEL_ID = "distilbert/distilbert-base-cased"
TARGETS = ["q_lin", "v_lin", "lin1", "lin2"]
# peft 0.21 reads a property that transformers 5 deprecates; pytest turns it into an error.
PEFT_WARNING = "ignore:`is_gradient_checkpointing` is deprecated:FutureWarning"


@pytest.fixture(scope="module")
def start():
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(lu.checkpoint(MODEL_ID), num_labels=2)


@pytest.fixture
def model(start):
    return copy.deepcopy(start)


def freeze_all_but_top(model):
    for param in model.distilbert.parameters():
        param.requires_grad = False
    for param in model.distilbert.transformer.layer[-1].parameters():
        param.requires_grad = True
    return model


def n_trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def wrong(check, *args, match):
    with pytest.raises(ExerciseError) as info:
        check(*args)
    assert match in str(info.value), str(info.value)
    return str(info.value)


# Exercise 1 · Unfreeze the top block

def test_partial_freeze_right_answer_passes(model):
    freeze_all_but_top(model)
    assert ex.check_partial_freeze(n_trainable(model), model)
    assert ex.check_partial_freeze(torch.tensor(n_trainable(model)), model)
    assert ex.check_partial_freeze(float(n_trainable(model)), model)


def test_partial_freeze_unanswered(model):
    assert not ex.check_partial_freeze(..., model)


def test_partial_freeze_head_frozen_too(model):
    for param in model.parameters():
        param.requires_grad = False
    for param in model.distilbert.transformer.layer[-1].parameters():
        param.requires_grad = True
    wrong(ex.check_partial_freeze, n_trainable(model), model, match="froze the head too")


def test_partial_freeze_everything_frozen(model):
    for param in model.parameters():
        param.requires_grad = False
    wrong(ex.check_partial_freeze, 0, model, match="Every parameter is frozen")


def test_partial_freeze_last_block_still_frozen(model):
    for param in model.distilbert.parameters():
        param.requires_grad = False
    wrong(ex.check_partial_freeze, n_trainable(model), model, match="last transformer block is frozen")


def test_partial_freeze_nothing_frozen(model):
    wrong(ex.check_partial_freeze, n_trainable(model), model, match="encoder is not frozen")


def test_partial_freeze_embeddings_still_train(model):
    freeze_all_but_top(model)
    for param in model.distilbert.embeddings.parameters():
        param.requires_grad = True
    wrong(ex.check_partial_freeze, n_trainable(model), model, match="embeddings")


def test_partial_freeze_other_block_still_trains(model):
    freeze_all_but_top(model)
    for param in model.distilbert.transformer.layer[0].parameters():
        param.requires_grad = True
    wrong(ex.check_partial_freeze, n_trainable(model), model, match="Blocks other than the last")


def test_partial_freeze_counted_all_parameters(model):
    freeze_all_but_top(model)
    total = sum(p.numel() for p in model.parameters())
    wrong(ex.check_partial_freeze, total, model, match="frozen ones too")


def test_partial_freeze_counted_frozen_parameters(model):
    freeze_all_but_top(model)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    wrong(ex.check_partial_freeze, frozen, model, match="number of frozen parameters")


def test_partial_freeze_counted_tensors(model):
    freeze_all_but_top(model)
    tensors = sum(1 for p in model.parameters() if p.requires_grad)
    wrong(ex.check_partial_freeze, tensors, model, match="trainable tensors")


def test_partial_freeze_counted_head_or_block_alone(model):
    freeze_all_but_top(model)
    head = sum(p.numel() for m in (model.pre_classifier, model.classifier) for p in m.parameters())
    block = sum(p.numel() for p in model.distilbert.transformer.layer[-1].parameters())
    wrong(ex.check_partial_freeze, head, model, match="head alone")
    wrong(ex.check_partial_freeze, block, model, match="last block alone")


def test_partial_freeze_not_a_count(model):
    freeze_all_but_top(model)
    wrong(ex.check_partial_freeze, [1, 2], model, match="one number")
    wrong(ex.check_partial_freeze, True, model, match="bool")
    wrong(ex.check_partial_freeze, 12.5, model, match="whole number")
    wrong(ex.check_partial_freeze, n_trainable(model) + 1, model, match="Hint")


# Exercise 2 · Count LoRA's parameters by hand

def shapes(model):
    """(in_features, out_features) of q_lin, v_lin, lin1, lin2 in one block."""
    dim, hidden = model.config.dim, model.config.hidden_dim
    return [(dim, dim), (dim, dim), (dim, hidden), (hidden, dim)]


def by_hand(model, rank):
    return model.config.n_layers * sum(rank * (n_in + n_out) for n_in, n_out in shapes(model))


@pytest.mark.filterwarnings(PEFT_WARNING)
@pytest.mark.parametrize("rank, targets", [(4, TARGETS), (8, ["q_lin", "v_lin"]),
                                           (2, ["q_lin", "k_lin", "v_lin", "out_lin"])])
def test_lora_count_matches_a_real_peft_model(start, rank, targets):
    from peft import LoraConfig, get_peft_model

    adapted = get_peft_model(copy.deepcopy(start), LoraConfig(r=rank, target_modules=targets))
    real = sum(p.numel() for name, p in adapted.named_parameters() if "lora_" in name)
    assert ex.lora_parameter_count(start, rank, targets) == real
    assert ex.check_lora_count(real, start, rank, targets)


def test_lora_count_right_answer_passes(start):
    assert ex.check_lora_count(by_hand(start, 4), start, 4, TARGETS)
    assert ex.check_lora_count(torch.tensor(by_hand(start, 4)), start, 4, TARGETS)


def test_lora_count_unanswered(start):
    assert not ex.check_lora_count(..., start, 4, TARGETS)


def test_lora_count_leaves_the_model_alone(start):
    before = {name: p.detach().clone() for name, p in start.named_parameters()}
    ex.check_lora_count(by_hand(start, 4), start, 4, TARGETS)
    assert not any("lora_" in name for name, _ in start.named_parameters())
    assert all(torch.equal(p, before[name]) for name, p in start.named_parameters())


def test_lora_count_one_matrix_only(start):
    only_a = start.config.n_layers * sum(4 * n_in for n_in, _ in shapes(start))
    wrong(ex.check_lora_count, only_a, start, 4, TARGETS, match="one of the two matrices")


def test_lora_count_full_weight_matrices(start):
    n_layers = start.config.n_layers
    weights = n_layers * sum(n_in * n_out for n_in, n_out in shapes(start))
    biases = n_layers * sum(n_out for _, n_out in shapes(start))
    wrong(ex.check_lora_count, weights, start, 4, TARGETS, match="size of the weight matrices")
    wrong(ex.check_lora_count, weights + biases, start, 4, TARGETS, match="weights and biases")


def test_lora_count_r_squared(start):
    wrong(ex.check_lora_count, start.config.n_layers * len(TARGETS) * 16, start, 4, TARGETS,
          match="r x r")


def test_lora_count_every_layer_square(start):
    square = start.config.n_layers * len(TARGETS) * 4 * 2 * start.config.dim
    wrong(ex.check_lora_count, square, start, 4, TARGETS, match="dim x dim")


def test_lora_count_head_included(start):
    head = sum(p.numel() for m in (start.pre_classifier, start.classifier) for p in m.parameters())
    wrong(ex.check_lora_count, by_hand(start, 4) + head, start, 4, TARGETS,
          match="classification head")


def test_lora_count_bias_included(start):
    bias = start.config.n_layers * sum(n_out for _, n_out in shapes(start))
    wrong(ex.check_lora_count, by_hand(start, 4) + bias, start, 4, TARGETS, match="no bias")


def test_lora_count_one_block(start):
    one_block = by_hand(start, 4) // start.config.n_layers
    wrong(ex.check_lora_count, one_block, start, 4, TARGETS, match="one transformer block")


def test_lora_count_one_target(start):
    square_targets = ["q_lin", "k_lin", "v_lin", "out_lin"]
    one_target = start.config.n_layers * 4 * 2 * start.config.dim
    wrong(ex.check_lora_count, one_target, start, 4, square_targets,
          match="one target layer per block")


def test_lora_count_other_wrong_answers(start):
    wrong(ex.check_lora_count, by_hand(start, 4) + 1, start, 4, TARGETS,
          match="r x (in_features + out_features)")
    wrong(ex.check_lora_count, 0.5, start, 4, TARGETS, match="whole number")
    wrong(ex.check_lora_count, torch.ones(3), start, 4, TARGETS, match="one number")
