"""The pyqtgraph pieces of the Network tab: mosaics, columns, filters, the widget.

A MosaicItem draws many equal tiles (feature maps, filters) as one image and tells
which tile was clicked. A Column holds one layer's title, mosaic, shape and legend;
Filters the filter overview under a conv column. Both are built once and reused by
later networks, since building pyqtgraph items is what made replacing a model slow.
ResizingGraphics is the layout widget they live in, telling when its size changes.
"""

import functools
import math

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QFont, QFontMetricsF

from convlab.gui.common.colormaps import SIGNED_CMAP
from convlab.lab.network import GAP, grid_shape, mosaic

TICK_FONT = QFont()
TICK_FONT.setPointSize(7)

# The digits 0-9 beside a class-score column follow the cells' size on screen: the
# largest font whose digits keep clear of their neighbours. Below the smallest size
# a digit is hard to read: then only every second cell is labelled.
DIGIT_PX = (7, 13)  # smallest and largest font pixel size


class MosaicItem(pg.ImageItem):
    """An ImageItem made of equal tiles that reports which tile was clicked."""

    tile_clicked = pyqtSignal(int)
    unit_hovered = pyqtSignal(int, int, int)  # tile, row, column in it (-1: left)
    export_requested = pyqtSignal(object)  # the screen position of a right-click

    def __init__(self, gap=GAP):
        super().__init__()
        self.gap = gap  # 0 for a vector drawn as one unbroken strip
        self.tile_h = self.tile_w = 1
        self.rows = self.cols = 1
        self.count = 0
        self.grid = None  # (rows, cols) the layout asks for (None: grid_shape's)
        self._shown = None  # (tiles, levels) last drawn, for a new grid
        self._hovered = None
        self.setAcceptHoverEvents(True)

    def set_tiles(self, tiles, levels, rows=None, cols=None):
        """Show tiles (K, h, w) with explicit colour levels (lo, hi)."""
        self._shown = tiles, levels, rows
        k, h, w = tiles.shape
        if rows is None:
            rows, cols = self.grid or grid_shape(k, h, w)
        self.tile_h, self.tile_w, self.rows, self.cols, self.count = h, w, rows, cols, k
        if not np.isfinite(tiles).all():
            # Infinities as gaps too: no colour means "not a number" on any scale.
            tiles = np.where(np.isfinite(tiles), tiles, np.nan)
        self.setImage(mosaic(tiles, rows, cols, self.gap), levels=levels,
                      autoLevels=False)

    def set_grid(self, grid):
        """Lay the tiles out as grid = (rows, cols) from now on, redrawing them."""
        if grid != self.grid:
            self.grid = grid
            if self._shown is not None and self._shown[2] is None:
                self.set_tiles(*self._shown[:2])

    def forget(self):
        """Another network's data comes next: no old tiles to redraw in a new grid."""
        self._shown = self.grid = None

    def tile_at(self, x, y):
        """Index of the tile under item coordinates (x, y), or None in a gap."""
        return (self.unit_at(x, y) or (None,))[0]

    def unit_at(self, x, y):
        """(tile, row, col) of the number under item coordinates (x, y), or None."""
        c, dx = divmod(int(math.floor(x)), self.tile_w + self.gap)
        r, dy = divmod(int(math.floor(y)), self.tile_h + self.gap)
        if dx >= self.tile_w or dy >= self.tile_h or not 0 <= c < self.cols:
            return None
        index = r * self.cols + c
        if 0 <= r < self.rows and index < self.count:
            return index, dy, dx
        return None

    def tile_center(self, index):
        """Item coordinates of the middle of a tile (for tests and keyboard access)."""
        return self.unit_center(index, (self.tile_h - 1) / 2, (self.tile_w - 1) / 2)

    def unit_center(self, index, row, col):
        """Item coordinates of the middle of number (row, col) of a tile."""
        r, c = divmod(index, self.cols)
        return (c * (self.tile_w + self.gap) + col + 0.5,
                r * (self.tile_h + self.gap) + row + 0.5)

    def mouseClickEvent(self, event):
        if event.button() == Qt.RightButton:
            event.accept()
            self.export_requested.emit(event.screenPos().toPoint())
            return
        if event.button() != Qt.LeftButton:
            return
        index = self.tile_at(event.pos().x(), event.pos().y())
        if index is not None:
            event.accept()
            self.tile_clicked.emit(index)

    def hoverEvent(self, event):
        unit = None if event.isExit() else self.unit_at(event.pos().x(),
                                                        event.pos().y())
        if unit != self._hovered:  # one signal per unit, not per mouse move
            self._hovered = unit
            self.unit_hovered.emit(*(unit or (-1, -1, -1)))


