"""Tests for the main window and its controller, driven like a student would."""

import numpy as np
import pytest
from PyQt5.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt5.QtGui import QImage, QMouseEvent
from PyQt5.QtWidgets import (
    QAbstractButton,
    QAbstractSlider,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QListWidget,
    QScrollBar,
    QTableWidget,
)

from convlab import nn
from convlab.data import sources
from convlab.data.mnist import EXPECTED_FILES
from convlab.gui import app
from convlab.gui.common.settings import app_settings
from convlab.gui.main_window import TABS, MainWindow
from convlab.gui.training.request import BUILTIN_SOURCE
from convlab.lab.evaluation import MISTAKES
from convlab.lab.snapshots import take_snapshot
from convlab.nn.architectures import ArchSpec, ConvBlock, build


def drag(qtbot, widget, points):
    """Press at the first point, move through the others, release at the last."""
    qtbot.mousePress(widget, Qt.LeftButton, pos=QPoint(*points[0]))
    for x, y in points[1:]:
        # QTest's mouseMove does not deliver move events offscreen; send real ones.
        QApplication.sendEvent(widget, QMouseEvent(
            QEvent.MouseMove, QPointF(x, y), Qt.NoButton, Qt.LeftButton, Qt.NoModifier))
    qtbot.mouseRelease(widget, Qt.LeftButton, pos=QPoint(*points[-1]))


def click_item(qtbot, graphics, item, x, y):
    """Click a pyqtgraph item at its own coordinates (x, y) through the real view."""
    pos = graphics.mapFromScene(item.mapToScene(QPointF(x, y)))
    qtbot.mouseClick(graphics.viewport(), Qt.LeftButton, pos=pos)


def test_drawing_updates_preview_and_probabilities(qtbot, window):
    """A mouse stroke on the canvas gives a 28x28 input and ten probabilities."""
    canvas = window.input_panel.canvas
    with qtbot.waitSignal(window.controller.views_refreshed, timeout=3000):
        drag(qtbot, canvas, [(140, 40), (140, 100), (140, 160), (140, 240)])
    window.controller.refresh_now()  # the last throttled redraw, without waiting
    preview = window.input_panel.preview_array()
    assert preview.shape == (28, 28) and preview.max() > 0.5
    p = window.prediction_panel.probabilities()
    assert p.shape == (10,) and p.sum() == pytest.approx(1.0)
    assert window.prediction_panel.predicted_digit() == int(np.argmax(p))
    np.testing.assert_array_equal(window.network_view.activation(0)[0, 0], preview)


def test_prediction_updates_before_the_stroke_ends(qtbot, window):
    """The probabilities appear while the mouse button is still held down."""
    canvas = window.input_panel.canvas
    qtbot.mousePress(canvas, Qt.LeftButton, pos=QPoint(140, 40))
    for y in range(50, 250, 20):
        QApplication.sendEvent(canvas, QMouseEvent(
            QEvent.MouseMove, QPointF(140, y), Qt.NoButton, Qt.LeftButton,
            Qt.NoModifier))
    qtbot.waitUntil(lambda: window.prediction_panel.probabilities() is not None,
                    timeout=3000)
    assert canvas.is_drawing()  # the button has not been released yet
    qtbot.mouseRelease(canvas, Qt.LeftButton, pos=QPoint(140, 240))


def test_blank_canvas_says_nothing_drawn(qtbot, window):
    """Clearing the canvas empties the preview and says nothing is drawn."""
    window.input_panel.canvas.add_stroke([(60, 60), (200, 220)])
    window.controller.refresh_now()
    qtbot.mouseClick(window.input_panel.clear_button, Qt.LeftButton)
    window.controller.refresh_now()
    assert window.prediction_panel.probabilities() is None
    assert window.prediction_panel.confidence_text() == "Nothing drawn"
    assert window.input_panel.preview_array() is None


def test_corrupt_model_file_keeps_previous_model(window, tmp_path, messages):
    """Opening a corrupt model file shows an error and keeps the current model."""
    before = window.controller.model
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a model")
    assert not window.controller.model_files.open_model(str(bad))
    assert window.controller.model is before
    assert messages and messages[-1][0] == "error"
    assert "broken.npz" in messages[-1][2]


def test_model_for_other_images_is_refused(window, tmp_path, messages):
    """A valid model file whose network does not give 10 digit scores is refused."""
    before = window.controller.model
    spec = ArchSpec(blocks=[ConvBlock(4, 3)], dense=8, num_classes=5)
    path = tmp_path / "five.npz"
    nn.save_model(path, build(spec, np.random.default_rng(0)))
    assert not window.controller.model_files.open_model(str(path))
    assert window.controller.model is before
    assert messages[-1][0] == "error"


