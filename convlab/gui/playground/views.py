"""Playground pictures: padded input and feature maps with shape, formula and legend."""

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QEvent, QRect, QRectF, QSize, Qt, pyqtSignal
from PyQt5.QtGui import (
    QColor,
    QLinearGradient,
    QPainter,
    QPen,
    QTextDocumentFragment,
)
from PyQt5.QtWidgets import QLabel, QMenu, QSizePolicy, QVBoxLayout, QWidget

from convlab.gui.common.colormaps import GREY_CMAP, SIGNED_CMAP
from convlab.gui.playground.map_export import export_figure
from convlab.lab.network import symmetric_levels

# Legend gradients looked up once, like the cell colours.
_GRADIENT_STOPS = {
    diverging: [(t, cmap.mapToQColor(t)) for t in np.linspace(0.0, 1.0, 9)]
    for diverging, cmap in ((True, SIGNED_CMAP), (False, GREY_CMAP))
}

# Overlay colours (RGBA): the zero border, and rows/columns the window never reaches.
PADDING_TINT = (70, 140, 255, 120)
UNREACHED_TINT = (255, 150, 0, 150)
WINDOW_PEN = QColor(255, 200, 0)
CELL_PEN = QColor(20, 200, 60)

# Above this size a weight or output is "absurd" for 0..1 digit pixels: still shown,
# but the legends say the colour scale had to stretch.
LARGE_VALUE = 100.0

HOVER_HINT = "Hover a cell: its value."
NARROWEST_TEXT = 160  # pixels of text width in a map's narrowest column
# The longest shape and formula lines a map shows: their room is kept for every map.
LONGEST_SHAPE = "28×28: n = 28, p = 3, f = 7, s = 4; ReLU keeps the shape"
LONGEST_FORMULA = "floor((28 + 2·3 − 7) / 4) + 1 = floor(27 / 4) + 1 = 27"


def _fmt(value):
    """A short number for a legend tick: 4 significant digits."""
    return f"{value:.4g}"


class LinesLabel(QLabel):
    """A word-wrapped label of constant height: `lines` lines, or as many as
    `longest` (the longest text it will show) needs in a map's narrowest column.

    Height-for-width would let layouts hand out heights that break their own sums of
    minimums, squeezing the pictures, and a height that follows the text would move
    everything under it with each new text: a constant height does neither.
    """

    def __init__(self, lines, text="", parent=None, longest=""):
        super().__init__(text, parent)
        self._lines, self._longest = lines, longest
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self._reserve()

    def hasHeightForWidth(self):
        return False

    def sizeHint(self):
        return QSize(super().sizeHint().width(), self.minimumHeight())

    def changeEvent(self, event):
        super().changeEvent(event)
        # The application's style sheet sets the font only once the label is shown.
        if event.type() == QEvent.FontChange:
            self._reserve()

    def _reserve(self):
        metrics = self.fontMetrics()
        plain = QTextDocumentFragment.fromHtml(self._longest).toPlainText()
        needed = metrics.boundingRect(QRect(0, 0, NARROWEST_TEXT, 10_000),
                                      Qt.TextWordWrap, plain).height()
        self.setMinimumHeight(max(self._lines * metrics.lineSpacing(), needed) + 2)


