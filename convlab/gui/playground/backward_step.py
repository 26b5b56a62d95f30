"""BackwardStepView: the backward pass of the Playground, one output cell at a time.

The student picks the gradient dout arriving at the convolution (or pooling) output,
then walks the loops of reference.conv_backward / pool_backward: each output cell
sends its dout back, adding dout x patch to dW, dout to db and dout x W to the
window of dx (for pooling: the max mask's or the average's share to dx). The steps
come from convlab.lab.backward_steps; this view only shows them.

Signal: step_changed(object) — a WindowStep each time the window moves.
Setter slots: set_conv_problem(...), set_pool_problem(...), clear_pool_problem(),
set_network(provider), set_stage, set_source, set_target, set_single_cell,
set_step, show_output_cell(stage, row, col), show_current().
"""

import numpy as np
from PyQt5.QtCore import QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.widgets import combo, spin_box
from convlab.gui.playground import backward_maths as maths
from convlab.gui.playground.arithmetic_view import ArithmeticView
from convlab.gui.playground.step_through import CONV, POOL, WindowStep
from convlab.gui.playground.transport import StepTransport
from convlab.gui.playground.views import LinesLabel, MapView, region_overlay
from convlab.lab.backward_steps import (
    conv_backward_steps,
    crop_padding,
    pool_backward_steps,
    single_one,
)
from convlab.lab.network import symmetric_levels

ONES, SINGLE, NETWORK = "ones", "single", "network"
PREDICTED = -1  # the target spin box's "the prediction"
SOURCE_TIP = (
    "dout: the gradient dL/d(output) that arrives at this layer's output from the "
    "layers above. 'All ones' and 'a single 1' are simple ones to follow by hand "
    "(click a cell of the dout map to move the 1); 'from the real network' is what "
    "the network really sends back for this digit, when a network filter is open.")
TARGET_TIP = (
    "The digit whose loss L = −log p(digit) is sent back through the network. "
    "'the prediction' uses the digit the network answers. When the network is "
    "sure, the gradient for its answer is tiny: pick another digit to see what "
    "the filter would have to change to make the network say that one.")


def _levels(arrays):
    """One symmetric colour scale for every step of the walk: colours stay put."""
    return symmetric_levels(np.stack(arrays), round_up=False)


