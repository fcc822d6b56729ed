"""lecture_utils.training (output folder, crash-safe saves) and the training plots."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import matplotlib
import pytest

from lecture_utils import plots, training

matplotlib.use("Agg")


@pytest.fixture
def out_root(tmp_path, monkeypatch):
    monkeypatch.setenv("LECTURE_OUTPUT_DIR", str(tmp_path / "out"))
    return tmp_path / "out"


# ------------------------------------------------------------------ output_dir


def test_output_dir_lives_under_the_one_root(out_root):
    folder = training.output_dir("06_manual_training_loop")
    assert folder == out_root.resolve() / "06_manual_training_loop"
    assert folder.is_dir()


def test_output_dir_defaults_to_outputs_in_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("LECTURE_OUTPUT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert training.output_dir("x") == tmp_path.resolve() / "outputs" / "x"


def test_output_dir_is_fresh_by_default_so_a_rerun_starts_clean(out_root):
    folder = training.output_dir("nb")
    (folder / "checkpoint-8").mkdir()
    (folder / "checkpoint-8" / "trainer_state.json").write_text("{}")
    assert list(training.output_dir("nb").iterdir()) == []


def test_output_dir_can_keep_what_was_there(out_root):
    folder = training.output_dir("nb")
    (folder / "keep.txt").write_text("x")
    assert (training.output_dir("nb", fresh=False) / "keep.txt").exists()


@pytest.mark.parametrize("bad", ["", "../escape", "a/b", "/abs", ".hidden", None, 7])
def test_output_dir_refuses_anything_but_a_plain_name(out_root, bad):
    with pytest.raises(ValueError, match="plain folder name"):
        training.output_dir(bad)
    assert not (out_root.parent / "escape").exists()


# ------------------------------------------------------------------ atomic_dir


def test_atomic_dir_appears_only_when_the_block_succeeds(tmp_path):
    target = tmp_path / "checkpoint-4"
    with training.atomic_dir(target) as tmp:
        (tmp / "weights.bin").write_bytes(b"1234")
        assert not target.exists()
    assert (target / "weights.bin").read_bytes() == b"1234"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-4"]  # no temporary left over


def test_a_crash_during_a_save_leaves_the_previous_checkpoint_usable(tmp_path):
    with training.atomic_dir(tmp_path / "checkpoint-4") as tmp:
        (tmp / "trainer_state.json").write_text("{}")
    with pytest.raises(RuntimeError, match="disk full"):
        with training.atomic_dir(tmp_path / "checkpoint-8") as tmp:
            (tmp / "half-written.bin").write_bytes(b"12")
            raise RuntimeError("disk full")
    assert not (tmp_path / "checkpoint-8").exists()
    assert training.latest_checkpoint(tmp_path) == tmp_path / "checkpoint-4"
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-4"]


def test_a_killed_process_leaves_only_an_ignored_temporary_folder(tmp_path):
    """A hard kill (no exception handling at all) mid-save: the old checkpoint still wins."""
    with training.atomic_dir(tmp_path / "checkpoint-4") as tmp:
        (tmp / "trainer_state.json").write_text("{}")
    script = textwrap.dedent(f"""
        import os
        from lecture_utils import training
        with training.atomic_dir({str(tmp_path / "checkpoint-8")!r}) as tmp:
            (tmp / "trainer_state.json").write_text("{{}}")
            os._exit(9)
    """)
    result = subprocess.run([sys.executable, "-c", script], env=os.environ.copy())
    assert result.returncode == 9
    assert not (tmp_path / "checkpoint-8").exists()
    assert training.latest_checkpoint(tmp_path) == tmp_path / "checkpoint-4"


def test_atomic_dir_replaces_an_existing_folder_whole(tmp_path):
    target = tmp_path / "best_model"
    with training.atomic_dir(target) as tmp:
        (tmp / "old.txt").write_text("old")
    with training.atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["best_model"]


# ------------------------------------------------------------------ latest_checkpoint


def _checkpoint(folder, step, marker="trainer_state.json"):
    path = folder / f"checkpoint-{step}"
    path.mkdir()
    if marker:
        (path / marker).write_text("{}")
    return path


def test_latest_checkpoint_orders_by_step_number_not_by_name(tmp_path):
    _checkpoint(tmp_path, 8)
    newest = _checkpoint(tmp_path, 16)
    _checkpoint(tmp_path, 9)
    assert training.latest_checkpoint(tmp_path) == newest


def test_latest_checkpoint_skips_a_save_that_was_cut_short(tmp_path):
    done = _checkpoint(tmp_path, 8)
    _checkpoint(tmp_path, 16, marker=None)  # the Trainer died before trainer_state.json
    (tmp_path / "checkpoint-24.tmp").mkdir()
    (tmp_path / "runs").mkdir()
    assert training.latest_checkpoint(tmp_path) == done


def test_latest_checkpoint_with_a_custom_marker(tmp_path):
    _checkpoint(tmp_path, 8)  # a Trainer checkpoint, no training_state.pt
    ours = _checkpoint(tmp_path, 4, marker="training_state.pt")
    assert training.latest_checkpoint(tmp_path, marker="training_state.pt") == ours


def test_latest_checkpoint_is_none_when_nothing_was_saved(tmp_path):
    assert training.latest_checkpoint(tmp_path) is None
    (tmp_path / "runs").mkdir()  # other folders are not checkpoints
    (tmp_path / "checkpoint-4.tmp").mkdir()
    assert training.latest_checkpoint(tmp_path) is None


def test_latest_checkpoint_of_notebook_06s_folder_names_the_marker_to_pass(tmp_path):
    """Checkpoints exist, none is complete for the default marker: say so, never None."""
    for step in (4, 8):
        _checkpoint(tmp_path, step, marker="training_state.pt")  # notebook 06's own format
    with pytest.raises(training.IncompleteCheckpointsError) as info:
        training.latest_checkpoint(tmp_path)
    message = str(info.value)
    assert "checkpoint-4, checkpoint-8" in message
    assert "'trainer_state.json'" in message
    assert "marker='training_state.pt'" in message
    assert isinstance(info.value, FileNotFoundError)  # what callers may already catch


def test_latest_checkpoint_when_every_save_was_cut_short(tmp_path):
    _checkpoint(tmp_path, 4, marker=None)
    (tmp_path / "checkpoint-4" / "config.json").write_text("{}")
    _checkpoint(tmp_path, 12, marker=None)
    with pytest.raises(training.IncompleteCheckpointsError,
                       match=r"checkpoint-4, checkpoint-12.*none holds 'trainer_state.json'"):
        training.latest_checkpoint(tmp_path)


def test_latest_checkpoint_of_trainer_checkpoints_with_notebook_06s_marker(tmp_path):
    _checkpoint(tmp_path, 8)  # a Trainer checkpoint
    with pytest.raises(training.IncompleteCheckpointsError,
                       match="marker='trainer_state.json'"):
        training.latest_checkpoint(tmp_path, marker="training_state.pt")


@pytest.mark.parametrize("bad", ["", "sub/trainer_state.json", "..", None, 3])
def test_latest_checkpoint_refuses_a_marker_that_is_not_a_file_name(tmp_path, bad):
    _checkpoint(tmp_path, 4)
    with pytest.raises(ValueError, match="marker"):
        training.latest_checkpoint(tmp_path, marker=bad)


def test_latest_checkpoint_of_a_missing_folder_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing was saved there yet"):
        training.latest_checkpoint(tmp_path / "nope")


def test_checkpoint_step():
    assert training.checkpoint_step("out/checkpoint-120") == 120
    with pytest.raises(ValueError, match="checkpoint-<step>"):
        training.checkpoint_step("out/best_model")


# ------------------------------------------------------------------ plots


def test_plot_loss_curves_draws_both_curves_on_one_step_axis():
    fig = plots.plot_loss_curves([1, 2, 3, 4], [0.7, 0.6, 0.5, 0.4],
                                 val_steps=[2, 4], val_losses=[0.65, 0.45])
    ax = fig.axes[0]
    assert [list(line.get_xdata()) for line in ax.lines] == [[1, 2, 3, 4], [2, 4]]
    assert ax.get_xlabel() == "optimizer step"


def test_plot_loss_curves_rejects_mismatched_lengths_and_empty_input():
    with pytest.raises(ValueError, match="one x per y"):
        plots.plot_loss_curves([1, 2], [0.5])
    with pytest.raises(ValueError, match="Nothing to plot"):
        plots.plot_loss_curves([], [])
    with pytest.raises(TypeError, match="sequence of numbers"):
        plots.plot_loss_curves([1], ["a"])


LOG = [
    {"loss": 0.69, "step": 4, "epoch": 0.5},
    {"eval_loss": 0.6, "eval_accuracy": 0.8, "eval_f1": 0.7, "step": 8, "epoch": 1.0},
    {"loss": 0.4, "step": 12, "epoch": 1.5},
    {"eval_loss": 0.3, "eval_accuracy": 0.95, "eval_f1": 0.9, "step": 16, "epoch": 2.0},
    {"train_runtime": 1.0, "step": 16, "epoch": 2.0},
]


def test_plot_log_history_plots_losses_and_metrics():
    fig = plots.plot_log_history(LOG, metrics=["eval_accuracy", "eval_f1"])
    loss_ax, metric_ax = fig.axes
    assert [list(line.get_ydata()) for line in loss_ax.lines] == [[0.69, 0.4], [0.6, 0.3]]
    assert [list(line.get_ydata()) for line in metric_ax.lines] == [[0.8, 0.95], [0.7, 0.9]]


def test_plot_log_history_without_evaluations_says_so_instead_of_dropping_the_metrics():
    train_only = [e for e in LOG if "eval_loss" not in e]
    with pytest.raises(ValueError, match="no evaluation entries.*eval_strategy.*metrics=\\(\\)"):
        plots.plot_log_history(train_only)
    fig = plots.plot_log_history(train_only, metrics=())  # asking for no metric is fine
    assert len(fig.axes) == 1


def test_plot_log_history_names_a_metric_missing_from_some_evaluations():
    log = LOG + [{"eval_loss": 0.2, "step": 20, "epoch": 2.5}]  # no eval_accuracy this time
    with pytest.raises(KeyError, match="eval_accuracy.*step 20"):
        plots.plot_log_history(log, metrics=["eval_accuracy"])


def test_plot_log_history_names_the_metrics_it_has():
    with pytest.raises(KeyError, match="eval_accuracy"):
        plots.plot_log_history(LOG, metrics=["accuracy"])
    with pytest.raises(ValueError, match="Train first"):
        plots.plot_log_history([{"train_runtime": 1.0, "step": 0}])
    with pytest.raises(TypeError, match="log_history"):
        plots.plot_log_history("not a history")


def test_plot_confusion_matrix_counts_pairs():
    fig = plots.plot_confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], ["neg", "pos"])
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["1", "1", "1", "2"]
    assert "0.60" in ax.get_title()


def test_plot_confusion_matrix_explains_logits_and_bad_ids():
    with pytest.raises(ValueError, match="argmax"):
        plots.plot_confusion_matrix([0, 1], [[0.1, 0.9], [0.8, 0.2]], ["neg", "pos"])
    with pytest.raises(ValueError, match="class ids 0..1"):
        plots.plot_confusion_matrix([0, 2], [0, 1], ["neg", "pos"])
    with pytest.raises(ValueError, match="empty"):
        plots.plot_confusion_matrix([], [], ["neg", "pos"])