class Column:
    """The pyqtgraph items of one layout column: title, feature maps, shape, legend.

    Built once per layout column and reused by every later network (configure()),
    since building pyqtgraph items is what made replacing the model slow.
    """

    def __init__(self):
        self.layout = self.col = None  # where it is placed (None: nowhere)
        self.kind = "image"  # "image" (feature maps) or "vector"
        self.labelled = False  # class scores, with the digits 0-9 beside the cells
        self.name = ""  # the title, lines separated by "\n"
        self.title = pg.LabelItem("", size="9pt")
        self.view = pg.ViewBox(lockAspect=True, invertY=True, enableMouse=False,
                               enableMenu=False)
        self.view.setBackgroundColor((225, 228, 235))
        self.item = MosaicItem()
        self.view.addItem(self.item)
        self.shape = pg.LabelItem("", size="8pt", color="#555")
        self.legend = pg.ColorBarItem(values=(0, 1), colorMap=SIGNED_CMAP,
                                      interactive=False, orientation="horizontal",
                                      width=10, pen="#888")
        self.legend.getAxis("bottom").setStyle(tickLength=3, tickFont=TICK_FONT)
        self.cmap = None  # set by configure
        self.digit_labels = []  # 0-9 beside a class-score column, made on first use
        self.view.sigTransformChanged.connect(self._fit_digit_labels)
        self.levels = None
        self.filters = None  # the Filters under this column, if it is a conv layer

    def items(self):
        """The layout items of the column, top to bottom."""
        return self.title, self.view, self.shape, self.legend

    def place(self, layout, col):
        """Put the items into column col of layout (a band), moving them if needed."""
        if (layout, col) != (self.layout, self.col):
            self.remove()
            for row, item in enumerate(self.items()):
                layout.addItem(item, row=row, col=col)
            self.layout, self.col = layout, col

    def remove(self):
        """Take the items out of the layout, keeping them for a later network."""
        if self.layout is not None:
            for item in self.items():
                self.layout.removeItem(item)
            self.layout = self.col = None

    def configure(self, title, kind, cmap, labelled):
        """Show another layer here: its title, colour map and, for class scores
        (labelled), the digits 0-9 beside the cells."""
        self.kind = kind
        self.item.forget()
        # A long vector is one unbroken strip; ten scores keep a gap per digit.
        self.item.gap = 0 if kind == "vector" and not labelled else GAP
        self.name = title
        self.title.setText(title.replace("\n", "<br>"))
        self.set_cmap(cmap)
        self.levels = None  # the next set_levels draws the legend for the new data
        if labelled and not self.digit_labels:
            for digit in range(10):
                label = pg.TextItem(str(digit), color="#333", anchor=(1.0, 0.5))
                label.setPos(-0.3, digit * (1 + GAP) + 0.5)
                self.view.addItem(label, ignoreBounds=True)
                self.digit_labels.append(label)
        self.labelled = labelled
        if labelled:
            # Room on the left for the labels; the cells span rows 0..19 with gaps.
            self.view.setRange(xRange=(-1.6, 1.0), yRange=(0, 10 * (1 + GAP) - GAP),
                               padding=0.02)
        else:
            self.view.enableAutoRange()
        self._fit_digit_labels()

    def _fit_digit_labels(self):
        """Size the digits beside the cells to the cells' pitch on screen."""
        if not self.labelled:
            for label in self.digit_labels:
                label.setVisible(False)
            return
        _, (top, bottom) = self.view.viewRange()
        pitch = (1 + GAP) * self.view.height() / max(bottom - top, 1e-9)  # px a digit
        font, every = _digit_font(pitch)
        for digit, label in enumerate(self.digit_labels):
            label.setFont(font)
            label.setVisible(digit % every == 0)

    def set_cmap(self, cmap):
        """Paint the maps and the legend with cmap (a redraw follows set_levels)."""
        if cmap is not self.cmap:
            self.cmap = cmap
            self.item.setColorMap(cmap)
            self.legend.setColorMap(cmap)
            self.levels = None

    def set_levels(self, levels, ticks=None, tip=""):
        """Draw the legend for levels (lo, hi); ticks: [(value, text), ...] for a
        scale of relative values (None: the numbers); tip: the legend's tooltip."""
        if ticks is None and self.cmap is not SIGNED_CMAP:
            ticks = FIXED_TICKS  # fixed [0, 1] scales: three ticks read best
        _show_scale(self, levels, ticks, tip)


