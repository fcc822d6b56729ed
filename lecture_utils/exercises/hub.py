"""Checks for the exercises of notebook 01 · The Hugging Face Hub.

1. :func:`check_param_count`: count the parameters of a model.
2. :func:`check_config_reading`: read the number of layers, of attention heads and the size of
   one head from a config.
3. :func:`check_weights_file`: pick the weights file among a checkpoint's files.

Each computes the right answer itself from what it is given, so it holds in tiny and in full
mode.
"""

from __future__ import annotations

import numbers
import os

from ..checks import CheckResult, check_equal, exercise, fail, unanswered

# Weight files that are pickles: loading one unpickles it, which can run code.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".ckpt")
TOKENIZER_FILES = {"tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json",
                   "merges.txt", "special_tokens_map.json", "added_tokens.json"}


def _as_int(value, name: str) -> int:
    """``value`` as a plain int; a 0-d tensor or NumPy integer is accepted."""
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(f"{name} should be a whole number (an int), got a {type(value).__name__} "
             f"({value!r}).")
    return int(value)


def _param_count(model, *, only_trainable: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not only_trainable)


def _embedding_count(model) -> int:
    import torch

    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Embedding))


# ----------------------------------------------------------------------------- exercise 1


def check_param_count(n_params, model, cased_model=None) -> CheckResult:
    """Exercise 1: ``n_params`` should be the number of parameters (numbers) of ``model``.

    ``cased_model``, if given, is the other model of the notebook: an answer equal to its
    count means the student summed over the wrong model.
    """
    title = "Exercise 1 · Count the parameters"

    def check(answer):
        expected = _param_count(model)
        if isinstance(answer, float):
            def near(value, target):  # within 5%: rounded answers still match
                return abs(value - target) <= 0.05 * target

            if near(answer * 1e6, expected):
                fail(f"{answer!r} looks like the count in millions. Give the exact count as an "
                     "int: add up p.numel() over uncased_model.parameters().")
            if near(answer * 1e6, 4 * expected) or near(answer * 2**20, 4 * expected):
                fail(f"{answer!r} looks like the size in MB. The exercise asks for the number of "
                     "parameters, not their size.")
        answer = _as_int(answer, "n_params_uncased")
        if answer == expected:
            return
        if answer == len(list(model.parameters())):
            fail(f"{answer} is the number of parameter tensors (weight matrices and bias "
                 "vectors), not the number of values inside them. Add up p.numel() instead.")
        if answer == 4 * expected:
            fail(f"{answer} is the size in bytes at float32 (4 bytes per parameter). Count the "
                 "parameters, not the bytes.")
        if cased_model is not None and answer == _param_count(cased_model):
            fail(f"{answer} is the parameter count of the cased model. Sum over "
                 "uncased_model.parameters().")
        trainable = _param_count(model, only_trainable=True)
        if trainable != expected and answer == trainable:
            fail(f"{answer} counts only the trainable parameters; some are frozen. The exercise "
                 "asks for all of them.")
        if answer == expected - _embedding_count(model):
            fail(f"{answer} leaves out the embedding tables (word and position embeddings). "
                 "Count every parameter.")
        if answer > expected:
            fail(f"{answer} is more than this model has. Did you load it with a task head (for "
                 "example AutoModelForMaskedLM) instead of AutoModel, or count another model?")
        fail(f"{answer} is less than this model has. Did you count only some of the "
             "parameters? Sum p.numel() over every tensor in uncased_model.parameters().")

    return exercise(title, n_params, check)


# ----------------------------------------------------------------------------- exercise 2


