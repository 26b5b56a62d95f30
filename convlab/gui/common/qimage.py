"""Conversions between NumPy arrays and QImages: the one place pixels cross into Qt."""

import numpy as np
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QImage, QPixmap


def array_to_qimage(a, invert=False):
    """(H, W) float in [0, 1] or uint8 -> a Grayscale8 QImage that owns its pixels.

    invert=True turns bright ink on black (how MNIST stores digits) into dark ink on
    white paper (how people expect to see handwriting).
    """
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D image, got shape {a.shape}")
    if a.dtype != np.uint8:
        a = (np.clip(a, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if invert:
        a = 255 - a
    a = np.ascontiguousarray(a)
    h, w = a.shape
    # QImage only borrows the NumPy buffer; copy() makes it own the pixels so the
    # array may be freed afterwards.
    return QImage(a.data, w, h, w, QImage.Format_Grayscale8).copy()


def qimage_to_array(image):
    """QImage of any format -> (H, W) float32 grey levels in [0, 1]."""
    grey = image.convertToFormat(QImage.Format_Grayscale8)
    w, h, stride = grey.width(), grey.height(), grey.bytesPerLine()
    ptr = grey.constBits()
    ptr.setsize(stride * h)
    # Qt pads each row to 4 bytes, so read whole rows then drop the padding.
    rows = np.frombuffer(ptr, np.uint8).reshape(h, stride)  # (H, stride)
    return rows[:, :w].astype(np.float32) / 255.0


def array_to_pixmap(a, size, invert=False):
    """(H, W) image -> size x size QPixmap, blocky so each pixel stays visible."""
    image = array_to_qimage(a, invert=invert)
    return QPixmap.fromImage(
        image.scaled(size, size, Qt.KeepAspectRatio, Qt.FastTransformation)
    )
