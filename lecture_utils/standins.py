"""Tiny stand-ins for the course's real checkpoints, built locally and deterministically.

A stand-in differs from the real checkpoint it stands in for only in size and weights:

- its tokenizer files are the real ones, verbatim (``lecture_utils/data/hub``), so tokens,
  ids, special tokens and the tokenizer class are exactly what a student with the real
  checkpoint sees;
- its ``config.json`` is the real one with only the size fields shrunk (:data:`TINY_SIZES`):
  the same keys, label maps, vocabulary size, special-token ids and position limits;
- its weights are small and trained just enough to be useful:
  - the DistilBERT encoders come "pre-trained": each encoder learned to tell positive from
    negative reviews on a fresh sample of generated reviews (not the bundled ones), then that
    head was thrown away and a random masked-LM head put in its place, so fine-tuning one on
    the bundled reviews learns in a few steps, as the real DistilBERT does on IMDB;
  - the sentiment classifier (``NEGATIVE``/``POSITIVE``) is fine-tuned from the uncased
    encoder on the reviews and on single opinion sentences (SST-2 is made of sentences);
  - the GPT-2 language model is trained on the reviews, so its samples are real words.

Stand-ins live in their own cache folder (``LECTURE_CACHE``, by default
``~/.cache/lecture_utils``), never in the Hugging Face cache: a fake model stored there
under a real id would later shadow the real one.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .data import bundled_reviews

BUILD_SEED = 1234
# Bump when a change to this file should rebuild every stand-in.
RECIPE_VERSION = "3"

# The real checkpoints' small files (configs, tokenizer files, generation config), verbatim.
HUB_FILES = Path(__file__).resolve().parent / "data" / "hub"

# A few everyday sentences, so that the GPT-2 stand-in also continues everyday prompts with
# real words, not only film reviews.
EVERYDAY_TEXT = """\
Hello, how are you? I'm fine, thank you! And you? I'm not fine.
Hello world. Good morning, good evening and good night. Thanks a lot, see you soon.
I've been waiting for a Hugging Face course my whole life.
Transformers are models that turn text into numbers and numbers into text.
Once upon a time there was a king who lived in a castle by the sea.
The weather is nice today, so we walk to the park and read a book.
Learning something new every day is the best part of my job.
This course is great. I love this movie! The food was terrible and the service was slow.
What do you think? Where are we going? When will it start? Why not? Who is there?
Yes, please. No, thanks. Maybe tomorrow. Today is Monday. My name is Sam.
The cat sat on the mat. The dog ran after the ball. Birds sing in the morning.
We eat breakfast, lunch and dinner. She drinks coffee and he drinks tea.
People work, play, learn, teach, write, speak, listen, think and dream.
Computers, phones, machines, language, words, sentences, questions and answers.
"""
EVERYDAY_REPEATS = 3


@dataclass(frozen=True)
class StandIn:
    """How to build the stand-in for one real checkpoint."""

    real_id: str
    kind: str  # "encoder", "classifier" or "decoder"
    base: str | None = None  # the stand-in a fine-tuned one starts from
    description: str = ""


STANDINS: dict[str, StandIn] = {
    s.real_id: s
    for s in [
        StandIn("distilbert/distilbert-base-cased", "encoder",
                description="DistilBERT, cased WordPiece, masked-LM head"),
        StandIn("distilbert/distilbert-base-uncased", "encoder",
                description="DistilBERT, uncased WordPiece, masked-LM head"),
        StandIn("distilbert/distilbert-base-uncased-finetuned-sst-2-english", "classifier",
                base="distilbert/distilbert-base-uncased",
                description="DistilBERT sentiment classifier, NEGATIVE/POSITIVE"),
        StandIn("distilbert/distilgpt2", "decoder",
                description="GPT-2, byte-level BPE with <|endoftext|>"),
    ]
}

# The only fields in which a stand-in's config.json differs from the real one: toy widths,
# depths and head counts, in the spirit of transformers' own tiny test models. Everything
# else (vocabulary size, positions, label maps, special-token ids) stays as published.
TINY_SIZES: dict[str, dict[str, int]] = {
    "distilbert": dict(dim=32, hidden_dim=64, n_layers=2, n_heads=4),
    "gpt2": dict(n_embd=32, n_layer=2, n_head=4),
}
PRETRAIN_STEPS = 60  # encoder "pre-training" on generated reviews of random lengths
PRETRAIN_SEED = 2222  # a sample of reviews distinct from the bundled one (seed 1111)
CLASSIFIER_STEPS = 150  # enough for >= 90% test accuracy and clear single sentences
DECODER_STEPS = 120  # enough for samples made of real words
SAMPLED_NEGATIVES = 2048  # unused tokens scored against per decoder training step


def hub_files(real_id: str) -> Path:
    """Folder with the real checkpoint's small files (no weights), copied from the Hub.

    Raises KeyError for an id the course has no files for.
    """
    folder = HUB_FILES / real_id
    if real_id not in STANDINS or not (folder / "config.json").is_file():
        raise KeyError(f"No reference files for {real_id!r}; known: {sorted(STANDINS)}")
    return folder


def real_config(real_id: str) -> dict:
    """The real checkpoint's ``config.json`` as a dict (read from :func:`hub_files`)."""
    return json.loads((hub_files(real_id) / "config.json").read_text(encoding="utf-8"))


