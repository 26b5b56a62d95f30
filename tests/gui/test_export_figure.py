"""Figures out of the app: File > Export figure, the plots' and the confusion
matrix's right-click Export, and clear words when the file cannot be written."""

import errno

import numpy as np
from PyQt5.QtGui import QImage

from convlab.gui.common import dialogs, figures


def answer_save_dialog(monkeypatch, path):
    monkeypatch.setattr(dialogs, "ask_save_file", lambda *args: str(path))


def test_export_figure_saves_the_whole_tab(window, monkeypatch, tmp_path, messages):
    """File > Export figure writes the current tab's page, all of it, as a PNG."""
    window.show_tab("evaluation")
    answer_save_dialog(monkeypatch, tmp_path / "eval")  # no suffix: .png is added
    window.export_figure_action.trigger()
    image = QImage(str(tmp_path / "eval.png"))
    page = window.tabs.currentWidget().widget()
    assert not image.isNull() and messages == []
    assert (image.width(), image.height()) == (page.width(), page.height())


def test_a_folder_that_does_not_exist_is_said(window, monkeypatch, tmp_path,
                                              messages):
    """An unwritable place gives a message naming the file; no file appears."""
    target = tmp_path / "no such folder" / "figure.png"
    answer_save_dialog(monkeypatch, target)
    assert window.export_figure() == ""
    assert not target.exists()
    [(kind, title, text)] = messages
    assert kind == "error" and str(target) in text and "Nothing else changed" in text


def test_a_full_disk_is_said_and_leaves_no_file(window, monkeypatch, tmp_path,
                                                messages):
    """A disk that fills while writing: the message says so and nothing is left."""
    def full(path, write):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(figures, "write_atomic", full)
    answer_save_dialog(monkeypatch, tmp_path / "figure.png")
    assert window.export_figure() == ""
    assert "No space left on device" in messages[0][2]
    assert list(tmp_path.iterdir()) == []


def test_confusion_matrix_exports_from_its_right_click_menu(window, monkeypatch,
                                                           tmp_path):
    """The confusion matrix's context menu has Export image, which saves it."""
    panel = window.evaluation_panel
    panel.set_results(0.5, np.full(10, 0.5), np.eye(10, dtype=int) * 7, "digits")
    assert panel.export_confusion_action in panel.confusion.actions()
    answer_save_dialog(monkeypatch, tmp_path / "matrix.png")
    panel.export_confusion_action.trigger()
    image = QImage(str(tmp_path / "matrix.png"))
    assert (image.width(), image.height()) == (panel.confusion.width(),
                                               panel.confusion.height())


def test_learning_curves_offer_pyqtgraphs_export(window):
    """Right-clicking a learning curve offers pyqtgraph's Export (PNG, SVG, CSV)."""
    curves = window.training_panel.curves
    for plot in (curves.loss_plot, curves.acc_plot):
        assert plot.getPlotItem().menuEnabled()
        texts = [action.text() for action in plot.scene().contextMenu]
        assert any(text.startswith("Export") for text in texts)
