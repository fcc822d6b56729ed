"""The exercise checks of notebook 10 · Pipelines, on the tiny stand-ins."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lecture_utils as lu
from lecture_utils.checks import ExerciseError
from lecture_utils.exercises import pipelines as ex

TEXTS = [
    "One of the best films I have seen this year.",
    "A waste of time and money.",
    "Great performances and a clever story.",
]
TEXT = "A clumsy script, but the actors are wonderful."


@pytest.fixture(scope="module")
def classifier():
    from transformers import pipeline

    checkpoint = lu.checkpoint("distilbert/distilbert-base-uncased-finetuned-sst-2-english")
    return pipeline("sentiment-analysis", model=checkpoint, device="cpu")


def top_labels(classifier, texts):
    return [max(s, key=lambda d: d["score"])["label"] for s in classifier(texts, top_k=None)]


def by_hand(classifier, text):
    inputs = classifier.tokenizer(text, return_tensors="pt")
    with torch.no_grad():
        logits = classifier.model(**inputs).logits[0]
    return logits, torch.softmax(logits, dim=-1)


# --------------------------------------------------------------------------- exercise 1


def test_top_labels_right(classifier):
    expected = top_labels(classifier, TEXTS)
    assert set(expected) == {"NEGATIVE", "POSITIVE"}  # the texts are not all one sentiment
    assert ex.check_top_labels(expected, classifier, TEXTS)
    assert ex.check_top_labels(tuple(expected), classifier, TEXTS)


def test_top_labels_unanswered(classifier, capsys):
    assert not ex.check_top_labels(..., classifier, TEXTS)
    assert "not answered yet" in capsys.readouterr().out


def test_top_labels_lowest(classifier):
    lowest = [min(s, key=lambda d: d["score"])["label"]
              for s in classifier(TEXTS, top_k=None)]
    with pytest.raises(ExerciseError, match="LOWEST"):
        ex.check_top_labels(lowest, classifier, TEXTS)


def test_top_labels_one_wrong(classifier):
    labels = top_labels(classifier, TEXTS)
    labels[1] = "POSITIVE" if labels[1] == "NEGATIVE" else "NEGATIVE"
    with pytest.raises(ExerciseError, match="text 1 .*highest score"):
        ex.check_top_labels(labels, classifier, TEXTS)


def test_top_labels_single_string(classifier):
    with pytest.raises(ExerciseError, match="one label per text"):
        ex.check_top_labels(top_labels(classifier, TEXTS)[0], classifier, TEXTS)


def test_top_labels_wrong_length(classifier):
    with pytest.raises(ExerciseError, match="has 1 entries, but there are 3 texts"):
        ex.check_top_labels(top_labels(classifier, TEXTS)[:1], classifier, TEXTS)


def test_top_labels_dicts(classifier):
    dicts = [max(s, key=lambda d: d["score"]) for s in classifier(TEXTS, top_k=None)]
    with pytest.raises(ExerciseError, match=r"d\['label'\]"):
        ex.check_top_labels(dicts, classifier, TEXTS)


def test_top_labels_nested_lists(classifier):
    with pytest.raises(ExerciseError, match="holds lists"):
        ex.check_top_labels(classifier(TEXTS, top_k=None), classifier, TEXTS)


def test_top_labels_ids(classifier):
    with pytest.raises(ExerciseError, match="id2label"):
        ex.check_top_labels([1, 0, 1], classifier, TEXTS)


def test_top_labels_case(classifier):
    lower = [label.lower() for label in top_labels(classifier, TEXTS)]
    with pytest.raises(ExerciseError, match="case-sensitive"):
        ex.check_top_labels(lower, classifier, TEXTS)


# --------------------------------------------------------------------------- exercise 2


def test_probability_right(classifier):
    _, probs = by_hand(classifier, TEXT)
    label_id = classifier.model.config.label2id["POSITIVE"]
    assert ex.check_label_probability(probs[label_id], classifier, TEXT, "POSITIVE")
    assert ex.check_label_probability(probs[label_id].item(), classifier, TEXT, "POSITIVE")
    assert ex.check_label_probability(probs[label_id:label_id + 1], classifier, TEXT, "POSITIVE")
    assert ex.check_label_probability(np.float32(probs[label_id].item()), classifier, TEXT,
                                      "POSITIVE")
    # the pipeline's own number is right too
    score = next(d["score"] for d in classifier(TEXT, top_k=None) if d["label"] == "POSITIVE")
    assert ex.check_label_probability(score, classifier, TEXT, "POSITIVE")


def test_probability_unanswered(classifier):
    assert not ex.check_label_probability(..., classifier, TEXT, "POSITIVE")


def test_probability_logit(classifier):
    logits, _ = by_hand(classifier, TEXT)
    label_id = classifier.model.config.label2id["POSITIVE"]
    with pytest.raises(ExerciseError, match="raw logit"):
        ex.check_label_probability(logits[label_id], classifier, TEXT, "POSITIVE")


def test_probability_other_label(classifier):
    _, probs = by_hand(classifier, TEXT)
    other = classifier.model.config.label2id["NEGATIVE"]
    with pytest.raises(ExerciseError, match="probability of NEGATIVE.*label2id"):
        ex.check_label_probability(probs[other], classifier, TEXT, "POSITIVE")


def test_probability_sigmoid(classifier):
    logits, _ = by_hand(classifier, TEXT)
    label_id = classifier.model.config.label2id["POSITIVE"]
    with pytest.raises(ExerciseError, match="sigmoid"):
        ex.check_label_probability(torch.sigmoid(logits[label_id]), classifier, TEXT, "POSITIVE")


def test_probability_all_probabilities(classifier):
    _, probs = by_hand(classifier, TEXT)
    with pytest.raises(ExerciseError, match="holds 2 numbers"):
        ex.check_label_probability(probs, classifier, TEXT, "POSITIVE")
    with pytest.raises(ExerciseError, match="one number"):
        ex.check_label_probability(probs.tolist(), classifier, TEXT, "POSITIVE")


def test_probability_percentage(classifier):
    _, probs = by_hand(classifier, TEXT)
    label_id = int(probs.argmax())  # the likelier label: as a percentage it is above 50
    label = classifier.model.config.id2label[label_id]
    with pytest.raises(ExerciseError, match="percentage"):
        ex.check_label_probability(100 * probs[label_id].item(), classifier, TEXT, label)


def test_probability_other_wrong(classifier):
    with pytest.raises(ExerciseError, match="does not match the pipeline's score"):
        ex.check_label_probability(0.123456, classifier, TEXT, "POSITIVE")
    with pytest.raises(ExerciseError, match="should be a number"):
        ex.check_label_probability("0.9", classifier, TEXT, "POSITIVE")


def test_probability_unknown_label(classifier):
    with pytest.raises(ValueError, match="not a label"):
        ex.check_label_probability(0.5, classifier, TEXT, "positive")


# --------------------------------------------------------------------------- exercise 3

# What a text-generation pipeline returns for 2 prompts with num_return_sequences=3.
OUTPUTS = [[{"generated_text": f"prompt {p}, sample {s}"} for s in range(3)] for p in range(2)]


def test_count_right():
    assert ex.check_generated_count(6, OUTPUTS)
    assert ex.check_generated_count(np.int64(6), OUTPUTS)
    assert ex.check_generated_count(torch.tensor(6), OUTPUTS)


def test_count_unanswered():
    assert not ex.check_generated_count(..., OUTPUTS)


def test_count_prompts():
    with pytest.raises(ExerciseError, match="number of prompts"):
        ex.check_generated_count(len(OUTPUTS), OUTPUTS)


def test_count_one_prompt():
    with pytest.raises(ExerciseError, match="ONE prompt"):
        ex.check_generated_count(3, OUTPUTS)


def test_count_not_a_number():
    with pytest.raises(ExerciseError, match="Count its elements"):
        ex.check_generated_count(OUTPUTS, OUTPUTS)
    with pytest.raises(ExerciseError, match="should be a number"):
        ex.check_generated_count(True, OUTPUTS)


def test_count_other_wrong():
    with pytest.raises(ExerciseError, match="is not the number of generated texts"):
        ex.check_generated_count(7, OUTPUTS)


def test_count_rejects_single_prompt_output():
    with pytest.raises(ValueError, match="one list of results per prompt"):
        ex.check_generated_count(3, OUTPUTS[0])


def test_count_real_generator():
    from transformers import pipeline

    generator = pipeline("text-generation", model=lu.checkpoint("distilbert/distilgpt2"),
                         device="cpu")
    outputs = generator(["The film", "A story"], max_new_tokens=2, do_sample=True,
                        num_return_sequences=3)
    assert ex.check_generated_count(6, outputs)
    with pytest.raises(ExerciseError, match="number of prompts"):
        ex.check_generated_count(2, outputs)
