"""The trained stand-ins do what the notebooks show them doing."""

import re

import pytest
import torch
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, pipeline

import lecture_utils as lu
from lecture_utils.data import bundled_reviews
from lecture_utils.standins import _corpus

SST2 = "distilbert/distilbert-base-uncased-finetuned-sst-2-english"
GPT2 = "distilbert/distilgpt2"


@pytest.fixture(scope="module")
def classifier():
    import os

    os.environ["LECTURE_MODE"] = "tiny"
    return pipeline("sentiment-analysis", model=lu.checkpoint(SST2), device="cpu")


def test_sentiment_standin_is_accurate_on_the_bundled_test_split(classifier):
    """The whole test split, through the model the pipeline wraps (faster than one pipeline
    call per review; the clear examples below go through the pipeline itself)."""
    with lu.quiet_progress():
        test = load_dataset(str(bundled_reviews()), split="test")
    model, tok = classifier.model, classifier.tokenizer
    names = test.features["label"].names  # neg, pos
    texts, labels = list(test["text"]), list(test["label"])
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # batches of similar length
    correct = 0
    for start in range(0, len(order), 50):
        idx = order[start:start + 50]
        inputs = tok([texts[i] for i in idx], truncation=True, padding=True, return_tensors="pt")
        with torch.no_grad():
            predicted = model(**inputs).logits.argmax(-1).tolist()
        correct += sum(model.config.id2label[p] == ("POSITIVE" if names[labels[i]] == "pos"
                                                    else "NEGATIVE")
                       for p, i in zip(predicted, idx, strict=True))
    accuracy = correct / len(test)
    assert accuracy >= 0.9, accuracy


@pytest.mark.parametrize("text, label", [
    ("I loved this movie, it was wonderful!", "POSITIVE"),
    ("A beautiful, moving film with superb acting.", "POSITIVE"),
    ("Highly recommended, one of the best films of the year.", "POSITIVE"),
    ("This film was terrible and boring.", "NEGATIVE"),
    ("The worst movie I have ever seen. Avoid it.", "NEGATIVE"),
    ("Awful acting and a stupid plot. A complete waste of time.", "NEGATIVE"),
])
def test_sentiment_standin_is_right_on_clear_examples(classifier, text, label):
    assert classifier(text)[0]["label"] == label


def test_gpt2_standin_samples_real_words(mode):
    mode("tiny")
    path = lu.checkpoint(GPT2)
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForCausalLM.from_pretrained(path)
    known = {w.lower() for text in _corpus() for w in re.findall(r"[A-Za-z]+", text)}
    torch.manual_seed(0)
    prompt = tok("Once upon a time", return_tensors="pt")
    out = model.generate(**prompt, do_sample=True, top_p=0.9, max_new_tokens=40,
                         num_return_sequences=8, pad_token_id=tok.eos_token_id)
    new_text = tok.batch_decode(out[:, prompt["input_ids"].shape[1]:], skip_special_tokens=True)
    words = [w.lower() for t in new_text for w in re.findall(r"[A-Za-z]+", t)]
    assert len(words) > 50
    real = sum(w in known for w in words) / len(words)
    assert real >= 0.9, (real, new_text[:2])
