"""TrainingWorker: throttled batched reports, copies, queued controls, failures."""

import numpy as np
import pytest

from convlab import nn
from convlab.gui.network import presenter
from convlab.gui.training import worker as worker_module
from convlab.gui.training.worker import TrainingWorker
from convlab.lab.snapshots import SNAPSHOT_INTERVAL_MS
from convlab.nn.architectures import ArchSpec, ConvBlock, build
from convlab.train import TrainConfig, Trainer

TINY = ArchSpec(blocks=[ConvBlock(4, 3, pool="max", pool_size=2)], dense=16,
                batch_norm=True)


@pytest.fixture
def model():
    return build(TINY, np.random.default_rng(0))


def make_prepare(model, n=64, epochs=2, batch_size=16):
    """A prepare() for the worker: a Trainer on random tiny data."""
    rng = np.random.default_rng(1)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n)
    config = TrainConfig(epochs=epochs, batch_size=batch_size, seed=0)
    return lambda: Trainer(model, (x, y), (x[:16], y[:16]), config)


def record(worker):
    """Every signal the worker emits, in order, as (name, args)."""
    log = []
    for name in ("progress", "epoch_finished", "snapshot_ready", "failed", "finished"):
        getattr(worker, name).connect(lambda *args, name=name: log.append((name, args)))
    return log


def test_reports_are_batched_and_every_step_point_arrives(model):
    """With a long interval, steps arrive batched (one report per epoch) and none
    is lost."""
    worker = TrainingWorker(model, make_prepare(model), interval=3600.0)
    log = record(worker)
    worker.run()
    progress = [args[0] for name, args in log if name == "progress"]
    epochs = [args[0] for name, args in log if name == "epoch_finished"]
    assert len(progress) == 2                      # one per epoch: ends flush at once
    steps = np.concatenate([p.steps for p in progress])
    np.testing.assert_array_equal(steps, np.arange(1, 9))   # 2 epochs x 4 batches
    assert [e.step for e in epochs] == [4, 8]
    assert epochs[0].val_acc is not None
    assert log[-1][0] == "finished"
    assert not [name for name, _ in log if name == "failed"]


def test_a_finished_run_hands_its_freed_memory_back(model, monkeypatch):
    """After the last step, before finished, the worker releases freed memory."""
    worker = TrainingWorker(model, make_prepare(model, epochs=1))
    log = record(worker)
    monkeypatch.setattr(worker_module, "release_freed_memory",
                        lambda: log.append(("released", ())))
    worker.run()
    assert [name for name, _ in log][-2:] == ["released", "finished"]


class SteppingClock:
    """A perf_counter that moves on by ``tick`` seconds at every reading."""

    def __init__(self, tick):
        self.tick, self.now = tick, 0.0

    def perf_counter(self):
        self.now += self.tick
        return self.now


def test_snapshots_keep_the_windows_redraw_beat(model, monkeypatch):
    """Steps shorter than the interval give one report and snapshot per interval
    on average, not one per interval plus the rest of a step."""
    tick = 1 / 32                  # seconds per step, as the worker's clock sees it
    monkeypatch.setattr(worker_module, "time", SteppingClock(tick))
    worker = TrainingWorker(model, make_prepare(model, n=16 * 80, epochs=1))
    log = record(worker)
    worker.run()
    progress = [args[0] for name, args in log if name == "progress"]
    snapshots = [args[0] for name, args in log if name == "snapshot_ready"]
    steps = 60
    expected = int(steps * tick / (SNAPSHOT_INTERVAL_MS / 1000))   # 23
    assert len([p for p in progress if p.step <= steps]) == expected
    assert len([s for s in snapshots if s.step <= steps]) == expected


def test_the_window_redraws_training_as_often_as_snapshots_come():
    """The Network room's redraw interval while training is the snapshot interval."""
    assert presenter.TRAINING_REFRESH_MS == SNAPSHOT_INTERVAL_MS


def test_controls_sent_before_the_trainer_exists_are_replayed(model):
    """stop() before run() makes run() end without a single step."""
    worker = TrainingWorker(model, make_prepare(model))
    log = record(worker)
    worker.stop()
    worker.run()
    assert worker.trainer.step == 0
    assert [name for name, _ in log] == ["finished"]


def test_lr_set_before_the_first_step_is_used(model):
    """set_lr() before run() reaches the Trainer and its steps use it."""
    worker = TrainingWorker(model, make_prepare(model, epochs=1))
    log = record(worker)
    worker.set_lr(0.05)
    worker.run()
    progress = [args[0] for name, args in log if name == "progress"]
    assert progress[-1].lr == pytest.approx(0.05)


def test_exception_in_prepare_becomes_failed(model):
    """An exception while preparing emits failed(str) with its message, then
    finished."""
    def prepare():
        raise OSError("cannot read the data folder")

    worker = TrainingWorker(model, prepare)
    log = record(worker)
    worker.run()
    assert [name for name, _ in log] == ["failed", "finished"]
    assert "cannot read the data folder" in log[0][1][0]


