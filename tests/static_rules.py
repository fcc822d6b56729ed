"""Static rules over the course's own files: notebooks without outputs, no removed APIs.

The API rules come from the course's errata page, ERRATA.md at the repository root: each rule
is a form that no longer works on the pinned libraries, or that runs and silently does
something else, and each violation links to the page's entry for it.

The rules read the code, not its lines: the source is parsed with :mod:`ast`, so a call, a
keyword argument or an import is found in any layout (over several lines, nested in other
calls, through ``import transformers as tf``). Notebook code cells are parsed too, once their
IPython-only lines (``%pip``, ``!cmd``, ``%%time``) are neutralised; a cell that still does
not parse is reported, never skipped. Markdown may still name an old form to say what changed.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ERRATA = "ERRATA.md"


@dataclass(frozen=True)
class Rule:
    """One entry of the errata page, as the static rules report it."""

    entry: str  # the entry's anchor on ERRATA.md (GitHub's slug of its heading)
    today: str  # what the old form does on the pinned libraries
    fix: str  # what to write instead

    @property
    def link(self) -> str:
        return f"{ERRATA}#{self.entry}"


RULES: dict[str, Rule] = {rule.entry: rule for rule in [
    Rule("owner-less-checkpoint-ids",
         "is a legacy alias: the Hub redirects it, but the cache keeps it apart from the "
         "canonical id, so offline it is not found",
         "the canonical owner/name id"),
    Rule("a-pipeline-without-a-model",
         "picks a default checkpoint, downloads it and logs a warning",
         "pipeline(task, model=...) with a named model"),
    Rule("trust_remote_code",
         "runs Python code from the model's repository (datasets 4+ ignores it)",
         "nothing: leave trust_remote_code off (the course's models need no code)"),
    Rule("use_auth_token", "raises TypeError since transformers 5.0",
         "token=... (or log in once with `hf auth login`)"),
    Rule("load_metric", "was removed in datasets 3.0 (ImportError)",
         "a metric computed locally (NumPy on the predictions)"),
    Rule("evaluateload",
         "is not in the course's environment, and downloads the metric's code at run time",
         "a metric computed locally (NumPy on the predictions)"),
    Rule("adamw-from-transformers", "was removed in transformers 4.50 (ImportError)",
         "torch.optim.AdamW"),
    Rule("evaluation_strategy", "raises TypeError since transformers 4.51",
         "TrainingArguments(eval_strategy=...)"),
    Rule("no_cuda", "raises TypeError since transformers 5.0", "TrainingArguments(use_cpu=True)"),
    Rule("overwrite_output_dir", "raises TypeError since transformers 5.0",
         "nothing: drop the argument (a fresh output folder, or resume_from_checkpoint)"),
    Rule("logging_dir", "raises TypeError since transformers 5.15",
         "nothing: drop the argument (TensorBoard logs go under output_dir, or set "
         "TENSORBOARD_LOGGING_DIR)"),
    Rule("group_by_length", "raises TypeError since transformers 5.2",
         "TrainingArguments(train_sampling_strategy='group_by_length')"),
    Rule("the-trainers-tokenizer-argument", "raises TypeError since transformers 5.0",
         "Trainer(processing_class=tokenizer)"),
    Rule("save_function", "is silently ignored since transformers 5.0",
         "save_pretrained(path, is_main_process=...) without save_function"),
    Rule("return_all_scores", "is silently ignored since transformers 5.0",
         "top_k=None (every label's score)"),
    Rule("accelerators-split_batches-argument", "is silently ignored since accelerate 1.0",
         "Accelerator(dataloader_config=DataLoaderConfiguration(split_batches=True))"),
    Rule("notebook_launchers-mixed_precision", "is silently ignored (accelerate 1.15)",
         "Accelerator(mixed_precision=...) inside the launched function"),
]}

# A keyword argument that is wrong in whatever call it appears (and as a string key of a dict
# literal, the way settings are often collected before `TrainingArguments(**settings)`).
KEYWORDS_ANYWHERE = {
    "evaluation_strategy": "evaluation_strategy",
    "no_cuda": "no_cuda",
    "overwrite_output_dir": "overwrite_output_dir",
    "logging_dir": "logging_dir",
    "group_by_length": "group_by_length",
    "return_all_scores": "return_all_scores",
    "save_function": "save_function",
    "use_auth_token": "use_auth_token",
}

# A keyword argument that is wrong in calls of one function or class, however it is reached
# (`Accelerator(...)`, `accelerate.Accelerator(...)`). A name ending in "Trainer" covers
# Trainer's subclasses (Seq2SeqTrainer, ...).
KEYWORDS_IN_CALL = {
    ("Trainer", "tokenizer"): "the-trainers-tokenizer-argument",
    ("Accelerator", "split_batches"): "accelerators-split_batches-argument",
    ("notebook_launcher", "mixed_precision"): "notebook_launchers-mixed_precision",
}

# Names that are gone (or that the course does not use), as (package, name): found in any
# import layout and as an attribute (`transformers.AdamW`, `tf.optimization.AdamW`).
REMOVED_NAMES = {
    ("transformers", "AdamW"): "adamw-from-transformers",
    ("datasets", "load_metric"): "load_metric",
    ("evaluate", "load"): "evaluateload",
}

# Owner-less ids of the Hub's oldest models, and the owner each now lives under.
LEGACY_IDS = [
    (re.compile(r"distilbert-base-[\w.-]+|distilgpt2"), "distilbert"),
    (re.compile(r"gpt2(-medium|-large|-xl)?"), "openai-community"),
    (re.compile(r"bert-(base|large)-[\w.-]+"), "google-bert"),
    (re.compile(r"(xlm-)?roberta-(base|large)[\w.-]*"), "FacebookAI"),
    (re.compile(r"t5-(small|base|large|3b|11b)"), "google-t5"),
]


def canonical_id(value: str) -> str | None:
    """The canonical ``owner/name`` id for a legacy owner-less id, or None if it is not one."""
    for pattern, owner in LEGACY_IDS:
        if pattern.fullmatch(value):
            return f"{owner}/{value}"
    return None


# ----------------------------------------------------------------------------- reading code


def _aliases(tree: ast.AST) -> dict[str, str]:
    """What each imported name stands for: ``{"tf": "transformers", "AdamW": "torch.optim.AdamW"}``."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    names[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``a.b.c`` for a chain of names and attributes, its first name resolved through imports."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def _callee(call: ast.Call, aliases: dict[str, str]) -> str:
    """The last part of the called name (``Accelerator`` for ``accelerate.Accelerator(...)``)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    dotted = _dotted(func, aliases)
    return dotted.rsplit(".", 1)[-1] if dotted else ""


def _removed_name(dotted: str) -> tuple[str, str] | None:
    parts = dotted.split(".")
    if len(parts) >= 2 and (parts[0], parts[-1]) in REMOVED_NAMES:
        return parts[0], parts[-1]
    return None


def _findings(tree: ast.AST) -> Iterator[tuple]:
    """(line, what was found, rule entry[, fix]) for each removed or ignored form in ``tree``.

    A fourth element, when present, is a fix more precise than the rule's own.
    """
    aliases = _aliases(tree)
    # String constants compared with `==`, and dict keys, name things (a model_type such as
    # "gpt2"); they are not checkpoint ids being passed.
    compared: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            compared.update(id(c) for c in [node.left, *node.comparators])
        elif isinstance(node, ast.Dict):
            compared.update(id(k) for k in node.keys if k is not None)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = _callee(node, aliases)
            keywords = {kw.arg: kw for kw in node.keywords if kw.arg}
            for name, kw in keywords.items():
                if name in KEYWORDS_ANYWHERE:
                    yield kw.lineno, f"{callee}(..., {name}=...)", KEYWORDS_ANYWHERE[name]
                if name == "trust_remote_code" and isinstance(kw.value, ast.Constant) \
                        and kw.value.value is True:
                    yield kw.lineno, f"{callee}(..., trust_remote_code=True)", "trust_remote_code"
            for (function, name), entry in KEYWORDS_IN_CALL.items():
                matches = callee.endswith(function) if function == "Trainer" else \
                    callee == function
                if matches and name in keywords:
                    yield keywords[name].lineno, f"{callee}(..., {name}=...)", entry
            if callee == "pipeline" and "model" not in keywords and len(node.args) < 2 \
                    and not any(kw.arg is None for kw in node.keywords):  # no **kwargs
                yield node.lineno, "pipeline(...) without model=", "a-pipeline-without-a-model"
        elif isinstance(node, ast.Dict):
            for key in node.keys:
                if isinstance(key, ast.Constant) and key.value in KEYWORDS_ANYWHERE:
                    yield key.lineno, f"{{{key.value!r}: ...}}", KEYWORDS_ANYWHERE[key.value]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                found = _removed_name(f"{node.module}.{alias.name}")
                if found:
                    yield node.lineno, f"from {node.module} import {alias.name}", \
                        REMOVED_NAMES[found]
        elif isinstance(node, ast.Attribute):
            dotted = _dotted(node, aliases)
            found = _removed_name(dotted) if dotted else None
            if found:
                yield node.lineno, dotted, REMOVED_NAMES[found]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in compared:
            canonical = canonical_id(node.value)
            if canonical:
                yield node.lineno, repr(node.value), "owner-less-checkpoint-ids", repr(canonical)


def api_violations(text: str) -> list[str]:
    """Removed or silently ignored API forms in the Python source ``text``, one line each.

    Each line names the source line, what was found, what it does today, what to write
    instead and the errata entry. Source that does not parse is reported as such (the rules
    cannot vouch for code they cannot read).
    """
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        return [f"line {error.lineno}: does not parse as Python ({error.msg}), so the API rules "
                f"cannot check it"]
    found = sorted({(line, what, entry, *fix) for line, what, entry, *fix in _findings(tree)})
    return [f"line {line}: {what}: {RULES[entry].today}. Write {fix[0] if fix else RULES[entry].fix}"
            f" instead. See {RULES[entry].link}" for line, what, entry, *fix in found]


# ----------------------------------------------------------------------------- notebooks

# Cell magics whose body is Python run as usual; other cell magics (%%bash, %%html, ...)
# hold no Python at all. %%writefile's body is Python when it writes a .py file.
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}
_CODE_LINE_MAGIC = re.compile(r"^(\s*)%(time|timeit|prun)\b((?:\s+-\w+(?:\s+\d+)?)*)\s+(?=\S)")
_ASSIGNED_MAGIC = re.compile(r"^(\s*[\w.,\s\[\]]+?=\s*)[!%].*$")
_LINE_MAGIC = re.compile(r"^(\s*)[!%].*$")
_HELP = re.compile(r"^(\s*)[\w.]+\?\??\s*$|^(\s*)\?\??[\w.]+\s*$")


def python_of_cell(code: str) -> str | None:
    """A notebook code cell as plain Python, line for line, or None if it holds no Python.

    IPython syntax is neutralised without moving any line: ``%time f()`` keeps ``f()``,
    other line magics and shell escapes (``%pip install x``, ``!ls``) become ``pass``,
    ``files = !ls`` becomes ``files = None``, ``obj?`` becomes ``pass``, and a Python cell
    magic's first line (``%%time``) is blanked. Cells of other cell magics (``%%bash``,
    ``%%writefile notes.txt``) return None.
    """
    lines = code.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        magic, *rest = lines[first].lstrip()[2:].split() or [""]
        writes_python = magic == "writefile" and bool(rest) and rest[-1].endswith(".py")
        if magic not in PYTHON_CELL_MAGICS and not writes_python:
            return None
        lines[first] = ""
    out = []
    for line in lines:
        code_magic = _CODE_LINE_MAGIC.match(line)
        if code_magic:
            line = code_magic.group(1) + line[code_magic.end():]
        elif _LINE_MAGIC.match(line):
            line = _LINE_MAGIC.match(line).group(1) + "pass"
        elif _ASSIGNED_MAGIC.match(line):
            line = _ASSIGNED_MAGIC.match(line).group(1) + "None"
        elif _HELP.match(line):
            match = _HELP.match(line)
            line = (match.group(1) or match.group(2) or "") + "pass"
        out.append(line)
    return "\n".join(out)


def notebook_code(path: Path) -> list[tuple[int, str]]:
    """(cell index, source) of each code cell of the notebook at ``path``."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(i, "".join(c["source"])) for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "code"]


def scan_sources(root: Path = ROOT) -> list[str]:
    """Every API violation in the notebooks' code cells, the package and the scripts."""
    problems = []
    for nb in sorted((root / "notebooks").glob("*.ipynb")):
        for i, code in notebook_code(nb):
            source = python_of_cell(code)
            if source is not None:
                problems += [f"{nb.name} cell {i}, {v}" for v in api_violations(source)]
    for folder in ("lecture_utils", "scripts", "notebooks"):
        for py in sorted((root / folder).rglob("*.py")):
            problems += [f"{py.relative_to(root)}, {v}" for v in
                         api_violations(py.read_text(encoding="utf-8"))]
    return problems


def notebook_output_problems(path: Path) -> list[str]:
    """One line per code cell of ``path`` committed with outputs or an execution count."""
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


# ----------------------------------------------------------------------------- the errata page


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, '-' for ' '."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def errata_anchors(path: Path = ROOT / ERRATA) -> list[str]:
    """The anchors of every heading on the errata page."""
    return [github_anchor(line.lstrip("#")) for line in path.read_text(encoding="utf-8")
            .splitlines() if re.match(r"#{1,6} ", line)]
