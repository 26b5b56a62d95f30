"""ArithmeticView: every number and the footer get the room they need."""

import numpy as np
from PyQt5.QtGui import QFontMetrics

from convlab.gui.playground.arithmetic_view import ArithmeticView


def test_cells_widen_for_long_numbers(qtbot):
    """A gradient like -3.68e-08 fits its cell: the grid is wider than for 0.5."""
    view = ArithmeticView()
    qtbot.addWidget(view)
    view.set_grids([("dW", np.full((3, 7), 0.5), None, True)], [], "")
    short = view.sizeHint().width()
    view.set_grids([("dW", np.full((3, 7), -3.68e-08), None, True)], [], "")
    needed = 7 * (view.fontMetrics().horizontalAdvance("-3.68e-08") + 6)
    assert view.sizeHint().width() > short
    assert view.sizeHint().width() >= needed


def test_a_long_footer_widens_the_view(qtbot):
    """The bold footer sentence is never cut off: the view is at least as wide."""
    view = ArithmeticView()
    qtbot.addWidget(view)
    footer = "dx[rows 11..13, cols 14..16] += dout[11, 14] × W = +0.4123 × W " * 2
    view.set_grids([("x", np.ones((1, 1)), None, False)], [], footer)
    bold = view.font()
    bold.setBold(True)
    assert view.sizeHint().width() >= QFontMetrics(bold).horizontalAdvance(footer)
