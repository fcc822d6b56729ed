"""Notebook 06's promise: an interrupted and resumed manual loop ends with the same weights.

A compact copy of the notebook's recipe on the tiny stand-in (12 steps): checkpoints hold
the weights (``save_pretrained``), the optimizer, the scheduler, the random states and the
step, written with ``atomic_dir`` and ``training_state.pt`` last; each epoch's shuffling
order comes from ``seed + epoch``; a resumed epoch skips the batches already trained on.
"""

from __future__ import annotations

import random
import shutil

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    get_linear_schedule_with_warmup,
    set_seed,
)

import lecture_utils as lu
from lecture_utils.training import atomic_dir, latest_checkpoint

SEED = 42
BATCH_SIZE = 4
NUM_EPOCHS = 2
MARKER = "training_state.pt"

GOOD = ["a wonderful film", "great acting and a moving story", "I loved every minute",
        "brilliant, funny and warm", "the best film of the year", "a real pleasure to watch"]
BAD = ["a boring film", "terrible acting and a silly story", "I hated every minute",
       "dull, slow and far too long", "the worst film of the year", "a waste of time"]


class Crash(RuntimeError):
    pass


@pytest.fixture(scope="module")
def checkpoint():
    return lu.checkpoint("distilbert/distilbert-base-cased")


@pytest.fixture(scope="module")
def setup(checkpoint):
    """Tokenized examples (uneven: 22 reviews make batches of 4, 4, 4, 4, 4, 2)."""
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    texts = [(t, 1) for t in GOOD] + [(t, 0) for t in BAD]
    texts = texts + [(f"{t}, really", y) for t, y in texts[:10]]
    examples = [dict(tokenizer(text), labels=label) for text, label in texts]
    return tokenizer, examples


