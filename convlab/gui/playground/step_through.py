"""StepThroughView: walk the window one output cell at a time, showing the arithmetic.

Signals: step_changed(object) — a WindowStep each time the window moves (the host
highlights the window on the input view and the cell on the output view).
Setter slots: set_conv_problem(...), set_pool_problem(...), clear_pool_problem(),
clear_problems(why), set_stage(stage), set_step(index),
show_output_cell(stage, row, col), show_current().
"""

from typing import NamedTuple

import numpy as np
from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import QVBoxLayout, QWidget

from convlab.gui.common.widgets import combo
from convlab.gui.playground.arithmetic_view import ArithmeticView
from convlab.gui.playground.transport import StepTransport
from convlab.gui.playground.views import LinesLabel
from convlab.nn.reference import (
    conv_single_step,
    create_mask_from_window,
    distribute_value,
)

CONV, POOL = "conv", "pool"
NOTHING_YET = "Nothing to step through yet: draw a digit."


class WindowStep(NamedTuple):
    """Where the window is: stage ("conv"/"pool"), step index, output cell, window."""

    stage: str
    index: int
    out_row: int
    out_col: int
    top: int
    left: int
    size: int


def window_positions(out_h, out_w, stride):
    """Top-left corner of the window for every output cell, in reading order.

    Output cell (i, j) reads the window whose corner is (i * stride, j * stride).
    """
    return [(i * stride, j * stride) for i in range(out_h) for j in range(out_w)]


