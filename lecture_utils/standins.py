"""Tiny stand-ins for the course's real checkpoints, built locally and deterministically.

Each stand-in uses the same model class and tokenizer kind as the real checkpoint it stands
in for, at toy size, so every line of the notebooks runs unchanged in seconds:

- WordPiece tokenizers (cased and uncased) trained on the bundled reviews, with BERT's
  special tokens ``[PAD] [UNK] [CLS] [SEP] [MASK]``;
- DistilBERT encoders with a masked-language-model head. Like a real pre-trained encoder they
  come with useful features: the encoder was trained to tell positive from negative reviews on
  a fresh sample of generated reviews (not the bundled ones), then its head was thrown away
  and a random masked-LM head put in its place. Fine-tuning one on the bundled reviews
  therefore learns in a few steps, as the real DistilBERT does on IMDB;
- a DistilBERT sentiment classifier (``NEGATIVE``/``POSITIVE``) fine-tuned on the reviews;
- a byte-level BPE tokenizer with ``<|endoftext|>`` and a GPT-2 language model trained on
  the reviews, so that its samples are made of real words.

Stand-ins live in their own cache folder (``LECTURE_CACHE``, by default
``~/.cache/lecture_utils``), never in the Hugging Face cache: a fake model stored there
under a real id would later shadow the real one.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .data import bundled_reviews

BUILD_SEED = 1234
# Bump when a change to this file should rebuild every stand-in.
RECIPE_VERSION = "2"

# A few everyday sentences so the tokenizers know common words beyond film reviews,
# including the examples the notebooks use.
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
# Repeated so that every everyday word clears the tokenizer trainer's minimum frequency.
EVERYDAY_REPEATS = 3


@dataclass(frozen=True)
class StandIn:
    """How to build the stand-in for one real checkpoint."""

    real_id: str
    kind: str  # "encoder", "classifier" or "decoder"
    lowercase: bool = False
    base: str | None = None  # the stand-in a fine-tuned one starts from
    vocab_size: int = 0  # WordPiece stand-ins: size of the learned vocabulary
    description: str = ""


STANDINS: dict[str, StandIn] = {
    s.real_id: s
    for s in [
        # Like the real ones, the uncased vocabulary is the larger (30,522 vs 28,996 there).
        StandIn("distilbert/distilbert-base-cased", "encoder", lowercase=False,
                vocab_size=1800, description="DistilBERT, cased WordPiece, masked-LM head"),
        StandIn("distilbert/distilbert-base-uncased", "encoder", lowercase=True,
                vocab_size=2000, description="DistilBERT, uncased WordPiece, masked-LM head"),
        StandIn("distilbert/distilbert-base-uncased-finetuned-sst-2-english", "classifier",
                lowercase=True, vocab_size=2000, base="distilbert/distilbert-base-uncased",
                description="DistilBERT sentiment classifier, NEGATIVE/POSITIVE"),
        StandIn("distilbert/distilgpt2", "decoder",
                description="GPT-2, byte-level BPE with <|endoftext|>"),
    ]
}

# Toy sizes, in the spirit of transformers' own tiny test models.
BPE_VOCAB = 2000
ENCODER_SIZE = dict(dim=32, n_layers=2, n_heads=4, hidden_dim=64, max_position_embeddings=512)
DECODER_SIZE = dict(n_embd=32, n_layer=2, n_head=4, n_positions=1024)
PRETRAIN_STEPS = 60  # encoder "pre-training" on generated reviews of random lengths
PRETRAIN_SEED = 2222  # a sample of reviews distinct from the bundled one (seed 1111)
CLASSIFIER_STEPS = 150  # enough for >= 90% test accuracy and clear single sentences
DECODER_STEPS = 120  # enough for samples made of real words


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
        with torch.random.fork_rng(devices=[]), quiet_progress():
            torch.manual_seed(BUILD_SEED)
            if spec.kind == "encoder":
                _build_encoder(spec, out)
            elif spec.kind == "classifier":
                _build_classifier(spec, out, base_dir)
            else:
                _build_decoder(out)
    finally:
        torch.set_num_threads(threads)
        hf_logging.set_verbosity(verbosity)
    (out / "STANDIN.md").write_text(
        f"Tiny local stand-in for `{spec.real_id}` ({spec.description}), built by "
        f"lecture_utils. Not the real model.\n",
        encoding="utf-8",
    )


def _wordpiece_vocab(lowercase: bool, size: int) -> list[str]:
    """A WordPiece vocabulary learned from the corpus, deterministically.

    (The tokenizers library's trainer breaks ties in hash order, so two runs can disagree.)
    Special tokens first, then every character alone and as a ``##`` continuation, then the
    most frequent words, then the most frequent word beginnings and ``##`` endings, so rare
    words still split into meaningful pieces. Ties are broken alphabetically.
    """
    from collections import Counter

    from tokenizers import normalizers, pre_tokenizers

    normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=lowercase)
    pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    counts: Counter[str] = Counter()
    for text in _corpus():
        counts.update(w for w, _ in pre_tokenizer.pre_tokenize_str(normalizer.normalize_str(text)))

    def ranked(counter):
        return [t for t, c in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])) if c >= 2]

    chars = sorted({c for w in counts for c in w})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + chars + ["##" + c for c in chars]
    words = [w for w in ranked(counts) if len(w) > 1]
    vocab += words[: int((size - len(vocab)) * 0.75)]
    pieces: Counter[str] = Counter()
    for word, count in counts.items():
        for n in range(2, min(len(word), 7)):
            pieces[word[:n]] += count
            pieces["##" + word[-n:]] += count
    seen = set(vocab)
    vocab += [p for p in ranked(pieces) if p not in seen][: size - len(vocab)]
    return vocab


def _wordpiece_tokenizer(spec: StandIn):
    from transformers import DistilBertTokenizer

    tokens = _wordpiece_vocab(spec.lowercase, spec.vocab_size)
    vocab = {token: i for i, token in enumerate(tokens)}
    return DistilBertTokenizer(vocab=vocab, do_lower_case=spec.lowercase,
                               strip_accents=spec.lowercase or None, model_max_length=512)


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


def _train(model, batches, lr: float, make_inputs) -> None:
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for batch in batches:
        loss = model(**make_inputs(batch)).loss
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


def _build_encoder(spec: StandIn, out: Path) -> None:
    from transformers import (
        DistilBertConfig,
        DistilBertForMaskedLM,
        DistilBertForSequenceClassification,
    )

    tokenizer = _wordpiece_tokenizer(spec)
    config = DistilBertConfig(vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
                              **ENCODER_SIZE)
    # Give the encoder knowledge worth transferring: train it to classify generated reviews,
    # then keep only the encoder. The saved masked-LM head is random (seeded).
    teacher = DistilBertForSequenceClassification(config)
    texts, labels = _pretraining_reviews()
    batches = _batches(tokenizer, texts, 32, 96, steps=PRETRAIN_STEPS, labels=labels)
    _train(teacher, batches, 4e-3, lambda b: b)
    model = DistilBertForMaskedLM(config)
    model.distilbert.load_state_dict(teacher.distilbert.state_dict())
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


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


def _build_classifier(spec: StandIn, out: Path, base_dir: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    # The base's vocabulary, rebuilt (deterministic) rather than reloaded, so that no
    # load-time options end up in the saved tokenizer config.
    tokenizer = _wordpiece_tokenizer(spec)
    model = AutoModelForSequenceClassification.from_pretrained(
        base_dir, num_labels=2, id2label={0: "NEGATIVE", 1: "POSITIVE"},
        label2id={"NEGATIVE": 0, "POSITIVE": 1},
    )
    texts, labels = _reviews("train")
    sentences, sentence_labels = _opinion_sentences()
    # SST-2 is made of single sentences from film reviews: add such sentences to the reviews,
    # so that the classifier is right on a short, clear sentence as well as on a review.
    batches = _batches(tokenizer, [*texts, *sentences], 32, 96, steps=CLASSIFIER_STEPS,
                       labels=[*labels, *sentence_labels])
    _train(model, batches, 4e-3, lambda b: b)
    model.config.finetuning_task = "sst-2"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)


def _build_decoder(out: Path) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2Tokenizer

    eos = "<|endoftext|>"
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=BPE_VOCAB, special_tokens=[eos], show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    texts = _corpus()
    bpe.train_from_iterator(texts, trainer=trainer)
    with tempfile.TemporaryDirectory() as tmp:  # the BPE model saves its merges as text
        merges_file = Path(bpe.model.save(tmp)[1])
        merges = [tuple(line.split(" ")) for line in merges_file.read_text("utf-8").splitlines()
                  if line and not line.startswith("#version")]
    tokenizer = GPT2Tokenizer(vocab=bpe.get_vocab(), merges=merges, model_max_length=1024)

    config = GPT2Config(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id, **DECODER_SIZE)
    model = GPT2LMHeadModel(config)
    # Train on the reviews as one long stream cut into blocks, documents separated by eos.
    ids: list[int] = []
    for doc in tokenizer(texts)["input_ids"]:
        ids += doc + [tokenizer.eos_token_id]
    block = 32
    blocks = torch.tensor(ids[: len(ids) // block * block]).view(-1, block)
    g = torch.Generator().manual_seed(BUILD_SEED)

    def lm_batches(steps=DECODER_STEPS, batch_size=32):
        for _ in range(steps):
            x = blocks[torch.randint(len(blocks), (batch_size,), generator=g)]
            yield {"input_ids": x, "labels": x}

    _train(model, lm_batches(), 1e-2, lambda b: b)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