class ColorLegendView(QWidget):
    """A horizontal colour bar with its low, zero and high values written under it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._low = self._high = self._diverging = None
        self.setMinimumHeight(30)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setAccessibleName("Colour legend")
        self.set_levels(-1.0, 1.0)

    def set_levels(self, low, high, diverging=True):
        """Show the scale low..high (diverging: blue-white-red, else black-white)."""
        if (float(low), float(high), diverging) == (self._low, self._high,
                                                    self._diverging):
            return
        self._low, self._high, self._diverging = float(low), float(high), diverging
        self.setToolTip(
            f"Colour legend: {_fmt(self._low)} (left) to {_fmt(self._high)} (right)."
        )
        self.update()

    def levels(self):
        """The (low, high) values the legend currently shows."""
        return self._low, self._high

    def paintEvent(self, event):
        painter = QPainter(self)
        bar = QRectF(4, 2, self.width() - 8, 12)
        gradient = QLinearGradient(bar.left(), 0, bar.right(), 0)
        for t, color in _GRADIENT_STOPS[self._diverging]:
            gradient.setColorAt(t, color)
        painter.fillRect(bar, gradient)
        painter.setPen(QPen(QColor(90, 90, 90)))
        painter.drawRect(bar)
        text_y = int(bar.bottom()) + 13
        painter.drawText(int(bar.left()), text_y, _fmt(self._low))
        high = _fmt(self._high)
        width = painter.fontMetrics().horizontalAdvance(high)
        painter.drawText(int(bar.right()) - width, text_y, high)
        if self._diverging:
            mid_x = int(bar.center().x())
            painter.drawText(mid_x - 3, text_y, "0")
        painter.end()


class MapView(QWidget):
    """One 2-D array as an image, with title, colour legend, shape and formula lines.

    kind "signed" uses the diverging colours with symmetric levels (feature maps);
    kind "pixels" uses black..white on 0..1, stretched when the values go beyond
    (the input digit, or a deeper layer's feature map).

    Signal: cell_clicked(int, int) — the student clicked the cell (row, col).
    """

    cell_clicked = pyqtSignal(int, int)

    def __init__(self, title, tooltip, kind="signed", hint=HOVER_HINT, parent=None):
        super().__init__(parent)
        self._hint = hint
        self._kind = kind
        self._map = None
        self._levels = None
        self._tint = None
        self._name = title  # for the exported file's name
        self._title = LinesLabel(2, f"<b>{title}</b>")
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground("w")
        self._graphics.setMinimumSize(120, 120)
        # Maps are square: extra height would only add white space above and below.
        self._graphics.setMaximumHeight(240)
        self._graphics.setToolTip(tooltip)
        self._graphics.setAccessibleName(title)
        # Right-click: save the picture for a report (PNG or SVG).
        self._graphics.setContextMenuPolicy(Qt.CustomContextMenu)
        self._graphics.customContextMenuRequested.connect(
            self._on_graphics_custom_context_menu_requested)
        self._box = self._graphics.addViewBox(lockAspect=True, invertY=True)
        self._box.setMouseEnabled(False, False)
        self._box.setMenuEnabled(False)
        self._image = pg.ImageItem(axisOrder="row-major")
        cmap = SIGNED_CMAP if kind == "signed" else GREY_CMAP
        self._image.setLookupTable(cmap.getLookupTable(nPts=256))
        self._box.addItem(self._image)
        self._overlay = pg.ImageItem(axisOrder="row-major")
        self._box.addItem(self._overlay)
        self._window = self._make_rect(WINDOW_PEN)
        self._cell = self._make_rect(CELL_PEN)
        self._legend = ColorLegendView()
        self._shape = LinesLabel(2, longest=LONGEST_SHAPE)
        self._formula = LinesLabel(3, longest=LONGEST_FORMULA)
        for label in (self._shape, self._formula):
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self._note = LinesLabel(2)
        self._note.setStyleSheet("color: #a05a00;")
        self._note.hide()
        # Colours give the picture; hovering gives the exact number of one cell.
        self._readout = LinesLabel(2, hint)
        self._readout.setStyleSheet("color: #555555;")
        self._graphics.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self._graphics.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        for widget in (self._title, self._graphics, self._legend, self._readout,
                       self._shape, self._formula, self._note):
            layout.addWidget(widget)
        layout.addStretch(1)

    def cell_at(self, scene_pos):
        """The (row, col) of the map under a scene position, or None outside it."""
        if self._map is None:
            return None
        point = self._box.mapSceneToView(scene_pos)
        row, col = int(np.floor(point.y())), int(np.floor(point.x()))
        if 0 <= row < self._map.shape[0] and 0 <= col < self._map.shape[1]:
            return row, col
        return None

    def readout(self):
        """The hover line as shown."""
        return self._readout.text()

    def _on_scene_mouse_moved(self, scene_pos):
        cell = self.cell_at(scene_pos)
        if cell is None or not np.isfinite(self._map[cell]):
            self._readout.setText(self._hint)
            return
        self._readout.setText(f"row {cell[0]}, col {cell[1]}: {self._map[cell]:.4g}")

    def _on_scene_mouse_clicked(self, event):
        cell = self.cell_at(event.scenePos())
        if cell is not None and event.button() == Qt.LeftButton:
            self.cell_clicked.emit(*cell)

    def _make_rect(self, color):
        """A hidden outline rectangle drawn over the image (window or output cell)."""
        rect = pg.QtWidgets.QGraphicsRectItem()
        pen = QPen(color)
        pen.setWidthF(0.15)
        rect.setPen(pen)
        rect.setZValue(10)
        rect.hide()
        self._box.addItem(rect)
        return rect

    def set_map(self, values, levels=None):
        """Show a 2-D array; signed maps use levels (low, high), default ±max|value|."""
        values = np.asarray(values)
        # Every redraw counts against the one-frame budget: skip what did not change.
        if self._map is not None and self._map.shape == values.shape \
                and np.array_equal(self._map, values, equal_nan=True) \
                and levels == self._levels:
            return
        reshaped = self._map is None or self._map.shape != values.shape
        self._map, self._levels = values, levels
        if self._kind == "signed":
            if levels is None:
                levels = symmetric_levels(self._map, round_up=False)
            low, high = levels
        else:
            # Pixels live in 0..1; a deeper layer's feature map can exceed that.
            finite = self._map[np.isfinite(self._map)]
            low = min(0.0, float(finite.min())) if finite.size else 0.0
            high = max(1.0, float(finite.max())) if finite.size else 1.0
        self._image.setImage(self._map, levels=(low, high), autoLevels=False)
        self._legend.set_levels(low, high, diverging=self._kind == "signed")
        self._note.setText(f"Scale stretched to ±{_fmt(high)}: huge values."
                           if high > LARGE_VALUE else "")
        self._note.setVisible(high > LARGE_VALUE)
        if reshaped:
            self._readout.setText(self._hint)
            self._box.setRange(QRectF(0, 0, self._map.shape[1], self._map.shape[0]),
                               padding=0.02)

    def current_map(self):
        """The array on show (None before the first set_map, or when empty)."""
        return self._map

    def show_empty(self, why):
        """No map for this setting: a blank picture and `why` in its place."""
        self._map = self._levels = None
        self._image.clear()
        self.set_overlay(None)
        self.set_window(0, 0, 0, 0)
        self.set_cell(0, 0, 0, 0)
        self._note.hide()
        self._readout.setText("")
        self.set_texts("<b>empty</b>: no output", why)

    def is_empty(self):
        """Whether the view shows no map (show_empty, or nothing yet)."""
        return self._map is None

    def set_title(self, title):
        """Change the bold title above the image."""
        self._name = title
        self._title.setText(f"<b>{title}</b>")

    def export_menu(self):
        """The right-click menu: Export as PNG, Export as SVG."""
        menu = QMenu(self)
        for kind in ("png", "svg"):
            menu.addAction(f"Export as {kind.upper()}…",
                           lambda kind=kind: self.export_figure(kind))
        return menu

    def export_figure(self, kind):
        """Ask where, then save the picture as "png" or "svg"; returns the path."""
        return export_figure(self, self._graphics.ci, kind, self._name)

    def _on_graphics_custom_context_menu_requested(self, pos):
        menu = self.export_menu()
        menu.setAttribute(Qt.WA_DeleteOnClose)
        menu.popup(self._graphics.mapToGlobal(pos))

    def set_texts(self, shape_text, formula_text):
        """Write the shape line and the formula line under the image."""
        self._shape.setText(shape_text)
        self._formula.setText(formula_text)

    def shape_text(self):
        """The shape line as set (rich text)."""
        return self._shape.text()

    def formula_text(self):
        """The formula line as set (rich text)."""
        return self._formula.text()

    def legend_levels(self):
        """The (low, high) values of this view's colour legend."""
        return self._legend.levels()

    def set_overlay(self, rgba):
        """Tint regions with an (H, W, 4) uint8 image over the map; None removes it."""
        same = (rgba is None and self._tint is None) or (
            rgba is not None and self._tint is not None
            and rgba.shape == self._tint.shape and np.array_equal(rgba, self._tint))
        if same:
            return
        self._tint = rgba
        if rgba is None:
            self._overlay.clear()
        else:
            self._overlay.setImage(rgba, levels=(0, 255), autoLevels=False)

    def overlay(self):
        """The (H, W, 4) uint8 tint on show over the map, or None."""
        return self._tint

    def set_window(self, top, left, height, width):
        """Outline the sliding window (in pixels of this map); height 0 hides it."""
        self._place(self._window, top, left, height, width)

    def set_cell(self, top, left, height=1, width=1):
        """Outline the output cell being computed; height 0 hides it."""
        self._place(self._cell, top, left, height, width)

    @staticmethod
    def _place(rect, top, left, height, width):
        if height <= 0:
            rect.hide()
            return
        rect.setRect(QRectF(left, top, width, height))
        rect.show()


def region_overlay(shape, pad, covered):
    """RGBA tint over a map: blue zero border `pad` wide, orange never-reached lines.

    shape is the map's (H, W) (square here); covered is a bool (H,) saying which rows
    (and, by symmetry, columns) some window touches.
    """
    height, width = shape
    rgba = np.zeros((height, width, 4), np.uint8)
    if pad > 0:
        rgba[:pad] = PADDING_TINT
        rgba[height - pad:] = PADDING_TINT
        rgba[:, :pad] = PADDING_TINT
        rgba[:, width - pad:] = PADDING_TINT
    rgba[~covered] = UNREACHED_TINT
    rgba[:, ~covered] = UNREACHED_TINT
    return rgba
