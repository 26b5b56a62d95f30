"""Tests for the My digits room (panel and presenter): adding, keeping, removing, bad
files, fine-tuning."""

import time
from types import SimpleNamespace

import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QComboBox,
    QListWidget,
    QProgressBar,
    QWidget,
)

from convlab import nn
from convlab.data.my_digits import FILE_NAME, MyDigits
from convlab.data.sources import Dataset
from convlab.gui.my_digits.panel import MyDigitsPanel
from convlab.gui.my_digits.presenter import MyDigitsPresenter
from convlab.gui.training.session import TrainingSession
from convlab.lab import my_digits
from convlab.lab.snapshots import clone_model


def bar_digit(digit):
    """A (28, 28) drawing that is easy to tell apart: a bar whose row is the digit."""
    image = np.zeros((28, 28), np.float32)
    row = 4 + 2 * digit
    image[row:row + 2, 6:22] = 1.0
    return image


def tiny_model(seed=0):
    """A network small enough to fine-tune in a test within seconds."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 13 * 13, 10, rng=rng))
    model.eval()
    return model


def cell(panel, row, column):
    """The text of the before/after table at row "mine"|"test", column
    "before"|"after"."""
    return panel.result_labels[row, column].text()


def measured_on_test_set(panel):
    """True once neither test-set cell of the before/after table is being measured."""
    return "measuring…" not in (cell(panel, "test", "before"),
                                cell(panel, "test", "after"))


@pytest.fixture
def make_room(qtbot):
    """Build (MyDigitsPanel, MyDigitsPresenter) pairs that join their background work
    when the test ends."""
    rooms = []

    def make(folder, model=None):
        panel = MyDigitsPanel()
        qtbot.addWidget(panel)
        room = MyDigitsPresenter(panel, seed=0)
        if model is not None:
            room.set_model(model)
        room.set_storage_folder(folder)
        rooms.append(room)
        return panel, room

    yield make
    for room in rooms:
        room.shutdown()


def test_label_button_and_digit_key_add_and_survive_restart(make_room, tmp_path,
                                                            qtbot):
    """A label click and a digit key add the drawing; a new panel reads them back."""
    panel, room = make_room(tmp_path)
    room.set_current_input(bar_digit(3))
    qtbot.mouseClick(panel.label_buttons[3], Qt.LeftButton)
    room.set_current_input(bar_digit(7))
    room.add_current_input(7)  # what the window's digit key 7 is wired to
    assert room.count() == 2
    assert panel.gallery.count() == 2

    again, again_room = make_room(tmp_path)
    assert again_room.count() == 2
    assert again.gallery.count() == 2
    store = MyDigits(tmp_path)
    store.load()
    assert store.labels.tolist() == [3, 7]
    np.testing.assert_array_equal(store.images[0], bar_digit(3))


def test_digit_key_in_gallery_reaches_the_window(tmp_path, qtbot):
    """A digit key pressed in the gallery is passed on to the window, not swallowed."""
    seen = []

    class Host(QWidget):
        def keyPressEvent(self, event):
            seen.append(event.key())

    host = Host()
    qtbot.addWidget(host)
    panel = MyDigitsPanel(host)
    room = MyDigitsPresenter(panel)
    room.set_storage_folder(tmp_path)
    qtbot.keyClick(panel.gallery, Qt.Key_5)
    assert seen == [Qt.Key_5]
    assert room.count() == 0  # the panel itself never adds on a key


def test_remove_deletes_from_memory_and_file(make_room, tmp_path, qtbot):
    """Removing selected thumbnails (button or Delete key) also removes them on disk."""
    panel, room = make_room(tmp_path)
    for digit in (1, 2, 3):
        room.set_current_input(bar_digit(digit))
        room.add_current_input(digit)
    panel.gallery.item(1).setSelected(True)
    assert panel.remove_button.isEnabled()
    qtbot.mouseClick(panel.remove_button, Qt.LeftButton)
    assert room.count() == 2
    panel.gallery.item(0).setSelected(True)
    qtbot.keyClick(panel.gallery, Qt.Key_Delete)
    assert room.count() == 1

    again, again_room = make_room(tmp_path)
    store = MyDigits(tmp_path)
    store.load()
    assert again_room.count() == 1 and store.labels.tolist() == [3]


def test_corrupt_file_is_reported_kept_and_not_overwritten(make_room, tmp_path,
                                                           messages):
    """A corrupt file gives a clear message, is never deleted or overwritten, and the
    panel still works in memory until the student puts the file aside."""
    path = tmp_path / FILE_NAME
    garbage = b"this is not a zip file"
    path.write_bytes(garbage)
    panel, room = make_room(tmp_path)
    assert len(messages) == 1
    kind, title, text = messages[0]
    assert kind == "error" and "could not be read" in title
    assert FILE_NAME in text and "not changed or deleted" in text
    assert panel.warning.isVisibleTo(panel)

    room.set_current_input(bar_digit(4))
    assert room.add_current_input(4)
    assert room.count() == 1
    assert path.read_bytes() == garbage  # not overwritten while the student decides

    told = []
    room.status_changed.connect(told.append)
    panel.start_new_button.click()
    assert (tmp_path / "my_digits.unreadable-1.npz").read_bytes() == garbage
    assert "my_digits.unreadable-1.npz" in told[-1]
    store = MyDigits(tmp_path)
    store.load()
    assert store.labels.tolist() == [4]
    assert not panel.warning.isVisibleTo(panel)


def test_unwritable_folder_keeps_drawings_in_memory(make_room, tmp_path, messages):
    """When the folder cannot be written, the student is told and drawings stay."""
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("a file where the folder should be")
    panel, room = make_room(not_a_folder)
    for digit in (5, 6):
        room.set_current_input(bar_digit(digit))
        assert room.add_current_input(digit)
    assert room.count() == 2
    assert [m[:2] for m in messages] == [("warning", "My digits not saved")]
    assert panel.warning.isVisibleTo(panel)
    assert "in memory only" in panel.add_status.text()


def test_blank_input_adds_nothing(make_room, tmp_path, qtbot):
    """With nothing drawn, a label click says so and stores nothing."""
    panel, room = make_room(tmp_path)
    room.set_current_input(None)
    qtbot.mouseClick(panel.label_buttons[2], Qt.LeftButton)
    room.set_current_input(np.zeros((28, 28), np.float32))
    assert not room.add_current_input(2)
    assert room.count() == 0
    assert "Nothing drawn" in panel.add_status.text()
    told = []
    room.status_changed.connect(told.append)
    room.add_current_input(5)
    assert told and "Nothing drawn" in told[0]  # also said in the status bar
    assert not (tmp_path / FILE_NAME).exists()


def test_fine_tuning_raises_accuracy_on_my_digits(make_room, tmp_path, qtbot,
                                                  tiny_dataset):
    """Fine-tuning through the real TrainingSession raises accuracy on My digits and
    measures the test set before and after."""
    live = tiny_model()
    view = clone_model(live)
    view.eval()
    panel, room = make_room(tmp_path, model=view)
    room.set_base_dataset(tiny_dataset)
    for digit in range(10):
        room.set_current_input(bar_digit(digit))
        room.add_current_input(digit)

    # Wired as the controller does it.
    session = TrainingSession(seed=0)
    session.set_model(live)
    session.running_changed.connect(room.set_training_running)
    session.progress.connect(room.set_training_progress)
    session.finished.connect(lambda: view.load_state_dict(live.state_dict()))
    room.fine_tune_requested.connect(lambda request: session.start_trainer(
        lambda: request.build_trainer(session.model)))

    panel.epochs.setValue(30)
    panel.step_size.setCurrentIndex(panel.step_size.count() - 1)
    assert panel.fine_tune_button.isEnabled()
    with qtbot.waitSignal(session.finished, timeout=120_000):
        qtbot.mouseClick(panel.fine_tune_button, Qt.LeftButton)
        assert not panel.fine_tune_button.isEnabled()
    qtbot.waitUntil(lambda: cell(panel, "mine", "after") != "—", timeout=10_000)
    qtbot.waitUntil(lambda: measured_on_test_set(panel), timeout=60_000)
    session.shutdown()

    before = float(cell(panel, "mine", "before").rstrip("%"))
    after = float(cell(panel, "mine", "after").rstrip("%"))
    assert after > before + 30
    assert cell(panel, "test", "before").endswith("%")
    assert cell(panel, "test", "after").endswith("%")
    assert panel.progress.text() == "done"
    assert panel.fine_tune_button.isEnabled()


def test_reading_a_repaired_file_keeps_digits_added_meanwhile(make_room, tmp_path,
                                                              messages):
    """After the file is repaired, "Read the file again" adds its digits to the
    ones drawn meanwhile and saves them all."""
    path = tmp_path / FILE_NAME
    path.write_bytes(b"PK\x03\x04 truncated")
    panel, room = make_room(tmp_path)
    room.set_current_input(bar_digit(8))
    room.add_current_input(8)
    good = MyDigits(tmp_path)
    good.add(bar_digit(1), 1)
    good.save()  # the student restored a backup
    panel.reload_button.click()
    assert room.count() == 2
    store = MyDigits(tmp_path)
    store.load()
    assert store.labels.tolist() == [1, 8]
    assert not panel.warning.isVisibleTo(panel)
    assert len(messages) == 1  # only the first, corrupt-file message


def test_fine_tune_without_a_dataset_mixes_in_generated_digits(make_room, tmp_path,
                                                               monkeypatch,
                                                               tiny_dataset):
    """With no dataset loaded, the request generates base digits (in the training
    thread) and trains on them plus every drawing of the student's."""
    asked = []

    def fake_generate_digits(n, rng):
        asked.append(n)
        return tiny_dataset.x_train[:, 0], tiny_dataset.y_train

    monkeypatch.setattr(my_digits, "generate_digits", fake_generate_digits)
    panel, room = make_room(tmp_path, model=tiny_model())
    for digit in (2, 9):
        room.set_current_input(bar_digit(digit))
        room.add_current_input(digit)
    requests = []
    room.fine_tune_requested.connect(requests.append)
    panel.fine_tune_button.click()
    assert asked == []  # nothing slow happens in the GUI thread
    (request,) = requests
    assert request.base is None
    trainer = request.build_trainer(tiny_model())
    assert asked == [my_digits.BASE_SIZE]
    x, y = trainer.x_train, trainer.y_train
    assert len(x) == len(tiny_dataset.x_train) + 13  # a quarter of the mix is mine
    for digit in (2, 9):
        mine = np.all(x[:, 0] == bar_digit(digit), axis=(1, 2))
        assert mine.any() and np.all(y[mine] == digit)