class BackwardStepView(QWidget):
    """dout source, the walk's controls, running dW / db / dx maps and the sums."""

    step_changed = pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._conv = None  # (x (H, W), kernel (f, f), stride, padding, out_n)
        self._pool = None  # (x (H, W), size, stride, mode, out_n)
        self._provider = None  # target -> NetworkGradient, when a filter is open
        self._single = None  # (row, col) of the single 1, None = the middle
        self._steps = None  # the walk, computed when first shown
        self._dout = None
        self._network = None  # the NetworkGradient behind dout, if any
        self._levels = {}
        self._walk_key = None  # what makes a new walk start at step 1

        self._stage = combo(
            (("Convolution backward", CONV), ("Pooling backward", POOL)),
            "Backward pass to step through",
            "Which backward loop to follow: conv_backward (dW, db and dx of the "
            "kernel) or pool_backward (the pooling's dx).")
        self._stage.currentIndexChanged.connect(self._on_stage_current_index_changed)
        self._source = combo(
            (("dout: all ones", ONES), ("dout: a single 1 (click it)", SINGLE),
             ("dout: from the real network for this digit", NETWORK)),
            "Gradient arriving at the output", SOURCE_TIP)
        self._source.model().item(2).setEnabled(False)
        # Narrow enough for a small laptop; the open list shows the whole text.
        for box in (self._stage, self._source):
            box.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(8)
        self._source.currentIndexChanged.connect(
            self._on_source_current_index_changed)
        self._target = spin_box(PREDICTED, 9, PREDICTED, "Target digit", TARGET_TIP)
        self._target.setSpecialValueText("the prediction")
        self._target.setEnabled(False)
        self._target.valueChanged.connect(self._on_target_value_changed)
        self._transport = StepTransport(
            [], "Drag to move through the output cells, in conv_backward's loop "
            "order: row by row.", "One output cell back.", "One output cell forward.")
        self._transport.position_changed.connect(self._on_transport_position_changed)

        self._note = LinesLabel(2)
        self._note.setStyleSheet("color: #a05a00;")
        self._note.hide()
        self._where = LinesLabel(3)
        self.dout_view = MapView(
            "dout", "The gradient arriving at each output cell. Click a cell to put "
            "the single 1 there ('a single 1').", hint="Hover: value. Click: the 1.")
        self.dout_view.cell_clicked.connect(self._on_dout_view_cell_clicked)
        self.dw_view = MapView(
            "Running dW", "dW after the cells walked so far: the sum of dout[i, j] × "
            "patch over them. After the last cell it is the kernel's gradient.")
        self.dx_view = MapView(
            "Running dx", "dx after the cells walked so far: every cell adds dout × W "
            "into its window (blue border: padding, whose gradient is dropped).")
        self._rows = [ArithmeticView() for _ in range(3)]
        self._row_count = 0
        # Several setters arrive together on one edit: one recomputation serves all.
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(0)
        self._refresh.timeout.connect(self._on_refresh_timeout)

        choices = QHBoxLayout()
        for widget in (self._stage, self._source, self._target):
            choices.addWidget(widget)
        choices.addStretch(1)
        pictures = QGridLayout()
        for column, view in enumerate((self.dout_view, self.dw_view, self.dx_view)):
            pictures.addWidget(view, 0, column)
        sums = QWidget()
        sums_layout = QVBoxLayout(sums)
        sums_layout.setContentsMargins(0, 0, 0, 0)
        for row in self._rows:
            sums_layout.addWidget(row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(choices)
        layout.addWidget(self._transport)
        layout.addWidget(self._note)
        layout.addWidget(self._where)
        layout.addLayout(pictures)
        # The grids wrap into rows that fit: no box of its own to scroll sideways.
        layout.addWidget(sums)
        layout.addStretch(1)

    # Setters.

    def set_conv_problem(self, x, kernel, stride, padding, out_n):
        """The convolution to walk back: input x (H, W) before padding, kernel."""
        self._conv = (np.asarray(x, np.float64), np.asarray(kernel, np.float64),
                      stride, padding, out_n)
        self._invalidate()

    def clear_problems(self):
        """No output for this setting: nothing to walk back."""
        self._conv = None
        self.clear_pool_problem()

    def set_pool_problem(self, x, size, stride, mode, out_n):
        """The pooling to walk back: its input x (H, W), size, stride, "max"/"avg"."""
        self._pool = (np.asarray(x, np.float64), size, stride, mode, out_n)
        self._stage.model().item(1).setEnabled(True)
        self._invalidate()

    def clear_pool_problem(self):
        """No pooling layer: only the convolution can be walked back."""
        self._pool = None
        self._stage.model().item(1).setEnabled(False)
        if self.stage() == POOL:
            self.set_stage(CONV)
        self._invalidate()

    def set_network(self, provider):
        """provider(target or None) -> NetworkGradient for the open network filter,
        or None when the Playground shows the student's own kernel."""
        self._provider = provider
        self._update_source_items()
        self._invalidate()

    def set_stage(self, stage):
        """Walk back the convolution ("conv") or the pooling ("pool")."""
        self._stage.setCurrentIndex(self._stage.findData(stage))

    def set_source(self, source):
        """dout from "ones", "single" (one 1) or "network"."""
        self._source.setCurrentIndex(self._source.findData(source))

    def set_target(self, digit):
        """The digit whose loss the real network sends back; None = the prediction."""
        self._target.setValue(PREDICTED if digit is None else digit)

    def set_single_cell(self, row, col):
        """dout becomes a single 1 at output cell (row, col)."""
        self._single = (row, col)
        self.set_source(SINGLE)
        self._invalidate()

    def set_step(self, index):
        """Move to step `index` (clamped to the walk)."""
        self._walk()
        self._transport.set_position(index)

    def show_output_cell(self, stage, row, col):
        """Walk to the step of output cell (row, col) of "conv" or "pool"."""
        self.set_stage(stage)
        problem = self._problem()
        if problem is not None and row < problem[4] and col < problem[4]:
            self.set_step(row * problem[4] + col)

    def show_current(self):
        """Redraw the step on show and announce it (the view came to the front)."""
        self._show_step()

    # Queries.

    def stage(self):
        """The walk shown: "conv" or "pool"."""
        return self._stage.currentData()

    def source(self):
        """Where dout comes from: "ones", "single" or "network"."""
        return self._source.currentData()

    def dout(self):
        """The gradient (out_n, out_n) arriving at the output, as walked."""
        self._walk()
        return self._dout

    def network_gradient(self):
        """The NetworkGradient dout came from, or None."""
        self._walk()
        return self._network

    def step_count(self):
        """How many output cells the walk has."""
        return len(self._walk())

    def current_step(self):
        """The WindowStep on show, or None when there is nothing to walk."""
        steps = self._walk()
        if not steps:
            return None
        step = steps[self._transport.position()]
        size = self._conv[1].shape[0] if self.stage() == CONV else self._pool[1]
        return WindowStep(self.stage(), step.index, step.out_row, step.out_col,
                          step.top, step.left, size)

    def running(self):
        """The running gradients after the step on show: a dict of arrays.

        conv: dw (f, f), db float, dx_pad (Hp, Wp), dx (H, W) without the padding;
        pool: dx (H, W).
        """
        steps = self._walk()
        if not steps:
            return {}
        step = steps[self._transport.position()]
        if self.stage() == POOL:
            return {"dx": step.dx}
        return {"dw": step.dw, "db": step.db, "dx_pad": step.dx_pad,
                "dx": crop_padding(step.dx_pad, self._conv[3])}

    def arithmetic(self):
        """The rows on show: [({caption: values}, footer)]."""
        self._walk()
        return [(row.grids(), row.footer()) for row in self._rows[:self._row_count]]

    def note_text(self):
        """Why the chosen dout could not be used, or ""."""
        self._walk()
        return self._note.text()

    # Slots.

    def _on_stage_current_index_changed(self, _index):
        self._update_source_items()
        self._invalidate()

    def _on_source_current_index_changed(self, _index):
        self._target.setEnabled(self.source() == NETWORK)
        self._invalidate()

    def _on_target_value_changed(self, _value):
        if self.source() == NETWORK:
            self._invalidate()

    def _on_dout_view_cell_clicked(self, row, col):
        self.set_single_cell(row, col)

    def _on_transport_position_changed(self, _index):
        self._show_step()

    def showEvent(self, event):
        super().showEvent(event)
        self._show_step()

    # Work.

    def _problem(self):
        return self._conv if self.stage() == CONV else self._pool

    def _update_source_items(self):
        """The real network's dout exists only for an open filter's convolution."""
        usable = self._provider is not None and self.stage() == CONV
        self._source.model().item(2).setEnabled(usable)
        if not usable and self.source() == NETWORK:
            self.set_source(ONES)

    def _invalidate(self):
        """The walk must be recomputed: soon if the student can see it, else when
        it is next shown or asked for."""
        self._steps = None
        if self.isVisible():
            self._refresh.start()

    def _on_refresh_timeout(self):
        self._walk()

    def _walk(self):
        """The steps of the current walk, computed and shown on first use."""
        if self._steps is None:
            self._show_step()
        return self._steps

    def _choose_dout(self, out_n):
        """dout for the walk, and a note when the chosen one could not be used."""
        self._network = None
        if self.source() == NETWORK and self._provider is not None:
            target = self._target.value()
            try:
                gradient = self._provider(None if target == PREDICTED else target)
            except ValueError as problem:
                return np.ones((out_n, out_n)), (
                    f"The network's gradient could not be computed: {problem} "
                    "Showing all ones meanwhile.")
            if gradient.dout.shape == (out_n, out_n):
                self._network = gradient
                return gradient.dout, ""
            rows, cols = gradient.dout.shape
            return np.ones((out_n, out_n)), (
                f"The network's gradient for this filter is {rows}×{cols}, but your "
                f"stride and padding make a {out_n}×{out_n} output: set them back to "
                "the layer's own to use it. Showing all ones meanwhile.")
        if self.source() == SINGLE:
            row, col = self._single or (out_n // 2, out_n // 2)
            return single_one((out_n, out_n), min(row, out_n - 1),
                              min(col, out_n - 1)), ""
        return np.ones((out_n, out_n)), ""

    def _compute(self):
        problem = self._problem()
        if problem is None:
            self._dout = None
            return []
        out_n = problem[4]
        self._dout, note = self._choose_dout(out_n)
        self._note.setText(note)
        self._note.setVisible(bool(note))
        if self.stage() == CONV:
            x, kernel, stride, padding, _ = problem
            steps = list(conv_backward_steps(x, kernel, self._dout, stride, padding))
            self._levels = {"dw": _levels([s.dw for s in steps]),
                            "dx": _levels([s.dx_pad for s in steps])}
        else:
            x, size, stride, mode, _ = problem
            steps = list(pool_backward_steps(x, size, stride, mode, self._dout))
            self._levels = {"dx": _levels([s.dx for s in steps])}
        # A new shape starts the walk at its first cell; an edit keeps the place.
        key = (self.stage(), x.shape, out_n, stride)
        self._transport.set_count(len(steps), 0 if key != self._walk_key else None)
        self._walk_key = key
        return steps

    def _show_step(self):
        if self._steps is None:
            self._steps = self._compute()
        steps = self._steps
        if not steps:
            self._where.setText("Nothing to step through: no output to send a "
                                "gradient back from.")
            for row in self._rows:
                row.set_grids([], [], "")
            for view in (self.dout_view, self.dw_view, self.dx_view):
                view.show_empty("")
            return
        index = self._transport.position()
        step, before = steps[index], steps[index - 1] if index else None
        self.dout_view.set_map(self._dout)
        self.dout_view.set_cell(step.out_row, step.out_col)
        self.dout_view.set_texts(*self._dout_texts())
        if self.stage() == CONV:
            self._show_conv(steps, step, before)
        else:
            self._show_pool(steps, step, before)
        # Hidden behind the forward tab, it must not move the maps' frames.
        if self.isVisible():
            self.step_changed.emit(self.current_step())

    def _dout_texts(self):
        """The shape line and where dout comes from; the tooltips get the numbers."""
        n = self._dout.shape[0]
        self._target.setToolTip(TARGET_TIP)
        if self._network is None:
            if self._dout.sum() == 1.0 and self.source() == SINGLE:
                row, col = np.unravel_index(np.argmax(self._dout), self._dout.shape)
                now = (f"a single 1 at dout[{row}, {col}]: only that cell's window "
                       "reaches dW (dW = its patch), db = 1.")
            else:
                now = f"all ones: dW = the sum of all {n * n} patches, db = {n * n}."
            self._source.setToolTip(f"{SOURCE_TIP} Now: {now}")
            return (f"<b>{n}×{n}</b>, sum {self._dout.sum():.4g}",
                    "all ones" if self.source() == ONES else "a single 1")
        g = self._network
        self._source.setToolTip(
            f"{SOURCE_TIP} Now: dL/d(this filter's output) for digit {g.target} "
            f"(loss {g.loss:.4g}), values {self._dout.min():+.3g} .. "
            f"{self._dout.max():+.3g}.")
        self._target.setToolTip(f"{TARGET_TIP} The network answers {g.predicted}.")
        return (f"<b>{n}×{n}</b>: dL/d(output) for digit {g.target}",
                f"loss {g.loss:.4g}; the network answers {g.predicted}")

    def _show_conv(self, steps, step, before):
        x, kernel, _, padding, _ = self._conv
        f = kernel.shape[0]
        self._where.setText(maths.conv_where(step, len(steps), f))
        self.dw_view.show()
        self.dw_view.set_map(step.dw, self._levels["dw"])
        self.dw_view.set_texts(f"<b>{f}×{f}</b>, db = {step.db:+.4g}",
                               "db = the sum of dout so far")
        self.dx_view.set_map(step.dx_pad, self._levels["dx"])
        self.dx_view.set_window(step.top, step.left, f, f)
        n = step.dx_pad.shape[0]
        self.dx_view.set_overlay(region_overlay(step.dx_pad.shape, padding,
                                                np.ones(n, bool)))
        crop = (f"dx = the inner {x.shape[0]}×{x.shape[1]}: the padding's gradient "
                "is dropped" if padding else "no padding: dx is all of it")
        if self._network is not None:
            crop += "; other filters on this input add their own share"
        self.dx_view.set_texts(f"<b>{n}×{n}</b> over the padded input", crop)
        self._show_rows(maths.conv_rows(step, before, kernel))
        self._set_tips(steps, step, lambda s: maths.conv_formula(s, f))

    def _show_pool(self, steps, step, before):
        _, size, _, mode, _ = self._pool
        self._where.setText(maths.pool_where(step, len(steps), size))
        self.dw_view.hide()
        self.dx_view.set_map(step.dx, self._levels["dx"])
        self.dx_view.set_window(step.top, step.left, size, size)
        self.dx_view.set_overlay(None)
        n = step.dx.shape[0]
        self.dx_view.set_texts(f"<b>{n}×{n}</b> over the ReLU output",
                               "max: only the maxima get a gradient" if mode == "max"
                               else f"average: every cell gets 1/{size * size}")
        self._show_rows(maths.pool_rows(step, before, size, mode))
        self._set_tips(steps, step, lambda s: maths.pool_formula(s, size, mode))

    def _show_rows(self, rows):
        self._row_count = len(rows)
        for index, view in enumerate(self._rows):
            view.setVisible(index < len(rows))
            if index < len(rows):
                view.set_grids(*rows[index])
                view.setToolTip(rows[index][2])

    def _set_tips(self, steps, step, formula):
        """Back, forward and the slider say what they do, the numbers plugged in."""
        back = (f"Undo output cell ({step.out_row}, {step.out_col}): "
                f"{formula(step).replace('+=', '−=')}")
        after = steps[step.index + 1] if step.index + 1 < len(steps) else None
        forward = ("The last cell is done: the running values are the gradients."
                   if after is None else
                   f"Next, output cell ({after.out_row}, {after.out_col}): "
                   f"{formula(after)}")
        self._transport.set_step_tips(back, forward)
        self._where.setToolTip(f"This step: {formula(step)}")
