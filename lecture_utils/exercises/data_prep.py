"""Exercise checks for notebook 05 · Datasets.

Each check works out the right answer itself from the dataset, DataLoader or tokenizer it is
given, and explains the typical mistakes: taking the first rows of a split that is sorted by
label, selecting before shuffling, counting real tokens or one batch instead of the padding
of a whole pass, leaving the ``text`` or ``label`` column in, padding inside ``map``,
forgetting truncation or ``set_format("torch")``.
"""

from __future__ import annotations

from ..checks import CheckResult, as_count, exercise, fail

__all__ = ["check_subset", "check_epoch_padding", "check_model_ready"]

TITLES = (
    "Exercise 1 · A reproducible subset",
    "Exercise 2 · Padding in one epoch",
    "Exercise 3 · Model-ready columns",
)


def _require_dataset(value, what: str) -> None:
    from datasets import Dataset, DatasetDict

    if isinstance(value, Dataset):
        return
    if isinstance(value, DatasetDict):
        fail(f"Your answer is a DatasetDict (splits {list(value)}); {what} is a single split, "
             "so the answer is one Dataset.")
    if isinstance(value, dict) or hasattr(value, "keys"):
        fail(f"Your answer is a {type(value).__name__}, a dictionary of columns, not a "
             f"Dataset. Work on {what} with Dataset methods (`shuffle`, `select`, `map`): they "
             "return a Dataset and keep every row's columns together.")
    fail(f"Your answer is a {type(value).__name__}; it should be a Dataset, made from {what} "
         "with Dataset methods.")


def _texts(dataset) -> list[str]:
    return list(dataset.with_format(None)["text"])


def _split_name(split) -> str:
    name = getattr(split, "split", None)
    return f"the {name} split" if name else "the split"


def check_subset(answer, split, *, seed: int = 1111, n_rows: int = 32) -> CheckResult:
    """Exercise: ``split.shuffle(seed=seed).select(range(n_rows))``, a reproducible subset."""

    def check(value):
        where = _split_name(split)
        _require_dataset(value, where)
        missing = {"text", "label"} - set(value.column_names)
        if missing:
            fail(f"Your subset has the columns {value.column_names}; keep the original "
                 f"`text` and `label` columns (missing: {sorted(missing)}).")
        if len(value) == len(split) and n_rows != len(split):
            fail(f"Your subset has all {len(split)} rows of {where}. After shuffling, keep "
                 f"only the first {n_rows} with `select(range({n_rows}))`.")
        if len(value) != n_rows:
            fail(f"Your subset has {len(value)} rows; the task asks for {n_rows}: "
                 f"`select(range({n_rows}))` after shuffling.")
        texts = _texts(value)
        shuffled = split.shuffle(seed=seed)
        expected = _texts(shuffled.select(range(n_rows)))
        if texts == expected:
            if list(value.with_format(None)["label"]) != list(
                    shuffled.select(range(n_rows)).with_format(None)["label"]):
                fail("The texts are right but the labels are not: keep each review's own "
                     "`label`, don't change that column.")
            return
        unshuffled = _texts(split.select(range(n_rows)))
        if texts == unshuffled:
            fail(f"These are the first {n_rows} rows of {where} as it is stored. The split is "
                 "sorted by label, so they are all one class. Shuffle it first: "
                 f"`.shuffle(seed={seed})`, then `.select(...)`.")
        if sorted(texts) == sorted(unshuffled):
            fail(f"You selected before shuffling: these are the first {n_rows} rows of the "
                 f"sorted split (all one class), only in a new order. Shuffle the whole split "
                 "first, then select.")
        if sorted(texts) == sorted(expected):
            fail("You have the right rows in a different order. Keep the order that "
                 f"`shuffle(seed={seed})` gives: `select(range({n_rows}))` right after it.")
        all_shuffled = _texts(shuffled)
        for start in range(1, len(split) - n_rows + 1):
            if all_shuffled[start:start + n_rows] == texts:
                fail(f"You took rows {start} to {start + n_rows - 1} of the shuffled split. "
                     f"Take the first {n_rows}: `select(range({n_rows}))`.")
        truncated = [" ".join(text.split()[:50]) for text in expected]
        if texts == truncated:
            fail("You kept only the first 50 words. This subset keeps the full reviews "
                 "(Exercise 3 tokenizes them with truncation).")
        fail(f"The rows differ from the first {n_rows} rows of {where} shuffled with "
             f"seed={seed}. Did you shuffle {where} (not another split) with `seed={seed}`?")

    return exercise(TITLES[0], answer, check)


