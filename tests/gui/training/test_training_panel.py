"""The Training tab with a real session: editor, controls, curves, threads, failures."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QAbstractButton, QAbstractSpinBox, QComboBox

from convlab.data.sources import Dataset
from convlab.gui.common import dialogs
from convlab.gui.training.panel import TrainingPanel
from convlab.gui.training.request import LOADED_SOURCE
from convlab.gui.training.session import TrainingSession
from convlab.gui.training.worker import TrainingProgress
from convlab.nn.architectures import ArchSpec, ConvBlock

REPO = Path(__file__).resolve().parents[3]
TINY = ArchSpec(blocks=[ConvBlock(4, 3, pool="max", pool_size=2)], dense=16)


def tiny_dataset(n=100, seed=0):
    """Random images and labels: nothing to learn, but every code path runs."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, n)
    return Dataset("tiny random", x, y, x[:16], y[:16])


@pytest.fixture
def errors(monkeypatch):
    """Dialogs the panel would have shown, as (title, text) pairs."""
    shown = []
    monkeypatch.setattr(dialogs, "show_message",
                        lambda parent, kind, title, text: shown.append((title, text)))
    return shown


@pytest.fixture
def tab(qtbot, errors):
    """A panel wired to a session on the tiny dataset; the thread is joined after."""
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    session = TrainingSession(panel, seed=0)
    # Enough batches that 100 epochs outlast every test that needs a running run.
    session.set_dataset(tiny_dataset(2000))
    panel.set_arch(TINY)
    panel.settings.batch_size.setValue(16)
    yield panel, session
    session.shutdown()
    assert not session.is_running()


def test_loaded_dataset_is_offered_and_selected(tab):
    """set_dataset on the session offers the window's dataset in the panel."""
    panel, _ = tab
    assert panel.settings.data_source.currentData() == LOADED_SOURCE
    assert "tiny random" in panel.settings.data_source.currentText()


def test_a_long_dataset_name_shows_its_start_and_keeps_the_rest_as_tooltip(tab):
    """The box shows "Loaded: MNIST", never a count cut off mid-number; the whole
    name with its counts and folder is the entry's tooltip."""
    panel, _ = tab
    name = "MNIST (10000 train, 10000 test) from /data/mnist"
    panel.set_loaded_dataset(name)
    box = panel.settings.data_source
    assert box.currentData() == LOADED_SOURCE
    assert box.currentText() == "Loaded: MNIST"
    assert box.itemData(box.currentIndex(), Qt.ToolTipRole) == name
    assert box.findData(LOADED_SOURCE) == box.currentIndex()  # offered once


def test_impossible_architecture_disables_start_and_explains(tab):
    """A kernel bigger than its input disables Start and says why, inline."""
    panel, _ = tab
    assert panel.start.isEnabled()
    panel.arch_editor.block_count.setValue(3)
    for block in panel.arch_editor.blocks:
        block.kernel.setValue(7)
    assert not panel.start.isEnabled()
    assert not panel.arch_editor.arch_error.isHidden()
    assert "does not fit" in panel.arch_editor.arch_error.text()
    assert panel.arch_editor.architecture() is None
    panel.arch_editor.block_count.setValue(1)
    assert panel.start.isEnabled()
    assert panel.arch_editor.arch_error.isHidden()


def test_shapes_follow_the_editor(tab):
    """Every layer's output shape is listed and follows an edit at once."""
    panel, _ = tab
    assert "4x26x26" in panel.arch_editor.shapes_label.text()
    assert panel.arch_editor.preset.currentText() == "custom"
    preset = panel.arch_editor.preset
    preset.setCurrentIndex(preset.findData("sample"))
    preset.activated.emit(preset.currentIndex())
    assert "32x26x26" in panel.arch_editor.shapes_label.text()
    panel.arch_editor.blocks[0].padding.setValue(1)
    assert "32x28x28" in panel.arch_editor.shapes_label.text()
    panel.set_arch(TINY)
    panel.arch_editor.blocks[0].padding.setValue(1)
    assert "4x28x28" in panel.arch_editor.shapes_label.text()
    pool = panel.arch_editor.blocks[0].pool
    pool.setCurrentIndex(pool.findData("none"))
    assert "pool" not in panel.arch_editor.shapes_label.text()
    assert not panel.arch_editor.blocks[0].pool_size.isEnabled()