def test_save_and_open_round_trip(window, tmp_path):
    """Saving the model and opening the file again gives the same weights."""
    path = tmp_path / "mine.npz"
    weights = [p.data.copy() for p in window.controller.view_model.parameters()]
    assert window.controller.model_files.save_model(path=str(path))
    window.controller.model_files.new_model()
    assert window.controller.model_files.open_model(str(path))
    for p, w in zip(window.controller.view_model.parameters(), weights, strict=True):
        np.testing.assert_array_equal(p.data, w)
    assert window.recent_menu.actions()[0].text() == str(path)


def test_confusion_cell_opens_gallery_and_image_becomes_input(qtbot, window,
                                                              tiny_dataset):
    """A confusion cell lists its test images; clicking one makes it the input."""
    controller = window.controller
    controller.set_dataset(tiny_dataset)
    window.show_tab("evaluation")
    controller.evaluation.evaluate_test_set()
    qtbot.waitUntil(lambda: controller.evaluation.result is not None, timeout=10000)
    panel = window.evaluation_panel
    counts = panel.confusion_counts()
    assert counts.sum() == len(tiny_dataset.y_test)
    row, col = np.unravel_index(np.argmax(counts), counts.shape)
    table = panel.confusion
    cell = table.visualItemRect(table.item(row, col)).center()
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=cell)
    indices = panel.gallery_indices()
    assert len(indices) == counts[row, col]
    for i in indices:
        assert tiny_dataset.y_test[i] == row
        assert controller.evaluation.result["predictions"][i] == col
    item = panel.gallery.item(0)
    qtbot.mouseClick(panel.gallery.viewport(), Qt.LeftButton,
                     pos=panel.gallery.visualItemRect(item).center())
    np.testing.assert_array_equal(controller.current_input,
                                  tiny_dataset.x_test[indices[0], 0])
    assert controller.current_label == row


def test_evaluation_fills_mistakes_and_per_digit_bars(qtbot, window, tiny_dataset):
    """After an evaluation the most-confidently-wrong gallery holds the wrong images,
    surest first, and the per-digit bars are the evaluation's values."""
    controller, panel = window.controller, window.evaluation_panel
    window.new_action.trigger()  # random weights: plenty of mistakes
    controller.set_dataset(tiny_dataset)
    controller.evaluation.evaluate_test_set()
    qtbot.waitUntil(lambda: controller.evaluation.result is not None, timeout=10000)
    result = controller.evaluation.result
    y, pred, probs = tiny_dataset.y_test, result["predictions"], result["probabilities"]
    wrong = np.flatnonzero(pred != y)
    assert wrong.size > 0
    sureness = probs[wrong, pred[wrong]]
    expected = wrong[np.argsort(-sureness, kind="stable")][:MISTAKES]
    assert panel.mistake_indices() == expected.tolist()
    shown = probs[expected, pred[expected]]
    assert np.all(np.diff(shown) <= 0)
    np.testing.assert_array_equal(panel.per_class_accuracy(),
                                  np.nan_to_num(result["per_class"]))
    bottom, top = panel.accuracy_axis_range()
    assert top == 1.0 and 0 <= bottom <= np.nanmin(result["per_class"])


def test_accuracy_axis_zooms_to_the_digits(window):
    """Per-digit accuracies of 96-99% get an axis from just below 96%, not from 0."""
    panel = window.evaluation_panel
    per_class = np.array([0.99, 0.98, 0.97, 0.96, 0.99, 0.98, 0.99, 0.97, 0.96, 0.98])
    confusion = np.diag(np.round(per_class * 100)).astype(int)
    panel.set_results(0.978, per_class, confusion, "test digits")
    bottom, top = panel.accuracy_axis_range()
    assert 0.9 <= bottom < 0.96 and top == 1.0
    assert f"axis from {bottom:.0%}" in panel.per_class_box.title()
    panel.clear_results()
    assert panel.accuracy_axis_range() == (0.0, 1.0)


def test_evaluation_tab_evaluates_by_itself(qtbot, window, tiny_dataset):
    """With data, showing the Evaluation tab evaluates unasked, again for a new net."""
    controller, panel = window.controller, window.evaluation_panel
    controller.set_dataset(tiny_dataset)
    assert controller.evaluation.result is None  # another tab is on show: nothing runs
    assert panel.confusion_counts() is None
    window.show_tab("evaluation")
    qtbot.waitUntil(lambda: controller.evaluation.result is not None, timeout=10000)
    assert panel.confusion_counts().sum() == len(tiny_dataset.y_test)
    assert panel.evaluate_button.isEnabled()  # still there for re-runs
    window.new_action.trigger()
    assert controller.evaluation.result is None
    qtbot.waitUntil(lambda: controller.evaluation.result is not None, timeout=10000)
    assert panel.confusion_counts().sum() == len(tiny_dataset.y_test)