def tiny_config(real_id: str) -> dict:
    """The stand-in's ``config.json``: the real one with only :data:`TINY_SIZES` changed."""
    config = real_config(real_id)
    sizes = TINY_SIZES[config["model_type"]]
    missing = sorted(set(sizes) - set(config))
    if missing:
        raise KeyError(f"{real_id}'s config.json has no {missing}: cannot shrink it.")
    return {**config, **sizes}


def write_config(config: dict, folder: Path) -> None:
    """Write ``config.json`` in the Hub files' own layout (2-space indent, sorted keys)."""
    text = json.dumps(config, indent=2, sort_keys=True) + "\n"
    (Path(folder) / "config.json").write_text(text, encoding="utf-8")


def copy_small_files(real_id: str, folder: Path, *, config: dict | None = None) -> None:
    """Copy the real small files of ``real_id`` into ``folder``; ``config`` replaces
    ``config.json`` when given (the stand-ins' shrunk one)."""
    for f in sorted(hub_files(real_id).iterdir()):
        shutil.copyfile(f, Path(folder) / f.name)
    if config is not None:
        write_config(config, folder)


def cache_root() -> Path:
    """Folder that holds built stand-ins: ``$LECTURE_CACHE`` or ``~/.cache/lecture_utils``."""
    env = os.environ.get("LECTURE_CACHE")
    if env:
        return Path(env).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().resolve() / "lecture_utils"


@functools.cache
def _recipe_fingerprint() -> str:
    """Changes whenever the recipe, the bundled data or the libraries change."""
    import tokenizers
    import torch
    import transformers

    h = hashlib.sha256()
    h.update(RECIPE_VERSION.encode())
    h.update(Path(__file__).read_bytes())
    h.update((Path(__file__).parent / "reviewgen.py").read_bytes())
    for f in sorted(HUB_FILES.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(HUB_FILES)).encode())
            h.update(f.read_bytes())
    for f in sorted(bundled_reviews().rglob("*.parquet")):
        h.update(f.read_bytes())
    for mod in (torch, transformers, tokenizers):
        h.update(mod.__version__.encode())
    return h.hexdigest()[:12]


def standin_dir(real_id: str) -> Path:
    """Where the stand-in for ``real_id`` lives once built."""
    slug = real_id.replace("/", "--")
    return cache_root() / "standins" / _recipe_fingerprint() / slug