def test_every_control_teaches_and_is_named(tab):
    """Every interactive control has a tooltip and an accessible name."""
    panel, _ = tab
    controls = panel.findChildren((QAbstractButton, QAbstractSpinBox, QComboBox))
    assert len(controls) > 20
    for control in controls:
        assert control.toolTip(), control
        assert control.accessibleName(), control


def test_training_adds_curve_points_and_snapshots_then_finishes(qtbot, tab):
    """A short run fills the step and epoch curves, sends weights, ends its thread."""
    panel, session = tab
    session.set_dataset(tiny_dataset(100))
    panel.settings.epochs.setValue(2)
    snapshots = []
    session.weights_updated.connect(snapshots.append)
    with qtbot.waitSignal(session.finished, timeout=60000):
        panel.start.click()
        assert session.is_running()
    # 90 training images after holding out 10% for validation: 6 batches of 16.
    assert panel.curves.curve_points("loss", "step") == 2 * 6
    assert panel.curves.curve_points("acc", "train") == 2
    assert panel.curves.curve_points("loss", "val") == 2
    assert snapshots
    assert [p.shape for p in snapshots[-1].params] == [
        p.shape for p in session.model.parameters()]
    assert not session.is_running()
    assert session.state == "idle"
    assert panel.start.isEnabled()


def test_stop_ends_the_thread(qtbot, tab):
    """Stop during a long run ends the worker thread and re-enables Start."""
    panel, session = tab
    panel.settings.epochs.setValue(100)
    with qtbot.waitSignal(session.progress, timeout=60000):
        panel.start.click()
    assert panel.stop.isEnabled()
    with qtbot.waitSignal(session.finished, timeout=60000):
        panel.stop.click()
    assert not session.is_running()
    assert panel.start.isEnabled()


def test_probe_snapshots_carry_activations(qtbot, tab):
    """With a probe image set, snapshots carry every layer's activation, the last
    the 10 class scores."""
    panel, session = tab
    panel.settings.epochs.setValue(100)
    session.set_probe(np.zeros((28, 28), np.float32))
    panel.start.click()
    with qtbot.waitSignal(session.weights_updated, timeout=60000) as blocker:
        pass
    snapshot = blocker.args[0]
    assert len(snapshot.activations) == len(session.model.layers)
    assert snapshot.activations[-1].shape == (1, 10)


def test_learning_rate_change_mid_run_takes_effect(qtbot, tab):
    """A new learning rate typed during a run is used by the following steps."""
    panel, session = tab
    panel.settings.epochs.setValue(100)
    with qtbot.waitSignal(session.progress, timeout=60000):
        panel.start.click()
    panel.settings.lr.setValue(0.0123)
    assert session.trainer.base_lr == pytest.approx(0.0123)

    def uses_new_lr(progress):
        return progress.lr == pytest.approx(0.0123)

    with qtbot.waitSignal(session.progress, timeout=60000,
                          check_params_cb=uses_new_lr):
        pass


def test_pause_then_step_one_batch_advances_exactly_one_step(qtbot, tab):
    """While paused, Step one batch trains one batch and stays paused."""
    panel, session = tab
    panel.settings.epochs.setValue(100)
    with qtbot.waitSignal(session.progress, timeout=60000):
        panel.start.click()
    panel.pause.click()
    assert panel.pause.text() == "Resume"
    qtbot.waitUntil(lambda: session.trainer.state == "paused", timeout=60000)
    before = session.trainer.step
    with qtbot.waitSignal(session.progress, timeout=60000) as blocker:
        panel.step.click()
    assert blocker.args[0].step == before + 1
    qtbot.waitUntil(lambda: session.trainer.state == "paused", timeout=60000)
    qtbot.wait(200)
    assert session.trainer.step == before + 1
    with qtbot.waitSignal(session.progress, timeout=60000):
        panel.pause.click()                                  # Resume
    assert session.trainer.step > before + 1


def test_step_one_batch_from_idle_trains_one_batch(qtbot, tab):
    """Step one batch with nothing running starts a paused run and does one step."""
    panel, session = tab
    with qtbot.waitSignal(session.progress, timeout=60000) as blocker:
        panel.step.click()
    assert blocker.args[0].step == 1
    assert session.state == "paused"
    assert panel.pause.text() == "Resume"


