"""Tests for `python -m convlab`: end to end in subprocesses, errors and exit codes."""

import errno
import gzip
import json
import os
import signal
import struct
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from convlab import cli, nn
from convlab.train import resume_config

REPO = Path(__file__).resolve().parent.parent


def write_idx(path, array):
    """Write a uint8 array as a gzipped IDX file (magic 0x08 = unsigned byte)."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def prototype_digits(n, seed):
    """n noisy copies of ten fixed random 28x28 patterns, one per class."""
    prototypes = np.random.default_rng(99).random((10, 28, 28)) > 0.7
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 10
    noise = rng.random((n, 28, 28)) < 0.05
    images = (prototypes[y] ^ noise) * 255
    return images.astype(np.uint8), y.astype(np.uint8)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A folder with tiny generated MNIST-format files: 200 train, 50 test images."""
    folder = tmp_path_factory.mktemp("mnist")
    for split, n, seed in (("train", 200, 0), ("t10k", 50, 1)):
        images, labels = prototype_digits(n, seed)
        write_idx(folder / f"{split}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", labels)
    return folder


def run(*args, check_rc=None):
    """Run `python -m convlab ARGS` in a subprocess from the repository root."""
    env = dict(os.environ, PYTHONPATH=str(REPO), CONVLAB_DATA="")
    proc = subprocess.run([sys.executable, "-m", "convlab", *map(str, args)],
                          cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    return proc


def assert_one_line_error(proc, code, *fragments):
    """The process failed with `code` and a single error line, no traceback."""
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def train_args(data_dir, out, *extra):
    """Arguments of a quick training run on the tiny data set."""
    return ("train", "--data", data_dir, "--arch", "tiny", "--epochs", 2,
            "--batch-size", 20, "--lr", 0.01, "--out", out, *extra)


def test_train_evaluate_export_end_to_end(data_dir, tmp_path):
    """train writes a model, evaluate --json scores it, export writes a torch file."""
    model = tmp_path / "model.npz"
    proc = run(*train_args(data_dir, model), check_rc=0)
    assert "epoch 1/2" in proc.stdout and "epoch 2/2" in proc.stdout
    assert "val loss" in proc.stdout
    assert nn.load_model(model).extra["training"]["config"]["epochs"] == 2
    # Only the model: no checkpoint, no temporary files.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]

    proc = run("evaluate", "--model", model, "--data", data_dir, "--json", check_rc=0)
    result = json.loads(proc.stdout)
    assert 0.5 < result["accuracy"] <= 1.0
    assert len(result["per_class"]) == 10
    confusion = np.array(result["confusion"])
    assert confusion.shape == (10, 10) and confusion.sum() == 50
    assert np.trace(confusion) == round(result["accuracy"] * 50)

    proc = run("evaluate", "--model", model, "--data", data_dir, check_rc=0)
    assert "accuracy" in proc.stdout and "true\\pred" in proc.stdout

    exported = tmp_path / "net.py"
    run("export", "--format", "pytorch", "--model", model, "--out", exported,
        check_rc=0)
    assert "def build():" in exported.read_text()


def test_train_adds_generated_digits(data_dir, tmp_path):
    """train --generated N trains on the folder's digits plus N generated ones."""
    model = tmp_path / "model.npz"
    proc = run(*train_args(data_dir, model, "--generated", 40, "--val-fraction", 0),
               check_rc=0)
    assert "Training on 240 images of MNIST" in proc.stdout
    assert "and 40 generated digits" in proc.stdout
    assert nn.load_model(model).extra["training"]["train_images"] == 240


def test_ctrl_c_saves_a_checkpoint_that_resumes(data_dir, tmp_path):
    """SIGINT stops between steps, saves a checkpoint, exits 130; --resume finishes."""
    model = tmp_path / "model.npz"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    args = train_args(data_dir, model)[:-2] + ("--epochs", 1000, "--out", model)
    proc = subprocess.Popen([sys.executable, "-m", "convlab", *map(str, args)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        # The handler is in place once this line is printed.
        assert proc.stdout.readline().startswith("Training on")
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    checkpoint = tmp_path / "model.checkpoint.npz"
    assert "--resume" in stderr and "Traceback" not in stderr
    assert not model.exists()

    saved = nn.load_model(checkpoint)
    batches_per_epoch = 180 // 20   # 200 images minus a 10% validation split
    epochs = saved.step // batches_per_epoch + 1
    assert resume_config(saved).epochs == 1000
    proc = run("train", "--data", data_dir, "--resume", checkpoint,
               "--epochs", epochs, "--out", model, check_rc=0)
    assert f"epoch {epochs}/{epochs}" in proc.stdout
    assert nn.load_model(model).model is not None


def test_sigterm_saves_a_checkpoint_like_ctrl_c(data_dir, tmp_path):
    """SIGTERM during training stops between steps, saves a checkpoint, exits 130."""
    model = tmp_path / "model.npz"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    args = train_args(data_dir, model)[:-2] + ("--epochs", 1000, "--out", model)
    proc = subprocess.Popen([sys.executable, "-m", "convlab", *map(str, args)],
                            cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("Training on")
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr
    assert "--resume" in stderr and "Traceback" not in stderr
    saved = nn.load_model(tmp_path / "model.checkpoint.npz")
    assert resume_config(saved).epochs == 1000
    assert not model.exists()


def test_importing_the_cli_is_quick_and_loads_no_numpy():
    """Ctrl+C during start-up lands inside main(): the module itself imports little."""
    code = "import sys, convlab.cli; print('numpy' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.stdout.strip() == "False", proc.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_while_loading_exits_130_with_one_line(signum, monkeypatch, capsys,
                                                          tmp_path):
    """Ctrl+C or SIGTERM before training starts: "aborted", exit 130, no traceback."""
    def interrupted_load(source, *options):
        os.kill(os.getpid(), signum)
        raise AssertionError("the signal did not interrupt")

    monkeypatch.setattr(cli, "_load_data", interrupted_load)
    assert cli.main(["train", "--out", str(tmp_path / "m.npz")]) == 130
    assert capsys.readouterr().err.strip() == "convlab train: aborted"


def test_interrupt_while_parsing_exits_130(monkeypatch, capsys):
    """Ctrl+C while the options are still being read is caught too."""
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    assert cli.main(["train"]) == 130
    assert capsys.readouterr().err.strip() == "convlab: aborted"


def test_explicit_checkpoint_is_saved_after_every_epoch(data_dir, tmp_path):
    """With --checkpoint, the checkpoint after the last epoch holds every step."""
    checkpoint = tmp_path / "run.npz"
    run(*train_args(data_dir, tmp_path / "model.npz", "--checkpoint", checkpoint),
        check_rc=0)
    saved = nn.load_model(checkpoint)
    assert saved.step == 2 * (180 // 20)
    assert saved.optimizer_state is not None


def test_error_line_is_not_glued_to_the_progress_bar(data_dir, tmp_path):
    """A run that diverges to NaN prints its error on a line of its own."""
    proc = run(*train_args(data_dir, tmp_path / "m.npz", "--optimizer", "sgd",
                           "--lr", "1e30"))
    assert proc.returncode == 1
    # splitlines also splits at the carriage returns the bar uses to redraw itself.
    assert any(line.startswith("convlab train: error: Training stopped: the loss "
                               "became nan") for line in proc.stderr.splitlines())


def test_loss_explosion_saves_the_restored_weights_and_exits_1(data_dir, tmp_path):
    """Adam at lr 1: one error naming the fix, a resumable checkpoint, no model."""
    model = tmp_path / "m.npz"
    proc = run(*train_args(data_dir, model, "--lr", 1.0))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if "error:" in x]
    checkpoint = tmp_path / "m.checkpoint.npz"
    assert line.startswith("convlab train: error: The loss exploded at step")
    assert f"--resume {checkpoint} --lr 0.1" in line
    assert not model.exists()
    # At the checkpoint's lr 1 it would explode again.
    run("train", "--data", data_dir, "--resume", checkpoint, "--lr", 0.01,
        "--out", model, check_rc=0)
    assert model.exists()


def test_training_stuck_at_chance_prints_a_warning_and_goes_on(data_dir, tmp_path):
    """SGD at lr 1 sits at chance level: one warning line, the model is still saved."""
    proc = run(*train_args(data_dir, tmp_path / "m.npz", "--optimizer", "sgd",
                           "--lr", 1, "--epochs", 14), check_rc=0)   # 126 steps
    warnings = [x for x in proc.stderr.splitlines() if x.startswith("warning:")]
    assert len(warnings) == 1 and "not learning" in warnings[0]
    assert (tmp_path / "m.npz").exists()


def test_missing_data_folder_is_a_usage_error(tmp_path):
    """A --data folder that does not exist: exit 2, one line, nothing written."""
    proc = run("train", "--data", tmp_path / "nowhere", "--out", tmp_path / "m.npz")
    assert_one_line_error(proc, 2, "nowhere")
    assert list(tmp_path.iterdir()) == []


def test_folder_without_mnist_names_the_files(tmp_path):
    """An existing folder without MNIST files: exit 2 naming the files looked for."""
    proc = run("evaluate", "--model", tmp_path / "m.npz", "--data", tmp_path)
    assert_one_line_error(proc, 2, "m.npz")
    nn.save_model(tmp_path / "m.npz", nn.Sequential(nn.Flatten()))
    proc = run("evaluate", "--model", tmp_path / "m.npz", "--data", tmp_path)
    assert_one_line_error(proc, 2, "t10k-images-idx3-ubyte")


def test_damaged_data_file_fails_with_one_line(data_dir, tmp_path):
    """A truncated IDX file: exit 1 and a one-line reason."""
    for f in data_dir.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    damaged = tmp_path / "train-images-idx3-ubyte.gz"
    damaged.write_bytes(gzip.compress(gzip.decompress(damaged.read_bytes())[:1000]))
    proc = run("train", "--data", tmp_path, "--out", tmp_path / "m.npz")
    assert_one_line_error(proc, 1, "train-images-idx3-ubyte")
    assert not (tmp_path / "m.npz").exists()


def test_unwritable_output_fails_before_training(data_dir, tmp_path):
    """An output path inside a regular file cannot be written: exit 2 at once."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    proc = run(*train_args(data_dir, blocker / "model.npz"))
    assert_one_line_error(proc, 2, "cannot write")
    assert "Training on" not in proc.stdout
    proc = run("export", "--format", "pytorch", "--model", blocker,
               "--out", blocker / "x.py")
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """Run in-process from an empty current folder, with a private temporary folder."""
    cwd, temp = tmp_path / "cwd", tmp_path / "temp"
    cwd.mkdir()
    temp.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(cli.tempfile, "tempdir", str(temp))
    return cwd, temp


def fill_disk(monkeypatch, folder):
    """Make every rename into ``folder`` fail as on a full disk."""
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst).parent == folder:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)


def test_full_disk_keeps_the_trained_model_in_a_temporary_folder(
        data_dir, tmp_path, monkeypatch, capsys, elsewhere):
    """--out on a full disk: the model goes to a temporary folder, named, exit 1."""
    _, temp = elsewhere
    full = tmp_path / "full"
    full.mkdir()
    fill_disk(monkeypatch, full)
    assert cli.main([*map(str, train_args(data_dir, full / "m.npz"))]) == 1
    (saved,) = temp.glob("convlab-*/m.npz")
    error = capsys.readouterr().err.splitlines()[-1]
    assert "No space left on device" in error and str(saved) in error
    assert nn.load_model(saved).extra["training"]["config"]["epochs"] == 2
    assert list(full.iterdir()) == []


def test_output_folder_gone_keeps_the_model_beside_the_checkpoint(
        data_dir, tmp_path, monkeypatch, capsys, elsewhere):
    """--out's folder made a file mid-run: saved beside the checkpoint."""
    out_folder, runs = tmp_path / "out", tmp_path / "runs"
    out_folder.mkdir()
    runs.mkdir()
    real_run = cli._run_with_progress

    def run_then_block_the_folder(*args):
        result = real_run(*args)
        out_folder.rmdir()
        out_folder.write_text("now a file")
        return result

    monkeypatch.setattr(cli, "_run_with_progress", run_then_block_the_folder)
    args = train_args(data_dir, out_folder / "m.npz", "--checkpoint", runs / "c.npz")
    assert cli.main([*map(str, args)]) == 1
    assert str(runs / "m.npz") in capsys.readouterr().err.splitlines()[-1]
    assert nn.load_model(runs / "m.npz").model is not None


def test_nowhere_to_save_says_the_model_is_lost(data_dir, tmp_path, monkeypatch,
                                                capsys, elsewhere):
    """When no folder at all can be written, the error says so plainly."""
    def replace(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", replace)
    assert cli.main([*map(str, train_args(data_dir, tmp_path / "m.npz"))]) == 1
    error = capsys.readouterr().err.splitlines()[-1]
    assert "No space left on device" in error and "lost" in error
    assert not list(tmp_path.glob("**/*.npz"))


def test_unknown_architecture_is_a_usage_error(data_dir, tmp_path):
    """--arch naming neither an architecture nor a file: exit 2, names the choices."""
    proc = run("train", "--data", data_dir, "--arch", "huge", "--out",
               tmp_path / "m.npz")
    assert_one_line_error(proc, 2, "huge", "sample")


def test_impossible_architecture_file_is_explained(data_dir, tmp_path):
    """An --arch JSON file whose layers cannot fit 28x28 images: exit 2, one line."""
    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps({"blocks": [{"filters": 4, "kernel_size": 40}]}))
    proc = run("train", "--data", data_dir, "--arch", arch, "--out",
               tmp_path / "m.npz")
    assert_one_line_error(proc, 2, "--arch")


@pytest.mark.parametrize("settings, fragment", [
    ({"dropout": None}, "'dropout' must be a number, got null"),
    ({"batch_norm": "yes"}, "'batch_norm' must be true or false"),
    ({"num_classes": 5}, "10 classes"),
    ({"blocks": [{"filters": 8}], "colour": "red"}, "unknown architecture setting"),
])
def test_bad_architecture_file_is_one_line(data_dir, tmp_path, settings, fragment):
    """Wrong types, values or keys in an --arch file: exit 2, one line, no output."""
    arch = tmp_path / "arch.json"
    arch.write_text(json.dumps({"blocks": [{}], **settings}))
    proc = run("train", "--data", data_dir, "--arch", arch, "--out",
               tmp_path / "m.npz")
    assert_one_line_error(proc, 2, "--arch", fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arch.json"]


@pytest.mark.parametrize("args", [
    [],
    ["train", "--out", "m.npz", "--epochs", "0"],
    ["train", "--out", "m.npz", "--lr", "fast"],
    ["train", "--out", "m.npz", "--optimizer", "rmsprop"],
    ["train", "--out", "m.npz", "--threads", "0"],
    ["evaluate"],
    ["export", "--format", "onnx", "--model", "m.npz", "--out", "m.py"],
])
def test_usage_errors_exit_with_code_2(args, capsys):
    """Bad or missing arguments exit 2 with a one-line error."""
    with pytest.raises(SystemExit) as info:
        cli.main(args)
    assert info.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "error:" in line and "--help" in line


@pytest.mark.parametrize("option, value, allowed", [
    ("--epochs", "0", ">= 1"),
    ("--batch-size", "0", ">= 1"),
    ("--lr", "-1", "> 0"),
    ("--lr", "inf", "> 0"),
    ("--momentum", "-0.5", ">= 0"),
    ("--weight-decay", "nan", ">= 0"),
    ("--seed", "-1", ">= 0"),
    ("--val-fraction", "1", "from 0 up to (not including) 1"),
    ("--val-fraction", "-0.1", "from 0 up to (not including) 1"),
])
def test_impossible_numbers_name_the_allowed_range(option, value, allowed, capsys):
    """An impossible training number: exit 2, one line with the option and range."""
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "--out", "m.npz", option, value])
    assert info.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert option in line and allowed in line


@pytest.mark.parametrize("extra, says", [
    (["--clean-epochs", "2"], "--clean-epochs goes with --augment"),
    (["--augment", "--epochs", "3", "--clean-epochs", "4"],
     "clean_epochs must be in [0, epochs = 3], got 4"),
])
def test_clean_epochs_that_cannot_apply_are_usage_errors(extra, says, tmp_path,
                                                         capsys):
    """--clean-epochs without --augment, or more of them than epochs: exit 2, one
    line saying why, before any data is loaded."""
    code = cli.main(["train", "--data", str(tmp_path / "nowhere"),
                     "--out", str(tmp_path / "m.npz"), *extra])
    assert code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert says in line


def test_val_fraction_leaving_too_few_training_images(data_dir, tmp_path):
    """--val-fraction 0.999 of 200 images leaves none to train on: say what fits."""
    proc = run(*train_args(data_dir, tmp_path / "m.npz", "--val-fraction", 0.999))
    assert_one_line_error(proc, 2, "--val-fraction 0.999 leaves 0 of 200 images",
                          "use at most 0.9")
    assert list(tmp_path.iterdir()) == []


def test_evaluate_a_model_whose_loss_is_not_finite(data_dir, tmp_path):
    """Weights whose sums overflow float32 give a NaN loss: --json has null there,
    the text explains. (A file with non-finite weights is refused on load.)"""
    layer = nn.Linear(28 * 28, 10, rng=np.random.default_rng(0))
    layer.weight.data[:] = 3e38  # finite, but two of them added are inf
    nn.save_model(tmp_path / "blown.npz", nn.Sequential(nn.Flatten(), layer))
    proc = run("evaluate", "--model", tmp_path / "blown.npz", "--data", data_dir,
               "--json", check_rc=0)
    # parse_constant sees NaN and Infinity, which strict JSON does not have.
    result = json.loads(proc.stdout, parse_constant=pytest.fail)
    assert result["loss"] is None
    proc = run("evaluate", "--model", tmp_path / "blown.npz", "--data", data_dir,
               check_rc=0)
    assert "loss nan (not a finite number" in proc.stdout and "null" in proc.stdout


def test_corrupt_model_file_fails_with_one_line(data_dir, tmp_path):
    """A model file that is not a model: exit 1 and a one-line reason."""
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip file")
    proc = run("evaluate", "--model", bad, "--data", data_dir)
    assert_one_line_error(proc, 1, "bad.npz")


def test_resume_needs_a_checkpoint(data_dir, tmp_path):
    """--resume with a plain model file: exit 2, explained."""
    nn.save_model(tmp_path / "plain.npz", nn.Sequential(nn.Flatten()))
    proc = run("train", "--data", data_dir, "--resume", tmp_path / "plain.npz",
               "--out", tmp_path / "m.npz")
    assert_one_line_error(proc, 2, "no training state")


@pytest.mark.parametrize("damage, fragment", [
    (lambda state: state["config"].update(colour="red"), "unknown setting 'colour'"),
    (lambda state: state.pop("rng_state"), "'rng_state' missing"),
    (lambda state: state.update(epoch="3"), "'epoch' must be a whole number"),
])
def test_resume_from_a_damaged_checkpoint_is_one_line(data_dir, tmp_path, damage,
                                                      fragment):
    """A crafted checkpoint: exit 2, one line naming the problem, nothing written."""
    from convlab.train import TrainConfig, Trainer

    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10, rng=rng))
    images = rng.random((20, 1, 28, 28), dtype=np.float32)
    trainer = Trainer(model, (images, np.arange(20) % 10),
                      config=TrainConfig(epochs=1, batch_size=10))
    next(trainer.steps())
    trainer.save_checkpoint(tmp_path / "run.npz")
    saved = nn.load_model(tmp_path / "run.npz")
    damage(saved.extra["trainer"])
    nn.save_model(tmp_path / "run.npz", saved.model, optimizer=trainer.optimizer,
                  step=saved.step, extra=saved.extra)
    proc = run("train", "--data", data_dir, "--resume", tmp_path / "run.npz",
               "--out", tmp_path / "m.npz")
    assert_one_line_error(proc, 2, "cannot resume from", fragment)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.npz"]


