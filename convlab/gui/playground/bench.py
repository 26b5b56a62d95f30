"""Kernel-edit latency: milliseconds from typing a weight to every view redrawn.

`python -m convlab bench gui` calls measure_kernel_edit(window, repeats) and
measure_colour_kernel_edit(window, repeats) while the network trains and reports
the results as kernel_edit_ms and colour_kernel_edit_ms.
"""

import time

import numpy as np
from PyQt5.QtWidgets import QApplication, QStackedWidget

from convlab.gui.playground.colour_input import BUNDLED
from convlab.gui.playground.panel import PlaygroundPanel


def _find_panel(panel_or_window):
    if isinstance(panel_or_window, PlaygroundPanel):
        return panel_or_window
    panel = panel_or_window.findChild(PlaygroundPanel)
    if panel is None:
        raise ValueError("no PlaygroundPanel inside the window given")
    return panel


def _bring_to_front(panel):
    """Make the Playground the current tab, so the edits are really painted.

    Returns [(stack, previous page)] to undo it. A hidden tab would not repaint, and
    the measurement would leave out the drawing it is meant to include.
    """
    undo = []
    widget = panel
    while widget.parentWidget() is not None:
        parent = widget.parentWidget()
        if isinstance(parent, QStackedWidget):
            undo.append((parent, parent.currentWidget()))
            parent.setCurrentWidget(widget)
        widget = parent
    return undo


def _time_edits(panel, type_weight, repeats):
    """Time `repeats` calls of type_weight(text) (the two values alternate, so each
    is a real change), each until processEvents has redrawn the views."""
    app = QApplication.instance()
    undo = _bring_to_front(panel)
    app.processEvents()
    times = []
    try:
        for i in range(repeats):
            start = time.perf_counter()
            type_weight("0.25" if i % 2 else "-0.5")
            app.processEvents()
            times.append((time.perf_counter() - start) * 1000.0)
    finally:
        for stack, page in reversed(undo):
            stack.setCurrentWidget(page)
        app.processEvents()
    return {"median": float(np.median(times)), "p95": float(np.percentile(times, 95))}


def measure_kernel_edit(panel_or_window, repeats=200):
    """Type `repeats` kernel weights and time each until its views are redrawn.

    panel_or_window: a PlaygroundPanel or a window containing one. Each sample is
    one accepted cell edit through the editor's public API plus processEvents (so the
    repaint of every view is included). Returns {"median": ms, "p95": ms}. The
    kernel and the visible tab are put back afterwards.
    """
    panel = _find_panel(panel_or_window)
    editor = panel.editor
    original = editor.kernel()
    centre = (original.shape[0] - 1) // 2
    result = _time_edits(
        panel, lambda text: editor.set_cell_text(centre, centre, text), repeats)
    editor.set_cell_text(centre, centre, repr(float(original[centre, centre])))
    return result


def measure_colour_kernel_edit(panel_or_window, repeats=200):
    """The same on a colour picture: each sample types one weight of the depth
    editor's red slice and redraws every colour view (channels, partial maps, sum,
    output, step-through). The input, the filter and the tab are put back."""
    panel = _find_panel(panel_or_window)
    source = panel.source.currentIndex()
    panel.source.setCurrentIndex(panel.source.findData(BUNDLED))
    editor = panel.colour.editor
    weights, bias = editor.weights(), editor.bias()
    centre = (weights.shape[1] - 1) // 2
    try:
        return _time_edits(
            panel, lambda text: editor.set_cell_text(0, centre, centre, text),
            repeats)
    finally:
        editor.set_filter(weights, bias)
        panel.source.setCurrentIndex(source)
