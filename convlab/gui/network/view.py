"""NetworkView: the network as columns, from the input digit to the probabilities.

Each layer's output for the current input is one column: a mosaic of all its feature
maps in a single ImageItem (one item per layer keeps redraws cheap enough to follow
training live), its shape underneath and a colour legend. Conv layers also show their
filters, one small tile per filter (for a filter that reads many maps, the kernel of
the channel with the largest weights). Clicking a map or a filter asks for an enlarged
view, which shows every channel.
"""

import math

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtGui import QFont
from PyQt5.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from convlab.gui.common.colormaps import GREY_CMAP, PROB_CMAP, SIGNED_CMAP
from convlab.lab.network import (
    GAP,
    NOT_FINITE_CAUSE,
    fit_grid,
    grid_shape,
    layer_title,
    mosaic,
    shape_text,
    strongest_channels,
    symmetric_levels,
    vector_grid,
)
from convlab.nn import layers as nn_layers

MAP_HEIGHT = 345  # screen pixels for the row of feature-map mosaics
FILTER_HEIGHT = 125  # screen pixels for the row of filter mosaics
MIN_COLUMN, MAX_COLUMN = 56, 150
LABELLED_COLUMN = 84
COLUMN_SPACING = 10  # about the pixels between two columns of the layout
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


class _Column:
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
        self.filters = None  # the _Filters under this column, if it is a conv layer
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
        if cmap is not self.cmap:
            self.cmap = cmap
            self.item.setColorMap(cmap)
            self.legend.setColorMap(cmap)
            axis = self.legend.getAxis("bottom")
            if cmap is SIGNED_CMAP:
                axis.setTicks(None)
                axis.setStyle(hideOverlappingLabels=True)
            else:  # fixed [0, 1] scales: three ticks read best
                axis.setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
                axis.setStyle(hideOverlappingLabels=False)  # keep 0 and 1 at the ends
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

    def set_levels(self, levels):
        if levels != self.levels:  # a legend redraw costs more than the image
            self.levels = levels
            self.legend.setLevels(levels)


