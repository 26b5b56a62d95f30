"""The pyqtgraph pieces of the Network tab's columns: mosaics, columns, filters.

A MosaicItem draws many equal tiles (feature maps, filters) as one image and tells
which tile was clicked. A Column holds one layer's title, mosaic, shape and legend;
Filters the filter overview under a conv column. Both are built once and reused by
later networks, since building pyqtgraph items is what made replacing a model slow.
"""

import math

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QFont

from convlab.gui.common.colormaps import SIGNED_CMAP
from convlab.lab.network import GAP, grid_shape, mosaic

TICK_FONT = QFont()
TICK_FONT.setPointSize(7)


class MosaicItem(pg.ImageItem):
    """An ImageItem made of equal tiles that reports which tile was clicked."""

    tile_clicked = pyqtSignal(int)

    def __init__(self):
        super().__init__()
        self.tile_h = self.tile_w = 1
        self.rows = self.cols = 1
        self.count = 0

    def set_tiles(self, tiles, levels, rows=None, cols=None):
        """Show tiles (K, h, w) with explicit colour levels (lo, hi)."""
        k, h, w = tiles.shape
        if rows is None:
            rows, cols = grid_shape(k, h, w)
        self.tile_h, self.tile_w, self.rows, self.cols, self.count = h, w, rows, cols, k
        if not np.isfinite(tiles).all():
            # Infinities as gaps too: no colour means "not a number" on any scale.
            tiles = np.where(np.isfinite(tiles), tiles, np.nan)
        self.setImage(mosaic(tiles, rows, cols), levels=levels, autoLevels=False)

    def tile_at(self, x, y):
        """Index of the tile under item coordinates (x, y), or None in a gap."""
        c, dx = divmod(int(math.floor(x)), self.tile_w + GAP)
        r, dy = divmod(int(math.floor(y)), self.tile_h + GAP)
        if dx >= self.tile_w or dy >= self.tile_h or not 0 <= c < self.cols:
            return None
        index = r * self.cols + c
        return index if 0 <= r < self.rows and index < self.count else None

    def tile_center(self, index):
        """Item coordinates of the middle of a tile (for tests and keyboard access)."""
        r, c = divmod(index, self.cols)
        return ((c * (self.tile_w + GAP) + self.tile_w / 2),
                (r * (self.tile_h + GAP) + self.tile_h / 2))

    def mouseClickEvent(self, event):
        if event.button() != Qt.LeftButton:
            return
        index = self.tile_at(event.pos().x(), event.pos().y())
        if index is not None:
            event.accept()
            self.tile_clicked.emit(index)


class Column:
    """The pyqtgraph items of one layout column: title, feature maps, shape, legend.

    Built once per layout column and reused by every later network (configure()),
    since building pyqtgraph items is what made replacing the model slow.
    """

    def __init__(self, layout, col):
        self.layout, self.col = layout, col
        self.kind = "image"  # "image" (feature maps) or "vector"
        self.title = pg.LabelItem("", size="9pt")
        self.view = pg.ViewBox(lockAspect=True, invertY=True, enableMouse=False,
                               enableMenu=False)
        self.view.setBackgroundColor((225, 228, 235))
        self.item = MosaicItem()
        self.view.addItem(self.item)
        self.shape = pg.LabelItem("", size="9pt", color="#555")
        self.legend = pg.ColorBarItem(values=(0, 1), colorMap=SIGNED_CMAP,
                                      interactive=False, orientation="horizontal",
                                      width=10, pen="#888")
        self.legend.getAxis("bottom").setStyle(tickLength=3, tickFont=TICK_FONT)
        self.cmap = None  # set by configure
        self.digit_labels = []  # 0-9 beside a class-score column, made on first use
        self.levels = None
        self.filters = None  # the Filters under this column, if it is a conv layer
        self.placed = False

    def place(self):
        """Put the items (back) into the layout's column."""
        if not self.placed:
            for row, item in enumerate((self.title, self.view, self.shape,
                                        self.legend)):
                self.layout.addItem(item, row=row, col=self.col)
            self.placed = True

    def remove(self):
        """Take the items out of the layout, keeping them for a later network."""
        if self.placed:
            for item in (self.title, self.view, self.shape, self.legend):
                self.layout.removeItem(item)
            self.placed = False

    def configure(self, title, kind, cmap, labelled):
        """Show another layer here: its title, colour map and, for class scores
        (labelled), the digits 0-9 beside the cells."""
        self.kind = kind
        self.title.setText(title)
        self.set_cmap(cmap)
        self.levels = None  # the next set_levels draws the legend for the new data
        if labelled and not self.digit_labels:
            for digit in range(10):
                label = pg.TextItem(str(digit), color="#333", anchor=(1.0, 0.5))
                label.setPos(-0.3, digit * (1 + GAP) + 0.5)
                self.view.addItem(label, ignoreBounds=True)
                self.digit_labels.append(label)
        for label in self.digit_labels:
            label.setVisible(labelled)
        if labelled:
            # Room on the left for the labels; the cells span rows 0..19 with gaps.
            self.view.setRange(xRange=(-1.6, 1.0), yRange=(0, 10 * (1 + GAP) - GAP),
                               padding=0.02)
        else:
            self.view.enableAutoRange()

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

    Spans ``span`` layout columns from ``col``; kept, like Column, for later networks.
    """

    def __init__(self, layout, col):
        self.layout, self.col, self.span = layout, col, None
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

    def place(self, span):
        """Put the items into the layout over span columns (moving them if needed)."""
        if span == self.span:
            return
        self.remove()
        for row, item in zip((4, 5, 6), (self.title, self.view, self.legend),
                             strict=True):
            self.layout.addItem(item, row=row, col=self.col, colspan=span)
        self.span = span
        self.levels = None

    def set_levels(self, levels, ticks=None, tip=""):
        """Draw the legend for levels; ticks and tip as for Column.set_levels."""
        _show_scale(self, levels, ticks, tip)

    def remove(self):
        if self.span is not None:
            for item in (self.title, self.view, self.legend):
                self.layout.removeItem(item)
            self.span = None

