import json
from pathlib import Path

import nbformat
import pytest

from tests.static_rules import (
    KEYWORDS_ANYWHERE,
    KEYWORDS_IN_CALL,
    REMOVED_NAMES,
    ROOT,
    RULES,
    api_violations,
    errata_anchors,
    notebook_output_problems,
    python_of_cell,
    scan_sources,
)

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path):
    assert notebook_output_problems(path) == []


def test_the_output_rule_catches_a_notebook_with_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(1)")
    cell.outputs = [nbformat.v4.new_output("stream", text="1\n")]
    cell.execution_count = 1
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), cell]
    path = tmp_path / "bad.ipynb"
    nbformat.write(nb, path)
    assert notebook_output_problems(path) == ["bad.ipynb cell 1: has outputs",
                                              "bad.ipynb cell 1: has an execution count"]


def test_no_removed_apis_in_notebooks_package_or_scripts():
    assert scan_sources() == []


# Each old form, in the layouts that line-by-line patterns missed, with the errata entry that
# its violation must cite.
OLD_FORMS = [
    # the forms of the issue: nested calls, several lines, keyword-only tasks
    ("Accelerator(project_config=ProjectConfiguration(project_dir=str(out)), split_batches=True)",
     "accelerators-split_batches-argument"),
    ('notebook_launcher(fn, args=(str(d),), num_processes=2, mixed_precision="bf16")',
     "notebook_launchers-mixed_precision"),
    ("Trainer(model=m, args=TrainingArguments(output_dir=str(p)), tokenizer=tok)",
     "the-trainers-tokenizer-argument"),
    ("from transformers import (\n    AutoModel,\n    AdamW,\n)", "adamw-from-transformers"),
    ('pipeline(task="sentiment-analysis")', "a-pipeline-without-a-model"),
    ('pipeline("sentiment-analysis", device=0)', "a-pipeline-without-a-model"),
    # calls reached through a module or an alias, arguments over several lines
    ("accelerator = accelerate.Accelerator(\n    mixed_precision='no',\n    split_batches=True,\n)",
     "accelerators-split_batches-argument"),
    ("import accelerate as acc\nacc.notebook_launcher(train, (), 2, mixed_precision='fp16')",
     "notebook_launchers-mixed_precision"),
    ("trainer = transformers.Seq2SeqTrainer(\n    model=model,\n    tokenizer=tok,\n)",
     "the-trainers-tokenizer-argument"),
    ("clf = transformers.pipeline('text-classification')", "a-pipeline-without-a-model"),
    ("clf = pipeline()", "a-pipeline-without-a-model"),
    # removed names in every import layout
    ("from transformers import AutoModel, AdamW", "adamw-from-transformers"),
    ("from transformers.optimization import AdamW as TfAdamW", "adamw-from-transformers"),
    ("import transformers\noptimizer = transformers.AdamW(model.parameters())",
     "adamw-from-transformers"),
    ("import transformers as tf\noptimizer = tf.optimization.AdamW(params)",
     "adamw-from-transformers"),
    ("from datasets import load_metric", "load_metric"),
    ("import datasets\nmetric = datasets.load_metric('accuracy')", "load_metric"),
    ('metric = evaluate.load("accuracy")', "evaluateload"),
    ("import evaluate as ev\nmetric = ev.load('f1')", "evaluateload"),
    ("from evaluate import load", "evaluateload"),
    # keyword arguments at any depth, and as keys of a settings dict
    ('TrainingArguments(output_dir="x", evaluation_strategy="epoch")', "evaluation_strategy"),
    ("trainer = Trainer(model, TrainingArguments('x',\n    evaluation_strategy='steps'))",
     "evaluation_strategy"),
    ("settings = {'evaluation_strategy': 'epoch'}\nTrainingArguments('x', **settings)",
     "evaluation_strategy"),
    ("trainer = Trainer(model=model, args=args, tokenizer=tokenizer)",
     "the-trainers-tokenizer-argument"),
    ("accelerator = Accelerator(mixed_precision='fp16', split_batches=True)",
     "accelerators-split_batches-argument"),
    ("TrainingArguments('x', no_cuda=True)", "no_cuda"),
    ("TrainingArguments('x', overwrite_output_dir=True)", "overwrite_output_dir"),
    ("TrainingArguments('x', logging_dir='logs')", "logging_dir"),
    ("TrainingArguments('x', group_by_length=True)", "group_by_length"),
    ("classifier(texts, return_all_scores=True)", "return_all_scores"),
    ("model.save_pretrained(path, save_function=accelerator.save)", "save_function"),
    ("AutoModel.from_pretrained(checkpoint, use_auth_token=True)", "use_auth_token"),
    ("AutoModel.from_pretrained(name, trust_remote_code=True)", "trust_remote_code"),
    ("load_dataset('x', trust_remote_code=True)", "trust_remote_code"),
    # owner-less ids, as string constants wherever they are passed or kept
    ('AutoModel.from_pretrained("distilbert-base-cased")', "owner-less-checkpoint-ids"),
    ("AutoModelForCausalLM.from_pretrained('distilgpt2')", "owner-less-checkpoint-ids"),
    ("settings = {'model': 'gpt2'}", "owner-less-checkpoint-ids"),  # a value is an id
    ("checkpoint = 'distilbert-base-uncased-finetuned-sst-2-english'",
     "owner-less-checkpoint-ids"),
    ("pipeline('text-generation', model='gpt2')", "owner-less-checkpoint-ids"),
    ("CHECKPOINTS = ['bert-base-uncased', 'roberta-base']", "owner-less-checkpoint-ids"),
]