def build_standin(real_id: str) -> Path:
    """Return the folder of the stand-in for ``real_id``, building it first if needed.

    Safe when several processes ask at once: one builds under a file lock into a temporary
    folder and renames it into place; the others wait and then reuse it.
    """
    from filelock import FileLock

    if real_id not in STANDINS:
        raise KeyError(f"No stand-in recipe for {real_id!r}; known: {sorted(STANDINS)}")
    target = standin_dir(real_id)
    if (target / "config.json").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / "config.json").exists():  # someone else built it while we waited
            return target
        spec = STANDINS[real_id]
        base_dir = build_standin(spec.base) if spec.base else None
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp-", dir=target.parent))
        try:
            _build(spec, tmp, base_dir)
            os.replace(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- builders


@functools.cache
def _reviews(split: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Texts (paragraph tags turned into spaces) and labels of one bundled split."""
    import pyarrow.parquet as pq

    table = pq.read_table(bundled_reviews() / "plain_text" / f"{split}-00000-of-00001.parquet")
    texts = [t.replace("<br /><br />", " ") for t in table.column("text").to_pylist()]
    return tuple(texts), tuple(table.column("label").to_pylist())


def _corpus() -> list[str]:
    """Text the tokenizers and the language model learn from."""
    everyday = EVERYDAY_TEXT.splitlines() * EVERYDAY_REPEATS
    return [*_reviews("train")[0], *_reviews("unsupervised")[0], *everyday]


def _build(spec: StandIn, out: Path, base_dir: Path | None) -> None:
    import torch
    from transformers.utils import logging as hf_logging

    from . import quiet_progress

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # building is not the lesson: keep its log quiet
    # One thread: sums are added up in the same order whatever the machine's core count, so
    # the trained stand-ins come out byte-identical everywhere (and tiny models gain nothing
    # from more threads).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        # The real tokenizer files and generation config, and the shrunk real config.
        copy_small_files(spec.real_id, out, config=tiny_config(spec.real_id))
        with torch.random.fork_rng(devices=[]), quiet_progress():
            torch.manual_seed(BUILD_SEED)
            if spec.kind == "encoder":
                model = _build_encoder(out)
            elif spec.kind == "classifier":
                model = _build_classifier(out, base_dir)
            else:
                model = _build_decoder(out)
            _save_weights(model, out)
    finally:
        torch.set_num_threads(threads)
        hf_logging.set_verbosity(verbosity)
    (out / "STANDIN.md").write_text(
        f"Tiny local stand-in for `{spec.real_id}` ({spec.description}), built by "
        f"lecture_utils: the real tokenizer and config files, with the config's sizes shrunk "
        f"and small trained weights. Not the real model.\n",
        encoding="utf-8",
    )


def _save_weights(model, out: Path) -> None:
    """Save only ``model.safetensors``: ``save_pretrained`` would also rewrite the config
    files, which must stay the real ones."""
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        shutil.move(Path(tmp) / "model.safetensors", out / "model.safetensors")


def _batches(tokenizer, texts: list[str], batch_size: int, max_length: int, steps: int,
             labels: list[int] | None = None):
    """Yield ``steps`` shuffled, padded batches (a fixed-seed generator keeps it reproducible)."""
    import torch

    g = torch.Generator().manual_seed(BUILD_SEED)
    encoded = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    done = 0
    while True:
        order = torch.randperm(len(texts), generator=g).tolist()
        for start in range(0, len(texts) - batch_size + 1, batch_size):
            idx = order[start:start + batch_size]
            batch = tokenizer.pad([{"input_ids": encoded[i]} for i in idx], return_tensors="pt")
            if labels is not None:
                batch["labels"] = torch.tensor([labels[i] for i in idx])
            yield batch
            done += 1
            if done == steps:
                return


def _train(model, batches, lr: float) -> None:
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for batch in batches:
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()


def _pretraining_reviews() -> tuple[list[str], list[int]]:
    """Generated reviews (not the bundled ones), cut to random lengths from 10 to 80 words."""
    import random

    from .reviewgen import generate

    data = generate(PRETRAIN_SEED, sizes={"train": 1200})["train"]
    rng = random.Random(PRETRAIN_SEED)
    texts = [" ".join(t.replace("<br /><br />", " ").split()[: rng.randint(10, 80)])
             for t in data["text"]]
    return texts, data["label"]


def _build_encoder(out: Path):
    from transformers import (
        AutoConfig,
        AutoTokenizer,
        DistilBertForMaskedLM,
        DistilBertForSequenceClassification,
    )

    tokenizer = AutoTokenizer.from_pretrained(out)
    config = AutoConfig.from_pretrained(out)
    # Give the encoder knowledge worth transferring: train it to classify generated reviews,
    # then keep only the encoder. The saved masked-LM head is random (seeded).
    teacher = DistilBertForSequenceClassification(AutoConfig.from_pretrained(out, num_labels=2))
    texts, labels = _pretraining_reviews()
    _train(teacher, _batches(tokenizer, texts, 32, 96, PRETRAIN_STEPS, labels), 4e-3)
    model = DistilBertForMaskedLM(config)
    model.distilbert.load_state_dict(teacher.distilbert.state_dict())
    return model


def _opinion_sentences(repeats: int = 6) -> tuple[list[str], list[int]]:
    """Every opinion sentence the review generator knows, filled in, with its label."""
    from . import reviewgen as g

    fill = {"title": "The Silver River", "genre": "drama", "actor": "Anna Marsh",
            "director": "Hugo Novak", "role": "teacher", "place": "a border town",
            "event": "a letter goes missing"}
    texts, labels = [], []
    for label, aspects, verdicts, short, score in (
            (1, g.POSITIVE, g.VERDICTS_POS, g.SHORT_POS, 9),
            (0, g.NEGATIVE, g.VERDICTS_NEG, g.SHORT_NEG, 2)):
        for sentence in [*(s for a in sorted(aspects) for s in aspects[a]), *verdicts, *short]:
            texts.append(sentence.format(**fill, score=score))
            labels.append(label)
    return texts * repeats, labels * repeats


def _build_classifier(out: Path, base_dir: Path):
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(out)
    # The base encoder's weights under the real SST-2 config (its label names and sizes).
    model = AutoModelForSequenceClassification.from_pretrained(
        base_dir, config=AutoConfig.from_pretrained(out))
    texts, labels = _reviews("train")
    sentences, sentence_labels = _opinion_sentences()
    # SST-2 is made of single sentences from film reviews: add such sentences to the reviews,
    # so that the classifier is right on a short, clear sentence as well as on a review.
    batches = _batches(tokenizer, [*texts, *sentences], 32, 96, CLASSIFIER_STEPS,
                       [*labels, *sentence_labels])
    _train(model, batches, 4e-3)
    return model


def _build_decoder(out: Path):
    """GPT-2 trained on the reviews as one long stream cut into blocks.

    The real vocabulary has 50,257 tokens, but the reviews use about a thousand of them, and
    a full softmax over all 50,257 would make up nearly all of the build time. So each step
    scores the next token against the tokens the corpus uses plus a fresh random sample of
    the others (a *sampled softmax*): the model learns its text, and learns to keep the
    unused tokens unlikely (over 90% of its probability goes to the corpus's tokens).
    """
    import torch
    import torch.nn.functional as F
    from transformers import AutoConfig, AutoTokenizer, GPT2LMHeadModel

    tokenizer = AutoTokenizer.from_pretrained(out)
    model = GPT2LMHeadModel(AutoConfig.from_pretrained(out))
    ids: list[int] = []
    for doc in tokenizer(_corpus())["input_ids"]:  # documents separated by <|endoftext|>
        ids += doc + [tokenizer.eos_token_id]
    block = 32
    blocks = torch.tensor(ids[: len(ids) // block * block]).view(-1, block)
    used = torch.unique(blocks)
    is_unused = torch.ones(len(tokenizer), dtype=torch.bool)
    is_unused[used] = False
    unused = torch.arange(len(tokenizer))[is_unused]
    position = torch.full((len(tokenizer),), -1)  # a used token's index among `used`
    position[used] = torch.arange(len(used))
    g = torch.Generator().manual_seed(BUILD_SEED)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(DECODER_STEPS):
        x = blocks[torch.randint(len(blocks), (32,), generator=g)]
        candidates = torch.cat([used, unused[torch.randint(len(unused), (SAMPLED_NEGATIVES,),
                                                           generator=g)]])
        hidden = model.transformer(input_ids=x).last_hidden_state[:, :-1]
        logits = hidden @ model.lm_head.weight[candidates].T  # (batch, block - 1, candidates)
        loss = F.cross_entropy(logits.reshape(-1, len(candidates)),
                               position[x[:, 1:]].reshape(-1))
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    return model