def test_worker_exception_emits_failed_and_the_app_survives(qtbot, tab, errors):
    """An exception in the worker becomes failed(str) and a dialog; training still
    works afterwards."""
    panel, session = tab

    def broken():
        raise RuntimeError("disk on fire")

    with qtbot.waitSignal(session.failed, timeout=60000) as blocker:
        session.start_trainer(broken)
    assert "disk on fire" in blocker.args[0]
    qtbot.waitUntil(lambda: not session.is_running(), timeout=60000)
    assert errors and "disk on fire" in errors[0][1]
    with qtbot.waitSignal(session.finished, timeout=60000):
        panel.start.click()
    assert panel.curves.curve_points("loss", "step") > 0


def test_divergence_is_explained_and_last_good_weights_kept(qtbot, tab, errors):
    """A weight made infinite mid-run stops training with a message; weights stay
    finite."""
    panel, session = tab
    panel.settings.epochs.setValue(100)
    with qtbot.waitSignal(session.progress, timeout=60000):
        panel.start.click()

    def poison(model):
        model.parameters()[0].data[...] = np.inf

    with qtbot.waitSignal(session.finished, timeout=60000):
        session.submit(poison)
    assert errors and "restored" in errors[-1][1]
    assert all(np.isfinite(p.data).all() for p in session.model.parameters())


def test_submit_runs_in_the_training_thread_between_steps(qtbot, tab):
    """submit(fn) runs fn(model) on the worker thread during a run, at once when
    idle."""
    panel, session = tab
    panel.settings.epochs.setValue(100)
    with qtbot.waitSignal(session.progress, timeout=60000):
        panel.start.click()
    ran = []
    with qtbot.waitSignal(session.weights_updated, timeout=60000):
        session.submit(lambda model: ran.append(threading.get_ident()))
    qtbot.waitUntil(lambda: bool(ran), timeout=60000)
    assert ran[0] != threading.get_ident()
    session.shutdown()
    session.submit(lambda model: ran.append(threading.get_ident()))
    assert ran[-1] == threading.get_ident()


def test_new_random_weights_builds_the_edited_architecture(qtbot, tab):
    """New random weights replaces the model with the editor's architecture."""
    panel, session = tab
    with qtbot.waitSignal(session.model_changed, timeout=5000) as blocker:
        panel.reinit.click()
    model = blocker.args[0]
    assert model is session.model
    assert model.layers[0].weight.data.shape == (4, 1, 3, 3)



def test_saved_state_round_trips_through_a_new_panel(qtbot, tmp_path):
    """Settings saved from one panel come back unchanged in a fresh one."""
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    spec = ArchSpec([ConvBlock(6, 5, 1, 2, "avg", 2), ConvBlock(12)], True, 64)
    panel.set_arch(spec)
    panel.settings.optimizer.setCurrentIndex(panel.settings.optimizer.findData("sgd"))
    panel.settings.lr.setValue(0.05)
    panel.settings.batch_size.setValue(32)
    panel.settings.epochs.setValue(7)
    panel.settings.augment.setChecked(True)
    panel.settings.add_data_source(tmp_path)
    again = TrainingPanel()
    qtbot.addWidget(again)
    again.restore_state(panel.saved_state())
    assert again.saved_state() == panel.saved_state()
    assert again.arch_editor.architecture() == spec


@pytest.mark.parametrize("state", [
    None, [], "text", {"arch": "sample"},
    {"arch": {"blocks": [{"filters": "many"}]}, "lr": "fast", "epochs": 10**9},
    {"arch": {"blocks": [], "dense": 3}, "optimizer": "rmsprop", "batch_size": 0},
    {"arch": {"blocks": [{"pool": "median"}], "in_channels": 3}, "augment": "yes",
     "data_source": "/no/such/folder"},
])
def test_bad_saved_state_keeps_the_defaults(qtbot, state):
    """Old or broken stored settings leave every control at its default."""
    default = TrainingPanel()
    qtbot.addWidget(default)
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.restore_state(state)
    assert panel.saved_state() == default.saved_state()


