"""Garbage cycles are collected by the GUI thread's timer, Qt objects deleted whole."""

import gc
import threading
import weakref

import numpy as np

from convlab.gui.app import make_application
from convlab.gui.network.view import NetworkView
from convlab.lab.network import conv_weights
from convlab.nn.architectures import NAMED_ARCHS, build
from convlab.nn.functional import softmax


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


def test_a_garbage_view_is_deleted_by_qt_while_whole(qtbot):
    """A dropped Network view is deleted by Qt before Python empties it: no
    pyqtgraph item is asked for its size half-emptied (qtbot fails the test on
    any exception in the event loop)."""
    make_application([])
    model = build(NAMED_ARCHS["sample"], np.random.default_rng(0))
    x = np.zeros((1, 1, 28, 28), np.float32)
    outputs = model.activations(x)
    view = NetworkView()
    view.resize(900, 700)
    view.set_layers(model.layers, [a.shape for a in outputs])
    view.set_activations(x, outputs, softmax(outputs[-1].astype(np.float64)))
    view.set_filters(conv_weights(model))
    gone = weakref.ref(view)
    del view  # its own signal connections keep it in a cycle
    qtbot.waitUntil(lambda: gone() is None, timeout=5000)
