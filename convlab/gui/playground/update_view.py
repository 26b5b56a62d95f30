"""UpdateView: one gradient-descent step of the open filter, and a gradient check.

It shows w, dW and w - lr * dW of the open input channel side by side as small
signed grids with their numbers, the loss of the target digit before and after the
step, Apply and Undo, and the check of one clicked weight's gradient. The numbers
come from convlab.lab.update (through the UpdatePresenter).

Signals (intent): shown_changed(bool) the student opened or closed the view;
target_changed(int) a target digit 0-9, or -1 for "the predicted digit";
lr_changed(float); apply_requested(); undo_requested(); weight_clicked(int, int)
(row, col) of a weight clicked in one of the grids.
Setter slots: show_step(step, channel, digit_text), show_problem(text),
set_result(text), set_check(check, weight, digit_text), clear_check(),
set_lr(lr), set_undo_enabled(bool).
"""

import numpy as np
from PyQt5.QtCore import Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QDoubleSpinBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from convlab.gui.common.colormaps import diverging_qcolor
from convlab.gui.common.widgets import combo, double_spin_box, teach
from convlab.gui.playground.views import ColorLegendView, LinesLabel
from convlab.lab.network import symmetric_levels

# Below this relative difference backprop and the central difference agree to all
# the digits float64 rounding leaves; above AGREE_LOOSELY something is off.
AGREE_EXACTLY = 1e-6
AGREE_LOOSELY = 1e-3
CHECK_HINT = "Click any weight (here or in the kernel editor) to check its gradient."


def _num(value):
    """A weight or gradient in a grid cell: four significant digits."""
    return f"{value:.4g}"


class _Cell(QLabel):
    """One number of a grid; a click on it emits clicked()."""

    clicked = pyqtSignal()

    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton:
            self.clicked.emit()
        super().mousePressEvent(event)


