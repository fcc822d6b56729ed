import json

import nbformat
import pytest

from tests.static_rules import ROOT, api_violations, notebook_output_problems, scan_sources

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


@pytest.mark.parametrize("snippet", [
    'TrainingArguments(output_dir="x", evaluation_strategy="epoch")',
    "trainer = Trainer(model=model, args=args, tokenizer=tokenizer)",
    "trainer = Trainer(model=model, args=TrainingArguments('x'), tokenizer=tok)",
    "from transformers import AutoModel, AdamW",
    "from datasets import load_metric",
    'metric = evaluate.load("accuracy")',
    "accelerator = Accelerator(split_batches=True)",
    "accelerator = Accelerator(mixed_precision='fp16', split_batches=True)",
    "TrainingArguments('x', no_cuda=True)",
    "TrainingArguments('x', overwrite_output_dir=True)",
    "TrainingArguments('x', logging_dir='logs')",
    "AutoModel.from_pretrained(name, trust_remote_code=True)",
    'AutoModel.from_pretrained("distilbert-base-cased")',
    "AutoModelForCausalLM.from_pretrained('distilgpt2')",
    'pipeline("sentiment-analysis")',
    "TrainingArguments('x', group_by_length=True)",
    'classifier(texts, return_all_scores=True)',
    "model.save_pretrained(path, save_function=accelerator.save)",
    "notebook_launcher(train, num_processes=2, mixed_precision='bf16')",
])
def test_each_removed_api_is_caught(snippet):
    assert api_violations(snippet), snippet


@pytest.mark.parametrize("snippet", [
    'TrainingArguments(output_dir="x", eval_strategy="epoch")',
    "trainer = Trainer(model=model, args=args, processing_class=tokenizer)",
    "tokenizer = AutoTokenizer.from_pretrained(checkpoint)",
    "from torch.optim import AdamW",
    "accelerator = Accelerator(dataloader_config=DataLoaderConfiguration(split_batches=True))",
    'AutoModel.from_pretrained("distilbert/distilbert-base-cased")',
    'pipeline("sentiment-analysis", model=checkpoint)',
    "TrainingArguments('x', train_sampling_strategy='group_by_length')",
    "classifier(texts, top_k=None)",
    "notebook_launcher(train, num_processes=2)",
])
def test_working_forms_pass(snippet):
    assert api_violations(snippet) == []


def test_a_broken_notebook_is_reported_with_its_cell(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Older tutorials use `evaluation_strategy`."),
                nbformat.v4.new_code_cell("from transformers import AdamW")]
    (tmp_path / "notebooks").mkdir()
    nbformat.write(nb, tmp_path / "notebooks" / "99_bad.ipynb")
    problems = scan_sources(tmp_path)
    assert len(problems) == 1 and problems[0].startswith("99_bad.ipynb cell 1:")


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
