"""ArithmeticView: every number and the footer get the room they need."""

import numpy as np
from PyQt5.QtGui import QFontMetrics

from convlab.gui.playground.arithmetic_view import MIN_POINT_SIZE, ArithmeticView


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


def test_a_long_footer_wraps_and_is_drawn_whole(qtbot):
    """The bold footer wraps to the width instead of being cut off at the side."""
    view = ArithmeticView()
    qtbot.addWidget(view)
    view.resize(300, 10)
    footer = "dx[rows 11..13, cols 14..16] += dout[11, 14] × W = +0.4123 × W " * 2
    view.set_grids([("x", np.ones((1, 1)), None, False)], [], footer)
    bold = view.font()
    bold.setBold(True)
    assert QFontMetrics(bold).horizontalAdvance(footer) > view.width()
    assert view.footer_fits()
    assert view.height() > 3 * QFontMetrics(bold).height()


def test_grids_wrap_into_rows_and_the_font_shrinks_only_when_needed(qtbot):
    """Three 5x5 grids in a narrow view go one under the other, at full font;
    a grid wider than the view gets a smaller font, never below the minimum."""
    view = ArithmeticView()
    qtbot.addWidget(view)
    view.resize(600, 10)
    grids = [(name, np.full((5, 5), -0.00173), None, True)
             for name in ("window", "kernel", "products")]
    view.set_grids(grids, ["×", "="], "sum")
    tops = sorted({rect.top() for rect, _ in view.cells()})
    assert len(tops) == 15  # three grids of five rows, one under the other
    assert view.cell_font().pointSizeF() == view.font().pointSizeF()
    view.resize(300, 10)
    assert MIN_POINT_SIZE <= view.cell_font().pointSizeF() < view.font().pointSizeF()
    metrics = QFontMetrics(view.cell_font())
    for rect, text in view.cells():
        assert metrics.horizontalAdvance(text) <= rect.width() - 2
        assert rect.right() < view.width()
