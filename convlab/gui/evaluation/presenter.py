"""EvaluationPresenter: evaluates the network on the test set in the background and
fills the Evaluation tab (accuracy, confusion matrix, a cell's images, mistakes).

A result always belongs to one network and one dataset: one that arrives after
either changed is old news and is dropped, and a cell click never mixes the result
of one dataset with the images of another. While the tab is on show it evaluates
unasked, once per network and dataset.
"""

import time

import numpy as np
from PyQt5.QtCore import QCoreApplication, QObject, QThread, pyqtSignal

from convlab.evaluation import evaluate
from convlab.gui.common import dialogs
from convlab.gui.common.tasks import BackgroundTask, TaskList
from convlab.lab.evaluation import cell_gallery, mistakes
from convlab.lab.snapshots import clone_model


class EvaluationPresenter(QObject):
    """Runs evaluate() on a copy of the network and shows its result."""

    status_changed = pyqtSignal(str)  # a short note for the status bar

    def __init__(self, panel, is_training, parent=None):
        """is_training() says whether a run is changing the weights right now."""
        super().__init__(parent)
        self.panel = panel
        self.model = None  # the GUI's copy of the network
        self.dataset = None
        self.result = None  # the last evaluate() result
        self._evaluated_on = None  # the dataset that result is about
        self._task = None  # the newest running evaluation
        self._auto_evaluated = None  # (model, dataset) last evaluated unasked
        self._is_training = is_training
        self._tasks = TaskList()
        panel.evaluate_requested.connect(self.evaluate_test_set)
        panel.shown.connect(self.evaluate_if_needed)
        panel.cell_selected.connect(self._on_panel_cell_selected)

    def set_model(self, model):
        """Another network is shown: its results are not known yet."""
        self.model = model
        self.result = self._evaluated_on = None
        self.panel.clear_results()
        self.evaluate_if_needed()

    def set_dataset(self, dataset):
        """Evaluate on dataset from now on (None: no data, nothing to evaluate)."""
        self.dataset = dataset
        if dataset is not self._evaluated_on:  # the results are about other digits
            self.result = self._evaluated_on = None
            self.panel.clear_results()
        self.panel.set_available(
            dataset is not None,
            "Load MNIST first (File > Open dataset folder or Download MNIST).")
        self.evaluate_if_needed()

    def evaluate_test_set(self):
        """Evaluate a copy of the current network on the test set, in the background.

        Returns the BackgroundTask (the one already running for this network and
        data, if any), or None without a dataset.
        """
        if self.dataset is None:
            return None
        source, dataset = self.model, self.dataset
        running = self._task
        if running is not None and _same(running.evaluates, (source, dataset)):
            return running
        if running is not None:
            running.cancel()  # about a network or data no longer shown
        model = clone_model(source)
        # task.cancel() (shutdown, a newer evaluation) stops it at the next batch.
        task = BackgroundTask(
            lambda report: evaluate(model, dataset.x_test, dataset.y_test,
                                    cancelled=task.is_cancelled), self)
        task.evaluates = (source, dataset)
        self.panel.set_running(True, f"Evaluating {len(dataset.x_test)} test images…")
        task.succeeded.connect(lambda result: self._on_task_succeeded(
            result, source, dataset))
        task.failed.connect(lambda message: None if task.is_cancelled() else
                            self._message("Evaluation failed", message))
        task.finished.connect(lambda: self._on_task_finished(task))
        self._task = task
        return self._tasks.start(task)

    def evaluate_if_needed(self):
        """Evaluate unasked when the Evaluation tab is on show and has no result.

        A student then sees the confusion matrix without hunting for the button.
        Once per network and dataset (a failed run is not retried in a loop), and
        not while training changes the weights.
        """
        key = (self.model, self.dataset)
        if (self.dataset is None or self.model is None or self.result is not None
                or self._task is not None or not self.panel.isVisible()
                or self._is_training() or _same(self._auto_evaluated, key)):
            return None
        self._auto_evaluated = key
        return self.evaluate_test_set()

    def finish(self, timeout_s):
        """Wait (at most timeout_s) for the running evaluation and show its result."""
        task = self._task
        if task is None:
            return
        deadline = time.monotonic() + timeout_s
        while task.is_running() and time.monotonic() < deadline:
            QThread.msleep(10)
        if not task.is_running():
            # Its result and end are queued signals: deliver them now, in order.
            QCoreApplication.sendPostedEvents(task, 0)

    def shutdown(self):
        """Stop the evaluations after their batch under way and join their threads."""
        self._tasks.cancel_all_and_wait()

    def _message(self, title, text):
        dialogs.show_message(self.panel.window(), "error", title, text)
        self.status_changed.emit(title)

    # Slots

    def _on_task_succeeded(self, result, source, dataset):
        if source is not self.model or dataset is not self.dataset:
            return  # the network or the data changed meanwhile: old news
        self.result, self._evaluated_on = result, dataset
        probabilities = result["probabilities"]
        self.panel.set_results(result["accuracy"], result["per_class"],
                               result["confusion"], dataset.name.split(" from ")[0],
                               finite=bool(np.isfinite(probabilities).all()))
        worst, captions = mistakes(dataset.y_test, result["predictions"],
                                   probabilities)
        self.panel.show_mistakes(dataset.x_test[worst, 0], worst, captions)
        self.status_changed.emit(f"Test accuracy {result['accuracy']:.2%}")

    def _on_task_finished(self, task):
        if task is self._task:  # not an older run for an old network
            self._task = None
            self.panel.set_running(False)
            self.evaluate_if_needed()  # the network changed while it ran

    def _on_panel_cell_selected(self, true_digit, predicted):
        if (self.result is None or self.dataset is None
                or self._evaluated_on is not self.dataset):
            return  # no result for the digits now loaded
        title, shown, captions = cell_gallery(
            self.dataset.y_test, self.result["predictions"],
            self.result["probabilities"], true_digit, predicted)
        self.panel.show_gallery(title, self.dataset.x_test[shown, 0], shown, captions)


def _same(pair, other):
    """True when two (model, dataset) pairs hold the very same objects."""
    return pair is not None and all(a is b for a, b in zip(pair, other, strict=True))
