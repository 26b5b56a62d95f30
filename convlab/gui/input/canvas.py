"""DrawingCanvas: the square the student draws a digit on with the mouse."""

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QImage, QPainter, QPen
from PyQt5.QtWidgets import QSizePolicy, QWidget

from convlab.gui.common.qimage import array_to_qimage, qimage_to_array


class DrawingCanvas(QWidget):
    """A 280x280 drawing surface with an anti-aliased round brush and stroke undo.

    It keeps two pictures in step: the one on screen (dark ink on white paper) and the
    one the network reads (bright ink, value 1, on a black background, value 0, as in
    MNIST). Each stroke is a list of points, so Undo can redraw without the last one.
    """

    image_changed = pyqtSignal(object)  # (SIZE, SIZE) float32, ink 1, background 0

    SIZE = 280
    INK = QColor(30, 30, 40)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFixedSize(self.SIZE, self.SIZE)
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)
        self.setCursor(Qt.CrossCursor)
        self.setAttribute(Qt.WA_StaticContents)
        self.setAccessibleName("Drawing canvas")
        self.setToolTip(
            "Draw a digit here with the mouse. The network never sees this big "
            "picture: it is cropped, shrunk to 20 pixels and centred in a 28x28 frame "
            "first, the way the MNIST digits were made."
        )
        self._brush_width = 20.0
        self._strokes = []  # list of (width, [QPointF, ...])
        self._background = np.zeros((self.SIZE, self.SIZE), np.float32)
        self._ink = QImage(self.SIZE, self.SIZE, QImage.Format_Grayscale8)
        self._drawing = False
        self._redraw()

    def brush_width(self):
        """The brush diameter in canvas pixels."""
        return self._brush_width

    def set_brush_width(self, width):
        """Set the diameter of the round brush for the next stroke."""
        self._brush_width = float(width)

    def image(self):
        """What is drawn, as (SIZE, SIZE) float32 with ink 1 and background 0."""
        return qimage_to_array(self._ink)

    def is_blank(self):
        """True when there is no ink at all."""
        return not self._strokes and not self._background.any()

    def is_drawing(self):
        """True between pressing and releasing the mouse button."""
        return self._drawing

    def stroke_count(self):
        """How many strokes Undo can still take back."""
        return len(self._strokes)

    def clear(self):
        """Wipe everything, including a digit loaded from the dataset."""
        self._strokes.clear()
        self._background[:] = 0.0
        self._redraw()
        self.image_changed.emit(self.image())

    def undo_stroke(self):
        """Take back the last stroke; does nothing when there is none."""
        if not self._strokes:
            return
        self._strokes.pop()
        self._redraw()
        self.image_changed.emit(self.image())

    def set_background(self, image):
        """Show an image (any size, ink 1) under future strokes and drop the strokes.

        Used when a dataset digit becomes the input: the student sees it here and can
        draw over it. It does not emit image_changed, because the caller already
        knows the exact 28x28 input it chose.
        """
        grey = array_to_qimage(image).scaled(
            self.SIZE, self.SIZE, Qt.IgnoreAspectRatio, Qt.SmoothTransformation
        )
        self._background = qimage_to_array(grey)
        self._strokes.clear()
        self._redraw()

    def add_stroke(self, points):
        """Draw a whole stroke through (x, y) canvas points, as if with the mouse."""
        points = [QPointF(x, y) for x, y in points]
        if not points:
            return
        self._strokes.append((self._brush_width, points))
        self._paint_segment(self._brush_width, points[0], points)
        self.image_changed.emit(self.image())

    def mousePressEvent(self, event):
        if event.button() != Qt.LeftButton:
            return
        self._drawing = True
        point = QPointF(event.pos())
        self._strokes.append((self._brush_width, [point]))
        self._paint_segment(self._brush_width, point, [point])
        self.image_changed.emit(self.image())

    def mouseMoveEvent(self, event):
        if not self._drawing:
            return
        width, points = self._strokes[-1]
        point = QPointF(event.pos())
        previous = points[-1]
        points.append(point)
        self._paint_segment(width, previous, [previous, point])
        self.image_changed.emit(self.image())

    def mouseReleaseEvent(self, event):
        if event.button() == Qt.LeftButton and self._drawing:
            self._drawing = False

    def paintEvent(self, event):
        painter = QPainter(self)
        # On screen the ink is dark on white paper; the network's copy is inverted.
        painter.fillRect(self.rect(), Qt.white)
        painter.drawImage(0, 0, self._ink_for_screen())
        painter.setPen(QPen(QColor(200, 200, 210), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))

    def _ink_for_screen(self):
        screen = self._ink.copy()
        screen.invertPixels()
        return screen

    def _redraw(self):
        self._ink = array_to_qimage(self._background)
        for width, points in self._strokes:
            self._stroke_on(self._ink, width, points)
        self.update()

    def _paint_segment(self, width, start, points):
        self._stroke_on(self._ink, width, points)
        # Repaint only the area the new segment can touch, so drawing stays smooth.
        xs = [p.x() for p in points] + [start.x()]
        ys = [p.y() for p in points] + [start.y()]
        pad = width / 2 + 2
        self.update(
            QRectF(
                min(xs) - pad, min(ys) - pad,
                max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad,
            ).toAlignedRect()
        )

    @staticmethod
    def _stroke_on(image, width, points):
        painter = QPainter(image)
        painter.setRenderHint(QPainter.Antialiasing)
        pen = QPen(Qt.white, width, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin)
        painter.setPen(pen)
        if len(points) == 1:
            # A click without movement still leaves a round dot.
            painter.setBrush(Qt.white)
            painter.setPen(Qt.NoPen)
            painter.drawEllipse(points[0], width / 2, width / 2)
        else:
            for a, b in zip(points[:-1], points[1:], strict=True):
                painter.drawLine(a, b)
        painter.end()
