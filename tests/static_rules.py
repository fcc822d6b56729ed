"""Static rules over the course's own files: notebooks without outputs, no removed APIs.

The API rules come from ERRATA.md: each pattern is a form that no longer works on today's
libraries, or that runs and silently does something else. Notebook code cells, the package
and the scripts are scanned; markdown may still name an old form to say what changed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (pattern, what to write instead)
REMOVED_APIS = [
    (r"\bevaluation_strategy\b", "TrainingArguments(eval_strategy=...)"),
    (r"\bTrainer\((?:[^()]|\([^()]*\))*\btokenizer\s*=", "Trainer(processing_class=tokenizer)"),
    (r"from\s+transformers\s+import\s+[^\n]*\bAdamW\b", "torch.optim.AdamW"),
    (r"\bload_metric\b", "compute metrics locally (evaluate.load downloads at run time)"),
    (r"\bevaluate\.load\(", "compute metrics locally (evaluate.load downloads at run time)"),
    (r"\bAccelerator\((?:[^()]|\([^()]*\))*\bsplit_batches\s*=",
     "Accelerator(dataloader_config=DataLoaderConfiguration(split_batches=True))"),
    (r"\bno_cuda\s*=", "TrainingArguments(use_cpu=True)"),
    (r"\boverwrite_output_dir\s*=", "nothing: the argument is gone"),
    (r"\blogging_dir\s*=", "nothing: the argument is gone"),
    (r"trust_remote_code\s*=\s*True", "leave trust_remote_code off"),
    (r"""["'](distilbert-base-(un)?cased[\w-]*|distilgpt2|gpt2|bert-base-(un)?cased)["']""",
     "the canonical owner/name id, e.g. 'distilbert/distilbert-base-cased'"),
    (r"""pipeline\(\s*["'][\w-]+["']\s*\)""", "pipeline(task, model=...) with a named model"),
    # Found while writing notebooks 05-11 (transformers 5.23, accelerate 1.15):
    (r"\bgroup_by_length\s*=", "TrainingArguments(train_sampling_strategy='group_by_length')"),
    (r"\breturn_all_scores\s*=", "top_k=None (return_all_scores is silently ignored)"),
    (r"\bsave_function\s*=", "plain save_pretrained on the main process (save_function is "
                             "silently ignored)"),
    (r"\bnotebook_launcher\((?:[^()]|\([^()]*\))*\bmixed_precision\s*=",
     "Accelerator(mixed_precision=...) inside the launched function (notebook_launcher's "
     "mixed_precision is silently ignored)"),
]


def notebook_code(path: Path) -> list[tuple[int, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(i, "".join(c["source"])) for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "code"]


def api_violations(text: str) -> list[str]:
    """Removed or silently ignored API forms found in ``text``, with the fix for each."""
    found = []
    for pattern, fix in REMOVED_APIS:
        for m in re.finditer(pattern, text):
            found.append(f"{m.group(0)!r} -> use {fix}")
    return found


def scan_sources(root: Path = ROOT) -> list[str]:
    problems = []
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        for i, code in notebook_code(nb):
            problems += [f"{nb.name} cell {i}: {v}" for v in api_violations(code)]
    for folder in ("lecture_utils", "scripts", "notebooks"):
        for py in sorted((root / folder).rglob("*.py")):
            problems += [f"{py.relative_to(root)}: {v}" for v in
                         api_violations(py.read_text(encoding="utf-8"))]
    return problems


def notebook_output_problems(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    problems = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"{path.name} cell {i}: has outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"{path.name} cell {i}: has an execution count")
    return problems