def test_screenshot_of_evaluation_waits_for_the_result(window, tiny_dataset,
                                                       tmp_path, monkeypatch):
    """A screenshot of the Evaluation tab is taken once the evaluation has finished."""
    controller = window.controller
    controller.set_dataset(tiny_dataset)
    at_grab = []
    grab = window.grab

    def recording_grab():
        at_grab.append(window.evaluation_panel.confusion_counts())
        return grab()

    monkeypatch.setattr(window, "grab", recording_grab)
    app.save_screenshot(window, tmp_path / "eval.png", "evaluation")
    assert at_grab[0] is not None
    assert at_grab[0].sum() == len(tiny_dataset.y_test)
    assert (tmp_path / "eval.png").is_file()


def test_clicking_a_filter_enlarges_it(qtbot, window):
    """Clicking a conv filter in the Network tab shows its weights enlarged."""
    view = window.network_view
    column = next(i for i, t in enumerate(view.columns()) if t.startswith("Conv"))
    item = view.filter_item(column)
    click_item(qtbot, view.graphics, item, *item.tile_center(5))
    detail = window.detail_view
    assert detail.isVisible()
    weights = view.filter_weights(column)
    np.testing.assert_allclose(detail.array(), weights[5, 0])
    assert detail.table.rowCount() == weights.shape[2]


def test_second_conv_overview_has_one_tile_per_filter(qtbot, window):
    """The 64-filter overview shows one 3x3 tile per filter and says which channel;
    clicking a tile enlarges that filter with all its channels."""
    view = window.network_view
    column = [i for i, t in enumerate(view.columns()) if t.startswith("Conv")][1]
    weights = view.filter_weights(column)
    f, c = weights.shape[:2]
    assert c > 1
    item = view.filter_item(column)
    assert item.count == f and (item.tile_h, item.tile_w) == weights.shape[2:]
    channels = view.filter_channels(column)
    shown = item.image[:3, item.tile_w + 1:2 * item.tile_w + 1]  # the second tile
    np.testing.assert_allclose(shown, weights[1, channels[1]])
    assert "strongest channel" in view.filter_caption(column)
    assert "largest weights" in item.toolTip()
    click_item(qtbot, view.graphics, item, *item.tile_center(7))
    enlarged = window.detail_view.array()
    assert np.count_nonzero(np.isfinite(enlarged)) == weights[7].size
    np.testing.assert_allclose(np.sort(enlarged[np.isfinite(enlarged)]),
                               np.sort(weights[7].ravel()), rtol=1e-6)
    assert f"map {channels[7]}'s" in window.detail_view.explanation.text()


def test_clicking_a_feature_map_enlarges_it(qtbot, window):
    """Clicking a feature map shows that map enlarged with its numbers."""
    window.input_panel.canvas.add_stroke([(80, 60), (200, 220)])
    window.controller.refresh_now()
    view = window.network_view
    item = view.column_item(1)
    click_item(qtbot, view.graphics, item, *item.tile_center(3))
    np.testing.assert_allclose(window.detail_view.array(), view.activation(1)[0, 3],
                               rtol=1e-6)


def test_folder_without_mnist_names_the_files(window, tmp_path, messages):
    """Opening a folder without MNIST says which four files are expected."""
    assert not window.controller.data_files.open_dataset(str(tmp_path))
    kind, _, text = messages[-1]
    assert kind == "error"
    assert all(name in text for name in EXPECTED_FILES)
    assert window.controller.dataset is None


def test_failed_download_leaves_nothing_behind(qtbot, window, tmp_path, messages,
                                               capfd):
    """A download from a mirror that does not exist reports it, writes no file and
    prints nothing in the terminal."""
    dest = tmp_path / "mnist"
    task = window.controller.data_files.download_mnist(
        dest=dest, mirrors=[(tmp_path / "no-mirror").as_uri()])
    with qtbot.waitSignal(task.finished, timeout=10000):
        pass
    qtbot.waitUntil(lambda: bool(messages))
    assert messages[-1][0] == "error"
    assert list(dest.iterdir()) == []
    assert window.controller.dataset is None
    assert "Traceback" not in capfd.readouterr().err


