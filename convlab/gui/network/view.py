"""NetworkView: the network as columns, from the input digit to the probabilities.

Each layer's output for the current input is one column: a mosaic of all its feature
maps in a single ImageItem (one item per layer keeps redraws cheap enough to follow
training live), its shape underneath and a colour legend. Conv layers also show their
filters, one small tile per filter (for a filter that reads many maps, the kernel of
the channel with the largest weights), in the grid of its maps: filter k sits where
map k does. The columns are fitted to the widget (arrangement.py), in one band or
several, so every one is in view without scrolling. Clicking a map or a filter asks
for an enlarged view, which shows every channel.
"""

import numpy as np
import pyqtgraph as pg
from PyQt5.QtCore import QRectF, pyqtSignal
from PyQt5.QtGui import QTransform
from PyQt5.QtWidgets import QLabel, QMenu, QVBoxLayout, QWidget

from convlab.gui.common.colormaps import GREY_CMAP, PROB_CMAP, SIGNED_CMAP
from convlab.gui.network.arrangement import (
    MIN_MAP_HEIGHT,
    ROW_HEIGHTS,
    SPACING,
    Band,
    Spec,
    arrange,
)
from convlab.gui.network.backward_bar import BackwardBar
from convlab.gui.network.columns import Column, Filters, ResizingGraphics
from convlab.gui.network.export import offer_export
from convlab.gui.network.field import FieldOverlay, field_label
from convlab.lab.backward import RELATIVE_TICKS, legend_tip, scaled_maps
from convlab.lab.network import (
    BACKWARD_CAPTION,
    CAPTION,
    COUNTING_NOTE,
    FIELD_HINT,
    NOT_FINITE_CAUSE,
    PER_MAP_CAPTION,
    filter_caption,
    filter_tip,
    fit_grid,
    forward_tip,
    layer_title,
    shape_text,
    strongest_channels,
    symmetric_levels,
    weight_gradient_tip,
)
from convlab.nn import layers as nn_layers

STRIP_TALLNESS = 20  # a long vector is drawn this many times taller than wide
LABELLED_WIDTH = 84  # class-score columns: room for the digits beside the cells
LEGEND_WIDTH = 60  # a colour bar with its two end numbers readable
MARGIN = 4  # pixels around the whole layout
QWIDGETSIZE_MAX = (1 << 24) - 1  # Qt's "no maximum size"
# Layout pixels per screen pixel to try, least shrinking first: only a window too
# small for the maps at full size shrinks the text with them.
SCALES = (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.7, 2.0, 2.5, 3.0)
READABLE = 0.5  # screen pixels per map pixel: a digit's strokes still show


