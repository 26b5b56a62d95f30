"""The Playground's colour input: a canvas with colour pens, an opened picture, or a
bundled one, always as a (3, SIZE, SIZE) RGB image for the colour convolution.

ColourCanvas  draw with red, green, blue, white or black (erasing) ink.
ColourInput   the canvas, "Open picture…" and the bundled pictures of one source.
Signal of both: image_changed(object) — the new (3, SIZE, SIZE) float64 image in
[0, 1], channel 0 red, 1 green, 2 blue.
"""

from pathlib import Path

import numpy as np
from PyQt5.QtCore import QPointF, Qt, pyqtSignal
from PyQt5.QtGui import QColor, QImage, QPainter, QPen, QPixmap
from PyQt5.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import combo, teach
from convlab.gui.playground.kernel_editor import ERROR_STYLE
from convlab.gui.playground.views import LinesLabel
from convlab.lab.channels import rgb_channels
from convlab.resources import PICTURES, resource_path

SIZE = 32  # pixels a side of the colour input: small enough to follow each window
SCALE = 7  # screen pixels per input pixel on the canvas
PENS = (("red", QColor(255, 0, 0)), ("green", QColor(0, 255, 0)),
        ("blue", QColor(0, 0, 255)), ("white", QColor(255, 255, 255)),
        ("black", QColor(0, 0, 0)))
DRAWING, OPENED, BUNDLED = "drawing", "opened", "bundled"
PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg)"


def qimage_to_rgb(image, size=SIZE):
    """Any QImage -> (3, size, size) float64 in [0, 1], scaled to fit, centred on
    black (a picture that is not square keeps its shape)."""
    scaled = image.scaled(size, size, Qt.KeepAspectRatio, Qt.SmoothTransformation)
    frame = QImage(size, size, QImage.Format_RGB888)
    frame.fill(Qt.black)
    painter = QPainter(frame)
    painter.drawImage((size - scaled.width()) // 2, (size - scaled.height()) // 2,
                      scaled)
    painter.end()
    ptr = frame.constBits()
    ptr.setsize(frame.bytesPerLine() * size)
    # Qt pads each row to 4 bytes: read whole rows, drop the padding.
    rows = np.frombuffer(ptr, np.uint8).reshape(size, frame.bytesPerLine())
    pixels = rows[:, :size * 3].reshape(size, size, 3)  # (H, W, RGB)
    return rgb_channels(pixels)


def rgb_to_qimage(rgb):
    """(3, H, W) float in [0, 1] -> an RGB888 QImage that owns its pixels."""
    pixels = np.ascontiguousarray(
        (np.clip(rgb, 0, 1).transpose(1, 2, 0) * 255 + 0.5).astype(np.uint8))
    height, width, _ = pixels.shape  # (H, W, RGB)
    return QImage(pixels.data, width, height, 3 * width, QImage.Format_RGB888).copy()


def bundled_pictures():
    """(name shown, path) of every picture bundled in resources/pictures."""
    folder = resource_path(PICTURES)
    return [(path.stem.replace("-", " "), path)
            for path in sorted(folder.glob("*.png"))]


