"""ColourStepView: one output cell of a colour filter, every product in view.

For the cell on show: each channel's window, its kernel slice and their products,
channel after channel, then each channel's sum, the total and the bias. The numbers
are lab.channels.window_products'.

Signal: step_changed(object) — (top, left, size, row, col) of the window on the
padded input and the output cell it makes. Setter slots: set_problem(...),
clear_problem(why), show_output_cell(row, col), set_step(index).
"""

from PyQt5.QtCore import pyqtSignal
from PyQt5.QtWidgets import QVBoxLayout, QWidget

from convlab.gui.playground.arithmetic_view import ArithmeticView
from convlab.gui.playground.transport import StepTransport
from convlab.gui.playground.views import LinesLabel
from convlab.lab.channels import CHANNEL_NAMES, window_products


class ColourStepView(QWidget):
    """Slider and buttons over the output cells; the arithmetic of one cell."""

    step_changed = pyqtSignal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._problem = None  # (x, w, b, stride, padding, out_h, out_w)
        self._why = "Nothing to step through yet."
        self._transport = StepTransport(
            [], "Drag to move the filter. It slides across and down only: it is as "
                "deep as the picture, so it never moves through the channels.",
            "One window position back.", "One window position forward.")
        self._transport.position_changed.connect(self._on_transport_position_changed)
        self._where = LinesLabel(2)
        self._maths = ArithmeticView()
        self._maths.setToolTip(
            "Each channel's window times its slice of the filter, the products of "
            "all channels summed, plus the bias: one output value.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        for widget in (self._transport, self._where, self._maths):
            layout.addWidget(widget)
        layout.addStretch(1)

    def set_problem(self, x, w, b, stride, padding, out_h, out_w):
        """Walk the filter w (C, f, f), bias b, over image x (C, H, W)."""
        new = self._problem is None or self._problem[3:] != (stride, padding, out_h,
                                                              out_w)
        self._problem = (x, w, float(b), stride, padding, out_h, out_w)
        self._transport.set_count(out_h * out_w, 0 if new else None)
        self._show()

    def clear_problem(self, why):
        """No output: nothing to walk, and `why` says so."""
        self._problem = None
        self._why = f"Nothing to step through: {why}"
        self._transport.set_count(0, 0)
        self._show()

    def set_step(self, index):
        """Move to output cell number `index` (reading order, clamped)."""
        self._transport.set_position(index)

    def show_output_cell(self, row, col):
        """Walk to the window that makes output cell (row, col)."""
        if self._problem is not None and row < self._problem[5] \
                and col < self._problem[6]:
            self.set_step(row * self._problem[6] + col)

    def products(self):
        """The lab.channels.WindowProducts on show, or None."""
        if self._problem is None:
            return None
        x, w, b, stride, padding, _, out_w = self._problem
        row, col = divmod(self._transport.position(), out_w)
        return window_products(x, w, b, row, col, stride, padding)

    def arithmetic(self):
        """What the cell shows: ({caption: values}, footer sentence)."""
        return self._maths.grids(), self._maths.footer()

    def maths(self):
        """The ArithmeticView painting the grids (for tests)."""
        return self._maths

    def where_text(self):
        """The sentence above the grids."""
        return self._where.text()

    def _on_transport_position_changed(self, _index):
        self._show()

    def _show(self):
        cell = self.products()
        if cell is None:
            self._where.setText(self._why)
            self._maths.set_grids([], [], "")
            self.step_changed.emit((0, 0, 0, 0, 0))
            return
        channels, f, _ = cell.window.shape
        out_h, out_w = self._problem[5:]
        self._where.setText(
            f"Step {self._transport.position()} of 0..{out_h * out_w - 1}: output "
            f"cell (row {cell.row}, col {cell.col}) reads the {channels}x{f}x{f} "
            f"window at rows {cell.top}..{cell.top + f - 1}, cols "
            f"{cell.left}..{cell.left + f - 1} of every padded channel.")
        grids, operators = [], []
        for c in range(channels):
            name = CHANNEL_NAMES[c] if c < len(CHANNEL_NAMES) else str(c)
            grids += [(f"window {c} ({name})", cell.window[c], None, False),
                      (f"slice {c}", cell.kernel[c], None, True),
                      (f"products {c}: sum {cell.channel_sums[c]:+.4g}",
                       cell.products[c], None, True)]
            # Each channel on a row of its own: its window, slice and products.
            operators += ["×", "=", None]
        self._maths.set_grids(grids, operators[:-1], "\n".join(cell.text()[1:]))
        self.step_changed.emit((cell.top, cell.left, f, cell.row, cell.col))