class NetworkView(QWidget):
    """Architecture columns: input -> every layer's output -> probabilities.

    Call set_layers() once per architecture, then set_activations() for every new
    input or weight update and set_filters() when the weights change.
    """

    map_clicked = pyqtSignal(int, int)  # column (0 = input), map index (-1 = vector)
    filter_clicked = pyqtSignal(int, int)  # column of a conv layer, filter index
    # The mouse is over a unit: column, map (or vector entry), row, col; a map of
    # -1 means it left every unit.
    unit_hovered = pyqtSignal(int, int, int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("NetworkView")
        self.graphics = ResizingGraphics()
        self.graphics.setBackground("#fbfbfd")
        self.graphics.setAccessibleName("Network feature maps")
        self.graphics.setToolTip(
            "Each column is what one layer computes from the column before it. Click "
            "a feature map or a filter to see it large, with its numbers."
        )
        self.graphics.ci.setContentsMargins(MARGIN, MARGIN, MARGIN, MARGIN)
        self.graphics.ci.setSpacing(SPACING)
        self.graphics.resized.connect(self._arrange)
        self.backward_bar = BackwardBar()
        self.field_label = field_label(FIELD_HINT)
        self._field = None  # the FieldOverlay on the input column, made on first use
        self.export_menu = QMenu(self)
        self.export_menu.setAccessibleName("Export picture")
        self.export_menu.setToolTipsVisible(True)
        self.caption = QLabel(CAPTION)
        self.caption.setObjectName("Caption")
        self.caption.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.backward_bar)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.field_label)
        layout.addWidget(self.caption)
        self._columns = []  # the first len(columns()) of _pool, in use
        self._pool = []  # every Column built so far, by network column
        self._filter_pool = {}  # network column -> the Filters built for it
        self._bands = []  # a GraphicsLayout per band of columns, built so far
        self._key = None  # (titles, shapes, conv or not) of the columns laid out
        self._specs = []  # what each column needs (arrangement.Spec)
        self._arrangement = None  # the bands shown, and for which specs
        self._activations = None
        self._filters = {}
        self._filter_channels = {}
        self._finite_maps = self._finite_filters = True
        self._backward = False  # the columns show gradients (set_gradients)
        self._trace = self._target = None  # the backward pass shown, for its target
        self._per_map = False

    def columns(self):
        """Titles of the columns, input first and probabilities last."""
        return [c.name for c in self._columns]

    def column_item(self, column):
        """The MosaicItem of a column's feature maps (for tests and the bench)."""
        return self._columns[column].item

    def column_kind(self, column):
        """"image" for a column of feature maps, "vector" for a list of numbers."""
        return self._columns[column].kind

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
        self._backward, self._trace = False, None  # for another network
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
        self._specs = []
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
            column.configure(title, kind, cmap, labelled)
            column.shape.setText(shape_text(shape) + (
                " numbers" if kind == "vector" and not labelled else ""))
            conv = 0 < col <= len(layers) and convs[col - 1]
            if column.filters is not None and not conv:
                column.filters.remove()
            column.filters = self._filters_of(col) if conv else None
            if conv:
                column.filters.item.forget()
                # As wide as its Backward caption, the longer one.
                weight = layers[col - 1].weight.shape
                column.filters.title.setText(filter_caption(weight, True))
                filter_width = column.filters.title.minimumWidth() + 4
                column.filters.title.setText(filter_caption(weight, False))
            width = max(LEGEND_WIDTH, column.title.minimumWidth() + 4,
                        column.shape.minimumWidth() + 4, filter_width if conv else 0)
            if labelled:
                width = max(width, LABELLED_WIDTH)
            self._specs.append(Spec(int(width), conv,
                                    tuple(shape[1:]) if kind == "image" else None))
        for column in self._pool[len(titles):]:
            column.remove()
            if column.filters is not None:
                column.filters.remove()
                column.filters = None
        self._columns = self._pool[:len(titles)]
        self._arrangement = None
        self._arrange()

    def _new_column(self, col):
        column = Column()
        column.item.tile_clicked.connect(
            lambda index: self._on_mosaic_tile_clicked(col, index))
        column.item.unit_hovered.connect(
            lambda index, row, c: self.unit_hovered.emit(col, index, row, c))
        column.item.export_requested.connect(
            lambda pos: self._offer_export(column.view, column.name, pos))
        return column

    def _offer_export(self, item, name, pos):
        offer_export(self.export_menu, self, item, name, pos)

    def show_field(self, box, gradient, text):
        """Draw a unit's receptive field box (top, left, bottom, right) and its
        d(unit)/dx (28, 28) on the input column, and say what they are."""
        if self._field is None:
            self._field = FieldOverlay(self._columns[0].view)
        self._field.show(box, gradient)
        self.field_label.setText(text)

    def clear_field(self):
        """No unit under the mouse: no field drawn, the hint instead."""
        if self._field is not None:
            self._field.hide()
        self.field_label.setText(FIELD_HINT)

    def field_shown(self):
        """(box, gradient) drawn on the input column, or None (for tests)."""
        field = self._field
        return None if field is None or field.box is None else (field.box,
                                                                 field.gradient)

    def _filters_of(self, col):
        """The Filters of column col, built on first use."""
        filters = self._filter_pool.get(col)
        if filters is None:
            filters = self._filter_pool[col] = Filters()
            filters.item.tile_clicked.connect(
                lambda index: self._on_filters_tile_clicked(col, index))
            filters.item.export_requested.connect(
                lambda pos: self._offer_export(
                    filters.view, "filters of " + self._columns[col].name, pos))
        return filters

    def bands(self):
        """The network columns of each band, top band first (for tests)."""
        return [band.columns for band in self._arrangement[1]]

    def release(self):
        """Empty the scene (the window is closing): destroyed with the bands in it,
        Qt lays them out half destroyed and pyqtgraph's signals reach a dying object."""
        for band in self._bands:
            band.clear()
        self.graphics.ci.clear()
        for part in self._pool + list(self._filter_pool.values()):
            part.layout = part.col = None  # in no band now
        self._arrangement = None  # the bands are kept: nothing is deleted mid-loop

    def _arrange(self):
        """Fit the columns to the widget: split them into bands, give each its
        width and heights and lay out its maps (and filters) to fill the box."""
        if not self._specs:
            return
        width, height = self.graphics.width(), self.graphics.height()
        # On a small screen no arrangement fits at full size: lay the columns out
        # for a larger area and show all of it scaled down, text included, rather
        # than clip any of it.
        # The least shrinking (the text shrinks too) that shows a map pixel at
        # least READABLE screen pixels wide; failing that, the scale that shows
        # the maps largest.
        bands, scale, best = None, SCALES[-1], 0.0
        for factor in SCALES:
            if best >= READABLE:
                break
            shown, score = arrange(self._specs, int(width * factor) - 2 * MARGIN,
                                   int(height * factor) - 2 * MARGIN)
            if shown is not None and score / factor > best:
                bands, scale, best = shown, factor, score / factor
        if bands is None:
            bands = [Band((i,), (spec.min_width,), MIN_MAP_HEIGHT, 0)
                     for i, spec in enumerate(self._specs)]
        if self._arrangement != (self._key, bands):
            self._arrangement = self._key, bands
            self._place(bands)
        # After placing: the layout cannot shrink below the rows it had before.
        self.graphics.setRange(QRectF(0, 0, width * scale, height * scale),
                               padding=0, disableAutoPixel=True)

    def _place(self, bands):
        """Put the columns into their bands, with their widths and heights."""
        ci = self.graphics.ci
        while len(self._bands) < len(bands):
            layout = pg.GraphicsLayout()
            layout.setContentsMargins(0, 0, 0, 0)
            layout.setSpacing(SPACING)
            self._bands.append(layout)
        # Out first what moves: a cell must be free before another column takes it.
        for b, band in enumerate(bands):
            for k, col in enumerate(band.columns):
                column = self._columns[col]
                for part in (column, column.filters):
                    if part is not None and (part.layout, part.col) != (
                            self._bands[b], k):
                        part.remove()
        for b, band in enumerate(bands):
            layout = self._bands[b]
            grid = layout.layout
            for k in range(len(band.columns), grid.columnCount()):
                grid.setColumnFixedWidth(k, 0)  # left from a wider band
            for k, (col, w) in enumerate(zip(band.columns, band.widths,
                                             strict=True)):
                column = self._columns[col]
                column.place(layout, k)
                if column.filters is not None:
                    column.filters.place(layout, k)
                grid.setColumnFixedWidth(k, w)
                spec = self._specs[col]
                if spec.maps is not None:
                    # Filters in the grid of their maps: filter k where map k is.
                    rows_cols = fit_grid(*spec.maps, w, band.map_height)
                    for part in (column, column.filters):
                        if part is not None:
                            part.item.set_grid(rows_cols)
            # The filter rows only where there are filters: an empty row that has
            # a height still gets spacing around it.
            heights = list(ROW_HEIGHTS[:7 if band.filter_height else 4])
            heights[1] = band.map_height
            if band.filter_height:
                heights[5] = band.filter_height
            for row, h in enumerate(heights):
                grid.setRowFixedHeight(row, h)
        # Bands stay in the scene once made (taking a layout with items out of
        # the scene hands its items' ownership around); an unused one is empty
        # and squeezed to nothing.
        for b, layout in enumerate(self._bands):
            if layout not in ci.items:
                ci.addItem(layout, row=b, col=0)
            layout.setMaximumHeight(QWIDGETSIZE_MAX if b < len(bands) else 0)
            ci.layout.setRowSpacing(b, SPACING if b < len(bands) - 1 else 0)

    def set_activations(self, x, outputs, probabilities):
        """Show input x (1, 1, 28, 28), every layer output and (1, 10) probabilities."""
        arrays = [x] + list(outputs) + [probabilities]
        self._activations = arrays
        was_backward, self._backward = self._backward, False
        last = len(arrays) - 1
        for col, (column, a) in enumerate(zip(self._columns, arrays, strict=True)):
            column.set_cmap(GREY_CMAP if col == 0 else
                            PROB_CMAP if col == last else SIGNED_CMAP)
            # Pixels and probabilities live in [0, 1]; the rest is signed.
            levels = (0.0, 1.0) if col in (0, last) else symmetric_levels(a)
            self._draw(column, a[0], levels, tip=forward_tip(col, last, levels))
        self._finite_maps = all(np.isfinite(a).all() for a in arrays)
        if was_backward:
            self._draw_filters()
        self._update_caption()

    def set_gradients(self, trace, target, per_map):
        """Show the backward pass: trace is explain.backprop(model, x, target) for
        the network laid out; per_map gives every map its own colour scale.

        Each layer's column shows dL/d(its output), the input column dL/dx, each
        conv layer's filters dL/dW; the probabilities stay as they are.
        """
        self._backward = True
        self._trace, self._target, self._per_map = trace, target, per_map
        grads = [trace.grad_input[None]] + [layer.grad_output for layer in trace.layers]
        titles = [t.replace("\n", ", ") for t in self.columns()]
        last = len(self._columns) - 1
        for col, g in enumerate(grads):
            column = self._columns[col]
            column.set_cmap(SIGNED_CMAP)
            maps = g if g.ndim == 3 else g.reshape(1, 1, -1)  # a vector is one map
            tiles, levels, _ = scaled_maps(maps, per_map)
            tip = legend_tip(titles[col], g, levels, per_map, trace.loss,
                             trace.probabilities, target, "x" if col == 0
                             else "(output)")
            self._draw(column, tiles.reshape(g.shape), levels,
                       RELATIVE_TICKS if per_map else None, tip)
        column = self._columns[last]
        column.set_cmap(PROB_CMAP)
        self._draw(column, trace.probabilities, (0.0, 1.0),
                   tip=forward_tip(last, last, (0.0, 1.0)))
        self._finite_maps = all(np.isfinite(g).all() for g in grads)
        self._draw_filters()
        self._update_caption()

    def is_backward(self):
        """True while the columns show the backward pass (set_gradients)."""
        return self._backward

    def gradient(self, column):
        """What a column shows in Backward: dL/dx (28, 28) for the input, dL/d(output)
        (C, H, W) or (features,) for a layer, the probabilities (10,) last."""
        if self._trace is None:
            return None
        if column == 0:
            return self._trace.grad_input
        if column == len(self._columns) - 1:
            return self._trace.probabilities
        return self._trace.layers[column - 1].grad_output

    def weight_gradient(self, column):
        """A conv column's dL/dW (F, C, kh, kw) as shown in Backward (None: none)."""
        if self._trace is None or column not in self._filters:
            return None
        return self._trace.layers[column - 1].grad_weight

    @staticmethod
    def _draw(column, a, levels, ticks=None, tip=""):
        """Draw a column's maps a (C, H, W) or vector a (features,) with levels."""
        if a.ndim == 3:
            column.item.set_tiles(a, levels)
        else:
            column.item.set_tiles(a.reshape(-1, 1, 1), levels, a.size, 1)  # (N,1,1)
            if column.item.gap == 0:
                # A long vector as a thin strip: each number one cell of it.
                column.item.setTransform(
                    QTransform.fromScale(a.size / STRIP_TALLNESS, 1))
        column.set_levels(levels, ticks, tip)

    def _update_caption(self):
        finite = self._finite_maps and self._finite_filters
        backward = BACKWARD_CAPTION + (PER_MAP_CAPTION if self._per_map else "")
        text = (backward if self._backward else CAPTION) if finite else (
            "Some numbers here are not a number (NaN) or infinite; they are drawn as "
            "gaps. " + NOT_FINITE_CAUSE)
        text += " " + COUNTING_NOTE
        if text != self.caption.text():
            self.caption.setText(text)

    def set_filters(self, weights):
        """Show conv weights: weights[column] = (F, C, kh, kw) for every conv column
        (in Backward the weights are kept, and their tiles' channels used, for dW)."""
        self._filters = {col: w for col, w in weights.items()}
        for col, w in weights.items():
            # One legible tile per filter. All 64 x 32 kernels of a second conv layer
            # would be specks at this size; the enlarged view shows every channel.
            _, self._filter_channels[col] = strongest_channels(w)
        self._finite_filters = all(np.isfinite(w).all() for w in weights.values())
        if not self._backward:
            self._draw_filters()
            self._update_caption()

    def _draw_filters(self):
        """Draw every conv column's filters: the weights, or dL/dW in Backward, each
        filter's tile on the channel with the largest weights."""
        for col, w in self._filters.items():
            f, c, kh, kw = w.shape
            channels = self._filter_channels[col]
            filters = self._columns[col].filters
            title = filter_caption(w.shape, self._backward)
            if self._backward:
                dw = self._trace.layers[col - 1].grad_weight
                tiles, levels, _ = scaled_maps(dw[np.arange(f), channels],
                                               self._per_map)
                ticks = RELATIVE_TICKS if self._per_map else None
                trace = self._trace
                name = self._columns[col].name.replace("\n", ", ")
                tip = legend_tip(f"the filters of {name}", dw, levels,
                                 self._per_map, trace.loss, trace.probabilities,
                                 self._target, "W")
                item_tip = weight_gradient_tip(c)
            else:
                tiles, levels, ticks = w[np.arange(f), channels], None, None
                levels = symmetric_levels(tiles)
                tip = (f"Colour scale of the filter weights: {levels[0]:g} (blue) "
                       f"to {levels[1]:g} (red), white is 0.")
                item_tip = filter_tip(c)
            filters.item.set_tiles(tiles, levels)  # in the grid of the maps
            if title != filters.title.text:
                filters.title.setText(title)
            if item_tip != filters.item.toolTip():
                filters.item.setToolTip(item_tip)
            filters.set_levels(levels, ticks, tip)

    def _on_mosaic_tile_clicked(self, column, index):
        kind = self._columns[column].kind
        self.map_clicked.emit(column, index if kind == "image" else -1)

    def _on_filters_tile_clicked(self, column, index):
        if column in self._filters:
            self.filter_clicked.emit(column, index)