class _Filters:
    """The filter overview under a conv column: caption, one tile per filter, legend.

    Spans ``span`` layout columns from ``col``; kept, like _Column, for later networks.
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

    def remove(self):
        if self.span is not None:
            for item in (self.title, self.view, self.legend):
                self.layout.removeItem(item)
            self.span = None


CAPTION = ("Colours: blue is negative, white is zero, red is positive; each column "
           "has its own scale (the bar under it). Scroll sideways to follow the digit "
           "through the network.")


class NetworkView(QWidget):
    """Architecture columns: input -> every layer's output -> probabilities.

    Call set_layers() once per architecture, then set_activations() for every new
    input or weight update and set_filters() when the weights change.
    """

    map_clicked = pyqtSignal(int, int)  # column (0 = input), map index (-1 = vector)
    filter_clicked = pyqtSignal(int, int)  # column of a conv layer, filter index

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("NetworkView")
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#fbfbfd")
        self.graphics.setAccessibleName("Network feature maps")
        self.graphics.setToolTip(
            "Each column is what one layer computes from the column before it. Click "
            "a feature map or a filter to see it large, with its numbers."
        )
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.graphics)
        self.scroll.setWidgetResizable(True)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QScrollArea.NoFrame)
        self.caption = QLabel(CAPTION)
        self.caption.setObjectName("Caption")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.caption)
        self._columns = []  # the first len(columns()) of _pool, in use
        self._pool = []  # every _Column built so far, by layout column
        self._filter_pool = {}  # layout column -> the _Filters built for it
        self._key = None  # (titles, shapes, conv or not) of the columns laid out
        self._conv_columns = []
        self._activations = None
        self._filters = {}
        self._filter_channels = {}
        self._filter_boxes = {}  # column -> (width, height) of its filter overview
        self._finite_maps = self._finite_filters = True

    def columns(self):
        """Titles of the columns, input first and probabilities last."""
        return [c.title.text for c in self._columns]

    def column_item(self, column):
        """The MosaicItem of a column's feature maps (for tests and the bench)."""
        return self._columns[column].item

    def filter_item(self, column):
        """The MosaicItem of a conv column's filters (None for another column)."""
        filters = self._columns[column].filters
        return None if filters is None else filters.item

    def activation(self, column):
        """The array shown in a column: input (1, 1, 28, 28) or a layer output."""
        return None if self._activations is None else self._activations[column]

    def filter_weights(self, column):
        """A conv column's weights (F, C, kh, kw) as last shown."""
        return self._filters.get(column)

    def filter_caption(self, column):
        """The text above a conv column's filter overview."""
        return self._columns[column].filters.title.text

    def filter_channels(self, column):
        """For each filter of a conv column, the input channel its tile shows (F,)."""
        return self._filter_channels.get(column)

    def set_layers(self, layers, shapes):
        """Lay out one column per layer; shapes are the layer outputs incl. batch, e.g.
        [(1, 32, 26, 26), ...], and the input column (1, 1, 28, 28) comes first.

        The same titles and shapes as before (new weights for the same network) keep
        the columns as they are; another network reuses the items already built.
        """
        self._activations = None
        self._filters = {}
        self._filter_channels = {}
        titles = ["Input"] + [layer_title(layer) for layer in layers]
        if shapes[-1] == (1, 10):
            titles[-1] = "Scores\n(" + titles[-1] + ")"  # softmax turns them into:
        titles.append("Probabilities")
        shapes = [(1, 1, 28, 28)] + [tuple(s) for s in shapes] + [tuple(shapes[-1])]
        convs = [isinstance(layer, nn_layers.Conv2d) for layer in layers]
        key = (titles, shapes, convs)
        if key == self._key:
            return
        self._key = key
        ci = self.graphics.ci
        # Filters spread under the next column too (a ReLU's, a pool's: they have
        # none), so each filter gets a tile large enough to read.
        spans = {col: 1 if col < len(layers) and convs[col] else 2
                 for col in range(1, len(layers) + 1) if convs[col - 1]}
        for col, filters in self._filter_pool.items():
            if spans.get(col) != filters.span:  # out first: spans may overlap
                filters.remove()
        widths = []
        for col, (title, shape) in enumerate(zip(titles, shapes, strict=True)):
            if col == len(self._pool):
                self._pool.append(self._new_column(col))
            column = self._pool[col]
            kind = "image" if len(shape) == 4 else "vector"
            cmap = GREY_CMAP if col == 0 else SIGNED_CMAP
            if col == len(titles) - 1:
                cmap = PROB_CMAP
            # Class-score columns need room for their digit labels and titles.
            labelled = kind == "vector" and shape[1] == 10
            column.place()
            column.configure(title, kind, cmap, labelled)
            column.shape.setText(shape_text(shape))
            column.filters = self._place_filters(col, spans.get(col))
            widths.append(LABELLED_COLUMN if labelled else self._column_width(shape))
        for column in self._pool[len(titles):]:
            column.remove()
        self._columns = self._pool[:len(titles)]
        self._conv_columns = sorted(spans)
        self._filter_boxes = {
            col: (sum(widths[col:col + span]) + COLUMN_SPACING * (span - 1),
                  FILTER_HEIGHT) for col, span in spans.items()}
        for col, width in enumerate(widths):
            ci.layout.setColumnFixedWidth(col, width)
        ci.layout.setRowFixedHeight(1, MAP_HEIGHT)
        ci.layout.setRowFixedHeight(5, FILTER_HEIGHT if self._conv_columns else 0)
        # Column widths plus the layout's spacing and margins.
        self.graphics.setMinimumWidth(sum(widths) + 14 * len(widths) + 24)

    def _new_column(self, col):
        column = _Column(self.graphics.ci, col)
        column.item.tile_clicked.connect(
            lambda index: self._on_mosaic_tile_clicked(col, index))
        return column

    def _place_filters(self, col, span):
        """The filter overview under column col over span columns (None: none)."""
        if span is None:
            return None
        filters = self._filter_pool.get(col)
        if filters is None:
            filters = self._filter_pool[col] = _Filters(self.graphics.ci, col)
            filters.item.tile_clicked.connect(
                lambda index: self._on_filters_tile_clicked(col, index))
        filters.place(span)
        return filters

    @staticmethod
    def _column_width(shape):
        if len(shape) == 4:
            rows, cols = grid_shape(shape[1], shape[2], shape[3])
            h = rows * (shape[2] + GAP)
            w = cols * (shape[3] + GAP)
        else:
            rows, cols = vector_grid(shape[1])
            h, w = rows, cols
        return int(min(MAX_COLUMN, max(MIN_COLUMN, MAP_HEIGHT * w / h)))

    def set_activations(self, x, outputs, probabilities):
        """Show input x (1, 1, 28, 28), every layer output and (1, 10) probabilities."""
        arrays = [x] + list(outputs) + [probabilities]
        self._activations = arrays
        last = len(arrays) - 1
        for col, (column, a) in enumerate(zip(self._columns, arrays, strict=True)):
            # Pixels and probabilities live in [0, 1]; the rest is signed.
            levels = (0.0, 1.0) if col in (0, last) else symmetric_levels(a)
            if a.ndim == 4:
                column.item.set_tiles(a[0], levels)  # (C, H, W) maps
            else:
                rows, cols = vector_grid(a.shape[1])
                column.item.set_tiles(a[0].reshape(-1, 1, 1), levels, rows, cols)
            column.set_levels(levels)
        self._finite_maps = all(np.isfinite(a).all() for a in arrays)
        self._update_caption()

    def _update_caption(self):
        finite = self._finite_maps and self._finite_filters
        text = CAPTION if finite else (
            "Some numbers here are not a number (NaN) or infinite; they are drawn as "
            "gaps. " + NOT_FINITE_CAUSE)
        if text != self.caption.text():
            self.caption.setText(text)

    def set_filters(self, weights):
        """Show conv weights: weights[column] = (F, C, kh, kw) for every conv column."""
        self._filters = {col: w for col, w in weights.items()}
        for col, w in weights.items():
            column = self._columns[col]
            f, c, kh, kw = w.shape
            # One legible tile per filter. All 64 x 32 kernels of a second conv layer
            # would be specks at this size; the enlarged view shows every channel.
            tiles, channels = strongest_channels(w)
            self._filter_channels[col] = channels
            levels = symmetric_levels(tiles)
            rows, cols = fit_grid(f, kh, kw, *self._filter_boxes[col])
            filters = column.filters
            filters.item.set_tiles(tiles, levels, rows, cols)
            title = f"{f} filters, {c} × {kh} × {kw}"
            if c > 1:
                title += "<br>tile: its strongest channel"
            if title != filters.title.text:
                filters.title.setText(title)
                filters.item.setToolTip(_filter_tip(c))
            if levels != filters.levels:
                filters.levels = levels
                filters.legend.setLevels(levels)
        self._finite_filters = all(np.isfinite(w).all() for w in weights.values())
        self._update_caption()

    def _on_mosaic_tile_clicked(self, column, index):
        kind = self._columns[column].kind
        self.map_clicked.emit(column, index if kind == "image" else -1)

    def _on_filters_tile_clicked(self, column, index):
        if column in self._filters:
            self.filter_clicked.emit(column, index)


def _filter_tip(channels):
    """The tooltip of a filter overview whose filters read that many channels."""
    if channels == 1:
        return ("One tile per filter: the weights it slides over the image. Click one "
                "to see its numbers.")
    return (f"One tile per filter. Each filter reads all {channels} maps of the "
            "previous layer, with one kernel per map; its tile shows the kernel with "
            "the largest weights (the map it listens to most). Click a filter to see "
            "all its kernels and their numbers.")

