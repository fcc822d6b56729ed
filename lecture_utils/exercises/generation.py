"""Exercise checks for notebook 09 · Text generation.

Every check works out the right answer itself from the objects it is given (the model, the
tokenizer, the prompt's inputs, the logits), so it stays right in tiny and in full mode.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..checks import CheckResult, as_int, exercise, fail

# --------------------------------------------------------------------------------------------
# small helpers


def _int(value, name: str) -> int:
    return as_int(value, name, float_hint="counts and ids are ints. Use int(...).")


def _next_token_logits(model, inputs):
    """The logits at every position of one prompt, shape (seq, vocab), on the CPU."""
    import torch

    with torch.no_grad():
        logits = model(**inputs.to(model.device)).logits
    return logits[0].float().cpu()


def _label(tokenizer, token_id: int) -> str:
    return repr(tokenizer.decode([int(token_id)]))


# --------------------------------------------------------------------------------------------
# Exercise: the most likely next token


def check_next_token(token_id, model, tokenizer, prompt: str) -> CheckResult:
    """The id of the most likely token after ``prompt`` (greedy decoding's first choice)."""
    title = "The most likely next token"
    inputs = tokenizer(prompt, return_tensors="pt")
    logits = _next_token_logits(model, inputs)  # (seq, vocab)
    last = logits[-1]
    probs = last.softmax(dim=-1)
    expected = int(last.argmax())
    vocab = last.shape[0]
    prompt_ids = inputs["input_ids"][0].tolist()

    def check(answer):
        if isinstance(answer, str):
            fail(f"Give the token's id (an int), not its text {answer!r}: "
                 "tokenizer.decode([token_id]) turns an id into text.")
        numel = getattr(answer, "numel", None)
        if callable(numel) and numel() != 1:
            shape = tuple(answer.shape)
            if shape and shape[-1] == len(prompt_ids):
                fail(f"token_id has shape {shape}: one argmax per position of the prompt. "
                     "Only the last position predicts the token after the whole prompt: "
                     "logits[0, -1].argmax().")
            fail(f"token_id should be a single id, got a tensor of shape {shape}. Take the "
                 "logits of the last position, logits[0, -1], then .argmax().")
        is_float_tensor = hasattr(answer, "is_floating_point") and answer.is_floating_point()
        if isinstance(answer, float) or is_float_tensor:
            fail("That looks like a probability or a logit, not a token id. argmax gives the "
                 "position of the largest value, which is the id; max gives the value itself.")
        value = _int(answer, "token_id")
        if value == expected:
            return
        if not 0 <= value < vocab:
            fail(f"token_id is {value}, but ids run from 0 to {vocab - 1}. Did you take the "
                 "argmax over the right axis (the last one, the vocabulary)?")
        if value == int(logits[0].argmax()) and len(prompt_ids) > 1:
            fail("That is the model's guess after the FIRST token of the prompt (position 0). "
                 "The prediction after the whole prompt sits at the last position: "
                 "logits[0, -1].")
        if value == int(last.argmin()):
            fail("That is the LEAST likely token: use argmax, not argmin.")
        if value in prompt_ids:
            fail(f"{_label(tokenizer, value)} is a token of the prompt itself. The answer is "
                 "the argmax of the last position's logits over the vocabulary.")
        fail(f"Token {value} ({_label(tokenizer, value)}) has probability "
             f"{float(probs[value]):.4f}, but token {expected} has more. Take the argmax of "
             "the last position's logits: logits[0, -1].argmax().")

    return exercise(title, token_id, check)


# --------------------------------------------------------------------------------------------
# Exercise: how many ids generate returns


def check_generated_length(n_tokens, inputs, max_new_tokens: int, prompt: str | None = None
                           ) -> CheckResult:
    """Length of ``model.generate(**inputs, max_new_tokens=...)[0]`` if nothing stops it early.

    ``inputs`` is the tokenized prompt (batch of one); ``prompt`` the text, for better hints.
    """
    title = "Count the generated tokens"
    batch, prompt_length = (int(d) for d in inputs["input_ids"].shape)
    expected = prompt_length + max_new_tokens

    def check(answer):
        if hasattr(answer, "shape") and getattr(answer, "dim", lambda: 0)() > 0:
            fail("Give the length as a number, not the tensor that generate returns "
                 "(its .shape[1] is the length). Better still, work it out from inputs and "
                 "max_new_tokens without generating.")
        if isinstance(answer, (tuple, list)):
            fail(f"Give one number: the length of the sequence axis, not a shape "
                 f"({tuple(answer)!r}).")
        value = _int(answer, "n_tokens")
        if value == expected:
            return
        if value == max_new_tokens:
            fail(f"{value} counts only the new tokens. For a decoder-only model, generate "
                 "returns the prompt followed by the new tokens, so add the prompt's "
                 f"{prompt_length} tokens.")
        if value == prompt_length:
            fail(f"{value} is just the prompt; generate appends up to {max_new_tokens} new "
                 "tokens to it.")
        if value == prompt_length + max_new_tokens + 1:
            fail("One too many. GPT-2's tokenizer adds no special tokens to the prompt and "
                 "generate adds no extra end token when max_new_tokens runs out.")
        if prompt is not None and value == len(prompt.split()) + max_new_tokens:
            fail("You counted the prompt's words. Models count tokens: "
                 "inputs['input_ids'].shape[1].")
        if prompt is not None and value == len(prompt) + max_new_tokens:
            fail("You counted the prompt's characters. Models count tokens: "
                 "inputs['input_ids'].shape[1].")
        if value == batch + max_new_tokens and batch != prompt_length:
            fail("inputs['input_ids'].shape[0] is the batch size; the prompt's length is "
                 "shape[1].")
        fail(f"n_tokens is {value}, expected the prompt's length plus max_new_tokens.")

    return exercise(title, n_tokens, check)


# --------------------------------------------------------------------------------------------
# Exercise: a tokenizer ready for batched generation


def check_batch_tokenizer(batch_tokenizer, model) -> CheckResult:
    """A tokenizer set up for batched generation with a decoder-only model."""
    title = "Set up batched generation"
    n_embeddings = model.get_input_embeddings().num_embeddings

    def check(answer):
        if isinstance(answer, Mapping):  # a BatchEncoding is a Mapping
            fail("Give the tokenizer itself (set up for batches), not a batch it produced.")
        if not hasattr(answer, "padding_side") or not callable(answer):
            fail(f"batch_tokenizer should be a tokenizer, got a {type(answer).__name__}.")
        if answer.pad_token is None:
            fail("The tokenizer still has no pad token, so tokenizer(prompts, padding=True) "
                 "raises ValueError. GPT-2 has none: reuse its end-of-text token, "
                 "tokenizer.pad_token = tokenizer.eos_token.")
        if len(answer) > n_embeddings:
            fail(f"The tokenizer now has {len(answer)} tokens but the model only "
                 f"{n_embeddings} embeddings: adding a new [PAD] token gives it an id the model "
                 "has no embedding for. Reuse an existing token: tokenizer.eos_token.")
        if answer.padding_side != "left":
            fail(f"padding_side is {answer.padding_side!r}. With right padding the pad tokens "
                 "sit between a short prompt and its new tokens, and the model continues "
                 "from a pad token. Pad on the left: padding_side='left'.")
        probe = answer(["a", "a longer prompt"], padding=True)
        if probe["attention_mask"][0][0] != 0:
            fail("The shorter prompt is not padded on the left; check padding_side.")

    return exercise(title, batch_tokenizer, check)


# --------------------------------------------------------------------------------------------
# Exercise: temperature and entropy


def entropy(logits, temperature: float = 1.0) -> float:
    """Entropy in nats of softmax(logits / temperature), safe where probabilities underflow."""
    log_probs = (logits.detach().float().cpu() / temperature).log_softmax(dim=-1)
    return float(-(log_probs.exp() * log_probs).sum())


def check_temperature_entropy(entropies, next_logits, temperatures) -> CheckResult:
    """Entropies (nats) of softmax(next_logits / T) for each T in ``temperatures``, in order."""
    import torch

    title = "Temperature and entropy"
    logits = next_logits.detach().float().cpu()
    if logits.dim() != 1:
        raise ValueError("next_logits must be one position's logits, shape (vocab,).")
    temperatures = [float(t) for t in temperatures]
    expected = [entropy(logits, t) for t in temperatures]

    def close(values, targets) -> bool:
        return len(values) == len(targets) and all(
            math.isclose(v, t, rel_tol=1e-3, abs_tol=1e-4) for v, t in zip(values, targets,
                                                                            strict=True))

    def check(answer):
        if isinstance(answer, torch.Tensor):
            answer = answer.detach().flatten().tolist()
        if isinstance(answer, (int, float)):
            fail(f"Give one entropy per temperature: a list of {len(temperatures)} numbers, "
                 "in the order of temperatures.")
        try:
            values = [float(v) for v in answer]
        except (TypeError, ValueError):
            fail("entropies should be a list of numbers, one per temperature.")
        if len(values) != len(temperatures):
            fail(f"Got {len(values)} entropies for {len(temperatures)} temperatures.")
        if any(math.isnan(v) for v in values):
            fail("An entropy is NaN: a probability of 0 times log(0). Compute the log "
                 "probabilities with log_softmax (finite everywhere) and the probabilities as "
                 "their exp, or use torch.special.entr(probs).sum().")
        if close(values, expected):
            return
        if close(values, [-e for e in expected]):
            fail("The signs are flipped: entropy is MINUS the sum of p * log(p), and it is "
                 "never negative.")
        if close(values, [e / math.log(2) for e in expected]):
            fail("Those are bits (log base 2). Use the natural log (torch.log, "
                 "log_softmax): nats.")
        if close(values, [entropy(logits, 1 / t) for t in temperatures]):
            fail("You multiplied the logits by the temperature. Temperature DIVIDES the "
                 "logits: softmax(logits / T).")
        if close(values, expected[::-1]):
            fail("The right numbers in the reverse order: keep the order of temperatures.")
        if close(values, [entropy(logits, 1.0)] * len(temperatures)):
            fail("All entropies are the same: apply the temperature (logits / T) before the "
                 "softmax.")
        fail(f"entropies are {[round(v, 4) for v in values]}, expected "
             f"{[round(e, 4) for e in expected]} (nats, for temperatures {temperatures}): "
             "H = -sum(p * log p) with p = softmax(logits / T).")

    return exercise(title, entropies, check)
