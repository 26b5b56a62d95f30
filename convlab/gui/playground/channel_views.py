"""ChannelViews: a colour convolution taken apart, one picture per step.

Row by row: each padded input channel; each channel's partial map (slice c over
channel c, no bias); their sum; the sum plus the bias, which is the filter's output
map. The partial maps, the sum and the output share one colour scale
(PartialMaps.levels), so a value has the same colour in each.

Signal: cell_clicked(int, int) — the student clicked output cell (row, col) of a
partial map, the sum or the output. Setter slots: show_maps(padded, maps, pad),
show_problem(why), show_window(top, left, size, row, col), set_columns(columns).
"""

import numpy as np
from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import QGridLayout, QSizePolicy, QWidget

from convlab.gui.playground.views import MapView, region_overlay
from convlab.lab.channels import CHANNEL_NAMES

CLICK_HINT = "Hover: value. Click: step there."


class ChannelViews(QWidget):
    """Input channels, partial maps, their sum and the output, in rows that fit."""

    cell_clicked = pyqtSignal(int, int)

    def __init__(self, channels=3, parent=None):
        super().__init__(parent)
        self.inputs = [MapView(
            f"Channel {c}: {CHANNEL_NAMES[c]}",
            f"The {CHANNEL_NAMES[c]} part of the picture alone, with its zero border: "
            f"black is no {CHANNEL_NAMES[c]}, white the most. Slice {c} of the filter "
            "slides over this channel only.", kind="pixels", parent=self)
            for c in range(channels)]
        self.partials = [MapView(
            f"Partial map {c}: slice {c} * channel {c}",
            f"Slice {c} of the filter convolved with channel {c} alone, no bias. "
            "Red: positive, blue: negative, white: zero.", hint=CLICK_HINT,
            parent=self) for c in range(channels)]
        self.sum_view = MapView(
            "Sum of the partial maps",
            "The partial maps added cell by cell: the filter slides in two "
            "directions only, and its depth is summed away into one map.",
            hint=CLICK_HINT, parent=self)
        self.output_view = MapView(
            "Output = sum + bias",
            "The filter's output map: the sum of the partial maps plus the one bias. "
            "One filter gives one map, however many channels went in.",
            hint=CLICK_HINT, parent=self)
        for view in self.views()[channels:]:
            view.cell_clicked.connect(self.cell_clicked)
        for view in self.views():
            view.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._columns = 0
        self.set_columns(4)

    def views(self):
        """Every view, in reading order: inputs, partial maps, sum, output."""
        return (*self.inputs, *self.partials, self.sum_view, self.output_view)

    def set_columns(self, columns):
        """Lay the views out in rows of `columns`; the input channels start a row and
        so do the partial maps, so channel c's map sits under channel c."""
        columns = max(columns, 2)
        if columns == self._columns:
            return
        self._columns = columns
        for view in self.views():
            self._grid.removeWidget(view)
        row = 0
        for group in (self.inputs, (*self.partials, self.sum_view, self.output_view)):
            for i, view in enumerate(group):
                self._grid.addWidget(view, row + i // columns, i % columns)
            row += (len(group) + columns - 1) // columns

    def show_maps(self, padded, maps, pad):
        """Show padded channels (C, Hp, Wp) and a lab.channels.PartialMaps."""
        covered = np.ones(padded.shape[1], bool)
        n = padded.shape[1] - 2 * pad
        for c, view in enumerate(self.inputs):
            view.set_map(padded[c])
            view.set_overlay(region_overlay(padded[c].shape, pad, covered))
            view.set_texts(f"{n}×{n} + 2·{pad} = <b>{padded.shape[1]}×"
                           f"{padded.shape[2]}</b>",
                           f"blue border: {pad} ring(s) of zeros" if pad
                           else "no padding (p = 0)")
        levels = maps.levels()
        out_h, out_w = maps.out_shape
        shape = f"<b>{out_h}×{out_w}</b>"
        for c, view in enumerate(self.partials):
            view.set_map(maps.partial[c], levels)
            view.set_texts(shape, f"contribution (sum of |values|) "
                                  f"{maps.contribution[c]:.4g}")
        terms = " + ".join(f"partial {c}" for c in range(len(self.partials)))
        self.sum_view.set_map(maps.total, levels)
        self.sum_view.set_texts(shape, f"= {terms}")
        self.output_view.set_map(maps.output, levels)
        self.output_view.set_texts(shape + f": one map for {len(self.inputs)} "
                                   "channels", f"= sum {_signed(maps.bias)} (bias)")

    def show_problem(self, why):
        """No output for this setting: every map but the inputs empty, saying why."""
        for view in self.views()[len(self.inputs):]:
            view.show_empty(why)

    def show_window(self, top, left, size, row, col):
        """Frame the window on each input channel and its cell on each output map;
        size 0 hides the frames."""
        for view in self.inputs:
            view.set_window(top, left, size, size)
        for view in self.views()[len(self.inputs):]:
            view.set_cell(row, col, 1 if size else 0, 1)


def _signed(value):
    """A bias written as added: "+ 0.5" or "- 0.5"."""
    return f"- {-value:.4g}" if value < 0 else f"+ {value:.4g}"
