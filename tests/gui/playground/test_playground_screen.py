"""The Playground in the real window at laptop and desktop sizes: it fits, nothing
clipped, nothing moves when an error appears or the kernel grows."""

import numpy as np
import pytest
from PyQt5.QtCore import QPoint
from PyQt5.QtGui import QFontMetrics
from PyQt5.QtWidgets import QApplication, QScrollArea, QSpinBox
from seven_digit import seven

from convlab.gui.playground import PlaygroundPanel

SIZES = [(1024, 768), (1280, 800), (1920, 1080)]


def _playground(window, size):
    """The window at `size` showing the Playground with a digit: (panel, page)."""
    window.resize(*size)
    window.show_tab("playground")
    panel = window.findChild(PlaygroundPanel)
    panel.set_input_image(seven())
    _settle()
    page = next(w for w in window.findChildren(QScrollArea) if w.isAncestorOf(panel)
                and w.widget().isAncestorOf(panel))
    return panel, page


def _settle():
    for _ in range(5):
        QApplication.processEvents()


def _set_kernel(panel, size, value):
    """A size x size kernel with a long negative weight in every cell, typed."""
    panel.editor.findChild(QSpinBox).setValue(size)
    panel.editor.set_kernel(np.full((size, size), 0.0))
    for row in range(size):
        panel.editor.set_cell_text(row, row, str(value))
    _settle()


def _assert_cells_fit(view, page, whole=True):
    """Every painted cell shows its full text and lies inside the page's width
    (and, when `whole`, inside its visible height once scrolled to)."""
    metrics = QFontMetrics(view.cell_font())
    cells = view.cells()
    assert cells
    page.ensureWidgetVisible(view, 0, 0)
    _settle()
    port = page.viewport()
    assert page.horizontalScrollBar().maximum() == 0
    for rect, text in cells:
        assert metrics.horizontalAdvance(text) <= rect.width() - 2, text
        left = view.mapTo(port, rect.topLeft())
        right = view.mapTo(port, rect.bottomRight())
        assert left.x() >= 0 and right.x() < port.width(), (text, left, right)
        if whole:
            assert left.y() >= 0 and right.y() < port.height(), (text, left, right)


@pytest.mark.parametrize("size", SIZES)
def test_step_through_arithmetic_fits_without_sideways_scrolling(window, size):
    """Window, kernel and products of a 3x3 or 5x5 kernel show whole and in view;
    a 7x7 may need scrolling down but is never cut; kernel cells show -0.00173."""
    panel, page = _playground(window, size)
    for kernel_size in (3, 5, 7):
        _set_kernel(panel, kernel_size, -0.00173)
        panel.step.set_step(200)
        _settle()
        grids, _ = panel.step.arithmetic()
        maths = panel.step.maths()
        assert "-0.00173" in [text for _, text in maths.cells()]
        np.testing.assert_array_equal(grids["kernel"], panel.editor.kernel())
        _assert_cells_fit(maths, page, whole=kernel_size < 7)
        assert maths.footer_fits()
        if kernel_size == 7:
            # The backward walk's grids (dW, dout × patch) are wider still.
            panel.directions.setCurrentIndex(1)
            panel.backward.set_step(0)
            _settle()
            for row in panel.backward.findChildren(type(maths)):
                if row.isVisible():
                    _assert_cells_fit(row, page, whole=False)
            panel.directions.setCurrentIndex(0)
        cell = panel.editor.cell(0, 0)
        assert cell.text() == "-0.00173"
        room = cell.contentsRect().width() - 4  # the line edit's own text margins
        assert cell.fontMetrics().horizontalAdvance(cell.text()) <= room


def _geometries(panel):
    """Where the editor, the controls, the maps and the step-through sit, and how
    wide they are."""
    return [(w.mapTo(panel, QPoint(0, 0)), w.width())
            for w in (panel.editor, panel.controls, panel.maps, panel.directions)]


@pytest.mark.parametrize("size", SIZES)
def test_errors_and_a_growing_kernel_move_nothing(window, size):
    """A refused weight, an impossible setting or a 7x7 kernel keep every column."""
    panel, _ = _playground(window, size)
    before = _geometries(panel)
    panel.editor.set_cell_text(1, 1, "abc")
    _settle()
    assert "Row 1, column 1" in panel.editor.message()
    assert _geometries(panel) == before
    panel.controls.set_pooling("max", 4, 4)
    panel.controls.set_stride(4)
    panel.controls.set_input_factor(4)
    _settle()
    assert panel.problem_text()
    assert _geometries(panel) == before
    panel.editor.findChild(QSpinBox).setValue(7)
    _settle()
    assert _geometries(panel) == before


@pytest.mark.parametrize("size", SIZES)
def test_the_pipeline_uses_the_width_and_explains_in_view(window, size):
    """No sideways scrolling, two maps a row at 1024x768, four at 1920x1080, and
    the reason for an empty output on screen without scrolling."""
    panel, page = _playground(window, size)
    assert page.horizontalScrollBar().maximum() == 0
    shown = [view for view in panel.maps.views() if view.isVisible()]
    tops = {view.mapTo(panel, QPoint(0, 0)).y() for view in shown}
    assert len(shown) / len(tops) >= (2 if size[0] < 1900 else 4)
    page.verticalScrollBar().setValue(page.verticalScrollBar().maximum())
    panel.controls.set_input_factor(4)
    panel.editor.findChild(QSpinBox).setValue(7)
    _settle()
    label = panel.note
    assert "does not fit" in label.text()
    port = page.viewport()
    top = label.mapTo(port, QPoint(0, 0))
    assert top.y() >= 0 and top.y() + label.height() <= port.height()
    assert top.x() >= 0 and top.x() + label.width() <= port.width()
