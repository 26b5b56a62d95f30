"""FieldOverlay: one unit's receptive field drawn over the input column.

The box is explain.receptive_field's: every input pixel that can reach the unit.
The orange tint is its effective field for this image, |d(unit)/dx| scaled to its
largest value: inside the box, usually concentrated near the centre.
"""

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QRectF
from PyQt5.QtWidgets import QGraphicsRectItem, QLabel

FIELD_RGB = (255, 140, 0)  # orange: neither end of the signed scale nor grey
MAX_ALPHA = 200  # the most opaque tint still lets the digit show through


class FieldOverlay:
    """A box and a tint over the input's ViewBox (item coordinates are pixels)."""

    def __init__(self, view):
        self.tint = pg.ImageItem()
        self.tint.setZValue(10)
        self.frame = QGraphicsRectItem()
        pen = pg.mkPen(FIELD_RGB, width=2)
        pen.setCosmetic(True)  # two screen pixels at any zoom
        self.frame.setPen(pen)
        self.frame.setZValue(11)
        view.addItem(self.tint, ignoreBounds=True)
        view.addItem(self.frame, ignoreBounds=True)
        self.box = self.gradient = None
        self.hide()

    def show(self, box, gradient):
        """Draw box (top, left, bottom, right), bottom and right exclusive, and the
        tint of gradient (28, 28), d(unit)/dx."""
        top, left, bottom, right = box
        self.box, self.gradient = box, gradient
        self.frame.setRect(QRectF(left, top, right - left, bottom - top))
        size = np.abs(gradient)
        top_size = size.max()
        share = size / top_size if top_size > 0 else size  # 0..1
        rgba = np.zeros((*gradient.shape, 4), np.uint8)  # (28, 28, RGBA)
        rgba[..., :3] = FIELD_RGB
        rgba[..., 3] = np.round(share * MAX_ALPHA).astype(np.uint8)
        self.tint.setImage(rgba, autoLevels=False)
        self.tint.setVisible(True)
        self.frame.setVisible(True)

    def hide(self):
        self.box = self.gradient = None
        self.tint.setVisible(False)
        self.frame.setVisible(False)


def field_label(text):
    """The label that says what the field on show is, three lines high for good:
    a longer text must not resize the maps under the mouse."""
    label = QLabel(text)
    label.setObjectName("Caption")
    label.setWordWrap(True)
    label.setAccessibleName("Receptive field")
    label.setFixedHeight(3 * label.fontMetrics().lineSpacing() + 4)
    return label