@pytest.mark.parametrize(("snippet", "entry"), OLD_FORMS)
def test_each_old_form_is_caught_with_its_errata_entry(snippet, entry):
    found = api_violations(snippet)
    assert found, snippet
    assert all(f"See ERRATA.md#{entry}" in v for v in found), found


@pytest.mark.parametrize("snippet", [
    'TrainingArguments(output_dir="x", eval_strategy="epoch")',
    "trainer = Trainer(model=model, args=args, processing_class=tokenizer)",
    "Trainer(model=m, args=TrainingArguments(output_dir=str(p)), processing_class=tok)",
    "tokenizer = AutoTokenizer.from_pretrained(checkpoint)",
    "from torch.optim import AdamW",
    "import torch\noptimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)",
    "from transformers import (\n    AutoModel,\n    get_linear_schedule_with_warmup,\n)",
    "accelerator = Accelerator(dataloader_config=DataLoaderConfiguration(split_batches=True))",
    "accelerator = Accelerator(\n    project_config=ProjectConfiguration(project_dir=str(out)),\n"
    "    dataloader_config=DataLoaderConfiguration(split_batches=True),\n)",
    'AutoModel.from_pretrained("distilbert/distilbert-base-cased")',
    "AutoModelForCausalLM.from_pretrained('openai-community/gpt2')",
    'pipeline("sentiment-analysis", model=checkpoint)',
    'pipeline(task="sentiment-analysis", model=checkpoint, device=0)',
    "pipeline('text-generation', checkpoint)",
    "pipeline('fill-mask', **pipeline_kwargs)",  # what **kwargs holds is unknown: not flagged
    "TrainingArguments('x', train_sampling_strategy='group_by_length')",
    "TrainingArguments('x', use_cpu=True)",
    "classifier(texts, top_k=None)",
    "notebook_launcher(train, num_processes=2)",
    "model.save_pretrained(path, is_main_process=accelerator.is_main_process)",
    "AutoModel.from_pretrained(checkpoint, token=True)",
    "AutoModel.from_pretrained(checkpoint, trust_remote_code=False)",
    "if config.model_type == 'gpt2':\n    print('a decoder')",  # a model type, not an id
    "SIZES = {'gpt2': {'n_embd': 32}}",  # a dict key names a model type, not a checkpoint
    "def load_metric(name):\n    return name",  # our own function of that name
    "result = trainer.evaluate()\nstate = json.load(f)",
])
def test_working_forms_pass(snippet):
    assert api_violations(snippet) == []


def test_a_violation_names_its_line_what_to_write_and_the_errata_entry():
    [message] = api_violations("import torch\n\nTrainingArguments(\n    'x',\n"
                               "    evaluation_strategy='epoch',\n)")
    assert message.startswith("line 5: TrainingArguments(..., evaluation_strategy=...): "), message
    assert "raises TypeError" in message
    assert "Write TrainingArguments(eval_strategy=...) instead." in message
    assert message.endswith("See ERRATA.md#evaluation_strategy")
    [legacy] = api_violations("m = AutoModel.from_pretrained('distilgpt2')")
    assert "Write 'distilbert/distilgpt2' instead" in legacy


def test_source_that_does_not_parse_is_reported_not_skipped():
    [message] = api_violations("Trainer(model=m,\n    tokenizer=tok\n")
    assert message.startswith("line 1: does not parse as Python"), message