def test_marks_follow_the_model_when_a_training_run_ends(make_room, tmp_path, qtbot):
    """While any run trains, fine-tuning is off; when it ends the marks are redone."""
    model = tiny_model()
    panel, room = make_room(tmp_path, model=model)
    panel.show()
    qtbot.waitExposed(panel)
    for digit in (3, 4):
        room.set_current_input(bar_digit(digit))
        room.add_current_input(digit)
    room.set_training_running(True)
    assert not panel.fine_tune_button.isEnabled()
    assert "Training is running" in panel.tune_status.text()

    # The run taught the network to answer 3 whatever it sees.
    model.layers[-1].bias.data[:] = 0.0
    model.layers[-1].bias.data[3] = 1e3
    room.set_training_running(False)
    qtbot.waitUntil(lambda: panel.gallery.item(0).text() == "3 → 3 ✓")
    assert panel.gallery.item(1).text() == "4 → 3 ✗"
    assert "1 of your 2" in panel.summary.text()
    assert panel.fine_tune_button.isEnabled()


def test_every_control_has_a_tooltip_and_an_accessible_name(make_room, tmp_path):
    """Each interactive control explains itself and can be found by a screen reader."""
    panel, room = make_room(tmp_path)
    controls = panel.findChildren((QAbstractButton, QAbstractSpinBox, QComboBox,
                                   QListWidget, QProgressBar))
    assert len(controls) >= 17  # ten labels, three file fixes, remove, tune, ...
    for control in controls:
        assert control.accessibleName(), control
        if not isinstance(control, QProgressBar):
            assert len(control.toolTip()) > 40, control.accessibleName()


