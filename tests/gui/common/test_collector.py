"""Cycles of garbage are collected by the GUI thread's timer, not by other threads."""

import gc
import threading

from convlab.gui.app import make_application


class Node:
    """One half of a reference cycle that records which thread collected it."""

    collected_in = []

    def __init__(self):
        self.other = None

    def __del__(self):
        Node.collected_in.append(threading.current_thread())


def drop_a_cycle_and_allocate():
    """Make garbage in a cycle, then allocate enough that automatic collection, if
    it were on, would run here."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b
    keep = [[i] for i in range(200_000)]  # far past generation 0's threshold
    del keep


def test_the_application_turns_automatic_collection_off(qapp):
    """With the application made, Python no longer collects cycles on its own."""
    make_application([])
    assert not gc.isenabled()


def test_a_cycle_dropped_in_a_worker_thread_is_collected_in_the_gui_thread(qtbot):
    """Garbage made in a worker is collected later, by the GUI thread's timer."""
    make_application([])
    gc.collect()
    Node.collected_in = []
    worker = threading.Thread(target=drop_a_cycle_and_allocate)
    worker.start()
    worker.join()
    assert Node.collected_in == []  # nothing collected in the worker
    qtbot.waitUntil(lambda: len(Node.collected_in) == 2, timeout=5000)
    assert set(Node.collected_in) == {threading.main_thread()}
