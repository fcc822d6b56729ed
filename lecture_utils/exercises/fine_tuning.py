"""Exercise checks for notebook 08 · Fine-tuning strategies.

Each check works out the right answer itself from the model it is given and explains the
typical mistakes: freezing the head too, counting every parameter instead of the trainable
ones, counting tensors instead of numbers, forgetting one of LoRA's two matrices or one of
the blocks, counting the head as part of the adapter.
"""

from __future__ import annotations

import numbers

from ..checks import CheckResult, exercise, fail

__all__ = ["check_partial_freeze", "check_lora_count", "lora_parameter_count"]


def _as_count(answer, what: str) -> int:
    """Turn an answer into a whole number, or explain why it is not one."""
    import torch

    if isinstance(answer, torch.Tensor):
        if answer.numel() != 1:
            fail(f"Your answer is a tensor of shape {tuple(answer.shape)}; the answer is one "
                 f"number, the {what}. Add the pieces up (`sum(...)`).")
        answer = answer.item()
    if isinstance(answer, bool):
        fail(f"Your answer is {answer!r}, a bool; the answer is a count (an int).")
    if isinstance(answer, (list, tuple, set, dict)):
        fail(f"Your answer is a {type(answer).__name__}; the answer is one number, the {what}. "
             "Add the pieces up with `sum(...)`.")
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    if not isinstance(answer, numbers.Integral):
        fail(f"Your answer is {answer!r} ({type(answer).__name__}); the answer is a whole "
             f"number, the {what}.")
    return int(answer)


def _encoder_of(model):
    """The pre-trained body of a ...ForSequenceClassification model (``model.distilbert``)."""
    prefix = getattr(model, "base_model_prefix", "")
    encoder = getattr(model, prefix, None) if prefix else None
    if encoder is None:
        raise ValueError("Pass the classification model (e.g. DistilBertForSequenceClassification), "
                         "not a PeftModel or a bare encoder.")
    return prefix, encoder


def check_partial_freeze(answer, model) -> CheckResult:
    """Exercise: freeze the encoder except its last block; ``answer`` = trainable parameters.

    ``model`` is the student's model after freezing: the check reads its ``requires_grad``
    flags, then recounts.
    """

    def check(value):
        prefix, encoder = _encoder_of(model)
        last_block = encoder.transformer.layer[-1]
        encoder_ids = {id(p) for p in encoder.parameters()}
        last_ids = {id(p) for p in last_block.parameters()}
        params = list(model.parameters())
        head = [p for p in params if id(p) not in encoder_ids]
        last = [p for p in params if id(p) in last_ids]
        rest = [p for p in params if id(p) in encoder_ids and id(p) not in last_ids]

        if not any(p.requires_grad for p in params):
            fail("Every parameter is frozen, the head too. Freeze only the parameters of "
                 f"`model.{prefix}`, then unfreeze its last block; the head (`pre_classifier`, "
                 "`classifier`) must stay trainable.")
        if not all(p.requires_grad for p in head):
            fail("You froze the head too. `pre_classifier` and `classifier` start from random "
                 f"values and must train: freeze only the parameters of `model.{prefix}` "
                 "(except its last block).")
        if not all(p.requires_grad for p in last):
            fail("The last transformer block is frozen. Set `requires_grad = True` for the "
                 f"parameters of `model.{prefix}.transformer.layer[-1]` (after freezing the "
                 "rest of the encoder).")
        if all(p.requires_grad for p in rest):
            fail(f"The encoder is not frozen: the parameters of `model.{prefix}` (all blocks "
                 "but the last, and the embeddings) should have `requires_grad = False`.")
        if any(p.requires_grad for p in encoder.embeddings.parameters()):
            fail(f"The embeddings (`model.{prefix}.embeddings`) still train. Freeze everything "
                 f"in `model.{prefix}` first, then unfreeze only the last block.")
        if any(p.requires_grad for p in rest):
            fail("Blocks other than the last still train. Only "
                 f"`model.{prefix}.transformer.layer[-1]` should be unfrozen.")

        count = _as_count(value, "number of trainable parameters")
        trainable = sum(p.numel() for p in params if p.requires_grad)
        total = sum(p.numel() for p in params)
        if count == trainable:
            return
        if count == total:
            fail(f"{count} is every parameter of the model, frozen ones too. Count only those "
                 "with `p.requires_grad`.")
        if count == total - trainable:
            fail(f"{count} is the number of frozen parameters. Count those with "
                 "`p.requires_grad` True.")
        if count == sum(1 for p in params if p.requires_grad):
            fail(f"{count} is the number of trainable tensors. Each tensor holds many numbers: "
                 "add up `p.numel()`.")
        if count == sum(p.numel() for p in head):
            fail(f"{count} is the head alone. The last block trains too: count every parameter "
                 "with `p.requires_grad`.")
        if count == sum(p.numel() for p in last):
            fail(f"{count} is the last block alone. The head trains too: count every parameter "
                 "with `p.requires_grad`.")
        fail(f"{count} is not the number of trainable parameters. Hint: "
             "`sum(p.numel() for p in model.parameters() if p.requires_grad)`.")

    return exercise("Exercise 1 · Unfreeze the top block", answer, check)


