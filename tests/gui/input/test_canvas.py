"""Tests for the drawing canvas and the array/QImage conversions."""

import numpy as np
from PyQt5.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt5.QtGui import QMouseEvent
from PyQt5.QtWidgets import QApplication

from convlab.gui.common.qimage import array_to_qimage, qimage_to_array
from convlab.gui.input.canvas import DrawingCanvas


def draw_line(qtbot, widget, start, end, steps=8):
    """Drag the mouse from start to end with the left button held."""
    qtbot.mousePress(widget, Qt.LeftButton, pos=QPoint(*start))
    for i in range(1, steps + 1):
        x = start[0] + (end[0] - start[0]) * i // steps
        y = start[1] + (end[1] - start[1]) * i // steps
        # QTest's mouseMove only moves the cursor on the offscreen platform, so the
        # drag is sent as real move events with the button held.
        move = QMouseEvent(QEvent.MouseMove, QPointF(x, y), Qt.NoButton,
                           Qt.LeftButton, Qt.NoModifier)
        QApplication.sendEvent(widget, move)
    qtbot.mouseRelease(widget, Qt.LeftButton, pos=QPoint(*end))


def test_qimage_round_trip_keeps_grey_levels():
    """An array survives array -> QImage -> array up to 8-bit rounding."""
    a = np.linspace(0, 1, 7 * 5, dtype=np.float32).reshape(7, 5)
    back = qimage_to_array(array_to_qimage(a))
    assert back.shape == (7, 5)
    np.testing.assert_allclose(back, a, atol=1 / 255)


def test_mouse_stroke_leaves_ink_and_reports_it(qtbot):
    """Dragging the mouse draws ink where it went and emits image_changed."""
    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.show()
    emitted = []
    canvas.image_changed.connect(emitted.append)
    draw_line(qtbot, canvas, (60, 140), (220, 140))
    assert len(emitted) > 1  # while drawing, not only at the end
    image = emitted[-1]
    assert image.shape == (DrawingCanvas.SIZE, DrawingCanvas.SIZE)
    assert image[140, 140] > 0.9  # on the line
    assert image[30, 30] == 0.0  # far from it
    assert canvas.stroke_count() == 1
    assert not canvas.is_blank()


def test_undo_removes_only_the_last_stroke(qtbot):
    """Undo stroke takes back the last stroke and keeps the earlier one."""
    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.add_stroke([(40, 60), (240, 60)])
    canvas.add_stroke([(40, 200), (240, 200)])
    canvas.undo_stroke()
    image = canvas.image()
    assert image[60, 140] > 0.9
    assert image[200, 140] == 0.0
    canvas.clear()
    assert canvas.is_blank() and not canvas.image().any()


def test_brush_width_sets_stroke_thickness(qtbot):
    """A wider brush leaves more ink for the same stroke."""
    canvas = DrawingCanvas()
    qtbot.addWidget(canvas)
    canvas.set_brush_width(8)
    canvas.add_stroke([(40, 140), (240, 140)])
    thin = canvas.image().sum()
    canvas.clear()
    canvas.set_brush_width(30)
    canvas.add_stroke([(40, 140), (240, 140)])
    assert canvas.image().sum() > 2.5 * thin