class ColourCanvas(QWidget):
    """A SIZE x SIZE colour picture drawn with round pens, shown SCALE times larger.

    Ink is light added on black, as a screen makes colour: red ink sets channel 0
    only, white ink all three, black ink wipes a pixel back to 0.
    """

    image_changed = pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        side = SIZE * SCALE
        self.setFixedSize(side, side)
        self.setCursor(Qt.CrossCursor)
        self.setAccessibleName("Colour drawing canvas")
        self.setToolTip("Draw in colour: each pen adds light to one or more channels. "
                        "The filter sees three pictures, one per colour.")
        self._picture = QImage(side, side, QImage.Format_RGB888)
        self._picture.fill(Qt.black)
        self._pen = PENS[0][1]
        self._last = None

    def set_pen(self, name):
        """Draw with the pen `name`: red, green, blue, white or black."""
        self._pen = dict(PENS)[name]

    def pen(self):
        """The name of the pen in use."""
        return next(name for name, color in PENS if color == self._pen)

    def image(self):
        """What is drawn: (3, SIZE, SIZE) float64, channel 0 red, 1 green, 2 blue."""
        return qimage_to_rgb(self._picture)

    def set_image(self, rgb):
        """Start from a (3, SIZE, SIZE) picture (say, a bundled one), silently."""
        self._picture = rgb_to_qimage(rgb).scaled(
            self.width(), self.height(), Qt.IgnoreAspectRatio, Qt.FastTransformation
        ).convertToFormat(QImage.Format_RGB888)
        self.update()

    def clear(self):
        """Back to black: every channel 0."""
        self._picture.fill(Qt.black)
        self.update()
        self.image_changed.emit(self.image())

    def add_stroke(self, points):
        """Draw through (x, y) canvas points with the current pen, as the mouse does."""
        points = [QPointF(x, y) for x, y in points]
        for a, b in zip(points[:1] + points[:-1], points, strict=True):
            self._segment(a, b)
        self.image_changed.emit(self.image())

    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton:
            self._last = QPointF(event.pos())
            self._segment(self._last, self._last)
            self.image_changed.emit(self.image())

    def mouseMoveEvent(self, event):
        if self._last is not None:
            point = QPointF(event.pos())
            self._segment(self._last, point)
            self._last = point
            self.image_changed.emit(self.image())

    def mouseReleaseEvent(self, event):
        if event.button() == Qt.LeftButton:
            self._last = None

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.drawImage(0, 0, self._picture)
        painter.setPen(QPen(QColor(200, 200, 210), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()

    def _segment(self, a, b):
        painter = QPainter(self._picture)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setPen(QPen(self._pen, 2.5 * SCALE, Qt.SolidLine, Qt.RoundCap,
                            Qt.RoundJoin))
        painter.drawLine(a, b)
        painter.end()
        self.update()


class ColourInput(QWidget):
    """Where the colour image comes from: the canvas, a file, or a bundled picture.

    A file that cannot be read is said so below the buttons and changes nothing:
    the picture shown before stays the input.
    """

    image_changed = pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._source = DRAWING
        self._image = np.zeros((3, SIZE, SIZE))
        self._opened = None  # the last picture read from a file
        self.canvas = ColourCanvas()
        self.canvas.image_changed.connect(self._on_canvas_image_changed)
        pens = QHBoxLayout()
        self._pens = QButtonGroup(self)
        for name, color in PENS:
            button = teach(QPushButton(name), f"{name} pen",
                           f"Draw with {name} ink" + (
                               ": it wipes every channel back to 0." if name == "black"
                               else "."))
            button.setCheckable(True)
            button.setStyleSheet(f"border-left: 8px solid {color.name()};")
            button.clicked.connect(lambda _, n=name: self.canvas.set_pen(n))
            self._pens.addButton(button)
            pens.addWidget(button)
        self._pens.buttons()[0].setChecked(True)
        self._clear = teach(QPushButton("Clear"), "Clear the colour drawing",
                            "Wipe the drawing back to black (every channel 0).")
        self._clear.clicked.connect(self.canvas.clear)
        pens.addWidget(self._clear)
        self._open = teach(QPushButton("Open picture…"), "Open a colour picture",
                           f"Open a PNG or JPEG; it is scaled down to {SIZE}x{SIZE} "
                           "pixels, and its red, green and blue become 3 channels.")
        self._open.clicked.connect(self._on_open_clicked)
        self._bundled = combo(
            [(name, str(path)) for name, path in bundled_pictures()],
            "Bundled colour picture",
            "Small pictures made for colour filters: one-colour edges, colours of "
            "equal brightness, all the hues.")
        self._bundled.activated.connect(self._on_bundled_activated)
        self._preview = QLabel()
        self._preview.setAccessibleName("Colour input preview")
        self._message = LinesLabel(2)
        self._message.setAccessibleName("Colour input message")
        self._pen_row = QWidget()
        self._pen_row.setLayout(pens)
        pens.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self._pen_row, self.canvas, self._open, self._bundled,
                       self._preview, self._message):
            layout.addWidget(widget)
        self.set_source(DRAWING)

    def image(self):
        """The colour input: (3, SIZE, SIZE) float64 in [0, 1]."""
        return self._image.copy()

    def message(self):
        """The line under the buttons (why a file could not be opened), or ""."""
        return self._message.text()

    def set_source(self, source):
        """Show the widgets of one source: DRAWING, OPENED or BUNDLED."""
        self._source = source
        self._pen_row.setVisible(source == DRAWING)
        self.canvas.setVisible(source == DRAWING)
        self._open.setVisible(source == OPENED)
        self._bundled.setVisible(source == BUNDLED)
        self._preview.setVisible(source != DRAWING)
        self._message.setStyleSheet("")
        self._message.setText("")
        if source == DRAWING:
            self._use(self.canvas.image())
        elif source == BUNDLED:
            self._on_bundled_activated(self._bundled.currentIndex())
        elif self._opened is not None:
            self._use(self._opened)
        else:
            self._message.setText("Open a PNG or JPEG picture.")
            self._use(np.zeros((3, SIZE, SIZE)))

    def open_picture(self, path):
        """Read a picture file; True when it became the input. A file Qt cannot read
        is refused with a message, and the input stays as it was."""
        image = QImage(str(path))
        if image.isNull():
            self._message.setStyleSheet(ERROR_STYLE)
            self._message.setText(
                f"Could not read {Path(path).name}: it is not a PNG or JPEG picture "
                "(or it is damaged). The picture before it is kept; try another file.")
            return False
        self._opened = qimage_to_rgb(image)
        self._message.setStyleSheet("")
        self._message.setText(f"{Path(path).name}: {image.width()}x{image.height()}"
                              f" scaled to {SIZE}x{SIZE}.")
        self._use(self._opened)
        return True

    def _on_open_clicked(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open a colour picture", "",
                                              PICTURE_FILTER)
        if path:
            self.open_picture(path)

    def _on_bundled_activated(self, index):
        path = self._bundled.itemData(index)
        image = QImage(path) if path is not None else QImage()
        if image.isNull():
            self._message.setStyleSheet(ERROR_STYLE)
            self._message.setText("The bundled pictures are missing from this "
                                  "installation: draw or open a picture instead.")
            return
        self._use(qimage_to_rgb(image))

    def _on_canvas_image_changed(self, image):
        self._use(image)

    def _use(self, image):
        self._image = image
        self._preview.setPixmap(QPixmap.fromImage(rgb_to_qimage(image).scaled(
            4 * SIZE, 4 * SIZE, Qt.KeepAspectRatio, Qt.FastTransformation)))
        self.image_changed.emit(image.copy())
