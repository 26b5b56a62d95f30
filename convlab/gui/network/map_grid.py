"""MapGrid: small labelled maps in one GraphicsLayoutWidget, on one colour scale.

The popups that take a layer apart (a filter's partial maps, a layer on a batch,
batch norm's maps) show many small maps, each with its own label, side by side on
one signed scale with one legend, so their sizes compare at a glance.
"""

import numpy as np
import pyqtgraph as pg

from convlab.gui.common.colormaps import SIGNED_CMAP
from convlab.lab.network import number_text, symmetric_levels

LABEL_SIZE = "8pt"
LABEL_HEIGHT = 30  # two lines of 8 pt
LEGEND_WIDTH = 60  # a colour bar with its end numbers


class MapGrid(pg.GraphicsLayoutWidget):
    """Maps (K, h, w) in a grid of ``cols`` columns, each under its label."""

    def __init__(self, name, tip, parent=None):
        super().__init__(parent)
        self.setBackground("#fbfbfd")
        self.setAccessibleName(name)
        self.setToolTip(tip)
        self._tiles = []  # (LabelItem, ImageItem) per map, reused on updates
        self._labels = []
        self._maps = np.zeros((0, 1, 1))
        self._shape = None  # (count, cols) laid out
        self.legend = pg.ColorBarItem(values=(-1, 1), colorMap=SIGNED_CMAP,
                                      interactive=False, width=12, pen="#888")

    def maps(self):
        """The maps on show (K, h, w), a copy."""
        return self._maps.copy()

    def labels(self):
        """The label of each map, in order."""
        return list(self._labels)

    def set_maps(self, maps, labels, cols, levels=None):
        """Show maps (K, h, w) under labels (K strings), ``cols`` to a row, on
        levels (lo, hi) (None: symmetric around 0 over all of them)."""
        maps = np.asarray(maps, dtype=np.float64)
        cols = max(1, min(cols, len(maps)))
        if self._shape != (len(maps), cols):
            self._layout(len(maps), cols)
        levels = symmetric_levels(maps, round_up=False) if levels is None else levels
        for (label, image), text, m in zip(self._tiles, labels, maps, strict=True):
            label.setText(text.replace("\n", "<br>"), size=LABEL_SIZE)
            image.setImage(np.where(np.isfinite(m), m, np.nan), levels=levels,
                           autoLevels=False)
        self.legend.setLevels(levels)
        self._fit_labels(cols)
        self.legend.setToolTip(
            f"The colour key of every map here: {number_text(levels[0], '{:.3g}')} "
            f"(blue) to {number_text(levels[1], '{:.3g}')} (red), white is 0.")
        self._maps, self._labels = maps.copy(), list(labels)

    def _fit_labels(self, cols):
        """Ask Qt for room for every label: pyqtgraph would clip them instead."""
        widths = [0.0] * cols
        for k, (label, _) in enumerate(self._tiles):
            c = k % cols
            widths[c] = max(widths[c], label.item.boundingRect().width())
        legend = self.legend.boundingRect().width() or LEGEND_WIDTH
        self.setMinimumWidth(int(sum(widths) + legend + 12 * (cols + 1)))

    def _layout(self, count, cols):
        self.clear()
        self._tiles = []
        rows = -(-count // cols)
        for k in range(count):
            r, c = divmod(k, cols)
            label = self.addLabel("", row=2 * r, col=c, size=LABEL_SIZE)
            label.setMaximumHeight(LABEL_HEIGHT)  # the room left goes to the maps
            view = self.addViewBox(row=2 * r + 1, col=c, lockAspect=True,
                                   invertY=True, enableMouse=False, enableMenu=False)
            image = pg.ImageItem()
            image.setColorMap(SIGNED_CMAP)
            view.addItem(image)
            self._tiles.append((label, image))
        self.addItem(self.legend, row=0, col=cols, rowspan=2 * rows)
        self._shape = (count, cols)
