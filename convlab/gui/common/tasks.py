"""BackgroundTask: run one slow function (evaluation, download) on its own QThread.

TaskList keeps the tasks one owner has started, so closing the window can join them.
"""

import threading
import traceback

from PyQt5.QtCore import QObject, Qt, QThread, pyqtSignal, pyqtSlot

from convlab.evaluation import EvaluationCancelled
from convlab.nn._malloc import release_freed_memory

# Failures that happen in normal use (no network, a bad file, a cancel): the message
# says it all, so the terminal stays quiet.
EXPECTED_FAILURES = (OSError, ValueError, EvaluationCancelled)


class _TaskWorker(QObject):
    """Calls fn(report) in the worker thread; never touches a widget."""

    progressed = pyqtSignal(object)
    succeeded = pyqtSignal(object)
    failed = pyqtSignal(str)
    finished = pyqtSignal()

    def __init__(self, fn, expected):
        super().__init__()
        self._fn = fn
        self._expected = expected

    @pyqtSlot()
    def run(self):
        try:
            result = self._fn(self.progressed.emit)
        except Exception as exc:  # any failure becomes a message, never a crash
            if not isinstance(exc, self._expected):
                traceback.print_exc()  # a bug: keep the details for whoever fixes it
            self.failed.emit(str(exc) or type(exc).__name__)
        else:
            self.succeeded.emit(result)
        finally:
            # fn may hold a whole network copy: let it go as soon as it has run,
            # and hand the memory its arrays used back to the system (an
            # evaluation's buffers alone are ~100 MB).
            self._fn = None
            release_freed_memory()
            self.finished.emit()


class BackgroundTask(QObject):
    """Runs fn(report) on a new QThread; report(value) reaches progressed in the GUI.

    The same shape as the training worker: a QObject worker moved
    to a QThread, results back through queued signals, wait() joins the thread.
    Every exception fn raises becomes failed(message); only those not in expected
    (bugs, not everyday failures) also print a traceback. Once finished has been
    delivered, the task deletes its thread, its worker and itself: drop every
    reference to it in a slot connected to finished.
    """

    progressed = pyqtSignal(object)
    succeeded = pyqtSignal(object)
    failed = pyqtSignal(str)
    finished = pyqtSignal()

    def __init__(self, fn, parent=None, on_cancel=None, expected=EXPECTED_FAILURES):
        super().__init__(parent)
        self._on_cancel = on_cancel
        self._cancelled = threading.Event()
        self._thread = QThread()
        self._worker = _TaskWorker(fn, tuple(expected))
        self._worker.moveToThread(self._thread)
        self._thread.started.connect(self._worker.run)
        self._worker.progressed.connect(self.progressed)
        self._worker.succeeded.connect(self.succeeded)
        self._worker.failed.connect(self.failed)
        # Direct: quit() is thread-safe, and a queued call would never arrive while
        # the GUI thread is blocked in wait() during shutdown.
        self._worker.finished.connect(self._thread.quit, Qt.DirectConnection)
        # Emitted in the ending thread itself, so the worker is deleted there.
        self._thread.finished.connect(self._worker.deleteLater)
        self._thread.finished.connect(self._on_thread_finished)

    @pyqtSlot()
    def _on_thread_finished(self):
        self.finished.emit()
        # After the slots above have run: a finished task would otherwise live as
        # long as its parent, holding its result and its function's data.
        self._thread.deleteLater()
        self.deleteLater()

    def start(self):
        """Start the thread."""
        self._thread.start()

    def cancel(self):
        """Ask fn to stop early: is_cancelled() turns true and on_cancel runs. A fn
        that checks neither runs to the end."""
        self._cancelled.set()
        if self._on_cancel is not None:
            self._on_cancel()

    def is_cancelled(self):
        """True once cancel() was called; fn may poll it from its thread, e.g.
        ``evaluate(..., cancelled=task.is_cancelled)``."""
        return self._cancelled.is_set()

    def is_running(self):
        """True until the thread has ended."""
        return self._thread.isRunning()

    def wait(self):
        """Block until the thread has ended (window closing)."""
        self._thread.wait()


class TaskList:
    """The BackgroundTasks one owner has started, each kept until it has finished.

    start(task) starts it; running() says whether any is still going;
    cancel_all_and_wait() (window closing) asks each to stop and joins its thread,
    so Qt never destroys a running thread. A task counts as running until the list
    has handled its finished: in slots connected to finished before start() it
    still counts, in slots connected after start() it no longer does.
    """

    def __init__(self):
        self._tasks = []

    def start(self, task):
        """Start task and keep it until it has finished; returns it."""
        task.finished.connect(lambda: self._forget(task))
        self._tasks.append(task)
        task.start()
        return task

    def running(self):
        """True while a task started here has not finished."""
        return bool(self._tasks)

    def __iter__(self):
        """The tasks still counted as running, oldest first."""
        return iter(list(self._tasks))

    def cancel_all_and_wait(self):
        """Ask every task to stop, then block until all their threads have ended."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()  # all at once, so they wind down side by side
        for task in tasks:
            task.wait()

    def _forget(self, task):
        # finished arrives as the thread ends: join it before the task deletes it.
        task.wait()
        if task in self._tasks:  # not already dropped by cancel_all_and_wait
            self._tasks.remove(task)