class SignedGridView(QWidget):
    """A kernel (kh, kw) as coloured cells that show their numbers.

    Signal: cell_clicked(int, int), the (row, col) clicked.
    """

    cell_clicked = pyqtSignal(int, int)

    def __init__(self, title, name, tip, parent=None):
        super().__init__(parent)
        self._name, self._tip = name, tip
        self._values = np.zeros((0, 0))
        self._cells = []
        self._grid = QGridLayout()
        self._grid.setSpacing(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        heading = QLabel(f"<b>{title}</b>")
        heading.setAlignment(Qt.AlignCenter)
        heading.setToolTip(tip)
        layout.addWidget(heading)
        layout.addLayout(self._grid)
        layout.addStretch(1)

    def set_values(self, values, level, tips):
        """Show values (kh, kw) on the colour scale -level..level; tips[r][c] is
        each cell's tooltip (the exact arithmetic of that weight)."""
        values = np.asarray(values, dtype=np.float64)
        if values.shape != self._values.shape:
            self._build(*values.shape)
        self._values = values.copy()
        for (row, col), value in np.ndenumerate(values):
            cell = self._cells[row][col]
            text_color = "white" if abs(value) > 0.6 * level else "black"
            cell.setStyleSheet(f"background: {diverging_qcolor(value, level).name()};"
                               f" color: {text_color}; padding: 1px 3px;")
            cell.setText(_num(value))
            # Never squeezed below its number's size: nothing is clipped.
            cell.setMinimumSize(cell.sizeHint())
            cell.setToolTip(tips[row][col])

    def values(self):
        """The numbers shown, (kh, kw) float64."""
        return self._values.copy()

    def cell(self, row, col):
        """The label of one cell (for tests and accessibility tools)."""
        return self._cells[row][col]

    def _build(self, rows, cols):
        for line in self._cells:
            for cell in line:
                self._grid.removeWidget(cell)
                cell.deleteLater()
        self._cells = []
        font = self.font()
        font.setPointSizeF(font.pointSizeF() - 1)
        for row in range(rows):
            line = []
            for col in range(cols):
                cell = _Cell()
                cell.setFont(font)
                cell.setAlignment(Qt.AlignCenter)
                cell.setAccessibleName(f"{self._name} [{row}, {col}]")
                cell.clicked.connect(lambda r=row, c=col: self.cell_clicked.emit(r, c))
                self._grid.addWidget(cell, row, col)
                line.append(cell)
            self._cells.append(line)


def check_text(check, weight, digit_text):
    """The gradient check in words: both numbers, h and how well they agree."""
    channel, row, col = check.index
    if check.relative_difference < AGREE_EXACTLY:
        verdict = "they agree: backprop computed this gradient right."
    elif check.relative_difference < AGREE_LOOSELY:
        verdict = "they agree to within 1e-3, as a correct gradient should."
    else:
        verdict = ("they differ: w is so close to a corner of a ReLU or a max-pool "
                   "switch that w + h and w - h fall on different sides of it.")
    return (
        f"<b>Gradient check</b> of w[{channel}, {row}, {col}] = {weight:.6g} (loss "
        f"for {digit_text}):<br>backprop: dL/dw = <b>{check.backprop:.8g}</b><br>"
        f"central difference: (L(w + h) − L(w − h)) / 2h = ({check.loss_plus:.12f} "
        f"− {check.loss_minus:.12f}) / (2 × {check.h:g}) = <b>{check.numeric:.8g}"
        f"</b><br>relative difference |a − n| / max(|a|, |n|) = "
        f"{check.relative_difference:.2e}: {verdict}"
    )


class UpdateView(QGroupBox):
    """One SGD step of the open filter side by side, Apply/Undo, a gradient check."""

    shown_changed = pyqtSignal(bool)
    target_changed = pyqtSignal(int)
    lr_changed = pyqtSignal(float)
    apply_requested = pyqtSignal()
    undo_requested = pyqtSignal()
    weight_clicked = pyqtSignal(int, int)

    def __init__(self, parent=None):
        super().__init__("One gradient-descent step", parent)
        teach(self, "One gradient-descent step",
              "Tick to see how one step of gradient descent, w − lr × dW, would "
              "change this filter for your digit, and to check a gradient by "
              "nudging one weight. Unticked it computes nothing.")
        self.setCheckable(True)
        self.setChecked(False)
        self._check = None
        self._target = combo(
            [("the predicted digit", -1)] + [(str(d), d) for d in range(10)],
            "Target digit",
            "The digit whose loss −log P(digit) the step lowers. The predicted digit "
            "makes the network surer of its answer; another digit pulls it that way.")
        self._target.activated.connect(
            lambda index: self.target_changed.emit(self._target.itemData(index)))
        self._lr = double_spin_box(
            1e-5, 10.0, 1e-3, "Learning rate of the step",
            "How far the step goes along −dW. It starts at the Training tab's "
            "learning rate; change it here to see a small step lower the loss and a "
            "huge one overshoot.", decimals=5)
        self._lr.setStepType(QDoubleSpinBox.AdaptiveDecimalStepType)
        self._lr.valueChanged.connect(self.lr_changed)
        self._w = SignedGridView(
            "w", "Weight", "The open channel's weights as they are now.")
        self._dw = SignedGridView(
            "dW", "Gradient", "dL/dW from backprop: how fast the loss grows as each "
            "weight grows. The step goes the other way.")
        self._new = SignedGridView(
            "w − lr × dW", "Weight after the step",
            "The weights after one step: each moves against its gradient, by lr "
            "times the gradient.")
        for grid in (self._w, self._dw, self._new):
            grid.cell_clicked.connect(self.weight_clicked)
        self._lr_sign = QLabel()
        self._w_legend = teach(ColorLegendView(), "Colour legend of w",
                               "w and w − lr × dW share this scale.")
        self._dw_legend = teach(ColorLegendView(), "Colour legend of dW",
                                "The colour scale of dW.")
        # Lines reserved for the longest text each label gets, so none is cut off.
        self._bias = LinesLabel(2)
        self._preview = LinesLabel(3)
        self._result = LinesLabel(3)
        self._check_label = LinesLabel(7, CHECK_HINT)
        self._check_label.setAccessibleName("Gradient check")
        for label in (self._bias, self._preview, self._result, self._check_label):
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self._apply = teach(
            QPushButton("Apply step"), "Apply the step",
            "Write w − lr × dW into the network's filter (the live model too, "
            "between two training steps). Apply again to take the next step.")
        self._apply.clicked.connect(self.apply_requested)
        self._undo = teach(
            QPushButton("Undo step"), "Undo the step",
            "Put back the filter's weights and bias from before the last step, "
            "exactly.")
        self._undo.clicked.connect(self.undo_requested)
        self._undo.setEnabled(False)

        settings = QHBoxLayout()
        settings.addWidget(QLabel("Target"))
        settings.addWidget(self._target, 1)
        settings.addWidget(QLabel("lr"))
        settings.addWidget(self._lr)
        grids = QHBoxLayout()
        grids.addWidget(self._w)
        grids.addWidget(self._lr_sign)
        grids.addWidget(self._dw)
        grids.addWidget(QLabel("="))
        grids.addWidget(self._new)
        legends = QHBoxLayout()
        legends.addWidget(self._w_legend)
        legends.addWidget(self._dw_legend)
        buttons = QHBoxLayout()
        buttons.addWidget(self._apply)
        buttons.addWidget(self._undo)
        self._body = QWidget()
        body = QVBoxLayout(self._body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(settings)
        body.addLayout(grids)
        body.addLayout(legends)
        for widget in (self._bias, self._preview):
            body.addWidget(widget)
        body.addLayout(buttons)
        body.addWidget(self._result)
        body.addWidget(self._check_label)
        QVBoxLayout(self).addWidget(self._body)
        self._body.setVisible(False)
        self.toggled.connect(self._on_toggled)

    def is_shown(self):
        """Whether the student opened the view (it computes only then)."""
        return self.isChecked()

    def target(self):
        """The chosen target digit 0-9, or None for the predicted digit."""
        digit = self._target.currentData()
        return None if digit < 0 else digit

    def lr(self):
        return self._lr.value()

    def set_lr(self, lr):
        """Show a learning rate (the Training tab's) without emitting lr_changed."""
        self._lr.blockSignals(True)
        self._lr.setValue(lr)
        self._lr.blockSignals(False)

    def show_step(self, step, channel, digit_text):
        """Show a lab.update.FilterStep for input channel `channel`."""
        w, dw, new = (a[channel] for a in (step.weight, step.grad_weight,
                                           step.new_weight))  # (kh, kw) each
        _, level = symmetric_levels(np.stack([w, new]), round_up=False)
        _, dw_level = symmetric_levels(dw, round_up=False)
        tips = [[f"w = {w[r, c]:.8g}\ndW = {dw[r, c]:.8g}\nw − lr × dW = {w[r, c]:.8g}"
                 f" − {step.lr:g} × {dw[r, c]:.8g} = {new[r, c]:.8g}"
                 for c in range(w.shape[1])] for r in range(w.shape[0])]
        self._w.set_values(w, level, tips)
        self._dw.set_values(dw, dw_level, tips)
        self._new.set_values(new, level, tips)
        self._w_legend.set_levels(-level, level)
        self._dw_legend.set_levels(-dw_level, dw_level)
        self._lr_sign.setText(f"− {step.lr:g} ×")
        if step.bias is None:
            self._bias.setText("This layer has no bias.")
        else:
            self._bias.setText(
                f"bias b = {step.bias:.6g}, db = {step.grad_bias:.6g}, "
                f"b − lr × db = {step.new_bias:.6g}")
        if not np.any(step.grad_weight) and not step.grad_bias:
            self._preview.setText(
                f"dW is 0: for {digit_text} this filter does not reach the loss "
                f"(its ReLU outputs are 0, or max pooling passes other maps), so a "
                f"step leaves it as it is. Loss: <b>{step.loss_before:.4g}</b>.")
        else:
            self._preview.setText(
                f"This step would take the loss for {digit_text} from "
                f"<b>{step.loss_before:.4g}</b> to <b>{step.loss_after:.4g}</b> "
                f"({step.loss_after - step.loss_before:+.3g}; the first-order "
                f"estimate −lr × |dW|² says {step.predicted_change:+.3g}).")
        self._apply.setEnabled(True)

    def show_problem(self, text):
        """Nothing to step (no digit, a failure): say why; keep the last grids."""
        self._preview.setText(text)
        self._apply.setEnabled(False)

    def set_result(self, text):
        """What the last Apply or Undo did, in words."""
        self._result.setText(text)

    def set_undo_enabled(self, enabled):
        self._undo.setEnabled(enabled)

    def set_check(self, check, weight, digit_text):
        """Show a lab.update.GradientCheck of the weight whose value is `weight`."""
        self._check = check
        self._check_label.setText(check_text(check, weight, digit_text))

    def clear_check(self):
        self._check = None
        self._check_label.setText(CHECK_HINT)

    # Queries for tests and accessibility tools.

    def grids(self):
        """The (w, dW, w − lr × dW) grid views."""
        return self._w, self._dw, self._new

    def shown_check(self):
        """The GradientCheck on show, or None."""
        return self._check

    def texts(self):
        """(bias line, preview line, result line, gradient check) as shown."""
        return (self._bias.text(), self._preview.text(), self._result.text(),
                self._check_label.text())

    def buttons(self):
        """The (Apply, Undo) buttons."""
        return self._apply, self._undo

    def _on_toggled(self, shown):
        self._body.setVisible(shown)
        self.shown_changed.emit(shown)