def check_config_reading(n_layers, n_heads, head_dim, config) -> CheckResult:
    """Exercise 2: layers, attention heads and the size of one head, read from ``config``.

    Uses the common names that most configs answer to (``num_hidden_layers``,
    ``num_attention_heads``, ``hidden_size``), so it works for DistilBERT, GPT-2 and most
    other architectures.
    """
    title = "Exercise 2 · Read the config"
    answers = (n_layers, n_heads, head_dim)
    if any(unanswered(a) for a in answers):
        return exercise(title, ..., lambda _: None)  # prints the reminder

    def check(_):
        layers = config.num_hidden_layers
        heads = config.num_attention_heads
        hidden = config.hidden_size
        expected_head_dim = hidden // heads
        ffn = getattr(config, "hidden_dim", None) or getattr(config, "intermediate_size", None)

        if isinstance(head_dim, float) and head_dim == expected_head_dim:
            fail(f"head_dim is {head_dim!r}, a float. Sizes are whole numbers: use integer "
                 "division, dim // n_heads.")
        got_layers = _as_int(n_layers, "n_layers")
        got_heads = _as_int(n_heads, "n_heads")
        got_head_dim = _as_int(head_dim, "head_dim")
        if layers != heads and (got_layers, got_heads) == (heads, layers):
            fail("n_layers and n_heads are swapped: n_layers is the number of transformer "
                 "blocks, n_heads the number of attention heads in each block.")
        check_equal(got_layers, layers, "n_layers",
                    "It is the number of transformer blocks (config.n_layers for DistilBERT).")
        check_equal(got_heads, heads, "n_heads",
                    "It is the number of attention heads per block (config.n_heads for "
                    "DistilBERT).")
        if got_head_dim == expected_head_dim:
            return
        if got_head_dim == hidden:
            fail(f"head_dim is {got_head_dim}, the size of the whole hidden vector. Each head "
                 "works on one slice of it: divide by the number of heads.")
        if ffn and got_head_dim == ffn // heads:
            fail(f"head_dim is {got_head_dim}: you divided the feed-forward width (hidden_dim "
                 "in DistilBERT's config) by the number of heads. Attention works on the "
                 "model's width, dim.")
        if got_head_dim == hidden * heads:
            fail(f"head_dim is {got_head_dim}: you multiplied. Each head gets a slice of the "
                 "hidden vector, so divide dim by n_heads.")
        check_equal(got_head_dim, expected_head_dim, "head_dim", "It is dim // n_heads.")

    return exercise(title, answers, check)


# ----------------------------------------------------------------------------- exercise 3


def check_weights_file(weights_file, folder) -> CheckResult:
    """Exercise 3: ``weights_file`` should name the safetensors weights file in ``folder``
    (a file name, or a path to it)."""
    title = "Exercise 3 · Find the weights file"
    folder = os.fspath(folder)
    files = sorted(os.listdir(folder))
    expected = [f for f in files if f.endswith(".safetensors")]
    if not expected:
        raise ValueError(f"No .safetensors file in {folder}; the exercise needs one.")

    def check(answer):
        if isinstance(answer, os.PathLike):
            answer = os.fspath(answer)
        if not isinstance(answer, str):
            fail(f"weights_file should be one file name (a str), got a "
                 f"{type(answer).__name__} ({answer!r}).")
        name = os.path.basename(answer.rstrip("/\\"))
        if os.path.dirname(answer) and not os.path.isfile(answer):
            fail(f"There is no file at {answer!r}. Give the file name, or join it to the "
                 "checkpoint folder with os.path.join.")
        if os.path.dirname(answer) and not os.path.samefile(os.path.dirname(answer), folder):
            fail(f"{answer!r} is in another folder. Pick the file from this checkpoint's "
                 "folder.")
        if name in expected:
            return
        if name.endswith(PICKLE_SUFFIXES):
            fail(f"{name!r} would be a pickle file: loading it unpickles it, which can run "
                 "code. Pick the safetensors file.")
        if name == "config.json":
            fail("config.json holds the architecture settings (the config), not the weights.")
        if name in TOKENIZER_FILES:
            fail(f"{name!r} belongs to the tokenizer, not to the model's weights.")
        if name not in files:
            fail(f"There is no file named {name!r} in the checkpoint folder. Its files are: "
                 f"{', '.join(files)}.")
        fail(f"{name!r} is not the weights file. The weights are the file whose name ends "
             "in .safetensors.")

    return exercise(title, weights_file, check)
