"""notebooks/train_accelerate.py and the Accelerate facts notebook 11 teaches, checked for real.

The script runs as two CPU processes (gloo, loopback only, as in CI's network namespace) and as
one process on the same data; the launcher pitfalls the notebook describes are pinned here
too, so that a new Accelerate release that changes them makes this file fail.
"""

from __future__ import annotations

import importlib.util
import json
import shlex
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import lecture_utils as lu
from lecture_utils.launch import CommandError, run_command

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SCRIPT = NOTEBOOKS / "train_accelerate.py"
CONFIGS = NOTEBOOKS / "accelerate_configs"
CPU_CONFIG = CONFIGS / "cpu_2_processes.yaml"
LAUNCH = [sys.executable, "-m", "accelerate.commands.launch"]
# Small and quick, and an eval size that does not fill the last batch (30 = 16 + 14), so
# that gather_for_metrics has padding to drop.
SUBSET = ["--train-size", "128", "--eval-size", "30", "--max-words", "50", "--epochs", "3",
          "--batch-size", "16"]
HAS_GPU = torch.cuda.is_available()

pytestmark = pytest.mark.slow


def _env(**extra: str) -> dict[str, str]:
    # One thread per process: on two shared cores, more threads only wait for each other.
    return {"OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", **extra}


def _load_script_module():
    spec = importlib.util.spec_from_file_location("train_accelerate", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The script on two CPU processes and on one, same data; their reports."""
    lu.checkpoint("distilbert/distilbert-base-uncased")  # build the tiny stand-in once, here
    out = tmp_path_factory.mktemp("accelerate")
    two = run_command([*LAUNCH, "--config_file", str(CPU_CONFIG), str(SCRIPT), *SUBSET,
                       "--output-dir", str(out / "two")],
                      env=_env(ACCELERATE_USE_CPU="1"), cwd=NOTEBOOKS, echo=False, timeout=240)
    one = run_command([sys.executable, str(SCRIPT), *SUBSET, "--output-dir", str(out / "one")],
                      env=_env(), cwd=NOTEBOOKS, echo=False, timeout=240)
    assert two.report is not None, two.output[-3000:]
    assert one.report is not None, one.output[-3000:]
    return two.report, one.report


def test_two_processes_form_one_world(runs):
    two, _ = runs
    assert two["world_size"] == 2
    assert two["distributed_type"] == "MULTI_CPU"
    assert two["device"].startswith("cpu")
    assert two["ranks_trained"] == 2  # both ranks took optimizer steps
    assert two["steps_per_rank"][0] == two["steps_per_rank"][1] > 0


def test_split_batches_gives_each_process_half_of_the_global_batch(runs):
    two, _ = runs
    assert two["split_batches"] is True
    assert two["global_batch"] == 16
    assert two["per_process_batch"] == [8, 8]
    assert two["steps_per_rank"] == [3 * 8, 3 * 8]  # one step per global batch of 16
    assert two["final_lr"] == 0.0  # the linear schedule ends exactly at the last step


def test_the_length_grouped_sampler_is_sharded_correctly(runs):
    two, _ = runs
    # First epoch, both processes together: every training review exactly once.
    assert two["train_examples_first_epoch"] == two["train_examples_distinct"] == 128


def test_gather_for_metrics_counts_every_eval_review_once(runs):
    two, one = runs
    assert two["eval_examples_seen"] == two["eval_size"] == 30
    assert one["eval_examples_seen"] == 30


def test_one_process_on_the_same_data_reaches_comparable_accuracy(runs):
    two, one = runs
    assert one["world_size"] == 1 and one["distributed_type"] == "NO"
    assert one["per_process_batch"] == [16] and one["steps_per_rank"] == [24]
    assert two["eval_accuracy"] >= 0.9 and one["eval_accuracy"] >= 0.9
    assert abs(two["eval_accuracy"] - one["eval_accuracy"]) <= 0.1


def test_the_saved_model_reloads_and_predicts(runs):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    two, _ = runs
    folder = Path(two["output_dir"])
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    model = AutoModelForSequenceClassification.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert model.config.id2label == {0: "neg", 1: "pos"}
    texts = ["A wonderful film, moving and beautifully acted.",
             "Dull, badly written and far too long. A waste of time."]
    with torch.no_grad():
        logits = model(**tokenizer(texts, padding=True, return_tensors="pt")).logits
    assert logits.shape == (2, 2)
    assert [model.config.id2label[int(i)] for i in logits.argmax(dim=-1)] == ["pos", "neg"]


# -- the launcher pitfalls the notebook describes ------------------------------------------

PROBE = textwrap.dedent("""
    import json
    from accelerate import Accelerator

    accelerator = Accelerator()
    print("STARTED", accelerator.process_index, flush=True)
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        print("REPORT " + json.dumps({"world_size": accelerator.num_processes,
                                      "distributed_type": accelerator.distributed_type.value}))
""")


def test_cpu_flag_with_two_processes_starts_only_one(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    result = run_command([*LAUNCH, "--cpu", "--num_processes", "2", "--num_machines", "1",
                          "--mixed_precision", "no", "--dynamo_backend", "no", str(probe)],
                         env=_env(), echo=False, timeout=120)
    assert result.output.count("STARTED") == 1
    assert result.report == {"world_size": 1, "distributed_type": "NO"}


@pytest.mark.skipif(HAS_GPU, reason="with a GPU the processes would use it")
def test_without_accelerate_use_cpu_the_script_refuses_to_train_alone(tmp_path, monkeypatch):
    monkeypatch.delenv("ACCELERATE_USE_CPU", raising=False)
    with pytest.raises(CommandError) as info:
        run_command([*LAUNCH, "--config_file", str(CPU_CONFIG), str(SCRIPT), *SUBSET,
                     "--output-dir", str(tmp_path)], env=_env(), cwd=NOTEBOOKS, echo=False,
                    timeout=240)
    assert "The launcher started 2 processes, but this one sees a world of 1" in info.value.output
    assert not (tmp_path / "model").exists()


NOTEBOOK_LAUNCHER = textwrap.dedent("""
    import json, os, socket, sys
    from pathlib import Path
    from accelerate import Accelerator, notebook_launcher

    def record(folder, cpu):
        accelerator = Accelerator(cpu=cpu)
        name = f"cpu={cpu}-local_rank={os.environ['LOCAL_RANK']}.json"
        Path(folder, name).write_text(json.dumps({
            "world_size": accelerator.num_processes, "rank": accelerator.process_index,
            "mixed_precision": accelerator.mixed_precision}))

    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return str(s.getsockname()[1])

    folder = sys.argv[1]
    notebook_launcher(record, args=(folder, True), num_processes=2, mixed_precision="bf16",
                      use_port=free_port())
    if sys.argv[2] == "yes":
        notebook_launcher(record, args=(folder, False), num_processes=2, use_port=free_port())
""")


def test_notebook_launcher_needs_cpu_true_and_ignores_its_mixed_precision(tmp_path):
    script = tmp_path / "launch.py"
    script.write_text(NOTEBOOK_LAUNCHER)
    run_command([sys.executable, str(script), str(tmp_path), "no" if HAS_GPU else "yes"],
                env=_env(), echo=False, timeout=120)
    seen = {p.stem: json.loads(p.read_text()) for p in tmp_path.glob("*.json")}
    with_cpu = [seen[f"cpu=True-local_rank={i}"] for i in range(2)]
    assert [r["rank"] for r in with_cpu] == [0, 1]
    assert all(r["world_size"] == 2 for r in with_cpu)
    # notebook_launcher(mixed_precision="bf16") sets MIXED_PRECISION, which nothing reads.
    assert all(r["mixed_precision"] == "no" for r in with_cpu)
    if not HAS_GPU:  # without cpu=True: two separate runs of world size 1
        without = [seen[f"cpu=False-local_rank={i}"] for i in range(2)]
        assert all(r["world_size"] == 1 and r["rank"] == 0 for r in without)


# -- the config files -----------------------------------------------------------------------

CONFIG_FILES = sorted(CONFIGS.glob("*.yaml"))


def test_there_are_four_example_configs():
    assert [p.name for p in CONFIG_FILES] == [
        "cpu_2_processes.yaml", "multi_gpu_one_machine.yaml", "multi_gpu_two_machines.yaml",
        "one_gpu.yaml"]


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_each_config_loads_with_accelerates_own_loader(path):
    from accelerate.commands.config.config_args import ClusterConfig, load_config_from_file

    config = load_config_from_file(str(path))  # raises on keys that ClusterConfig lacks
    assert isinstance(config, ClusterConfig)
    assert config.mixed_precision in {"no", "fp16", "bf16"}  # a string, not YAML's False
    assert isinstance(config.use_cpu, bool) and config.num_processes >= 1
    assert config.num_processes % config.num_machines == 0


@pytest.mark.parametrize("path, multi_gpu, processes, machines", [
    ("cpu_2_processes.yaml", True, 2, 1),
    ("one_gpu.yaml", False, 1, 1),
    ("multi_gpu_one_machine.yaml", True, 4, 1),
    ("multi_gpu_two_machines.yaml", True, 8, 2),
])
def test_the_launcher_reads_each_config_as_intended(path, multi_gpu, processes, machines,
                                                     monkeypatch):
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # keeps the launcher from probing the CPUs
    args = launch_command_parser().parse_args(["--config_file", str(CONFIGS / path), "x.py"])
    args, _, _ = _validate_launch_command(args)
    assert bool(args.multi_gpu) is multi_gpu  # True: torchrun starts the processes
    assert (args.num_processes, args.num_machines) == (processes, machines)


def _header_command(path: Path) -> list[str]:
    """The `accelerate launch` command in a config's leading comment, as a list of words."""
    header = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lstrip("#").strip())
    first = next(i for i, line in enumerate(header) if "accelerate launch" in line)
    last = first
    while header[last].endswith("\\"):  # continued on the next line
        last += 1
    return shlex.split(" ".join(line.rstrip("\\") for line in header[first:last + 1]))


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: p.name)
def test_each_configs_header_command_works_as_written_from_notebooks(path):
    assert "(from notebooks/)" in path.read_text()
    words = _header_command(path)
    assert "train_accelerate.py" in words and (NOTEBOOKS / "train_accelerate.py").is_file()
    config = words[words.index("--config_file") + 1]
    assert (NOTEBOOKS / config).resolve() == path.resolve(), config  # its own path, from notebooks/
    assert "--output-dir" in words, words
    script_args = words[words.index("train_accelerate.py") + 1:]
    assert _load_script_module().parse_args(script_args).output_dir  # the script accepts them
    if path == CPU_CONFIG:
        assert words[0] == "ACCELERATE_USE_CPU=1"


