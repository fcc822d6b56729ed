"""ERRATA.md stays true: each entry's old form still does what the page says, today.

The list of cases comes from the page itself: every `### ` entry has a `- **Today:**` line
that starts with "raises `SomeError`", "is silently ignored", "warns" or "works". Each entry
has a check below, under the entry's anchor:

- for "raises `X`", the check runs the old form and the test asserts that it raises X;
- for the others, the check runs the old form and asserts what the entry describes (the
  setting is not applied, the warning is logged, the behaviour differs as stated).

An entry without a check, a check without an entry, or a "Today" line in another wording
fails the suite, so the page and this file cannot drift apart. Everything runs offline on
tiny local objects built here (a two-layer DistilBERT with the real checkpoint's
`tokenizer_config.json` and the keys of its `config.json`), in a few seconds.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.static_rules import ROOT, github_anchor

PAGE = ROOT / "ERRATA.md"
TODAY = re.compile(r"^- \*\*Today:\*\* (raises `(?P<error>\w+)`|is silently ignored|warns|works)")


@dataclass(frozen=True)
class Entry:
    anchor: str
    status: str  # "raises", "is silently ignored", "warns" or "works"
    error: str | None  # the exception's class name, for "raises"


def read_entries(path: Path = PAGE) -> list[Entry]:
    """The page's `### ` entries with the status their "Today" line gives.

    Raises ValueError for an entry whose "Today" line is missing or worded otherwise.
    """
    entries, anchor, status = [], None, None

    def close():
        if anchor is not None:
            if status is None:
                raise ValueError(f"ERRATA.md#{anchor} has no '- **Today:** raises `X` | is "
                                 "silently ignored | warns | works' line.")
            entries.append(Entry(anchor, status[0], status[1]))

    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            close()
            anchor = github_anchor(line.lstrip("#")) if line.startswith("### ") else None
            status = None
        elif anchor is not None and line.startswith("- **Today:**"):
            match = TODAY.match(line)
            if not match:
                raise ValueError(f"ERRATA.md#{anchor}: cannot read the status of {line!r}.")
            status = ("raises" if match["error"] else match[1], match["error"])
    close()
    return entries


ENTRIES = read_entries()

# ----------------------------------------------------------------------------- tiny objects

# The keys of distilbert/distilbert-base-cased's config.json (it records no dtype), with the
# sizes shrunk; its tokenizer_config.json verbatim (it names no tokenizer class).
DISTILBERT_CONFIG = {
    "activation": "gelu", "architectures": ["DistilBertForMaskedLM"], "attention_dropout": 0.1,
    "dim": 32, "dropout": 0.1, "hidden_dim": 64, "initializer_range": 0.02,
    "max_position_embeddings": 512, "model_type": "distilbert", "n_heads": 4, "n_layers": 2,
    "output_past": True, "pad_token_id": 0, "qa_dropout": 0.1, "seq_classif_dropout": 0.2,
    "sinusoidal_pos_embds": False, "tie_weights_": True, "vocab_size": 40,
}
TOKENIZER_CONFIG = {"do_lower_case": False, "model_max_length": 512}
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "movie", "was", "good", "bad",
         "great", "awful", "plot", "and", "it", ".", ",", "!"]


@dataclass
class Tiny:
    folder: Path  # a checkpoint folder laid out like the real one, with tiny weights
    tokenizer: object
    model: object  # a DistilBertForSequenceClassification, 2 labels, in eval mode
    tmp: Path


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    folder = tmp_path_factory.mktemp("distilbert")
    (folder / "config.json").write_text(json.dumps(DISTILBERT_CONFIG))
    (folder / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG))
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n")
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(
        AutoConfig.from_pretrained(folder, num_labels=2))
    model.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    config.pop("dtype", None)  # like the real file, which records none
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture
def tiny(tiny_checkpoint, tmp_path) -> Tiny:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    model = AutoModelForSequenceClassification.from_pretrained(tiny_checkpoint).eval()
    return Tiny(tiny_checkpoint, AutoTokenizer.from_pretrained(tiny_checkpoint), model, tmp_path)


@contextlib.contextmanager
def captured_log(name: str):
    """Collect what the library logger ``name`` logs inside the block (a StringIO)."""
    if name == "transformers":  # a message logged "once" earlier in this process shows again
        from transformers.utils import logging as hf_logging

        hf_logging.warning_once.cache_clear()
    logger = logging.getLogger(name)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.WARNING)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


@pytest.fixture
def fresh_accelerate_state():
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def _training_args(t: Tiny, **kwargs):
    from transformers import TrainingArguments

    return TrainingArguments(output_dir=str(t.tmp / "out"), report_to="none", use_cpu=True,
                             disable_tqdm=True, **kwargs)


def _reviews():
    from datasets import Dataset

    return Dataset.from_dict({"text": ["the movie was good", "bad plot", "great !", "awful ."],
                              "label": [1, 0, 1, 0]})


# ----------------------------------------------------------------------------- the checks
# One per entry, under its anchor. For "raises" entries the check only runs the old form.

CHECKS = {}


def check(anchor: str):
    def register(function):
        assert anchor not in CHECKS, f"two checks for {anchor}"
        CHECKS[anchor] = function
        return function
    return register


@check("owner-less-checkpoint-ids")
def _(t: Tiny):
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    # A cache holding the canonical id, as a full-mode run leaves it.
    cache = t.tmp / "hub"
    repo = cache / "models--distilbert--distilbert-base-cased"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "config.json").write_text("{}")
    found = hf_hub_download("distilbert/distilbert-base-cased", "config.json", cache_dir=cache,
                            local_files_only=True)
    assert Path(found).read_text() == "{}"
    with pytest.raises(LocalEntryNotFoundError):  # the legacy id is another cache entry
        hf_hub_download("distilbert-base-cased", "config.json", cache_dir=cache,
                        local_files_only=True)


@check("a-pipeline-without-a-model")
def _(t: Tiny):
    from transformers import pipeline

    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # the suite's setting: nothing downloads
    with captured_log("transformers") as log, contextlib.suppress(OSError):
        pipeline("sentiment-analysis")  # OSError where the default checkpoint is not cached
    assert "No model was supplied, defaulted to " \
           "distilbert/distilbert-base-uncased-finetuned-sst-2-english" in log.getvalue()


@check("trust_remote_code")
def _(t: Tiny):
    from datasets import load_dataset
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(t.folder, trust_remote_code=True)
    assert type(model).__name__ == "DistilBertForSequenceClassification"  # no code to run
    data = t.tmp / "reviews.json"
    data.write_text('{"text": "good", "label": 1}\n')
    with captured_log("datasets") as log:
        loaded = load_dataset("json", data_files=str(data), trust_remote_code=True)
    assert loaded["train"][0] == {"text": "good", "label": 1}
    assert "`trust_remote_code` is not supported anymore" in log.getvalue()


@check("use_auth_token")
def _(t: Tiny):
    from transformers import AutoModel

    AutoModel.from_pretrained(t.folder, use_auth_token=True)


@check("load_metric")
def _(t: Tiny):
    exec("from datasets import load_metric")


@check("evaluateload")
def _(t: Tiny):
    exec("import evaluate")


@check("distilberts-tokenizer-returns-token_type_ids")
def _(t: Tiny):
    import torch

    assert type(t.tokenizer).__name__ == "BertTokenizer"
    inputs = t.tokenizer(["the movie was good", "bad"], padding=True, return_tensors="pt")
    assert list(inputs) == ["input_ids", "token_type_ids", "attention_mask"]
    with torch.no_grad():
        with_them = t.model(**inputs).logits
        without = t.model(input_ids=inputs["input_ids"],
                          attention_mask=inputs["attention_mask"]).logits
    assert torch.equal(with_them, without)


@check("autoconfig-says-dtype-is-none")
def _(t: Tiny):
    import torch
    from transformers import AutoConfig

    assert "dtype" not in json.loads((t.folder / "config.json").read_text())
    assert AutoConfig.from_pretrained(t.folder).dtype is None
    assert t.model.config.dtype == torch.float32


@check("attention-weights-need-eager-attention")
def _(t: Tiny):
    import torch
    from transformers import AutoModelForSequenceClassification

    inputs = t.tokenizer("the movie was good", return_tensors="pt")
    with captured_log("transformers") as log, torch.no_grad():
        default = t.model(**inputs, output_attentions=True)
    assert t.model.config._attn_implementation == "sdpa"
    assert default.attentions == ()
    assert "does not support `output_attentions=True`" in log.getvalue()
    eager = AutoModelForSequenceClassification.from_pretrained(t.folder,
                                                               attn_implementation="eager")
    with torch.no_grad():
        attentions = eager(**inputs, output_attentions=True).attentions
    n = inputs["input_ids"].shape[1]
    assert [tuple(a.shape) for a in attentions] == [(1, 4, n, n)] * 2  # (batch, heads, q, k)


@check("a-dataset-column-is-not-a-list")
def _(t: Tiny):
    column = _reviews()["text"]
    assert not isinstance(column, list)
    assert len(t.tokenizer(list(column))["input_ids"]) == 4  # the working form
    t.tokenizer(column)


@check("adamw-from-transformers")
def _(t: Tiny):
    exec("from transformers import AdamW")


@check("evaluation_strategy")
def _(t: Tiny):
    _training_args(t, evaluation_strategy="epoch")


@check("no_cuda")
def _(t: Tiny):
    _training_args(t, no_cuda=True)


@check("overwrite_output_dir")
def _(t: Tiny):
    _training_args(t, overwrite_output_dir=True)


@check("logging_dir")
def _(t: Tiny):
    _training_args(t, logging_dir=str(t.tmp / "logs"))


@check("group_by_length")
def _(t: Tiny):
    assert _training_args(t, train_sampling_strategy="group_by_length")  # the working form
    _training_args(t, group_by_length=True)


@check("the-trainers-tokenizer-argument")
def _(t: Tiny):
    from transformers import Trainer

    Trainer(model=t.model, args=_training_args(t), tokenizer=t.tokenizer)


@check("a-collator-that-reads-raw-columns")
def _(t: Tiny):
    import torch
    from transformers import Trainer

    def collate(rows):  # tokenizes the raw text of each batch
        batch = t.tokenizer([row["text"] for row in rows], padding=True, return_tensors="pt")
        batch["labels"] = torch.tensor([row["label"] for row in rows])
        return batch

    kept = Trainer(model=t.model, train_dataset=_reviews(), data_collator=collate,
                   args=_training_args(t, max_steps=1, per_device_train_batch_size=2,
                                       remove_unused_columns=False))
    assert kept.train().global_step == 1  # the working form
    trainer = Trainer(model=t.model, train_dataset=_reviews(), data_collator=collate,
                      args=_training_args(t, max_steps=1, per_device_train_batch_size=2))
    trainer.train()


@check("save_function")
def _(t: Tiny):
    calls = []
    t.model.save_pretrained(t.tmp / "saved", save_function=lambda *a, **k: calls.append(a))
    assert calls == []
    assert (t.tmp / "saved" / "model.safetensors").is_file()


@check("inputs-longer-than-the-models-maximum")
def _(t: Tiny):
    from transformers import pipeline

    classifier = pipeline("text-classification", model=t.model, tokenizer=t.tokenizer)
    review = " ".join(["the movie was good ."] * 120)  # 600 tokens and more
    assert len(classifier(review, truncation=True)) == 1  # the working form
    classifier(review)


@check("return_all_scores")
def _(t: Tiny):
    from transformers import pipeline

    classifier = pipeline("text-classification", model=t.model, tokenizer=t.tokenizer)
    assert len(classifier("great movie", top_k=None)) == 2  # the working form: both labels
    assert classifier("great movie", return_all_scores=True) == classifier("great movie")
    assert len(classifier("great movie", return_all_scores=True)) == 1


@check("accelerators-split_batches-argument")
def _(t: Tiny):
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState
    from accelerate.utils import DataLoaderConfiguration

    try:
        assert Accelerator(cpu=True, split_batches=True).split_batches is False
        config = DataLoaderConfiguration(split_batches=True)
        assert Accelerator(cpu=True, dataloader_config=config).split_batches is True
        with pytest.raises(TypeError):
            Accelerator(cpu=True, even_batches=False)
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)


LAUNCH_SCRIPT = textwrap.dedent("""
    import json, os, sys
    from accelerate import Accelerator, notebook_launcher

    def train(report):
        accelerator = Accelerator(cpu=True)
        with open(f"{report}.{accelerator.process_index}", "w") as f:
            json.dump([accelerator.num_processes, accelerator.mixed_precision], f)

    if __name__ == "__main__":
        report = sys.argv[1]
        notebook_launcher(train, args=(report,), num_processes=2, mixed_precision="bf16")
        # The control: the variable that Accelerator does read.
        os.environ["ACCELERATE_MIXED_PRECISION"] = "bf16"
        print(json.dumps(Accelerator(cpu=True).mixed_precision))
