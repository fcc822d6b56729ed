"""Checks for the exercises of notebook 10 · Pipelines.

Every check computes the right answer from the pipeline (or the pipeline output) it is given,
so the same exercise works with the tiny stand-ins and with the real checkpoints.
"""

from __future__ import annotations

import math

from ..checks import CheckResult, exercise, fail

# --------------------------------------------------------------------------- helpers


def _top_label(scores: list[dict]) -> str:
    return max(scores, key=lambda d: d["score"])["label"]


def _bottom_label(scores: list[dict]) -> str:
    return min(scores, key=lambda d: d["score"])["label"]


def _as_number(value, name: str) -> float:
    """A single number: a Python or NumPy number, or a tensor with one element."""
    if isinstance(value, bool):
        fail(f"{name} should be a number, not {value!r}.")
    if isinstance(value, (list, tuple, dict)):
        fail(f"{name} should be one number, but it is a {type(value).__name__}. Pick the one "
             "entry you were asked for.")
    numel = getattr(value, "numel", None)
    size = numel() if callable(numel) else getattr(value, "size", None)
    if size is not None and hasattr(value, "tolist"):
        if size != 1:
            fail(f"{name} holds {size} numbers (shape {tuple(value.shape)}). Pick the one entry "
                 "for the label you were asked about.")
        value = value.reshape(-1)[0].item() if hasattr(value, "reshape") else value.item()
    if hasattr(value, "item"):
        value = value.item()
    if not isinstance(value, (int, float)):
        fail(f"{name} should be a number, but it is a {type(value).__name__}.")
    return float(value)


def _as_count(value, name: str) -> int:
    """An integer answer: a Python int, a NumPy integer or a 0-d tensor."""
    if isinstance(value, bool):
        fail(f"{name} should be a number (an int), not {value!r}.")
    if hasattr(value, "item") and getattr(value, "ndim", 0) == 0:
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        hint = " Count its elements instead." if hasattr(value, "__len__") else ""
        fail(f"{name} should be a number (an int), but it is a {type(value).__name__}.{hint}")
    return value


# --------------------------------------------------------------------------- exercise 1


def check_top_labels(answer, classifier, texts: list[str]) -> CheckResult:
    """The winning label of each text in ``texts``, as a list of strings."""
    title = "Exercise 1 · The winning labels"
    all_scores = classifier(list(texts), top_k=None)
    expected = [_top_label(scores) for scores in all_scores]
    losers = [_bottom_label(scores) for scores in all_scores]
    labels = set(classifier.model.config.id2label.values())

    def check(value):
        if isinstance(value, str):
            fail(f"top_labels is one string ({value!r}). Give one label per text: a list with "
                 f"{len(texts)} strings.")
        if isinstance(value, dict):
            fail("top_labels is a single dict. Give a list with one label (a string) per text.")
        if not isinstance(value, (list, tuple)):
            fail(f"top_labels should be a list of strings, but it is a {type(value).__name__}.")
        value = list(value)
        if len(value) != len(texts):
            fail(f"top_labels has {len(value)} entries, but there are {len(texts)} texts. The "
                 "output has one list of scores per text: take one label from each.")
        if any(isinstance(v, dict) for v in value):
            fail("top_labels holds dicts. Keep only the label of each: d['label'].")
        if any(isinstance(v, (list, tuple)) for v in value):
            fail("top_labels holds lists: those are all the scores of one text. Pick the label "
                 "with the highest score from each.")
        if any(isinstance(v, (int, float)) or hasattr(v, "item") for v in value):
            fail("top_labels holds numbers. Answer with the label names (strings such as "
                 f"{sorted(labels)[0]!r}); model.config.id2label maps ids to names.")
        if not all(isinstance(v, str) for v in value):
            fail("top_labels should hold strings only.")
        if value == expected:
            return
        unknown = [v for v in value if v not in labels]
        if unknown:
            fail(f"{unknown[0]!r} is not one of the model's labels {sorted(labels)}. Labels are "
                 "case-sensitive: copy them from the pipeline's output.")
        if value == losers:
            fail("These are the labels with the LOWEST score of each text. Take the highest.")
        wrong = next(i for i, (a, b) in enumerate(zip(value, expected, strict=True)) if a != b)
        fail(f"The label for text {wrong} ({texts[wrong][:40]!r}...) is not the one with the "
             "highest score. Compare the 'score' values, e.g. with max(..., key=...).")

    return exercise(title, answer, check)