def test_bench_dispatches_to_the_benchmark_module(monkeypatch):
    """bench engine ARGS calls convlab.bench.engine.main(ARGS) and returns its code."""
    calls = []
    fake = types.ModuleType("convlab.bench.engine")
    fake.main = lambda argv: calls.append(argv) or 3
    monkeypatch.setitem(sys.modules, "convlab.bench.engine", fake)
    assert cli.main(["bench", "engine", "--quick", "x"]) == 3
    assert calls == [["--quick", "x"]]


def test_bench_reports_a_missing_benchmark(monkeypatch, capsys):
    """A benchmark module that cannot be imported: exit 1 with a clear message."""
    monkeypatch.setitem(sys.modules, "convlab.gui.bench", None)
    assert cli.main(["bench", "gui"]) == 1
    assert "gui benchmark is not available" in capsys.readouterr().err


def test_download_reports_progress_and_the_folder(monkeypatch, tmp_path, capsys):
    """download passes a progress callback and prints where MNIST now is."""
    from convlab.data import download

    def fake_download(dest=None, progress=None, **kwargs):
        progress("train-labels-idx1-ubyte.gz", 10, 20)
        progress("train-labels-idx1-ubyte.gz", 20, 20)
        return Path(dest)

    monkeypatch.setattr(download, "download_mnist", fake_download)
    assert cli.main(["download", "--dest", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert str(tmp_path) in captured.out
    assert "train-labels-idx1-ubyte.gz" in captured.err   # the progress bar


def test_download_failure_is_one_line(monkeypatch, capsys):
    """A failed download exits 1 with the downloader's message."""
    from convlab.data import download

    def failing_download(**kwargs):
        raise download.DownloadError("all mirrors failed; put the files in X")

    monkeypatch.setattr(download, "download_mnist", failing_download)
    assert cli.main(["download"]) == 1
    assert "all mirrors failed" in capsys.readouterr().err


def test_atomic_write_leaves_nothing_behind_on_failure(monkeypatch, tmp_path):
    """A write that fails at the rename leaves neither the file nor a temporary."""
    target = tmp_path / "net.py"
    cli.write_text_atomic(target, "first")
    assert target.read_text() == "first" and target.stat().st_mode & 0o044

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        cli.write_text_atomic(target, "second")
    assert target.read_text() == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["net.py"]


def test_generated_digits_floor_on_real_mnist(mnist_dir, tmp_path):
    """The README's command: trained only on generated digits, >= 90% on real MNIST."""
    out = tmp_path / "builtin.npz"
    run("train", "--data", "builtin", "--epochs", 4, "--schedule", "cosine",
        "--out", out, check_rc=0)
    proc = run("evaluate", "--model", out, "--data", mnist_dir, "--json", check_rc=0)
    assert json.loads(proc.stdout)["accuracy"] >= 0.90