def test_every_rule_cites_an_entry_that_is_on_the_errata_page():
    anchors = errata_anchors()
    cited = ({*KEYWORDS_ANYWHERE.values(), *KEYWORDS_IN_CALL.values(), *REMOVED_NAMES.values(),
              "trust_remote_code", "a-pipeline-without-a-model", "owner-less-checkpoint-ids"})
    assert cited == set(RULES), "each rule is used, and only rules are cited"
    assert [entry for entry in RULES if entry not in anchors] == []


def test_the_anchor_check_notices_a_missing_entry(tmp_path):
    page = tmp_path / "ERRATA.md"
    page.write_text("# Errata\n\n### `evaluation_strategy`\n\n### The `Trainer`'s `tokenizer` "
                    "argument\n")
    assert errata_anchors(page) == ["errata", "evaluation_strategy",
                                    "the-trainers-tokenizer-argument"]
    assert "no_cuda" not in errata_anchors(page)


# ----------------------------------------------------------------------------- IPython syntax


def test_python_of_cell_neutralises_magics_line_for_line():
    cell = ("%pip install -q transformers\n"
            "!ls outputs\n"
            "files = !ls\n"
            "%time trainer = Trainer(model=m, tokenizer=tok)\n"
            "%timeit -n 3 f()\n"
            "model?\n"
            "for i in range(2):\n"
            "    %env X=1\n")
    python = python_of_cell(cell)
    assert python.split("\n") == ["pass", "pass", "files = None",
                                  "trainer = Trainer(model=m, tokenizer=tok)", "f()", "pass",
                                  "for i in range(2):", "    pass", ""]
    [message] = api_violations(python)  # the code inside %time is still checked
    assert message.startswith("line 4: Trainer(..., tokenizer=...)")


def test_python_of_cell_keeps_python_cell_magics_and_skips_others():
    assert python_of_cell("%%time\nfrom transformers import AdamW") == \
        "\nfrom transformers import AdamW"
    assert python_of_cell("%%writefile train.py\nfrom transformers import AdamW") == \
        "\nfrom transformers import AdamW"
    assert python_of_cell("%%bash\npip install transformers==4.30 && echo done") is None
    assert python_of_cell("%%writefile notes.txt\nnot python at all") is None


def _notebook(tmp_path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "99_bad.ipynb")
    return scan_sources(tmp_path)


def test_a_broken_notebook_is_reported_with_its_cell_and_line(tmp_path):
    problems = _notebook(
        tmp_path,
        nbformat.v4.new_markdown_cell("Older tutorials use `evaluation_strategy`."),
        nbformat.v4.new_code_cell("%pip install -q transformers\n"
                                  "from transformers import (\n    AutoModel,\n    AdamW,\n)"),
        nbformat.v4.new_code_cell("%%bash\necho 'from transformers import AdamW'"),
    )
    assert len(problems) == 1, problems
    assert problems[0].startswith("99_bad.ipynb cell 1, line 2: from transformers import AdamW")


def test_a_notebook_cell_that_does_not_parse_is_reported(tmp_path):
    problems = _notebook(tmp_path, nbformat.v4.new_code_cell("x = 1"),
                         nbformat.v4.new_code_cell("def f(:\n    pass"))
    assert len(problems) == 1 and problems[0].startswith(
        "99_bad.ipynb cell 1, line 1: does not parse as Python"), problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_anatomy(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    number = path.name[:2]
    first = "".join(cells[0]["source"])
    assert first.startswith(f"# {number} · "), "title: '# NN · Title'"
    setup = next(c for c in cells if c["cell_type"] == "code"
                 and "colab-setup" not in c.get("metadata", {}).get("tags", []))
    assert "lu.setup()" in "".join(setup["source"]), \
        "the first code cell (after the Colab set-up cell) calls lu.setup()"
    code = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    unanswered = [c for c in code if "= ...  # YOUR CODE HERE" in c or "...  # YOUR CODE" in c]
    solutions = [c for c in cells if "solution" in c.get("metadata", {}).get("tags", [])]
    assert len(unanswered) >= 2, "at least two exercises with a `...` answer to fill in"
    assert len(solutions) >= 2, "each exercise has a solution cell tagged 'solution'"
    for cell in solutions:
        assert cell["metadata"].get("jupyter", {}).get("source_hidden"), "solutions start hidden"
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "## Summary" in markdown or "## Summary" in markdown.replace("##  ", "## ")


def test_every_notebook_points_to_the_errata_page():
    """The course's own page of what changed, linked from every notebook (a clone has it)."""
    root = Path(__file__).resolve().parents[1]
    assert (root / "ERRATA.md").is_file()
    for nb in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        markdown = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        assert "](../ERRATA.md)" in markdown, nb.name
