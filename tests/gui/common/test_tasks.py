"""Background tasks: finished tasks are released, repeated evaluations stay flat,
a TaskList keeps and joins the running ones."""

import gc
import threading
import tracemalloc
import weakref

import numpy as np
import pytest
from PyQt5.QtCore import QCoreApplication, QEvent

from convlab.data.sources import Dataset
from convlab.gui.common.tasks import BackgroundTask, TaskList


def release_deleted(qtbot):
    """Run the deleteLater calls Qt has queued, then Python's garbage collector."""
    # An event loop of its own: Qt runs a deferred delete only in a loop at the
    # nesting level where deleteLater was called, or an outer one.
    qtbot.wait(1)
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    gc.collect()


def test_finished_task_is_released(qtbot):
    """A finished BackgroundTask deletes its thread, its worker and itself."""
    from PyQt5.QtCore import QObject

    owner = QObject()
    task = BackgroundTask(lambda report: 42, owner)
    results = []
    task.succeeded.connect(results.append)
    with qtbot.waitSignal(task.finished):
        task.start()
    ref = weakref.ref(task)
    del task
    release_deleted(qtbot)
    assert results == [42]
    assert ref() is None
    assert owner.children() == []


def test_finished_task_hands_freed_memory_back_in_its_thread(qtbot, monkeypatch):
    """Once fn has run (and its data is dropped) the task's thread releases memory."""
    from convlab.gui.common import tasks

    seen = []
    monkeypatch.setattr(tasks, "release_freed_memory",
                        lambda: seen.append((threading.get_ident(), list(ran))))
    ran = []
    task = BackgroundTask(lambda report: ran.append(threading.get_ident()))
    with qtbot.waitSignal(task.finished, timeout=5000):
        task.start()
    assert seen == [(ran[0], ran)]  # after fn, in fn's thread
    assert ran[0] != threading.get_ident()


@pytest.mark.parametrize("error, traceback_printed", [
    (OSError("no network"), False), (ValueError("bad file"), False),
    (KeyError("bug"), True),
])
def test_background_task_prints_a_traceback_only_for_bugs(qtbot, capfd, error,
                                                          traceback_printed):
    """Every failure becomes failed(message); only unexpected ones print a traceback."""

    def fail(report):
        raise error

    task = BackgroundTask(fail)
    with qtbot.waitSignal(task.failed) as failed, qtbot.waitSignal(task.finished):
        task.start()
    task.wait()
    assert failed.args == [str(error)]
    assert ("Traceback" in capfd.readouterr().err) == traceback_printed


def test_twenty_evaluations_keep_memory_flat(qtbot, window):
    """Twenty evaluations of the real model leave no task and no big buffer behind."""
    rng = np.random.default_rng(0)
    x = rng.random((500, 1, 28, 28), dtype=np.float32)
    y = np.arange(500) % 10
    controller = window.controller
    controller.set_dataset(Dataset("random digits", x[:10], y[:10], x, y))

    def evaluate_once():
        task = controller.evaluation.evaluate_test_set()
        with qtbot.waitSignal(task.finished, timeout=60000):
            pass
        qtbot.waitUntil(lambda: controller.evaluation._task is None)
        ref = weakref.ref(task)
        del task
        release_deleted(qtbot)
        return ref

    evaluate_once()  # the first run makes the arrays every later run reuses
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        refs = [evaluate_once() for _ in range(20)]
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 150e6, f"memory grew by {grown / 1e6:.0f} MB"
    assert [r for r in refs if r() is not None] == []
    assert not controller.evaluation._tasks.running()


def test_task_list_counts_a_task_until_it_has_finished(qtbot):
    """TaskList.running() is True while a started task runs and False once it ends."""
    release = threading.Event()
    tasks = TaskList()
    task = tasks.start(BackgroundTask(lambda report: release.wait(10)))
    assert tasks.running()
    with qtbot.waitSignal(task.finished):
        release.set()
    qtbot.waitUntil(lambda: not tasks.running())


def test_task_list_cancels_and_joins_every_task(qtbot):
    """cancel_all_and_wait asks every task to stop and returns once all have ended."""
    stop = threading.Event()
    tasks = TaskList()
    started = [tasks.start(BackgroundTask(lambda report: stop.wait(10),
                                          on_cancel=stop.set)) for _ in range(2)]
    tasks.cancel_all_and_wait()
    assert not tasks.running()
    assert stop.is_set()
    assert not any(task.is_running() for task in started)
