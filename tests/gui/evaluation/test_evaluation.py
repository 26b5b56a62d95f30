"""The Evaluation tab always describes the loaded dataset."""

import numpy as np
from PyQt5.QtCore import Qt

from convlab.data.sources import Dataset
from convlab.gui.evaluation.panel import EvaluationPanel


def other_dataset(tiny_dataset):
    """A dataset with a different number of test images than tiny_dataset."""
    x = np.concatenate([tiny_dataset.x_test] * 3)
    y = np.concatenate([tiny_dataset.y_test] * 3)
    return Dataset("other test digits", tiny_dataset.x_train, tiny_dataset.y_train,
                   x, y)


def click_cell(qtbot, table, row, col):
    rect = table.visualItemRect(table.item(row, col))
    qtbot.mouseClick(table.viewport(), Qt.LeftButton, pos=rect.center())


def test_new_dataset_clears_the_old_evaluation(qtbot, window, tiny_dataset):
    """After loading other data the old matrix is gone and clicking a cell of the
    table raises nothing and opens no gallery."""
    controller, panel = window.controller, window.evaluation_panel
    controller.set_dataset(tiny_dataset)
    controller.evaluate_test_set()
    qtbot.waitUntil(lambda: controller.evaluation is not None, timeout=10000)
    assert panel.confusion_counts() is not None
    controller.set_dataset(other_dataset(tiny_dataset))
    assert controller.evaluation is None
    assert panel.confusion_counts() is None
    assert panel.summary.text() == "Not evaluated yet."
    window.show_tab("evaluation")  # the tab then evaluates the new data by itself
    qtbot.waitUntil(lambda: controller.evaluation is not None, timeout=10000)
    assert panel.confusion_counts().sum() == 3 * len(tiny_dataset.y_test)


def test_cell_click_for_another_dataset_is_ignored(qtbot, window, tiny_dataset):
    """A cell click that reaches the controller with an evaluation of other data
    opens nothing instead of mixing the two."""
    controller, panel = window.controller, window.evaluation_panel
    controller.set_dataset(tiny_dataset)
    controller.evaluate_test_set()
    qtbot.waitUntil(lambda: controller.evaluation is not None, timeout=10000)
    evaluation = controller.evaluation
    controller.set_dataset(other_dataset(tiny_dataset))
    controller.evaluation = evaluation  # as if a late result had slipped in
    panel.set_confusion(evaluation["confusion"])
    click_cell(qtbot, panel.confusion, 1, 1)
    assert panel.gallery_indices() == []


def test_clearing_while_an_evaluation_winds_down_says_not_evaluated(qtbot):
    """Results cleared between an evaluation's result and its end still read 'Not
    evaluated yet.', and Evaluate stays off until that run has ended."""
    panel = EvaluationPanel()
    qtbot.addWidget(panel)
    panel.set_available(True)
    panel.set_running(True, "Evaluating…")
    panel.set_available(True)  # new data arrives while the old run ends
    assert not panel.evaluate_button.isEnabled()
    panel.clear_results()
    assert panel.summary.text() == "Not evaluated yet."
    panel.set_running(False)
    assert panel.evaluate_button.isEnabled()
