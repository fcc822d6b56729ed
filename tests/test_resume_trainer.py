"""Interrupting and resuming a Trainer run (notebook 07), on the tiny stand-in.

- A run that crashes in the middle of an epoch and is resumed from the newest complete
  checkpoint ends with exactly the weights of a run that was never interrupted.
- A checkpoint whose save was cut short (no trainer_state.json, the file the Trainer writes
  last) is skipped by lu.training.latest_checkpoint, although the Trainer's own
  get_last_checkpoint (what resume_from_checkpoint=True uses) would take it; resuming from
  what latest_checkpoint returns still gives the uninterrupted weights.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import torch
from datasets import DatasetDict, load_dataset
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from transformers.trainer_utils import get_last_checkpoint
from transformers.utils import logging as hf_logging

import lecture_utils as lu

BATCH_SIZE = 8
STEPS_PER_EPOCH = 4  # 32 training reviews in batches of 8
NUM_EPOCHS = 3


class SimulatedCrash(Exception):
    pass


class CrashAfterStep(TrainerCallback):
    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise SimulatedCrash(f"crash after step {state.global_step}")


@pytest.fixture(scope="module", autouse=True)
def restore_global_state():
    """full_determinism=True switches the whole process to deterministic algorithms and sets
    a few environment variables; undo that for the tests that run after these."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cudnn = torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark
    environ = dict(os.environ)
    yield
    torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = cudnn
    os.environ.clear()
    os.environ.update(environ)


@pytest.fixture(scope="module")
def setup():
    """Tokenizer, a small tokenized subset, and an untrained classifier (never trained)."""
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # no LOAD REPORT in the test log
    checkpoint = lu.checkpoint("distilbert/distilbert-base-cased")
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    raw = load_dataset(lu.dataset_path("stanfordnlp/imdb"))
    shuffled = raw["train"].shuffle(seed=1111)
    small = DatasetDict(train=shuffled.select(range(32)), validation=shuffled.select(range(32, 48)))
    small = small.map(lambda example: {"text": " ".join(example["text"].split()[:30])})
    tokenized = small.map(lambda batch: tokenizer(batch["text"], truncation=True), batched=True)
    tokenized = tokenized.remove_columns(["text"]).rename_column("label", "labels")
    tokenized.set_format("torch")
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
    hf_logging.set_verbosity(verbosity)
    return tokenizer, tokenized, model


def make_trainer(setup, output_dir: Path, callbacks=()) -> Trainer:
    tokenizer, tokenized, untrained = setup
    args = TrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=NUM_EPOCHS,
        per_device_train_batch_size=BATCH_SIZE,
        per_device_eval_batch_size=BATCH_SIZE,
        learning_rate=2e-3,
        seed=42,
        full_determinism=True,
        train_sampling_strategy="group_by_length",
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        save_total_limit=2,
        logging_steps=1,
        report_to="none",
        disable_tqdm=True,
        dataloader_pin_memory=False,
    )
    return Trainer(model=copy.deepcopy(untrained), args=args, train_dataset=tokenized["train"],
                   eval_dataset=tokenized["validation"],
                   data_collator=DataCollatorWithPadding(tokenizer), processing_class=tokenizer,
                   callbacks=list(callbacks))


def crash(setup, output_dir: Path, step: int) -> None:
    trainer = make_trainer(setup, output_dir, [CrashAfterStep(step)])
    with pytest.raises(SimulatedCrash):
        trainer.train()


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    pa, pb = dict(a.named_parameters()), dict(b.named_parameters())
    assert pa.keys() == pb.keys()
    different = [name for name in pa if not torch.equal(pa[name], pb[name])]
    assert different == [], f"parameters differ after resuming: {different}"


@pytest.fixture(scope="module")
def uninterrupted(setup, tmp_path_factory):
    trainer = make_trainer(setup, tmp_path_factory.mktemp("uninterrupted"))
    trainer.train()
    return trainer


def test_resumed_run_ends_with_the_uninterrupted_weights(setup, uninterrupted, tmp_path):
    crash(setup, tmp_path, step=STEPS_PER_EPOCH + 2)  # mid-way through the second epoch
    resume_from = lu.training.latest_checkpoint(tmp_path)
    assert resume_from == tmp_path / f"checkpoint-{STEPS_PER_EPOCH}"

    resumed = make_trainer(setup, tmp_path)
    resumed.train(resume_from_checkpoint=str(resume_from))
    assert resumed.state.global_step == uninterrupted.state.global_step
    assert resumed.state.best_global_step == uninterrupted.state.best_global_step
    assert_same_weights(resumed.model, uninterrupted.model)


def test_a_checkpoint_cut_short_is_skipped(setup, uninterrupted, tmp_path):
    # Two complete checkpoints (end of epochs 1 and 2), then a crash in epoch 3.
    crash(setup, tmp_path, step=2 * STEPS_PER_EPOCH + 1)
    newest = tmp_path / f"checkpoint-{2 * STEPS_PER_EPOCH}"
    older = tmp_path / f"checkpoint-{STEPS_PER_EPOCH}"
    assert lu.training.latest_checkpoint(tmp_path) == newest

    # Pretend the save of the newest checkpoint died before its last file.
    (newest / "trainer_state.json").unlink()
    assert Path(get_last_checkpoint(str(tmp_path))) == newest  # what resume=True would take
    resume_from = lu.training.latest_checkpoint(tmp_path)
    assert resume_from == older

    resumed = make_trainer(setup, tmp_path)
    resumed.train(resume_from_checkpoint=str(resume_from))
    assert resumed.state.global_step == uninterrupted.state.global_step
    assert_same_weights(resumed.model, uninterrupted.model)