def test_mnist_folder_button_asks_through_dialogs(qtbot, monkeypatch, tmp_path):
    """The folder chooser goes through dialogs, and the chosen folder is selected."""
    asked = []

    def ask_directory(parent, title, directory):
        asked.append(title)
        return str(tmp_path)

    monkeypatch.setattr(dialogs, "ask_directory", ask_directory)
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.settings.open_folder.click()
    assert asked and panel.settings.data_source.currentData() == str(tmp_path)


def test_step_one_batch_after_a_stopped_run_starts_new_curves(qtbot, window):
    """Start, about 200 steps, Stop, Step one batch through the window's buttons:
    every curve's x keeps increasing and the stopped run stays as a faded curve."""
    window.controller.set_dataset(tiny_dataset(2000))
    panel = window.training_panel
    window.show_tab("training")
    panel.set_arch(TINY)
    panel.settings.batch_size.setValue(16)
    panel.settings.epochs.setValue(100)
    session = window.controller.session
    panel.start.click()
    qtbot.waitUntil(lambda: panel.curves.curve_points("loss", "step") >= 200,
                    timeout=60000)
    with qtbot.waitSignal(session.finished, timeout=60000):
        panel.stop.click()
    first_run = panel.curves.curve_points("loss", "step")
    with qtbot.waitSignal(session.progress, timeout=60000):
        panel.step.click()
    assert panel.curves.curve_points("loss", "step") == 1
    plots = panel.curves.loss_plot, panel.curves.acc_plot
    curves = plots[0].listDataItems() + plots[1].listDataItems()
    for curve in curves:
        x, _ = curve.getData()
        if x is not None and len(x) > 1:
            assert np.all(np.diff(x) > 0), curve.name()
    previous = [c for c in curves if c.name() == "previous run"]
    assert len(previous) == 2                                  # loss and accuracy
    for curve in previous:
        x, _ = curve.getData()
        assert len(x) == first_run and x[0] == 1
    assert panel.curves.clear_previous.isEnabled()
    panel.curves.clear_previous.click()
    assert all(c.getData()[0] is None or len(c.getData()[0]) == 0 for c in previous)
    assert not panel.curves.clear_previous.isEnabled()
    assert panel.curves.curve_points("loss", "step") == 1


def progress_report(steps):
    """A TrainingProgress with these step numbers and made-up metrics."""
    steps = np.asarray(steps)
    return TrainingProgress(
        steps=steps, losses=np.full(len(steps), 2.3),
        accuracies=np.full(len(steps), 0.1),
        step=int(steps[-1]), total_steps=1000, epoch=1, lr=1e-3, images_per_s=1.0,
        fraction=0.1, seconds_left=1.0)


def test_points_that_would_go_back_on_the_step_axis_are_not_drawn(qtbot):
    """Step numbers at or before the last one drawn are left out of the curve."""
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.add_progress(progress_report([1, 2, 3]))
    panel.add_progress(progress_report([3, 1, 4, 2, 5]))
    plots = panel.curves.loss_plot, panel.curves.acc_plot
    for curve in plots[0].listDataItems() + plots[1].listDataItems():
        x, _ = curve.getData()
        if x is not None and len(x):
            np.testing.assert_array_equal(x, [1, 2, 3, 4, 5])
    assert panel.curves.curve_points("loss", "step") == 5


def test_reports_of_a_run_ended_by_shutdown_stay_off_the_next_runs_curves(qtbot,
                                                                           tab):
    """Reports still queued from a run that shutdown() ended never reach the curves
    of the run started right after it."""
    panel, session = tab
    panel.settings.epochs.setValue(100)
    panel.start.click()
    qtbot.waitUntil(lambda: panel.curves.curve_points("loss", "step") >= 50,
                    timeout=60000)
    session.shutdown()                 # its last points are still on their way
    panel.start.click()
    qtbot.waitUntil(lambda: session.trainer is not None and session.trainer.step >= 10,
                    timeout=60000)
    with qtbot.waitSignal(session.progress, timeout=60000):
        pass
    x, _ = next(c for c in panel.curves.loss_plot.listDataItems()
                if c.name() == "train (step)").getData()
    assert x[0] == 1 and x[-1] <= session.trainer.step


def blow_up(model):
    """Give the class scores biases so far apart that the next loss explodes (yet
    stays finite), whatever the layers before them output."""
    model.layers[-1].bias.data[...] = 100.0 * np.arange(10)


def notice_button(panel, text):
    return next(b for b in panel.notice.buttons if b.text() == text)


