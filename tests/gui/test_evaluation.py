"""The Evaluation tab always describes the loaded dataset."""

import time

import numpy as np
from PyQt5.QtCore import Qt

from convlab.data.sources import Dataset


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


def test_closing_during_an_evaluation_cancels_it(qtbot, window, tiny_dataset,
                                                 monkeypatch, messages):
    """Closing the window stops a running test-set evaluation after the batch under
    way instead of waiting for all of them, shows no error and leaves no thread."""
    from convlab.gui import controller as controller_module

    batches, real_evaluate = [], controller_module.evaluate

    def counting_evaluate(model, x, y, **kwargs):
        forward = model.forward

        def counted(xb):
            batches.append(len(xb))
            time.sleep(0.02)  # a slow network, so the close comes mid-way
            return forward(xb)

        model.forward = counted
        return real_evaluate(model, x, y, batch_size=50, **kwargs)

    monkeypatch.setattr(controller_module, "evaluate", counting_evaluate)
    x, y = tiny_dataset.x_test, tiny_dataset.y_test
    big = Dataset("many test digits", tiny_dataset.x_train, tiny_dataset.y_train,
                  np.concatenate([x] * 300), np.concatenate([y] * 300))
    controller = window.controller
    controller.set_dataset(big)
    task = controller.evaluate_test_set()
    qtbot.waitUntil(lambda: len(batches) >= 1, timeout=10000)
    window.close()
    assert not task.is_running()
    assert len(batches) < len(big.x_test) // 50
    qtbot.wait(50)  # let the task's queued reports arrive
    assert controller.evaluation is None
    assert messages == []  # a cancel the student asked for is no failure