class Run:
    """The notebook's loop, compact: one object holds what one training run needs."""

    def __init__(self, checkpoint, setup, run_dir, *, restore_rng=True):
        self.tokenizer, examples = setup
        self.generator = torch.Generator()
        self.loader = DataLoader(examples, batch_size=BATCH_SIZE, shuffle=True,
                                 generator=self.generator,
                                 collate_fn=DataCollatorWithPadding(self.tokenizer))
        self.eval_loader = DataLoader(examples[:6], batch_size=BATCH_SIZE,
                                      collate_fn=DataCollatorWithPadding(self.tokenizer))
        self.total = NUM_EPOCHS * len(self.loader)
        self.run_dir = run_dir
        self.base = checkpoint
        self.restore_rng = restore_rng

    def build(self, source):
        model = AutoModelForSequenceClassification.from_pretrained(source, num_labels=2)
        optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
        scheduler = get_linear_schedule_with_warmup(optimizer, 2, self.total)
        return model, optimizer, scheduler

    def fresh(self):
        set_seed(SEED)
        return self.build(self.base)

    def save(self, model, optimizer, scheduler, step, *, fail_before_state=False):
        path = self.run_dir / f"checkpoint-{step}"
        with atomic_dir(path) as tmp:
            model.save_pretrained(tmp)
            if fail_before_state:
                raise OSError("simulated: disk full before training_state.pt")
            rng = {"torch": torch.get_rng_state(), "python": random.getstate(),
                   "numpy": np.random.get_state()}
            torch.save({"step": step, "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "rng": rng}, tmp / MARKER)
        for old in self.run_dir.glob("checkpoint-*"):
            if old != path:
                shutil.rmtree(old)

    def load(self, path):
        model, optimizer, scheduler = self.build(path)
        state = torch.load(path / MARKER, map_location="cpu", weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if self.restore_rng:
            torch.set_rng_state(state["rng"]["torch"])
            random.setstate(state["rng"]["python"])
            np.random.set_state(state["rng"]["numpy"])
        return model, optimizer, scheduler, state["step"]

    def train(self, model, optimizer, scheduler, *, start_step=0, checkpoint_every=None,
              stop_after=None, fail_save_at=None):
        per_epoch = len(self.loader)
        step = start_step
        for epoch in range(step // per_epoch, NUM_EPOCHS):
            self.generator.manual_seed(SEED + epoch)
            model.train()
            for i, batch in enumerate(self.loader):
                if epoch * per_epoch + i < step:
                    continue
                model(**batch).loss.backward()
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                step += 1
                if i == per_epoch - 1:  # validation draws from the global RNG, as in 06
                    model.eval()
                    with torch.no_grad():
                        for eval_batch in self.eval_loader:
                            model(**eval_batch)
                    model.train()
                if checkpoint_every and step % checkpoint_every == 0:
                    self.save(model, optimizer, scheduler, step,
                              fail_before_state=step == fail_save_at)
                if step == stop_after:
                    raise Crash(f"after step {step}")
        return model


def assert_same_weights(a, b):
    pairs = list(zip(a.named_parameters(), b.named_parameters(), strict=True))
    assert pairs
    for (name, x), (name_b, y) in pairs:
        assert name == name_b
        assert torch.equal(x, y), f"{name} differs"


def same_weights(a, b) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


@pytest.fixture(scope="module")
def uninterrupted(checkpoint, setup, tmp_path_factory):
    run = Run(checkpoint, setup, tmp_path_factory.mktemp("uninterrupted"))
    assert len(run.loader) == 6 and run.total == 12
    model, optimizer, scheduler = run.fresh()
    return run.train(model, optimizer, scheduler)


def crash_and_resume(checkpoint, setup, run_dir, *, restore_rng=True):
    run = Run(checkpoint, setup, run_dir, restore_rng=restore_rng)
    model, optimizer, scheduler = run.fresh()
    with pytest.raises(Crash):
        run.train(model, optimizer, scheduler, checkpoint_every=4, stop_after=10)
    latest = latest_checkpoint(run_dir, marker=MARKER)
    assert latest.name == "checkpoint-8"  # step 8 is mid-epoch 1 (6 steps per epoch)
    model, optimizer, scheduler, step = run.load(latest)
    assert step == 8
    return run.train(model, optimizer, scheduler, start_step=step, checkpoint_every=4)


def test_an_uninterrupted_run_is_reproducible(checkpoint, setup, uninterrupted, tmp_path):
    run = Run(checkpoint, setup, tmp_path)
    again = run.train(*run.fresh())
    assert_same_weights(uninterrupted, again)
    fresh_model = run.fresh()[0]
    assert not same_weights(uninterrupted, fresh_model)  # training changed the weights


def test_interrupted_and_resumed_run_ends_with_identical_weights(checkpoint, setup,
                                                                 uninterrupted, tmp_path):
    resumed = crash_and_resume(checkpoint, setup, tmp_path)
    assert_same_weights(uninterrupted, resumed)
    assert latest_checkpoint(tmp_path, marker=MARKER).name == "checkpoint-12"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-12"]  # older ones pruned


def test_resuming_without_the_random_state_gives_other_weights(checkpoint, setup,
                                                               uninterrupted, tmp_path):
    """The check above is sensitive: dropout masks drawn anew change the result."""
    resumed = crash_and_resume(checkpoint, setup, tmp_path, restore_rng=False)
    assert not same_weights(uninterrupted, resumed)


def test_a_crash_during_a_save_leaves_the_previous_checkpoint_loadable(checkpoint, setup,
                                                                       uninterrupted, tmp_path):
    run = Run(checkpoint, setup, tmp_path)
    model, optimizer, scheduler = run.fresh()
    with pytest.raises(OSError, match="disk full"):
        run.train(model, optimizer, scheduler, checkpoint_every=4, fail_save_at=8)
    # The save of step 8 died after the weights were written: no checkpoint-8 at all,
    # no temporary folder left over, and checkpoint-4 untouched (not pruned).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-4"]
    latest = latest_checkpoint(tmp_path, marker=MARKER)
    assert latest == tmp_path / "checkpoint-4"
    model, optimizer, scheduler, step = run.load(latest)
    assert step == 4
    resumed = run.train(model, optimizer, scheduler, start_step=step)
    assert_same_weights(uninterrupted, resumed)


def test_a_folder_without_the_marker_is_not_resumed_from(checkpoint, setup, tmp_path):
    """A checkpoint copied or written without atomic_dir and cut short is skipped."""
    run = Run(checkpoint, setup, tmp_path)
    model, optimizer, scheduler = run.fresh()
    run.save(model, optimizer, scheduler, 4)
    half = tmp_path / "checkpoint-8"
    model.save_pretrained(half)  # the weights, but no training_state.pt
    assert latest_checkpoint(tmp_path, marker=MARKER) == tmp_path / "checkpoint-4"


def test_weights_only_load_refuses_numpy_state_so_we_load_our_own_file_fully(tmp_path):
    """torch.load defaults to weights_only=True: NumPy's RNG state does not pass."""
    import pickle

    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": np.random.get_state()}
    torch.save(state, tmp_path / MARKER)
    with pytest.raises(pickle.UnpicklingError, match="numpy"):
        torch.load(tmp_path / MARKER)
    without_numpy = {k: v for k, v in state.items() if k != "numpy"}
    torch.save(without_numpy, tmp_path / "ok.pt")
    assert torch.equal(torch.load(tmp_path / "ok.pt")["torch"], state["torch"])
    loaded = torch.load(tmp_path / MARKER, weights_only=False)
    assert loaded["numpy"][0] == "MT19937"