def test_exploded_loss_pauses_explains_and_restores_the_start(qtbot, tab):
    """An exploded loss pauses the run and says why on the tab and in the status;
    restoring the start's weights runs in the training thread; then a smaller
    learning rate and Resume carry on."""
    panel, session = tab
    panel.settings.epochs.setValue(100)
    panel.settings.lr.setValue(0.002)
    first = []
    session.model_changed.connect(
        lambda model, note: first.append([p.data.copy() for p in model.parameters()]))
    status = []
    session.message.connect(status.append)
    panel.start.click()
    qtbot.waitUntil(lambda: session.trainer is not None and session.trainer.step >= 40,
                    timeout=60000)
    session.submit(blow_up)
    qtbot.waitUntil(lambda: not panel.notice.isHidden(), timeout=60000)
    assert session.state == "paused" and panel.pause.text() == "Resume"
    text = panel.notice.label.text()
    assert "exploded" in text and "learning rate 0.002 is too high" in text
    assert "Try 0.0002" in text
    assert status and "exploded" in status[-1]
    qtbot.waitUntil(lambda: session.trainer.state == "paused", timeout=60000)
    step = session.trainer.step
    assert {"Restore weights from before the spike",
            "Restore weights from the start of the run"} <= {
        b.text() for b in panel.notice.buttons}
    with qtbot.waitSignal(session.weights_updated, timeout=60000) as blocker:
        notice_button(panel, "Restore weights from the start of the run").click()
    for p, q in zip(blocker.args[0].params, first[0], strict=True):
        np.testing.assert_array_equal(p, q)
    assert session.trainer.step == step and session.state == "paused"
    assert "restored" in panel.notice.label.text()
    panel.settings.lr.setValue(0.0002)
    with qtbot.waitSignal(session.progress, timeout=60000) as blocker:
        panel.pause.click()                                  # Resume
    assert blocker.args[0].lr == pytest.approx(0.0002)
    assert blocker.args[0].steps[0] == step + 1


def test_stalled_training_warns_on_the_tab_and_goes_on(qtbot, tab):
    """A loss stuck at chance level shows a warning line; the run keeps going."""
    panel, session = tab
    panel.settings.epochs.setValue(100)
    panel.start.click()

    def zero(model):
        for p in model.parameters():
            p.data[...] = 0.0                    # every image gets the same scores

    session.submit(zero)
    qtbot.waitUntil(lambda: "not learning" in panel.notice.label.text(),
                    timeout=60000)
    assert not panel.notice.isHidden()
    assert session.state == "running"
    step = session.trainer.step
    qtbot.waitUntil(lambda: session.trainer.step > step + 5, timeout=60000)


def test_weights_can_be_restored_after_stopping_an_exploded_run(qtbot, tab):
    """Stop instead of Resume after an explosion: the restore buttons still put
    the start's weights back into the model, and the views get them."""
    panel, session = tab
    panel.settings.epochs.setValue(100)
    first = []
    session.model_changed.connect(
        lambda model, note: first.append([p.data.copy() for p in model.parameters()]))
    panel.start.click()
    qtbot.waitUntil(lambda: session.trainer is not None and session.trainer.step >= 40,
                    timeout=60000)
    session.submit(blow_up)
    qtbot.waitUntil(lambda: session.state == "paused", timeout=60000)
    with qtbot.waitSignal(session.finished, timeout=60000):
        panel.stop.click()
    with qtbot.waitSignal(session.weights_updated, timeout=5000) as blocker:
        notice_button(panel, "Restore weights from the start of the run").click()
    for p, snap, q in zip(session.model.parameters(), blocker.args[0].params,
                          first[0], strict=True):
        np.testing.assert_array_equal(p.data, q)
        np.testing.assert_array_equal(snap, q)


def test_importing_the_window_leaves_pyqtgraphs_settings_alone():
    """Importing the window's modules (the Training panel among them) leaves
    pyqtgraph as it was: only the app's configure_pyqtgraph sets it up."""
    script = (
        "import pyqtgraph as pg\n"
        "before = dict(pg.CONFIG_OPTIONS)\n"
        "import convlab.gui.main_window\n"
        "assert dict(pg.CONFIG_OPTIONS) == before, 'an import changed pyqtgraph'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO,
                            capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
