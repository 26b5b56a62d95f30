"""Kernel-edit latency: milliseconds from typing a weight to every view redrawn.

`python -m convlab bench gui` calls measure_kernel_edit(window, repeats) while the
network trains and reports the result as kernel_edit_ms.
"""

import time

import numpy as np
from PyQt5.QtWidgets import QApplication, QStackedWidget

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


def measure_kernel_edit(panel_or_window, repeats=200):
    """Type `repeats` kernel weights and time each until its views are redrawn.

    panel_or_window: a PlaygroundPanel or a window containing one. Each sample is
    one accepted cell edit through the editor's public API plus processEvents (so the
    repaint of every view is included). Returns {"median": ms, "p95": ms}. The
    kernel and the visible tab are put back afterwards.
    """
    panel = _find_panel(panel_or_window)
    app = QApplication.instance()
    undo = _bring_to_front(panel)
    app.processEvents()
    editor = panel.editor
    original = editor.kernel()
    centre = (original.shape[0] - 1) // 2
    times = []
    for i in range(repeats):
        # Alternate two values so every edit is a real change of the kernel.
        text = "0.25" if i % 2 else "-0.5"
        start = time.perf_counter()
        editor.set_cell_text(centre, centre, text)
        app.processEvents()
        times.append((time.perf_counter() - start) * 1000.0)
    editor.set_cell_text(centre, centre, repr(float(original[centre, centre])))
    for stack, page in reversed(undo):
        stack.setCurrentWidget(page)
    app.processEvents()
    return {"median": float(np.median(times)), "p95": float(np.percentile(times, 95))}

