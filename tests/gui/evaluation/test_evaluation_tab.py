"""The Evaluation tab always describes the loaded dataset."""

import time

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
    controller.evaluation.evaluate_test_set()
    qtbot.waitUntil(lambda: controller.evaluation.result is not None, timeout=10000)
    assert panel.confusion_counts() is not None
    controller.set_dataset(other_dataset(tiny_dataset))
    assert controller.evaluation.result is None
    assert panel.confusion_counts() is None
    assert panel.summary.text() == "Not evaluated yet."
    window.show_tab("evaluation")  # the tab then evaluates the new data by itself
    qtbot.waitUntil(lambda: controller.evaluation.result is not None, timeout=10000)
    assert panel.confusion_counts().sum() == 3 * len(tiny_dataset.y_test)


def test_cell_click_for_another_dataset_is_ignored(qtbot, window, tiny_dataset):
    """A cell click that reaches the Evaluation room with an evaluation of other data
    opens nothing instead of mixing the two."""
    controller, panel = window.controller, window.evaluation_panel
    controller.set_dataset(tiny_dataset)
    controller.evaluation.evaluate_test_set()
    qtbot.waitUntil(lambda: controller.evaluation.result is not None, timeout=10000)
    evaluation = controller.evaluation.result
    controller.set_dataset(other_dataset(tiny_dataset))
    controller.evaluation.result = evaluation  # as if a late result had slipped in
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


def slow_counted_evaluation(monkeypatch):
    """Make the Evaluation room's evaluations slow; returns the batch sizes each network
    evaluated, by network (the clone evaluate is given), and a key "ended" listing
    the networks whose evaluation has returned or raised."""
    from convlab.gui.evaluation import presenter

    batches, real_evaluate = {"ended": []}, presenter.evaluate

    def counting_evaluate(model, x, y, **kwargs):
        infer, seen = model.infer, batches.setdefault(model, [])

        def counted(xb):
            seen.append(len(xb))
            time.sleep(0.02)  # a slow network, so what comes next finds it running
            return infer(xb)

        model.infer = counted
        try:
            return real_evaluate(model, x, y, batch_size=50, **kwargs)
        finally:
            batches["ended"].append(model)

    monkeypatch.setattr(presenter, "evaluate", counting_evaluate)
    return batches


def many_test_digits(tiny_dataset):
    """tiny_dataset with 6,000 test digits: 120 batches of 50."""
    x, y = tiny_dataset.x_test, tiny_dataset.y_test
    return Dataset("many test digits", tiny_dataset.x_train, tiny_dataset.y_train,
                   np.concatenate([x] * 300), np.concatenate([y] * 300))


def test_closing_during_an_evaluation_cancels_it(qtbot, window, tiny_dataset,
                                                 monkeypatch, messages):
    """Closing the window stops a running test-set evaluation after the batch under
    way instead of waiting for all of them, shows no error and leaves no thread."""
    batches = slow_counted_evaluation(monkeypatch)
    controller = window.controller
    controller.set_dataset(many_test_digits(tiny_dataset))
    task = controller.evaluation.evaluate_test_set()
    qtbot.waitUntil(lambda: len(batches) > 1, timeout=10000)
    window.close()
    assert not task.is_running()
    [model] = batches["ended"]
    assert len(batches[model]) < 120
    qtbot.wait(50)  # let the task's queued reports arrive
    assert controller.evaluation.result is None
    assert messages == []  # a cancel the student asked for is no failure


def test_evaluating_another_network_cancels_the_old_evaluation(
        qtbot, window, tiny_dataset, monkeypatch, messages):
    """An evaluation of a network no longer shown stops when the new one's starts,
    and only the new network's result is shown."""
    batches = slow_counted_evaluation(monkeypatch)
    controller = window.controller
    controller.set_dataset(many_test_digits(tiny_dataset))
    controller.evaluation.evaluate_test_set()
    qtbot.waitUntil(lambda: len(batches) > 1, timeout=10000)
    [old] = [key for key in batches if key != "ended"]
    controller.model_files.new_model()
    controller.evaluation.evaluate_test_set()
    qtbot.waitUntil(lambda: len(batches["ended"]) == 2, timeout=60000)
    assert batches["ended"][0] is old and len(batches[old]) < 120
    new = batches["ended"][1]
    assert len(batches[new]) == 120
    qtbot.waitUntil(lambda: controller.evaluation.result is not None, timeout=10000)
    assert messages == []