def test_the_cpu_config_talks_over_loopback_on_a_free_port():
    from accelerate.commands.config.config_args import load_config_from_file

    config = load_config_from_file(str(CPU_CONFIG))
    assert config.use_cpu and config.main_process_ip == "127.0.0.1"
    assert config.main_process_port == 0  # Accelerate picks a free port


# -- the sampler ----------------------------------------------------------------------------

def _spread(batches, lengths):
    """Padding a batch needs grows with the spread of its lengths: the total over batches."""
    return sum(max(lengths[i] for i in batch) - min(lengths[i] for i in batch) for batch in batches)


def test_length_grouped_sampler_groups_lengths_and_covers_every_index():
    sampler_class = _load_script_module().LengthGroupedSampler
    lengths = [(7 * i) % 53 + 5 for i in range(100)]
    sampler = sampler_class(lengths, batch_size=8, group_batches=4)
    sampler.generator = torch.Generator().manual_seed(0)
    order = list(sampler)
    assert sorted(order) == list(range(100)) and len(sampler) == 100
    batches = [order[i:i + 8] for i in range(0, 100, 8)]
    assert len(batches[-1]) == 100 % 8  # the partial batch stays last
    unsorted = [list(range(i, min(i + 8, 100))) for i in range(0, 100, 8)]
    assert _spread(batches, lengths) < 0.5 * _spread(unsorted, lengths)
    # The same generator state gives the same order: that is what lets the processes agree.
    again = sampler_class(lengths, batch_size=8, group_batches=4)
    again.generator = torch.Generator().manual_seed(0)
    assert list(again) == order
    sampler.generator = torch.Generator().manual_seed(1)
    assert list(sampler) != order


def test_the_script_guards_against_a_silent_world_of_one():
    text = SCRIPT.read_text()
    assert 'if __name__ == "__main__":\n    main()' in text
    assert 'os.environ.get("WORLD_SIZE"' in text