def check_epoch_padding(answer, dataloader) -> CheckResult:
    """Exercise: the padding tokens of one full pass over ``dataloader`` (which must not shuffle)."""
    from torch.utils.data import RandomSampler

    if isinstance(getattr(dataloader, "sampler", None), RandomSampler):
        raise ValueError("Pass a DataLoader that does not shuffle (the validation one): a "
                         "shuffled DataLoader pads different batches on every pass.")

    def check(value):
        masks = [batch["attention_mask"] for batch in dataloader]
        per_batch = [int((mask == 0).sum()) for mask in masks]
        value = as_count(value, n_parts=len(masks), per_part=(
            "You have one number per batch. The question asks for the padding of the whole "
            "pass: add them up."))
        n_padding = sum(per_batch)
        n_real = sum(int(mask.sum()) for mask in masks)
        n_positions = sum(int(mask.numel()) for mask in masks)
        n_rows = sum(int(mask.shape[0]) for mask in masks)
        if value == n_padding:
            return
        if value == n_real:
            fail(f"{value} is the number of real tokens (the 1s of the attention masks). "
                 "Padding is where the mask is 0.")
        if value == n_positions:
            fail(f"{value} is every position of every batch (rows x columns). Count only the "
                 "positions where the attention mask is 0.")
        if value in per_batch:
            fail(f"{value} is the padding of one batch only. Loop over every batch of the "
                 "DataLoader and add up their padding.")
        tokenizer = getattr(getattr(dataloader, "collate_fn", None), "tokenizer", None)
        limit = getattr(tokenizer, "model_max_length", None)
        if limit and value == n_rows * limit - n_real:
            fail(f"{value} would be the padding if every row were padded to {limit} tokens. "
                 "The collator pads each batch only to its own longest row: count the 0s of "
                 "the attention masks the DataLoader yields.")
        fail(f"{value} is not the padding of one pass. Hint: loop over the DataLoader and, for "
             "each batch, count the positions where `attention_mask` is 0; add them up.")

    return exercise(TITLES[1], answer, check)


def check_model_ready(answer, source, tokenizer) -> CheckResult:
    """Exercise: ``source`` tokenized with truncation (no padding), ``text`` removed,
    ``label`` renamed to ``labels``, in torch format."""

    def check(value):
        from datasets import Dataset

        if not isinstance(value, Dataset) and hasattr(value, "keys") \
                and "input_ids" in value.keys():
            fail("You called the tokenizer on the texts directly: that gives a BatchEncoding "
                 "of lists, not a dataset, and the labels are not in it. Tokenize inside "
                 "`test_subset.map(..., batched=True)`.")
        _require_dataset(value, "test_subset")
        if len(value) != len(source):
            fail(f"Your dataset has {len(value)} rows, test_subset has {len(source)}. "
                 "`map` keeps every row: tokenize all of them.")
        columns = set(value.column_names)
        expected = {"input_ids", "attention_mask", "labels"}
        if "input_ids" not in columns:
            fail(f"There is no `input_ids` column (columns: {value.column_names}). Map a "
                 "function that calls the tokenizer on `batch[\"text\"]` and returns its output.")
        if "text" in columns:
            fail("The `text` column is still there. The model has no `text` argument, and the "
                 "collator cannot pad strings: remove it (`remove_columns=[\"text\"]`).")
        if "label" in columns:
            fail("The column is called `label`, but the model's forward takes `labels`: "
                 "`rename_column(\"label\", \"labels\")`.")
        if "labels" not in columns:
            fail("The labels are gone. Keep them: rename `label` to `labels`, don't remove it.")
        if "token_type_ids" in columns:
            fail("The `token_type_ids` column is still there. DistilBERT's tokenizer returns it, "
                 "but the model ignores it: remove it too (`remove_columns([\"text\", "
                 "\"token_type_ids\"])` after the map).")
        if columns - expected:
            fail(f"Unexpected columns {sorted(columns - expected)}; keep only "
                 f"{sorted(expected)}.")
        if expected - columns:
            fail(f"Missing columns {sorted(expected - columns)}: keep the token ids, the "
                 "attention mask and the labels.")
        if value.format["type"] != "torch":
            fail("The columns are right, but rows still come out as Python lists: call "
                 "`set_format(\"torch\")` so the DataLoader gets tensors.")
        plain = value.with_format(None)[:]
        texts = _texts(source)
        reference = tokenizer(texts, truncation=True)
        ids, want = plain["input_ids"], reference["input_ids"]
        limit = tokenizer.model_max_length
        if ids == want:
            if plain["attention_mask"] != reference["attention_mask"]:
                fail("`input_ids` are right but `attention_mask` is not: keep the mask the "
                     "tokenizer returns.")
            if list(plain["labels"]) != list(source.with_format(None)["label"]):
                fail("The labels do not match the rows: `labels` should be test_subset's "
                     "`label` column, row for row.")
            return
        if any(len(row) > limit for row in ids):
            fail(f"Some rows are longer than `tokenizer.model_max_length` ({limit}), which the "
                 "model cannot take. Tokenize with `truncation=True`.")
        if len(ids) == len(want) and all(
                len(row) >= len(ref) and row[:len(ref)] == ref for row, ref in zip(ids, want, strict=True)):
            widths = sorted({len(row) for row in ids})
            fail(f"Your rows are padded (lengths {widths[:5]}{'...' if len(widths) > 5 else ''}"
                 "): you padded inside `map`. Leave padding to the collator "
                 "(DataCollatorWithPadding pads each batch to its own longest row).")
        fail("The token ids differ from `tokenizer(text, truncation=True)` for the rows of "
             "test_subset. Tokenize its `text` column with this tokenizer, keeping the rows "
             "in order.")

    return exercise(TITLES[2], answer, check)