def test_in_the_window_a_digit_key_labels_and_fine_tuning_runs(qtbot, window,
                                                               tmp_path,
                                                               tiny_dataset):
    """In the real window a digit key on the canvas labels the drawing, and a
    fine-tune runs through the training session and reports before and after."""
    controller, panel = window.controller, window.my_digits_panel
    room = controller.my_digits
    room.set_storage_folder(tmp_path)
    path = tmp_path / "tiny.npz"
    nn.save_model(path, tiny_model())
    assert controller.model_files.open_model(str(path))
    controller.set_dataset(tiny_dataset)
    canvas = window.input_panel.canvas
    canvas.add_stroke([(140, 40), (140, 240)])
    controller.refresh_now()
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key_1)
    assert room.count() == 1
    store = MyDigits(tmp_path)
    store.load()
    assert store.labels.tolist() == [1]
    np.testing.assert_array_equal(store.images[0], controller.current_input)

    panel.epochs.setValue(2)
    with qtbot.waitSignal(controller.session.finished, timeout=60_000):
        panel.fine_tune_button.click()
    qtbot.waitUntil(lambda: cell(panel, "mine", "after") != "—", timeout=10_000)
    qtbot.waitUntil(lambda: measured_on_test_set(panel), timeout=60_000)
    assert cell(panel, "test", "before").endswith("%")
    assert cell(panel, "test", "after").endswith("%")
    assert window.training_panel.curves.curve_points("loss", "step") > 0


