"""What the window says about training and data stays true as things change."""

import json

import numpy as np
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QTextBrowser

from convlab.data import sources
from convlab.gui.common.settings import app_settings
from convlab.gui.training.request import BUILTIN_SOURCE, LOADED_SOURCE


def test_untrained_note_goes_once_training_starts(qtbot, window, monkeypatch,
                                                 tiny_dataset):
    """"Untrained weights: ... guesses" is not shown beside answers being trained."""
    monkeypatch.setattr(sources, "load_dataset", lambda source: tiny_dataset)
    window.new_action.trigger()
    panel = window.prediction_panel
    assert panel.note().startswith("Untrained weights")
    data = window.training_panel.settings.data_source
    data.setCurrentIndex(data.findData(BUILTIN_SOURCE))
    with qtbot.waitSignal(window.controller.session.running_changed):
        qtbot.mouseClick(window.training_panel.start, Qt.LeftButton)
    assert panel.note() == ""
    assert "untrained" not in window.controller.model_files.note
    window.controller.session.shutdown()


def test_status_bar_says_paused_while_paused(qtbot, window, monkeypatch,
                                            tiny_dataset):
    """While a run is paused the status bar says so, not "training…"."""
    monkeypatch.setattr(sources, "load_dataset", lambda source: tiny_dataset)
    session, tab = window.controller.session, window.training_panel
    tab.settings.epochs.setValue(50)  # long enough to be paused while it runs
    data = tab.settings.data_source
    data.setCurrentIndex(data.findData(BUILTIN_SOURCE))
    with qtbot.waitSignal(session.running_changed):
        qtbot.mouseClick(tab.start, Qt.LeftButton)
    assert window.training_note() == "training…"
    qtbot.mouseClick(tab.pause, Qt.LeftButton)
    assert session.state == "paused"
    assert window.training_note() == "training paused"
    qtbot.mouseClick(tab.pause, Qt.LeftButton)  # Resume
    assert window.training_note() == "training…"
    with qtbot.waitSignal(session.running_changed):
        qtbot.mouseClick(tab.stop, Qt.LeftButton)
    assert window.training_note() == ""


def test_data_given_at_start_wins_over_generated_digits_chosen_before(
        qtbot, monkeypatch, tiny_dataset, tmp_path):
    """After a start without data (generated digits chosen), a start with --data
    trains on that data."""
    from convlab.gui.app import create_window, make_application

    monkeypatch.setattr(sources, "load_dataset", lambda folder: tiny_dataset)
    make_application([])
    store = app_settings()
    store.setValue("training/settings", json.dumps({"data_source": BUILTIN_SOURCE}))
    store.sync()
    window = create_window(data_dir=str(tmp_path))
    qtbot.addWidget(window)
    settings = window.training_panel.settings
    assert window.controller.dataset is tiny_dataset
    assert settings.data_source.currentData() == LOADED_SOURCE
    assert np.array_equal(window.controller.dataset.y_test, tiny_dataset.y_test)
    window.settings.remember = False
    window.close()


def test_help_explains_training(window):
    """The guide has a section on training: steps, loss, epochs, overfitting."""
    dialog = window.show_guide()
    text = dialog.findChild(QTextBrowser).toPlainText()
    assert "Training the network" in text
    for word in ("loss", "epoch", "learning rate", "overfitting", "Step one batch"):
        assert word in text
    dialog.close()
