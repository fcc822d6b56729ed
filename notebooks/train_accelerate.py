"""Fine-tune DistilBERT on movie reviews with Accelerate (the training script of notebook 11).

The same file trains in one process or in several; the launcher decides, not the script:

    python train_accelerate.py --output-dir out                        # one process
    accelerate launch --config_file accelerate_configs/<file>.yaml \\
        train_accelerate.py --output-dir out                           # as many as configured

On a machine without GPUs, two CPU processes need the launcher told so explicitly; notebook 11
shows the command (``accelerate launch --cpu --num_processes 2`` starts only one).

Comments starting with ``Accelerate:`` explain the lines that exist because of it. The last
line the main process prints starts with ``REPORT`` and holds a JSON summary of the run (world
size, what each process received, the evaluation), which notebook 11 and the tests read.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import datasets
import torch
import transformers
from accelerate import Accelerator, DataLoaderConfiguration
from accelerate.utils import set_seed
from datasets import DatasetDict, load_dataset
from torch.utils.data import DataLoader, Sampler
from transformers import AutoModelForSequenceClassification, AutoTokenizer, DataCollatorWithPadding

import lecture_utils as lu

MODEL_ID = "distilbert/distilbert-base-uncased"
DATASET_ID = "stanfordnlp/imdb"
SUBSET_SEED = 1111  # the course's fixed shuffle of the train split (notebooks 05-08)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output-dir", required=True, type=Path,
                        help="folder for the trained model (written by the main process only)")
    parser.add_argument("--train-size", type=int, default=128, help="training reviews")
    parser.add_argument("--eval-size", type=int, default=32, help="validation reviews")
    parser.add_argument("--max-words", type=int, default=50,
                        help="keep the first N words of each review (0: whole reviews)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16,
                        help="GLOBAL batch: split evenly across the processes")
    parser.add_argument("--lr", type=float, default=None,
                        help="learning rate (default: 1e-4 * 768 / model width)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1:
        parser.error("--epochs and --batch-size must be at least 1.")
    return args


class LengthGroupedSampler(Sampler[int]):
    """Shuffled review indices in which each run of ``batch_size`` holds similar lengths.

    Shuffle, cut into groups of ``group_batches`` batches, sort each group by length, cut it
    into batches, shuffle the full batches (a last, partial batch stays last). Less padding
    per batch, still a new order every epoch.

    All randomness comes from ``self.generator``. In a multi-process run Accelerate finds that
    attribute, gives the sampler a generator and synchronises it across processes at the start
    of every epoch: every process computes the same order, and the prepared DataLoader hands
    each one its own part of every batch. (Randomness from anywhere else, different in each
    process, would make the processes skip some reviews and repeat others.)
    """

    def __init__(self, lengths: list[int], batch_size: int, group_batches: int = 4):
        self.lengths = list(lengths)
        self.batch_size = batch_size
        self.group_size = batch_size * group_batches
        self.generator: torch.Generator | None = None  # None: torch's global generator

    def __len__(self) -> int:
        return len(self.lengths)

    def __iter__(self):
        order = torch.randperm(len(self.lengths), generator=self.generator).tolist()
        batches = []
        for start in range(0, len(order), self.group_size):
            group = sorted(order[start:start + self.group_size], key=self.lengths.__getitem__,
                           reverse=True)
            batches += [group[i:i + self.batch_size] for i in range(0, len(group), self.batch_size)]
        last = [batches.pop()] if len(batches[-1]) < self.batch_size else []
        shuffled = [batches[i] for i in torch.randperm(len(batches), generator=self.generator)]
        return iter([index for batch in shuffled + last for index in batch])


def build_datasets(args, tokenizer) -> tuple[DatasetDict, list[str]]:
    """The course's subset: a fixed shuffle of the train split, cut into train and validation.

    Returns the tokenized splits and the label names.
    """
    raw = load_dataset(lu.dataset_path(DATASET_ID))
    shuffled = raw["train"].shuffle(seed=SUBSET_SEED)
    n_train, n_eval = args.train_size, args.eval_size
    if n_train < 1 or n_eval < 1 or n_train + n_eval > len(shuffled):
        raise SystemExit(f"--train-size + --eval-size must be between 2 and {len(shuffled)}.")
    small = DatasetDict(
        train=shuffled.select(range(n_train)),
        validation=shuffled.select(range(n_train, n_train + n_eval)),
    )

    def first_words(batch):
        if args.max_words <= 0:
            return batch
        return {"text": [" ".join(text.split()[: args.max_words]) for text in batch["text"]]}

    def tokenize(batch):
        # No padding here: the collator pads. No token_type_ids: DistilBERT ignores them.
        return tokenizer(batch["text"], truncation=True, return_token_type_ids=False)

    tokenized = small.map(first_words, batched=True)
    tokenized = tokenized.map(tokenize, batched=True, remove_columns=["text"])
    tokenized = tokenized.rename_column("label", "labels")
    # A number per training review, so that the run can prove how the reviews were shared out.
    tokenized["train"] = tokenized["train"].add_column("example_id", list(range(n_train)))
    return tokenized, raw["train"].features["label"].names


def evaluate(accelerator, model, eval_dataloader) -> tuple[float, int]:
    """Accuracy over the whole validation set, counted once per review across all processes."""
    model.eval()
    correct = seen = 0
    for batch in eval_dataloader:
        with torch.no_grad():
            logits = model(**batch).logits
        # Accelerate: collect every process's predictions, minus the padding that evened out
        # the last batch (plain `gather` would count those duplicated reviews twice).
        predictions, labels = accelerator.gather_for_metrics((logits.argmax(dim=-1), batch["labels"]))
        correct += int((predictions == labels).sum())
        seen += int(labels.numel())
    return correct / seen, seen


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    started = time.perf_counter()
    # Accelerate: one object decides device, process rank and world size. split_batches=True
    # keeps --batch-size the GLOBAL batch: each of N processes gets batch_size / N reviews.
    accelerator = Accelerator(dataloader_config=DataLoaderConfiguration(split_batches=True))
    # Accelerate: say first what this run got. A launch that started only one process looks
    # like an honest one-process run from inside, so read this line.
    accelerator.print(f"world size {accelerator.num_processes}, "
                      f"{accelerator.distributed_type.value}, device {accelerator.device}")
    # Catches processes that started but did not join each other (each sees a world of 1).
    launched = int(os.environ.get("WORLD_SIZE", "1"))
    if launched != accelerator.num_processes:
        raise SystemExit(
            f"The launcher started {launched} processes, but this one sees a world of "
            f"{accelerator.num_processes} ({accelerator.distributed_type}): each would train "
            "alone on all the data. On a machine without GPUs, set ACCELERATE_USE_CPU=1 so "
            "that the processes join one group on the CPU (see notebook 11)."
        )
    if not accelerator.is_main_process:  # one copy of the logs is enough
        datasets.utils.logging.set_verbosity_error()
        transformers.utils.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    set_seed(args.seed)  # Accelerate: the same seed on every process, so all start alike

    # Accelerate: the main process goes first (builds caches, tiny stand-ins); the others
    # then find everything ready instead of all building it at once.
    with accelerator.main_process_first():
        checkpoint = lu.checkpoint(MODEL_ID)
        tokenizer = AutoTokenizer.from_pretrained(checkpoint)
        tokenized, label_names = build_datasets(args, tokenizer)
        model = AutoModelForSequenceClassification.from_pretrained(
            checkpoint,
            num_labels=len(label_names),
            id2label=dict(enumerate(label_names)),
            label2id={name: i for i, name in enumerate(label_names)},
        )

    collator = DataCollatorWithPadding(tokenizer)  # pads each batch to its own longest review
    # Reviews of similar length in the same batch: less padding (see LengthGroupedSampler).
    lengths = [len(ids) for ids in tokenized["train"]["input_ids"]]
    sampler = LengthGroupedSampler(lengths, args.batch_size)
    train_dataloader = DataLoader(tokenized["train"], batch_size=args.batch_size, sampler=sampler,
                                  collate_fn=collator)
    eval_dataloader = DataLoader(tokenized["validation"], batch_size=args.batch_size,
                                 collate_fn=collator)

    # Default: the high end of DistilBERT's usual rates (2e-5 to 1e-4), as this run is short,
    # scaled up for narrower models such as the tiny stand-in (Adam's good step size shrinks
    # as layers get wider).
    lr = args.lr if args.lr is not None else 1e-4 * 768 / model.config.dim
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    # With split_batches=True one optimizer step consumes one global batch, whatever the
    # number of processes, so the schedule counts global batches.
    num_training_steps = args.epochs * len(train_dataloader)
    # Linear decay to 0, as transformers' get_scheduler("linear") without warm-up; torch's
    # LambdaLR saves every process the import of transformers' trainer utilities (seconds).
    lr_scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: max(0.0, 1.0 - step / num_training_steps))

    # Accelerate: wrap everything for this device and world size; no .to(device) anywhere.
    model, optimizer, train_dataloader, eval_dataloader, lr_scheduler = accelerator.prepare(
        model, optimizer, train_dataloader, eval_dataloader, lr_scheduler
    )

    first_batch_size = 0
    steps = 0
    ids_first_epoch = []
    history = []
    for epoch in range(args.epochs):
        model.train()
        loss_sum = torch.zeros((), device=accelerator.device)
        n_batches = 0
        for batch in train_dataloader:
            example_ids = batch.pop("example_id")  # bookkeeping, not a model input
            if epoch == 0:
                ids_first_epoch.append(example_ids)
                first_batch_size = first_batch_size or len(example_ids)
            loss = model(**batch).loss
            # Accelerate: scales the loss where needed (fp16, gradient accumulation) and calls
            # backward; the DistributedDataParallel wrapper that `prepare` added averages the
            # gradients across processes during that backward pass.
            accelerator.backward(loss)
            optimizer.step()
            lr_scheduler.step()
            optimizer.zero_grad()
            loss_sum += loss.detach()
            n_batches += 1
            steps += 1
        train_loss = (accelerator.reduce(loss_sum, "sum") / accelerator.reduce(
            torch.tensor(float(n_batches), device=accelerator.device), "sum")).item()
        accuracy, n_seen = evaluate(accelerator, model, eval_dataloader)
        history.append({"epoch": epoch + 1, "train_loss": round(train_loss, 4),
                        "eval_accuracy": accuracy})
        # Accelerate: print once (from the main process), not once per process.
        accelerator.print(f"epoch {epoch + 1}/{args.epochs}: train loss {train_loss:.3f}, "
                          f"eval accuracy {accuracy:.3f} on {n_seen} reviews")

    # Proof of what each process did: one row per process, gathered onto every process.
    per_rank = accelerator.gather(torch.tensor(
        [[accelerator.process_index, first_batch_size, steps]], device=accelerator.device)).tolist()
    all_ids = accelerator.gather(torch.cat(ids_first_epoch).to(accelerator.device)).tolist()

    # Accelerate: save once, from the main process, after every process has finished, and
    # save the plain model (unwrap_model removes the DistributedDataParallel wrapper).
    model_dir = Path(args.output_dir) / "model"
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(model_dir)
        tokenizer.save_pretrained(model_dir)

    report = {
        "world_size": accelerator.num_processes,
        "distributed_type": str(accelerator.distributed_type.value),
        "device": str(accelerator.device),
        "mixed_precision": accelerator.mixed_precision,
        "split_batches": accelerator.split_batches,
        "ranks_trained": sum(1 for _, _, n in per_rank if n > 0),
        "steps_per_rank": [n for _, _, n in per_rank],
        "per_process_batch": [b for _, b, _ in per_rank],
        "global_batch": args.batch_size,
        "train_size": args.train_size,
        "train_examples_first_epoch": len(all_ids),
        "train_examples_distinct": len(set(all_ids)),
        "epochs": args.epochs,
        "lr": lr,
        "final_lr": lr_scheduler.get_last_lr()[0],
        "history": history,
        "eval_accuracy": accuracy,
        "eval_examples_seen": n_seen,
        "eval_size": args.eval_size,
        "output_dir": str(model_dir),
        "seconds": round(time.perf_counter() - started, 1),
    }
    if accelerator.is_main_process:
        print("REPORT " + json.dumps(report), flush=True)
    accelerator.end_training()  # Accelerate: close the process group cleanly
    return report


if __name__ == "__main__":
    main()