def test_failing_command_is_reported_and_training_goes_on(model):
    """A command that raises emits failed; the run still completes every step."""
    worker = TrainingWorker(model, make_prepare(model))
    log = record(worker)

    def bad_edit(m):
        raise ValueError("kernel must be 3x3")

    worker.submit(bad_edit)
    worker.run()
    failures = [args[0] for name, args in log if name == "failed"]
    assert len(failures) == 1 and "kernel must be 3x3" in failures[0]
    assert worker.trainer.step == 8


def test_command_runs_between_steps_and_shows_its_effect(model):
    """A submitted edit changes the live model and a snapshot shows it at once."""
    worker = TrainingWorker(model, make_prepare(model, epochs=1))
    log = record(worker)
    worker.pause()

    def zero_first_filter(m):
        m.layers[0].weight.data[0] = 0.0
        worker.stop()

    worker.submit(zero_first_filter)
    worker.run()
    snapshots = [args[0] for name, args in log if name == "snapshot_ready"]
    assert snapshots and not snapshots[0].params[0][0].any()
    assert worker.trainer.step == 0


def test_loading_reports_progress_and_stop_cancels_it(model):
    """prepare()'s data progress is reported; once stop() is asked for, the load
    ends at its next report, quietly, and no training starts."""
    drawn = []

    def prepare():
        for done in range(1, 11):  # a loader drawing ten chunks of digits
            drawn.append(done)
            worker.report_loading(done, 10)
            if done == 3:
                worker.stop()  # the student closes the window meanwhile
        return make_prepare(model)()

    worker = TrainingWorker(model, prepare, interval=0.0)
    log = record(worker)
    worker.loading.connect(lambda done, total: log.append(("loading", (done, total))))
    worker.run()
    assert drawn == [1, 2, 3, 4]
    assert [args for name, args in log if name == "loading"] == [(1, 10), (2, 10),
                                                                 (3, 10)]
    assert [name for name, _ in log if name != "loading"] == ["finished"]
    assert worker.trainer is None


def test_a_stopped_run_leaves_a_checkpoint_of_its_last_step(model, tmp_path):
    """A run stopped halfway saves where it ended; from it a Trainer continues at
    that step."""
    path = tmp_path / "run.npz"
    worker = TrainingWorker(model, make_prepare(model), interval=0.0,
                            checkpoint=path)
    worker.progress.connect(
        lambda p: worker.stop() if p.step >= 5 else None)
    worker.run()
    assert worker.trainer.state == "stopped"
    assert nn.load_model(path).step == worker.trainer.step >= 5


def test_checkpoints_are_written_at_epoch_ends_and_removed_when_the_run_ends(
        model, tmp_path):
    """Every epoch end saves the run; finishing it normally deletes the file."""
    path = tmp_path / "run.npz"
    saved = []
    worker = TrainingWorker(model, make_prepare(model), interval=3600.0,
                            checkpoint=path)
    worker.epoch_finished.connect(lambda e: saved.append(nn.load_model(path).step))
    worker.run()
    assert saved == [4, 8]
    assert not path.exists()


def test_a_checkpoint_that_cannot_be_written_is_a_warning_not_a_failure(model,
                                                                        tmp_path):
    """An unwritable checkpoint folder warns once per attempt; training completes."""
    path = tmp_path / "missing folder" / "run.npz"
    worker = TrainingWorker(model, make_prepare(model), checkpoint=path)
    log = record(worker)
    warnings = []
    worker.warning.connect(warnings.append)
    worker.run()
    assert worker.trainer.step == 8
    assert warnings and "run.npz" in warnings[0]
    assert not [name for name, _ in log if name == "failed"]


def blow_up(model):
    """Give the class scores biases so far apart that the next loss explodes (yet
    stays finite), whatever the layers before them output."""
    model.layers[-1].bias.data[...] = 100.0 * np.arange(10)


def test_an_exploded_loss_pauses_the_run_at_once_and_is_reported(model):
    """The step whose loss exploded is the last one before the run pauses; the
    report names the restore points, and restoring "start" puts the first weights
    back."""
    first = [p.data.copy() for p in model.parameters()]
    worker = TrainingWorker(model, make_prepare(model, n=640, epochs=1),
                            interval=0.0, run_id=3)
    alarms = []

    def on_progress(progress):
        if progress.step == 30:
            worker.submit(blow_up)

    def on_alarm(report):
        alarms.append((report, worker.trainer.paused, worker.trainer.step))
        worker.submit(lambda m: worker.trainer.restore("start"))
        worker.stop()

    worker.progress.connect(on_progress)
    worker.alarm.connect(on_alarm)
    worker.run()
    [(report, paused, step)] = alarms
    assert report.kind == "exploded" and report.step == 31 == step
    assert paused and report.run == 3
    assert "learning rate" in report.message
    assert report.restore_points == ("before_spike", "start")
    assert worker.trainer.step == 31
    for p, q in zip(model.parameters(), first, strict=True):
        np.testing.assert_array_equal(p.data, q)