@functools.lru_cache(maxsize=32)
def _digit_font(pitch):
    """The font for digits pitch pixels apart, and every how many cells to label:
    the largest size whose glyphs leave two pixel rows between neighbours. Cached:
    every resize and range change asks again, mostly for a pitch seen before."""
    font = QFont()
    for every in (1, 2):
        for size in range(DIGIT_PX[1], DIGIT_PX[0] - 1, -1):
            font.setPixelSize(size)
            glyph = QFontMetricsF(font).tightBoundingRect("0123456789").height()
            if glyph + 2 <= pitch * every:
                return font, every
    return font, 2


FIXED_TICKS = ((0.0, "0"), (0.5, "0.5"), (1.0, "1"))


def _show_scale(part, levels, ticks, tip):
    """Redraw part's (a Column's or Filters') legend only if something changed: a
    legend redraw costs more than the image."""
    if (levels, ticks) != part.levels:
        part.levels = levels, ticks
        axis = part.legend.getAxis("bottom")
        axis.setTicks(None if ticks is None else [list(ticks)])
        # Fixed ticks keep both ends; the numbers drop labels that would overlap.
        axis.setStyle(hideOverlappingLabels=ticks is None)
        part.legend.setLevels(levels)
    if tip != part.legend.toolTip():
        part.legend.setToolTip(tip)


class Filters:
    """The filter overview under a conv column: caption, one tile per filter, legend.

    Kept, like Column, for later networks. Its tiles use the grid of the conv
    column's maps, so filter k sits where the map it makes does.
    """

    def __init__(self):
        self.layout = self.col = None
        self.title = pg.LabelItem("filters", size="8pt")
        self.view = pg.ViewBox(lockAspect=True, invertY=True, enableMouse=False,
                               enableMenu=False)
        self.view.setBackgroundColor((225, 228, 235))
        self.item = MosaicItem()
        self.item.setColorMap(SIGNED_CMAP)
        self.view.addItem(self.item)
        self.legend = pg.ColorBarItem(
            values=(-1, 1), colorMap=SIGNED_CMAP, interactive=False,
            orientation="horizontal", width=10, pen="#888")
        self.legend.getAxis("bottom").setStyle(tickLength=3, tickFont=TICK_FONT)
        self.levels = None

    def items(self):
        """The layout items, top to bottom."""
        return self.title, self.view, self.legend

    def place(self, layout, col):
        """Put the items under column col of layout (moving them if needed)."""
        if (layout, col) == (self.layout, self.col):
            return
        self.remove()
        for row, item in zip((4, 5, 6), self.items(), strict=True):
            layout.addItem(item, row=row, col=col)
        self.layout, self.col = layout, col
        self.levels = None

    def set_levels(self, levels, ticks=None, tip=""):
        """Draw the legend for levels; ticks and tip as for Column.set_levels."""
        _show_scale(self, levels, ticks, tip)

    def remove(self):
        """Take the items out of the layout, keeping them for a later network."""
        if self.layout is not None:
            for item in self.items():
                self.layout.removeItem(item)
            self.layout = self.col = None


class ResizingGraphics(pg.GraphicsLayoutWidget):
    """The layout widget, telling when its size changed (to arrange the columns)."""

    resized = pyqtSignal()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.resized.emit()