""")


@check("notebook_launchers-mixed_precision")
def _(t: Tiny):
    script = t.tmp / "launch.py"
    script.write_text(LAUNCH_SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ACCELERATE_")}
    result = subprocess.run([sys.executable, str(script), str(t.tmp / "report")], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads((t.tmp / f"report.{rank}").read_text()) for rank in (0, 1)]
    assert ranks == [[2, "no"], [2, "no"]]  # two processes, neither in bf16
    assert json.loads(result.stdout.strip().splitlines()[-1]) == "bf16"  # the control


# ----------------------------------------------------------------------------- the tests


def test_the_page_has_entries_of_each_kind():
    statuses = {entry.status for entry in ENTRIES}
    assert statuses == {"raises", "is silently ignored", "warns", "works"}
    assert len(ENTRIES) >= 20


def test_every_entry_has_a_check_and_every_check_an_entry():
    anchors = [entry.anchor for entry in ENTRIES]
    assert len(anchors) == len(set(anchors)), "two entries with the same heading"
    assert [a for a in anchors if a not in CHECKS] == [], "entries without a check"
    assert [a for a in CHECKS if a not in anchors] == [], "checks without an entry"


def assert_raises(error: str, run, tiny: Tiny, anchor: str) -> None:
    """Fail unless ``run(tiny)`` raises an exception of class ``error`` (or a subclass)."""
    try:
        run(tiny)
    except Exception as raised:
        names = [cls.__name__ for cls in type(raised).__mro__]
        assert error in names, (f"ERRATA.md#{anchor} says the old form raises {error}; it "
                                f"raised {type(raised).__name__}: {raised}")
    else:
        pytest.fail(f"ERRATA.md#{anchor} says the old form raises {error}; it ran without "
                    "an error. Update the entry (and the static rule that cites it).")


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.anchor)
def test_the_old_form_still_does_what_the_page_says(entry, tiny, fresh_accelerate_state):
    run = CHECKS[entry.anchor]
    if entry.status == "raises":
        assert_raises(entry.error, run, tiny, entry.anchor)
    else:
        run(tiny)  # the check asserts what the entry describes


def test_reading_the_page_catches_an_unchecked_or_unreadable_entry(tmp_path):
    page = tmp_path / "ERRATA.md"
    page.write_text("# Errata\n\n## Training\n\n### `evaluation_strategy`\n\n"
                    "- **Today:** raises `TypeError`.\n\n### A new pitfall\n\n"
                    "- **Today:** raises `ValueError` when ...\n")
    entries = read_entries(page)
    assert entries == [Entry("evaluation_strategy", "raises", "TypeError"),
                       Entry("a-new-pitfall", "raises", "ValueError")]
    assert [e.anchor for e in entries if e.anchor not in CHECKS] == ["a-new-pitfall"]
    page.write_text("### `no_cuda`\n\n- **Today:** fails with TypeError.\n")
    with pytest.raises(ValueError, match="cannot read the status"):
        read_entries(page)
    page.write_text("### `no_cuda`\n\n- **Instead:** use_cpu=True.\n")
    with pytest.raises(ValueError, match="has no"):
        read_entries(page)


def test_a_raises_entry_whose_form_no_longer_raises_fails(tiny):
    """What the parametrized test does when an upgrade makes an old form work, or fail otherwise."""
    with pytest.raises(pytest.fail.Exception, match="ran without an error"):
        assert_raises("TypeError", lambda t: _training_args(t, eval_strategy="epoch"), tiny, "x")
    with pytest.raises(AssertionError, match="it raised TypeError"):
        assert_raises("ValueError", CHECKS["no_cuda"], tiny, "no_cuda")