def test_closing_during_evaluation_leaves_no_thread(qtbot, window, tiny_dataset):
    """Closing the window while a background evaluation runs joins its thread."""
    controller = window.controller
    controller.set_dataset(tiny_dataset)
    task = controller.evaluation.evaluate_test_set()
    window.close()
    assert not task.is_running()
    assert not controller.evaluation._tasks.running()


def test_every_control_teaches_and_is_named(window):
    """Each interactive control of the window has a tooltip and an accessible name."""
    kinds = (QAbstractButton, QAbstractSlider, QAbstractSpinBox, QComboBox,
             QListWidget, QTableWidget)
    mine = (window.input_panel, window.prediction_panel, window.network_view,
            window.evaluation_panel, window.detail_view)
    missing = []
    for panel in mine:
        for widget in panel.findChildren(kinds):
            # Scroll bars and a table's corner button belong to Qt's own widgets.
            if isinstance(widget, QScrollBar) or type(widget) is QAbstractButton:
                continue
            if not widget.toolTip() or not widget.accessibleName():
                missing.append(f"{type(widget).__name__} {widget.objectName()}")
    assert missing == []


def test_screenshot_option_writes_a_png(tmp_path):
    """`--screenshot PATH --tab evaluation` saves a 1280x800 PNG of the window."""
    path = tmp_path / "shot.png"
    assert app.run(["--screenshot", str(path), "--tab", "evaluation"]) == 0
    image = QImage(str(path))
    assert (image.width(), image.height()) == (1280, 800)


def test_screenshot_run_leaves_the_settings_alone(tmp_path, monkeypatch,
                                                  tiny_dataset):
    """`--model M --data DIR --screenshot PATH` stores no setting at all."""
    model_path = tmp_path / "net.npz"
    nn.save_model(model_path, build(ArchSpec([ConvBlock(4)], dense=0),
                                    np.random.default_rng(0)))
    monkeypatch.setattr(sources, "load_dataset", lambda folder: tiny_dataset)
    shot = tmp_path / "shot.png"
    assert app.run(["--model", str(model_path), "--data", str(tmp_path),
                    "--screenshot", str(shot)]) == 0
    assert shot.is_file()
    settings = app_settings()
    settings.sync()
    assert settings.allKeys() == []


def test_enlarged_filter_opens_in_the_playground(qtbot, window):
    """"Edit this filter in the Playground" switches to the Playground tab."""
    view = window.network_view
    column = next(i for i, t in enumerate(view.columns()) if t.startswith("Conv"))
    item = view.filter_item(column)
    click_item(qtbot, view.graphics, item, *item.tile_center(2))
    qtbot.mouseClick(window.detail_view.edit_button, Qt.LeftButton)
    assert window.tabs.currentIndex() == TABS.index("playground")


def test_test_image_picker_sets_the_input(qtbot, window, tiny_dataset):
    """Choosing a test image by number makes it the input and shows its label."""
    window.controller.set_dataset(tiny_dataset)
    window.input_panel.sample_spin.setValue(7)
    qtbot.mouseClick(window.input_panel.show_sample_button, Qt.LeftButton)
    window.controller.refresh_now()
    np.testing.assert_array_equal(window.input_panel.preview_array(),
                                  tiny_dataset.x_test[7, 0])
    assert window.controller.current_label == tiny_dataset.y_test[7]
    assert window.prediction_panel.probabilities() is not None


def test_export_to_pytorch_writes_a_module(window, tmp_path):
    """File > Export to PyTorch writes a Python file with a build() function."""
    path = tmp_path / "digits.py"
    assert window.controller.model_files.export_pytorch(str(path))
    text = path.read_text(encoding="utf-8")
    assert "def build" in text and "import torch" in text
    assert [p.name for p in tmp_path.iterdir()] == ["digits.py"]
    assert path.stat().st_mode & 0o044  # readable by others, not mkstemp's 0600


def test_digit_keys_reach_my_digits(qtbot, window):
    """A digit key pressed on the window (not in a field) asks to label the drawing."""
    window.activateWindow()
    with qtbot.waitSignal(window.digit_key_pressed) as blocker:
        qtbot.keyClick(window, Qt.Key_7)
    assert blocker.args == [7]


def test_window_settings_persist(qtbot, window):
    """Tab and brush thickness chosen in one session come back in the next."""
    window.show_tab("evaluation")
    window.input_panel.brush_slider.setValue(33)
    window.close()
    again = MainWindow()
    qtbot.addWidget(again)
    assert again.tabs.currentIndex() == TABS.index("evaluation")
    assert again.input_panel.canvas.brush_width() == 33
    again.close()