def test_a_fine_tune_stopped_early_says_where_it_stopped(make_room, tmp_path, qtbot):
    """A run that ends before its last step shows "stopped at" its share, and the
    table compares My digits before and after."""
    panel, room = make_room(tmp_path, model=tiny_model())
    room.set_current_input(bar_digit(6))
    room.add_current_input(6)
    # The training session would start the run and report on it.
    room.fine_tune_requested.connect(lambda request: room.set_training_running(True))
    panel.fine_tune_button.click()
    room.set_training_progress(SimpleNamespace(step=3, total_steps=10, fraction=0.3,
                                               losses=[0.25]))
    assert panel.progress.text() == "30%  step 3/10  loss 0.250"
    room.set_training_running(False)
    qtbot.waitUntil(lambda: cell(panel, "mine", "after") != "—")
    assert panel.progress.text() == "stopped at 30%"
    assert cell(panel, "test", "before") == cell(panel, "test", "after") == \
        "no test set"
    assert panel.tune_status.text() == (
        f"Fine-tuning ended. Your digits: {cell(panel, 'mine', 'before')} before, "
        f"{cell(panel, 'mine', 'after')} after.")


def test_shutdown_cancels_a_test_set_measurement(make_room, tmp_path, qtbot,
                                                 monkeypatch):
    """shutdown() stops measuring the test set after the batch under way instead of
    reading all of its images."""
    from convlab.gui.my_digits import presenter as presenter_module

    batches, real_evaluate = [], presenter_module.evaluate

    def counting_evaluate(model, x, y, **kwargs):
        infer = model.infer

        def counted(xb):
            batches.append(len(xb))
            time.sleep(0.02)  # a slow network, so shutdown comes mid-way
            return infer(xb)

        model.infer = counted
        return real_evaluate(model, x, y, batch_size=50, **kwargs)

    monkeypatch.setattr(presenter_module, "evaluate", counting_evaluate)
    _, room = make_room(tmp_path, tiny_model())
    x = np.repeat(bar_digit(3)[None, None], 2000, axis=0)
    y = np.full(2000, 3)
    room.set_base_dataset(Dataset("bars", x, y, x, y))
    room._measure_test(tiny_model(), "before")
    qtbot.waitUntil(lambda: len(batches) >= 1, timeout=10000)
    room.shutdown()
    assert len(batches) < 2000 // 50