def lora_parameter_count(model, r: int, target_modules) -> int:
    """How many parameters LoRA adds to ``model``, as peft counts them.

    Builds an empty copy of the model on the ``meta`` device (no memory, no weights), applies
    ``LoraConfig(r=r, target_modules=target_modules)`` with peft and counts the ``lora_``
    parameters.
    """
    import copy
    import warnings

    import torch
    from peft import LoraConfig, get_peft_model

    with torch.device("meta"):
        skeleton = type(model)(copy.deepcopy(model.config))
    with warnings.catch_warnings():
        # peft 0.21 reads `is_gradient_checkpointing`, which transformers 5 deprecates.
        warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated",
                                category=FutureWarning)
        adapted = get_peft_model(skeleton, LoraConfig(r=r, target_modules=list(target_modules)))
    return sum(p.numel() for name, p in adapted.named_parameters() if "lora_" in name)


def _targeted_linears(model, target_modules) -> list[tuple[str, int, int]]:
    """(name, in_features, out_features) of every Linear layer peft's matching would pick."""
    import torch

    found = []
    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and any(
                name == t or name.endswith("." + t) for t in target_modules):
            found.append((name, module.in_features, module.out_features))
    return found


def check_lora_count(answer, model, r: int, target_modules) -> CheckResult:
    """Exercise: how many parameters does LoRA with rank ``r`` on ``target_modules`` add?

    The right answer comes from peft itself (:func:`lora_parameter_count`); the layer shapes
    only serve to recognise typical mistakes.
    """
    target_modules = list(target_modules)

    def check(value):
        count = _as_count(value, "number of LoRA parameters")
        expected = lora_parameter_count(model, r, target_modules)
        if count == expected:
            return
        layers = _targeted_linears(model, target_modules)
        n_blocks = getattr(model.config, "n_layers", None) or model.config.num_hidden_layers
        only_a = sum(r * n_in for _, n_in, _ in layers)
        only_b = sum(r * n_out for _, _, n_out in layers)
        _, encoder = _encoder_of(model)
        encoder_ids = {id(p) for p in encoder.parameters()}
        head = sum(p.numel() for p in model.parameters() if id(p) not in encoder_ids)
        mistakes = []  # on a small model two mistakes can give the same number
        if count in (only_a, only_b):
            mistakes.append("it counts one of the two matrices (each adapted layer gets two: A "
                            "with r x in_features numbers, B with out_features x r)")
        if count == sum(n_in * n_out for _, n_in, n_out in layers):
            mistakes.append("it is the size of the weight matrices LoRA adapts (they stay "
                            "frozen; LoRA adds A, r x in, and B, out x r, next to each)")
        if count == sum(n_in * n_out + n_out for _, n_in, n_out in layers):
            mistakes.append("it is the size of the adapted Linear layers, weights and biases "
                            "(they stay frozen; LoRA adds A, r x in, and B, out x r, next to "
                            "each)")
        if count == len(layers) * r * r:
            mistakes.append("it is r x r per layer (A has r x in_features numbers, B "
                            "out_features x r)")
        dim = getattr(model.config, "dim", None) or model.config.hidden_size
        if count == len(layers) * r * 2 * dim != expected:
            mistakes.append("it treats every layer as dim x dim (the feed-forward layers are "
                            "wider: lin1 maps dim to `config.hidden_dim`, lin2 back)")
        if count == expected + head:
            mistakes.append("it includes the classification head (with task_type=SEQ_CLS peft "
                            "trains the head too, but the question asks only for the LoRA "
                            "matrices A and B)")
        if count == expected + sum(n_out for _, _, n_out in layers):
            mistakes.append("it includes a bias per layer (LoRA's A and B have no bias; peft's "
                            "default is bias='none')")
        if n_blocks and count * n_blocks == expected:
            mistakes.append("it is one transformer block (every block has its own copy of each "
                            f"target layer, and there are {n_blocks}: `model.config.n_layers`)")
        if len(target_modules) > 1 and count * len(target_modules) == expected:
            mistakes.append("it covers one target layer per block (LoRA adapts every layer "
                            f"named in target_modules: {', '.join(target_modules)})")
        if mistakes:
            fail(f"{count} is not it: " + "; or ".join(mistakes) + ".")
        fail(f"{count} is not the number of parameters LoRA adds with r={r} on "
             f"{target_modules}. Per adapted layer: r x (in_features + out_features).")

    return exercise("Exercise 2 · Count LoRA's parameters by hand", answer, check)