def test_training_settings_persist(qtbot, window):
    """The Training tab's architecture and settings come back in the next session."""
    panel = window.training_panel
    panel.set_arch(ArchSpec([ConvBlock(6, 5, pool="avg")], batch_norm=True, dense=32))
    panel.settings.optimizer.setCurrentIndex(panel.settings.optimizer.findData("sgd"))
    panel.settings.lr.setValue(0.02)
    panel.settings.batch_size.setValue(48)
    panel.settings.epochs.setValue(4)
    panel.settings.augment.setChecked(True)
    saved = panel.saved_state()
    window.close()
    again = app.create_window()
    qtbot.addWidget(again)
    assert again.training_panel.saved_state() == saved
    again.close()


def test_model_and_data_folder_persist(qtbot, window, tmp_path, monkeypatch,
                                       tiny_dataset):
    """The last model, the recent models and the data folder are used at restart."""
    folders = []

    def load_dataset(folder):
        folders.append(folder)
        return tiny_dataset

    monkeypatch.setattr(sources, "load_dataset", load_dataset)
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    assert window.controller.model_files.save_model(path=str(first))
    assert window.controller.model_files.save_model(path=str(second))
    assert window.controller.data_files.open_dataset(str(tmp_path))
    window.close()
    folders.clear()
    again = app.create_window()
    qtbot.addWidget(again)
    assert again.controller.model_files.path == str(second)
    assert [a.text() for a in again.recent_menu.actions()] == [str(second),
                                                               str(first)]
    assert folders == [str(tmp_path)] and again.controller.dataset is tiny_dataset
    again.close()


def test_training_on_generated_digits_is_named_in_the_status_bar(
        qtbot, window, monkeypatch, tiny_dataset):
    """With no MNIST loaded, a run on the generated digits names them as the data."""
    monkeypatch.setattr(sources, "load_dataset",
                        lambda source: tiny_dataset)  # no 10 s of drawing digits
    panel = window.training_panel
    data = panel.settings.data_source
    data.setCurrentIndex(data.findData(BUILTIN_SOURCE))
    assert window.dataset_note() == "Data: none loaded"
    with qtbot.waitSignal(window.controller.session.running_changed):
        qtbot.mouseClick(panel.start, Qt.LeftButton)
    window.controller.session.shutdown()
    assert window.dataset_note() == (
        f"Data: generated digits ({sources.BUILTIN_TRAIN} train, "
        f"{sources.BUILTIN_TEST} test) (training only)")


def test_enlarged_map_follows_the_input(qtbot, window):
    """An enlarged feature map shows the new numbers after the drawing changes."""
    window.input_panel.canvas.add_stroke([(80, 60), (200, 220)])
    window.controller.refresh_now()
    view = window.network_view
    item = view.column_item(1)
    click_item(qtbot, view.graphics, item, *item.tile_center(3))
    window.input_panel.canvas.add_stroke([(60, 200), (220, 200)])
    window.controller.refresh_now()
    np.testing.assert_allclose(window.detail_view.array(), view.activation(1)[0, 3],
                               rtol=1e-6)


def test_new_network_says_its_weights_are_untrained(window):
    """File > New gives fresh random weights and says they are untrained."""
    before = window.controller.model
    window.new_action.trigger()
    assert window.controller.model is not before
    assert window.controller.model_files.note.startswith("untrained")
    assert "Untrained" in window.prediction_panel.note()


def test_training_redraw_draws_the_snapshots_activations(window):
    """A snapshot's activations for the current input are drawn as they are; those
    taken for another input are replaced by the current input's own."""
    controller, view = window.controller, window.network_view
    window.input_panel.canvas.add_stroke([(80, 60), (200, 220)])
    controller.refresh_now()
    probe = controller.current_input[None, None].astype(np.float32)  # (1, 1, 28, 28)
    last = len(controller.view_model.layers)  # the column of the class scores
    snapshot = take_snapshot(controller.model, 1, probe)
    marker = np.full_like(snapshot.activations[-2], 0.125)
    snapshot.activations[-2] = marker  # a value the GUI could not compute itself
    controller.session.weights_updated.emit(snapshot)
    controller.refresh_now()
    np.testing.assert_array_equal(view.activation(last - 1), marker)

    stale = take_snapshot(controller.model, 2, np.zeros_like(probe))
    stale.activations[-2] = marker
    controller.session.weights_updated.emit(stale)
    controller.refresh_now()
    expected = controller.view_model.activations(probe)
    np.testing.assert_allclose(view.activation(last - 1), expected[-2], rtol=1e-6)
    np.testing.assert_allclose(view.activation(last), expected[-1], rtol=1e-6)