# --------------------------------------------------------------------------- exercise 2


def check_label_probability(answer, classifier, text: str, label: str) -> CheckResult:
    """The probability of ``label`` for ``text``, rebuilt by hand: it must match the pipeline."""
    import torch

    title = "Exercise 2 · Rebuild a score by hand"
    config = classifier.model.config
    if label not in config.label2id:
        raise ValueError(f"{label!r} is not a label of this model: {sorted(config.label2id)}.")
    scores = {d["label"]: d["score"] for d in classifier(text, top_k=None)}
    expected = scores[label]
    label_id = config.label2id[label]
    inputs = classifier.tokenizer(text, return_tensors="pt").to(classifier.device)
    with torch.no_grad():
        logits = classifier.model(**inputs).logits[0].float().cpu()
    logit = logits[label_id].item()
    others = {name: p for name, p in scores.items() if name != label}
    tol = 1e-4

    def close(a, b):
        return math.isclose(a, b, rel_tol=0.0, abs_tol=tol)

    def check(value):
        p = _as_number(value, "probability")
        if close(p, expected):
            return
        if close(p, logit):
            fail(f"{p:.4f} is the raw logit of {label}, the model's output before the softmax. "
                 "Apply torch.softmax over the logits (dim=-1) to turn them into probabilities.")
        for name, other in others.items():
            if close(p, other):
                fail(f"{p:.4f} is the probability of {name}, not of {label}. Look up the "
                     f"position of {label} with model.config.label2id[{label!r}].")
        if close(p, torch.sigmoid(torch.tensor(logit)).item()):
            fail("That is the sigmoid of one logit. With two or more labels the pipeline applies "
                 "a softmax over all the logits together.")
        if 1.0 < p <= 100.0 and close(p / 100.0, expected):
            fail(f"{p} looks like a percentage. The pipeline's scores are probabilities "
                 "between 0 and 1.")
        if not 0.0 <= p <= 1.0:
            fail(f"{p:.4f} is not a probability (those lie between 0 and 1). Did you apply "
                 "the softmax?")
        fail(f"{p:.4f} does not match the pipeline's score for {label}. Tokenize the text "
             "exactly as given, run the model under torch.no_grad(), apply torch.softmax to the "
             "logits and take the entry of label2id[label].")

    return exercise(title, answer, check)


# --------------------------------------------------------------------------- exercise 3


def check_generated_count(answer, outputs) -> CheckResult:
    """How many generated texts are in ``outputs``, a text-generation call on a list of prompts?"""
    title = "Exercise 3 · Count the generated texts"
    if not isinstance(outputs, list) or not outputs or not all(
            isinstance(per_prompt, list) for per_prompt in outputs):
        raise ValueError("outputs should be what a text-generation pipeline returns for a list "
                         "of prompts: a list with one list of results per prompt.")
    n_prompts = len(outputs)
    per_prompt = [len(results) for results in outputs]
    expected = sum(per_prompt)

    def check(value):
        n = _as_count(value, "n_generated")
        if n == expected:
            return
        if n == n_prompts:
            fail(f"{n} is len(outputs), the number of prompts: the outer list has one entry per "
                 "prompt, and each entry is itself a list of generated texts. Count those.")
        if n in per_prompt:
            fail(f"{n} is the number of texts for ONE prompt (num_return_sequences). Add them up "
                 "over all the prompts.")
        fail(f"{n} is not the number of generated texts. Each item of outputs is a list of "
             "dicts with a 'generated_text' key; count the dicts in all of them.")

    return exercise(title, answer, check)