class StepThroughView(QWidget):
    """Slider, play/pause and step buttons, and the sum of products of one window."""

    step_changed = pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._conv = None  # (padded input, kernel, bias, stride, out_h, out_w)
        # Both walks keep stride at [3] and the output size at [4], [5].
        self._pool = None  # (input, size, mode, stride, out_h, out_w)
        self._nothing = NOTHING_YET  # what to say when there is no walk

        self._stage = combo(
            (("Convolution", CONV), ("Pooling", POOL)), "Operation to step through",
            "Which sliding window to follow: the convolution kernel over the padded "
            "input, or the pooling window over the ReLU output.")
        self._stage.currentIndexChanged.connect(self._on_stage_current_index_changed)

        self._transport = StepTransport(
            [self._stage],
            "Drag to move the window. Each position makes one output cell: row by "
            "row, the window jumps `stride` pixels at a time.",
            "One window position back.", "One window position forward.")
        self._transport.position_changed.connect(
            self._on_transport_position_changed)

        self._where = LinesLabel(3)
        # The frames drawn on the maps need a key like any other colour.
        key = LinesLabel(
            2, "<span style='color:#e0a800'>■</span> yellow frame: the window on its "
            "input &nbsp; <span style='color:#14c83c'>■</span> green frame: the "
            "output cell it produces")
        self._maths = ArithmeticView()
        self._maths.setToolTip(
            "The numbers under the window, the kernel, their element-wise products and "
            "the sum: exactly one output value."
        )

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self._transport)
        layout.addWidget(key)
        layout.addWidget(self._where)
        # The grids wrap into rows that fit: no box of its own to scroll sideways.
        layout.addWidget(self._maths)
        layout.addStretch(1)

    def set_conv_problem(self, padded, kernel, bias, stride, out_h, out_w):
        """The convolution to walk: padded input (Hp, Wp), kernel (f, f), bias."""
        # A new shape, or ink after a blank input, starts the walk afresh.
        new_walk = (self._conv is None or self._conv[3:] != (stride, out_h, out_w)
                    or not np.any(self._conv[0]))
        self._conv = (padded, kernel, float(bias), stride, out_h, out_w)
        self._nothing = NOTHING_YET
        self._refresh_range(jump_for=CONV if new_walk else None)

    def set_pool_problem(self, x, size, stride, mode, out_h, out_w):
        """The pooling to walk: input (H, W), size, stride, "max" or "avg"."""
        new_walk = (self._pool is None or self._pool[3:] != (stride, out_h, out_w)
                    or not np.any(self._pool[0]))
        self._pool = (x, size, mode, stride, out_h, out_w)
        self._stage.model().item(1).setEnabled(True)
        self._refresh_range(jump_for=POOL if new_walk else None)

    def clear_pool_problem(self):
        """No pooling layer: only the convolution can be walked."""
        self._pool = None
        self._stage.model().item(1).setEnabled(False)
        if self._stage.currentData() == POOL:
            self._stage.setCurrentIndex(0)
        self._refresh_range()

    def clear_problems(self, why):
        """No output for this setting: nothing to walk, and `why` says so."""
        self._conv = None
        self._nothing = f"Nothing to step through: {why}"
        self.clear_pool_problem()

    def where_text(self):
        """The sentence above the arithmetic: where the window is, or why not."""
        return self._where.text()

    def stage(self):
        """The walk being shown: "conv" or "pool"."""
        return self._stage.currentData()

    def set_stage(self, stage):
        """Follow the convolution ("conv") or the pooling ("pool") window."""
        self._stage.setCurrentIndex(self._stage.findData(stage))

    def positions(self):
        """Top-left window corner for every step of the current walk."""
        problem = self._problem()
        if problem is None:
            return []
        return window_positions(problem[4], problem[5], problem[3])

    def step_count(self):
        """How many window positions (= output cells) the current walk has."""
        problem = self._problem()
        return 0 if problem is None else problem[4] * problem[5]

    def set_step(self, index):
        """Move the window to step `index` (clamped to the walk)."""
        self._transport.set_position(index)

    def show_output_cell(self, stage, row, col):
        """Walk to the window that makes output cell (row, col) of "conv" or "pool"."""
        self.set_stage(stage)
        problem = self._problem()
        if problem is not None and row < problem[4] and col < problem[5]:
            self.set_step(row * problem[5] + col)

    def show_current(self):
        """Redraw the step on show and announce it (the view came to the front)."""
        self._show_step()

    def arithmetic(self):
        """What the current step shows: ({caption: values}, footer sentence)."""
        return self._maths.grids(), self._maths.footer()

    def maths(self):
        """The ArithmeticView painting the grids (for tests: cells, font)."""
        return self._maths

    def current_step(self):
        """The WindowStep on show, or None when there is nothing to walk."""
        problem = self._problem()
        if problem is None:
            return None
        index = self._transport.position()
        out_row, out_col = divmod(index, problem[5])
        stride = problem[3]
        size = problem[1].shape[0] if self.stage() == CONV else problem[1]
        return WindowStep(self.stage(), index, out_row, out_col,
                          out_row * stride, out_col * stride, size)

    def _problem(self):
        return self._conv if self.stage() == CONV else self._pool

    def _refresh_range(self, jump_for=None):
        """Fit the slider to the walk; a new walk of the shown stage starts on ink."""
        count = self.step_count()
        start = self._first_inked_step() if count and jump_for == self.stage() \
            else None
        self._transport.set_count(count, start)
        self._show_step()

    def _first_inked_step(self):
        """The first window holding a non-zero value: a walk over a digit's blank
        margin would start with many all-zero sums."""
        problem = self._problem()
        size = problem[1].shape[0] if self.stage() == CONV else problem[1]
        for index, (top, left) in enumerate(self.positions()):
            if np.any(problem[0][top:top + size, left:left + size]):
                return index
        return 0

    def _on_stage_current_index_changed(self, _index):
        self._refresh_range(jump_for=self.stage())

    def _on_transport_position_changed(self, _index):
        self._show_step()

    def _show_step(self):
        step = self.current_step()
        if step is None:
            self._where.setText(self._nothing)
            self._maths.set_grids([], [], "")
            return
        if step.stage == CONV:
            self._show_conv(step)
        else:
            self._show_pool(step)
        self.step_changed.emit(step)

    def _show_conv(self, step):
        padded, kernel, bias, stride, out_h, out_w = self._conv
        f = step.size
        window = padded[step.top:step.top + f, step.left:step.left + f]
        # conv_single_step wants (C, kh, kw): one input channel here.
        value = conv_single_step(window[None], kernel[None], bias)
        products = window * kernel
        self._where.setText(
            f"Step {step.index} of 0..{out_h * out_w - 1}: output cell "
            f"(row {step.out_row}, col {step.out_col}) reads the {f}x{f} window at "
            f"rows {step.top}.."
            f"{step.top + f - 1}, cols {step.left}..{step.left + f - 1} of the padded "
            f"input (corner = cell x stride {stride})."
        )
        self._maths.set_grids(
            [("window (input)", window, None, False), ("kernel", kernel, None, True),
             ("products", products, None, True)],
            ["×", "="],
            f"sum of products = {products.sum():+.4g}, plus bias {bias:+.4g} "
            f"→ output[{step.out_row}, {step.out_col}] = {value:+.4g}")

    def _show_pool(self, step):
        x, size, mode, _, out_h, out_w = self._pool
        window = x[step.top:step.top + size, step.left:step.left + size]
        head = (
            f"Step {step.index} of 0..{out_h * out_w - 1}: pooled cell "
            f"(row {step.out_row}, col {step.out_col}) reads the {size}x{size} window "
            f"at rows {step.top}.."
            f"{step.top + size - 1}, cols {step.left}..{step.left + size - 1} of the "
            "ReLU output."
        )
        self._where.setText(head)
        if mode == "max":
            mask = create_mask_from_window(window)
            self._maths.set_grids(
                [("window (yellow = the maximum)", window, mask, False)], [],
                f"max = {window[mask][0]:.4g}: only that cell passes (and backprop "
                "sends the whole gradient back to it)")
        else:
            # distribute_value(1, shape) is each cell's share of an average: 1/(k*k).
            share = distribute_value(1.0, window.shape)[0, 0]
            self._maths.set_grids(
                [(f"window (each cell counts {share:.3g})", window, None, False)], [],
                f"average = {window.sum():.4g} / {size * size} = {window.mean():.4g}")
