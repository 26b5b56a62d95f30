"""PipelineMaps: the Playground's maps, from the padded input to the pooled output.

Shows a convlab.lab.pipeline.KernelPipeline: one MapView per stage with its shape,
filled-in formula, colour legend and tints, laid out in rows that fit the width. A
setting with no output empties the maps it has no values for (show_problem); the
host says why, and which rows no window reaches, in its SettingNote.

Signal: cell_clicked(str, int, int) — the student clicked output cell (row, col) of
the "conv" or "pool" stage. Setter slots: show_pipeline(...),
show_problem(input_map, text), show_step(step), set_columns(columns).
"""

import numpy as np
from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import QGridLayout, QSizePolicy, QVBoxLayout, QWidget

from convlab.gui.playground.step_through import CONV, POOL
from convlab.gui.playground.views import MapView, region_overlay
from convlab.lab.network import symmetric_levels

CLICK_HINT = "Hover: value. Click: step there."
EMPTY_WHY = "The red note at the top of the tab says why."


class PipelineMaps(QWidget):
    """Padded input, convolution, ReLU, pooling and filter-bank maps, in order."""

    cell_clicked = pyqtSignal(str, int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.input_view = MapView(
            "Padded input",
            "The input with its zero border (blue). The kernel slides over this "
            "padded picture; padding lets it centre on the edge pixels too.",
            kind="pixels", parent=self)
        self.conv_view = MapView(
            "Convolution output",
            "Each cell is the sum of kernel x window for one window position. Red: "
            "positive, blue: negative, white: zero (see the legend).",
            hint=CLICK_HINT, parent=self)
        self.relu_view = MapView(
            "After ReLU",
            "ReLU(x) = max(0, x): negative responses (blue) become 0, positive ones "
            "pass unchanged. Same colour scale as the convolution output.",
            hint=CLICK_HINT, parent=self)
        self.pool_view = MapView(
            "Max pooling",
            "Pooling keeps one number per window of the ReLU output: the largest "
            "(max) or the mean (average). The map shrinks, the strong responses stay.",
            hint=CLICK_HINT, parent=self)
        self.bank_view = MapView(
            "Filter bank",
            "Every kernel of the bank applied to the same input: one feature map per "
            "kernel, side by side, exactly what a conv layer with that many filters "
            "outputs. One shared colour scale.",
            parent=self)
        self.pool_avg_view = MapView(
            "Average pooling",
            "Average pooling: the mean of each window, next to max pooling for "
            "comparison. Averages are softer, max keeps the strongest response.",
            parent=self)
        # Clicking an output cell asks the step-through for the window that made it.
        self.conv_view.cell_clicked.connect(
            lambda row, col: self.cell_clicked.emit(CONV, row, col))
        self.relu_view.cell_clicked.connect(
            lambda row, col: self.cell_clicked.emit(CONV, row, col))
        self.pool_view.cell_clicked.connect(
            lambda row, col: self.cell_clicked.emit(POOL, row, col))

        # Each map, and the whole set, exactly as tall as its parts ask: room a
        # taller neighbour column leaves over must not stretch the maps, or they
        # would change height with every message.
        for view in self.views():
            view.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self._grid = QGridLayout()
        # Which maps the settings call for; _reflow shows exactly these.
        self._shown = {self.input_view, self.conv_view, self.relu_view}
        self._columns, self._laid_out = 0, ()
        self.set_columns(2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._grid, 1)

    def views(self):
        """Every map view, in pipeline order."""
        return (self.input_view, self.conv_view, self.relu_view, self.pool_view,
                self.pool_avg_view, self.bank_view)

    def show_problem(self, input_map):
        """No convolution output: the input as it is, every other map empty."""
        self.input_view.set_map(input_map)
        self.input_view.set_overlay(None)
        self.input_view.set_window(0, 0, 0, 0)
        n = input_map.shape[0]
        self.input_view.set_texts(f"<b>{n}×{n}</b>: not padded", EMPTY_WHY)
        for view in self.views()[1:]:
            view.show_empty(EMPTY_WHY)

    def set_columns(self, columns):
        """Lay the shown maps out in rows of `columns`, in pipeline order."""
        laid_out = tuple(view in self._shown for view in self.views())
        if (columns, laid_out) == (self._columns, self._laid_out):
            return
        self._columns, self._laid_out = columns, laid_out
        for view in self.views():
            self._grid.removeWidget(view)
            view.setVisible(view in self._shown)
        visible = [view for view in self.views() if view in self._shown]
        for i, view in enumerate(visible):
            self._grid.addWidget(view, i // columns, i % columns)

    def show_pipeline(self, r, input_title, conv_title, side_by_side):
        """Show KernelPipeline r; side_by_side puts average pooling beside max."""
        n, f = r.input.shape[0], r.kernel.shape[0]
        s, p = r.stride, r.padding
        out_n, padded_n = r.conv.shape[0], r.padded.shape[0]
        self.input_view.set_title(input_title)
        self.input_view.set_map(r.padded)
        self.input_view.set_overlay(region_overlay(r.padded.shape, p, r.input_covered))
        self.input_view.set_texts(
            f"{n}×{n} + 2·{p} = <b>{padded_n}×{padded_n}</b>",
            f"blue border: {p} ring(s) of zero padding" if p else "no padding (p = 0)")
        # One scale for conv, ReLU and pooling: the same value has the same colour.
        levels = symmetric_levels(r.conv, round_up=False)
        self.conv_view.set_title(conv_title)
        self.conv_view.set_map(r.conv, levels)
        self.conv_view.set_texts(f"<b>{out_n}×{out_n}</b>: n = {n}, p = {p}, "
                                 f"f = {f}, s = {s}", r.conv_formula)
        self.relu_view.set_map(r.relu, levels)
        self.relu_view.set_texts(
            f"<b>{out_n}×{out_n}</b>: ReLU keeps the shape",
            "max(0, x): blue (negative) cells turn white (0).")
        self._set_shown(self.pool_view, r.pool != "none")
        self._set_shown(self.pool_avg_view, r.pool != "none" and side_by_side)
        if r.pool_problem:
            self.relu_view.set_overlay(None)
            self.pool_view.set_title(
                "Max pooling" if first_pool(r.pool, side_by_side) == "max"
                else "Average pooling")
            self.pool_view.show_empty(EMPTY_WHY)
            self.pool_avg_view.show_empty(EMPTY_WHY)
        elif r.pool == "none":
            self.relu_view.set_overlay(None)
        else:
            first = first_pool(r.pool, side_by_side)
            pooled = r.max if first == "max" else r.avg
            pool_n = pooled.shape[0]
            self.relu_view.set_overlay(
                region_overlay((out_n, out_n), 0, r.pool_covered))
            text = f"<b>{pool_n}×{pool_n}</b>: pool k = {r.pool_size}, s = " \
                   f"{r.pool_stride}"
            self.pool_view.set_map(pooled, levels)
            self.pool_view.set_title(
                "Max pooling" if first == "max" else "Average pooling")
            self.pool_view.set_texts(text, r.pool_formula)
            if side_by_side:
                self.pool_avg_view.set_map(r.avg, levels)
                self.pool_avg_view.set_texts(text, r.pool_formula)
        self._show_bank(r.bank, r.conv_formula)
        self.set_columns(self._columns)

    def show_step(self, step):
        """Frame the step-through's window on its input and the cell it makes."""
        if step.stage == CONV:
            self.input_view.set_window(step.top, step.left, step.size, step.size)
            self.conv_view.set_cell(step.out_row, step.out_col)
            self.relu_view.set_window(0, 0, 0, 0)
            self.pool_view.set_cell(0, 0, 0, 0)
        else:
            self.input_view.set_window(0, 0, 0, 0)
            self.conv_view.set_cell(0, 0, 0, 0)
            self.relu_view.set_window(step.top, step.left, step.size, step.size)
            self.pool_view.set_cell(step.out_row, step.out_col)

    def _set_shown(self, view, shown):
        if shown:
            self._shown.add(view)
        else:
            self._shown.discard(view)

    def _show_bank(self, bank, formula):
        """The filter bank's maps side by side, or nothing for a single kernel."""
        self._set_shown(self.bank_view, bank is not None)
        if bank is None:
            return
        count, out_n = bank.shape[0], bank.shape[1]
        # A NaN column between two maps is drawn transparent: it separates them.
        mosaic = np.full((out_n, count * (out_n + 1) - 1), np.nan)
        for i, fmap in enumerate(bank):
            mosaic[:, i * (out_n + 1):i * (out_n + 1) + out_n] = fmap
        self.bank_view.set_map(mosaic)
        self.bank_view.set_texts(
            f"<b>{count} × {out_n}×{out_n}</b>: one map per kernel, kernel K0 on the "
            "left", formula)


def first_pool(pool, side_by_side):
    """The pooling the main pool view shows: max when both are side by side."""
    return "max" if side_by_side else pool
